/*
 * SPDX-License-Identifier: ISC
 * counters.h - what the milter has done since it started.
 *
 * Verdicts by phase and action, replies sent by phase and code,
 * normalizations by diagnostic id, non-standard codes by code, replies of
 * the MTA's own rejects audited, internal errors, reloads. Workers count
 * with relaxed atomic increments (no lock in the mail path); SIGUSR1 and
 * the shutdown log a snapshot, and counters_collect() writes them for
 * Prometheus (metrics.h).
 */
#ifndef SMTPREPLY_MILTER_COUNTERS_H
#define SMTPREPLY_MILTER_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include <smtpreply/smtpreply.h>

#include "metrics.h"
#include "rules.h"

/*
 * Replies sent, by phase, basic code and enhanced code: a fixed table
 * filled lock-free (a slot's key is claimed by compare-and-swap, then only
 * counted). The configuration decides which replies exist, so a few dozen
 * keys are normal; past the table's size they go to "overflow", which
 * bounds the number of Prometheus series.
 */
#define COUNTERS_REPLY_SLOTS 256

struct counters_reply_slot {
	_Atomic uint64_t key;			/* 0: free */
	atomic_ulong n;
};

struct counters {
	atomic_ulong sessions;			/* MTA connections */
	atomic_ulong messages;			/* MAIL commands seen */
	atomic_ulong verdicts[RULE_ACTION__COUNT];
	atomic_ulong verdicts_by_phase[RULE_PHASE__COUNT][RULE_ACTION__COUNT];
	struct counters_reply_slot replies[COUNTERS_REPLY_SLOTS];
	atomic_ulong replies_overflow;
	atomic_ulong normalized[SR_D__COUNT];	/* changes in replies sent */
	atomic_ulong nonstandard[1000];		/* configured codes replaced */
	atomic_ulong audited;			/* MTA rejects audited */
	atomic_ulong audited_bad;		/* ... with a warning or error */
	atomic_ulong audited_diag[SR_D__COUNT];
	atomic_ulong audited_nonstandard[1000];
	atomic_ulong internal_errors;		/* answered with on_error */
	atomic_ulong reloads_ok;		/* SIGHUP, new file in use */
	atomic_ulong reloads_failed;		/* SIGHUP, file refused */
	atomic_llong config_loaded_at;		/* time(): start, good reload */
	atomic_bool last_reload_ok;		/* true until a reload fails */
	atomic_llong started_at;		/* time() at counters_init() */
};

/* Zero; the configuration counts as loaded now. */
void counters_init(struct counters *c);

/* A reply sent at PHASE with basic CODE and ENHANCED ("" if none). */
void counters_reply(struct counters *c, enum rule_phase phase,
		    const char *code, const char *enhanced);

/* A reload: OK true when the new configuration is in use. */
void counters_reload(struct counters *c, bool ok);

/* Collector for metrics_register(): ARG is the struct counters. */
void counters_collect(struct metrics_out *o, void *arg);

/* Add one to *V (relaxed: a statistic, not a synchronization). */
static inline void counters_inc(atomic_ulong *v)
{
	atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

/* Log a snapshot, a few lines at LOG_INFO ("counters: ..."). */
void counters_log(const struct counters *c);

#endif /* SMTPREPLY_MILTER_COUNTERS_H */
