/*
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

/* Split what follows the code and separator into enhanced token and text. */
static void split_enhanced(const char *p, size_t len, struct sr_line *l)
{
	size_t n = sr_enh_token_len(p, len);

	if (n == 0) {
		l->enh.p = p;
		l->enh.len = 0;
		l->text.p = p;
		l->text.len = len;
		return;
	}
	l->enh.p = p;
	l->enh.len = n;
	if (n < len && p[n] == ' ')	/* the one space after the token */
		n++;
	l->text.p = p + n;
	l->text.len = len - n;
}

/* Split one line (without its line ending) into code, separator, rest. */
static void split_line(const char *p, size_t len, struct sr_line *l)
{
	size_t i = 0;

	while (i < len && sr_isdigit(p[i]))
		i++;
	l->code.p = p;
	l->code.len = i;
	if (i == len) {
		l->sep = '\0';
	} else if (p[i] == ' ' || p[i] == '-') {
		l->sep = p[i];
		i++;
	} else {
		l->sep = '?';
	}
	split_enhanced(p + i, len - i, l);
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
		l->code.p = code;
		l->code.len = strlen(code);
		l->sep = i + 1 < ntext ? '-' : ' ';
		if (enhanced != NULL) {
			l->enh.p = enhanced;
			l->enh.len = strlen(enhanced);
			l->text.p = t;
			l->text.len = strlen(t);
		} else {
			split_enhanced(t, strlen(t), l);
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
	return sr_code_value(l->code);
}
