/*
 * SPDX-License-Identifier: ISC
 * milter.h - the libmilter callbacks: thin glue from SMFICTX to session.c.
 *
 * Each callback fetches the connection's session (smfi_getpriv), passes
 * the step on and maps the answer to SMFIS_*. The session is created at
 * option negotiation with a reference to the configuration current at
 * that moment, and freed in the close callback.
 *
 * The negotiation asks the MTA only for the steps the loaded rules need
 * (no body, no end-of-header, no unknown commands; no HELO, recipients or
 * headers when nothing looks at them), and for the recipients the MTA
 * rejected itself when auditing is on. The DATA step is always kept:
 * over TCP loopback a milter without it was measured to add about 40 ms
 * per message (a command that gets no reply meets Nagle and a delayed
 * ACK).
 */
#ifndef SMTPREPLY_MILTER_MILTER_H
#define SMTPREPLY_MILTER_MILTER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf.h"
#include "counters.h"

/* What the daemon shares with the callbacks. */
struct milter_shared {
	pthread_mutex_t lock;		/* guards cfg */
	struct conf *cfg;		/* current configuration, one reference */
	struct counters counters;
	atomic_uint active;		/* sessions alive (slots taken) */
	atomic_uint fd_capacity;	/* sessions the descriptor limit allows */
	atomic_ulong refused;		/* connections over the limit */
	atomic_llong refusal_logged;	/* time of the last refusal logged */
	atomic_bool draining;		/* stopping: no new session */
	/* Macro lists for proxy children (milter.c): bit N, a stage over
	 * the bounds, bit 8 + N, names left out; logged since the last
	 * reload. */
	atomic_uint symlist_logged;
};

/*
 * Sessions are limited to the configuration's max_sessions and to what
 * the descriptor limit carries (fd_capacity, set by the daemon). A
 * connection over the limit is refused at option negotiation: libmilter
 * then closes it at once (its descriptor and thread are freed) and the
 * MTA applies its own default for an unavailable milter (Postfix:
 * milter_default_action; sendmail: the F= flag). Refusals are counted and
 * logged at most once a second.
 */

/* Whether a session may move from configuration OLD_STEPS (negotiated
 * with OFFERED) to NEW: NEW needs no step the MTA is not sending. */
bool milter_steps_cover(const struct conf *cfg, unsigned long offered,
			unsigned long negotiated);

/*
 * Initialize SH with CFG (its reference passes to SH) and register the
 * callbacks with libmilter under NAME. Returns 0, or -1 (logged).
 */
int milter_setup(struct milter_shared *sh, struct conf *cfg,
		 const char *name);

/*
 * Initialize SH with CFG (its reference passes to SH) without libmilter:
 * for a daemon that serves only the socketmap filter. Returns 0 or -1.
 */
int milter_shared_init(struct milter_shared *sh, struct conf *cfg);

/* The current configuration, with a new reference for the caller. */
struct conf *milter_conf_get(struct milter_shared *sh);

/* Make CFG current (its reference passes to SH); drop the old one. */
void milter_conf_swap(struct milter_shared *sh, struct conf *cfg);

/*
 * The protocol steps (SMFIP_NO* and SMFIP_RCPT_REJ bits) CFG needs, out
 * of the OFFERED ones. Exposed for the unit tests.
 */
unsigned long milter_protocol_flags(const struct conf *cfg,
				    unsigned long offered);

/* The SIGUSR1 log lines of the proxy children of the current
 * configuration (proxy_conf_log). */
void milter_proxy_log(struct milter_shared *sh);

#endif /* SMTPREPLY_MILTER_MILTER_H */
