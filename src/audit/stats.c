/*
 * SPDX-License-Identifier: ISC
 * stats.c - check each logged reply with the engine and count it;
 * the queue that pairs Postfix reply filter lines; merging.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define PEER_SLOTS (2 * STATS_PEERS_MAX)

void stats_init(struct stats *st, bool utf8)
{
	memset(st, 0, sizeof(*st));
	st->utf8 = utf8;
}

/* ---- peers: Space-Saving ----------------------------------------------- */

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void index_put(struct stats *st, size_t i)
{
	uint32_t slot = hash(st->peers[i].name) & (PEER_SLOTS - 1);

	while (st->peer_index[slot] != 0)
		slot = (slot + 1) & (PEER_SLOTS - 1);
	st->peer_index[slot] = (short)(i + 1);
}

static struct stats_peer *peer_find(struct stats *st, const char *name)
{
	uint32_t slot = hash(name) & (PEER_SLOTS - 1);

	while (st->peer_index[slot] != 0) {
		struct stats_peer *p = &st->peers[st->peer_index[slot] - 1];

		if (strcmp(p->name, name) == 0)
			return p;
		slot = (slot + 1) & (PEER_SLOTS - 1);
	}
	return NULL;
}

static void peer_count(struct stats *st, const char *name)
{
	struct stats_peer *p = peer_find(st, name), *min;
	size_t i;

	if (p != NULL) {
		p->bad++;
		return;
	}
	if (st->npeers < STATS_PEERS_MAX) {
		p = &st->peers[st->npeers];
		strcpy(p->name, name);
		p->bad = 1;
		p->err = 0;
		index_put(st, st->npeers++);
		return;
	}
	/* Full: the least counted peer makes room, its count carried over
	 * as the new one's possible overestimation. */
	min = &st->peers[0];
	for (i = 1; i < st->npeers; i++)
		if (st->peers[i].bad < min->bad)
			min = &st->peers[i];
	strcpy(min->name, name);
	min->err = min->bad;
	min->bad++;
	memset(st->peer_index, 0, sizeof(st->peer_index));
	for (i = 0; i < st->npeers; i++)
		index_put(st, i);
}

void stats_peer_set(struct stats *st, const char *name,
		    unsigned long long bad, unsigned long long err)
{
	struct stats_peer *p;

	if (name[0] == '\0' || st->npeers >= STATS_PEERS_MAX ||
	    peer_find(st, name) != NULL)
		return;
	p = &st->peers[st->npeers];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->bad = bad;
	p->err = err;
	index_put(st, st->npeers++);
}

/* Does peer A rank before B: more bad replies, then by name. */
static bool ranks_before(const struct stats_peer *a, const struct stats_peer *b)
{
	return a->bad > b->bad || (a->bad == b->bad && strcmp(a->name, b->name) < 0);
}

size_t stats_top_peers(const struct stats *st,
		       const struct stats_peer **out, size_t n)
{
	size_t k = 0, i, j;

	for (i = 0; i < st->npeers; i++) {
		const struct stats_peer *p = &st->peers[i];

		if (k == n && (n == 0 || !ranks_before(p, out[n - 1])))
			continue;
		j = k < n ? k++ : n - 1;
		/* insert P into the sorted OUT[0..k) */
		for (; j > 0 && ranks_before(p, out[j - 1]); j--)
			out[j] = out[j - 1];
		out[j] = p;
	}
	return k;
}

/* ---- examples ------------------------------------------------------------- */

static void norm_example(struct stats_example *e, const char *wire, size_t len,
			 const struct sr_reply *rep, const struct sr_options *o,
			 const char *stand_in);

