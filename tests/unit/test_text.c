/*
 * SPDX-License-Identifier: ISC
 * test_text.c - the engine's shared text helpers (smtpreply/text.h):
 * reading a basic code, UTF-8 character lengths, printable quoting.
 *
 * These are the one definition the milter, the audit, the JSON writer and
 * the command line use; the tables pin down what each of them used to do
 * with its own copy.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#ifndef NROWS
#endif

struct code_row {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int parse;		/* sr_code_parse */
	int at;			/* sr_code_at */
};

static const struct code_row code_rows[] = {
	{ "550", 0, 550, 550 },
	{ "550 5.7.1 x", 0, -1, 550 },
	{ "250-ok", 0, -1, 250 },
	{ "421", 0, 421, 421 },
	{ "099", 0, 99, 99 },
	{ "000", 0, 0, 0 },
	{ "999 x", 0, -1, 999 },
	{ "5500", 0, -1, -1 },		/* four digits: not a code */
	{ "550x", 0, -1, -1 },
	{ "550\tx", 0, -1, -1 },	/* HT does not end a code */
	{ "55O", 0, -1, -1 },		/* letter O */
	{ "55", 0, -1, -1 },
	{ "5 5 0", 0, -1, -1 },
	{ "5.7.1 x", 0, -1, -1 },
	{ " 550", 0, -1, -1 },
	{ "", 0, -1, -1 },
	{ "550 x", 3, 550, 550 },	/* the length, not the NUL, ends it */
	{ "55\0", 3, -1, -1 },
	{ "\xff" "50", 0, -1, -1 },
};

START_TEST(code_table)
{
	const struct code_row *row = &code_rows[_i];
	size_t len = row->len ? row->len : strlen(row->in);

	ck_assert_int_eq(sr_code_parse(row->in, len), row->parse);
	ck_assert_int_eq(sr_code_at(row->in, len), row->at);
}
END_TEST

/* Every prefix is read within its length (ASan catches a byte more). */
START_TEST(code_never_reads_past_len)
{
	static const char in[] = "550-5.7.1";
	size_t n;

	for (n = 0; n <= strlen(in); n++) {
		char *copy = malloc(n ? n : 1);

		memcpy(copy, in, n);
		ck_assert_int_eq(sr_code_at(copy, n), n >= 3 ? 550 : -1);
		ck_assert_int_eq(sr_code_parse(copy, n), n == 3 ? 550 : -1);
		free(copy);
	}
}
END_TEST

struct utf8_row {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	size_t want;
};

static const struct utf8_row utf8_rows[] = {
	{ "a", 0, 1 },
	{ "\x01", 0, 1 },
	{ "\x7f", 0, 1 },
	{ "\0", 1, 1 },
	{ "", 0, 0 },
	{ "\xc3\xa9", 0, 2 },			/* e acute */
	{ "\xc3\xa9x", 0, 2 },
	{ "\xc3", 0, 0 },			/* cut short */
	{ "\xc3x", 0, 0 },
	{ "\xc0\xaf", 0, 0 },			/* overlong '/' */
	{ "\xc1\xbf", 0, 0 },
	{ "\xc2\x80", 0, 2 },			/* U+0080 */
	{ "\xdf\xbf", 0, 2 },
	{ "\xe0\x9f\xbf", 0, 0 },		/* overlong */
	{ "\xe0\xa0\x80", 0, 3 },		/* U+0800 */
	{ "\xe2\x82\xac", 0, 3 },		/* euro sign */
	{ "\xe2\x82", 0, 0 },
	{ "\xed\x9f\xbf", 0, 3 },		/* U+D7FF */
	{ "\xed\xa0\x80", 0, 0 },		/* surrogate U+D800 */
	{ "\xed\xbf\xbf", 0, 0 },
	{ "\xee\x80\x80", 0, 3 },		/* U+E000 */
	{ "\xef\xbf\xbf", 0, 3 },
	{ "\xf0\x8f\xbf\xbf", 0, 0 },		/* overlong */
	{ "\xf0\x90\x80\x80", 0, 4 },		/* U+10000 */
	{ "\xf0\x9f\x98\x80", 0, 4 },		/* emoji */
	{ "\xf4\x8f\xbf\xbf", 0, 4 },		/* U+10FFFF */
	{ "\xf4\x90\x80\x80", 0, 0 },		/* beyond U+10FFFF */
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xf0\x9f\x98", 0, 0 },
	{ "\x80", 0, 0 },			/* stray continuation */
	{ "\xbf", 0, 0 },
	{ "\xfe", 0, 0 },
	{ "\xff", 0, 0 },
};

