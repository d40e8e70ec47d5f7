/*
 * SPDX-License-Identifier: ISC
 * filtermap.h - the maps smtpreply-milter serves to Postfix over socketmap.
 *
 *   reject  for smtpd_reject_filter_maps (Postfix 3.11 and later): the key
 *           is a whole 4xx/5xx reply the SMTP server is about to send,
 *           lines joined by CRLF. The reply is normalized by the engine,
 *           in the phase its standard text tells (filterphase.h) or else
 *           without phase fitting; the answer is the normalized reply, or
 *           NOTFOUND when nothing changes.
 *   reply   for smtp_reply_filter / lmtp_reply_filter (Postfix 2.7 and
 *           later): the key is one line of a remote server's reply, CRLF
 *           removed. A 4xx/5xx line is normalized on its own (a line of a
 *           multi-line reply keeps its "-"); 2xx and 3xx lines, the greeting
 *           and EHLO's lines among them, are never touched. Multi-line
 *           consistency is out of reach: each line is looked up alone.
 *
 * Both never change the class of a reply (Postfix refuses a reject filter
 * result that does, and a class decides bounce or defer): when the engine
 * would, the reply is left alone and the fact logged. A reply the engine
 * cannot fix is left alone too.
 *
 * filtermap_run() is pure (engine only); filtermap_answer() adds the
 * counters, the log lines and the socketmap reply.
 */
#ifndef SMTPREPLY_MILTER_FILTERMAP_H
#define SMTPREPLY_MILTER_FILTERMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

#include "filterphase.h"
#include "sockmap.h"

enum filtermap_kind {
	FILTERMAP_REJECT,
	FILTERMAP_REPLY,
	FILTERMAP__COUNT
};

/* "reject", "reply". */
const char *filtermap_name(enum filtermap_kind kind);

/* The map named NAME[0..LEN), or -1. */
int filtermap_lookup(const char *name, size_t len);

enum filtermap_outcome {
	FILTERMAP_UNCHANGED,	/* NOTFOUND: already right */
	FILTERMAP_CHANGED,	/* OK: out holds the replacement */
	FILTERMAP_SKIPPED,	/* NOTFOUND: not a 4xx/5xx reply */
	FILTERMAP_CLASS_KEPT,	/* NOTFOUND: the engine would change the class */
	FILTERMAP_UNFIXABLE,	/* NOTFOUND: the engine cannot fix it */
	FILTERMAP_NOMEM		/* TEMP: memory ran out */
};

/* "unchanged", "changed", "skipped", "class-kept", "unfixable", "nomem". */
const char *filtermap_outcome_name(enum filtermap_outcome o);

struct filtermap_result {
	enum filtermap_outcome outcome;
	struct filterphase phase;	/* reject: what the text told */
	enum sr_phase engine_phase;	/* the phase it was normalized in */
	bool fitted;			/* false: normalized without fitting */
	struct sr_normalized norm;	/* the engine's result and changes */
	char *out;			/* CHANGED: the replacement (heap) */
	size_t out_len;
};

/* How replies are normalized: the configuration's policy and utf8. */
struct filtermap_options {
	const struct sr_policy *policy;	/* NULL: the shipped tables */
	bool utf8;
};

/*
 * Look KEY[0..LEN) up in map KIND. RES is filled whatever happens; release
 * it with filtermap_result_release().
 */
void filtermap_run(enum filtermap_kind kind, const char *key, size_t len,
		   const struct filtermap_options *o,
		   struct filtermap_result *res);

void filtermap_result_release(struct filtermap_result *res);

/*
 * What the maps have done since the daemon started: plain counters, read
 * with atomic loads (relaxed) by the SIGUSR1 log and by a metrics module.
 */
struct filtermap_counters {
	atomic_ulong connections;		/* socketmap connections taken */
	atomic_ulong bad_requests;		/* framing errors, unknown maps */
	atomic_ulong lookups[FILTERMAP__COUNT];
	atomic_ulong outcomes[FILTERMAP__COUNT][FILTERMAP_NOMEM + 1];
	atomic_ulong normalized[FILTERMAP__COUNT][SR_D__COUNT];
	atomic_ulong nonstandard[FILTERMAP__COUNT][1000];
};

void filtermap_counters_init(struct filtermap_counters *c);

/* Log a snapshot ("counters: filter ..."), a line per map. */
void filtermap_counters_log(const struct filtermap_counters *c);

/*
 * Answer socketmap request REQ: look the key up, count, log a change (with
 * before and after, and a notice for each non-standard code by name), a
 * kept class or an unfixable reply, and append the reply to OUT.
 */
void filtermap_answer(const struct sockmap_request *req,
		      const struct filtermap_options *o,
		      struct filtermap_counters *c, struct sockmap_out *out);

#endif /* SMTPREPLY_MILTER_FILTERMAP_H */