static void add_example(struct stats *st, enum sr_diag_id id,
			const struct maillog_reply *r, const char *wire,
			size_t len, const struct sr_reply *rep,
			const struct sr_options *o, const char *stand_in,
			bool take_back)
{
	size_t keep = len < STATS_EXAMPLE_LEN ? len : STATS_EXAMPLE_LEN;
	struct stats_example *e;
	size_t i;

	for (i = 0; i < st->nex[id]; i++) {
		e = &st->ex[id][i];
		if (e->len == keep && e->dir == r->dir && e->phase == r->phase &&
		    memcmp(e->reply, wire, keep) == 0) {
			if (!take_back)
				e->count++;
			else if (--e->count == 0) {
				memmove(e, e + 1, (st->nex[id] - i - 1) *
				    sizeof(*e));
				st->nex[id]--;
			}
			return;
		}
	}
	if (st->nex[id] >= STATS_EXAMPLES_MAX || take_back)
		return;
	e = &st->ex[id][st->nex[id]++];
	memcpy(e->reply, wire, keep);
	e->len = keep;
	e->has_code = r->has_code;
	e->dir = r->dir;
	e->phase = r->phase;
	memcpy(e->peer, r->peer, sizeof(e->peer));
	e->count = 1;
	e->sugg_len = 0;
	norm_example(e, wire, len, rep, o, stand_in);
}

/*
 * The engine's normalized form of an example: of REP, or, for a reply
 * logged without its basic code (REP NULL), of WIRE behind the stand-in
 * code it was checked with, shown again without that code.
 */
static void norm_example(struct stats_example *e, const char *wire, size_t len,
			 const struct sr_reply *rep, const struct sr_options *o,
			 const char *stand_in)
{
	char buf[STATS_REPLY_MAX + 4];
	struct sr_normalized norm;
	struct sr_reply own;

	if (rep == NULL) {
		if (len > STATS_REPLY_MAX)
			len = STATS_REPLY_MAX;
		memcpy(buf, stand_in, 3);
		buf[3] = ' ';
		memcpy(buf + 4, wire, len);
		if (sr_reply_parse(&own, buf, len + 4) != 0) {
			sr_reply_release(&own);
			return;
		}
		rep = &own;
	}
	sr_normalize(rep, o, &norm);
	if (norm.status == SR_NORM_OK) {
		const char *s = norm.wire;
		size_t n = norm.wire_len;

		/* No basic code in the log: none in the suggestion either. */
		if (rep == &own && n >= 4 && memcmp(s, stand_in, 3) == 0) {
			s += 4;
			n -= 4;
		}
		if (n > STATS_EXAMPLE_LEN)
			n = STATS_EXAMPLE_LEN;
		memcpy(e->suggestion, s, n);
		e->sugg_len = n;
	}
	sr_normalized_release(&norm);
	if (rep == &own)
		sr_reply_release(&own);
}

/* ---- labels, classes ----------------------------------------------------- */

const char *stats_class_name(enum stats_class c)
{
	static const char *const names[STATS_CLASS__COUNT] = {
		"2xx", "4xx", "5xx", "other"
	};

	return (unsigned)c < STATS_CLASS__COUNT ? names[c] : "other";
}

const char *stats_code_label(int code, char buf[8])
{
	if (code >= 0 && code <= 999) {
		buf[0] = (char)('0' + code / 100);
		buf[1] = (char)('0' + code / 10 % 10);
		buf[2] = (char)('0' + code % 10);
		buf[3] = '\0';
		return buf;
	}
	return code == STATS_CODE_NONE ? "none" : code == STATS_CODE_INVALID ?
	    "invalid" : "other";
}

