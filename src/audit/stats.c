/*
 * stats.c - check each logged reply with the engine and count it.
 */
#include <stdint.h>
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
			const struct maillog_reply *r, const char *wire, size_t len,
			const struct sr_reply *rep, const struct sr_options *o,
			const char *stand_in)
{
	size_t keep = len < STATS_EXAMPLE_LEN ? len : STATS_EXAMPLE_LEN;
	struct stats_example *e;
	size_t i;

	for (i = 0; i < st->nex[id]; i++) {
		e = &st->ex[id][i];
		if (e->len == keep && e->dir == r->dir && e->phase == r->phase &&
		    memcmp(e->reply, wire, keep) == 0) {
			e->count++;
			return;
		}
	}
	if (st->nex[id] >= STATS_EXAMPLES_MAX)
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

/* ---- one reply ---------------------------------------------------------- */

void stats_add(struct stats *st, const struct maillog_reply *r)
{
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

	st->replies++;
	st->by_dir[r->dir]++;
	st->by_phase[r->phase]++;
	len = maillog_reply_wire(r->reply, r->reply_len, wire, STATS_REPLY_MAX);
	if (r->has_code) {
		if (sr_reply_parse(&rep, wire, len) != 0) {
			st->check_failed++;
			sr_reply_release(&rep);
			return;
		}
		sr_check(&rep, &o, &chk);
		code = sr_reply_code(&rep);
		if (code >= 0)
			st->by_code[code]++;
	} else {
		st->no_code++;
		if (sr_check_without_code(wire, len, &o, &chk, stand_in) != 0) {
			st->check_failed++;
			return;
		}
	}
	if (code >= 0 && (sr_check_find(&chk, SR_D_CODE_NONSTANDARD) != NULL ||
	    sr_check_find(&chk, SR_D_CODE_SYNTAX) != NULL))
		st->nonstandard[code]++;
	for (i = 0; i < chk.ndiags; i++) {
		enum sr_diag_id id = chk.diags[i].id;
		enum sr_severity sev = sr_diag_severity(id);

		st->diag[id]++;
		err |= sev == SR_SEV_ERROR;
		warn |= sev == SR_SEV_WARNING;
		add_example(st, id, r, wire, len, r->has_code ? &rep : NULL, &o,
		    stand_in);
	}
	st->with_error += err;
	st->with_warning += warn && !err;
	if (r->dir == MAILLOG_DIR_REMOTE && (err || warn) && r->peer[0] != '\0')
		peer_count(st, r->peer);
	if (r->has_code)
		sr_reply_release(&rep);
}
