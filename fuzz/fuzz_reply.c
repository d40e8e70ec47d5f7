/*
 * SPDX-License-Identifier: ISC
 * fuzz_reply.c - libFuzzer target for the reply engine.
 *
 * Input: one options byte, then the reply. The options byte selects the
 * context (bit 0: milter), UTF-8 (bit 1) and the phase (the remaining
 * bits, modulo SR_PHASE__COUNT; their quotient's low bit: may_be_cut). The reply is parsed from wire form, and
 * also built from parts by splitting it on NUL bytes into code, enhanced
 * code and text lines. Each reply is checked and normalized, and the same
 * properties as tests/unit/test_properties.c are asserted:
 *  (a) a normalized reply parses and checks with no error,
 *  (b) normalizing it again gives the same status and bytes,
 *  (c) no line is over 512 octets counting CRLF,
 *  (d) in milter context at most 32 lines, at most 980 bytes of escaped
 *      text per line,
 *  (e) every line carries the reply's code and enhanced code, and the
 *      reply rebuilt from its parts normalizes to itself;
 *  (f) the normalized code is at least as severe (5 > 4 > 2, 3) as any
 *      line of the input: a reply is never weakened;
 * an unfixable reply says why. A violation prints what went wrong and
 * aborts, which libFuzzer records as a crash with the input.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smtpreply/smtpreply.h>
#include "../tests/severity.h"

#define MAX_PARTS_TEXT	40	/* text lines taken from the input's parts */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violation(const struct sr_options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void violation(const struct sr_options *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_reply: property violated (phase=%s context=%s "
		"utf8=%d): ", sr_phase_name(o->phase),
		sr_context_name(o->context), (int)o->utf8);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* The check result is consistent and every message formats. */
static void check_diags(const struct sr_options *o, const struct sr_check *c,
			size_t nlines)
{
	unsigned seen[SR_D__COUNT] = { 0 };
	unsigned sev[3] = { 0, 0, 0 };
	const struct sr_diag *d;
	enum sr_severity sv;
	char msg[256];
	size_t i, flen;

	if (c->ndiags > SR_D__COUNT)
		violation(o, "check: %zu diagnostics", c->ndiags);
	for (i = 0; i < c->ndiags; i++) {
		d = &c->diags[i];
		if ((unsigned)d->id >= SR_D__COUNT)
			violation(o, "check: bad id %d", (int)d->id);
		if (seen[d->id]++)
			violation(o, "check: %s twice", sr_diag_name(d->id));
		sv = sr_diag_severity(d->id);
		if ((unsigned)sv > SR_SEV_ERROR)
			violation(o, "check: bad severity");
		sev[sv]++;
		if (d->line < 1 || d->line > nlines)
			violation(o, "check: %s at line %u of %zu",
				  sr_diag_name(d->id), d->line, nlines);
		if (memchr(d->token, '\0', sizeof(d->token)) == NULL
		    || memchr(d->want, '\0', sizeof(d->want)) == NULL)
			violation(o, "check: %s: unterminated token",
				  sr_diag_name(d->id));
		if (sr_check_find(c, d->id) != d)
			violation(o, "check: sr_check_find(%s)",
				  sr_diag_name(d->id));
		flen = sr_diag_format(d, msg, sizeof(msg));
		if (memchr(msg, '\0', sizeof(msg)) == NULL
		    || (flen < sizeof(msg) && strlen(msg) != flen)
		    || strpbrk(msg, "\r\n") != NULL)
			violation(o, "check: %s: bad message",
				  sr_diag_name(d->id));
	}
	if (sev[SR_SEV_ERROR] != c->errors || sev[SR_SEV_WARNING] != c->warnings
	    || sev[SR_SEV_INFO] != c->infos)
		violation(o, "check: severity counts do not add up");
}

static void check_changes(const struct sr_options *o,
			  const struct sr_normalized *n)
{
	unsigned seen[SR_D__COUNT] = { 0 };
	size_t i;

	if (n->nchanges > SR_D__COUNT)
		violation(o, "normalize: %zu changes", n->nchanges);
	for (i = 0; i < n->nchanges; i++) {
		if ((unsigned)n->changes[i].id >= SR_D__COUNT)
			violation(o, "normalize: change with a bad id");
		if (seen[n->changes[i].id]++)
			violation(o, "normalize: two changes for %s",
				  sr_diag_name(n->changes[i].id));
		if (memchr(n->changes[i].before, '\0',
			   sizeof(n->changes[i].before)) == NULL
		    || memchr(n->changes[i].after, '\0',
			      sizeof(n->changes[i].after)) == NULL)
			violation(o, "normalize: change not terminated");
	}
}

/* (c) and (e): the wire form's lines. */
static void check_wire(const struct sr_options *o,
		       const struct sr_normalized *n)
{
	const char *w = n->wire, *line, *end, *p;
	size_t nlines = 0, ll, el;

	if (w == NULL)
		violation(o, "normalize: OK but wire is NULL");
	if (w[n->wire_len] != '\0' || memchr(w, '\0', n->wire_len) != NULL)
		violation(o, "normalize: wire is not a string of %zu bytes",
			  n->wire_len);
	if (strnlen(n->code, sizeof(n->code)) != 3
	    || strspn(n->code, "0123456789") != 3)
		violation(o, "normalize: bad code");
	el = strnlen(n->enhanced, sizeof(n->enhanced));
	if (el == sizeof(n->enhanced))
		violation(o, "normalize: enhanced code unterminated");
	for (line = w;; line = end + 2) {
		nlines++;
		end = strstr(line, "\r\n");
		ll = end ? (size_t)(end - line) : strlen(line);
		for (p = line; p < line + ll; p++)
			if (*p == '\r' || *p == '\n')
				violation(o, "(c) line %zu: bare CR or LF",
					  nlines);
		if (ll + 2 > SR_WIRE_LINE_MAX)
			violation(o, "(c) line %zu: %zu octets with CRLF",
				  nlines, ll + 2);
		if (ll < 3 || memcmp(line, n->code, 3) != 0
		    || (ll > 3 && line[3] != (end ? '-' : ' '))
		    || (ll == 3 && end != NULL)
		    || (el > 0 && (ll < 4 + el
				   || memcmp(line + 4, n->enhanced, el) != 0
				   || (ll > 4 + el && line[4 + el] != ' '))))
			violation(o, "(e) line %zu does not start with "
				  "\"%s%c%s\"", nlines, n->code,
				  end ? '-' : ' ', n->enhanced);
		if (end == NULL)
			break;
	}
	if (nlines != n->nlines)
		violation(o, "normalize: nlines %zu, wire has %zu", n->nlines,
			  nlines);
}

/* (b), (e): normalizing R again gives N. */
static void check_again(const struct sr_options *o,
			const struct sr_normalized *n, const struct sr_reply *r,
			const char *how)
{
	struct sr_normalized n2;

	sr_normalize(r, o, &n2);
	if (n2.status != SR_NORM_OK)
		violation(o, "%s: status %d (%s)", how, (int)n2.status,
			  n2.why);
	if (n2.wire_len != n->wire_len
	    || memcmp(n2.wire, n->wire, n->wire_len) != 0
	    || strcmp(n2.code, n->code) != 0
	    || strcmp(n2.enhanced, n->enhanced) != 0
	    || n2.nlines != n->nlines)
		violation(o, "%s: different result", how);
	sr_normalized_release(&n2);
}

/* Check and normalize R; assert the properties of the result. */
static void run_reply(const struct sr_reply *r, const struct sr_options *o)
{
	char esc[2 * SR_MILTER_TEXT_MAX + 16];
	char *texts[SR_MILTER_LINES_MAX * 8];
	struct sr_normalized n;
	struct sr_check chk;
	struct sr_reply r2;
	struct sr_span t;
	size_t pos = 0, nt = 0, i, pct, elen;
	int fits;

	(void)sr_reply_code(r);
	sr_check(r, o, &chk);
	check_diags(o, &chk, r->nlines);
	sr_normalize(r, o, &n);
	check_changes(o, &n);
	if (n.status != SR_NORM_OK) {
		if (n.status != SR_NORM_UNFIXABLE)
			violation(o, "normalize: status %d", (int)n.status);
		if (memchr(n.why, '\0', sizeof(n.why)) == NULL
		    || n.why[0] == '\0')
			violation(o, "normalize: unfixable without a reason");
		sr_normalized_release(&n);
		return;
	}
	check_wire(o, &n);
	if (class_rank(n.code[0] - '0') < reply_rank(r))
		violation(o, "(f) code %s is weaker than a line of the input",
			  n.code);

	/* (a), (b) */
	if (sr_reply_parse(&r2, n.wire, n.wire_len) != 0)
		violation(o, "parse of the result failed");
	sr_check(&r2, o, &chk);
	check_diags(o, &chk, r2.nlines);
	for (i = 0; i < chk.ndiags; i++)
		if (sr_diag_severity(chk.diags[i].id) == SR_SEV_ERROR)
			violation(o, "(a) the result has %u error(s), "
				  "first %s at line %u", chk.errors,
				  sr_diag_name(chk.diags[i].id),
				  chk.diags[i].line);
	check_again(o, &n, &r2, "(b) normalizing the result");
	sr_reply_release(&r2);

	/* (d), and the texts for (e) */
	if (o->context == SR_CONTEXT_MILTER && n.nlines > SR_MILTER_LINES_MAX)
		violation(o, "(d) %zu lines", n.nlines);
	fits = n.nlines <= sizeof(texts) / sizeof(texts[0]);
	while (sr_normalized_next_text(&n, &pos, &t)) {
		if (nt >= n.nlines)
			violation(o, "next_text: more texts than lines");
		if (t.len > 0 && (t.p < n.wire
				  || t.p + t.len > n.wire + n.wire_len))
			violation(o, "next_text: text outside wire");
		for (i = 0, pct = 0; i < t.len; i++)
			pct += t.p[i] == '%';
		elen = sr_milter_escape(t, esc, sizeof(esc));
		if (elen != t.len + pct
		    || (elen < sizeof(esc) && strlen(esc) != elen))
			violation(o, "sr_milter_escape: %zu bytes for %zu",
				  elen, t.len);
		if (o->context == SR_CONTEXT_MILTER
		    && elen > SR_MILTER_TEXT_MAX)
			violation(o, "(d) line %zu: %zu bytes escaped",
				  nt + 1, elen);
		if (fits) {
			if ((texts[nt] = malloc(t.len + 1)) == NULL)
				abort();
			memcpy(texts[nt], t.p, t.len);
			texts[nt][t.len] = '\0';
		}
		nt++;
	}
	if (nt != n.nlines)
		violation(o, "next_text: %zu texts for %zu lines", nt,
			  n.nlines);
	if (fits) {
		if (sr_reply_from_parts(&r2, n.code, n.enhanced,
		    (const char *const *)texts, nt) != 0)
			violation(o, "from_parts of the result failed");
		check_again(o, &n, &r2, "(e) the result from parts");
		sr_reply_release(&r2);
		for (i = 0; i < nt; i++)
			free(texts[i]);
	}
	sr_normalized_release(&n);
}

/*
 * Split P[LEN] (a copy, NUL-terminated at LEN) on NUL into code, enhanced
 * code and text lines, build a reply from them and run it.
 */
static void run_parts(char *p, size_t len, const struct sr_options *o)
{
	const char *parts[2 + MAX_PARTS_TEXT];
	const char *enhanced;
	struct sr_reply r;
	size_t nparts = 0, i = 0;

	while (nparts < sizeof(parts) / sizeof(parts[0])) {
		parts[nparts++] = p + i;
		i += strlen(p + i);
		if (i >= len)
			break;
		i++;		/* the NUL */
	}
	enhanced = nparts > 1 ? parts[1] : NULL;
	if (sr_reply_from_parts(&r, parts[0], enhanced,
				nparts > 2 ? parts + 2 : NULL,
				nparts > 2 ? nparts - 2 : 0) != 0)
		violation(o, "sr_reply_from_parts failed");
	if (r.nlines < 1)
		violation(o, "from_parts: no line");
	run_reply(&r, o);
	sr_reply_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sr_options o;
	struct sr_reply r;
	const char *in;
	size_t len;
	char *copy;

	if (size < 1)
		return 0;
	o.context = data[0] & 1 ? SR_CONTEXT_MILTER : SR_CONTEXT_WIRE;
	o.utf8 = (data[0] >> 1) & 1;
	o.phase = (enum sr_phase)((data[0] >> 2) % SR_PHASE__COUNT);
	o.policy = NULL;
	o.may_be_cut = (data[0] >> 2) / SR_PHASE__COUNT & 1;	/* a log's copy */
	in = (const char *)data + 1;
	len = size - 1;

	if (sr_reply_parse(&r, in, len) != 0)
		violation(&o, "sr_reply_parse failed");
	if (r.nlines < 1)
		violation(&o, "parse: no line");
	run_reply(&r, &o);
	sr_reply_release(&r);

	if ((copy = malloc(len + 1)) == NULL)
		return 0;
	memcpy(copy, in, len);
	copy[len] = '\0';
	run_parts(copy, len, &o);
	free(copy);
	return 0;
}
