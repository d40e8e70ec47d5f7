/*
 * counters.h - what the milter has done since it started.
 *
 * Verdicts by action, normalizations by diagnostic id, non-standard
 * codes by code, replies of the MTA's own rejects audited, internal
 * errors. Workers count with relaxed atomic increments (no lock in the
 * mail path); SIGUSR1 and the shutdown log a snapshot.
 */
#ifndef SMTPREPLY_MILTER_COUNTERS_H
#define SMTPREPLY_MILTER_COUNTERS_H

#include <stdatomic.h>

#include <smtpreply/smtpreply.h>

#include "rules.h"

struct counters {
	atomic_ulong sessions;			/* MTA connections */
	atomic_ulong messages;			/* MAIL commands seen */
	atomic_ulong verdicts[RULE_ACTION__COUNT];
	atomic_ulong normalized[SR_D__COUNT];	/* changes in replies sent */
	atomic_ulong nonstandard[1000];		/* configured codes replaced */
	atomic_ulong audited;			/* MTA rejects audited */
	atomic_ulong audited_bad;		/* ... with a warning or error */
	atomic_ulong audited_diag[SR_D__COUNT];
	atomic_ulong audited_nonstandard[1000];
	atomic_ulong internal_errors;		/* answered with on_error */
};

void counters_init(struct counters *c);

/* Add one to *V (relaxed: a statistic, not a synchronization). */
static inline void counters_inc(atomic_ulong *v)
{
	atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

/* Log a snapshot, a few lines at LOG_INFO ("counters: ..."). */
void counters_log(const struct counters *c);

#endif /* SMTPREPLY_MILTER_COUNTERS_H */
