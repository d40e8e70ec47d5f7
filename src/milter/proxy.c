/*
 * SPDX-License-Identifier: ISC
 * proxy.c - the children behind smtpreply-milter: connect, negotiate,
 * hand each step on, judge and normalize what they answer. See proxy.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proxy.h"
#include "symlist.h"

/* What the modifications of one message may add up to (bodies included):
 * a child asking for more is broken. */
#define PROXY_MODS_BYTES_MAX (64u * 1024u * 1024u)

/*
 * Headers, the end of headers and body chunks are pipelined: sent to a
 * child without waiting for its answer, the answers read before the next
 * step that waits (end of message, abort, the next MAIL). A verdict at a
 * header or body chunk reaches the client only after the final dot in
 * any case (the MTA keeps it until then), so nothing the client sees
 * changes, and a message with N headers and B chunks costs one round trip
 * instead of N + B + 1. Over TCP the answers are read with immediate
 * ACKs (mchild_ack_now). At most this many answers are left unread; then
 * they are read before the next step is sent.
 */
#define PROXY_PIPELINE_MAX 128

/* The reply to a child's SMFIR_SHUTDOWN or SMFIR_CONN_FAIL (Postfix's). */
#define PROXY_SHUTDOWN_REPLY "421 4.7.0 Server closing connection"

static const char step_cmd[MCLIENT_STEP__COUNT] = {
	SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA,
	SMFIC_UNKNOWN, SMFIC_HEADER, SMFIC_EOH, SMFIC_BODY, SMFIC_BODYEOB
};

struct proxy_child {
	const struct proxy_child_conf *conf;
	struct mchild_conn conn;
	struct mclient_state st;
	struct mclient_neg neg;
	bool up;		/* connected, negotiated, healthy */
	bool dead;		/* failed in this connection: on_error */
	bool in_msg;		/* has seen MAIL of the current message */
	bool accepted;		/* accepted the connection or the message */
	/* Negotiated from the memo: the child's own answer is still to
	 * be read (finish_negotiation) before anything else is. */
	bool neg_pending;
	/* Headers and end of headers sent without waiting for the answer
	 * (see proxy_step): the steps whose answers are still to read. */
	unsigned char pend_step[PROXY_PIPELINE_MAX];
	unsigned npend;
};

struct proxy {
	const struct proxy_conf *conf;
	struct proxy_child *c;
	size_t n;
	struct proxy_mod *mods;
	size_t nmods, capmods;
	size_t mods_bytes;
};

/* What asking one child one step gave. */
enum child_outcome { CO_FINAL, CO_NOREPLY, CO_FAILED };

static enum child_outcome drain_child(struct proxy_child *c, const char *qid,
				      struct mclient_reply *fin,
				      char **reply_text);

static const char *const on_error_names[] = { "tempfail", "accept", "reject" };

const char *proxy_on_error_name(enum proxy_on_error e)
{
	return (unsigned)e <= PROXY_ON_ERROR_REJECT ? on_error_names[e] : "?";
}

static const char *const result_names[] = {
	"continue", "accept", "reject", "tempfail", "discard"
};

const char *proxy_result_name(enum proxy_result r)
{
	return (unsigned)r <= PROXY_DISCARD ? result_names[r] : "?";
}

void proxy_conf_free(struct proxy_conf *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++) {
		free(pc->child[i].name);
		free(pc->child[i].socket);
		free(pc->child[i].ctr);
		if (pc->child[i].memo != NULL) {
			pthread_mutex_destroy(&pc->child[i].memo->lock);
			free(pc->child[i].memo);
		}
	}
	free(pc->child);
	pc->child = NULL;
	pc->n = 0;
}

struct proxy_child_memo *proxy_child_memo_new(void)
{
	struct proxy_child_memo *m = calloc(1, sizeof(*m));

	if (m != NULL && pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		m = NULL;
	}
	return m;
}

/* Copy the last negotiation of a child into *NEG: false when none. */
static bool memo_get(struct proxy_child_memo *m, struct mclient_neg *neg)
{
	bool ok = false;

	if (m == NULL)
		return false;
	pthread_mutex_lock(&m->lock);
	if (m->valid) {
		*neg = m->neg;
		ok = true;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static void memo_put(struct proxy_child_memo *m, const struct mclient_neg *neg)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->neg = *neg;
	m->valid = true;
	pthread_mutex_unlock(&m->lock);
}

void proxy_verdict_release(struct proxy_verdict *v)
{
	if (v->has_reply)
		sr_normalized_release(&v->norm);
	v->has_reply = false;
}

char *proxy_unescape_percent(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (r[0] == '%' && r[1] == '%')
			r++;
		*w++ = *r++;
	}
	*w = '\0';
	return s;
}

