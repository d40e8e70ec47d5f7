/*
 * SPDX-License-Identifier: ISC
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
 *
 * Also counted: replies by the labels of the Prometheus output
 * (direction, phase, basic code, enhanced code: STATS_SERIES_MAX series
 * at most, further ones folded into code and enhanced code "other"),
 * replies over time by class (STATS_TL_BUCKETS buckets whose width grows
 * with the log's time span: a minute for an hour of log, weeks for
 * years), malformed codes with their lines, and the replies a Postfix
 * reply filter changed. Two statistics merge (stats_merge) as if
 * their logs had been read one after the other; the peers' Space-Saving
 * counters merge with their error bounds.
 *
 * A Postfix "reply filter in" line takes back the reject line it
 * repeats (the last reject of the same smtpd process, at most
 * STATS_TAKEBACK_LINES lines before, with the same text): every count
 * that reject added is taken away again, and the filter's "out" line is
 * counted with the reject's phase. The reply counted is the one sent.
 * Likewise an Exim connection error (a malformed reply, a closed
 * connection after EHLO) is counted on its host's line, not again on the
 * delivery line of each address that repeats it (within
 * STATS_TAKEBACK_LINES lines); a repeat with no host line before it
 * counts.
 */
#ifndef SMTPREPLY_AUDIT_STATS_H
#define SMTPREPLY_AUDIT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpreply/smtpreply.h>

#include "maillog.h"

#define STATS_EXAMPLES_MAX	10	/* distinct examples kept per id */
#define STATS_EXAMPLE_LEN	400	/* bytes of an example kept */
#define STATS_PEERS_MAX		1024	/* peers tracked */
#define STATS_REPLY_MAX		8192	/* bytes of a reply checked */
#define STATS_SERIES_MAX	1024	/* label combinations counted */
#define STATS_TL_BUCKETS	512	/* time buckets */
#define STATS_LINE_KEEP		400	/* bytes of a malformed line kept */
#define STATS_TAKEBACK_LINES	64	/* a filter "in" after its reject */
#define STATS_ENH_LABEL		16
#define STATS_PROC_MAX		96
#define STATS_RECENT_TEXT	1024

/* Reply classes over time. */
enum stats_class {
	STATS_CLASS_2XX,
	STATS_CLASS_4XX,
	STATS_CLASS_5XX,
	STATS_CLASS_OTHER,	/* 3xx, malformed, no code and no class */
	STATS_CLASS__COUNT
};

/* Code labels besides 200-599. */
#define STATS_CODE_NONE		(-1)	/* logged without a basic code */
#define STATS_CODE_INVALID	(-2)	/* outside the RFC 5321 grammar */
#define STATS_CODE_OTHER	(-3)	/* folded: too many series */

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

struct stats_series {
	uint8_t dir;			/* enum maillog_direction */
	uint8_t phase;			/* enum maillog_phase */
	int16_t code;			/* 200-599 or AUDIT_CODE_* */
	char enh[STATS_ENH_LABEL];	/* "5.7.1", "none", "unregistered",
					 * "invalid", "other" */
	unsigned long long count;
};

/* A recently seen label combination, by the enhanced code as logged. */
struct stats_series_hit {
	uint16_t idx1;			/* series[] + 1, 0: empty */
	uint8_t dir, phase;
	int16_t code;
	uint8_t len;
	char raw[STATS_ENH_LABEL - 1];
};

/*
 * Bucket I counts the replies of [origin + I*step, origin + (I+1)*step)
 * seconds (the log's own clock, taken as UTC); N buckets used.
 */
struct stats_timeline {
	int64_t origin;
	uint32_t step;
	uint32_t n;
	uint32_t hit;			/* the bucket counted last, */
	int64_t hit_start;		/* its start */
	unsigned long long c[STATS_TL_BUCKETS][STATS_CLASS__COUNT];
};

struct stats_malformed {
	char line[STATS_LINE_KEEP];	/* the log line (cut) */
	size_t line_len;
	char reply[STATS_EXAMPLE_LEN];
	size_t len;
	enum maillog_direction dir;
	enum maillog_phase phase;
	char peer[MAILLOG_PEER_MAX];
	unsigned long long count;
};

