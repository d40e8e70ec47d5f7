/*
 * SPDX-License-Identifier: ISC
 * reply.h - one configured reply, end to end.
 *
 * A reply the milter answers with (a rule's own, or one of the "replies"
 * block) goes through this module only:
 *
 *  - at load time reply_new() turns the configured lines into the wire
 *    form (the '-' / ' ' separators are the loader's business), compiles
 *    it as a template, parses and normalizes it with the engine in milter
 *    context for the phase it answers, under the configured policy, and
 *    checks that its class fits the action (reject: 5xx, tempfail: 4xx);
 *  - per verdict reply_send() takes the load-time reply when there are no
 *    variables, or renders it (values cleaned by the template module, the
 *    whole reply normalized again), escapes its text for libmilter with
 *    the engine's sr_milter_escape() (every '%' doubled) and hands it to
 *    the MTA through mta.h.
 *
 * A quarantine reason is kept here too (is_reason): plain text with
 * variables, never an SMTP reply; reply_reason() expands it.
 *
 * A struct reply is immutable once built and shared by every session of
 * its configuration; nothing here keeps state between calls.
 */
#ifndef SMTPREPLY_MILTER_REPLY_H
#define SMTPREPLY_MILTER_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

#include "mta.h"
#include "rules.h"
#include "template.h"

struct conf;

/* One configured reply (or quarantine reason), checked at load time. */
struct reply {
	char *file;			/* where it was configured; NULL: built in */
	unsigned line;
	enum rule_action action;	/* reject, tempfail or quarantine */
	enum sr_phase phase;		/* the phase it answers */
	bool is_reason;			/* quarantine reason: text, no SMTP reply */
	struct template tmpl;		/* wire form, lines joined by CRLF */
	/*
	 * The reply normalized at load time, variables left as written
	 * ("${sender}"): what is sent when there are no variables, and the
	 * changes the engine made (norm.changes). Unused for a reason.
	 */
	struct sr_normalized norm;
};

/* reply_new() results besides 0. */
#define REPLY_INVALID	(-1)	/* ERR says why */
#define REPLY_NOMEM	(-2)

/*
 * Build the reply for ACTION at PHASE from NLINES configured LINES (one
 * string per reply line, without separators or line ends), configured
 * at FILE:LINE (FILE NULL: built in), normalized under CFG's policy and
 * utf8. Returns 0 with *OUT a new reply, or REPLY_INVALID with the
 * reason in ERR, or REPLY_NOMEM; *OUT is then NULL.
 */
int reply_new(struct reply **out, const struct conf *cfg, const char *file,
	      unsigned line, const char *const *lines, size_t nlines,
	      enum rule_action action, enum sr_phase phase, char *err,
	      size_t errsize);

/* Free RP (NULL is fine). */
void reply_free(struct reply *rp);

/* The normalized reply to send as is when RP has no variables, else NULL. */
const struct sr_normalized *reply_fixed(const struct reply *rp);

/*
 * Expand RP with VALS, parse and normalize the result (milter context,
 * RP's phase, CFG's policy and utf8) into OUT, which the caller releases
 * with sr_normalized_release() whatever happens. Returns 0 when OUT holds
 * a reply whose class is the one checked at load time, else -1 (OUT's
 * status and why say what went wrong). Not for a reason.
 */
int reply_render(const struct conf *cfg, const struct reply *rp,
		 const struct template_values *vals, struct sr_normalized *out);

/* A reply as handed to the MTA, for the verdict's log line. */
struct reply_sent {
	const struct sr_normalized *norm;	/* NULL: nothing to send */
	struct sr_normalized scratch;		/* a rendered reply */
	bool rendered;				/* NORM points to SCRATCH */
};

/*
 * Answer with RP through M: its load-time form, or rendered with VALS
 * when it names variables; escaped for libmilter and set with setreply
 * (one line) or setmlreply. QID and RULE (NULL: "-") are for log lines.
 * Returns 0 with SENT->norm the reply, or -1 when rendering failed
 * (logged; SENT->norm NULL). A reply the MTA library refuses, or whose
 * class does not fit RP's action, is logged and not set (the MTA then
 * sends its default); that still returns 0. Release SENT with
 * reply_sent_release() whatever the result.
 */
int reply_send(const struct conf *cfg, const struct reply *rp,
	       const struct template_values *vals, const struct mta *m,
	       const char *qid, const char *rule, struct reply_sent *sent);

void reply_sent_release(struct reply_sent *sent);

/*
 * Hand NORM, a reply already normalized in milter context (a proxy
 * child's), to the MTA for ACTION (reject: 5xx, tempfail: 4xx), escaped
 * as reply_send() does. 0 when set, -1 when not (logged with QID; the
 * MTA then sends its default).
 */
int reply_send_normalized(const struct mta *m,
			  const struct sr_normalized *norm,
			  enum rule_action action, const char *qid);

/*
 * The quarantine reason RP with VALS filled in, control bytes as
 * spaces; a copy of FALLBACK when RP is NULL or expands to nothing.
 * Returns a string the caller frees, NULL when memory ran out.
 */
char *reply_reason(const struct reply *rp, const struct template_values *vals,
		   const char *fallback);

#endif /* SMTPREPLY_MILTER_REPLY_H */
