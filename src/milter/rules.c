/*
 * SPDX-License-Identifier: ISC
 * rules.c - compile rule conditions and match rules against a session.
 *
 * Regular expressions are compiled once (JIT when PCRE2 has it) with a
 * match limit, so that a pathological pattern cannot stall a worker. The
 * match data a match needs is allocated per rules_match() call: compiled
 * patterns are shared by every thread, match data is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

/* Backtracking bound per match; far above what a sane pattern needs. */
#define RULE_MATCH_LIMIT 1000000

static const char *const phase_names[RULE_PHASE__COUNT] = {
	"connect", "helo", "mail", "rcpt", "data", "header", "eom"
};
static const char *const action_names[RULE_ACTION__COUNT] = {
	"accept", "reject", "tempfail", "discard", "quarantine", "continue"
};
static const char *const cond_names[RULE_COND__COUNT] = {
	"client", "client_name", "helo", "sender", "rcpt", "header", "macro",
	"authenticated"
};

const char *rule_phase_name(enum rule_phase p)
{
	return (unsigned)p < RULE_PHASE__COUNT ? phase_names[p] : "?";
}

int rule_phase_lookup(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < RULE_PHASE__COUNT; i++)
		if (strcmp(name, phase_names[i]) == 0)
			return i;
	return -1;
}

const char *rule_action_name(enum rule_action a)
{
	return (unsigned)a < RULE_ACTION__COUNT ? action_names[a] : "?";
}

int rule_action_lookup(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < RULE_ACTION__COUNT; i++)
		if (strcmp(name, action_names[i]) == 0)
			return i;
	return -1;
}

const char *rule_cond_name(enum rule_cond c)
{
	return (unsigned)c < RULE_COND__COUNT ? cond_names[c] : "?";
}

enum sr_phase rule_phase_sr(enum rule_phase p)
{
	switch (p) {
	/*
	 * A milter's reply to the connection or to HELO is not a greeting
	 * nor an EHLO reply: Postfix answers the commands after them with
	 * it, MAIL first, once ENHANCEDSTATUSCODES has been announced. So it
	 * is normalized as a reply at MAIL (and gets an enhanced code).
	 */
	case RULE_PHASE_CONNECT:
	case RULE_PHASE_HELO:
	case RULE_PHASE_MAIL:		return SR_PHASE_MAIL;
	case RULE_PHASE_RCPT:		return SR_PHASE_RCPT;
	case RULE_PHASE_DATA:		return SR_PHASE_DATA;
	case RULE_PHASE_HEADER:
	case RULE_PHASE_EOM:		return SR_PHASE_EOM;
	default:			return SR_PHASE_OTHER;
	}
}

bool rule_cond_available(enum rule_cond c, enum rule_phase p)
{
	switch (c) {
	case RULE_COND_CLIENT:
	case RULE_COND_CLIENT_NAME:
	case RULE_COND_MACRO:
		return true;
	case RULE_COND_HELO:
		return p >= RULE_PHASE_HELO;
	case RULE_COND_SENDER:
	case RULE_COND_AUTHENTICATED:
		return p >= RULE_PHASE_MAIL;
	case RULE_COND_RCPT:
		return p == RULE_PHASE_RCPT;
	case RULE_COND_HEADER:
		return p == RULE_PHASE_HEADER;
	default:
		return false;
	}
}

/* ---- regular expressions ------------------------------------------------ */

void rule_regex_free(struct rule_regex *rx)
{
	if (rx == NULL)
		return;
	free(rx->source);
	pcre2_code_free(rx->code);
	pcre2_match_context_free(rx->mctx);
	memset(rx, 0, sizeof(*rx));
}

