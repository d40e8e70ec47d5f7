/*
 * SPDX-License-Identifier: ISC
 * normalize.c - turn any SMTP reply into one that checks with no error.
 *
 * The basic code decides: a non-standard code is replaced (policy table,
 * else 250/451/550 by its first digit), the enhanced code is fitted to it
 * (leading zeros, class, registry, address codes per phase, defaults),
 * text is cleaned and wrapped, and every line gets the same code, the
 * same enhanced code and the right separator. What cannot be repaired
 * without guessing (a code of class 1 or 6, a 2xx reply a milter cannot
 * send) is reported as such. Each change is recorded for the logs.
 *
 * The result is idempotent: normalizing it again changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct norm {
	struct sr_normalized *out;
	const struct sr_options *o;
	const struct sr_policy *policy;
	char code[4];			/* the code every line gets */
	char enh[SR_ENH_STRLEN];	/* the enhanced code, "" for none */
	size_t enhlen;
	size_t width;			/* text bytes a wire line can take */
	size_t milter_width;		/* escaped text bytes, milter context */
	size_t max_lines;
	/* emitter */
	size_t line_start;		/* offset of the last line */
	size_t text_start;		/* offset of its text */
	size_t guard;			/* its guard blank: 0 or 1 */
	bool prev_bare;			/* the last line is the code alone */
	bool cut;			/* text was dropped: line limit */
	bool need_enh;			/* a text would read as an enhanced
					 * code: start again with one */
	bool nomem;
};

/* Record a change, the first one per diagnostic id. */
static void change(struct norm *n, enum sr_diag_id id, unsigned line,
		   const char *before, const char *after)
{
	struct sr_normalized *out = n->out;
	struct sr_change *c;
	size_t i;

	for (i = 0; i < out->nchanges; i++)
		if (out->changes[i].id == id)
			return;
	if (out->nchanges >= SR_D__COUNT)
		return;
	c = &out->changes[out->nchanges++];
	c->id = id;
	c->line = line;
	sr_copy_printable(c->before, sizeof(c->before), before, strlen(before));
	sr_copy_printable(c->after, sizeof(c->after), after, strlen(after));
}

/* snprintf for the short texts of changes; truncation is fine there. */
__attribute__((format(printf, 3, 4)))
static void textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void unfixable(struct norm *n, const char *fmt, ...)
{
	va_list ap;

	n->out->status = SR_NORM_UNFIXABLE;
	va_start(ap, fmt);
	vsnprintf(n->out->why, sizeof(n->out->why), fmt, ap);
	va_end(ap);
}

/* Make room for MORE bytes and a NUL. */
static bool reserve(struct norm *n, size_t more)
{
	struct sr_normalized *out = n->out;
	size_t need, ncap;
	char *bigger;

	if (n->nomem)
		return false;
	if (more > SIZE_MAX - out->wire_len - 1)
		goto nomem;
	need = out->wire_len + more + 1;
	if (need <= out->cap)
		return true;
	for (ncap = out->cap; ncap < need; ncap *= 2)
		if (ncap > SIZE_MAX / 2)
			goto nomem;
	if (out->wire == out->inline_buf) {
		bigger = malloc(ncap);
		if (bigger == NULL)
			goto nomem;
		memcpy(bigger, out->wire, out->wire_len + 1);
	} else {
		bigger = realloc(out->wire, ncap);
		if (bigger == NULL)
			goto nomem;
	}
	out->wire = bigger;
	out->cap = ncap;
	return true;
nomem:
	n->nomem = true;
	return false;
}

static void put(struct norm *n, const char *p, size_t len)
{
	struct sr_normalized *out = n->out;

	/* Room already there (the common case: no call to reserve). */
	if (!(len < out->cap - out->wire_len && !n->nomem) && !reserve(n, len))
		return;
	memcpy(out->wire + out->wire_len, p, len);
	out->wire_len += len;
	out->wire[out->wire_len] = '\0';
}

