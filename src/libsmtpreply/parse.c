/*
 * SPDX-License-Identifier: ISC
 * parse.c - split an SMTP reply into lines, codes, enhanced codes and text.
 *
 * The parser never judges: it records what is there (a code of any
 * length, the separator actually used, a token that tries to be an
 * enhanced status code) so that the checker can say what is wrong and the
 * normalizer can repair it. Lines are views into the caller's buffer; only
 * the line array may live on the heap, for replies of many lines.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void reply_init(struct sr_reply *r)
{
	r->lines = r->inline_lines;
	r->nlines = 0;
	r->cap = SR_INLINE_LINES;
}

/* Make room for WANT lines; -1 when memory ran out (R unchanged). */
static int reply_reserve(struct sr_reply *r, size_t want)
{
	struct sr_line *bigger;
	size_t ncap;

	if (want <= r->cap)
		return 0;
	ncap = r->cap;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sizeof(struct sr_line))
			return -1;
		ncap *= 2;
	}
	if (r->lines == r->inline_lines) {
		bigger = malloc(ncap * sizeof(*bigger));
		if (bigger == NULL)
			return -1;
		memcpy(bigger, r->lines, r->nlines * sizeof(*bigger));
	} else {
		bigger = realloc(r->lines, ncap * sizeof(*bigger));
		if (bigger == NULL)
			return -1;
	}
	r->lines = bigger;
	r->cap = ncap;
	return 0;
}

/* Length of the run of blanks (SP, HT) at P[0..LEN). */
static size_t blank_run(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && sr_isblank(p[i]))
		i++;
	return i;
}

/*
 * Split what follows the code and its separator into enhanced token and
 * text. BLANKS_OK: a run of blanks before an enhanced code is read as one
 * separator (not on 3xx replies, which never carry one: RFC 2034). After
 * the token, a run of blanks before the text is one separator.
 */
static void split_enhanced(const char *p, size_t len, bool blanks_ok,
			   struct sr_line *l)
{
	size_t n, b = blanks_ok ? blank_run(p, len) : 0;
	struct sr_enh e;

	if (b > 0 && b < len && (n = sr_enh_token_len(p + b, len - b)) > 0 &&
	    sr_enh_classify((struct sr_span){ p + b, n }, &e) == SR_ENH_VALID) {
		/* "550  5.7.1 text": the enhanced code after a run. */
		l->form |= SR_FORM_BLANKS;
		l->extra += b;
		p += b;
		len -= b;
	}
	n = sr_enh_token_len(p, len);
	l->enh.p = p;
	l->enh.len = n;
	if (n > 0) {
		p += n;
		len -= n;
		b = blank_run(p, len);
		if (b == 1 && p[0] == ' ') {
			p++;		/* the one space after the token */
			len--;
		} else if (b > 0 && b < len) {
			l->form |= SR_FORM_BLANKS;	/* "5.7.1\ttext" */
			l->extra += b - 1;
			p += b;
			len -= b;
		} else if (b > 0 && p[0] == ' ') {
			p++;		/* trailing blanks: the first one */
			len--;
		}
	}
	l->text.p = p;
	l->text.len = len;
}

/*
 * The one lexer of a reply line (without its line ending). It reads what
 * a person meant when the line is close to "CODE SEP [ENH SP] TEXT":
 *   - "5.7.1 text": an enhanced code with no basic code in front
 *     (SR_FORM_NO_CODE; the code span is empty);
 *   - a run of blanks (SP, HT) between the code and a valid enhanced
 *     code, or between the enhanced code and the text, is one separator,
 *     and so is one HT right after the code (SR_FORM_BLANKS);
 *   - digits that are no readable code ("55O", "5 5 0", "5501", "550x")
 *     mark the line SR_FORM_CODE_BROKEN: nothing may be recovered from
 *     it, and nobody should pretend that the rest is text.
 */
static void split_line(const char *p, size_t len, struct sr_line *l)
{
	size_t i = 0, n;

	l->form = 0;
	l->extra = 0;
	while (i < len && sr_isdigit(p[i]))
		i++;
	l->code.p = p;
	l->code.len = i;
	if (i > 0 && i < len && p[i] == '.' &&
	    (n = sr_enh_token_len(p, len)) > 0) {
		/* An enhanced code where the basic code belongs. */
		l->form |= SR_FORM_NO_CODE;
		l->code.len = 0;
		l->sep = n < len ? ' ' : '\0';
		split_enhanced(p, len, false, l);
		return;
	}
	if (i == len) {
		l->sep = '\0';
	} else if (p[i] == ' ' || p[i] == '-' || p[i] == '\t') {
		l->sep = p[i] == '-' ? '-' : ' ';
		if (p[i] == '\t' && i + 1 < len) {
			l->form |= SR_FORM_BLANKS;
			l->extra++;
		}
		i++;
	} else {
		l->sep = '?';
	}
	if (i > 0 && (l->code.len != 3 || l->sep == '?'))
		l->form |= SR_FORM_CODE_BROKEN;
	split_enhanced(p + i, len - i, i > 0 && p[0] != '3', l);
}

int sr_reply_parse(struct sr_reply *r, const char *buf, size_t len)
{
	size_t start = 0, end, next;
	const char *nl;

	reply_init(r);
	if (buf == NULL)
		len = 0;
	for (;;) {
		nl = len > start ? memchr(buf + start, '\n', len - start) : NULL;
		if (nl != NULL) {
			end = (size_t)(nl - buf);
			next = end + 1;
			if (end > start && buf[end - 1] == '\r')
				end--;
		} else {
			end = len;
			next = len;
		}
		if (reply_reserve(r, r->nlines + 1) < 0) {
			sr_reply_release(r);
			return -1;
		}
		split_line(buf ? buf + start : "", end - start,
			   &r->lines[r->nlines++]);
		/* A final line ending does not open another, empty line. */
		if (nl == NULL || next >= len)
			break;
		start = next;
	}
	return 0;
}

int sr_reply_from_parts(struct sr_reply *r, const char *code,
			const char *enhanced, const char *const *text,
			size_t ntext)
{
	static const char *const no_text[] = { "" };
	struct sr_line *l;
	size_t i;

	reply_init(r);
	if (code == NULL)
		code = "";
	if (enhanced != NULL && *enhanced == '\0')
		enhanced = NULL;
	if (text == NULL || ntext == 0) {
		text = no_text;
		ntext = 1;
	}
	if (reply_reserve(r, ntext) < 0) {
		reply_init(r);
		return -1;
	}
	for (i = 0; i < ntext; i++) {
		const char *t = text[i] ? text[i] : "";

		l = &r->lines[r->nlines++];
		l->form = 0;
		l->extra = 0;
		l->code.p = code;
		l->code.len = strlen(code);
		l->sep = i + 1 < ntext ? '-' : ' ';
		if (enhanced != NULL) {
			l->enh.p = enhanced;
			l->enh.len = strlen(enhanced);
			l->text.p = t;
			l->text.len = strlen(t);
		} else {
			split_enhanced(t, strlen(t), code[0] != '3', l);
		}
	}
	return 0;
}

void sr_reply_release(struct sr_reply *r)
{
	if (r->lines != r->inline_lines)
		free(r->lines);
	reply_init(r);
}

int sr_reply_code(const struct sr_reply *r)
{
	const struct sr_line *l;

	if (r->nlines == 0)
		return -1;
	l = &r->lines[0];
	if (l->form & (SR_FORM_CODE_BROKEN | SR_FORM_NO_CODE))
		return -1;
	return sr_code_value(l->code);
}