/* The last reject of an smtpd process, for its filter "in" line. */
struct stats_recent {
	char proc[STATS_PROC_MAX];
	size_t proc_len;		/* 0: empty */
	unsigned long long lineno;
	int64_t t;
	enum maillog_phase phase;
	size_t len;			/* of the reply */
	char text[STATS_RECENT_TEXT];	/* the reply (its first bytes) */
};
/* A filter "in" line waiting for its "out". */
struct stats_awaiting {
	bool live;
	char proc[STATS_PROC_MAX];
	size_t proc_len;
	enum maillog_phase phase;
	size_t in_len;
	uint64_t in_hash;
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
	unsigned long long success;	/* 2xx success replies (on request) */
	unsigned long long malformed;	/* replies with a malformed code */
	unsigned long long filter_changed;	/* replies a filter changed */
	unsigned long long undated;	/* replies without a usable time */
	struct stats_example ex[SR_D__COUNT][STATS_EXAMPLES_MAX];
	size_t nex[SR_D__COUNT];
	struct stats_malformed mal[STATS_EXAMPLES_MAX];
	size_t nmal;
	struct stats_series series[STATS_SERIES_MAX + 2 * MAILLOG_PHASE__COUNT];
	size_t nseries;
	struct stats_series_hit series_hit[256];	/* a cache of lookups */
	struct stats_timeline tl;
	struct stats_peer peers[STATS_PEERS_MAX];
	size_t npeers;
	short peer_index[2 * STATS_PEERS_MAX];	/* hash: peers[] + 1, 0 empty */
	bool utf8;			/* UTF-8 text allowed */
	/* Postfix reply filter lines (see above) */
	struct stats_recent recent[32];
	struct stats_awaiting await[8];
	/* Exim: the last connection error of a host line, whose repeats on
	 * the addresses' delivery lines are not counted again */
	unsigned long long conn_lineno;
	size_t conn_len;
	uint64_t conn_hash;
};

/* Zero *ST (large: allocate it, do not put it on the stack). */
void stats_init(struct stats *st, bool utf8);

/* Check reply R with the engine and count it (T: its time in seconds,
 * maillog_time_seconds(); 0 when unknown). */
void stats_add(struct stats *st, const struct maillog_reply *r,
	       int64_t t);

/*
 * Count the reply of line LINENO: stats_add(), except that a
 * Postfix filter "in" line takes back the reject it repeats and its
 * "out" line is counted with that reject's phase.
 */
void stats_feed(struct stats *st, const struct maillog_reply *r,
		int64_t t, unsigned long long lineno);

/* The end of an input: no filter line pairs across it. */
void stats_flush(struct stats *st);

/* Add the counts of B to A, as if B's log followed A's. */
void stats_merge(struct stats *a, const struct stats *b);

/* Count N replies of class CLS at time T (seconds) in the timeline. */
void stats_timeline_add(struct stats_timeline *tl, int64_t t,
			enum stats_class cls, unsigned long long n);

/* Make the timeline's step at least STEP (one of the steps it uses). */
void stats_timeline_widen_to(struct stats_timeline *tl, uint32_t step);

/* Widen the timeline's step until it uses at most N buckets. */
void stats_timeline_fit(struct stats_timeline *tl, uint32_t n);

/* Count N replies with these labels (folded when the table is full). */
void stats_series_add(struct stats *st, enum maillog_direction dir,
		      enum maillog_phase phase, int code, const char *enh,
		      unsigned long long n);

/* Put a peer counted elsewhere into ST's table (not full, not there). */
void stats_peer_set(struct stats *st, const char *name,
		    unsigned long long bad, unsigned long long err);

/*
 * The N peers with the most non-conforming replies, most first, into
 * OUT (pointers into ST). Returns how many.
 */
size_t stats_top_peers(const struct stats *st,
		       const struct stats_peer **out, size_t n);

/* "2xx", "4xx", "5xx", "other". */
const char *stats_class_name(enum stats_class c);

/* "500", "none", "invalid", "other" into BUF (8 bytes). */
const char *stats_code_label(int code, char buf[8]);

#endif /* SMTPREPLY_AUDIT_STATS_H */