/* Shorten the last line so that "..." fits, and add it. */
static void cut_last_line(struct norm *n)
{
	struct sr_normalized *out = n->out;
	const char *t;
	size_t tl;

	if (n->nomem)
		return;
	if (n->prev_bare) {
		put(n, " ", 1);
		n->text_start = out->wire_len;
		n->prev_bare = false;
	}
	tl = out->wire_len - n->text_start;
	if (n->enhlen == 0 && n->guard == 0 && tl > 0 &&
	    sr_isdigit(out->wire[n->text_start])) {
		/* "5" and "..." would read as an enhanced code: guard it. */
		if (!reserve(n, 1))
			return;
		memmove(out->wire + n->text_start + 1,
		    out->wire + n->text_start, tl + 1);
		out->wire[n->text_start] = ' ';
		out->wire_len++;
		n->text_start++;
		n->guard = 1;
	}
	t = out->wire + n->text_start;
	while (tl > 0 && (tl + 3 + n->guard > n->width ||
	    sr_milter_len(t, tl) + 3 + n->guard > n->milter_width)) {
		tl--;
		while (tl > 0 && ((unsigned char)t[tl] & 0xc0) == 0x80)
			tl--;
	}
	while (tl > 0 && sr_isblank(t[tl - 1]))
		tl--;
	out->wire_len = n->text_start + tl;
	out->wire[out->wire_len] = '\0';
	if (tl == 0 && out->wire[out->wire_len - 1] != ' ')
		put(n, " ", 1);		/* "550 5.7.1" had no text */
	put(n, "...", 3);
	n->cut = true;
}

/* Write one line: code, separator (fixed up later), enhanced code, text. */
static void emit_line(struct norm *n, const char *t, size_t len)
{
	struct sr_normalized *out = n->out;

	size_t guard = 0;

	if (n->cut || n->nomem)
		return;
	if (out->nlines == n->max_lines) {
		cut_last_line(n);
		return;
	}
	if (out->nlines > 0) {
		if (n->prev_bare)
			put(n, "-", 1);
		else if (!n->nomem)
			out->wire[n->line_start + 3] = '-';
		put(n, "\r\n", 2);
	}
	n->line_start = out->wire_len;
	put(n, n->code, 3);
	if (n->enhlen > 0 || len > 0) {
		put(n, " ", 1);
		if (n->enhlen > 0) {
			put(n, n->enh, n->enhlen);
			if (len > 0)
				put(n, " ", 1);
		} else {
			size_t b = 0, tok;
			struct sr_enh e;

			/* Text that reads as an enhanced code gets a guard
			 * blank. A valid one is read even after blanks (a run
			 * of them is one separator), but on 3xx replies: the
			 * reply starts again with an enhanced code of its
			 * own (need_enh). */
			while (b < len && sr_isblank(t[b]))
				b++;
			if (n->code[0] != '3' && (tok = sr_enh_token_len(t + b,
			    len - b)) > 0 && sr_enh_classify((struct sr_span){
			    t + b, tok }, &e) == SR_ENH_VALID)
				n->need_enh = true;
			if (sr_enh_token_len(t, len) > 0) {
				put(n, " ", 1);
				guard = 1;
			}
		}
	}
	n->text_start = out->wire_len;
	n->guard = guard;
	put(n, t, len);
	n->prev_bare = n->enhlen == 0 && len == 0;
	out->nlines++;
}

/* The longest prefix of T (at most LEN) that fits ROOM and MROOM. */
static size_t fitting_prefix(const char *t, size_t len, size_t room,
			     size_t mroom)
{
	size_t k, escaped = 0, limit = len < room ? len : room, pct = 0;
	const char *q = t, *end = t + limit;

	/* Fast paths: no escaping limit, or even all bytes doubled fit. */
	if (mroom == SIZE_MAX || limit <= mroom / 2)
		return limit;
	while ((q = memchr(q, '%', (size_t)(end - q))) != NULL) {
		pct++;
		q++;
	}
	if (limit + pct <= mroom)
		return limit;
	for (k = 0; k < len && k < room; k++) {
		escaped += t[k] == '%' ? 2 : 1;
		if (escaped > mroom)
			break;
	}
	return k;
}