static void cinc(atomic_ulong *v)
{
	atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void note_latency(const struct proxy_child *c, long long us)
{
	struct proxy_child_counters *k = c->conf->ctr;
	unsigned long v = us > 0 ? (unsigned long)us : 0, max;

	atomic_fetch_add_explicit(&k->latency_us_total, v,
	    memory_order_relaxed);
	max = atomic_load_explicit(&k->latency_us_max, memory_order_relaxed);
	while (v > max && !atomic_compare_exchange_weak_explicit(
	    &k->latency_us_max, &max, v, memory_order_relaxed,
	    memory_order_relaxed))
		;
	cinc(&k->calls);
}

/* ---- failure ---------------------------------------------------------- */

static void child_fail(struct proxy_child *c, const char *qid,
		       enum mclient_step st, const char *what)
{
	char w[300], name[200];

	cinc(&c->conf->ctr->errors);
	if (!c->dead) {
		log_field(name, sizeof(name), c->conf->name,
		    strlen(c->conf->name));
		log_quote(w, sizeof(w), what, strlen(what));
		log_qid(LOG_WARNING, qid, "child=%s failed at %s: \"%s\"; "
		    "on_error=%s%s for the rest of this connection", name,
		    mclient_step_name(st), w,
		    proxy_on_error_name(c->conf->on_error),
		    c->conf->evaluate ? " (evaluate: not applied)" : "");
	}
	mchild_close(&c->conn);
	c->up = false;
	c->dead = true;
	c->in_msg = false;
}

/* ---- open / close ----------------------------------------------------- */

/* The same negotiation? (what the MTA was asked for depends on it) */
static bool same_negotiation(const struct mclient_neg *a,
			     const struct mclient_neg *b)
{
	int i;

	if (a->version != b->version || a->actions != b->actions ||
	    a->protocol != b->protocol)
		return false;
	for (i = 0; i < MCLIENT_MACRO_LISTS; i++)
		if (a->has_symlist[i] != b->has_symlist[i] ||
		    (a->has_symlist[i] && strcmp(a->symlist[i],
		    b->symlist[i]) != 0))
			return false;
	return true;
}

/* Read and check the child's answer to the SMFIC_OPTNEG sent. */
static int read_negotiation(struct proxy_child *c, struct mclient_neg *neg,
			    char *err, size_t errsize)
{
	const unsigned char *data;
	size_t len;
	char cmd;

	if (mchild_read(&c->conn, c->conf->command_ms, &cmd, &data, &len, err,
	    errsize) != 0)
		return -1;
	if (cmd != SMFIC_OPTNEG) {
		snprintf(err, errsize, "negotiation answered with command 0x%02x",
		    (unsigned char)cmd);
		return -1;
	}
	if (mclient_decode_optneg(data, len, MCLIENT_ACTIONS_ALL,
	    MCLIENT_PROTOCOL_ALL, neg, err, errsize) != 0)
		return -1;
	memo_put(c->conf->memo, neg);
	return 0;
}

/*
 * Connect child C and send it the negotiation. With a memo of its last
 * answer, the answer is read later (finish_negotiation) and the memo
 * stands for it meanwhile; else it is read now.
 */
static int negotiate(struct proxy_child *c, char *err, size_t errsize)
{
	if (mchild_connect(&c->conn, c->conf->socket, c->conf->connect_ms, err,
	    errsize) != 0)
		return -1;
	if (mclient_put_optneg(&c->conn.out, MCLIENT_VERSION,
	    MCLIENT_ACTIONS_ALL, MCLIENT_PROTOCOL_ALL) != 0 || mchild_flush(&c->conn, c->conf->command_ms, err, errsize)
	    != 0)
		return -1;
	if (memo_get(c->conf->memo, &c->neg))
		c->neg_pending = true;
	else if (read_negotiation(c, &c->neg, err, errsize) != 0)
		return -1;
	mclient_state_init(&c->st, &c->neg);
	return 0;
}

/*
 * Read the answer of a child negotiated from the memo. An answer that
 * differs from the memo (the child was reconfigured or replaced) is used
 * from now on, within the actions the MTA was asked for on the memo's
 * word: this connection's MTA was asked for what the memo said.
 */
static bool finish_negotiation(struct proxy_child *c, const char *qid,
			       enum mclient_step st)
{
	struct mclient_neg neg;
	char err[256];

	if (!c->neg_pending)
		return true;
	c->neg_pending = false;
	if (read_negotiation(c, &neg, err, sizeof(err)) != 0) {
		child_fail(c, qid, st, err);
		return false;
	}
	if (!same_negotiation(&neg, &c->neg)) {
		char name[200];

		log_field(name, sizeof(name), c->conf->name,
		    strlen(c->conf->name));
		log_qid(LOG_NOTICE, qid, "child=%s negotiates otherwise than "
		    "at its last connection (actions %#x -> %#x, steps %#x -> "
		    "%#x): used from now on, within what the MTA was asked for",
		    name, (unsigned)c->neg.actions, (unsigned)neg.actions,
		    (unsigned)c->neg.protocol, (unsigned)neg.protocol);
		neg.actions &= c->neg.actions;
		c->neg = neg;
		mclient_state_init(&c->st, &c->neg);
	}
	return true;
}

struct proxy *proxy_open(const struct proxy_conf *pc)
{
	struct proxy *p = calloc(1, sizeof(*p));
	size_t i;

	if (p == NULL)
		return NULL;
	p->conf = pc;
	p->n = pc->n;
	if (p->n > 0 && (p->c = calloc(p->n, sizeof(*p->c))) == NULL) {
		free(p);
		return NULL;
	}
	for (i = 0; i < p->n; i++) {
		struct proxy_child *c = &p->c[i];
		char err[256];
		long long t0 = now_us();

		c->conf = &pc->child[i];
		mchild_init(&c->conn);
		if (negotiate(c, err, sizeof(err)) != 0) {
			child_fail(c, NULL, MCLIENT_STEP_CONNECT, err);
			continue;
		}
		note_latency(c, now_us() - t0);
		c->up = true;
	}
	return p;
}

/*
 * Send a packet that gets no answer (QUIT, ABORT) to the children that
 * are up (and, with IN_MSG, in a message). A child that cannot take it
 * has failed when FAIL_AT is a step, else it is only closed.
 */
static void tell_children(struct proxy *p, int (*put)(struct mclient_buf *),
			  bool in_msg, int fail_at)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct proxy_child *c = &p->c[i];
		char err[128];

		if (!c->up || (in_msg && !c->in_msg))
			continue;
		if (fail_at >= 0 && !finish_negotiation(c, NULL,
		    (enum mclient_step)fail_at))
			continue;
		c->in_msg = false;
		if (c->npend > 0) {
			struct mclient_reply fin;
			char *text = NULL;

			if (fail_at < 0)
				c->npend = 0;	/* closing: nothing to read */
			else if (drain_child(c, NULL, &fin, &text) == CO_FAILED)
				continue;
			free(text);
		}
		if ((put(&c->conn.out) != 0 || mchild_flush(&c->conn,
		    c->conf->command_ms, err, sizeof(err)) != 0) && fail_at >= 0)
			child_fail(c, NULL, (enum mclient_step)fail_at,
			    "the abort could not be sent");
	}
}

