/*
 * stats.h - what "smtpreply audit" counts, in bounded memory.
 *
 * Each reply found in a log is checked by the engine for its phase and
 * counted: by direction, phase, basic code, non-standard code,
 * diagnostic. Per diagnostic a few distinct example replies are kept
 * with the engine's normalized suggestion. For remote replies, the peers
 * that send the most non-conforming ones are tracked with the
 * Space-Saving algorithm (Metwally et al.): a fixed table of
 * STATS_PEERS_MAX counters; while there are fewer distinct peers the
 * counts are exact, beyond that each count may be overestimated by at
 * most its recorded error. Memory is the size of struct stats,
 * whatever the size of the log.
 */
#ifndef SMTPREPLY_AUDIT_STATS_H
#define SMTPREPLY_AUDIT_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

#include "maillog.h"

#define STATS_EXAMPLES_MAX	10	/* distinct examples kept per id */
#define STATS_EXAMPLE_LEN	400	/* bytes of an example kept */
#define STATS_PEERS_MAX		1024	/* peers tracked */
#define STATS_REPLY_MAX		8192	/* bytes of a reply checked */

struct stats_example {
	char reply[STATS_EXAMPLE_LEN];	/* as logged (cut), raw bytes */
	size_t len;
	char suggestion[STATS_EXAMPLE_LEN]; /* normalized, "" if unfixable */
	size_t sugg_len;
	bool has_code;			/* false: the log had no basic code */
	enum maillog_direction dir;
	enum maillog_phase phase;
	char peer[MAILLOG_PEER_MAX];
	unsigned long long count;	/* times seen */
};

struct stats_peer {
	char name[MAILLOG_PEER_MAX];
	unsigned long long bad;		/* non-conforming replies (upper bound) */
	unsigned long long err;		/* overestimation bound of bad */
};

struct stats {
	unsigned long long lines;
	unsigned long long recognized;	/* reply lines, before the filters */
	unsigned long long replies;	/* reply lines kept by the filters */
	unsigned long long long_lines;
	unsigned long long by_dir[MAILLOG_DIR__COUNT];
	unsigned long long by_phase[MAILLOG_PHASE__COUNT];
	unsigned long long by_code[1000];
	unsigned long long no_code;	/* logged without a basic code */
	unsigned long long nonstandard[1000];
	unsigned long long diag[SR_D__COUNT];
	unsigned long long with_error;	/* replies with an error-level id */
	unsigned long long with_warning;
	unsigned long long check_failed;	/* out of memory */
	struct stats_example ex[SR_D__COUNT][STATS_EXAMPLES_MAX];
	size_t nex[SR_D__COUNT];
	struct stats_peer peers[STATS_PEERS_MAX];
	size_t npeers;
	short peer_index[2 * STATS_PEERS_MAX];	/* hash: peers[] + 1, 0 empty */
	bool utf8;			/* UTF-8 text allowed */
};

/* Zero *ST (large: allocate it, do not put it on the stack). */
void stats_init(struct stats *st, bool utf8);

/* Check reply R with the engine and count it. */
void stats_add(struct stats *st, const struct maillog_reply *r);

/*
 * The N peers with the most non-conforming replies, most first, into
 * OUT (pointers into ST). Returns how many.
 */
size_t stats_top_peers(const struct stats *st,
			     const struct stats_peer **out, size_t n);

#endif /* SMTPREPLY_AUDIT_STATS_H */
