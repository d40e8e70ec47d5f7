/*
 * SPDX-License-Identifier: ISC
 * reply.c - one configured reply: built at load time, sent per verdict.
 *
 * The path of a reply, in this file's order: reply_new() joins the
 * configured lines, compiles the template, normalizes it with the engine
 * and checks its class; reply_fixed() / reply_render() give the reply to
 * send; reply_send() escapes it for libmilter and sets it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "reply.h"

#define SHOW_MAX 80		/* bytes of a configured reply in a message */

/* ---- load time ------------------------------------------------------------- */

/* The class digit ACTION needs, or 0 for any. */
static char action_class(enum rule_action a)
{
	return a == RULE_REJECT ? '5' : a == RULE_TEMPFAIL ? '4' : 0;
}

/* A printable copy of S for a message: SHOW_MAX bytes, then "...". */
static void show(const char *s, char buf[SHOW_MAX + 4])
{
	(void)sr_quote(buf, SHOW_MAX + 4, s, strnlen(s, SHOW_MAX + 4),
		       SR_QUOTE_ELLIPSIS);
}

/*
 * LINES joined by CRLF into a new string (*LEN its length), each line
 * that starts with a code given the separator of its place: '-' but on
 * the last line. NULL when memory ran out.
 */
static char *join_lines(const char *const *lines, size_t nlines, bool is_reason,
			size_t *len)
{
	size_t i, size = 1, pos = 0;
	char *wire;

	for (i = 0; i < nlines; i++)
		size += strlen(lines[i]) + 2;
	if ((wire = malloc(size)) == NULL)
		return NULL;
	for (i = 0; i < nlines; i++) {
		size_t n = strlen(lines[i]);

		if (i > 0) {
			memcpy(wire + pos, "\r\n", 2);
			pos += 2;
		}
		memcpy(wire + pos, lines[i], n);
		if (!is_reason && n >= 4 && sr_code_at(wire + pos, n) >= 0)
			wire[pos + 3] = i + 1 < nlines ? '-' : ' ';
		pos += n;
	}
	wire[pos] = '\0';
	*len = pos;
	return wire;
}

/* Parse and normalize RP's wire form WIRE[0..LEN) and check its class. */
static int normalize_configured(struct reply *rp, const struct conf *cfg,
				const char *const *lines, size_t nlines,
				const char *wire, size_t len, char *err,
				size_t errsize)
{
	char shown[SHOW_MAX + 4];
	struct sr_options o;
	struct sr_reply r;
	char want = action_class(rp->action);
	size_t i;

	for (i = 0; i < nlines; i++) {
		if (memchr(lines[i], '$', strnlen(lines[i], 4)) != NULL) {
			show(lines[i], shown);
			snprintf(err, errsize, "reply \"%s\": a variable cannot "
				 "stand in the reply code", shown);
			return REPLY_INVALID;
		}
	}
	if (sr_reply_parse(&r, wire, len) < 0)
		return REPLY_NOMEM;
	conf_sr_options(cfg, rp->phase, &o);
	sr_normalize(&r, &o, &rp->norm);
	sr_reply_release(&r);
	switch (rp->norm.status) {
	case SR_NORM_OK:
		break;
	case SR_NORM_NOMEM:
		return REPLY_NOMEM;
	default:
		show(wire, shown);
		snprintf(err, errsize, "reply \"%s\" cannot be used: %s", shown,
			 rp->norm.why);
		return REPLY_INVALID;
	}
	if (want != 0 && rp->norm.code[0] != want) {
		snprintf(err, errsize, "action %s needs a %cxx reply, not %s",
			 rule_action_name(rp->action), want, rp->norm.code);
		return REPLY_INVALID;
	}
	return 0;
}

int reply_new(struct reply **out, const struct conf *cfg, const char *file,
	      unsigned line, const char *const *lines, size_t nlines,
	      enum rule_action action, enum sr_phase phase, char *err,
	      size_t errsize)
{
	struct reply *rp;
	size_t i, len;
	char *wire = NULL;
	int rc = REPLY_NOMEM;

	*out = NULL;
	for (i = 0; i < nlines; i++) {
		if (strpbrk(lines[i], "\r\n") != NULL) {
			snprintf(err, errsize, "reply line %zu contains a line "
				 "break (write a multi-line reply as a list of "
				 "strings)", i + 1);
			return REPLY_INVALID;
		}
	}
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return REPLY_NOMEM;
	rp->is_reason = action == RULE_QUARANTINE;
	rp->action = action;
	rp->phase = phase;
	rp->line = line;
	if (file != NULL && (rp->file = strdup(file)) == NULL)
		goto fail;
	if ((wire = join_lines(lines, nlines, rp->is_reason, &len)) == NULL)
		goto fail;
	if (template_compile(&rp->tmpl, wire, len, err, errsize) < 0) {
		if (strcmp(err, "out of memory") != 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errsize, "reply: %s", why);
			rc = REPLY_INVALID;
		}
		goto fail;
	}
	if (!rp->is_reason &&
	    (rc = normalize_configured(rp, cfg, lines, nlines, wire, len, err,
				       errsize)) != 0)
		goto fail;
	free(wire);
	*out = rp;
	return 0;
fail:
	free(wire);
	reply_free(rp);
	return rc;
}

void reply_free(struct reply *rp)
{
	if (rp == NULL)
		return;
	free(rp->file);
	template_free(&rp->tmpl);
	if (!rp->is_reason)
		sr_normalized_release(&rp->norm);
	free(rp);
}