static bool digits(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static unsigned num3(const char *p, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

/*
 * The enhanced-code label of the token P[0..N): "5.7.1" when well formed
 * (class 2, 4 or 5) and registered, "unregistered" when well formed but
 * not in the IANA registry, "invalid" otherwise, "none" for no token.
 * The set of values is finite: the registry's rows, three classes.
 */
static void enh_label(const char *p, size_t n, char out[STATS_ENH_LABEL])
{
	const char *d1, *d2;

	if (n == 0) {
		strcpy(out, "none");
		return;
	}
	d1 = memchr(p, '.', n);
	d2 = d1 != NULL ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - p)) : NULL;
	if (n >= STATS_ENH_LABEL || d1 == NULL || d2 == NULL ||
	    d1 - p != 1 || (p[0] != '2' && p[0] != '4' && p[0] != '5') ||
	    !digits(d1 + 1, (size_t)(d2 - d1 - 1)) ||
	    !digits(d2 + 1, n - (size_t)(d2 + 1 - p))) {
		strcpy(out, "invalid");
		return;
	}
	if (sr_registry_enhanced(num3(d1 + 1, (size_t)(d2 - d1 - 1)),
	    num3(d2 + 1, n - (size_t)(d2 + 1 - p))) == NULL) {
		strcpy(out, "unregistered");
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The series of these labels (added, or folded); its index. */
static size_t series_index(struct stats *st, enum maillog_direction dir,
			   enum maillog_phase phase, int code, const char *enh)
{
	struct stats_series *s;
	size_t i;

	for (i = 0; i < st->nseries; i++) {
		s = &st->series[i];
		if (s->dir == dir && s->phase == phase && s->code == code &&
		    strcmp(s->enh, enh) == 0)
			return i;
	}
	if (st->nseries >= STATS_SERIES_MAX && code != STATS_CODE_OTHER)
		/* full: one "other" series per direction and phase */
		return series_index(st, dir, phase, STATS_CODE_OTHER, "other");
	s = &st->series[st->nseries];
	s->dir = (uint8_t)dir;
	s->phase = (uint8_t)phase;
	s->code = (int16_t)code;
	snprintf(s->enh, sizeof(s->enh), "%s", enh);
	s->count = 0;
	return st->nseries++;
}

void stats_series_add(struct stats *st, enum maillog_direction dir,
		      enum maillog_phase phase, int code, const char *enh,
		      unsigned long long n)
{
	st->series[series_index(st, dir, phase, code, enh)].count += n;
}

/*
 * Count one reply under its labels, the enhanced code given as logged
 * (TOK[0..LEN), validated only the first time a cache slot sees it).
 */
static void series_count(struct stats *st, enum maillog_direction dir,
			 enum maillog_phase phase, int code, const char *tok,
			 size_t len, unsigned long long d)
{
	uint64_t v = 0, h;
	struct stats_series_hit *c;
	char enh[STATS_ENH_LABEL];
	size_t i;

	/* the slot: the labels and the token's first 8 bytes, mixed */
	memcpy(&v, tok, len < 8 ? len : 8);
	h = (v ^ ((uint64_t)len << 56) ^ ((uint64_t)(dir * 7 + phase * 131 +
	    code * 31) << 40)) * 0x9e3779b97f4a7c15ULL;
	c = &st->series_hit[h >> 56];
	if (c->idx1 != 0 && c->dir == dir && c->phase == phase &&
	    c->code == code && c->len == len && memcmp(c->raw, tok, len) == 0) {
		st->series[c->idx1 - 1].count += d;
		return;
	}
	enh_label(tok, len, enh);
	i = series_index(st, dir, phase, code, enh);
	st->series[i].count += d;
	if (len <= sizeof(c->raw)) {
		c->idx1 = (uint16_t)(i + 1);
		c->dir = (uint8_t)dir;
		c->phase = (uint8_t)phase;
		c->code = (int16_t)code;
		c->len = (uint8_t)len;
		memcpy(c->raw, tok, len);
	}
}

/* ---- the timeline --------------------------------------------------------- */

/* Each step a multiple of the one before. */
static const uint32_t tl_steps[] = {
	60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800,
	2419200, 9676800, 38707200, 154828800, 619315200
};
#define TL_NSTEPS (sizeof(tl_steps) / sizeof(tl_steps[0]))

static int64_t floor_to(int64_t t, int64_t step)
{
	int64_t q = t / step;

	if (t % step != 0 && t < 0)
		q--;
	return q * step;
}

/* Re-bucket at the next step; false when there is none. */
static bool tl_widen(struct stats_timeline *tl)
{
	int64_t origin;
	uint32_t step = 0, i, j = 0, n = 0;
	size_t k;

	for (k = 0; k + 1 < TL_NSTEPS; k++)
		if (tl_steps[k] == tl->step) {
			step = tl_steps[k + 1];
			break;
		}
	if (step == 0)
		return false;
	origin = floor_to(tl->origin, step);
	for (i = 0; i < tl->n; i++) {
		j = (uint32_t)((tl->origin + (int64_t)i * tl->step - origin) /
		    step);
		if (j != i) {
			for (k = 0; k < STATS_CLASS__COUNT; k++) {
				tl->c[j][k] += tl->c[i][k];
				tl->c[i][k] = 0;
			}
		}
		n = j + 1;
	}
	tl->origin = origin;
	tl->step = step;
	tl->n = n;
	tl->hit = UINT32_MAX;
	return true;
}

void stats_timeline_fit(struct stats_timeline *tl, uint32_t n)
{
	while (tl->n > n && tl_widen(tl))
		continue;
}

void stats_timeline_widen_to(struct stats_timeline *tl, uint32_t step)
{
	if (tl->step == 0) {
		tl->step = step;
		return;
	}
	while (tl->step < step && tl_widen(tl))
		continue;
}

void stats_timeline_add(struct stats_timeline *tl, int64_t t,
			enum stats_class cls, unsigned long long n)
{
	int64_t idx, shift;

	/* the common case: the same bucket as the last one */
	if (tl->n > 0 && t >= tl->hit_start && t < tl->hit_start + tl->step &&
	    tl->hit < tl->n) {
		tl->c[tl->hit][cls] += n;
		return;
	}

	if (tl->step == 0)
		tl->step = tl_steps[0];
	if (tl->n == 0) {
		tl->origin = floor_to(t, tl->step);
		tl->n = 1;
		tl->hit = UINT32_MAX;
	}
	for (;;) {
		if (t < tl->origin) {
			shift = (tl->origin - floor_to(t, tl->step)) / tl->step;
			if (shift + tl->n <= STATS_TL_BUCKETS) {
				memmove(tl->c[shift], tl->c[0],
				    tl->n * sizeof(tl->c[0]));
				memset(tl->c[0], 0, (size_t)shift * sizeof(tl->c[0]));
				tl->origin -= shift * tl->step;
				tl->n += (uint32_t)shift;
				tl->hit = UINT32_MAX;
			} else if (!tl_widen(tl))
				return;
			continue;
		}
		idx = (t - tl->origin) / tl->step;
		if (idx < STATS_TL_BUCKETS) {
			if ((uint32_t)idx >= tl->n)
				tl->n = (uint32_t)idx + 1;
			tl->c[idx][cls] += n;
			tl->hit = (uint32_t)idx;
			tl->hit_start = tl->origin + idx * tl->step;
			return;
		}
		if (!tl_widen(tl)) {	/* beyond the widest span: last */
			tl->c[STATS_TL_BUCKETS - 1][cls] += n;
			return;
		}
	}
}

/* ---- malformed codes ------------------------------------------------------- */

static void add_malformed(struct stats *st, const struct maillog_reply *r,
			  bool take_back)
{
	size_t keep = r->reply_len < STATS_EXAMPLE_LEN ? r->reply_len :
	    STATS_EXAMPLE_LEN;
	struct stats_malformed *m;
	size_t i;

	st->malformed += take_back ? -1ULL : 1;
	for (i = 0; i < st->nmal; i++) {
		m = &st->mal[i];
		if (m->len == keep && memcmp(m->reply, r->reply, keep) == 0 &&
		    m->dir == r->dir && m->phase == r->phase) {
			if (!take_back)
				m->count++;
			else if (--m->count == 0) {
				memmove(m, m + 1, (st->nmal - i - 1) * sizeof(*m));
				st->nmal--;
			}
			return;
		}
	}
	if (st->nmal >= STATS_EXAMPLES_MAX || take_back)
		return;
	m = &st->mal[st->nmal++];
	memcpy(m->reply, r->reply, keep);
	m->len = keep;
	m->line_len = r->line_len < STATS_LINE_KEEP ? r->line_len :
	    STATS_LINE_KEEP;
	if (r->line != NULL)
		memcpy(m->line, r->line, m->line_len);
	else
		m->line_len = 0;
	m->dir = r->dir;
	m->phase = r->phase;
	memcpy(m->peer, r->peer, sizeof(m->peer));
	m->count = 1;
}

/* ---- one reply ---------------------------------------------------------- */

/*
 * Count R, or with TAKE_BACK take away what counting it added (a Postfix
 * filter "in" line: the same reply, phase and time as its reject line).
 * Unsigned counts wrap: adding D = -1 subtracts one.
 */
static void account(struct stats *st, const struct maillog_reply *r,
		    int64_t t, bool take_back)
{
	const unsigned long long d = take_back ? -1ULL : 1;
	/* A log's copy: sendmail logs the first line of a multi-line reply,
	 * Exim shortens long ones. */
	struct sr_options o = { maillog_phase_sr(r->phase), SR_CONTEXT_WIRE,
	    st->utf8, NULL, true };
	char wire[STATS_REPLY_MAX], stand_in[4] = "";
	struct sr_check chk;
	struct sr_reply rep;
	bool err = false, warn = false;
	size_t len, i;
	int code = -1;

	const char *tok;
	size_t tok_len;
	enum stats_class cls;
	int label;

	st->replies += d;
	st->by_dir[r->dir] += d;
	st->by_phase[r->phase] += d;
	st->success += r->success ? d : 0;
	if (r->malformed)
		add_malformed(st, r, take_back);
	len = maillog_reply_wire(r->reply, r->reply_len, wire, STATS_REPLY_MAX);
	if (r->has_code) {
		if (sr_reply_parse(&rep, wire, len) != 0) {
			st->check_failed++;
			sr_reply_release(&rep);
			return;
		}
		sr_check(&rep, &o, &chk);
		code = sr_reply_code(&rep);
		if (code >= 0 && code <= 999)
			st->by_code[code] += d;
		label = code >= 0 && code <= 999 && sr_code_in_abnf((unsigned)code) &&
		    !r->malformed ? code : STATS_CODE_INVALID;
		tok = rep.lines[0].enh.p;
		tok_len = rep.lines[0].enh.len;
		/* the class by the first digit: 572 is a 5xx reject too */
		cls = r->malformed || code < 200 || code > 599 ?
		    STATS_CLASS_OTHER : code / 100 == 2 ? STATS_CLASS_2XX :
		    code / 100 == 4 ? STATS_CLASS_4XX : code / 100 == 5 ?
		    STATS_CLASS_5XX : STATS_CLASS_OTHER;
	} else {
		const char *sp = memchr(wire, ' ', len);

		st->no_code += d;
		if (sr_check_without_code(wire, len, &o, &chk, stand_in) != 0) {
			st->check_failed++;
			return;
		}
		label = STATS_CODE_NONE;
		tok = wire;
		tok_len = len > 0 && wire[0] >= '0' && wire[0] <= '9' ?
		    (size_t)((sp != NULL ? sp : wire + len) - wire) : 0;
		cls = tok_len > 1 && tok[1] == '.' ? (tok[0] == '2' ?
		    STATS_CLASS_2XX : tok[0] == '4' ? STATS_CLASS_4XX :
		    tok[0] == '5' ? STATS_CLASS_5XX : STATS_CLASS_OTHER) :
		    STATS_CLASS_OTHER;
	}
	series_count(st, r->dir, r->phase, label, tok, tok_len, d);
	if (t != 0)
		stats_timeline_add(&st->tl, t, cls, d);
	else
		st->undated += d;
	if (code >= 0 && code <= 999 &&
	    (sr_check_find(&chk, SR_D_CODE_NONSTANDARD) != NULL ||
	    sr_check_find(&chk, SR_D_CODE_SYNTAX) != NULL))
		st->nonstandard[code] += d;
	for (i = 0; i < chk.ndiags; i++) {
		enum sr_diag_id id = chk.diags[i].id;
		enum sr_severity sev = sr_diag_severity(id);

		st->diag[id] += d;
		err |= sev == SR_SEV_ERROR;
		warn |= sev == SR_SEV_WARNING;
		add_example(st, id, r, wire, len, r->has_code ? &rep : NULL, &o,
		    stand_in, take_back);
	}
	st->with_error += err ? d : 0;
	st->with_warning += warn && !err ? d : 0;
	/* a filter's "in" takes back local replies only: no peer */
	if (r->dir == MAILLOG_DIR_REMOTE && (err || warn) && r->peer[0] != '\0' &&
	    !take_back)
		peer_count(st, r->peer);
	if (r->has_code)
		sr_reply_release(&rep);
}

void stats_add(struct stats *st, const struct maillog_reply *r,
	       int64_t t)
{
	account(st, r, t, false);
}

/* ---- the queue: Postfix reply filter lines ------------------------------- */

/* A 64-bit hash of P[0..N), 8 bytes at a time. */
static uint64_t hash64(const char *p, size_t n)
{
	uint64_t h = (uint64_t)n * 0x9e3779b97f4a7c15ULL, v;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	v = 0;
	memcpy(&v, p, n);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

static bool same_proc(const char *a, size_t an, const char *b, size_t bn)
{
	return an > 0 && an == bn && memcmp(a, b, an) == 0;
}

void stats_flush(struct stats *st)
{
	memset(st->recent, 0, sizeof(st->recent));
	memset(st->await, 0, sizeof(st->await));
	st->conn_len = 0;
	st->conn_lineno = 0;
	st->conn_hash = 0;
}

/* The slot of a process "host tag[pid]": by its last bytes (the pid). */
static struct stats_recent *recent_slot(struct stats *st,
					const char *proc, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, len >= 8 ? proc + len - 8 : proc, len >= 8 ? 8 : len);
	v *= 0x9e3779b97f4a7c15ULL;
	return &st->recent[(v >> 59) % (sizeof(st->recent) /
	    sizeof(st->recent[0]))];
}

/* A filter "in" line: take back the reject it repeats, wait for "out". */
static void filter_in(struct stats *st, const struct maillog_reply *r,
		      unsigned long long lineno)
{
	struct stats_recent *rc = recent_slot(st, r->proc, r->proc_len);
	struct stats_awaiting *w = &st->await[0];
	uint64_t h = hash64(r->reply, r->reply_len);
	enum maillog_phase phase = MAILLOG_PHASE_NONE;
	size_t k, keep = r->reply_len < STATS_RECENT_TEXT ? r->reply_len :
	    STATS_RECENT_TEXT;

	if (same_proc(rc->proc, rc->proc_len, r->proc, r->proc_len) &&
	    rc->lineno + STATS_TAKEBACK_LINES >= lineno &&
	    rc->len == r->reply_len && memcmp(rc->text, r->reply, keep) == 0) {
		struct maillog_reply back = *r;

		back.filter = MAILLOG_FILTER_NONE;
		back.phase = rc->phase;
		back.dir = MAILLOG_DIR_LOCAL;
		account(st, &back, rc->t, true);
		phase = rc->phase;
		rc->proc_len = 0;
	}
	for (k = 0; k < sizeof(st->await) / sizeof(st->await[0]); k++)
		if (!st->await[k].live || same_proc(st->await[k].proc,
		    st->await[k].proc_len, r->proc, r->proc_len)) {
			w = &st->await[k];
			break;
		}
	w->live = true;
	w->proc_len = r->proc_len < STATS_PROC_MAX ? r->proc_len : STATS_PROC_MAX;
	memcpy(w->proc, r->proc, w->proc_len);
	w->phase = phase;
	w->in_hash = h;
	w->in_len = r->reply_len;
}

void stats_feed(struct stats *st, const struct maillog_reply *r,
		int64_t t, unsigned long long lineno)
{
	struct maillog_reply out;
	size_t k;

	if (r->filter == MAILLOG_FILTER_IN) {
		filter_in(st, r, lineno);
		return;
	}
	if (r->conn_error) {
		uint64_t h = hash64(r->reply, r->reply_len);

		if (r->repeat && st->conn_len == r->reply_len &&
		    st->conn_hash == h &&
		    st->conn_lineno + STATS_TAKEBACK_LINES >= lineno)
			return;		/* its host line counted it */
		if (!r->repeat) {
			st->conn_hash = h;
			st->conn_len = r->reply_len;
			st->conn_lineno = lineno;
		}
	}
	if (r->filter == MAILLOG_FILTER_NONE) {
		stats_add(st, r, t);
		/* a reject of smtpd: remembered for a filter "in" line */
		if (r->source == MAILLOG_SRC_POSTFIX_SMTPD && r->dir == MAILLOG_DIR_LOCAL &&
		    r->proc_len > 0 && r->proc_len <= STATS_PROC_MAX) {
			struct stats_recent *rc = recent_slot(st, r->proc,
			    r->proc_len);

			memcpy(rc->proc, r->proc, r->proc_len);
			rc->proc_len = r->proc_len;
			rc->lineno = lineno;
			rc->t = t;
			rc->phase = r->phase;
			rc->len = r->reply_len;
			memcpy(rc->text, r->reply, r->reply_len < STATS_RECENT_TEXT ?
			    r->reply_len : STATS_RECENT_TEXT);
		}
		return;
	}
	/* a filter "out" line: the reply sent, with its reject's phase */
	out = *r;
	out.filter = MAILLOG_FILTER_NONE;
	out.phase = MAILLOG_PHASE_NONE;
	for (k = 0; k < sizeof(st->await) / sizeof(st->await[0]); k++) {
		struct stats_awaiting *w = &st->await[k];

		if (w->live && same_proc(w->proc, w->proc_len, r->proc,
		    r->proc_len)) {
			out.phase = w->phase;
			if (w->in_len != r->reply_len ||
			    w->in_hash != hash64(r->reply, r->reply_len))
				st->filter_changed++;
			w->live = false;
			break;
		}
	}
	if (k == sizeof(st->await) / sizeof(st->await[0]))
		st->filter_changed++;	/* its "in" line was not read */
	stats_add(st, &out, t);
}

/* ---- merging -------------------------------------------------------------- */

static unsigned long long peers_floor(const struct stats *st)
{
	unsigned long long min = 0;
	size_t i;

	if (st->npeers < STATS_PEERS_MAX)
		return 0;	/* not full: a peer absent was never seen */
	min = st->peers[0].bad;
	for (i = 1; i < st->npeers; i++)
		if (st->peers[i].bad < min)
			min = st->peers[i].bad;
	return min;
}

static int peer_cmp(const void *x, const void *y)
{
	const struct stats_peer *a = x, *b = y;

	if (a->bad != b->bad)
		return a->bad > b->bad ? -1 : 1;
	return strcmp(a->name, b->name);
}

/*
 * The peers of A and B as one Space-Saving summary (Agarwal et al.,
 * "Mergeable summaries"): a peer missing from a full table may have had
 * up to that table's smallest count there, which is added to its count
 * and to its error; then the STATS_PEERS_MAX largest are kept.
 */
static void merge_peers(struct stats *a, const struct stats *b)
{
	unsigned long long fa = peers_floor(a), fb = peers_floor(b);
	struct stats_peer *all;
	size_t n = 0, i;

	all = malloc(2 * STATS_PEERS_MAX * sizeof(*all));
	if (all == NULL)
		return;		/* the peers of B are left out */
	for (i = 0; i < a->npeers; i++) {
		const struct stats_peer *q = peer_find((struct stats *)b,
		    a->peers[i].name);

		all[n] = a->peers[i];
		all[n].bad += q != NULL ? q->bad : fb;
		all[n].err += q != NULL ? q->err : fb;
		n++;
	}
	for (i = 0; i < b->npeers; i++) {
		if (peer_find(a, b->peers[i].name) != NULL)
			continue;
		all[n] = b->peers[i];
		all[n].bad += fa;
		all[n].err += fa;
		n++;
	}
	qsort(all, n, sizeof(*all), peer_cmp);
	if (n > STATS_PEERS_MAX)
		n = STATS_PEERS_MAX;
	memcpy(a->peers, all, n * sizeof(*all));
	a->npeers = n;
	memset(a->peer_index, 0, sizeof(a->peer_index));
	for (i = 0; i < n; i++)
		index_put(a, i);
	free(all);
}

void stats_merge(struct stats *a, const struct stats *b)
{
	size_t i, j, k;

	a->lines += b->lines;
	a->recognized += b->recognized;
	a->replies += b->replies;
	a->long_lines += b->long_lines;
	for (i = 0; i < MAILLOG_DIR__COUNT; i++)
		a->by_dir[i] += b->by_dir[i];
	for (i = 0; i < MAILLOG_PHASE__COUNT; i++)
		a->by_phase[i] += b->by_phase[i];
	for (i = 0; i < 1000; i++) {
		a->by_code[i] += b->by_code[i];
		a->nonstandard[i] += b->nonstandard[i];
	}
	a->no_code += b->no_code;
	for (i = 0; i < SR_D__COUNT; i++)
		a->diag[i] += b->diag[i];
	a->with_error += b->with_error;
	a->with_warning += b->with_warning;
	a->check_failed += b->check_failed;
	a->success += b->success;
	a->malformed += b->malformed;
	a->filter_changed += b->filter_changed;
	a->undated += b->undated;
	/* examples: those of A, then B's new ones while there is room */
	for (i = 0; i < SR_D__COUNT; i++)
		for (j = 0; j < b->nex[i]; j++) {
			const struct stats_example *e = &b->ex[i][j];

			for (k = 0; k < a->nex[i]; k++) {
				struct stats_example *f = &a->ex[i][k];

				if (f->len == e->len && f->dir == e->dir &&
				    f->phase == e->phase &&
				    memcmp(f->reply, e->reply, e->len) == 0) {
					f->count += e->count;
					break;
				}
			}
			if (k == a->nex[i] && a->nex[i] < STATS_EXAMPLES_MAX)
				a->ex[i][a->nex[i]++] = *e;
		}
	for (j = 0; j < b->nmal; j++) {
		const struct stats_malformed *e = &b->mal[j];

		for (k = 0; k < a->nmal; k++) {
			struct stats_malformed *f = &a->mal[k];

			if (f->len == e->len && f->dir == e->dir &&
			    f->phase == e->phase &&
			    memcmp(f->reply, e->reply, e->len) == 0) {
				f->count += e->count;
				break;
			}
		}
		if (k == a->nmal && a->nmal < STATS_EXAMPLES_MAX)
			a->mal[a->nmal++] = *e;
	}
	for (i = 0; i < b->nseries; i++)
		stats_series_add(a, (enum maillog_direction)b->series[i].dir,
		    (enum maillog_phase)b->series[i].phase, b->series[i].code,
		    b->series[i].enh, b->series[i].count);
	if (b->tl.n > 0) {
		stats_timeline_widen_to(&a->tl, b->tl.step);
		for (i = 0; i < b->tl.n; i++)
			for (k = 0; k < STATS_CLASS__COUNT; k++)
				if (b->tl.c[i][k] > 0)
					stats_timeline_add(&a->tl, b->tl.origin +
					    (int64_t)i * b->tl.step,
					    (enum stats_class)k, b->tl.c[i][k]);
	}
	merge_peers(a, b);
}
