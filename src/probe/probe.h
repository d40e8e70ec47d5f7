/*
 * SPDX-License-Identifier: ISC
 * probe.h - "smtpreply probe": the fixed list of SMTP dialogues that
 * provoke a server's replies, the runner that plays one dialogue over a
 * byte stream, and the engine's judgement of every reply.
 *
 * This is the pure part of the command: it never opens a socket or runs
 * a program. A session talks through a struct probe_transport (the
 * command's glue gives one over TCP or over a child's standard input and
 * output; the unit tests give scripted byte streams), so every behaviour
 * can be tested from bytes: replies split anywhere, stalls, closes,
 * endless lines.
 *
 * A dialogue never delivers a message: the one probe that reaches DATA
 * ends the session before the final dot, unless the caller set
 * deliver_to (the administrator asked for one message to that address).
 */
#ifndef SMTPREPLY_PROBE_H
#define SMTPREPLY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <smtpreply/smtpreply.h>

/* ---- the probe list ------------------------------------------------------ */

enum probe_step_role {
	PROBE_SETUP,	/* leads to the probed command; must be accepted */
	PROBE_TARGET,	/* what the probe is about */
	PROBE_TEARDOWN	/* QUIT after the probe */
};

/* One command of a dialogue. */
struct probe_step {
	const char *command;	/* template (see probe_expand); NULL: the greeting */
	enum sr_phase phase;	/* the phase its reply is judged in */
	enum probe_step_role role;
	unsigned flags;		/* PROBE_STEP_* */
};

#define PROBE_STEP_REPEAT	0x01	/* sent max_rcpt + 1 times */
#define PROBE_STEP_DATA_END	0x02	/* the final dot: only with deliver_to */
#define PROBE_STEP_STARTTLS	0x04	/* a 220 means TLS would start: stop */

#define PROBE_MAX_STEPS 6

struct probe_def {
	const char *id;		/* "rcpt-unknown" */
	const char *title;	/* one line for people */
	const char *expect;	/* what a well-behaved server answers */
	unsigned flags;		/* PROBE_DEF_* */
	struct probe_step steps[PROBE_MAX_STEPS];	/* after the greeting */
	size_t nsteps;
};

#define PROBE_DEF_NEEDS_MAX_RCPT  0x01	/* only with max_rcpt > 0 */
#define PROBE_DEF_UNLESS_AUTH	  0x02	/* not when EHLO offers AUTH */
#define PROBE_DEF_UNLESS_STARTTLS 0x04	/* not when EHLO offers STARTTLS */
#define PROBE_DEF_EHLO_FIRST	  0x08	/* steps[0] is the EHLO whose
					 * keywords decide the two above */

/* The fixed list, in the order the probes run. */
const struct probe_def *probe_list(size_t *count);

/* The probe named ID, or NULL. */
const struct probe_def *probe_find(const char *id);

/* ---- what the caller chooses ---------------------------------------------- */

struct probe_params {
	const char *helo;	/* HELO/EHLO name */
	const char *sender;	/* MAIL FROM address, without <> */
	const char *domain;	/* the server's local recipient domain */
	const char *rcpt;	/* a recipient the server accepts */
	const char *relay_domain;	/* a domain it must not relay to */
	const char *deliver_to;	/* NULL: no message is ever delivered */
	unsigned max_rcpt;	/* 0: the too-many-recipients probe is skipped */
	int timeout_ms;		/* for each reply, whole */
};

/*
 * Expand the command template TPL with P into BUF[SIZE]: {helo},
 * {sender}, {domain}, {rcpt}, {relay}, {data_rcpt} (deliver_to when set,
 * else rcpt), {long} (a local part that makes the command line longer
 * than 512 octets). Returns the length, or -1 when it does not fit.
 */
int probe_expand(const char *tpl, const struct probe_params *p, char *buf,
		 size_t size);

/* Whether every command of DEF can be made from P. */
bool probe_def_ready(const struct probe_def *def, const struct probe_params *p);

/*
 * Whether VALUE is fit to go into a command: printable ASCII, no space,
 * no '<' '>', at most 255 bytes. Options are checked with it.
 */
bool probe_param_ok(const char *value);

/* ---- the byte stream -------------------------------------------------------- */

#define PROBE_IO_TIMEOUT  (-2)

struct probe_transport {
	void *ctx;
	/* Send all LEN bytes: 0, or -1 when the peer is gone. */
	int (*send)(void *ctx, const char *p, size_t len);
	/*
	 * Wait up to TIMEOUT_MS milliseconds (0: do not wait) for bytes:
	 * their count, 0 at the end of the stream, -1 on an error,
	 * PROBE_IO_TIMEOUT when none came in time.
	 */
	ssize_t (*recv)(void *ctx, char *buf, size_t size, int timeout_ms);
	/* A monotonic clock in milliseconds. */
	long long (*now_ms)(void *ctx);
};

/* ---- results ----------------------------------------------------------------- */

/* What went wrong with the stream itself (not with a reply's content). */
enum probe_problem {
	PROBE_OK = 0,
	PROBE_TIMEOUT,		/* no complete reply within the timeout */
	PROBE_CLOSED,		/* the stream ended before a complete reply */
	PROBE_OVERFLOW,		/* a reply over the reader's bounds */
	PROBE_UNSOLICITED,	/* lines after the reply's last line */
	PROBE_IO_ERROR,		/* send or receive failed */
	PROBE_NOMEM
};

const char *probe_problem_name(enum probe_problem p);

/* One command and its reply, judged. */
struct probe_exchange {
	enum probe_step_role role;
	enum sr_phase phase;
	char *sent;		/* the command line without CRLF; NULL: greeting */
	size_t sent_len;
	char *reply;		/* the reply as received (bounded), final line
				 * ending removed; may be empty */
	size_t reply_len;
	unsigned reply_lines;
	size_t dropped;		/* bytes of over-long lines not kept */
	enum probe_problem problem;
	bool judged;		/* a reply to judge arrived */
	struct sr_check check;
	bool fixable;
	char *normalized;	/* when fixable */
	size_t normalized_len;
	char why[160];		/* when not fixable */
};

enum probe_status {
	PROBE_DONE,	/* every step played */
	PROBE_STOPPED,	/* a setup step was refused: the target was not reached */
	PROBE_BROKEN,	/* the stream failed (timeout, close, overflow) */
	PROBE_SKIPPED	/* not run (why says why) */
};

const char *probe_status_name(enum probe_status s);

struct probe_result {
	const struct probe_def *def;
	enum probe_status status;
	char why[200];
	struct probe_exchange *ex;
	size_t nex, cap;
	bool delivered;	/* the final dot was sent (deliver_to) */
};

/*
 * Play DEF's dialogue over T with P, from the greeting to QUIT (or to the
 * end before the final dot), judging every reply with the engine for its
 * step's phase. RES is filled (release it with probe_result_release).
 * Returns 0, or -1 when memory ran out.
 */
int probe_run(const struct probe_def *def, const struct probe_params *p,
	      const struct probe_transport *t, struct probe_result *res);

/* A result for a probe that is not run, with why. */
void probe_result_skip(struct probe_result *res, const struct probe_def *def,
		       const char *why);

void probe_result_release(struct probe_result *res);

/* Whether an exchange counts in the findings: the target steps, and a
 * stream problem anywhere. */
bool probe_exchange_counts(const struct probe_exchange *e);

#endif /* SMTPREPLY_PROBE_H */