int rule_regex_compile(struct rule_regex *rx, const char *src, char *err,
		       size_t errsize)
{
	const char *last;
	uint32_t opts = 0;
	size_t len, plen, i;
	int ecode;
	PCRE2_SIZE eoff;

	memset(rx, 0, sizeof(*rx));
	if (errsize > 0)
		err[0] = '\0';
	len = src != NULL ? strlen(src) : 0;
	last = len >= 2 && src[0] == '/' ? strrchr(src, '/') : NULL;
	if (last == NULL || last == src) {
		snprintf(err, errsize,
			 "regular expression must be written /.../ (optional flag i)");
		return -1;
	}
	for (i = 1; last[i] != '\0'; i++) {
		if (last[i] == 'i')
			opts |= PCRE2_CASELESS;
		else {
			if ((unsigned char)last[i] > 0x20 && (unsigned char)last[i] < 0x7f)
				snprintf(err, errsize,
					 "unknown regular expression flag '%c' (only i)",
					 last[i]);
			else
				snprintf(err, errsize,
					 "unknown regular expression flag (only i)");
			return -1;
		}
	}
	plen = (size_t)(last - src) - 1;
	rx->source = strdup(src);
	if (rx->source == NULL)
		goto nomem;
	rx->code = pcre2_compile((PCRE2_SPTR)(src + 1), plen, opts, &ecode,
				 &eoff, NULL);
	if (rx->code == NULL) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(ecode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ecode);
		/* The reason and offset first: a long pattern is cut, not them. */
		snprintf(err, errsize, "bad regular expression: %s at offset %zu "
			 "in %.60s%s", (const char *)msg, (size_t)eoff, src,
			 len > 60 ? "..." : "");
		rule_regex_free(rx);
		return -1;
	}
	/* JIT is an optimization: without it, pcre2_match() interprets. */
	(void)pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE);
	rx->mctx = pcre2_match_context_create(NULL);
	if (rx->mctx == NULL)
		goto nomem;
	pcre2_set_match_limit(rx->mctx, RULE_MATCH_LIMIT);
	return 0;
nomem:
	snprintf(err, errsize, "out of memory");
	rule_regex_free(rx);
	return -1;
}

/*
 * 1 match, 0 none, -1 error (PCRE2's code in *PCRE_RC). A NULL subject
 * never matches. The subject is looked at whole: a bound here would let a
 * long value slip past an end-anchored rule (the MTA bounds what it
 * sends).
 */
static int regex_match(const struct rule_regex *rx, const char *subject,
		       pcre2_match_data *md, int *pcre_rc)
{
	int rc;

	if (subject == NULL)
		return 0;
	rc = pcre2_match(rx->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0,
			 md, rx->mctx);
	if (rc >= 0)
		return 1;	/* 0: matched, ovector too small for groups */
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_BADUTFOFFSET ||
	    (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21))
		return 0;
	*pcre_rc = rc;
	return -1;
}

/* ---- rules ----------------------------------------------------------------- */

struct rule *rule_new(const char *name)
{
	struct rule *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->name = strdup(name != NULL ? name : "");
	if (r->name == NULL) {
		free(r);
		return NULL;
	}
	r->action = RULE_CONTINUE;
	r->authenticated = -1;
	return r;
}

void rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->clients);
	rule_regex_free(&r->client_name);
	rule_regex_free(&r->helo);
	rule_regex_free(&r->sender);
	rule_regex_free(&r->rcpt);
	free(r->header_name);
	rule_regex_free(&r->header_value);
	free(r->macro_name);
	rule_regex_free(&r->macro_value);
	free(r);
}

void rule_set_init(struct rule_set *rs)
{
	memset(rs, 0, sizeof(*rs));
}

/* FNV-1a: names are short, chosen by the administrator. */
static size_t name_hash(const char *name)
{
	size_t h = (size_t)2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * (size_t)16777619u;
	return h;
}

/*
 * Put R into the name index unless a rule of its name is there. Returns
 * how many slots were visited.
 */
static size_t name_insert(struct rule **slots, size_t nslots, struct rule *r)
{
	size_t i = name_hash(r->name) & (nslots - 1), visits = 1;

	while (slots[i] != NULL) {
		if (strcmp(slots[i]->name, r->name) == 0)
			return visits;
		i = (i + 1) & (nslots - 1);
		visits++;
	}
	slots[i] = r;
	return visits;
}

