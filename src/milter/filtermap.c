/*
 * SPDX-License-Identifier: ISC
 * filtermap.c - the "reject" and "reply" maps (see filtermap.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filtermap.h"
#include "log.h"

static const char *const kind_names[FILTERMAP__COUNT] = { "reject", "reply" };

const char *filtermap_name(enum filtermap_kind kind)
{
	return (unsigned)kind < FILTERMAP__COUNT ? kind_names[kind] : "?";
}

int filtermap_lookup(const char *name, size_t len)
{
	int k;

	for (k = 0; k < FILTERMAP__COUNT; k++)
		if (strlen(kind_names[k]) == len &&
		    memcmp(kind_names[k], name, len) == 0)
			return k;
	return -1;
}

const char *filtermap_outcome_name(enum filtermap_outcome o)
{
	switch (o) {
	case FILTERMAP_UNCHANGED:	return "unchanged";
	case FILTERMAP_CHANGED:		return "changed";
	case FILTERMAP_SKIPPED:		return "skipped";
	case FILTERMAP_CLASS_KEPT:	return "class-kept";
	case FILTERMAP_UNFIXABLE:	return "unfixable";
	case FILTERMAP_NOMEM:		return "nomem";
	}
	return "?";
}

/* ---- the pure part ----------------------------------------------------- */

static bool code_changed(const struct sr_normalized *n)
{
	size_t i;

	for (i = 0; i < n->nchanges; i++)
		if (n->changes[i].id == SR_D_CODE_SYNTAX ||
		    n->changes[i].id == SR_D_CODE_NONSTANDARD)
			return true;
	return false;
}

/*
 * Would Postfix take OUT? It wants [45]DD[ -] and, when a digit follows,
 * the class again. The engine always gives the first; a text that starts
 * with a digit ("550 4.7.1?no": no enhanced code, since "4.7.1?" is none)
 * can break the second where no enhanced code is added.
 */
static bool postfix_takes(const char *out, size_t len)
{
	return len >= 4 && (out[0] == '4' || out[0] == '5') &&
	    out[1] >= '0' && out[1] <= '9' && out[2] >= '0' && out[2] <= '9' &&
	    (out[3] == ' ' || out[3] == '-') &&
	    (len == 4 || out[4] < '0' || out[4] > '9' || out[4] == out[0]);
}

static void normalize(const struct sr_reply *r, enum sr_phase phase,
		      const struct filtermap_options *o,
		      struct sr_normalized *out)
{
	struct sr_options so;

	memset(&so, 0, sizeof(so));
	so.phase = phase;
	so.context = SR_CONTEXT_WIRE;
	so.utf8 = o != NULL && o->utf8;
	so.policy = o != NULL ? o->policy : NULL;
	sr_normalize(r, &so, out);
}

