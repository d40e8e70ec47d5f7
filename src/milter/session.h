/*
 * SPDX-License-Identifier: ISC
 * session.h - one MTA connection: what the client did, what the rules say.
 *
 * The libmilter callbacks (milter.c) hand each SMTP step to the matching
 * session_*() function and return what it returns. This module holds the
 * per-connection state, runs the rules of each phase, turns a verdict
 * into a normalized reply and hands it to the MTA (through struct mta, so
 * that tests drive it without libmilter), audits the MTA's own recipient
 * rejects, logs one line per verdict and counts.
 *
 * Guarantees the MTA relies on:
 *  - a reply is set only right before a REJECT (5xx) or TEMPFAIL (4xx)
 *    status of the same class is returned, so libmilter never drops one
 *    and keeps it to send later by mistake;
 *  - every reply went through the engine in milter context for its
 *    phase, its '%' doubled;
 *  - an internal failure (memory, a regex over its match limit, a reply
 *    that cannot be rendered) answers the configured on_error verdict.
 *
 * A session holds a reference to the configuration it started with: a
 * reload does not change the rules under a session in flight.
 */
#ifndef SMTPREPLY_MILTER_SESSION_H
#define SMTPREPLY_MILTER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "counters.h"
#include "mta.h"

/*
 * Bytes of a client value (sender, recipient, HELO, names) shown in a log
 * line; the rules always see the whole value.
 */
#define SESSION_LOG_VALUE_MAX 256

/* What a callback answers; milter.c maps these to SMFIS_*. */
enum session_status {
	SESSION_CONTINUE,
	SESSION_ACCEPT,
	SESSION_REJECT,		/* a 5xx reply was set (or the MTA's default) */
	SESSION_TEMPFAIL,	/* a 4xx reply was set (or the MTA's default) */
	SESSION_DISCARD
};

const char *session_status_name(enum session_status st);

struct session;

/*
 * A new session on CFG (the session takes over one reference), counting
 * into CTR. NULL when memory ran out (CFG's reference is then dropped).
 */
struct session *session_new(struct conf *cfg, struct counters *ctr);
void session_free(struct session *s);

/* The configuration the session runs on. */
const struct conf *session_config(const struct session *s);

/*
 * Move the session onto CFG (the session takes over one reference and
 * drops its old one). Only between messages: the MTA glue calls it at
 * MAIL, before session_mail(), when CFG needs no protocol step the
 * session did not negotiate. So an idle old configuration does not stay
 * in memory for as long as a long connection lasts.
 */
void session_adopt_config(struct session *s, struct conf *cfg);

/* The protocol steps negotiated with the MTA (glue's business). */
void session_set_steps(struct session *s, unsigned long offered,
		       unsigned long steps);
unsigned long session_steps(const struct session *s, unsigned long *offered);

/*
 * The verdict for an internal failure before a session exists (no
 * memory for one): on_error of CFG. Counts and logs the failure. No
 * reply is set (there are no session values for the configured one): a
 * tempfail verdict gets the MTA's own tempfail reply.
 */
enum session_status session_fail(const struct conf *cfg,
				 struct counters *ctr, const struct mta *m,
				 enum sr_phase phase, const char *what);

/*
 * The SMTP steps. HOSTNAME is the client's name as the MTA resolved it
 * ("[192.0.2.1]" when unknown), ADDR its address as text ("192.0.2.1",
 * "2001:db8::1"), NULL when the MTA gave none. SENDER and RCPT as the
 * client wrote them ("<a@example.org>").
 */
enum session_status session_connect(struct session *s, const struct mta *m,
				    const char *hostname, const char *addr);
enum session_status session_helo(struct session *s, const struct mta *m,
				 const char *helo);
enum session_status session_mail(struct session *s, const struct mta *m,
				 const char *sender);
enum session_status session_rcpt(struct session *s, const struct mta *m,
				 const char *rcpt);
enum session_status session_data(struct session *s, const struct mta *m);
enum session_status session_header(struct session *s, const struct mta *m,
				   const char *name, const char *value);
enum session_status session_eom(struct session *s, const struct mta *m);

/* The message was aborted (RSET, or the client went away). */
void session_abort(struct session *s);

/*
 * Proxy children ("milters", proxy.h). The steps only they take (the
 * rules have none): end of headers, body chunks (cut at 65,535 bytes),
 * unknown commands. Before session_connect, the client's socket family
 * (SMFIA_*) and port; before session_mail/session_rcpt, the MTA's whole
 * argv (address, then ESMTP arguments; NULL-terminated, valid for that
 * call only). What the children asked for at negotiation: their actions
 * (SMFIF_*) and whether one of them wants a step.
 */
enum session_status session_eoh(struct session *s, const struct mta *m);
enum session_status session_body(struct session *s, const struct mta *m,
				 const unsigned char *chunk, size_t len);
enum session_status session_unknown(struct session *s, const struct mta *m,
				    const char *line);
void session_set_client_socket(struct session *s, char family, unsigned port);
void session_set_esmtp_args(struct session *s, const char *const *argv);
uint32_t session_proxy_actions(const struct session *s);
bool session_proxy_wants(const struct session *s, enum mclient_step st);
bool session_proxy_wants_rejected(const struct session *s);
/* proxy_each_symlist() of the session's children (none without any). */
void session_proxy_symlists(const struct session *s, proxy_symlist_fn fn,
			    void *ctx);

#endif /* SMTPREPLY_MILTER_SESSION_H */
