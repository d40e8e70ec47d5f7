/*
 * SPDX-License-Identifier: ISC
 * proxy.h - other milters ("children") behind smtpreply-milter.
 *
 * The administrator points the MTA at smtpreply-milter alone and lists
 * the other milters in smtpreply.conf ("milters"). For each MTA
 * connection this module connects to every child, negotiates (mclient.c
 * over mchild.c), and then, step by step, hands each step to the
 * children in order, as Postfix's own milter chain does:
 *
 *  - a child's reject, tempfail or discard ends the step for the later
 *    children; accept only ends that child's part (of the connection at
 *    connect/helo, of the message later); continue goes on;
 *  - the verdicts combine with the precedence discard > reject >
 *    tempfail > continue > accept (per recipient at RCPT): the step is
 *    "accept" only when every child accepted;
 *  - every reply a child makes is normalized by the engine for its phase
 *    and for libmilter, exactly like a rule's: its '%%' read as the MTA
 *    would, parsed, normalized (class mismatch, missing or non-standard
 *    codes, control bytes, multi-line form), each change counted per
 *    child; a reply that cannot be fixed is replaced by the configured
 *    default reply of its class (the caller's), and logged;
 *  - modifications (headers, recipients, sender, body, quarantine) are
 *    kept in the order the children made them and handed to the caller
 *    at end of message;
 *  - a child with evaluate = true runs in dry-run: its verdict and the
 *    reply it would have sent (normalized) are logged and counted,
 *    nothing of it reaches the MTA;
 *  - a child that fails (refused connection, timeout, broken protocol,
 *    crash) is closed and its on_error verdict applies at that step and
 *    every later step it would have seen in this connection, logged once;
 *    the others go on. The next connection tries it again.
 *
 * The configuration part (struct proxy_conf) is immutable once loaded
 * and shared by the sessions; each child's counters are plain atomic
 * counters in it, readable by whoever reports them.
 */
#ifndef SMTPREPLY_MILTER_PROXY_H
#define SMTPREPLY_MILTER_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpreply/smtpreply.h>

#include "mchild.h"
#include "mclient.h"

enum proxy_on_error {
	PROXY_ON_ERROR_TEMPFAIL,
	PROXY_ON_ERROR_ACCEPT,
	PROXY_ON_ERROR_REJECT
};

const char *proxy_on_error_name(enum proxy_on_error e);

/* Per child, since the configuration was loaded (relaxed atomics). */
struct proxy_child_counters {
	atomic_ulong calls;			/* steps answered */
	atomic_ulong verdicts[MCLIENT_R__COUNT];	/* by reply kind */
	atomic_ulong normalized[SR_D__COUNT];	/* changes to its replies */
	atomic_ulong unfixable;			/* replaced by the default */
	atomic_ulong errors;			/* failures (on_error applied) */
	atomic_ulong latency_us_total;		/* sum over calls */
	atomic_ulong latency_us_max;
};

/*
 * What a child answered to the last negotiation, shared by the sessions
 * of one configuration. A session that finds it answers the MTA's
 * negotiation at once from it and reads the child's own answer at the
 * first step it sends (proxy_open): the child's negotiation and the
 * MTA's next step overlap instead of adding a round trip.
 */
struct proxy_child_memo {
	pthread_mutex_t lock;
	bool valid;
	struct mclient_neg neg;
};

/* A new, empty memo (NULL: out of memory); freed by proxy_conf_free. */
struct proxy_child_memo *proxy_child_memo_new(void);

struct proxy_child_conf {
	char *name;
	char *socket;
	int connect_ms, command_ms, eom_ms;
	enum proxy_on_error on_error;
	bool evaluate;
	unsigned line;				/* in the configuration file */
	struct proxy_child_counters *ctr;	/* owned */
	struct proxy_child_memo *memo;		/* owned; NULL: none kept */
};

struct proxy_conf {
	struct proxy_child_conf *child;		/* in order */
	size_t n;
};

void proxy_conf_free(struct proxy_conf *pc);

/*
 * One log line per child of PC at LOG_INFO ("counters: child=NAME
 * calls=... errors=..."), for SIGUSR1. The counters live in the
 * configuration: a reload starts them again.
 */
void proxy_conf_log(const struct proxy_conf *pc);

/* ---- the verdict of one step ----------------------------------------- */

enum proxy_result {
	PROXY_CONTINUE,
	PROXY_ACCEPT,		/* every child accepted */
	PROXY_REJECT,
	PROXY_TEMPFAIL,
	PROXY_DISCARD
};

const char *proxy_result_name(enum proxy_result r);

