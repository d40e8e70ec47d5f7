/*
 * SPDX-License-Identifier: ISC
 * session.c - per-connection state, rules per phase, verdicts and replies.
 *
 * Flow of one verdict: rules_match() picks the rule; apply() turns its
 * action into a status; for reject and tempfail reply_send() (reply.c)
 * takes the configured reply as normalized at load time, or renders it
 * with this session's values, escapes it for libmilter and sets it;
 * log_verdict() writes one line with everything an operator greps for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mtareject.h"
#include "reply.h"
#include "session.h"

#define QID_MAX 64

struct session {
	struct conf *cfg;		/* own reference */
	struct counters *ctr;
	unsigned long offered, steps;	/* negotiated protocol steps */

	/*
	 * The connection. Client values are kept whole (heap copies): the
	 * rules judge the value the MTA sent, however long; only what goes
	 * into a reply or a log line is cut.
	 */
	char client_addr[64];
	char *client_name;		/* never NULL */
	char *helo;			/* never NULL */
	bool have_helo;
	bool accepted;			/* accept at connect/helo: rules done */
	char *quarantine_conn;		/* connect/helo quarantine: every message */

	/* The message. */
	char qid[QID_MAX];
	char *sender;			/* never NULL */
	bool have_sender;
	char *rcpt;			/* never NULL */
	bool have_rcpt;
	unsigned nrcpt;
	bool msg_accepted;		/* accept in a message phase */
	char *quarantine_msg;		/* reason to apply at end of message */

	/* The header being looked at (header phase only, not owned). */
	const char *header_name;
	const char *header_value;

	/* Proxy children (proxy.c); NULL without "milters". */
	struct proxy *proxy;
	char sock_family;		/* SMFIA_*, for the children */
	unsigned sock_port;
	const char *const *esmtp_argv;	/* MAIL/RCPT arguments, this step */
};

/* The value slots start as this (never written, never freed). */
static char empty_value[1] = "";

static const char *const status_names[] = {
	"continue", "accept", "reject", "tempfail", "discard"
};

const char *session_status_name(enum session_status st)
{
	return (unsigned)st <= SESSION_DISCARD ? status_names[st] : "?";
}

/* Copy a client value, bounded; NULL becomes "". */
static void copy_value(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

/*
 * Keep the whole of client value SRC in *SLOT (NULL becomes ""). Returns
 * 0, or -1 when memory ran out (*SLOT is then "").
 */
static int keep_value(char **slot, const char *src)
{
	char *v = NULL;

	if (src != NULL && *src != '\0' && (v = strdup(src)) == NULL) {
		if (*slot != empty_value)
			free(*slot);
		*slot = empty_value;
		return -1;
	}
	if (*slot != empty_value)
		free(*slot);
	*slot = v != NULL ? v : empty_value;
	return 0;
}

static void drop_value(char **slot)
{
	if (*slot != empty_value)
		free(*slot);
	*slot = empty_value;
}

struct session *session_new(struct conf *cfg, struct counters *ctr)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		conf_unref(cfg);
		return NULL;
	}
	s->cfg = cfg;
	s->ctr = ctr;
	s->client_name = s->helo = s->sender = s->rcpt = empty_value;
	s->sock_family = SMFIA_UNKNOWN;
	counters_inc(&ctr->sessions);
	/* Children are connected and negotiated now, before the MTA is
	 * told which steps and actions to offer. */
	if (cfg->proxy.n > 0 && (s->proxy = proxy_open(&cfg->proxy)) == NULL)
		log_msg(LOG_ERR, "out of memory for the proxy children: on_error "
		    "applies at each step");
	return s;
}

static void message_reset(struct session *s)
{
	s->qid[0] = '\0';
	drop_value(&s->sender);
	s->have_sender = false;
	drop_value(&s->rcpt);
	s->have_rcpt = false;
	s->nrcpt = 0;
	s->msg_accepted = false;
	free(s->quarantine_msg);
	s->quarantine_msg = NULL;
	s->header_name = s->header_value = NULL;
}

void session_free(struct session *s)
{
	if (s == NULL)
		return;
	message_reset(s);
	drop_value(&s->client_name);
	drop_value(&s->helo);
	free(s->quarantine_conn);
	proxy_close(s->proxy);
	conf_unref(s->cfg);
	free(s);
}

const struct conf *session_config(const struct session *s)
{
	return s->cfg;
}

