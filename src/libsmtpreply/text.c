/*
 * SPDX-License-Identifier: ISC
 * text.c - the byte-level helpers of the engine (a leaf: it calls no other
 * module of the library).
 *
 * Public (smtpreply/text.h): reading a basic reply code, the length of a
 * UTF-8 character, printable quoting; the programs use these instead of
 * copies of their own. Internal (internal.h): byte classes and the fast
 * scan over plain text, the enhanced-code token and its classification,
 * '%' accounting for libmilter, short joins. The parser, the checker, the
 * diagnostics and the normalizer all take them from here, so none of them
 * has to call another for a helper.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

int sr_code_parse(const char *p, size_t len)
{
	return sr_code_digits(p, len);
}

int sr_code_at(const char *p, size_t len)
{
	if (len < 3 || (len > 3 && p[3] != ' ' && p[3] != '-'))
		return -1;
	return sr_code_digits(p, 3);
}

size_t sr_utf8_len(const unsigned char *p, size_t len)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c == 0xe0) {
		n = 3;
		lo = 0xa0;		/* no overlong forms */
	} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
		n = 3;
	} else if (c == 0xed) {
		n = 3;
		hi = 0x9f;		/* no UTF-16 surrogates */
	} else if (c == 0xf0) {
		n = 4;
		lo = 0x90;		/* no overlong forms */
	} else if (c >= 0xf1 && c <= 0xf3) {
		n = 4;
	} else if (c == 0xf4) {
		n = 4;
		hi = 0x8f;		/* nothing beyond U+10FFFF */
	} else {
		return 0;		/* continuation byte, C0, C1, F5-FF */
	}
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t sr_quote_char(const char *src, size_t len, unsigned flags,
		     char piece[SR_QUOTE_PIECE_MAX], size_t *piece_len)
{
	const char *hex = flags & SR_QUOTE_HEX_UPPER ? "0123456789ABCDEF" :
	    "0123456789abcdef";
	unsigned char c;
	size_t n;

	*piece_len = 0;
	if (len == 0)
		return 0;
	c = (unsigned char)src[0];
	if (c >= 0x80 && (flags & SR_QUOTE_UTF8) &&
	    (n = sr_utf8_len((const unsigned char *)src, len)) > 0) {
		memcpy(piece, src, n);
		*piece_len = n;
		return n;
	}
	if ((c == '\\' && (flags & (SR_QUOTE_DQUOTE | SR_QUOTE_BACKSLASH))) ||
	    (c == '"' && (flags & SR_QUOTE_DQUOTE))) {
		piece[0] = '\\';
		piece[1] = (char)c;
		*piece_len = 2;
	} else if (c >= 0x20 && c < 0x7f) {
		piece[0] = (char)c;
		*piece_len = 1;
	} else if (!(flags & SR_QUOTE_ESCAPE)) {
		piece[0] = '?';
		*piece_len = 1;
	} else if (c == '\r' || c == '\n' || c == '\t') {
		piece[0] = '\\';
		piece[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : 't';
		*piece_len = 2;
	} else {
		piece[0] = '\\';
		piece[1] = 'x';
		piece[2] = hex[c >> 4];
		piece[3] = hex[c & 15];
		*piece_len = 4;
	}
	return 1;
}

/* True when the byte C stands for itself under FLAGS. */
static bool quote_plain(unsigned char c, unsigned flags)
{
	if (c < 0x20 || c >= 0x7f)
		return false;
	if (c == '\\')
		return !(flags & (SR_QUOTE_DQUOTE | SR_QUOTE_BACKSLASH));
	return c != '"' || !(flags & SR_QUOTE_DQUOTE);
}

size_t sr_quote(char *dst, size_t size, const char *src, size_t len,
		unsigned flags)
{
	char piece[SR_QUOTE_PIECE_MAX];
	size_t i = 0, o = 0, used, n, full = 0, reserve = 1;

	if (size == 0)
		return 0;
	if ((flags & ~SR_QUOTE_HEX_UPPER) == 0)
		return sr_copy_printable(dst, size, src, len);
	if (flags & SR_QUOTE_ELLIPSIS) {
		/* When it will not all fit, keep room for "..." after each
		 * piece: then there always is room for the mark. */
		for (i = 0; i < len && full < size; i += used) {
			used = sr_quote_char(src + i, len - i, flags, piece, &n);
			full += n;
		}
		if (full >= size)
			reserve = 4;
		i = 0;
	}
	while (i < len) {
		if (quote_plain((unsigned char)src[i], flags)) {
			if (o + 1 + reserve > size)
				goto cut;
			dst[o++] = src[i++];
			continue;
		}
		used = sr_quote_char(src + i, len - i, flags, piece, &n);
		if (o + n + reserve > size)
			goto cut;
		memcpy(dst + o, piece, n);
		o += n;
		i += used;
	}
	dst[o] = '\0';
	return o;
cut:
	if ((flags & SR_QUOTE_ELLIPSIS) && o + 4 <= size) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return o;
}

const unsigned char sr_byte_class[256] = {
#define BC_ROW_BAD	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2
#define BC_ROW_HIGH	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3
	/* 0x00 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2,
	/* 0x10 */ BC_ROW_BAD,
	/* 0x20 */ 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x60 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	BC_ROW_HIGH, BC_ROW_HIGH, BC_ROW_HIGH, BC_ROW_HIGH,
	BC_ROW_HIGH, BC_ROW_HIGH, BC_ROW_HIGH, BC_ROW_HIGH,
#undef BC_ROW_BAD
#undef BC_ROW_HIGH
};

size_t sr_plain_run(const unsigned char *p, size_t len, bool *spaces_only)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	const uint64_t sp = 0x2020202020202020ULL;
	const uint64_t pct = 0x2525252525252525ULL;
	size_t i = 0;
	uint64_t w, x;

	while (len - i >= 8) {
		memcpy(&w, p + i, 8);
		/* Any byte < 0x20, > 0x7e (0x7f and up), or equal to '%'? */
		x = ((w - sp) & ~w) | ((w + ones) & high) | w;
		x &= high;
		x |= ((w ^ pct) - ones) & ~(w ^ pct) & high;
		if (x != 0)
			break;
		if (w != sp)
			*spaces_only = false;
		i += 8;
	}
	return i;
}

