/*
 * SPDX-License-Identifier: ISC
 * test_properties.c - property tests of the reply engine.
 *
 * For every reply of the shared corpus (tests/data/replies.txt) and for
 * N pseudo-random replies made by mutating corpus entries (fixed seed,
 * deterministic), in every phase, in wire and milter context, with UTF-8
 * off and on: check the reply and normalize it. When normalization
 * succeeds the result must
 *  (a) parse and check with no error-level diagnostic in the same options,
 *  (b) normalize again to the same status and the same bytes (idempotent),
 *  (c) have no line over 512 octets counting CRLF,
 *  (d) in milter context, have at most 32 lines, each with at most 980
 *      bytes of text once sr_milter_escape() has doubled every '%',
 *  (e) carry one code and enhanced code on every line, as the structure
 *      says, and normalize from parts (code, enhanced, texts) to itself;
 *  (f) never be weaker than the input: the class of its code is at least
 *      as severe (5 > 4 > 2, 3) as that of any input line (the code's
 *      first digit, or the enhanced code's class when the line has only
 *      that), so that a reject never becomes an accept;
 * and when it does not, say why. Each (phase, context) pair is its own
 * test. Every reply is also built from parts, split on NUL bytes as the
 * fuzzer does (code, enhanced code, texts), and held to the same
 * properties. Failures are reported with the input in the corpus's
 * escaped form.
 *
 * Environment: SR_TEST_DATA (directory of replies.txt), SR_PROPERTY_N
 * (number of random replies, default 20000), SR_PROPERTY_SEED, and
 * SR_PROPERTY_DUMP: a directory where each failing case is written as a
 * fuzz_reply input (options byte + reply), for "fuzz_reply FILE" and
 * "fuzz_reply -minimize_crash=1 FILE".
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smtpreply/smtpreply.h>

#include "../corpus.h"
#include "../severity.h"
#include "testutil.h"

#define RANDOM_DEFAULT_N	20000
#define RANDOM_DEFAULT_SEED	UINT64_C(0x5eed5321c0ffee01)
#define MUTANT_MAX		(24 * 1024)
#define FAIL_REPORT_MAX		10	/* failures printed per test */
#define NCOMBO			(SR_PHASE__COUNT * 2)
#define MAX_PARTS_TEXT		40	/* as in fuzz/fuzz_reply.c */

/* Set up by main() before the tests run (and fork). */
static struct sr_corpus corpus;
static struct sr_corpus randoms;

/* The outcome of one test: how many cases, how many failed, the first. */
struct prop_state {
	const char *form;	/* "wire" or "parts": how it was built */
	unsigned long cases;
	unsigned long ok;
	unsigned long unfixable;
	unsigned long failures;
	char first[1024];
};

/* ---- reporting ----------------------------------------------------------- */

/* Write the failing case as a fuzz_reply input into $SR_PROPERTY_DUMP. */
static void dump_case(const char *in, size_t len, const struct sr_options *o)
{
	const char *dir = getenv("SR_PROPERTY_DUMP");
	char path[4096];
	uint64_t h = UINT64_C(1469598103934665603);
	unsigned char opt;
	size_t i;
	FILE *fp;

	if (dir == NULL || *dir == '\0')
		return;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)in[i]) * UINT64_C(1099511628211);
	opt = (unsigned char)(o->phase * 4 + (o->utf8 ? 2 : 0)
			      + (o->context == SR_CONTEXT_MILTER ? 1 : 0));
	snprintf(path, sizeof(path), "%s/fail-%s-%s-%d-%016llx", dir,
		 sr_phase_name(o->phase), sr_context_name(o->context),
		 (int)o->utf8, (unsigned long long)h);
	if ((fp = fopen(path, "wb")) == NULL)
		return;
	fputc(opt, fp);
	fwrite(in, 1, len, fp);
	fclose(fp);
}