void session_adopt_config(struct session *s, struct conf *cfg)
{
	struct conf *old = s->cfg;

	s->cfg = cfg;
	conf_unref(old);
}

void session_set_steps(struct session *s, unsigned long offered,
		       unsigned long steps)
{
	s->offered = offered;
	s->steps = steps;
}

unsigned long session_steps(const struct session *s, unsigned long *offered)
{
	if (offered != NULL)
		*offered = s->offered;
	return s->steps;
}

/* Read the queue id once the MTA has one (Postfix: after a valid RCPT). */
static void refresh_qid(struct session *s, const struct mta *m)
{
	const char *q;

	if (s->qid[0] != '\0')
		return;
	q = m->ops->getsymval(m->ctx, "i");
	if (q != NULL)
		copy_value(s->qid, sizeof(s->qid), q);
}

/* ---- logging ---------------------------------------------------------- */

/*
 * " from=<...> to=<...>" etc. for the phase; every value a log field
 * (bare when it is a plain token, else quoted and escaped).
 */
static void describe(const struct session *s, enum rule_phase ph, char *buf,
		     size_t size)
{
	char v[SESSION_LOG_VALUE_MAX + 80], f[2 * SESSION_LOG_VALUE_MAX];
	const char *name = s->client_name;
	size_t n;

	/* The MTA names an unresolved client "[192.0.2.1]": "unknown", as
	 * Postfix logs it. */
	if (name[0] == '[' || name[0] == '\0')
		name = "unknown";
	snprintf(v, sizeof(v), "%.*s[%s]", SESSION_LOG_VALUE_MAX, name,
	    s->client_addr[0] ? s->client_addr : "unknown");
	snprintf(buf, size, "client=%s", log_field(f, sizeof(f), v, strlen(v)));
	n = strlen(buf);
	if (ph == RULE_PHASE_HELO && s->have_helo && n < size) {
		snprintf(v, sizeof(v), "<%.*s>", SESSION_LOG_VALUE_MAX, s->helo);
		snprintf(buf + n, size - n, " helo=%s",
		    log_field(f, sizeof(f), v, strlen(v)));
		n += strlen(buf + n);
	}
	if (ph >= RULE_PHASE_MAIL && s->have_sender && n < size) {
		snprintf(buf + n, size - n, " from=%s", log_field(f, sizeof(f),
		    s->sender, strnlen(s->sender, SESSION_LOG_VALUE_MAX)));
		n += strlen(buf + n);
	}
	if (ph == RULE_PHASE_RCPT && s->have_rcpt && n < size) {
		snprintf(buf + n, size - n, " to=%s", log_field(f, sizeof(f),
		    s->rcpt, strnlen(s->rcpt, SESSION_LOG_VALUE_MAX)));
		n += strlen(buf + n);
	}
	if (ph > RULE_PHASE_RCPT && n < size)
		snprintf(buf + n, size - n, " nrcpt=%u", s->nrcpt);
}