/* ---- per verdict ----------------------------------------------------------- */

const struct sr_normalized *reply_fixed(const struct reply *rp)
{
	if (rp == NULL || rp->is_reason || template_has_vars(&rp->tmpl))
		return NULL;
	return &rp->norm;
}

/* RP expanded with VALS into a new string (*LEN its length), or NULL. */
static char *expand(const struct reply *rp, const struct template_values *vals,
		    size_t *len)
{
	size_t size = template_max_len(&rp->tmpl) + 1;
	char *buf = malloc(size);

	if (buf == NULL)
		return NULL;
	*len = template_expand(&rp->tmpl, vals, buf, size, NULL);
	if (*len >= size)
		*len = size - 1;	/* cannot happen: size is an upper bound */
	return buf;
}

int reply_render(const struct conf *cfg, const struct reply *rp,
		 const struct template_values *vals, struct sr_normalized *out)
{
	struct sr_options o;
	struct sr_reply r;
	size_t len;
	char *buf;

	memset(out, 0, sizeof(*out));
	out->status = SR_NORM_NOMEM;
	if (rp == NULL || rp->is_reason) {
		out->status = SR_NORM_UNFIXABLE;
		snprintf(out->why, sizeof(out->why), "no reply to render");
		return -1;
	}
	if ((buf = expand(rp, vals, &len)) == NULL)
		return -1;
	if (sr_reply_parse(&r, buf, len) < 0) {
		free(buf);
		return -1;
	}
	conf_sr_options(cfg, rp->phase, &o);
	sr_normalize(&r, &o, out);
	sr_reply_release(&r);
	free(buf);
	if (out->status != SR_NORM_OK)
		return -1;
	if (out->code[0] != rp->norm.code[0]) {
		out->status = SR_NORM_UNFIXABLE;
		snprintf(out->why, sizeof(out->why),
			 "the expanded reply has code %s, the configured one %s",
			 out->code, rp->norm.code);
		return -1;
	}
	return 0;
}

/*
 * Hand NORM to the MTA for a verdict ACTION (reject: 5xx, tempfail:
 * 4xx): each line's text escaped for libmilter. Returns 0 when the reply
 * was set, -1 when it was not (the MTA then sends its default for the
 * verdict; nothing is left behind).
 */
static int set_reply(const struct mta *m, const struct sr_normalized *norm,
		     enum rule_action action, const char *qid)
{
	const char *lines[SR_MILTER_LINES_MAX];
	struct sr_span text;
	size_t pos = 0, n = 0, total = 0, off = 0, i;
	const char *xcode;
	char *buf;
	int rc;

	if (norm->status != SR_NORM_OK ||
	    norm->code[0] != action_class(action)) {
		log_qid(LOG_ERR, qid, "internal: reply %s does not fit a %s "
		    "verdict; leaving the reply to the MTA", norm->code,
		    rule_action_name(action));
		return -1;
	}
	while (sr_normalized_next_text(norm, &pos, &text)) {
		if (n == SR_MILTER_LINES_MAX)
			return -1;
		total += sr_milter_escape(text, NULL, 0) + 1;
		n++;
	}
	if (n == 0 || (buf = malloc(total)) == NULL)
		return -1;
	for (pos = 0, i = 0; sr_normalized_next_text(norm, &pos, &text); i++) {
		size_t k = sr_milter_escape(text, buf + off, total - off);

		lines[i] = buf + off;
		off += k + 1;
	}
	xcode = norm->enhanced[0] != '\0' ? norm->enhanced : NULL;
	if (n == 1)
		rc = m->ops->setreply(m->ctx, norm->code, xcode, lines[0]);
	else
		rc = m->ops->setmlreply(m->ctx, norm->code, xcode, lines, n);
	free(buf);
	if (rc != 0)
		log_qid(LOG_WARNING, qid, "the MTA library refused reply "
		    "%s: the MTA sends its default", norm->code);
	return rc;
}

int reply_send(const struct conf *cfg, const struct reply *rp,
	       const struct template_values *vals, const struct mta *m,
	       const char *qid, const char *rule, struct reply_sent *sent)
{
	memset(sent, 0, sizeof(*sent));
	sent->norm = reply_fixed(rp);
	if (sent->norm == NULL) {
		sent->rendered = true;
		if (reply_render(cfg, rp, vals, &sent->scratch) != 0) {
			log_qid(LOG_ERR, qid, "rule=%s: reply could not be "
			    "rendered: %s", rule != NULL ? rule : "-",
			    sent->scratch.why[0] ? sent->scratch.why :
			    "out of memory");
			return -1;
		}
		sent->norm = &sent->scratch;
	}
	(void)set_reply(m, sent->norm, rp->action, qid);
	return 0;
}

int reply_send_normalized(const struct mta *m,
			  const struct sr_normalized *norm,
			  enum rule_action action, const char *qid)
{
	return set_reply(m, norm, action, qid);
}

void reply_sent_release(struct reply_sent *sent)
{
	if (sent->rendered)
		sr_normalized_release(&sent->scratch);
	sent->rendered = false;
	sent->norm = NULL;
}

char *reply_reason(const struct reply *rp, const struct template_values *vals,
		   const char *fallback)
{
	size_t i, len;
	char *buf;

	if (rp == NULL)
		return strdup(fallback);
	if ((buf = expand(rp, vals, &len)) == NULL)
		return NULL;
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] == 0x7f)
			buf[i] = ' ';
	if (buf[0] == '\0') {
		free(buf);
		return strdup(fallback);
	}
	return buf;
}