static void prop_fail(struct prop_state *ps, const char *in, size_t len,
		      const struct sr_options *o, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void prop_fail(struct prop_state *ps, const char *in, size_t len,
		      const struct sr_options *o, const char *fmt, ...)
{
	char what[400], esc[480], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sr_corpus_escape(in, len, esc, sizeof(esc));
	snprintf(msg, sizeof(msg), "phase=%s context=%s utf8=%d %s: %s; "
		 "input=\"%s\"", sr_phase_name(o->phase),
		 sr_context_name(o->context), (int)o->utf8, ps->form, what,
		 esc);
	if (ps->failures == 0)
		memcpy(ps->first, msg, sizeof(ps->first));
	if (ps->failures < FAIL_REPORT_MAX)
		fprintf(stderr, "property failed: %s\n", msg);
	dump_case(in, len, o);
	ps->failures++;
}

/* The names of the error-level diagnostics in C, for messages. */
static const char *error_names(const struct sr_check *c, char *buf, size_t size)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < c->ndiags && i < SR_D__COUNT; i++) {
		if (sr_diag_severity(c->diags[i].id) != SR_SEV_ERROR)
			continue;
		n = snprintf(buf + o, size - o, "%s%s(line %u)", o ? " " : "",
			     sr_diag_name(c->diags[i].id), c->diags[i].line);
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	return buf;
}

/* ---- properties ---------------------------------------------------------- */

/*
 * The check result C of a reply of NLINES lines is consistent: each id at
 * most once, severity counts add up, strings terminated, messages format.
 */
static void check_diags(struct prop_state *ps, const char *in, size_t len,
			const struct sr_options *o, const struct sr_check *c,
			size_t nlines)
{
	unsigned seen[SR_D__COUNT] = { 0 };
	unsigned sev[3] = { 0, 0, 0 };
	const struct sr_diag *d;
	char msg[512];
	size_t i, flen;

	if (c->ndiags > SR_D__COUNT) {
		prop_fail(ps, in, len, o, "check: %zu diagnostics", c->ndiags);
		return;
	}
	for (i = 0; i < c->ndiags; i++) {
		d = &c->diags[i];
		if ((unsigned)d->id >= SR_D__COUNT) {
			prop_fail(ps, in, len, o, "check: bad id %d",
				  (int)d->id);
			return;
		}
		if (seen[d->id]++) {
			prop_fail(ps, in, len, o, "check: %s reported twice",
				  sr_diag_name(d->id));
			return;
		}
		if ((unsigned)sr_diag_severity(d->id) > SR_SEV_ERROR) {
			prop_fail(ps, in, len, o, "check: %s: bad severity",
				  sr_diag_name(d->id));
			return;
		}
		sev[sr_diag_severity(d->id)]++;
		if (d->line < 1 || d->line > nlines)
			prop_fail(ps, in, len, o, "check: %s at line %u of %zu",
				  sr_diag_name(d->id), d->line, nlines);
		if (memchr(d->token, '\0', sizeof(d->token)) == NULL
		    || memchr(d->want, '\0', sizeof(d->want)) == NULL)
			prop_fail(ps, in, len, o, "check: %s: unterminated "
				  "token or want", sr_diag_name(d->id));
		if (sr_check_find(c, d->id) != d)
			prop_fail(ps, in, len, o, "check: sr_check_find(%s) "
				  "does not find it", sr_diag_name(d->id));
		flen = sr_diag_format(d, msg, sizeof(msg));
		if (flen < sizeof(msg) && strlen(msg) != flen)
			prop_fail(ps, in, len, o, "check: %s: message length "
				  "%zu, returned %zu", sr_diag_name(d->id),
				  strlen(msg), flen);
		if (strpbrk(msg, "\r\n") != NULL)
			prop_fail(ps, in, len, o, "check: %s: message has CR "
				  "or LF", sr_diag_name(d->id));
	}
	if (sev[SR_SEV_ERROR] != c->errors || sev[SR_SEV_WARNING] != c->warnings
	    || sev[SR_SEV_INFO] != c->infos)
		prop_fail(ps, in, len, o, "check: counts %u/%u/%u, diagnostics "
			  "say %u/%u/%u", c->errors, c->warnings, c->infos,
			  sev[SR_SEV_ERROR], sev[SR_SEV_WARNING],
			  sev[SR_SEV_INFO]);
}