/* "id before -> after, ..." for the log, "" when nothing changed. */
static void describe_changes(const struct sr_normalized *norm, char *buf,
			     size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; norm != NULL && i < norm->nchanges && o < size; i++) {
		const struct sr_change *c = &norm->changes[i];
		int k = snprintf(buf + o, size - o, "%s%s %s -> %s",
		    i > 0 ? ", " : "", sr_diag_name(c->id), c->before, c->after);

		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

static void log_verdict(const struct session *s, enum rule_phase ph,
			const struct rule *r, const struct sr_normalized *norm,
			const char *reason)
{
	char who[4 * SESSION_LOG_VALUE_MAX + 200], reply[1200], changes[600];

	describe(s, ph, who, sizeof(who));
	if (norm != NULL) {
		log_quote(reply, sizeof(reply), norm->wire, norm->wire_len);
		describe_changes(norm, changes, sizeof(changes));
		if (changes[0] != '\0')
			log_qid(LOG_INFO, s->qid, "phase=%s %s rule=%s action=%s "
			    "reply=\"%s\" normalized=\"%s\"", rule_phase_name(ph),
			    who, r->name, rule_action_name(r->action), reply,
			    changes);
		else
			log_qid(LOG_INFO, s->qid, "phase=%s %s rule=%s action=%s "
			    "reply=\"%s\"", rule_phase_name(ph), who, r->name,
			    rule_action_name(r->action), reply);
	} else if (reason != NULL) {
		log_quote(reply, sizeof(reply), reason, strlen(reason));
		log_qid(LOG_INFO, s->qid, "phase=%s %s rule=%s action=%s "
		    "reason=\"%s\"", rule_phase_name(ph), who, r->name,
		    rule_action_name(r->action), reply);
	} else {
		log_qid(LOG_INFO, s->qid, "phase=%s %s rule=%s action=%s",
		    rule_phase_name(ph), who, r->name,
		    rule_action_name(r->action));
	}
}

/*
 * Count the changes of a reply sent, and log a configured non-standard
 * code with the meaning servers give it.
 */
static void note_changes(const struct session *s, const struct rule *r,
			 const struct sr_normalized *norm)
{
	size_t i;

	for (i = 0; i < norm->nchanges; i++) {
		const struct sr_change *c = &norm->changes[i];
		const struct sr_basic_info *b;
		unsigned code;
		int v;

		counters_inc(&s->ctr->normalized[c->id]);
		if (c->id != SR_D_CODE_NONSTANDARD && c->id != SR_D_CODE_SYNTAX)
			continue;
		if ((v = sr_code_parse(c->before, strnlen(c->before,
		    sizeof(c->before)))) < 0)
			continue;
		code = (unsigned)v;
		counters_inc(&s->ctr->nonstandard[code]);
		b = sr_registry_basic(code);
		log_qid(LOG_NOTICE, s->qid, "rule=%s reply code %03u: %s (not an "
		    "RFC 5321 code), sent as %s%s%s", r->name, code,
		    b != NULL ? b->meaning : "no known meaning", norm->code,
		    norm->enhanced[0] ? " " : "", norm->enhanced);
	}
}

/* ---- replies and internal failures ------------------------------------ */

/* The values a reply's variables stand for in this session (rule R). */
static void fill_values(const struct session *s, const struct rule *r,
			struct template_values *v)
{
	memset(v, 0, sizeof(*v));
	v->v[TEMPLATE_CLIENT_ADDR] = s->client_addr;
	v->v[TEMPLATE_CLIENT_NAME] = s->client_name;
	v->v[TEMPLATE_HELO] = s->helo;
	v->v[TEMPLATE_SENDER] = s->sender;
	v->v[TEMPLATE_RCPT] = s->rcpt;
	v->v[TEMPLATE_QUEUE_ID] = s->qid;
	v->v[TEMPLATE_RULE] = r != NULL ? r->name : "";
}

/*
 * The verdict for internal failure WHAT at PHASE: on_error of CFG,
 * counted and logged. In session S a tempfail verdict carries the
 * configured tempfail reply of PHASE; without a session (no memory for
 * one) there are no values for it, and the MTA sends its own.
 */
static enum session_status fail(const struct conf *cfg, struct counters *ctr,
				const struct session *s, const struct mta *m,
				enum sr_phase phase, const char *what)
{
	const char *qid = s != NULL ? s->qid : NULL;
	struct template_values v;
	struct reply_sent sent;

	if ((unsigned)phase >= SR_PHASE__COUNT)
		phase = SR_PHASE_OTHER;
	counters_inc(&ctr->internal_errors);
	if (cfg->on_error == CONF_ON_ERROR_ACCEPT) {
		log_qid(LOG_ERR, qid, "internal error at %s: %s; on_error=accept: "
		    "continuing", sr_phase_name(phase), what);
		return SESSION_CONTINUE;
	}
	log_qid(LOG_ERR, qid, "internal error at %s: %s; on_error=tempfail",
	    sr_phase_name(phase), what);
	if (s != NULL) {
		fill_values(s, NULL, &v);
		(void)reply_send(cfg, cfg->tempfail[phase], &v, m, qid, NULL,
		    &sent);
		reply_sent_release(&sent);
	}
	return SESSION_TEMPFAIL;
}

enum session_status session_fail(const struct conf *cfg,
				 struct counters *ctr, const struct mta *m,
				 enum sr_phase phase, const char *what)
{
	return fail(cfg, ctr, NULL, m, phase, what);
}

static enum session_status internal_error(struct session *s,
					  const struct mta *m,
					  enum rule_phase ph, const char *what)
{
	return fail(s->cfg, s->ctr, s, m, rule_phase_sr(ph), what);
}

/* ---- verdicts --------------------------------------------------------- */

static enum session_status apply_quarantine(struct session *s,
					    const struct mta *m,
					    enum rule_phase ph,
					    const struct rule *r)
{
	struct template_values v;
	char *reason;

	fill_values(s, r, &v);
	if ((reason = reply_reason(r->reply, &v, r->name)) == NULL)
		return internal_error(s, m, ph, "out of memory");
	log_verdict(s, ph, r, NULL, reason);
	if (ph == RULE_PHASE_EOM) {
		if (m->ops->quarantine(m->ctx, reason) != 0)
			log_qid(LOG_ERR, s->qid, "rule=%s: the MTA refused to "
			    "quarantine the message", r->name);
		free(reason);
	} else if (ph == RULE_PHASE_CONNECT || ph == RULE_PHASE_HELO) {
		free(s->quarantine_conn);
		s->quarantine_conn = reason;
	} else {
		free(s->quarantine_msg);
		s->quarantine_msg = reason;
	}
	return SESSION_CONTINUE;
}

static enum session_status apply(struct session *s, const struct mta *m,
				 enum rule_phase ph, const struct rule *r)
{
	struct template_values v;
	struct reply_sent sent;
	enum session_status st;

	counters_inc(&s->ctr->verdicts[r->action]);
	counters_inc(&s->ctr->verdicts_by_phase[ph][r->action]);
	switch (r->action) {
	case RULE_ACCEPT:
		if (ph == RULE_PHASE_CONNECT || ph == RULE_PHASE_HELO)
			s->accepted = true;
		else
			s->msg_accepted = true;
		log_verdict(s, ph, r, NULL, NULL);
		/*
		 * An accepted message skips the end of message, where a
		 * quarantine decided earlier is applied: with one pending, no
		 * later rule runs, but the MTA is told to go on.
		 */
		if (s->quarantine_msg != NULL || s->quarantine_conn != NULL)
			return SESSION_CONTINUE;
		return SESSION_ACCEPT;
	case RULE_DISCARD:
		log_verdict(s, ph, r, NULL, NULL);
		return SESSION_DISCARD;
	case RULE_QUARANTINE:
		return apply_quarantine(s, m, ph, r);
	case RULE_REJECT:
	case RULE_TEMPFAIL:
		break;
	default:
		return SESSION_CONTINUE;
	}
	st = r->action == RULE_REJECT ? SESSION_REJECT : SESSION_TEMPFAIL;
	fill_values(s, r, &v);
	if (reply_send(s->cfg, conf_rule_reply(s->cfg, r), &v, m, s->qid,
	    r->name, &sent) != 0) {
		reply_sent_release(&sent);
		return internal_error(s, m, ph, "reply could not be rendered");
	}
	counters_reply(s->ctr, ph, sent.norm->code, sent.norm->enhanced);
	log_verdict(s, ph, r, sent.norm, NULL);
	note_changes(s, r, sent.norm);
	reply_sent_release(&sent);
	return st;
}

/* A "continue" rule matched: log it, the search goes on. */
struct continue_ctx {
	const struct session *s;
	enum rule_phase ph;
};

static void on_continue(void *ctx, const struct rule *r)
{
	const struct continue_ctx *cc = ctx;

	counters_inc(&cc->s->ctr->verdicts[RULE_CONTINUE]);
	counters_inc(&cc->s->ctr->verdicts_by_phase[cc->ph][RULE_CONTINUE]);
	log_verdict(cc->s, cc->ph, r, NULL, NULL);
}

/*
 * A rule could not be evaluated. The error names the rule. With
 * on_error = "accept" the rule counts as not matching and the later rules
 * of the phase still run (a reject after it still rejects); with
 * "tempfail" the search stops and the phase answers tempfail.
 */
static bool on_rule_error(void *ctx, const struct rule *r, const char *why)
{
	const struct continue_ctx *cc = ctx;
	const struct session *s = cc->s;
	bool go_on = s->cfg->on_error == CONF_ON_ERROR_ACCEPT;

	if (go_on)	/* else counted where the tempfail is answered */
		counters_inc(&s->ctr->internal_errors);
	log_qid(LOG_ERR, s->qid, "phase=%s rule=%s (line %u) could not be "
	    "evaluated: %s; on_error=%s: %s", rule_phase_name(cc->ph), r->name,
	    r->line, why, go_on ? "accept" : "tempfail", go_on ?
	    "the rule counts as not matching, the next rules run" :
	    "the message is tempfailed");
	return go_on;
}

static enum session_status run_rules(struct session *s, const struct mta *m,
				     enum rule_phase ph)
{
	const struct rule_set *rs = &s->cfg->rules;
	struct continue_ctx cc = { s, ph };
	struct rules_session view;
	const struct rule *r = NULL;
	int rc;

	refresh_qid(s, m);
	if (s->accepted || s->msg_accepted || rs->nby_phase[ph] == 0)
		return SESSION_CONTINUE;
	memset(&view, 0, sizeof(view));
	view.client_addr = s->client_addr[0] ? s->client_addr : NULL;
	view.client_name = s->client_name;
	view.helo = s->have_helo ? s->helo : NULL;
	view.sender = s->have_sender ? s->sender : NULL;
	view.rcpt = ph == RULE_PHASE_RCPT && s->have_rcpt ? s->rcpt : NULL;
	view.header_name = s->header_name;
	view.header_value = s->header_value;
	view.macro = m->ops->getsymval;
	view.macro_ctx = m->ctx;
	view.queue_id = s->qid;
	view.on_error = on_rule_error;
	view.error_ctx = &cc;
	rc = rules_match(rs, ph, &view, on_continue, &cc, &r);
	if (rc < 0 && r != NULL) {
		/* Logged by on_rule_error: the tempfail and its reply. */
		return internal_error(s, m, ph, "a rule could not be evaluated");
	}
	if (rc < 0)
		return internal_error(s, m, ph, "rules could not be evaluated "
		    "(out of memory)");
	if (rc == 0 || r == NULL) {
		log_qid(LOG_DEBUG, s->qid, "phase=%s: no rule decides (%zu tried)",
		    rule_phase_name(ph), rs->nby_phase[ph]);
		return SESSION_CONTINUE;
	}
	return apply(s, m, ph, r);
}

/* ---- proxy children (proxy.c) ------------------------------------------ */

/*
 * The step's MAIL/RCPT arguments for the children: the MTA's argv when
 * milter.c passed it (address first, then ESMTP arguments), else ONE.
 */
static void set_argv(struct session *s, struct proxy_event *ev,
		     const char *const *one)
{
	size_t n = 0;

	if (s->esmtp_argv != NULL) {
		while (s->esmtp_argv[n] != NULL && n < 64)
			n++;
		ev->argv = s->esmtp_argv;
		ev->argc = n;
	}
	if (n == 0) {
		ev->argv = one;
		ev->argc = one[0] != NULL ? 1 : 0;
	}
	s->esmtp_argv = NULL;
}

/*
 * After the rules (ST: their verdict), hand the step to the children,
 * unless the rules decided it. Our rules run first: they are the site's
 * own policy, cheaper than a round trip, and a reject by them spares the
 * children the work (as an earlier milter in Postfix's chain does).
 */
static enum session_status children(struct session *s, const struct mta *m,
				    enum rule_phase ph, enum sr_phase sph,
				    const struct proxy_event *ev,
				    enum session_status st)
{
	struct proxy_verdict v;
	struct sr_options o;
	enum session_status out;

	if (s->cfg->proxy.n == 0)
		return st;
	if (st != SESSION_CONTINUE && st != SESSION_ACCEPT)
		return st;
	if (s->proxy == NULL)
		return internal_error(s, m, ph, "no proxy state (out of memory)");
	refresh_qid(s, m);
	conf_sr_options(s->cfg, sph, &o);
	proxy_step(s->proxy, ev, m->ops->getsymval, m->ctx, &o, s->qid, &v);
	switch (v.result) {
	case PROXY_ACCEPT:
		/* Accept only when the rules are done with the session or
		 * message too, and nothing waits for the end of message. */
		if ((st == SESSION_ACCEPT || s->cfg->rules.nrules == 0) &&
		    s->quarantine_msg == NULL && s->quarantine_conn == NULL)
			return SESSION_ACCEPT;
		return SESSION_CONTINUE;
	case PROXY_DISCARD:
		return SESSION_DISCARD;
	case PROXY_REJECT:
	case PROXY_TEMPFAIL:
		break;
	default:
		return SESSION_CONTINUE;
	}
	out = v.result == PROXY_REJECT ? SESSION_REJECT : SESSION_TEMPFAIL;
	if (v.from_error)
		counters_inc(&s->ctr->internal_errors);
	if (v.has_reply) {
		(void)reply_send_normalized(m, &v.norm, out == SESSION_REJECT ?
		    RULE_REJECT : RULE_TEMPFAIL, s->qid);
	} else {
		/* No reply, one that could not be fixed, or on_error: the
		 * configured default reply of the class. */
		const struct reply *rp = out == SESSION_REJECT ?
		    s->cfg->reject[sph] : s->cfg->tempfail[sph];
		struct template_values vals;
		struct reply_sent sent;
		char child[200], reply[1200];

		fill_values(s, NULL, &vals);
		if (reply_send(s->cfg, rp, &vals, m, s->qid, v.child, &sent) == 0) {
			log_field(child, sizeof(child), v.child, strlen(v.child));
			log_quote(reply, sizeof(reply), sent.norm->wire,
			    sent.norm->wire_len);
			log_qid(LOG_INFO, s->qid, "child=%s step=%s %s: the "
			    "default reply \"%s\"", child,
			    mclient_step_name(ev->step), v.from_error ?
			    "on_error" : "verdict without a usable reply", reply);
		}
		reply_sent_release(&sent);
	}
	proxy_verdict_release(&v);
	return out;
}

/* The children's modifications, at end of message, in their order. */
static void apply_child_mods(struct session *s, const struct mta *m)
{
	size_t i, n = proxy_nmods(s->proxy);

	for (i = 0; i < n; i++) {
		const struct proxy_mod *md = proxy_mod_at(s->proxy, i);
		const struct mta_ops *op = m->ops;
		int rc = -1;

		switch (md->kind) {
		case MCLIENT_R_ADDHEADER:
			if (op->addheader != NULL)
				rc = op->addheader(m->ctx, md->a, md->b);
			break;
		case MCLIENT_R_INSHEADER:
			if (op->insheader != NULL)
				rc = op->insheader(m->ctx, (int)md->index, md->a,
				    md->b);
			break;
		case MCLIENT_R_CHGHEADER:
			if (op->chgheader != NULL)
				rc = op->chgheader(m->ctx, md->a, (int)md->index,
				    md->b[0] != '\0' ? md->b : NULL);
			break;
		case MCLIENT_R_ADDRCPT:
		case MCLIENT_R_ADDRCPT_PAR:
			if (op->addrcpt != NULL)
				rc = op->addrcpt(m->ctx, md->a, md->b);
			break;
		case MCLIENT_R_DELRCPT:
			if (op->delrcpt != NULL)
				rc = op->delrcpt(m->ctx, md->a);
			break;
		case MCLIENT_R_CHGFROM:
			if (op->chgfrom != NULL)
				rc = op->chgfrom(m->ctx, md->a, md->b);
			break;
		case MCLIENT_R_REPLBODY:
			if (op->replacebody != NULL)
				rc = op->replacebody(m->ctx, md->body,
				    md->body_len);
			break;
		case MCLIENT_R_QUARANTINE:
			rc = op->quarantine(m->ctx, md->a);
			break;
		default:
			break;
		}
		if (rc != 0) {
			char child[200];

			log_field(child, sizeof(child), md->child,
			    strlen(md->child));
			log_qid(LOG_ERR, s->qid, "child=%s: the MTA refused its %s",
			    child, mclient_reply_name(md->kind));
		}
	}
}

/* ---- the SMTP steps ---------------------------------------------------- */

enum session_status session_connect(struct session *s, const struct mta *m,
				    const char *hostname, const char *addr)
{
	struct proxy_event ev = { 0 };

	copy_value(s->client_addr, sizeof(s->client_addr), addr);
	if (keep_value(&s->client_name, hostname) != 0)
		return internal_error(s, m, RULE_PHASE_CONNECT, "out of memory");
	ev.step = MCLIENT_STEP_CONNECT;
	ev.hostname = hostname != NULL ? hostname : "";
	ev.family = s->client_addr[0] != '\0' ? s->sock_family : SMFIA_UNKNOWN;
	if (ev.family == SMFIA_UNKNOWN && s->client_addr[0] != '\0')
		ev.family = strchr(s->client_addr, ':') != NULL ? SMFIA_INET6 :
		    SMFIA_INET;
	ev.port = (uint16_t)s->sock_port;
	ev.addr = s->client_addr;
	return children(s, m, RULE_PHASE_CONNECT, SR_PHASE_MAIL, &ev,
	    run_rules(s, m, RULE_PHASE_CONNECT));
}

enum session_status session_helo(struct session *s, const struct mta *m,
				 const char *helo)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_HELO };

	if (keep_value(&s->helo, helo) != 0)
		return internal_error(s, m, RULE_PHASE_HELO, "out of memory");
	s->have_helo = true;
	ev.str = s->helo;
	return children(s, m, RULE_PHASE_HELO, SR_PHASE_MAIL, &ev,
	    run_rules(s, m, RULE_PHASE_HELO));
}