/*
 * Choose the first line's worth of T: *SEG bytes to write, *SKIP bytes
 * to consume (the blanks at a wrap point go). Wraps at the last blank
 * that fits; splits hard, never inside a UTF-8 sequence, when none does.
 */
static void choose_segment(const char *t, size_t len, size_t room,
			   size_t mroom, size_t *seg, size_t *skip)
{
	size_t k, b, e;

	k = fitting_prefix(t, len, room, mroom);
	if (k == len) {
		*seg = *skip = len;
		return;
	}
	for (b = k; b > 0 && !sr_isblank(t[b]); b--)
		continue;
	for (e = b; e > 0 && sr_isblank(t[e - 1]); e--)
		continue;
	if (b > 0) {
		/* Wrap at the blank; when only blanks come before it, they
		 * make no line of their own (seg 0: nothing to write). */
		*seg = e;
		for (*skip = b + 1; *skip < len && sr_isblank(t[*skip]); (*skip)++)
			continue;
		return;
	}
	for (e = k; e > 0 && ((unsigned char)t[e] & 0xc0) == 0x80; e--)
		continue;
	if (e == 0)
		e = k;
	*seg = *skip = e;
}

/* Emit T as one line, or several wrapped at blanks. */
static void emit_wrapped(struct norm *n, const char *t, size_t len)
{
	size_t seg, skip;

	do {
		choose_segment(t, len, n->width, n->milter_width, &seg, &skip);
		/* A line without enhanced code whose text would read as one
		 * gets a guard blank (emit_line): make room for it. */
		if (n->enhlen == 0 && sr_enh_token_len(t, seg) > 0 &&
		    (seg + 1 > n->width ||
		    sr_milter_len(t, seg) + 1 > n->milter_width))
			choose_segment(t, len, n->width - 1,
			    n->milter_width - 1, &seg, &skip);
		if (seg > 0 || skip == len)
			emit_line(n, t, seg);
		if (n->cut || n->nomem)
			return;
		t += skip;
		len -= skip;
	} while (len > 0);
}

/*
 * Copy text T into DST (room for T.len bytes) cleaned: controls become
 * spaces, bytes over 126 become '?' unless they are valid UTF-8 and UTF-8
 * is allowed, trailing blanks go. Returns the cleaned length.
 */
static size_t clean_text(struct sr_span t, bool utf8, char *dst,
			 size_t *bad, size_t *nonascii)
{
	const unsigned char *p = (const unsigned char *)t.p;
	size_t i = 0, o = 0, seq;

	while (i < t.len) {
		bool spaces = true;
		size_t run = sr_plain_run(p + i, t.len - i, &spaces);

		memcpy(dst + o, p + i, run);
		o += run;
		i += run;
		if (i >= t.len)
			break;
		switch (sr_byte_class[p[i]]) {
		case SR_BC_BAD:
			dst[o++] = ' ';
			(*bad)++;
			i++;
			break;
		case SR_BC_HIGH:
			seq = utf8 ? sr_utf8_len(p + i, t.len - i) : 0;
			if (seq > 0) {
				memcpy(dst + o, p + i, seq);
				o += seq;
				i += seq;
			} else {
				dst[o++] = '?';
				(*nonascii)++;
				i++;
			}
			break;
		default:
			dst[o++] = (char)p[i++];
			break;
		}
	}
	while (o > 0 && sr_isblank(dst[o - 1]))
		o--;
	return o;
}

/* True when the text has something besides blanks and controls. */
static bool has_content(struct sr_span t)
{
	size_t i;

	for (i = 0; i < t.len; i++) {
		unsigned char c = sr_byte_class[(unsigned char)t.p[i]];

		if (c != SR_BC_BLANK && c != SR_BC_BAD)
			return true;
	}
	return false;
}