/* The change list of N is well-formed. */
static void check_changes(struct prop_state *ps, const char *in, size_t len,
			  const struct sr_options *o,
			  const struct sr_normalized *n)
{
	unsigned seen[SR_D__COUNT] = { 0 };
	size_t i;

	if (n->nchanges > SR_D__COUNT) {
		prop_fail(ps, in, len, o, "normalize: %zu changes",
			  n->nchanges);
		return;
	}
	for (i = 0; i < n->nchanges; i++) {
		if ((unsigned)n->changes[i].id >= SR_D__COUNT) {
			prop_fail(ps, in, len, o, "normalize: change with bad "
				  "id %d", (int)n->changes[i].id);
			return;
		}
		if (seen[n->changes[i].id]++)
			prop_fail(ps, in, len, o, "normalize: two changes for "
				  "%s", sr_diag_name(n->changes[i].id));
		if (memchr(n->changes[i].before, '\0',
			   sizeof(n->changes[i].before)) == NULL
		    || memchr(n->changes[i].after, '\0',
			      sizeof(n->changes[i].after)) == NULL)
			prop_fail(ps, in, len, o, "normalize: change %s not "
				  "terminated", sr_diag_name(n->changes[i].id));
	}
}

/*
 * The wire form of N: NUL-terminated, no NUL inside, lines joined by CRLF
 * with no bare CR or LF, each at most 510 octets (512 with CRLF), as many
 * as N says, each starting with N's code and enhanced code.
 */
static void check_wire(struct prop_state *ps, const char *in, size_t len,
		       const struct sr_options *o,
		       const struct sr_normalized *n)
{
	const char *w = n->wire, *line, *end, *p;
	size_t nlines = 0, ll, cl, el;

	if (w == NULL) {
		prop_fail(ps, in, len, o, "normalize: OK but wire is NULL");
		return;
	}
	if (w[n->wire_len] != '\0' || memchr(w, '\0', n->wire_len) != NULL) {
		prop_fail(ps, in, len, o, "normalize: wire not a string of "
			  "%zu bytes", n->wire_len);
		return;
	}
	cl = strnlen(n->code, sizeof(n->code));
	el = strnlen(n->enhanced, sizeof(n->enhanced));
	if (cl != 3 || strspn(n->code, "0123456789") != 3)
		prop_fail(ps, in, len, o, "normalize: code \"%.4s\"", n->code);
	if (el == sizeof(n->enhanced))
		prop_fail(ps, in, len, o, "normalize: enhanced unterminated");
	for (line = w;; line = end + 2) {
		nlines++;
		end = strstr(line, "\r\n");
		ll = end ? (size_t)(end - line) : strlen(line);
		for (p = line; p < line + ll; p++)
			if (*p == '\r' || *p == '\n')
				break;
		if (p < line + ll) {
			prop_fail(ps, in, len, o, "(c) line %zu has a bare %s",
				  nlines, *p == '\r' ? "CR" : "LF");
			return;
		}
		if (ll + 2 > SR_WIRE_LINE_MAX)
			prop_fail(ps, in, len, o, "(c) line %zu is %zu octets "
				  "with CRLF", nlines, ll + 2);
		if (ll < 3 || memcmp(line, n->code, 3) != 0
		    || (ll > 3 && line[3] != (end ? '-' : ' '))
		    || (ll == 3 && end != NULL)
		    || (el > 0 && el < sizeof(n->enhanced)
			&& (ll < 4 + el
			    || memcmp(line + 4, n->enhanced, el) != 0
			    || (ll > 4 + el && line[4 + el] != ' '))))
			prop_fail(ps, in, len, o, "(e) line %zu does not start "
				  "with \"%s%c%s\"", nlines, n->code,
				  end ? '-' : ' ', n->enhanced);
		if (end == NULL)
			break;
	}
	if (nlines != n->nlines)
		prop_fail(ps, in, len, o, "normalize: nlines %zu, wire has %zu",
			  n->nlines, nlines);
}