enum session_status session_mail(struct session *s, const struct mta *m,
				 const char *sender)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_MAIL };
	const char *one[1] = { sender };

	message_reset(s);
	proxy_new_message(s->proxy);
	counters_inc(&s->ctr->messages);
	if (keep_value(&s->sender, sender) != 0)
		return internal_error(s, m, RULE_PHASE_MAIL, "out of memory");
	s->have_sender = true;
	set_argv(s, &ev, one);
	return children(s, m, RULE_PHASE_MAIL, SR_PHASE_MAIL, &ev,
	    run_rules(s, m, RULE_PHASE_MAIL));
}

/* A recipient the MTA rejected itself: check its reply, log, count. */
static void audit_rejected(struct session *s, const struct mta *m,
			   const char *rcpt)
{
	const char *host = m->ops->getsymval(m->ctx, "{rcpt_host}");
	const char *addr = m->ops->getsymval(m->ctx, "{rcpt_addr}");
	char to[2 * SESSION_LOG_VALUE_MAX], reply[600], diags[1500];
	struct mtareject *a;
	size_t i, o = 0;

	if ((a = malloc(sizeof(*a))) == NULL) {
		counters_inc(&s->ctr->internal_errors);
		log_qid(LOG_ERR, s->qid, "audit: out of memory");
		return;
	}
	log_field(to, sizeof(to), rcpt != NULL ? rcpt : "",
	    rcpt != NULL ? strnlen(rcpt, SESSION_LOG_VALUE_MAX) : 0);
	if (mtareject_check(host, addr, rcpt, s->cfg->utf8, a) != 0) {
		log_qid(LOG_INFO, s->qid, "audit: mta rejected to=%s; the MTA "
		    "exposed no reply", to);
		free(a);
		return;
	}
	counters_inc(&s->ctr->audited);
	log_quote(reply, sizeof(reply), a->reply, a->len);
	diags[0] = '\0';
	for (i = 0; i < a->chk.ndiags && o < sizeof(diags); i++) {
		const struct sr_diag *d = &a->chk.diags[i];
		char msg[400];
		int k;

		counters_inc(&s->ctr->audited_diag[d->id]);
		sr_diag_format(d, msg, sizeof(msg));
		k = snprintf(diags + o, sizeof(diags) - o, "%s%s %s: %s",
		    i > 0 ? "; " : "", sr_severity_name(sr_diag_severity(d->id)),
		    sr_diag_name(d->id), msg);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= sizeof(diags))
		memcpy(diags + sizeof(diags) - 4, "...", 4);
	if (a->has_code && a->code >= 0 && a->code < 1000 &&
	    sr_check_find(&a->chk, SR_D_CODE_NONSTANDARD) != NULL) {
		const struct sr_basic_info *b = sr_registry_basic((unsigned)a->code);

		counters_inc(&s->ctr->audited_nonstandard[a->code]);
		log_qid(LOG_NOTICE, s->qid, "audit: mta reply code %03d: %s (not "
		    "an RFC 5321 code)", a->code, b != NULL ? b->meaning :
		    "no known meaning");
	}
	if (a->chk.ndiags > 0)
		counters_inc(&s->ctr->audited_bad);
	log_qid(a->chk.errors > 0 ? LOG_WARNING : LOG_INFO, s->qid,
	    "audit: mta rejected to=%s reply=\"%s\"%s diagnostics: %s", to,
	    reply, a->has_code ? "" : " (basic code not exposed by the MTA)",
	    a->chk.ndiags > 0 ? diags : "none");
	free(a);
}