void proxy_close(struct proxy *p)
{
	size_t i;

	if (p == NULL)
		return;
	tell_children(p, mclient_put_quit, false, -1);
	for (i = 0; i < p->n; i++)
		mchild_free(&p->c[i].conn);
	proxy_new_message(p);
	free(p->mods);
	free(p->c);
	free(p);
}

uint32_t proxy_actions(const struct proxy *p)
{
	uint32_t a = 0;
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (p->c[i].up && !p->c[i].conf->evaluate)
			a |= p->c[i].st.actions;
	return a & ~(uint32_t)SMFIF_SETSYMLIST;
}

bool proxy_wants(const struct proxy *p, enum mclient_step st)
{
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (p->c[i].up && (p->c[i].st.protocol &
		    (st == MCLIENT_STEP_HELO ? SMFIP_NOHELO :
		     st == MCLIENT_STEP_RCPT ? SMFIP_NORCPT :
		     st == MCLIENT_STEP_HEADER ? SMFIP_NOHDRS :
		     st == MCLIENT_STEP_EOH ? SMFIP_NOEOH :
		     st == MCLIENT_STEP_BODY ? SMFIP_NOBODY :
		     st == MCLIENT_STEP_UNKNOWN ? SMFIP_NOUNKNOWN :
		     st == MCLIENT_STEP_DATA ? SMFIP_NODATA :
		     st == MCLIENT_STEP_MAIL ? SMFIP_NOMAIL :
		     st == MCLIENT_STEP_CONNECT ? SMFIP_NOCONNECT : 0)) == 0)
			return true;
	return false;
}

/* ---- modifications ---------------------------------------------------- */

static void mod_free(struct proxy_mod *m)
{
	free(m->a);
	free(m->b);
	free(m->body);
}

void proxy_new_message(struct proxy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nmods; i++)
		mod_free(&p->mods[i]);
	p->nmods = 0;
	p->mods_bytes = 0;
	for (i = 0; i < p->n; i++) {
		mclient_state_new_message(&p->c[i].st);
		if (!p->c[i].st.conn_done)
			p->c[i].accepted = false;
	}
}

size_t proxy_nmods(const struct proxy *p)
{
	return p != NULL ? p->nmods : 0;
}

const struct proxy_mod *proxy_mod_at(const struct proxy *p, size_t i)
{
	return p != NULL && i < p->nmods ? &p->mods[i] : NULL;
}