/* Sample text for a reply with none: registry, else the code's meaning. */
static const char *sample_text(struct sr_enh e, unsigned code)
{
	const struct sr_enhanced_info *info;
	const struct sr_basic_info *b;

	if (e.cls != 0) {
		info = sr_registry_enhanced(e.subject, e.detail);
		if (info != NULL && info->sample[0] != '\0')
			return info->sample;
		info = sr_registry_enhanced(e.subject, 0);
		if (info != NULL && info->sample[0] != '\0')
			return info->sample;
	}
	b = sr_registry_basic(code);
	if (b != NULL && b->meaning[0] != '\0')
		return b->meaning;
	return "No further information";
}

/* How severe a class is: 5 > 4 > 2 and 3; 0 for no class. */
static int class_rank(int cls)
{
	return cls == 5 ? 3 : cls == 4 ? 2 : cls == 2 || cls == 3 ? 1 : 0;
}

/* The unreadable code at the start of L, for a message: up to a blank. */
static int broken_len(const struct sr_line *l)
{
	size_t n = 0;

	while (l->code.p + n < l->text.p + l->text.len && n < 12 &&
	    !sr_isblank(l->code.p[n]) && l->code.p[n] != '-')
		n++;
	return (int)(n > 0 ? n : l->code.len);
}

/*
 * The line whose code the whole reply takes (*G): the first of the most
 * severe class (5 > 4 > 2, 3), so that normalizing never weakens a reply.
 * False (unfixable) when a line's code cannot be read, when no code can be
 * recovered, when a later line has a class that is no SMTP reply, or when
 * 2xx and 3xx lines are mixed with nothing more severe.
 */
static bool choose_line(struct norm *n, const struct sr_reply *r, size_t *g)
{
	bool two = false, three = false;
	int best = 0, cls;
	struct sr_enh e;
	size_t i;

	*g = 0;
	for (i = 0; i < r->nlines; i++) {
		const struct sr_line *l = &r->lines[i];

		if (l->form & SR_FORM_CODE_BROKEN) {
			unfixable(n, "line %zu: reply code \"%.*s\" cannot be "
			    "read", i + 1, broken_len(l), l->code.p);
			return false;
		}
		if (l->form & SR_FORM_NO_CODE) {
			if (sr_enh_classify(l->enh, &e) == SR_ENH_MALFORMED) {
				unfixable(n, "line %zu: no reply code, and "
				    "\"%.*s\" is no enhanced status code to "
				    "recover one from", i + 1,
				    (int)(l->enh.len > 12 ? 12 : l->enh.len),
				    l->enh.p);
				return false;
			}
			cls = e.cls;
		} else if (l->code.len == 0) {
			if (i == 0)
				return true;	/* decide_code says why */
			continue;		/* a line of text: no class */
		} else {
			cls = l->code.p[0] - '0';
		}
		if (class_rank(cls) == 0) {
			if (i == 0)
				return true;	/* decide_code says why */
			unfixable(n, "line %zu: reply code %.*s: class %d is no "
			    "SMTP reply", i + 1, (int)(l->code.len > 12 ? 12 :
			    l->code.len), l->code.p, cls);
			return false;
		}
		two |= cls == 2;
		three |= cls == 3;
		if (class_rank(cls) > best) {
			best = class_rank(cls);
			*g = i;
		}
	}
	if (best == 1 && two && three) {
		unfixable(n, "lines of class 2 and 3: no one code says both");
		return false;
	}
	return true;
}

/* A reply that shows only its enhanced code: the code it was meant to
 * have. False when that cannot be sent (2xx, milter). */
static bool recover_code(struct norm *n, const struct sr_line *l,
			 unsigned lineno, unsigned *newcode)
{
	char before[SR_CHANGE_TEXT_MAX], after[SR_CHANGE_TEXT_MAX];
	struct sr_enh e;

	(void)sr_enh_classify(l->enh, &e);	/* valid: choose_line */
	*newcode = sr_code_for_enhanced(e, n->o->phase);
	sr_join(before, sizeof(before), l->enh.p, l->enh.len, NULL, 0);
	if (n->o->context == SR_CONTEXT_MILTER && e.cls != 4 && e.cls != 5) {
		unfixable(n, "no reply code, and enhanced status code %s is of "
		    "class %u: libmilter can send only 4xx and 5xx replies",
		    before, e.cls);
		return false;
	}
	n->code[0] = (char)('0' + *newcode / 100 % 10);
	n->code[1] = (char)('0' + *newcode / 10 % 10);
	n->code[2] = (char)('0' + *newcode % 10);
	n->code[3] = '\0';
	sr_join(after, sizeof(after), n->code, 3, l->enh.p, l->enh.len);
	change(n, SR_D_CODE_MISSING, lineno, before, after);
	return true;
}