START_TEST(utf8_table)
{
	const struct utf8_row *row = &utf8_rows[_i];
	size_t len = row->len ? row->len : strlen(row->in);

	ck_assert_uint_eq(sr_utf8_len((const unsigned char *)row->in, len),
			  row->want);
}
END_TEST

/* A decoder written from RFC 3629's definition, for the exhaustive test. */
static size_t utf8_reference(const unsigned char *p, size_t len)
{
	unsigned cp;
	size_t n, i;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Every 1-, 2- and 3-byte input, and every 4-byte lead with its second
 * byte, agree with the reference decoder. */
START_TEST(utf8_exhaustive)
{
	unsigned char b[4];
	unsigned a, c, d;

	for (a = 0; a < 256; a++) {
		b[0] = (unsigned char)a;
		ck_assert_uint_eq(sr_utf8_len(b, 1), utf8_reference(b, 1));
		for (c = 0; c < 256; c++) {
			b[1] = (unsigned char)c;
			ck_assert_uint_eq(sr_utf8_len(b, 2), utf8_reference(b, 2));
			for (d = 0; d < 256; d++) {
				b[2] = (unsigned char)d;
				b[3] = 0x80;
				if (sr_utf8_len(b, 3) != utf8_reference(b, 3) ||
				    sr_utf8_len(b, 4) != utf8_reference(b, 4))
					ck_abort_msg("%02x %02x %02x: %zu, "
					    "reference %zu", a, c, d,
					    sr_utf8_len(b, 4),
					    utf8_reference(b, 4));
			}
		}
	}
}
END_TEST

#define ESC	SR_QUOTE_ESCAPE
#define DQ	SR_QUOTE_DQUOTE
#define BS	SR_QUOTE_BACKSLASH
#define U8	SR_QUOTE_UTF8
#define UP	SR_QUOTE_HEX_UPPER
#define ELL	SR_QUOTE_ELLIPSIS

struct quote_row {
	const char *in;
	size_t len;
	unsigned flags;
	size_t size;
	const char *out;
};

static const struct quote_row quote_rows[] = {
	/* '?' for what is not printable ASCII (the engine's tokens) */
	{ "plain", 5, 0, 64, "plain" },
	{ "a\r\nb\x01\x7f\xff", 7, 0, 64, "a??b???" },
	{ "caf\xc3\xa9", 5, 0, 64, "caf??" },
	{ "caf\xc3\xa9", 5, U8, 64, "caf\xc3\xa9" },
	{ "q\"\\", 3, 0, 64, "q\"\\" },
	{ "abcdef", 6, 0, 4, "abc" },
	{ "x", 1, 0, 1, "" },
	/* the milter's log values: C escapes, quotes, "..." when cut */
	{ "a\r\nb\t", 5, ESC | DQ | ELL, 64, "a\\r\\nb\\t" },
	{ "q\"\\", 3, ESC | DQ | ELL, 64, "q\\\"\\\\" },
	{ "\x01\xff", 2, ESC | DQ | ELL, 64, "\\x01\\xff" },
	{ "abcdefgh", 8, ESC | DQ | ELL, 8, "abcd..." },
	{ "abcdefg", 7, ESC | DQ | ELL, 8, "abcdefg" },
	{ "\x01\x02\x03", 3, ESC | DQ | ELL, 8, "\\x01..." },
	{ "\x01\x02\x03", 3, ESC | DQ | ELL, 4, "..." },
	{ "\x01\x02\x03", 3, ESC | DQ | ELL, 3, "" },
	/* the command line: upper-case hex, backslash only, UTF-8 kept */
	{ "caf\xc3\xa9 \xff", 7, ESC | UP, 64, "caf\\xC3\\xA9 \\xFF" },
	{ "caf\xc3\xa9 \xff", 7, ESC | UP | U8, 64, "caf\xc3\xa9 \\xFF" },
	{ "a\\b\"", 4, ESC | BS, 64, "a\\\\b\"" },
	{ "a\0b", 3, ESC, 64, "a\\x00b" },
	/* a piece is never cut in two */
	{ "ab\x01", 3, ESC, 5, "ab" },
	{ "ab\xc3\xa9", 4, U8, 4, "ab" },
};

START_TEST(quote_table)
{
	const struct quote_row *row = &quote_rows[_i];
	char buf[65];
	size_t n;

	memset(buf, 'Z', sizeof(buf));
	n = sr_quote(buf, row->size, row->in, row->len, row->flags);
	ck_assert_str_eq(buf, row->out);
	ck_assert_uint_eq(n, strlen(row->out));
	ck_assert_uint_lt(n, row->size);
	ck_assert_int_eq(buf[row->size], 'Z');	/* nothing written beyond */
}
END_TEST

START_TEST(quote_size_zero)
{
	char buf[1] = { 'Z' };

	ck_assert_uint_eq(sr_quote(buf, 0, "abc", 3, ESC | ELL), 0);
	ck_assert_int_eq(buf[0], 'Z');
}
END_TEST

/* sr_quote() is the concatenation of sr_quote_char()'s pieces. */
START_TEST(quote_char_pieces)
{
	static const unsigned flag_sets[] = { 0, ESC, ESC | DQ, ESC | BS | UP,
	    U8, ESC | U8 | DQ };
	char buf[2048], joined[2048], piece[SR_QUOTE_PIECE_MAX];
	unsigned char in[512];
	size_t f, i, o, n, used;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + (i >> 3));
	memcpy(in + 100, "\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9", 9);
	for (f = 0; f < NROWS(flag_sets); f++) {
		(void)sr_quote(buf, sizeof(buf), (const char *)in, sizeof(in),
			       flag_sets[f]);
		for (i = 0, o = 0; i < sizeof(in); i += used) {
			used = sr_quote_char((const char *)in + i,
			    sizeof(in) - i, flag_sets[f], piece, &n);
			ck_assert_uint_ge(used, 1);
			ck_assert_uint_le(n, SR_QUOTE_PIECE_MAX);
			memcpy(joined + o, piece, n);
			o += n;
		}
		joined[o] = '\0';
		ck_assert_str_eq(buf, joined);
		for (i = 0; i < o; i++)
			ck_assert(((unsigned char)joined[i] >= 0x20 &&
			    (unsigned char)joined[i] < 0x7f) ||
			    ((flag_sets[f] & U8) &&
			    (unsigned char)joined[i] >= 0x80));
	}
	ck_assert_uint_eq(sr_quote_char("", 0, 0, piece, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = tcase_create("code");
	tcase_add_loop_test(tc, code_table, 0, (int)NROWS(code_rows));
	tcase_add_test(tc, code_never_reads_past_len);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, utf8_table, 0, (int)NROWS(utf8_rows));
	tcase_add_test(tc, utf8_exhaustive);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("quote");
	tcase_add_loop_test(tc, quote_table, 0, (int)NROWS(quote_rows));
	tcase_add_test(tc, quote_size_zero);
	tcase_add_test(tc, quote_char_pieces);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(text_suite());
}