/* A copy of S with control bytes made spaces (a quarantine reason). */
static char *clean_copy(const char *s)
{
	char *d = strdup(s), *q;

	for (q = d; q != NULL && *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
	return d;
}

/* Keep modification R of child C. -1: memory or over the bound. */
static int keep_mod(struct proxy *p, const struct proxy_child *c,
		    const struct mclient_reply *r)
{
	struct proxy_mod m;
	size_t bytes;

	memset(&m, 0, sizeof(m));
	m.kind = r->kind;
	m.child = c->conf->name;
	m.index = r->index;
	bytes = (r->text ? strlen(r->text) : 0) + (r->args ? strlen(r->args) : 0)
	    + (r->name ? strlen(r->name) : 0) + (r->value ? strlen(r->value) : 0)
	    + r->body_len + 16;
	if (bytes > PROXY_MODS_BYTES_MAX - p->mods_bytes)
		return -1;
	switch (r->kind) {
	case MCLIENT_R_ADDHEADER:
	case MCLIENT_R_INSHEADER:
	case MCLIENT_R_CHGHEADER:
		m.a = strdup(r->name);
		/* The MTA puts a space after the colon of what smtpreply-milter
		 * (no SMFIP_HDR_LEADSPC towards it) hands on; a child that
		 * negotiated the leading space wrote that space itself. */
		m.b = strdup(r->value + ((c->st.protocol & SMFIP_HDR_LEADSPC) != 0
		    && r->value[0] == ' ' ? 1 : 0));
		if (m.a == NULL || m.b == NULL)
			goto nomem;
		break;
	case MCLIENT_R_QUARANTINE:
		if ((m.a = clean_copy(r->text)) == NULL)
			goto nomem;
		break;
	case MCLIENT_R_ADDRCPT:
	case MCLIENT_R_DELRCPT:
	case MCLIENT_R_ADDRCPT_PAR:
	case MCLIENT_R_CHGFROM:
		if ((m.a = strdup(r->text)) == NULL ||
		    (r->args != NULL && (m.b = strdup(r->args)) == NULL))
			goto nomem;
		break;
	case MCLIENT_R_REPLBODY:
		if ((m.body = malloc(r->body_len > 0 ? r->body_len : 1)) == NULL)
			goto nomem;
		if (r->body_len > 0)
			memcpy(m.body, r->body, r->body_len);
		m.body_len = r->body_len;
		break;
	default:
		return -1;
	}
	if (p->nmods == p->capmods) {
		size_t cap = p->capmods ? p->capmods * 2 : 8;
		struct proxy_mod *nm = realloc(p->mods, cap * sizeof(*nm));

		if (nm == NULL)
			goto nomem;
		p->mods = nm;
		p->capmods = cap;
	}
	p->mods[p->nmods++] = m;
	p->mods_bytes += bytes;
	return 0;
nomem:
	mod_free(&m);
	return -1;
}

/* Drop the modifications from index FROM on (their child failed). */
static void drop_mods_from(struct proxy *p, size_t from)
{
	while (p->nmods > from)
		mod_free(&p->mods[--p->nmods]);
}

/* ---- sending a step --------------------------------------------------- */

/*
 * The macros of step ST for child C: those it named (SMFIR_SETSYMLIST),
 * else the MTAs' default lists for the stage (Postfix's and sendmail's:
 * each MTA knows only its own, the others are not sent), with the values
 * the MTA gave. Names are read as the MTAs read them (separated by
 * spaces, tabs or commas; "rcpt_addr" is "{rcpt_addr}"), each sent once.
 */
static int put_macros(struct proxy_child *c, enum mclient_step st,
		      proxy_macro_fn macro, void *ctx)
{
	int li = mclient_step_macro_index(st);
	const char *names[MCLIENT_MACROS_MAX], *values[MCLIENT_MACROS_MAX];
	char norm[MCLIENT_MACROS_MAX][SYMLIST_NAME_MAX + 1];
	char list[sizeof(c->neg.symlist[0]) + 2 * SYMLIST_BYTES_MAX];
	char *save = NULL, *tok;
	size_t n = 0, i;

	if (li < 0 || macro == NULL)
		return 0;
	if (c->neg.has_symlist[li])
		snprintf(list, sizeof(list), "%s", c->neg.symlist[li]);
	else
		snprintf(list, sizeof(list), "%s %s",
		    symlist_postfix_default(li) ? symlist_postfix_default(li) :
		    "", symlist_sendmail_default(li) ?
		    symlist_sendmail_default(li) : "");
	for (tok = strtok_r(list, " \t,", &save); tok != NULL &&
	    n < MCLIENT_MACROS_MAX; tok = strtok_r(NULL, " \t,", &save)) {
		const char *v;

		if (symlist_normalize(tok, strlen(tok), norm[n],
		    sizeof(norm[n])) < 0)
			continue;
		for (i = 0; i < n && strcmp(names[i], norm[n]) != 0; i++)
			;
		if (i < n || (v = macro(ctx, norm[n])) == NULL)
			continue;
		names[n] = norm[n];
		values[n++] = v;
	}
	if (n == 0)
		return 0;
	return mclient_put_macros(&c->conn.out, step_cmd[st], names, values, n);
}

static int put_step(struct proxy_child *c, const struct proxy_event *ev)
{
	struct mclient_buf *b = &c->conn.out;

	switch (ev->step) {
	case MCLIENT_STEP_CONNECT:
		return mclient_put_connect(b, ev->hostname, ev->family, ev->port,
		    ev->addr);
	case MCLIENT_STEP_HELO:
		return mclient_put_helo(b, ev->str);
	case MCLIENT_STEP_MAIL:
		return mclient_put_mail(b, ev->argv, ev->argc);
	case MCLIENT_STEP_RCPT:
		return mclient_put_rcpt(b, ev->argv, ev->argc);
	case MCLIENT_STEP_DATA:
		return mclient_put_data(b);
	case MCLIENT_STEP_UNKNOWN:
		return mclient_put_unknown(b, ev->str);
	case MCLIENT_STEP_HEADER:
		return mclient_put_header(b, ev->name, ev->value,
		    (c->st.protocol & SMFIP_HDR_LEADSPC) != 0);
	case MCLIENT_STEP_EOH:
		return mclient_put_eoh(b);
	case MCLIENT_STEP_BODY:
		return mclient_put_body(b, ev->body, ev->body_len);
	case MCLIENT_STEP_EOM:
		return mclient_put_eom(b);
	default:
		return -1;
	}
}

/* ---- judging a reply -------------------------------------------------- */

/* "id before -> after; ..." of N's changes, for a log line. */
static void changes_text(const struct sr_normalized *n, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n->nchanges && o + 1 < size; i++) {
		int k = snprintf(buf + o, size - o, "%s%s %s -> %s",
		    i ? ", " : "", sr_diag_name(n->changes[i].id),
		    n->changes[i].before, n->changes[i].after);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/*
 * Normalize the reply TEXT (REPLYCODE) of child C into V->norm; class
 * CLS ('4' or '5'). Logs and counts. Sets V->has_reply when it fits.
 */
static void judge_reply(const struct proxy_child *c, const char *text,
			char cls, const struct sr_options *opts,
			const char *qid, const char *stepname,
			struct proxy_verdict *v, const char *verdict)
{
	struct sr_reply r;
	char *copy = strdup(text);
	char name[200], orig[600], sent[1200], ch[600];
	size_t i;

	log_field(name, sizeof(name), c->conf->name, strlen(c->conf->name));
	log_quote(orig, sizeof(orig), text, strlen(text));
	if (copy != NULL)
		proxy_unescape_percent(copy);
	if (copy == NULL || sr_reply_parse(&r, copy, strlen(copy)) != 0) {
		free(copy);
		log_qid(LOG_ERR, qid, "child=%s: out of memory for its reply",
		    name);
		return;
	}
	sr_normalize(&r, opts, &v->norm);
	sr_reply_release(&r);
	free(copy);
	v->has_reply = true;
	if (v->norm.status != SR_NORM_OK || v->norm.code[0] != cls) {
		char why[200];

		log_quote(why, sizeof(why), v->norm.why, strlen(v->norm.why));
		cinc(&c->conf->ctr->unfixable);
		log_qid(LOG_WARNING, qid, "child=%s step=%s verdict=%s reply=\"%s\" "
		    "cannot be fixed (%s): the default reply of class %cxx is "
		    "sent%s", name, stepname, verdict, orig, why[0] ? why :
		    "class changed", cls, c->conf->evaluate ? " (evaluate)" : "");
		sr_normalized_release(&v->norm);
		v->has_reply = false;
		return;
	}
	for (i = 0; i < v->norm.nchanges; i++) {
		const struct sr_change *chg = &v->norm.changes[i];

		cinc(&c->conf->ctr->normalized[chg->id]);
		if ((chg->id == SR_D_CODE_NONSTANDARD ||
		    chg->id == SR_D_CODE_SYNTAX) && strlen(chg->before) == 3) {
			const struct sr_basic_info *b =
			    sr_registry_basic((unsigned)atoi(chg->before));

			log_qid(LOG_NOTICE, qid, "child=%s reply code %s: %s (not "
			    "an RFC 5321 code), sent as %s%s%s", name,
			    chg->before, b != NULL ? b->meaning :
			    "no known meaning", v->norm.code,
			    v->norm.enhanced[0] ? " " : "", v->norm.enhanced);
		}
	}
	log_quote(sent, sizeof(sent), v->norm.wire, v->norm.wire_len);
	changes_text(&v->norm, ch, sizeof(ch));
	if (ch[0] != '\0') {
		char chq[700];

		log_quote(chq, sizeof(chq), ch, strlen(ch));
		log_qid(LOG_INFO, qid, "child=%s step=%s verdict=%s%s reply=\"%s\" "
		    "normalized=\"%s\" original=\"%s\"", name, stepname, verdict,
		    c->conf->evaluate ? " evaluate=yes" : "", sent, chq, orig);
	} else {
		log_qid(LOG_INFO, qid, "child=%s step=%s verdict=%s%s reply=\"%s\"",
		    name, stepname, verdict, c->conf->evaluate ?
		    " evaluate=yes" : "", sent);
	}
}

/* ---- one child, one step ---------------------------------------------- */

static bool pipelined(enum mclient_step st)
{
	return st == MCLIENT_STEP_HEADER || st == MCLIENT_STEP_EOH ||
	    st == MCLIENT_STEP_BODY;
}

/*
 * Read the answers to the pipelined steps of child C, in order. The
 * first one that is not "continue" is the child's verdict (*FIN, with a
 * copy of its reply text in *REPLY_TEXT): CO_FINAL; the answers after it
 * are read and dropped (they answer steps the MTA would not have sent
 * after that verdict). CO_NOREPLY when all continued, CO_FAILED when the
 * child broke the protocol or timed out (failed, logged).
 */
static enum child_outcome drain_child(struct proxy_child *c, const char *qid,
				      struct mclient_reply *fin,
				      char **reply_text)
{
	enum child_outcome out = CO_NOREPLY;
	enum mclient_step st = MCLIENT_STEP_HEADER;
	long long t0 = now_us();
	bool skipped = false;
	char err[256];
	unsigned i;

	*reply_text = NULL;
	for (i = 0; i < c->npend; i++) {
		const unsigned char *data;
		struct mclient_reply r;
		size_t len;
		char cmd;

		st = (enum mclient_step)c->pend_step[i];
		mchild_ack_now(&c->conn);
		if (mchild_read(&c->conn, c->conf->command_ms, &cmd, &data, &len,
		    err, sizeof(err)) != 0 ||
		    mclient_decode_reply(cmd, data, len, &r, err, sizeof(err))
		    != 0)
			goto fail;
		if (out == CO_FINAL) {
			if (mclient_reply_is_modification(r.kind) ||
			    r.kind == MCLIENT_R_PROGRESS) {
				snprintf(err, sizeof(err), "modification before "
				    "end of message at %s", mclient_step_name(st));
				goto fail;
			}
			continue;
		}
		/* A chunk sent before the child's skip arrived is answered
		 * like any other. */
		if (skipped && st == MCLIENT_STEP_BODY)
			c->st.skip_body = false;
		if (mclient_state_reply(&c->st, st, &r, err, sizeof(err)) !=
		    MCLIENT_USE_FINAL)
			goto fail;
		if (r.kind == MCLIENT_R_SKIP)
			skipped = true;
		if (skipped)
			c->st.skip_body = true;
		cinc(&c->conf->ctr->verdicts[r.kind]);
		/* Skip (the rest of the body): the state sends no more
		 * body; chunks already on their way are answered. */
		if (r.kind == MCLIENT_R_CONTINUE || r.kind == MCLIENT_R_SKIP)
			continue;
		if (r.kind == MCLIENT_R_REPLYCODE &&
		    (*reply_text = strdup(r.text)) == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		*fin = r;
		fin->text = *reply_text;
		out = CO_FINAL;
	}
	c->npend = 0;
	note_latency(c, now_us() - t0);
	return out;
fail:
	free(*reply_text);
	*reply_text = NULL;
	c->npend = 0;
	child_fail(c, qid, st, err);
	return CO_FAILED;
}

static enum child_outcome run_child(struct proxy *p, struct proxy_child *c,
				    const struct proxy_event *ev,
				    proxy_macro_fn macro, void *mctx,
				    const char *qid, struct mclient_reply *fin,
				    char **reply_text)
{
	int tmo = ev->step == MCLIENT_STEP_EOM ? c->conf->eom_ms :
	    c->conf->command_ms;
	size_t mods_start = p->nmods;
	long long t0 = now_us();
	char err[256];

	*reply_text = NULL;
	/* A message the child never saw end (an earlier child decided at
	 * its end): closed before the next one starts. */
	if (ev->step == MCLIENT_STEP_MAIL && c->in_msg &&
	    mclient_put_abort(&c->conn.out) != 0) {
		child_fail(c, qid, ev->step, "out of memory");
		return CO_FAILED;
	}
	if (put_macros(c, ev->step, macro, mctx) != 0 || put_step(c, ev) != 0) {
		/* Too long for a packet, or no memory: not the child's fault,
		 * but it cannot be told: treat as its failure. */
		child_fail(c, qid, ev->step, "the step could not be encoded");
		return CO_FAILED;
	}
	if (mchild_flush(&c->conn, tmo, err, sizeof(err)) != 0) {
		child_fail(c, qid, ev->step, err);
		return CO_FAILED;
	}
	if (ev->step == MCLIENT_STEP_MAIL)
		c->in_msg = true;
	if (!mclient_state_expects_reply(&c->st, ev->step))
		return CO_NOREPLY;
	/* Over TCP the answers are read with immediate ACKs (drain_child),
	 * else libmilter's Nagle and our delayed ACK hold each back. */
	if (pipelined(ev->step) && c->npend < PROXY_PIPELINE_MAX) {
		c->pend_step[c->npend++] = (unsigned char)ev->step;
		return CO_NOREPLY;
	}
	for (;;) {
		const unsigned char *data;
		size_t len;
		char cmd;
		enum mclient_verdict_use use;

		if (mchild_read(&c->conn, tmo, &cmd, &data, &len, err,
		    sizeof(err)) != 0 ||
		    mclient_decode_reply(cmd, data, len, fin, err, sizeof(err))
		    != 0)
			goto fail;
		use = mclient_state_reply(&c->st, ev->step, fin, err,
		    sizeof(err));
		if (use == MCLIENT_USE_VIOLATION)
			goto fail;
		cinc(&c->conf->ctr->verdicts[fin->kind]);
		if (use == MCLIENT_USE_FINAL) {
			if (ev->step == MCLIENT_STEP_EOM)
				c->in_msg = false;
			if (fin->kind == MCLIENT_R_REPLYCODE &&
			    (*reply_text = strdup(fin->text)) == NULL) {
				snprintf(err, sizeof(err), "out of memory");
				goto fail;
			}
			note_latency(c, now_us() - t0);
			return CO_FINAL;
		}
		if (fin->kind == MCLIENT_R_PROGRESS)
			continue;
		if (c->conf->evaluate) {
			char name[200];

			log_field(name, sizeof(name), c->conf->name,
			    strlen(c->conf->name));
			log_qid(LOG_INFO, qid, "child=%s evaluate=yes would %s",
			    name, mclient_reply_name(fin->kind));
			continue;
		}
		if (keep_mod(p, c, fin) != 0) {
			snprintf(err, sizeof(err), "modifications over %u bytes "
			    "or out of memory", PROXY_MODS_BYTES_MAX);
			goto fail;
		}
	}
fail:
	drop_mods_from(p, mods_start);
	child_fail(c, qid, ev->step, err);
	return CO_FAILED;
}

static enum proxy_result rank_result(enum mclient_reply_kind k, char cls)
{
	switch (k) {
	case MCLIENT_R_ACCEPT: return PROXY_ACCEPT;
	case MCLIENT_R_REJECT: return PROXY_REJECT;
	case MCLIENT_R_TEMPFAIL:
	case MCLIENT_R_SHUTDOWN:
	case MCLIENT_R_CONN_FAIL: return PROXY_TEMPFAIL;
	case MCLIENT_R_DISCARD: return PROXY_DISCARD;
	case MCLIENT_R_REPLYCODE: return cls == '5' ? PROXY_REJECT :
	    PROXY_TEMPFAIL;
	default: return PROXY_CONTINUE;
	}
}

static void set_error_verdict(const struct proxy_child *c,
			      struct proxy_verdict *out)
{
	out->result = c->conf->on_error == PROXY_ON_ERROR_REJECT ?
	    PROXY_REJECT : PROXY_TEMPFAIL;
	out->child = c->conf->name;
	out->from_error = true;
	out->has_reply = false;
}

void proxy_step(struct proxy *p, const struct proxy_event *ev,
		proxy_macro_fn macro, void *macro_ctx,
		const struct sr_options *opts, const char *qid,
		struct proxy_verdict *out)
{
	const char *stepname = mclient_step_name(ev->step);
	bool all_accepted = true, any = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->result = PROXY_CONTINUE;
	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		struct proxy_child *c = &p->c[i];
		struct mclient_reply fin;
		enum child_outcome co;
		enum proxy_result res;
		char *text = NULL, name[200];

		if (!c->conf->evaluate)
			any = true;
		if (c->dead) {
			if (c->conf->evaluate ||
			    c->conf->on_error == PROXY_ON_ERROR_ACCEPT)
				continue;
			set_error_verdict(c, out);
			return;
		}
		co = CO_NOREPLY;
		if (c->up && !finish_negotiation(c, qid, ev->step))
			co = CO_FAILED;
		else if (c->up && c->npend > 0 && (!pipelined(ev->step) ||
		    c->npend == PROXY_PIPELINE_MAX))
			co = drain_child(c, qid, &fin, &text);
		if (co == CO_FINAL && ev->step == MCLIENT_STEP_MAIL) {
			/* Left from a message an earlier child ended: dropped. */
			free(text);
			text = NULL;
			co = CO_NOREPLY;
		}
		if (co == CO_NOREPLY && (!c->up ||
		    !mclient_state_sends(&c->st, ev->step))) {
			if (!c->accepted && !c->conf->evaluate)
				all_accepted = false;
			continue;
		}
		if (co == CO_NOREPLY)
			co = run_child(p, c, ev, macro, macro_ctx, qid, &fin,
			    &text);
		if (co == CO_FAILED) {
			if (c->conf->evaluate ||
			    c->conf->on_error == PROXY_ON_ERROR_ACCEPT)
				continue;
			set_error_verdict(c, out);
			return;
		}
		/* A child that asks for the connection to be dropped gets the
		 * reply Postfix's milter8.c gives it; a 421 makes Postfix and
		 * sendmail close the session. */
		if (co == CO_FINAL && text == NULL &&
		    (fin.kind == MCLIENT_R_SHUTDOWN ||
		    fin.kind == MCLIENT_R_CONN_FAIL))
			text = strdup(PROXY_SHUTDOWN_REPLY);
		if (co == CO_NOREPLY || fin.kind == MCLIENT_R_CONTINUE ||
		    fin.kind == MCLIENT_R_SKIP) {
			if (!c->conf->evaluate)
				all_accepted = false;
			continue;
		}
		res = rank_result(fin.kind, text != NULL ? text[0] : 0);
		log_field(name, sizeof(name), c->conf->name,
		    strlen(c->conf->name));
		if (res == PROXY_ACCEPT) {
			c->accepted = true;
			log_qid(LOG_INFO, qid, "child=%s step=%s verdict=accept%s",
			    name, stepname, c->conf->evaluate ?
			    " evaluate=yes" : "");
			continue;
		}
		if (c->conf->evaluate) {
			struct proxy_verdict ev_v;

			memset(&ev_v, 0, sizeof(ev_v));
			if (text != NULL)
				judge_reply(c, text, text[0], opts, qid, stepname,
				    &ev_v, proxy_result_name(res));
			else
				log_qid(LOG_INFO, qid, "child=%s step=%s "
				    "verdict=%s evaluate=yes", name, stepname,
				    proxy_result_name(res));
			proxy_verdict_release(&ev_v);
			free(text);
			continue;
		}
		/* The first non-accept verdict ends the step. */
		out->result = res;
		out->child = c->conf->name;
		if (text != NULL)
			judge_reply(c, text, text[0], opts, qid, stepname, out,
			    proxy_result_name(res));
		else
			log_qid(LOG_INFO, qid, "child=%s step=%s verdict=%s%s",
			    name, stepname, proxy_result_name(res),
			    res == PROXY_DISCARD ? "" : " (no reply: the default "
			    "reply of its class)");
		free(text);
		return;
	}
	if (any && all_accepted)
		out->result = PROXY_ACCEPT;
}

bool proxy_wants_rejected(const struct proxy *p)
{
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++)
		if (p->c[i].up && (p->c[i].st.protocol & SMFIP_RCPT_REJ) != 0)
			return true;
	return false;
}

void proxy_rejected_rcpt(struct proxy *p, const struct proxy_event *ev,
			 proxy_macro_fn macro, void *macro_ctx,
			 const char *qid)
{
	size_t i;

	for (i = 0; p != NULL && i < p->n; i++) {
		struct proxy_child *c = &p->c[i];
		struct mclient_reply fin;
		char *text = NULL;

		if (!c->up || !finish_negotiation(c, qid, ev->step))
			continue;
		if ((c->st.protocol & SMFIP_RCPT_REJ) == 0 ||
		    !mclient_state_sends(&c->st, ev->step))
			continue;
		if (c->npend > 0) {
			/* Answers left from an ended message: dropped. */
			if (drain_child(c, qid, &fin, &text) == CO_FAILED)
				continue;
			free(text);
			text = NULL;
		}
		/* The verdict is dropped; run_child counted it. */
		if (run_child(p, c, ev, macro, macro_ctx, qid, &fin, &text) ==
		    CO_FINAL)
			free(text);
	}
}

void proxy_abort(struct proxy *p)
{
	if (p == NULL)
		return;
	tell_children(p, mclient_put_abort, true, MCLIENT_STEP_EOM);
	proxy_new_message(p);
}

/* ---- counters ----------------------------------------------------------- */

static unsigned long long load(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void proxy_conf_log(const struct proxy_conf *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++) {
		const struct proxy_child_counters *k = pc->child[i].ctr;
		unsigned long long calls = load(&k->calls), changes = 0;
		char name[200];
		int d;

		for (d = 0; d < SR_D__COUNT; d++)
			changes += load(&k->normalized[d]);
		log_field(name, sizeof(name), pc->child[i].name,
		    strlen(pc->child[i].name));
		log_msg(LOG_INFO, "counters: child=%s calls=%llu accept=%llu "
		    "continue=%llu reject=%llu tempfail=%llu discard=%llu "
		    "replycode=%llu changes=%llu unfixable=%llu "
		    "errors=%llu latency_avg_ms=%.3f latency_max_ms=%.3f", name,
		    calls, load(&k->verdicts[MCLIENT_R_ACCEPT]),
		    load(&k->verdicts[MCLIENT_R_CONTINUE]),
		    load(&k->verdicts[MCLIENT_R_REJECT]),
		    load(&k->verdicts[MCLIENT_R_TEMPFAIL]),
		    load(&k->verdicts[MCLIENT_R_DISCARD]),
		    load(&k->verdicts[MCLIENT_R_REPLYCODE]),
		    changes,
		    load(&k->unfixable), load(&k->errors),
		    calls > 0 ? (double)load(&k->latency_us_total) / 1000.0 /
		    (double)calls : 0.0,
		    (double)load(&k->latency_us_max) / 1000.0);
	}
}

/* ---- macro lists (symlist.h) ------------------------------------------ */

void proxy_each_symlist(const struct proxy *p, proxy_symlist_fn fn, void *ctx)
{
	size_t i;
	int li;

	for (i = 0; p != NULL && i < p->n; i++) {
		const struct proxy_child *c = &p->c[i];

		if (!c->up)
			continue;
		for (li = 0; li < MCLIENT_MACRO_LISTS; li++)
			if (c->neg.has_symlist[li])
				fn(ctx, li, c->neg.symlist[li]);
	}
}