/* Decide the basic code; false when the reply cannot be normalized. */
static bool decide_code(struct norm *n, const struct sr_line *l,
			unsigned lineno, unsigned *newcode,
			struct sr_enh *repl_enh)
{
	const struct sr_basic_info *b;
	char before[SR_CHANGE_TEXT_MAX];
	int code = -1;
	char first;

	repl_enh->cls = 0;
	if (l->form & SR_FORM_NO_CODE)
		return recover_code(n, l, lineno, newcode);
	if (l->code.len == 0) {
		unfixable(n, "no reply code");
		return false;
	}
	first = l->code.p[0];
	code = sr_code_value(l->code);
	sr_join(before, sizeof(before), l->code.p, l->code.len, NULL, 0);
	*newcode = sr_code_target(n->policy, l->code, repl_enh);
	if (*newcode == 0 && first == '3') {
		unfixable(n, "reply code %s: a 3xx code outside the reply-code "
		    "grammar has no standard replacement", before);
		return false;
	}
	if (*newcode == 0) {
		b = code >= 0 ? sr_registry_basic((unsigned)code) : NULL;
		unfixable(n, "reply code %.12s%s%s%s: class %c is no SMTP reply; "
		    "nothing to replace it with", before, b ? " (" : "",
		    b ? b->meaning : "", b ? ")" : "", first);
		return false;
	}
	if (n->o->context == SR_CONTEXT_MILTER &&
	    *newcode / 100 != 4 && *newcode / 100 != 5) {
		unfixable(n, "reply code %s: libmilter can send only 4xx and "
		    "5xx replies", before);
		return false;
	}
	n->code[0] = (char)('0' + *newcode / 100 % 10);
	n->code[1] = (char)('0' + *newcode / 10 % 10);
	n->code[2] = (char)('0' + *newcode % 10);
	n->code[3] = '\0';
	if (code < 0 || (unsigned)code != *newcode)
		change(n, code >= 0 && sr_code_in_abnf((unsigned)code) ?
		    SR_D_CODE_NONSTANDARD : SR_D_CODE_SYNTAX, lineno, before,
		    n->code);
	return true;
}