/*
 * Walk the texts of N: as many as its lines; in milter context at most 32
 * lines and at most 980 bytes of escaped text each (d). Fills TEXTS (up
 * to MAXTEXT) with NUL-terminated copies when TEXTS is not NULL; returns
 * how many texts there were, or -1 after a failure or when memory ran out.
 */
static long check_texts(struct prop_state *ps, const char *in, size_t len,
			const struct sr_options *o,
			const struct sr_normalized *n, char **texts,
			size_t maxtext)
{
	char esc[2 * SR_MILTER_TEXT_MAX + 16];
	struct sr_span t;
	size_t pos = 0, i, nt = 0, elen, pct;

	if (o->context == SR_CONTEXT_MILTER && n->nlines > SR_MILTER_LINES_MAX)
		prop_fail(ps, in, len, o, "(d) %zu lines in milter context",
			  n->nlines);
	while (sr_normalized_next_text(n, &pos, &t)) {
		if (nt >= n->nlines) {
			prop_fail(ps, in, len, o, "next_text: more texts than "
				  "the %zu lines", n->nlines);
			return -1;
		}
		if (t.len > 0 && (t.p < n->wire || t.p + t.len
				  > n->wire + n->wire_len)) {
			prop_fail(ps, in, len, o, "next_text: text %zu is not "
				  "inside wire", nt + 1);
			return -1;
		}
		for (i = 0, pct = 0; i < t.len; i++)
			pct += t.p[i] == '%';
		elen = sr_milter_escape(t, esc, sizeof(esc));
		if (elen != t.len + pct)
			prop_fail(ps, in, len, o, "sr_milter_escape: %zu bytes "
				  "for %zu with %zu '%%'", elen, t.len, pct);
		else if (elen < sizeof(esc) && strlen(esc) != elen)
			prop_fail(ps, in, len, o, "sr_milter_escape: result "
				  "not terminated at %zu", elen);
		if (o->context == SR_CONTEXT_MILTER
		    && elen > SR_MILTER_TEXT_MAX)
			prop_fail(ps, in, len, o, "(d) line %zu: %zu bytes of "
				  "escaped text", nt + 1, elen);
		if (texts != NULL && nt < maxtext) {
			if ((texts[nt] = malloc(t.len + 1)) == NULL) {
				prop_fail(ps, in, len, o, "out of memory");
				return -1;
			}
			memcpy(texts[nt], t.p, t.len);
			texts[nt][t.len] = '\0';
		}
		nt++;
	}
	if (nt != n->nlines) {
		prop_fail(ps, in, len, o, "next_text: %zu texts for %zu lines",
			  nt, n->nlines);
		return -1;
	}
	return (long)nt;
}

/* (b) and (e): normalizing R again gives N, byte for byte. */
static void check_again(struct prop_state *ps, const char *in, size_t len,
			const struct sr_options *o,
			const struct sr_normalized *n, const struct sr_reply *r,
			const char *how)
{
	struct sr_normalized n2;
	char esc[200];

	sr_normalize(r, o, &n2);
	if (n2.status != SR_NORM_OK)
		prop_fail(ps, in, len, o, "%s: status %d (%s)", how,
			  (int)n2.status, n2.why);
	else if (n2.wire_len != n->wire_len
		 || memcmp(n2.wire, n->wire, n->wire_len) != 0)
		prop_fail(ps, in, len, o, "%s: gives \"%s\"", how,
			  sr_corpus_escape(n2.wire, n2.wire_len, esc,
					   sizeof(esc)));
	else if (strcmp(n2.code, n->code) != 0
		 || strcmp(n2.enhanced, n->enhanced) != 0
		 || n2.nlines != n->nlines)
		prop_fail(ps, in, len, o, "%s: same wire, but code %s/%s, "
			  "enhanced %s/%s, lines %zu/%zu", how, n2.code,
			  n->code, n2.enhanced, n->enhanced, n2.nlines,
			  n->nlines);
	sr_normalized_release(&n2);
}

