/*
 * SPDX-License-Identifier: ISC
 * conftest.c - the -t report and the start-up log of normalized replies.
 */
#include <string.h>

#include "conftest.h"
#include "log.h"
#include "reply.h"

/* Print the CRLF-separated lines of WIRE[0..LEN), the first after LABEL. */
static void print_lines(FILE *out, const char *label, const char *wire,
			size_t len)
{
	const char *p = wire, *end = wire + len;
	char q[2048];
	bool first = true;

	do {
		const char *nl = memchr(p, '\r', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		log_quote(q, sizeof(q), p, n);
		fprintf(out, "  %-11s %s\n", first ? label : "", q);
		first = false;
		p += n;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	} while (p < end);
}

static void print_reply(FILE *out, const struct conf *cfg,
			const struct reply *rp)
{
	struct sr_options o;
	struct sr_check chk;
	struct sr_reply r;
	char msg[512];
	size_t i;

	if (rp->is_reason) {
		print_lines(out, "reason:", rp->tmpl.text, rp->tmpl.len);
		return;
	}
	print_lines(out, "configured:", rp->tmpl.text, rp->tmpl.len);
	conf_sr_options(cfg, rp->phase, &o);
	if (sr_reply_parse(&r, rp->tmpl.text, rp->tmpl.len) == 0) {
		sr_check(&r, &o, &chk);
		for (i = 0; i < chk.ndiags; i++) {
			sr_diag_format(&chk.diags[i], msg, sizeof(msg));
			fprintf(out, "  %-11s %s %s: %s\n", "",
			    sr_severity_name(sr_diag_severity(chk.diags[i].id)),
			    sr_diag_name(chk.diags[i].id), msg);
		}
	}
	sr_reply_release(&r);
	for (i = 0; i < rp->norm.nchanges; i++)
		fprintf(out, "  %-11s %s: %s -> %s\n", "changed:",
		    sr_diag_name(rp->norm.changes[i].id),
		    rp->norm.changes[i].before, rp->norm.changes[i].after);
	print_lines(out, "sent as:", rp->norm.wire, rp->norm.wire_len);
	if (template_has_vars(&rp->tmpl))
		fprintf(out, "  %-11s (variables are filled in per message with "
		    "cleaned values, then the reply is normalized again)\n", "");
}

static void print_rule(FILE *out, const struct conf *cfg,
		       const struct rule *r)
{
	const struct reply *rp = conf_rule_reply(cfg, r);

	fprintf(out, "rule '%s' (%s:%u): phase %s, action %s\n", r->name,
	    cfg->file != NULL ? cfg->file : "built-in", r->line,
	    rule_phase_name(r->phase), rule_action_name(r->action));
	if (r->reply != NULL)
		print_reply(out, cfg, r->reply);
	else if (rp != NULL)
		fprintf(out, "  %-11s replies.%s at %s (below)\n", "reply:",
		    rule_action_name(r->action),
		    sr_phase_name(rule_phase_sr(r->phase)));
}

void conftest_print(FILE *out, const struct conf *cfg, const char *socket,
		    const char *user)
{
	size_t per[RULE_PHASE__COUNT] = { 0 }, i;
	int ph, k;

	for (i = 0; i < cfg->rules.nrules; i++)
		per[cfg->rules.rules[i]->phase]++;
	fprintf(out, "%s: configuration ok: %zu rule%s", cfg->file != NULL ?
	    cfg->file : "built-in defaults", cfg->rules.nrules,
	    cfg->rules.nrules == 1 ? "" : "s");
	for (ph = 0, k = 0; ph < RULE_PHASE__COUNT; ph++)
		if (per[ph] > 0)
			fprintf(out, "%s%s %zu", k++ == 0 ? " (" : ", ",
			    rule_phase_name((enum rule_phase)ph), per[ph]);
	fprintf(out, "%s\n", k > 0 ? ")" : "");
	fprintf(out, "socket %s, user %s, on_error %s, audit_mta_rejects %s, "
	    "utf8 %s%s\n", socket, user != NULL ? user : "(none)",
	    cfg->on_error == CONF_ON_ERROR_ACCEPT ? "accept" : "tempfail",
	    cfg->audit_mta_rejects ? "yes" : "no", cfg->utf8 ? "yes" : "no",
	    cfg->accept_missing_code ? ", accept_missing_code yes" : "");
	fprintf(out, "sessions: at most %u at once, closed after %u s of "
	    "silence\n", cfg->max_sessions, cfg->session_timeout);
	if (cfg->filter.socket != NULL)
		fprintf(out, "reply filter: socket %s, maps reject and reply, "
		    "max_connections %u\n", cfg->filter.socket,
		    cfg->filter.max_connections);
	fputc('\n', out);
	for (i = 0; i < cfg->rules.nrules; i++)
		print_rule(out, cfg, cfg->rules.rules[i]);
	for (k = 0; k < 2; k++) {
		struct reply *const *set = k == 0 ? cfg->reject :
		    cfg->tempfail;
		const struct reply *base = set[SR_PHASE_OTHER];

		if (base == NULL)
			continue;
		fprintf(out, "replies.%s (%s):\n", k == 0 ? "reject" : "tempfail",
		    base->file != NULL ? "configured" : "built in");
		print_reply(out, cfg, base);
		for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
			const struct reply *rp = set[ph];

			if (rp == NULL || ph == SR_PHASE_OTHER ||
			    (rp->norm.wire_len == base->norm.wire_len &&
			    memcmp(rp->norm.wire, base->norm.wire,
			    base->norm.wire_len) == 0))
				continue;
			fprintf(out, "  at %s:\n", sr_phase_name((enum sr_phase)ph));
			print_lines(out, "sent as:", rp->norm.wire,
			    rp->norm.wire_len);
		}
	}
}