/* Room in the name index for one more rule. 0 or -1 (memory). */
static int name_reserve(struct rule_set *rs)
{
	struct rule **nv;
	size_t n, i;

	if ((rs->nrules + 1) * 2 <= rs->name_slots)
		return 0;
	n = rs->name_slots ? rs->name_slots * 2 : 32;
	if (n > SIZE_MAX / sizeof(*nv) || (nv = calloc(n, sizeof(*nv))) == NULL)
		return -1;
	for (i = 0; i < rs->nrules; i++)
		rs->name_visits += name_insert(nv, n, rs->rules[i]);
	free(rs->by_name);
	rs->by_name = nv;
	rs->name_slots = n;
	return 0;
}

int rule_set_add(struct rule_set *rs, struct rule *r)
{
	if (name_reserve(rs) != 0) {
		rule_free(r);
		return -1;
	}
	if (rs->nrules == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 16;
		struct rule **nv;

		if (ncap > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(rs->rules, ncap * sizeof(*nv))) == NULL) {
			rule_free(r);
			return -1;
		}
		rs->rules = nv;
		rs->cap = ncap;
	}
	rs->rules[rs->nrules++] = r;
	rs->name_visits += name_insert(rs->by_name, rs->name_slots, r);
	return 0;
}

int rule_set_finish(struct rule_set *rs)
{
	size_t i;
	int p;

	for (p = 0; p < RULE_PHASE__COUNT; p++) {
		free(rs->by_phase[p]);
		rs->by_phase[p] = NULL;
		rs->nby_phase[p] = 0;
	}
	for (i = 0; i < rs->nrules; i++)
		rs->nby_phase[rs->rules[i]->phase]++;
	for (p = 0; p < RULE_PHASE__COUNT; p++) {
		if (rs->nby_phase[p] == 0)
			continue;
		rs->by_phase[p] = calloc(rs->nby_phase[p], sizeof(struct rule *));
		if (rs->by_phase[p] == NULL)
			return -1;
		rs->nby_phase[p] = 0;
	}
	for (i = 0; i < rs->nrules; i++) {
		struct rule *r = rs->rules[i];

		rs->by_phase[r->phase][rs->nby_phase[r->phase]++] = r;
	}
	return 0;
}