enum session_status session_rcpt(struct session *s, const struct mta *m,
				 const char *rcpt)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_RCPT };
	const char *one[1] = { rcpt };
	enum session_status st;
	const char *mailer;

	refresh_qid(s, m);
	/* A recipient the MTA rejected itself (SMFIP_RCPT_REJ, asked for the
	 * audit or for a child): audited and handed to the children that
	 * want it; our answer would be ignored. */
	mailer = m->ops->getsymval(m->ctx, "{rcpt_mailer}");
	if (mailer != NULL && strcmp(mailer, "error") == 0 &&
	    (s->cfg->audit_mta_rejects || (s->steps & SMFIP_RCPT_REJ) != 0)) {
		if (s->cfg->audit_mta_rejects)
			audit_rejected(s, m, rcpt);
		if (s->proxy != NULL) {
			set_argv(s, &ev, one);
			proxy_rejected_rcpt(s->proxy, &ev, m->ops->getsymval,
			    m->ctx, s->qid);
		}
		return SESSION_CONTINUE;
	}
	if (keep_value(&s->rcpt, rcpt) != 0)
		return internal_error(s, m, RULE_PHASE_RCPT, "out of memory");
	s->have_rcpt = true;
	set_argv(s, &ev, one);
	st = children(s, m, RULE_PHASE_RCPT, SR_PHASE_RCPT, &ev,
	    run_rules(s, m, RULE_PHASE_RCPT));
	if (st == SESSION_CONTINUE || st == SESSION_ACCEPT)
		s->nrcpt++;	/* recipients the rules let through */
	return st;
}