/*
 * All properties of reply R, built from IN[LEN] (for messages), in
 * options O.
 */
static void check_built(struct prop_state *ps, const char *in, size_t len,
			const struct sr_options *o, const struct sr_reply *r)
{
	struct sr_reply r2, r3;
	struct sr_check chk, chk2;
	struct sr_normalized n;
	char names[256], esc[200];
	char *texts[SR_MILTER_LINES_MAX * 8];
	long nt;
	size_t i;

	ps->cases++;
	if (r->nlines < 1)
		prop_fail(ps, in, len, o, "%zu lines", r->nlines);
	(void)sr_reply_code(r);
	sr_check(r, o, &chk);
	check_diags(ps, in, len, o, &chk, r->nlines);
	sr_normalize(r, o, &n);
	check_changes(ps, in, len, o, &n);

	if (n.status != SR_NORM_OK) {
		if (n.status != SR_NORM_UNFIXABLE)
			prop_fail(ps, in, len, o, "normalize: status %d",
				  (int)n.status);
		else if (memchr(n.why, '\0', sizeof(n.why)) == NULL
			 || n.why[0] == '\0')
			prop_fail(ps, in, len, o, "normalize: unfixable, "
				  "but why is empty or unterminated");
		ps->unfixable++;
		goto out;
	}
	ps->ok++;
	/* (f) never weaker than any line. */
	if (class_rank(n.code[0] - '0') < reply_rank(r))
		prop_fail(ps, in, len, o, "(f) result code %s is weaker than a "
			  "line of the input", n.code);
	check_wire(ps, in, len, o, &n);
	if (n.wire == NULL)
		goto out;

	/* (a) the result checks clean. */
	if (sr_reply_parse(&r2, n.wire, n.wire_len) != 0) {
		prop_fail(ps, in, len, o, "sr_reply_parse of the result "
			  "failed");
	} else {
		sr_check(&r2, o, &chk2);
		check_diags(ps, in, len, o, &chk2, r2.nlines);
		if (chk2.errors != 0)
			prop_fail(ps, in, len, o, "(a) result \"%s\" has %u "
				  "error(s): %s", sr_corpus_escape(n.wire,
				  n.wire_len, esc, sizeof(esc)), chk2.errors,
				  error_names(&chk2, names, sizeof(names)));
		/* (b) idempotent. */
		check_again(ps, in, len, o, &n, &r2, "(b) normalizing the "
			    "result again");
	}
	sr_reply_release(&r2);

	/* (d), and (e): the parts of the result give the result. */
	memset(texts, 0, sizeof(texts));
	nt = check_texts(ps, in, len, o, &n, texts,
			 sizeof(texts) / sizeof(texts[0]));
	if (nt > 0 && (size_t)nt <= sizeof(texts) / sizeof(texts[0])) {
		if (sr_reply_from_parts(&r3, n.code, n.enhanced,
		    (const char *const *)texts, (size_t)nt) != 0) {
			prop_fail(ps, in, len, o, "sr_reply_from_parts of the "
				  "result failed");
			sr_reply_release(&r3);
		} else {
			check_again(ps, in, len, o, &n, &r3, "(e) the result "
				    "from parts");
			sr_reply_release(&r3);
		}
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		free(texts[i]);
out:
	sr_normalized_release(&n);
}

/* The reply IN[LEN] in wire form. */
static void check_wire_form(struct prop_state *ps, const char *in, size_t len,
			    const struct sr_options *o)
{
	struct sr_reply r;

	ps->form = "wire";
	if (sr_reply_parse(&r, in, len) != 0)
		prop_fail(ps, in, len, o, "sr_reply_parse failed");
	else
		check_built(ps, in, len, o, &r);
	sr_reply_release(&r);
}

/*
 * The reply IN[LEN] from parts, split on NUL bytes as fuzz_reply does:
 * code, enhanced code (absent: NULL), then at most MAX_PARTS_TEXT texts.
 * Without a NUL the whole reply is the code: codes come from people too
 * ("55O", "550 5.7.1").
 */
static void check_parts_form(struct prop_state *ps, const char *in, size_t len,
			     const struct sr_options *o)
{
	const char *parts[2 + MAX_PARTS_TEXT];
	struct sr_reply r;
	size_t nparts = 0, i = 0;
	char *copy;

	ps->form = "parts";
	if ((copy = malloc(len + 1)) == NULL) {
		prop_fail(ps, in, len, o, "out of memory");
		return;
	}
	memcpy(copy, in, len);
	copy[len] = '\0';
	while (nparts < sizeof(parts) / sizeof(parts[0])) {
		parts[nparts++] = copy + i;
		i += strlen(copy + i);
		if (i >= len)
			break;
		i++;
	}
	if (sr_reply_from_parts(&r, parts[0], nparts > 1 ? parts[1] : NULL,
				nparts > 2 ? parts + 2 : NULL,
				nparts > 2 ? nparts - 2 : 0) != 0)
		prop_fail(ps, in, len, o, "sr_reply_from_parts failed");
	else
		check_built(ps, in, len, o, &r);
	sr_reply_release(&r);
	free(copy);
}

/* Check every reply of C in combination I (phase, context), UTF-8 off, on. */
static void run_set(const struct sr_corpus *c, int i, const char *what)
{
	struct prop_state ps;
	struct sr_options o;
	size_t k;
	int utf8;

	memset(&ps, 0, sizeof(ps));
	memset(&o, 0, sizeof(o));
	o.phase = (enum sr_phase)(i / 2);
	o.context = i % 2 ? SR_CONTEXT_MILTER : SR_CONTEXT_WIRE;
	o.policy = NULL;
	for (utf8 = 0; utf8 <= 1; utf8++) {
		o.utf8 = utf8;
		for (k = 0; k < c->n; k++) {
			/* every other reply as a log's copy (may be cut) */
			o.may_be_cut = (k + (size_t)utf8) % 2 == 1;
			check_wire_form(&ps, c->replies[k].bytes,
					c->replies[k].len, &o);
			check_parts_form(&ps, c->replies[k].bytes,
					 c->replies[k].len, &o);
		}
	}
	ck_assert_msg(ps.cases > 0, "%s: no cases", what);
	ck_assert_msg(ps.failures == 0, "%s, phase %s, %s context: %lu of %lu "
		      "cases failed (%lu normalized, %lu unfixable); first: %s",
		      what, sr_phase_name(o.phase), sr_context_name(o.context),
		      ps.failures, ps.cases, ps.ok, ps.unfixable, ps.first);
}

START_TEST(corpus_properties)
{
	run_set(&corpus, _i, "corpus");
}
END_TEST

START_TEST(random_properties)
{
	run_set(&randoms, _i, "random replies");
}
END_TEST

/* ---- pseudo-random replies ----------------------------------------------- */

/* xorshift64*: small, fast, the same everywhere. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) >> 11) % n : 0;
}

/* Insert LEN bytes at POS of BUF[*BLEN] (capacity MUTANT_MAX), if they fit. */
static void buf_insert(char *buf, size_t *blen, size_t pos, const char *s,
		       size_t len)
{
	if (*blen + len > MUTANT_MAX || pos > *blen)
		return;
	memmove(buf + pos + len, buf + pos, *blen - pos);
	memmove(buf + pos, s, len);	/* S may point into BUF before POS */
	*blen += len;
}

static void buf_delete(char *buf, size_t *blen, size_t pos, size_t len)
{
	if (pos >= *blen)
		return;
	if (len > *blen - pos)
		len = *blen - pos;
	memmove(buf + pos, buf + pos + len, *blen - pos - len);
	*blen -= len;
}

/* Apply one random mutation to BUF[*BLEN]. */
static void mutate(uint64_t *s, char *buf, size_t *blen,
		   const struct sr_corpus *c)
{
	static const char special[] = "\r\n\0-. \t%0123456789";
	static const char *const codes[] = {
		"557", "572", "101", "111", "200", "355", "420", "471", "510",
		"513", "541", "599", "999", "5", "55", "5500", "0550", "",
		"250", "354", "421", "450", "550", "554", "334"
	};
	static const char *const enhs[] = {
		"5.7.1 ", "4.7.1 ", "2.1.5 ", "5.1.10 ", "5.01.1 ", "5.7 ",
		"9.9.9 ", "5.7.1.2 ", "5.7.99 ", "4.1.8 ", "5.1.1", "2.0.0 ",
		"1.5 ", "5.7.1000 ", "3.0.0 ", "5.1.2 ", "4.4.2 "
	};
	const struct sr_corpus_reply *o;
	size_t pos, len, i, a, b, k;
	char ch;

	pos = rng_below(s, *blen + 1);
	switch (rng_below(s, 12)) {
	case 0:		/* flip a bit */
		if (*blen > 0)
			buf[pos % *blen] ^= (char)(1u << rng_below(s, 8));
		break;
	case 1:		/* set a byte to anything */
		if (*blen > 0)
			buf[pos % *blen] = (char)rng_below(s, 256);
		break;
	case 2:		/* insert a byte that matters to SMTP */
		ch = special[rng_below(s, sizeof(special) - 1)];
		buf_insert(buf, blen, pos, &ch, 1);
		break;
	case 3:		/* insert an 8-bit byte */
		ch = (char)(0x80 + rng_below(s, 0x80));
		buf_insert(buf, blen, pos, &ch, 1);
		break;
	case 4:		/* insert a line break */
		if (rng_below(s, 2))
			buf_insert(buf, blen, pos, "\r\n", 2);
		else
			buf_insert(buf, blen, pos, "\n", 1);
		break;
	case 5:		/* truncate */
		*blen = pos;
		break;
	case 6:		/* duplicate a line */
		a = pos;
		while (a > 0 && buf[a - 1] != '\n')
			a--;
		b = pos;
		while (b < *blen && buf[b] != '\n')
			b++;
		if (b < *blen) {
			b++;
			buf_insert(buf, blen, b, buf + a, b - a);
		} else {
			len = b - a;
			buf_insert(buf, blen, b, "\r\n", 2);
			if (*blen == b + 2)
				buf_insert(buf, blen, b + 2, buf + a, len);
		}
		break;
	case 7:		/* delete a few bytes */
		buf_delete(buf, blen, pos, 1 + rng_below(s, 16));
		break;
	case 8:		/* splice the tail of another reply */
		o = &c->replies[rng_below(s, c->n)];
		a = rng_below(s, o->len + 1);
		if (pos + (o->len - a) <= MUTANT_MAX) {
			*blen = pos;
			buf_insert(buf, blen, pos, o->bytes + a, o->len - a);
		}
		break;
	case 9:		/* replace the code of a line */
		a = pos;
		while (a > 0 && buf[a - 1] != '\n')
			a--;
		for (b = a; b < *blen && b - a < 5 && buf[b] >= '0'
		     && buf[b] <= '9'; b++)
			;
		buf_delete(buf, blen, a, b - a);
		i = rng_below(s, sizeof(codes) / sizeof(codes[0]));
		buf_insert(buf, blen, a, codes[i], strlen(codes[i]));
		break;
	case 10:	/* insert something like an enhanced code */
		i = rng_below(s, sizeof(enhs) / sizeof(enhs[0]));
		a = pos;
		while (a > 0 && buf[a - 1] != '\n')
			a--;
		if (rng_below(s, 2) && *blen - a >= 4)
			pos = a + 4;
		buf_insert(buf, blen, pos, enhs[i], strlen(enhs[i]));
		break;
	default:	/* repeat a chunk: long lines, many lines */
		if (*blen == 0)
			break;
		a = rng_below(s, *blen);
		len = 1 + rng_below(s, *blen - a < 64 ? *blen - a : 64);
		k = 1 + rng_below(s, 40);
		for (i = 0; i < k; i++)
			buf_insert(buf, blen, a, buf + a, len);
		break;
	}
}

/*
 * Fill R with N replies: the empty reply, then mutants of corpus entries
 * (1 to 4 mutations each), all from SEED.
 */
static int make_randoms(struct sr_corpus *r, const struct sr_corpus *c,
			size_t n, uint64_t seed)
{
	const struct sr_corpus_reply *base;
	uint64_t s = seed ? seed : 1;
	char *buf;
	size_t i, k, nmut, blen;

	sr_corpus_init(r);
	if ((buf = malloc(MUTANT_MAX)) == NULL)
		return -1;
	if ((r->replies = calloc(n ? n : 1, sizeof(*r->replies))) == NULL) {
		free(buf);
		return -1;
	}
	r->cap = n ? n : 1;
	for (i = 0; i < n; i++) {
		blen = 0;
		if (i > 0) {
			base = &c->replies[rng_below(&s, c->n)];
			blen = base->len < MUTANT_MAX ? base->len : MUTANT_MAX;
			memcpy(buf, base->bytes, blen);
			nmut = 1 + rng_below(&s, 4);
			for (k = 0; k < nmut; k++)
				mutate(&s, buf, &blen, c);
		}
		if ((r->replies[i].bytes = malloc(blen + 1)) == NULL) {
			free(buf);
			sr_corpus_free(r);
			return -1;
		}
		memcpy(r->replies[i].bytes, buf, blen);
		r->replies[i].bytes[blen] = '\0';
		r->replies[i].len = blen;
		r->replies[i].line = 0;
		r->n++;
	}
	free(buf);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static Suite *properties_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("properties");
	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, corpus_properties, 0, NCOMBO);
	suite_add_tcase(s, tc);
	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, random_properties, 0, NCOMBO);
	suite_add_tcase(s, tc);
	return s;
}

