/*
 * SPDX-License-Identifier: ISC
 * check.c - find everything wrong with one SMTP reply.
 *
 * sr_check() looks at a parsed reply in its context (phase, wire or
 * milter, UTF-8 allowed or not) and reports each problem once, with the
 * first line where it occurs and how often. The byte-level helpers it
 * shares with the parser and the normalizer are in text.c.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *sr_context_name(enum sr_context ctx)
{
	return ctx == SR_CONTEXT_MILTER ? "milter" : "wire";
}

/* Collects diagnostics, each id once. */
struct collector {
	struct sr_check *out;
	signed char slot[SR_D__COUNT];
	unsigned code;
	enum sr_phase phase;
};

static struct sr_diag *report(struct collector *c, enum sr_diag_id id,
			      unsigned line, unsigned count)
{
	struct sr_diag *d;

	if (c->slot[id] >= 0) {
		d = &c->out->diags[c->slot[id]];
		d->count += count;
		return NULL;
	}
	c->slot[id] = (signed char)c->out->ndiags;
	d = &c->out->diags[c->out->ndiags++];
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->line = line;
	d->count = count;
	d->code = c->code;
	d->phase = c->phase;
	switch (sr_diag_severity(id)) {
	case SR_SEV_ERROR:
		c->out->errors++;
		break;
	case SR_SEV_WARNING:
		c->out->warnings++;
		break;
	default:
		c->out->infos++;
		break;
	}
	return d;
}

static void set_token(struct sr_diag *d, const char *p, size_t len)
{
	if (d != NULL)
		sr_copy_printable(d->token, sizeof(d->token), p, len);
}

static void set_want_enh(struct sr_diag *d, struct sr_enh e)
{
	char buf[SR_ENH_STRLEN];

	if (d != NULL) {
		sr_enh_format(e, buf);
		sr_copy_printable(d->want, sizeof(d->want), buf, strlen(buf));
	}
}