/* Decide the enhanced code every line gets. */
static void decide_enhanced(struct norm *n, const struct sr_line *l,
			    unsigned newcode, struct sr_enh repl_enh)
{
	enum sr_phase phase = n->o->phase;
	char before[SR_CHANGE_TEXT_MAX], after[SR_CHANGE_TEXT_MAX];
	char b1[SR_ENH_STRLEN], b2[SR_ENH_STRLEN];
	struct sr_enh e = { 0, 0, 0 }, fit;
	enum sr_enh_kind kind;
	uint8_t cls = (uint8_t)(newcode / 100);

	kind = sr_enh_classify(l->enh, &e);
	sr_join(before, sizeof(before), n->code, 3, l->enh.p, l->enh.len);
	if (cls == 3) {
		if (kind != SR_ENH_NONE)
			change(n, kind == SR_ENH_MALFORMED ? SR_D_ENHANCED_SYNTAX :
			    SR_D_ENHANCED_NOT_ALLOWED, 1, before, n->code);
		return;
	}
	if (kind == SR_ENH_VALID || kind == SR_ENH_LEADING_ZERO) {
		if (kind == SR_ENH_LEADING_ZERO) {
			sr_enh_format(e, b1);
			sr_join(after, sizeof(after), n->code, 3, b1,
			    strlen(b1));
			change(n, SR_D_ENHANCED_LEADING_ZERO, 1, before, after);
		}
		if (e.cls != cls) {
			sr_enh_format(e, b1);
			sr_join(before, sizeof(before), n->code, 3, b1,
			    strlen(b1));
			e.cls = cls;
			sr_enh_format(e, b2);
			sr_join(after, sizeof(after), n->code, 3, b2,
			    strlen(b2));
			change(n, SR_D_ENHANCED_CLASS_MISMATCH, 1, before, after);
		}
		if (sr_registry_enhanced(e.subject, e.detail) == NULL) {
			sr_enh_format(e, b1);
			e.detail = 0;
			if (sr_registry_enhanced(e.subject, 0) == NULL)
				e.subject = 0;
			change(n, SR_D_ENHANCED_UNREGISTERED, 1, b1,
			    sr_enh_format(e, b2));
		}
		fit = sr_enh_fit_phase(e, phase);
		if (!sr_enh_equal(fit, e))
			change(n, SR_D_ENHANCED_PHASE, 1, sr_enh_format(e, b1),
			    sr_enh_format(fit, b2));
		e = fit;
	} else if (phase == SR_PHASE_CONNECT || phase == SR_PHASE_HELO) {
		/* RFC 2034: the greeting and EHLO replies carry none. */
		if (kind == SR_ENH_MALFORMED)
			change(n, SR_D_ENHANCED_SYNTAX, 1, before, n->code);
		return;
	} else {
		e = repl_enh.cls != 0 ? repl_enh :
		    sr_policy_default_enh(n->policy, newcode, phase);
		e = sr_enh_fit_phase(e, phase);
		sr_enh_format(e, b1);
		sr_join(after, sizeof(after), n->code, 3, b1,
		    strlen(b1));
		change(n, kind == SR_ENH_MALFORMED ? SR_D_ENHANCED_SYNTAX :
		    SR_D_ENHANCED_MISSING, 1, kind == SR_ENH_MALFORMED ? before :
		    n->code, after);
	}
	sr_enh_format(e, n->enh);
	n->enhlen = strlen(n->enh);
}

/*
 * Note what was wrong with the lines' structure (it is rebuilt anyway),
 * comparing each line with FIRST, the line whose codes the reply takes.
 */
static void note_line_structure(struct norm *n, const struct sr_reply *r,
				const struct sr_line *first)
{
	char before[SR_CHANGE_TEXT_MAX];
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		const struct sr_line *l = &r->lines[i];
		unsigned lineno = i + 1 > 65535 ? 65535 : (unsigned)(i + 1);
		bool last = i + 1 == r->nlines;

		if (l->form & SR_FORM_BLANKS)
			change(n, SR_D_SEPARATOR_BLANKS, lineno, "blanks",
			    "one space");
		if (l != first && (l->code.len != first->code.len ||
		    memcmp(l->code.p, first->code.p, l->code.len) != 0)) {
			textf(before, sizeof(before), "%.*s",
			    (int)(l->code.len > 12 ? 12 : l->code.len), l->code.p);
			change(n, SR_D_MULTILINE_CODE_MISMATCH, lineno, before,
			    n->code);
		}
		if (l != first && (l->enh.len != first->enh.len ||
		    memcmp(l->enh.p, first->enh.p, l->enh.len) != 0)) {
			textf(before, sizeof(before), "%.*s",
			    (int)(l->enh.len > 12 ? 12 : l->enh.len), l->enh.p);
			change(n, SR_D_MULTILINE_ENHANCED_MISMATCH, lineno, before,
			    n->enhlen ? n->enh : "(none)");
		}
		if (last && l->sep == '-' && n->o->may_be_cut)
			continue;	/* a log's copy, cut: not wrong */
		if ((!last && l->sep != '-') || (last && l->sep == '-'))
			change(n, SR_D_MULTILINE_SEPARATOR, lineno,
			    last ? "'-' on the last line" :
			    "no '-' before the last line", "'-' on all but the last");
	}
}