void rule_set_free(struct rule_set *rs)
{
	size_t i;
	int p;

	for (i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	free(rs->by_name);
	for (p = 0; p < RULE_PHASE__COUNT; p++)
		free(rs->by_phase[p]);
	memset(rs, 0, sizeof(*rs));
}

const struct rule *rule_set_find(const struct rule_set *rs, const char *name)
{
	size_t i;

	if (rs->name_slots == 0)
		return NULL;
	for (i = name_hash(name) & (rs->name_slots - 1); rs->by_name[i] != NULL;
	    i = (i + 1) & (rs->name_slots - 1))
		if (strcmp(rs->by_name[i]->name, name) == 0)
			return rs->by_name[i];
	return NULL;
}

/* The client address parsed once per match call. */
struct client_cache {
	bool parsed;
	bool ok;
	struct cidr_addr addr;
};

static const char *macro_get(const struct rules_session *s, const char *name)
{
	if (s->macro == NULL || name == NULL)
		return NULL;
	return s->macro(s->macro_ctx, name);
}

#define TRY(expr)                                                       \
	do {                                                            \
		int try_rc_ = (expr);                                   \
		if (try_rc_ <= 0)                                       \
			return try_rc_;                                 \
	} while (0)

/* 1, 0, or -1 with *PCRE_RC (0: out of memory). */
static int rule_matches_md(const struct rule *r, const struct rules_session *s,
			   pcre2_match_data *md, struct client_cache *cc,
			   int *pcre_rc)
{
	if (r->nclients > 0) {
		if (!cc->parsed) {
			cc->parsed = true;
			cc->ok = cidr_addr_parse(s->client_addr, &cc->addr) == 0;
		}
		if (!cc->ok || !cidr_list_match(r->clients, r->nclients, &cc->addr))
			return 0;
	}
	if (r->authenticated >= 0) {
		const char *v = macro_get(s, "{auth_authen}");
		bool auth = v != NULL && *v != '\0';

		if (auth != (r->authenticated == 1))
			return 0;
	}
	if (r->client_name.code != NULL)
		TRY(regex_match(&r->client_name, s->client_name, md, pcre_rc));
	if (r->helo.code != NULL)
		TRY(regex_match(&r->helo, s->helo, md, pcre_rc));
	if (r->sender.code != NULL)
		TRY(regex_match(&r->sender, s->sender, md, pcre_rc));
	if (r->rcpt.code != NULL)
		TRY(regex_match(&r->rcpt, s->rcpt, md, pcre_rc));
	if (r->header_name != NULL) {
		if (s->header_name == NULL ||
		    strcasecmp(s->header_name, r->header_name) != 0)
			return 0;
		if (r->header_value.code != NULL)
			TRY(regex_match(&r->header_value, s->header_value, md, pcre_rc));
		else if (s->header_value == NULL)
			return 0;
	}
	if (r->macro_name != NULL) {
		const char *v = macro_get(s, r->macro_name);

		if (r->macro_value.code != NULL)
			TRY(regex_match(&r->macro_value, v, md, pcre_rc));
		else if (v == NULL || *v == '\0')
			return 0;
	}
	return 1;
}

int rule_matches(const struct rule *r, const struct rules_session *s)
{
	struct client_cache cc = { false, false, { 0, { 0 } } };
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc, prc = 0;

	if (md == NULL)
		return -1;
	rc = rule_matches_md(r, s, md, &cc, &prc);
	pcre2_match_data_free(md);
	return rc;
}

/* What went wrong, for the log: PCRE2's message for its code. */
static void error_text(int pcre_rc, char *buf, size_t size)
{
	PCRE2_UCHAR msg[160];

	if (pcre_rc == 0 || pcre2_get_error_message(pcre_rc, msg, sizeof(msg)) < 0)
		snprintf(buf, size, "out of memory");
	else
		snprintf(buf, size, "regular expression: %s (PCRE2 error %d)",
			 (const char *)msg, pcre_rc);
}

int rules_match(const struct rule_set *rs, enum rule_phase phase,
		const struct rules_session *s, rules_continue_fn on_continue,
		void *ctx, const struct rule **matched)
{
	struct client_cache cc = { false, false, { 0, { 0 } } };
	pcre2_match_data *md;
	size_t i;
	int rc = 0;

	*matched = NULL;
	if ((unsigned)phase >= RULE_PHASE__COUNT || rs->nby_phase[phase] == 0)
		return 0;
	md = pcre2_match_data_create(1, NULL);
	if (md == NULL)
		return -1;
	for (i = 0; i < rs->nby_phase[phase]; i++) {
		const struct rule *r = rs->by_phase[phase][i];
		int prc = 0;

		rc = rule_matches_md(r, s, md, &cc, &prc);
		if (rc < 0) {
			char why[256];

			error_text(prc, why, sizeof(why));
			if (s->on_error != NULL && s->on_error(s->error_ctx, r, why)) {
				rc = 0;		/* counts as not matching */
				continue;
			}
			*matched = r;		/* the rule that failed */
			break;
		}
		if (rc == 0)
			continue;
		if (r->action == RULE_CONTINUE) {
			if (on_continue != NULL)
				on_continue(ctx, r);
			rc = 0;
			continue;
		}
		*matched = r;
		break;
	}
	pcre2_match_data_free(md);
	return rc;
}

unsigned rules_phases_needed(const struct rule_set *rs)
{
	unsigned mask = 0;
	int p;

	for (p = 0; p < RULE_PHASE__COUNT; p++)
		if (rs->nby_phase[p] > 0)
			mask |= 1u << p;
	return mask;
}

static void add_name(const char **names, size_t max, size_t *n,
		     const char *name)
{
	size_t i;

	for (i = 0; i < *n && i < max; i++)
		if (strcmp(names[i], name) == 0)
			return;
	if (*n < max)
		names[*n] = name;
	(*n)++;
}

size_t rules_macros_needed(const struct rule_set *rs, enum rule_phase phase,
			   const char **names, size_t max)
{
	size_t i, n = 0;

	if ((unsigned)phase >= RULE_PHASE__COUNT)
		return 0;
	for (i = 0; i < rs->nby_phase[phase]; i++) {
		const struct rule *r = rs->by_phase[phase][i];

		if (r->authenticated >= 0)
			add_name(names, max, &n, "{auth_authen}");
		if (r->macro_name != NULL)
			add_name(names, max, &n, r->macro_name);
	}
	return n;
}