struct proxy_verdict {
	enum proxy_result result;
	const char *child;		/* the child that decided, or NULL */
	/*
	 * For reject/tempfail: has_reply when NORM holds the child's reply,
	 * normalized and fit for the verdict's class; else the caller sends
	 * its configured default reply of the class (the child sent none,
	 * its reply could not be fixed, or on_error decided).
	 */
	bool has_reply;
	struct sr_normalized norm;	/* released by proxy_verdict_release */
	bool from_error;		/* on_error decided */
};

void proxy_verdict_release(struct proxy_verdict *v);

/* ---- a step ------------------------------------------------------------ */

struct proxy_event {
	enum mclient_step step;
	/* connect */
	const char *hostname;
	char family;			/* SMFIA_INET, _INET6, _UNIX, _UNKNOWN */
	uint16_t port;
	const char *addr;
	/* helo, unknown */
	const char *str;
	/* mail, rcpt */
	const char *const *argv;
	size_t argc;
	/* header */
	const char *name, *value;
	/* body */
	const void *body;
	size_t body_len;
};

typedef const char *(*proxy_macro_fn)(void *ctx, const char *name);

/* ---- modifications at end of message ---------------------------------- */

struct proxy_mod {
	enum mclient_reply_kind kind;	/* ADDHEADER ... REPLBODY, QUARANTINE */
	const char *child;
	char *a;			/* header name, address, quarantine reason */
	char *b;			/* header value, ESMTP args (may be NULL) */
	uint32_t index;
	unsigned char *body;
	size_t body_len;
};

struct proxy;

/*
 * Connect to and negotiate with every child of PC (which must outlive
 * the proxy). Children that fail are logged and marked (their on_error
 * applies from the first step). NULL only when memory ran out.
 */
struct proxy *proxy_open(const struct proxy_conf *pc);

/* Send QUIT to the children still up, close, free. NULL is fine. */
void proxy_close(struct proxy *p);

/* The SMFIF_* actions the children that may modify asked for. */
uint32_t proxy_actions(const struct proxy *p);

/* Does some child want STEP (so the MTA must send it)? A failed child
 * with on_error other than accept counts (its verdict applies). */
bool proxy_wants(const struct proxy *p, enum mclient_step st);

/*
 * Hand EV to the children in order. MACRO (may be NULL) gives the MTA's
 * macros for the children's lists; OPTS the engine options of the step's
 * phase (milter context) for their replies; QID for log lines. *OUT is
 * filled (release it with proxy_verdict_release()).
 */
void proxy_step(struct proxy *p, const struct proxy_event *ev,
		proxy_macro_fn macro, void *macro_ctx,
		const struct sr_options *opts, const char *qid,
		struct proxy_verdict *out);

/*
 * Does some child that is up want the recipients the MTA rejected itself
 * (it negotiated SMFIP_RCPT_REJ)? The MTA is then asked to send them.
 */
bool proxy_wants_rejected(const struct proxy *p);

/*
 * A recipient the MTA rejected itself (EV: its RCPT step): handed to the
 * children that negotiated SMFIP_RCPT_REJ, as the MTA would have done.
 * Their answers change their state as the MTA would let them (an accept
 * ends the message for that child) but decide nothing: the MTA ignores
 * any answer to such a recipient. A child that breaks the protocol here
 * fails as at any step.
 */
void proxy_rejected_rcpt(struct proxy *p, const struct proxy_event *ev,
			 proxy_macro_fn macro, void *macro_ctx,
			 const char *qid);

/* A new message (MAIL): message-level state and modifications reset. */
void proxy_new_message(struct proxy *p);

/* The message was aborted: SMFIC_ABORT to the children in one. */
void proxy_abort(struct proxy *p);

/* The modifications collected at end of message, in order. */
size_t proxy_nmods(const struct proxy *p);
const struct proxy_mod *proxy_mod_at(const struct proxy *p, size_t i);

/*
 * Undo what libmilter did to '%' in a child's reply text, as the MTA
 * reads it: "%%" becomes "%", a lone "%" is kept (its author meant a
 * percent sign). In place; returns S.
 */
char *proxy_unescape_percent(char *s);

/*
 * The macro lists (SMFIR_SETSYMLIST) of the children that are up: FN is
 * called with CTX, the SMFIM_* index of the list (0 ..
 * MCLIENT_MACRO_LISTS - 1) and the names as the child sent them, for each
 * list of each such child, in order. P may be NULL (no call).
 */
typedef void (*proxy_symlist_fn)(void *ctx, int stage, const char *names);
void proxy_each_symlist(const struct proxy *p, proxy_symlist_fn fn, void *ctx);

#endif /* SMTPREPLY_MILTER_PROXY_H */