size_t sr_enh_token_len(const char *p, size_t len)
{
	size_t i = 0;
	int dots = 0;

	if (len == 0 || !sr_isdigit(p[0]))
		return 0;
	/* An attempt at an enhanced code starts with a class: 2, 4 or 5
	 * (leading zeros aside). "1.5 MB", "192.0.2.1", "6.1.1" are text. */
	while (i < len && p[i] == '0')
		i++;
	if (i + 1 >= len || (p[i] != '2' && p[i] != '4' && p[i] != '5') ||
	    p[i + 1] != '.')
		return 0;
	i = 0;
	while (i < len && (sr_isdigit(p[i]) || p[i] == '.')) {
		if (p[i] == '.')
			dots++;
		i++;
	}
	if (dots == 0)
		return 0;
	if (i < len && !sr_isblank(p[i]))
		return 0;
	return i;
}

enum sr_enh_kind sr_enh_classify(struct sr_span tok, struct sr_enh *out)
{
	unsigned field[3];
	size_t i = 0, nfield = 0;
	bool zeros = false;

	if (tok.len == 0)
		return SR_ENH_NONE;
	while (nfield < 3) {
		size_t start = i, digits;
		unsigned v = 0;

		while (i < tok.len && tok.p[i] == '0' && i + 1 < tok.len &&
		       sr_isdigit(tok.p[i + 1])) {
			zeros = true;
			i++;
		}
		for (digits = 0; i < tok.len && sr_isdigit(tok.p[i]); i++) {
			if (++digits > 3)
				return SR_ENH_MALFORMED;
			v = v * 10 + (unsigned)(tok.p[i] - '0');
		}
		if (i == start)
			return SR_ENH_MALFORMED;	/* empty field */
		field[nfield++] = v;
		if (nfield < 3) {
			if (i >= tok.len || tok.p[i] != '.')
				return SR_ENH_MALFORMED;
			i++;
		}
	}
	if (i != tok.len)
		return SR_ENH_MALFORMED;		/* a fourth field */
	if (field[0] != 2 && field[0] != 4 && field[0] != 5)
		return SR_ENH_MALFORMED;
	out->cls = (uint8_t)field[0];
	out->subject = (uint16_t)field[1];
	out->detail = (uint16_t)field[2];
	return zeros ? SR_ENH_LEADING_ZERO : SR_ENH_VALID;
}

void sr_join(char *buf, size_t size, const char *a, size_t alen,
	     const char *b, size_t blen)
{
	size_t o = 0;

	if (size == 0)
		return;
	if (alen > size - 1)
		alen = size - 1;
	memcpy(buf, a, alen);
	o = alen;
	if (b != NULL && o + 1 < size) {
		buf[o++] = ' ';
		if (blen > size - 1 - o)
			blen = size - 1 - o;
		memcpy(buf + o, b, blen);
		o += blen;
	}
	buf[o] = '\0';
}

size_t sr_milter_len(const char *p, size_t len)
{
	size_t i, n = len;

	for (i = 0; i < len; i++)
		if (p[i] == '%')
			n++;
	return n;
}