/* The normalized reply as one line, CODE SEP [ENH SP] TEXT...; heap. */
static char *one_line(const struct sr_normalized *n, char sep, size_t *len)
{
	struct sr_span text;
	size_t pos = 0, o = 0, cap = n->wire_len + 16;
	char *buf = malloc(cap);
	bool first = true;

	if (buf == NULL)
		return NULL;
	memcpy(buf, n->code, 3);
	buf[3] = sep;
	o = 4;
	if (n->enhanced[0] != '\0') {
		size_t k = strlen(n->enhanced);

		memcpy(buf + o, n->enhanced, k);
		o += k;
		buf[o++] = ' ';
	}
	while (sr_normalized_next_text(n, &pos, &text)) {
		if (!first)
			buf[o++] = ' ';
		memcpy(buf + o, text.p, text.len);
		o += text.len;
		first = false;
	}
	/* "550 5.7.1 " with no text at all: no trailing blank. */
	while (o > 4 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	*len = o;
	return buf;
}

static void run_reject(const char *key, size_t len,
		       const struct filtermap_options *o,
		       const struct sr_reply *r, struct filtermap_result *res)
{
	const struct sr_line *l0 = &r->lines[0];

	res->phase = filterphase_infer(l0->text.p, l0->text.len);
	res->fitted = res->phase.known;
	/* Unknown: SR_PHASE_OTHER, where the engine fits no code. */
	res->engine_phase = res->phase.known ? res->phase.phase : SR_PHASE_OTHER;
	normalize(r, res->engine_phase, o, &res->norm);
	/* Where no enhanced code is added, give one rather than a reply
	 * Postfix would refuse. */
	if (res->norm.status == SR_NORM_OK &&
	    !postfix_takes(res->norm.wire, res->norm.wire_len)) {
		sr_normalized_release(&res->norm);
		res->engine_phase = SR_PHASE_OTHER;
		normalize(r, res->engine_phase, o, &res->norm);
	}
	if (res->norm.status == SR_NORM_NOMEM) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	if (res->norm.status != SR_NORM_OK ||
	    !postfix_takes(res->norm.wire, res->norm.wire_len)) {
		res->outcome = FILTERMAP_UNFIXABLE;
		return;
	}
	if (res->norm.code[0] != key[0]) {
		res->outcome = FILTERMAP_CLASS_KEPT;
		return;
	}
	/* A final line end is no difference. */
	if (len >= 1 && key[len - 1] == '\n')
		len--;
	if (len >= 1 && key[len - 1] == '\r')
		len--;
	if (res->norm.wire_len == len && memcmp(res->norm.wire, key, len) == 0) {
		res->outcome = FILTERMAP_UNCHANGED;
		return;
	}
	if ((res->out = malloc(res->norm.wire_len + 1)) == NULL) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	memcpy(res->out, res->norm.wire, res->norm.wire_len + 1);
	res->out_len = res->norm.wire_len;
	res->outcome = FILTERMAP_CHANGED;
}

static void run_reply(const char *key, size_t len,
		      const struct filtermap_options *o,
		      struct filtermap_result *res)
{
	struct sr_reply r;
	char *line;
	bool cont;

	/* A line of a multi-line reply ("550-5.1.1 ...") is judged as a
	 * reply of its own and keeps its "-". */
	cont = len >= 4 && key[1] >= '0' && key[1] <= '9' && key[2] >= '0' &&
	    key[2] <= '9' && key[3] == '-';
	if ((line = malloc(len + 1)) == NULL) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	memcpy(line, key, len);
	line[len] = '\0';
	if (cont)
		line[3] = ' ';
	if (sr_reply_parse(&r, line, len) != 0) {
		free(line);
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	/* A missing enhanced code is added only with a replaced basic code
	 * (572 -> 550 5.7.1): otherwise Postfix's generic X.0.0 says no more
	 * than the server did, where a default would guess; and unless the
	 * text would then look like a code of another class to Postfix. */
	res->engine_phase = SR_PHASE_OTHER;	/* no phase fitting */
	if (r.lines[0].enh.len == 0) {
		normalize(&r, SR_PHASE_CONNECT, o, &res->norm);
		if (res->norm.status == SR_NORM_OK && !code_changed(&res->norm) &&
		    postfix_takes(res->norm.wire, res->norm.wire_len)) {
			res->engine_phase = SR_PHASE_CONNECT;
		} else {
			sr_normalized_release(&res->norm);
			normalize(&r, res->engine_phase, o, &res->norm);
		}
	} else {
		normalize(&r, res->engine_phase, o, &res->norm);
	}
	sr_reply_release(&r);
	free(line);
	if (res->norm.status == SR_NORM_NOMEM) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	if (res->norm.status != SR_NORM_OK) {
		res->outcome = FILTERMAP_UNFIXABLE;
		return;
	}
	if (res->norm.code[0] != key[0]) {
		res->outcome = FILTERMAP_CLASS_KEPT;
		return;
	}
	if ((res->out = one_line(&res->norm, cont ? '-' : ' ',
	    &res->out_len)) == NULL) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	if (!postfix_takes(res->out, res->out_len)) {
		free(res->out);
		res->out = NULL;
		res->out_len = 0;
		res->outcome = FILTERMAP_UNFIXABLE;
		return;
	}
	if (res->out_len == len && memcmp(res->out, key, len) == 0) {
		free(res->out);
		res->out = NULL;
		res->out_len = 0;
		res->outcome = FILTERMAP_UNCHANGED;
		return;
	}
	res->outcome = FILTERMAP_CHANGED;
}

void filtermap_run(enum filtermap_kind kind, const char *key, size_t len,
		   const struct filtermap_options *o,
		   struct filtermap_result *res)
{
	struct sr_reply r;

	memset(res, 0, sizeof(*res));
	res->engine_phase = SR_PHASE_OTHER;
	res->norm.status = SR_NORM_UNFIXABLE;
	/* Only 4xx and 5xx replies: Postfix filters no other rejects, and a
	 * remote server's 2xx and 3xx lines (the greeting, EHLO's keywords,
	 * 354) are left alone. */
	if (len == 0 || (key[0] != '4' && key[0] != '5')) {
		res->outcome = FILTERMAP_SKIPPED;
		return;
	}
	if (kind == FILTERMAP_REPLY) {
		run_reply(key, len, o, res);
		return;
	}
	if (sr_reply_parse(&r, key, len) != 0) {
		res->outcome = FILTERMAP_NOMEM;
		return;
	}
	run_reject(key, len, o, &r, res);
	sr_reply_release(&r);
}

void filtermap_result_release(struct filtermap_result *res)
{
	free(res->out);
	res->out = NULL;
	sr_normalized_release(&res->norm);
}

/* ---- counters ---------------------------------------------------------- */

void filtermap_counters_init(struct filtermap_counters *c)
{
	int k, i;

	atomic_init(&c->connections, 0);
	atomic_init(&c->bad_requests, 0);
	for (k = 0; k < FILTERMAP__COUNT; k++) {
		atomic_init(&c->lookups[k], 0);
		for (i = 0; i <= FILTERMAP_NOMEM; i++)
			atomic_init(&c->outcomes[k][i], 0);
		for (i = 0; i < SR_D__COUNT; i++)
			atomic_init(&c->normalized[k][i], 0);
		for (i = 0; i < 1000; i++)
			atomic_init(&c->nonstandard[k][i], 0);
	}
}

static void inc(atomic_ulong *v)
{
	atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

static unsigned long get(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Append " NAME=N" for a non-zero N to BUF[*O..SIZE). */
static void add(char *buf, size_t size, size_t *o, const char *name,
		unsigned long v)
{
	int k;

	if (v == 0 || *o >= size)
		return;
	k = snprintf(buf + *o, size - *o, " %s=%lu", name, v);
	if (k > 0)
		*o = *o + (size_t)k < size ? *o + (size_t)k : size - 1;
}

void filtermap_counters_log(const struct filtermap_counters *c)
{
	char outcomes[256], norm[1024], ns[1024], name[8];
	size_t o1, o2, o3;
	int k, i;

	log_msg(LOG_INFO, "counters: filter connections=%lu bad_requests=%lu",
	    get(&c->connections), get(&c->bad_requests));
	for (k = 0; k < FILTERMAP__COUNT; k++) {
		o1 = o2 = o3 = 0;
		outcomes[0] = norm[0] = ns[0] = '\0';
		for (i = 0; i <= FILTERMAP_NOMEM; i++)
			add(outcomes, sizeof(outcomes), &o1,
			    filtermap_outcome_name((enum filtermap_outcome)i),
			    get(&c->outcomes[k][i]));
		for (i = 0; i < SR_D__COUNT; i++)
			add(norm, sizeof(norm), &o2,
			    sr_diag_name((enum sr_diag_id)i),
			    get(&c->normalized[k][i]));
		for (i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "%03d", i);
			add(ns, sizeof(ns), &o3, name, get(&c->nonstandard[k][i]));
		}
		log_msg(LOG_INFO, "counters: filter map=%s lookups=%lu%s; "
		    "normalizations:%s; nonstandard codes replaced:%s",
		    filtermap_name((enum filtermap_kind)k), get(&c->lookups[k]),
		    outcomes, o2 > 0 ? norm : " none", o3 > 0 ? ns : " none");
	}
}

/* ---- answering --------------------------------------------------------- */

/* "id before -> after, ..." for the log. */
static void describe_changes(const struct sr_normalized *n, char *buf,
			     size_t size)
{
	char b[SR_CHANGE_TEXT_MAX * 4 + 4], a[SR_CHANGE_TEXT_MAX * 4 + 4];
	size_t i, o = 0;
	int k;

	buf[0] = '\0';
	for (i = 0; i < n->nchanges && o < size; i++) {
		const struct sr_change *c = &n->changes[i];

		log_quote(b, sizeof(b), c->before, strlen(c->before));
		log_quote(a, sizeof(a), c->after, strlen(c->after));
		k = snprintf(buf + o, size - o, "%s%s %s -> %s", i > 0 ? ", " :
		    "", sr_diag_name(c->id), b, a);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= size && size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

static const char *phase_text(const struct filtermap_result *res,
			      enum filtermap_kind kind)
{
	if (kind == FILTERMAP_REPLY || !res->fitted)
		return "unknown";
	return sr_phase_name(res->engine_phase);
}

/* Count the changes; a notice for each non-standard code replaced. */
static void note_changes(enum filtermap_kind kind,
			 const struct filtermap_result *res,
			 struct filtermap_counters *c)
{
	const struct sr_normalized *n = &res->norm;
	const struct sr_basic_info *b;
	unsigned code;
	size_t i;

	for (i = 0; i < n->nchanges; i++) {
		const struct sr_change *ch = &n->changes[i];

		inc(&c->normalized[kind][ch->id]);
		if (ch->id != SR_D_CODE_NONSTANDARD && ch->id != SR_D_CODE_SYNTAX)
			continue;
		if (strlen(ch->before) != 3 || ch->before[0] < '0' ||
		    ch->before[0] > '9' || ch->before[1] < '0' ||
		    ch->before[1] > '9' || ch->before[2] < '0' ||
		    ch->before[2] > '9')
			continue;
		code = (unsigned)atoi(ch->before);
		inc(&c->nonstandard[kind][code]);
		b = sr_registry_basic(code);
		log_msg(LOG_NOTICE, "filter: map=%s reply code %03u: %s (not an "
		    "RFC 5321 code), sent as %s%s%s", filtermap_name(kind), code,
		    b != NULL ? b->meaning : "no known meaning", n->code,
		    n->enhanced[0] ? " " : "", n->enhanced);
	}
}

#define QUOTED_MAX 2048

void filtermap_answer(const struct sockmap_request *req,
		      const struct filtermap_options *o,
		      struct filtermap_counters *c, struct sockmap_out *out)
{
	char in[QUOTED_MAX], res_q[QUOTED_MAX], changes[1024], name[64];
	struct filtermap_result res;
	int kind = filtermap_lookup(req->name, req->name_len);

	if (kind < 0) {
		inc(&c->bad_requests);
		log_quote(name, sizeof(name), req->name, req->name_len);
		log_msg(LOG_WARNING, "filter: unknown map \"%s\" (maps: reject, "
		    "reply)", name);
		(void)sockmap_out_reply(out, SOCKMAP_PERM, "unknown map", 11);
		return;
	}
	inc(&c->lookups[kind]);
	filtermap_run((enum filtermap_kind)kind, req->key, req->key_len, o, &res);
	inc(&c->outcomes[kind][res.outcome]);
	switch (res.outcome) {
	case FILTERMAP_CHANGED:
		note_changes((enum filtermap_kind)kind, &res, c);
		describe_changes(&res.norm, changes, sizeof(changes));
		log_quote(in, sizeof(in), req->key, req->key_len);
		log_quote(res_q, sizeof(res_q), res.out, res.out_len);
		log_msg(LOG_INFO, "filter: map=%s phase=%s in=\"%s\" out=\"%s\" "
		    "normalized=\"%s\"", filtermap_name((enum filtermap_kind)kind),
		    phase_text(&res, (enum filtermap_kind)kind), in, res_q,
		    changes);
		(void)sockmap_out_reply(out, SOCKMAP_OK, res.out, res.out_len);
		break;
	case FILTERMAP_CLASS_KEPT:
		log_quote(in, sizeof(in), req->key, req->key_len);
		log_quote(res_q, sizeof(res_q), res.norm.wire, res.norm.wire_len);
		log_msg(LOG_WARNING, "filter: map=%s in=\"%s\" left unchanged: "
		    "normalization would change its class (to \"%s\"), which "
		    "Postfix refuses", filtermap_name((enum filtermap_kind)kind),
		    in, res_q);
		(void)sockmap_out_reply(out, SOCKMAP_NOTFOUND, "", 0);
		break;
	case FILTERMAP_UNFIXABLE:
		log_quote(in, sizeof(in), req->key, req->key_len);
		log_quote(res_q, sizeof(res_q), res.norm.why,
		    strlen(res.norm.why));
		log_msg(LOG_WARNING, "filter: map=%s in=\"%s\" left unchanged: "
		    "%s", filtermap_name((enum filtermap_kind)kind), in, res_q);
		(void)sockmap_out_reply(out, SOCKMAP_NOTFOUND, "", 0);
		break;
	case FILTERMAP_NOMEM:
		log_msg(LOG_ERR, "filter: map=%s: out of memory",
		    filtermap_name((enum filtermap_kind)kind));
		(void)sockmap_out_reply(out, SOCKMAP_TEMP, "out of memory", 13);
		break;
	default:
		if (log_enabled(LOG_DEBUG)) {
			log_quote(in, sizeof(in), req->key, req->key_len);
			log_msg(LOG_DEBUG, "filter: map=%s in=\"%s\" %s",
			    filtermap_name((enum filtermap_kind)kind), in,
			    filtermap_outcome_name(res.outcome));
		}
		(void)sockmap_out_reply(out, SOCKMAP_NOTFOUND, "", 0);
		break;
	}
	filtermap_result_release(&res);
}