enum session_status session_data(struct session *s, const struct mta *m)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_DATA };

	return children(s, m, RULE_PHASE_DATA, SR_PHASE_DATA, &ev,
	    run_rules(s, m, RULE_PHASE_DATA));
}

enum session_status session_header(struct session *s, const struct mta *m,
				   const char *name, const char *value)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_HEADER };
	enum session_status st;

	s->header_name = name;
	s->header_value = value != NULL ? value : "";
	st = run_rules(s, m, RULE_PHASE_HEADER);
	ev.name = name != NULL ? name : "";
	ev.value = s->header_value;
	st = children(s, m, RULE_PHASE_HEADER, SR_PHASE_EOM, &ev, st);
	s->header_name = s->header_value = NULL;
	return st;
}

enum session_status session_eom(struct session *s, const struct mta *m)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_EOM };
	enum session_status st = run_rules(s, m, RULE_PHASE_EOM);
	const char *reason;

	st = children(s, m, RULE_PHASE_EOM, SR_PHASE_EOM, &ev, st);
	if (st != SESSION_CONTINUE && st != SESSION_ACCEPT)
		return st;
	apply_child_mods(s, m);
	reason = s->quarantine_msg != NULL ? s->quarantine_msg :
	    s->quarantine_conn;
	if (reason != NULL && m->ops->quarantine(m->ctx, reason) != 0)
		log_qid(LOG_ERR, s->qid, "the MTA refused to quarantine the "
		    "message");
	return st;
}