static bool span_equal(struct sr_span a, struct sr_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* The unreadable code at the start of L, up to the first blank or '-'. */
static void set_broken_token(struct sr_diag *d, const struct sr_line *l)
{
	const char *p = l->code.p;
	size_t n = 0;

	/* Parsed lines are views into one buffer: the code goes on into
	 * what follows it, up to the end of the text. */
	while (p + n < l->text.p + l->text.len && n < SR_DIAG_TOKEN_MAX - 1 &&
	    !sr_isblank(p[n]) && p[n] != '-')
		n++;
	set_token(d, p, n > 0 ? n : l->code.len);
}

/* "5.7.1 text": the code it was meant to have, for code-missing. */
static void check_missing_code(struct collector *c, const struct sr_line *l,
			       const struct sr_options *o)
{
	struct sr_diag *d = report(c, SR_D_CODE_MISSING, 1, 1);
	char buf[SR_ENH_STRLEN];
	struct sr_enh e;

	set_token(d, l->enh.p, l->enh.len);
	if (d == NULL || sr_enh_classify(l->enh, &e) == SR_ENH_MALFORMED)
		return;
	sr_enh_format(sr_enh_fit_phase(e, o->phase), buf);
	snprintf(d->want, sizeof(d->want), "%03u %s",
	    sr_code_for_enhanced(e, o->phase) % 1000, buf);
}

/* Check the basic code of line 1; returns its value or -1. */
static int check_code(struct collector *c, const struct sr_line *l,
		      const struct sr_options *o)
{
	struct sr_diag *d;
	int code = -1;

	if (l->form & SR_FORM_NO_CODE) {
		c->code = 0;
		check_missing_code(c, l, o);
		if (o->context == SR_CONTEXT_MILTER && l->enh.p[0] != '4' &&
		    l->enh.p[0] != '5') {
			d = report(c, SR_D_MILTER_CODE_CLASS, 1, 1);
			set_token(d, l->enh.p, l->enh.len);
		}
		return -1;
	}
	code = l->form & SR_FORM_CODE_BROKEN ? -1 : sr_code_value(l->code);
	c->code = code > 0 ? (unsigned)code : 0;
	if (l->form & SR_FORM_CODE_BROKEN) {
		d = report(c, SR_D_CODE_SYNTAX, 1, 1);
		set_broken_token(d, l);
	} else if (code < 0 || !sr_code_in_abnf((unsigned)code)) {
		d = report(c, SR_D_CODE_SYNTAX, 1, 1);
		set_token(d, l->code.p, l->code.len);
	} else if (!sr_code_is_standard((unsigned)code)) {
		d = report(c, SR_D_CODE_NONSTANDARD, 1, 1);
		set_token(d, l->code.p, l->code.len);
	}
	if (o->context == SR_CONTEXT_MILTER &&
	    (l->code.len == 0 || (l->code.p[0] != '4' && l->code.p[0] != '5'))) {
		d = report(c, SR_D_MILTER_CODE_CLASS, 1, 1);
		set_token(d, l->code.p, l->code.len);
	}
	return code;
}

/* Check the enhanced code of line 1 against the basic code and phase. */
static void check_enhanced(struct collector *c, const struct sr_line *l,
			   int code, const struct sr_options *o)
{
	const struct sr_enhanced_info *info;
	struct sr_diag *d;
	struct sr_enh e, fit;
	/* The class a reply with no basic code was meant to have. */
	char first = l->form & SR_FORM_NO_CODE ? l->enh.p[0] :
	    l->code.len > 0 ? l->code.p[0] : '\0';

	switch (sr_enh_classify(l->enh, &e)) {
	case SR_ENH_NONE:
		if (l->form & SR_FORM_CODE_BROKEN)
			return;		/* code-syntax says it all */
		if ((first == '2' || first == '4' || first == '5') &&
		    o->phase != SR_PHASE_CONNECT && o->phase != SR_PHASE_HELO) {
			struct sr_enh repl;
			unsigned target = sr_code_target(o->policy, l->code,
			    &repl);

			d = report(c, SR_D_ENHANCED_MISSING, 1, 1);
			if (d != NULL && target != 0) {
				char buf[SR_ENH_STRLEN];

				if (repl.cls == 0)
					repl = sr_policy_default_enh(o->policy,
					    target, o->phase);
				sr_enh_format(sr_enh_fit_phase(repl, o->phase),
				    buf);
				snprintf(d->want, sizeof(d->want), "%03u %s",
				    target % 1000, buf);
			}
		}
		return;
	case SR_ENH_MALFORMED:
		d = report(c, SR_D_ENHANCED_SYNTAX, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		return;
	case SR_ENH_LEADING_ZERO:
		d = report(c, SR_D_ENHANCED_LEADING_ZERO, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		set_want_enh(d, e);
		break;
	case SR_ENH_VALID:
		break;
	}
	if (first == '3') {
		d = report(c, SR_D_ENHANCED_NOT_ALLOWED, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		return;
	}
	if (code >= 0 && e.cls != (uint8_t)(first - '0') &&
	    (first == '2' || first == '4' || first == '5')) {
		struct sr_enh want = e;

		want.cls = (uint8_t)(first - '0');
		d = report(c, SR_D_ENHANCED_CLASS_MISMATCH, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		set_want_enh(d, want);
	}
	info = sr_registry_enhanced(e.subject, e.detail);
	if (info == NULL) {
		struct sr_enh want = e;

		want.detail = 0;
		if (sr_registry_enhanced(e.subject, 0) == NULL)
			want.subject = 0;
		d = report(c, SR_D_ENHANCED_UNREGISTERED, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		set_want_enh(d, want);
	} else if (code > 0 && !sr_registry_associated(info, (unsigned)code)) {
		d = report(c, SR_D_ENHANCED_UNASSOCIATED, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
	}
	fit = sr_enh_fit_phase(e, o->phase);
	if (!sr_enh_equal(fit, e)) {
		d = report(c, SR_D_ENHANCED_PHASE, 1, 1);
		set_token(d, l->enh.p, l->enh.len);
		set_want_enh(d, fit);
	}
}

/*
 * Count the bad, non-ASCII and '%' bytes of a text in one pass; true when
 * it has something besides blanks and bad bytes.
 */
static bool scan_text(struct sr_span t, bool utf8, size_t *bad,
		      size_t *nonascii, size_t *percent)
{
	const unsigned char *p = (const unsigned char *)t.p;
	bool content = false;
	size_t i = 0, n;

	while (i < t.len) {
		bool spaces = true;

		i += sr_plain_run(p + i, t.len - i, &spaces);
		if (!spaces)
			content = true;
		if (i >= t.len)
			break;
		switch (sr_byte_class[p[i]]) {
		case SR_BC_PLAIN:
			content = true;
			break;
		case SR_BC_BLANK:
			break;
		case SR_BC_BAD:
			(*bad)++;
			break;
		case SR_BC_PERCENT:
			content = true;
			(*percent)++;
			break;
		case SR_BC_HIGH:
			content = true;
			n = utf8 ? sr_utf8_len(p + i, t.len - i) : 0;
			if (n == 0)
				(*nonascii)++;
			else
				i += n - 1;
			break;
		}
		i++;
	}
	return content;
}

/* Octets the line takes on the wire, CRLF not included. */
static size_t wire_length(const struct sr_line *l)
{
	size_t n = l->code.len + l->text.len + l->extra;

	if (l->sep == ' ' || l->sep == '-')
		n++;
	if (l->enh.len > 0)
		n += l->enh.len + (l->text.len > 0 ? 1 : 0);
	return n;
}

static void check_lines(struct collector *c, const struct sr_reply *r,
			const struct sr_options *o)
{
	const struct sr_line *first = &r->lines[0];
	struct sr_diag *d;
	bool content = false;
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		const struct sr_line *l = &r->lines[i];
		unsigned lineno = i + 1 > 65535u ? 65535u : (unsigned)(i + 1);
		size_t bad = 0, nonascii = 0, percent = 0, len;
		bool last = i + 1 == r->nlines;

		if (i > 0 && !span_equal(l->code, first->code)) {
			d = report(c, SR_D_MULTILINE_CODE_MISMATCH, lineno, 1);
			set_token(d, l->code.p, l->code.len);
		}
		if (i > 0 && !span_equal(l->enh, first->enh)) {
			struct sr_enh e;

			d = report(c, SR_D_MULTILINE_ENHANCED_MISMATCH, lineno, 1);
			set_token(d, l->enh.p, l->enh.len);
			switch (sr_enh_classify(l->enh, &e)) {
			case SR_ENH_MALFORMED:
				d = report(c, SR_D_ENHANCED_SYNTAX, lineno, 1);
				set_token(d, l->enh.p, l->enh.len);
				break;
			case SR_ENH_LEADING_ZERO:
				d = report(c, SR_D_ENHANCED_LEADING_ZERO, lineno, 1);
				set_token(d, l->enh.p, l->enh.len);
				set_want_enh(d, e);
				break;
			default:
				break;
			}
		}
		if (l->form & SR_FORM_BLANKS)
			report(c, SR_D_SEPARATOR_BLANKS, lineno, 1);
		if (last && l->sep == '-' && o->may_be_cut) {
			report(c, SR_D_MULTILINE_CUT, lineno, 1);
		} else if ((!last && l->sep != '-') || (last && l->sep == '-')) {
			d = report(c, SR_D_MULTILINE_SEPARATOR, lineno, 1);
			if (d != NULL) {
				d->token[0] = l->sep == '?' || l->sep == '\0' ?
				    '\0' : l->sep;
				d->token[1] = '\0';
				d->want[0] = last ? ' ' : '-';
				d->want[1] = '\0';
			}
		}
		if (scan_text(l->text, o->utf8, &bad, &nonascii, &percent))
			content = true;
		len = wire_length(l) + 2;
		if (len > SR_WIRE_LINE_MAX) {
			d = report(c, SR_D_LINE_TOO_LONG, lineno, 1);
			if (d != NULL)
				snprintf(d->want, sizeof(d->want), "%zu", len);
		} else if (o->context == SR_CONTEXT_MILTER &&
		    (len = l->text.len + percent) > SR_MILTER_TEXT_MAX) {
			d = report(c, SR_D_LINE_TOO_LONG, lineno, 1);
			if (d != NULL) {
				snprintf(d->want, sizeof(d->want), "%zu", len);
				strcpy(d->token, "milter");
			}
		}
		if (bad > 0)
			report(c, SR_D_TEXT_BAD_CHAR, lineno,
			       bad > 0xffffffffu ? 0xffffffffu : (unsigned)bad);
		if (nonascii > 0)
			report(c, SR_D_TEXT_NON_ASCII, lineno,
			       nonascii > 0xffffffffu ? 0xffffffffu : (unsigned)nonascii);
	}
	if (o->context == SR_CONTEXT_MILTER && r->nlines > SR_MILTER_LINES_MAX)
		report(c, SR_D_TOO_MANY_LINES, SR_MILTER_LINES_MAX + 1,
		       r->nlines > 0xffffffffu ? 0xffffffffu : (unsigned)r->nlines);
	if (!content)
		report(c, SR_D_TEXT_EMPTY, 1, 1);
}

static const struct sr_options default_options = {
	SR_PHASE_OTHER, SR_CONTEXT_WIRE, false, NULL, false
};

const struct sr_reply *sr_resolve_input(const struct sr_reply *r,
					const struct sr_options *o,
					struct sr_options *opts,
					struct sr_reply *empty)
{
	*opts = o != NULL ? *o : default_options;
	if (opts->policy == NULL)
		opts->policy = sr_policy_shipped();
	if ((unsigned)opts->phase >= SR_PHASE__COUNT)
		opts->phase = SR_PHASE_OTHER;
	if (r == NULL || r->nlines == 0) {
		(void)sr_reply_parse(empty, "", 0);	/* no allocation */
		r = empty;
	}
	return r;
}

void sr_check(const struct sr_reply *r, const struct sr_options *o,
	      struct sr_check *out)
{
	struct sr_reply empty;
	struct sr_options opts;
	struct collector c;
	int code;

	r = sr_resolve_input(r, o, &opts, &empty);
	out->ndiags = 0;
	out->errors = out->warnings = out->infos = 0;
	memset(c.slot, -1, sizeof(c.slot));
	c.out = out;
	c.code = 0;
	c.phase = opts.phase;

	code = check_code(&c, &r->lines[0], &opts);
	check_enhanced(&c, &r->lines[0], code, &opts);
	check_lines(&c, r, &opts);
	if (opts.phase != SR_PHASE_OTHER && code > 0 &&
	    sr_code_in_abnf((unsigned)code) && sr_code_is_standard((unsigned)code) &&
	    !sr_phase_expects(opts.phase, (unsigned)code)) {
		struct sr_diag *d = report(&c, SR_D_PHASE_UNEXPECTED_CODE, 1, 1);

		set_token(d, r->lines[0].code.p, r->lines[0].code.len);
	}
}

const struct sr_diag *sr_check_find(const struct sr_check *c,
				    enum sr_diag_id id)
{
	size_t i;

	for (i = 0; i < c->ndiags; i++)
		if (c->diags[i].id == id)
			return &c->diags[i];
	return NULL;
}

/* Leave out the diagnostics about a basic code nobody showed us. */
static void drop_code_diags(struct sr_check *c)
{
	size_t i, o = 0;

	c->errors = c->warnings = c->infos = 0;
	for (i = 0; i < c->ndiags; i++) {
		switch (c->diags[i].id) {
		case SR_D_CODE_SYNTAX:
		case SR_D_CODE_NONSTANDARD:
		case SR_D_ENHANCED_CLASS_MISMATCH:
		case SR_D_ENHANCED_UNASSOCIATED:
		case SR_D_PHASE_UNEXPECTED_CODE:
		case SR_D_MILTER_CODE_CLASS:
			continue;
		default:
			break;
		}
		c->diags[o] = c->diags[i];
		switch (sr_diag_severity(c->diags[o].id)) {
		case SR_SEV_ERROR:
			c->errors++;
			break;
		case SR_SEV_WARNING:
			c->warnings++;
			break;
		default:
			c->infos++;
			break;
		}
		o++;
	}
	c->ndiags = o;
}

int sr_check_without_code(const char *text, size_t len,
			  const struct sr_options *o, struct sr_check *out,
			  char stand_in[4])
{
	char stack[1024], *buf = stack;
	struct sr_reply r;
	int rc = 0;

	out->ndiags = 0;
	out->errors = out->warnings = out->infos = 0;
	/* A code of the enhanced code's class that every phase expects. */
	stand_in[0] = len > 0 && (text[0] == '2' || text[0] == '4') ? text[0] :
	    '5';
	stand_in[1] = '5';
	stand_in[2] = '0';
	stand_in[3] = '\0';
	if (len > SIZE_MAX - 5)
		return -1;
	if (len + 4 > sizeof(stack) && (buf = malloc(len + 4)) == NULL)
		return -1;
	memcpy(buf, stand_in, 3);
	buf[3] = ' ';
	memcpy(buf + 4, text, len);
	if (sr_reply_parse(&r, buf, len + 4) != 0)
		rc = -1;
	else {
		sr_check(&r, o, out);
		drop_code_diags(out);
	}
	sr_reply_release(&r);
	if (buf != stack)
		free(buf);
	return rc;
}