/*
 * A configured reply whose basic code the engine had to recover ("5.7.1
 * Access denied"): a person forgot it. One message on ERR; 1, or 0.
 */
static int strict_reply(FILE *err, const struct conf *cfg,
			const struct reply *rp, const char *what)
{
	char from[1024], to[1024];
	size_t i;

	if (rp == NULL || rp->is_reason || cfg->accept_missing_code ||
	    rp->file == NULL)
		return 0;
	for (i = 0; i < rp->norm.nchanges; i++) {
		if (rp->norm.changes[i].id != SR_D_CODE_MISSING)
			continue;
		log_quote(from, sizeof(from), rp->tmpl.text, rp->tmpl.len);
		log_quote(to, sizeof(to), rp->norm.wire, rp->norm.wire_len);
		fprintf(err, "%s:%u: %s: reply \"%s\" has no basic code; it "
		    "would be sent as \"%s\" (write the code, or set "
		    "normalize.accept_missing_code = true)\n", rp->file,
		    rp->line, what, from, to);
		return 1;
	}
	return 0;
}

int conftest_strict(FILE *err, const struct conf *cfg)
{
	char what[128];
	int n = 0, ph;
	size_t i;

	for (i = 0; i < cfg->rules.nrules; i++) {
		snprintf(what, sizeof(what), "rule '%s'", cfg->rules.rules[i]->name);
		n += strict_reply(err, cfg, cfg->rules.rules[i]->reply, what);
	}
	/* The replies block is normalized once per phase: report it once. */
	for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
		if (strict_reply(err, cfg, cfg->reject[ph], "replies.reject")) {
			n++;
			break;
		}
	}
	for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
		if (strict_reply(err, cfg, cfg->tempfail[ph], "replies.tempfail")) {
			n++;
			break;
		}
	}
	if (n > 0)
		fprintf(err, "%s: %d repl%s without a basic code\n", cfg->file !=
		    NULL ? cfg->file : "built-in defaults", n, n == 1 ? "y" : "ies");
	return n;
}

static void log_reply_changes(const struct reply *rp, const char *what)
{
	char from[1024], to[1024];
	size_t i;

	if (rp == NULL || rp->is_reason)
		return;
	for (i = 0; i < rp->norm.nchanges; i++) {
		const struct sr_change *c = &rp->norm.changes[i];

		log_quote(from, sizeof(from), rp->tmpl.text, rp->tmpl.len);
		log_quote(to, sizeof(to), rp->norm.wire, rp->norm.wire_len);
		log_msg(LOG_NOTICE, "config: %s (%s:%u): %s %s -> %s: "
		    "\"%s\" is sent as \"%s\"", what, rp->file != NULL ? rp->file :
		    "built-in", rp->line, sr_diag_name(c->id), c->before,
		    c->after, from, to);
	}
}

void conftest_log_changes(const struct conf *cfg)
{
	char what[128];
	size_t i;
	int ph;

	for (i = 0; i < cfg->rules.nrules; i++) {
		snprintf(what, sizeof(what), "rule '%s'", cfg->rules.rules[i]->name);
		log_reply_changes(cfg->rules.rules[i]->reply, what);
	}
	for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
		snprintf(what, sizeof(what), "replies.reject at %s",
		    sr_phase_name((enum sr_phase)ph));
		log_reply_changes(cfg->reject[ph], what);
		snprintf(what, sizeof(what), "replies.tempfail at %s",
		    sr_phase_name((enum sr_phase)ph));
		log_reply_changes(cfg->tempfail[ph], what);
	}
}