/* Clean, wrap and write the text of every line. */
static void emit_texts(struct norm *n, const struct sr_reply *r,
		       struct sr_enh e, unsigned newcode)
{
	char stack[1024], *scratch = stack, before[SR_CHANGE_TEXT_MAX];
	size_t cap = sizeof(stack), bad = 0, nonascii = 0, i, len, lead;
	bool content = false;

	for (i = 0; i < r->nlines && !content; i++)
		content = has_content(r->lines[i].text);
	if (!content) {
		const char *sample = sample_text(e, newcode);

		emit_wrapped(n, sample, strlen(sample));
		change(n, SR_D_TEXT_EMPTY, 1, "no text", sample);
		return;
	}
	for (i = 0; i < r->nlines; i++) {
		struct sr_span t = r->lines[i].text;

		if (t.len > cap) {
			char *bigger = scratch == stack ? malloc(t.len) :
			    realloc(scratch, t.len);

			if (bigger == NULL) {
				n->nomem = true;
				break;
			}
			scratch = bigger;
			cap = t.len;
		}
		len = clean_text(t, n->o->utf8, scratch, &bad, &nonascii);
		lead = 0;
		if (n->enhlen > 0) {
			/* Blanks after an enhanced code are one separator to
			 * the reader (the lexer): they would not stay. */
			while (lead < len && sr_isblank(scratch[lead]))
				lead++;
			len -= lead;
		}
		if ((len > n->width || (n->milter_width != SIZE_MAX &&
		    len > n->milter_width / 2)) &&
		    fitting_prefix(scratch + lead, len, n->width,
		    n->milter_width) < len) {
			textf(before, sizeof(before), "%zu bytes of text",
			    len);
			change(n, SR_D_LINE_TOO_LONG, (unsigned)(i + 1 > 65535 ?
			    65535 : i + 1), before, "wrapped");
		}
		emit_wrapped(n, scratch + lead, len);
		if (n->cut || n->nomem)
			break;
	}
	if (scratch != stack)
		free(scratch);
	if (bad > 0) {
		textf(before, sizeof(before), "%zu control byte%s", bad,
		    bad == 1 ? "" : "s");
		change(n, SR_D_TEXT_BAD_CHAR, 0, before, "spaces");
	}
	if (nonascii > 0) {
		textf(before, sizeof(before), "%zu byte%s over 126",
		    nonascii, nonascii == 1 ? "" : "s");
		change(n, SR_D_TEXT_NON_ASCII, 0, before, "'?'");
	}
	if (n->cut) {
		textf(before, sizeof(before), "more than %zu lines",
		    n->max_lines);
		textf(stack, sizeof(stack), "%zu lines, cut with \"...\"",
		    n->max_lines);
		change(n, SR_D_TOO_MANY_LINES, (unsigned)n->max_lines + 1, before,
		    stack);
	}
}

/* Write every line with the code and enhanced code decided. */
static void emit_all(struct norm *n, const struct sr_reply *r,
		     unsigned newcode)
{
	struct sr_enh e = { 0, 0, 0 };

	if (n->enhlen > 0)
		(void)sr_enh_parse(n->enh, n->enhlen, &e);
	/* Room per line: CRLF, code, separator, enhanced code and a blank. */
	n->width = SR_WIRE_LINE_MAX - (2 + 3 + 1 +
	    (n->enhlen > 0 ? n->enhlen + 1 : 0));
	emit_texts(n, r, e, newcode);
}

void sr_normalize(const struct sr_reply *r, const struct sr_options *o,
		  struct sr_normalized *out)
{
	struct sr_options opts;
	struct sr_reply empty;
	struct sr_enh e = { 0, 0, 0 };
	struct norm n;
	unsigned newcode = 0;
	size_t g;