void session_abort(struct session *s)
{
	if (s != NULL) {
		message_reset(s);
		proxy_abort(s->proxy);
	}
}

/* ---- steps only proxy children take ------------------------------------ */

enum session_status session_eoh(struct session *s, const struct mta *m)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_EOH };

	return children(s, m, RULE_PHASE_EOM, SR_PHASE_EOM, &ev,
	    SESSION_CONTINUE);
}

enum session_status session_body(struct session *s, const struct mta *m,
				 const unsigned char *chunk, size_t len)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_BODY };
	size_t off = 0;

	/* The MTA's chunks are at most 64 KiB; cut anyway. */
	do {
		enum session_status st;

		ev.body = chunk + off;
		ev.body_len = len - off > MCLIENT_BODY_CHUNK ?
		    MCLIENT_BODY_CHUNK : len - off;
		off += ev.body_len;
		st = children(s, m, RULE_PHASE_EOM, SR_PHASE_EOM, &ev,
		    SESSION_CONTINUE);
		if (st != SESSION_CONTINUE)
			return st;
	} while (off < len);
	return SESSION_CONTINUE;
}

enum session_status session_unknown(struct session *s, const struct mta *m,
				    const char *line)
{
	struct proxy_event ev = { .step = MCLIENT_STEP_UNKNOWN };

	ev.str = line != NULL ? line : "";
	return children(s, m, RULE_PHASE_CONNECT, SR_PHASE_OTHER, &ev,
	    SESSION_CONTINUE);
}

void session_set_client_socket(struct session *s, char family, unsigned port)
{
	s->sock_family = family;
	s->sock_port = port;
}

void session_set_esmtp_args(struct session *s, const char *const *argv)
{
	s->esmtp_argv = argv;
}

uint32_t session_proxy_actions(const struct session *s)
{
	return proxy_actions(s->proxy);
}

bool session_proxy_wants(const struct session *s, enum mclient_step st)
{
	return proxy_wants(s->proxy, st);
}

bool session_proxy_wants_rejected(const struct session *s)
{
	return proxy_wants_rejected(s->proxy);
}

void session_proxy_symlists(const struct session *s, proxy_symlist_fn fn,
			    void *ctx)
{
	proxy_each_symlist(s->proxy, fn, ctx);
}