static unsigned long long
env_number(const char *name, unsigned long long dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtoull(v, &end, 0);
	return *end == '\0' ? n : dflt;
}

int main(int argc, char **argv)
{
	char path[4096], err[512];
	const char *dir;
	int status;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else if ((dir = getenv("SR_TEST_DATA")) != NULL && *dir != '\0')
		snprintf(path, sizeof(path), "%s/replies.txt", dir);
	else if ((dir = getenv("top_srcdir")) != NULL && *dir != '\0')
		snprintf(path, sizeof(path), "%s/tests/data/replies.txt", dir);
	else
		snprintf(path, sizeof(path), "tests/data/replies.txt");
	if (sr_corpus_load(&corpus, path, err, sizeof(err)) != 0) {
		printf("Bail out! %s\n", err);
		fprintf(stderr, "test_properties: %s\n", err);
		return 99;
	}
	if (make_randoms(&randoms, &corpus,
			 (size_t)env_number("SR_PROPERTY_N", RANDOM_DEFAULT_N),
			 (uint64_t)env_number("SR_PROPERTY_SEED",
					      RANDOM_DEFAULT_SEED)) != 0) {
		printf("Bail out! out of memory\n");
		sr_corpus_free(&corpus);
		return 99;
	}

	status = tu_run(properties_suite());
	sr_corpus_free(&randoms);
	sr_corpus_free(&corpus);
	return status;
}