	/* Field by field: zeroing the change slots would cost more than the
	 * rest of a typical normalization. */
	out->status = SR_NORM_OK;
	out->why[0] = '\0';
	out->code[0] = '\0';
	out->enhanced[0] = '\0';
	out->wire_len = 0;
	out->nlines = 0;
	out->nchanges = 0;
	out->wire = out->inline_buf;
	out->inline_buf[0] = '\0';
	out->cap = sizeof(out->inline_buf);
	r = sr_resolve_input(r, o, &opts, &empty);
	memset(&n, 0, sizeof(n));
	n.out = out;
	n.o = &opts;
	n.policy = opts.policy;
	if (!choose_line(&n, r, &g) ||
	    !decide_code(&n, &r->lines[g], (unsigned)(g + 1 > 65535 ? 65535 :
	    g + 1), &newcode, &e))
		return;
	decide_enhanced(&n, &r->lines[g], newcode, e);
	n.milter_width = opts.context == SR_CONTEXT_MILTER ?
	    SR_MILTER_TEXT_MAX : SIZE_MAX;
	n.max_lines = opts.context == SR_CONTEXT_MILTER ?
	    SR_MILTER_LINES_MAX : SIZE_MAX;
	note_line_structure(&n, r, &r->lines[g]);
	emit_all(&n, r, newcode);
	if (n.need_enh && !n.nomem) {
		char before[SR_CHANGE_TEXT_MAX];

		/* A line without enhanced code would show text that reads
		 * as one: every line gets the default enhanced code. */
		sr_enh_format(sr_enh_fit_phase(sr_policy_default_enh(n.policy,
		    newcode, opts.phase), opts.phase), n.enh);
		n.enhlen = strlen(n.enh);
		sr_join(before, sizeof(before), n.code, 3, n.enh, n.enhlen);
		change(&n, SR_D_ENHANCED_MISSING, 1, n.code, before);
		out->wire_len = 0;
		out->wire[0] = '\0';
		out->nlines = 0;
		n.cut = n.prev_bare = n.need_enh = false;
		emit_all(&n, r, newcode);
	}
	if (n.nomem) {
		sr_normalized_release(out);
		out->status = SR_NORM_NOMEM;
		snprintf(out->why, sizeof(out->why), "out of memory");
		return;
	}
	memcpy(out->code, n.code, sizeof(out->code));
	memcpy(out->enhanced, n.enh, sizeof(out->enhanced));
}

void sr_normalized_release(struct sr_normalized *n)
{
	if (n->wire != NULL && n->wire != n->inline_buf)
		free(n->wire);
	n->wire = n->inline_buf;
	n->inline_buf[0] = '\0';
	n->wire_len = 0;
	n->nlines = 0;
	n->cap = sizeof(n->inline_buf);
}

bool sr_normalized_next_text(const struct sr_normalized *n, size_t *pos,
			     struct sr_span *text)
{
	const char *line, *crlf;
	size_t len, off, enhlen;

	if (n->status != SR_NORM_OK || n->wire_len == 0 || *pos > n->wire_len)
		return false;
	line = n->wire + *pos;
	len = n->wire_len - *pos;
	crlf = len >= 2 ? memmem(line, len, "\r\n", 2) : NULL;
	if (crlf != NULL)
		len = (size_t)(crlf - line);
	off = len > 3 ? 4 : len;
	enhlen = strlen(n->enhanced);
	if (enhlen > 0 && off + enhlen <= len) {
		off += enhlen;
		if (off < len)
			off++;
	}
	text->p = line + off;
	text->len = len - off;
	*pos = crlf != NULL ? *pos + len + 2 : n->wire_len + 1;
	return true;
}

size_t sr_milter_escape(struct sr_span text, char *buf, size_t size)
{
	size_t i, o = 0, written = 0;
	bool fits = true;

	for (i = 0; i < text.len; i++) {
		size_t need = text.p[i] == '%' ? 2 : 1;

		/* Stop writing at the first byte that does not fit, so that
		 * a truncated result is a prefix of the full one. */
		if (fits && o + need < size) {
			buf[o] = text.p[i];
			if (need == 2)
				buf[o + 1] = '%';
			written = o + need;
		} else {
			fits = false;
		}
		o += need;
	}
	if (size > 0)
		buf[written] = '\0';
	return o;
}
