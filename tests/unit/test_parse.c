/*
 * SPDX-License-Identifier: ISC
 * test_parse.c - wire parsing and building replies from parts.
 *
 * The expected spans follow issue #2 ("The engine") and
 * notes/engine-semantics.md ("Parsing"): per line the code is the run of
 * leading digits, then the separator (' ' or '-' consumed, '\0' at the end
 * of the line, '?' for anything else, not consumed), then the enhanced
 * token (a maximal [0-9.] run starting with a digit, containing a '.',
 * followed by SP, HT or the end of the line; one SP after it consumed),
 * then the text.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* Expected "any separator but '-'" (the final line of a reply from parts). */
#define SEP_FINAL 'F'

struct pl {
	const char *code;
	char sep;
	const char *enh;
	const char *text;
	size_t tlen;		/* 0: strlen(text) */
};

struct prow {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	size_t nlines;
	struct pl l[4];		/* the first (up to) 4 lines */
};

#define GMAIL1 "[192.0.2.1] Our system has detected that this message is"
#define GMAIL2 "likely unsolicited mail. To reduce the amount of spam sent to Gmail,"
#define GMAIL3 "this message has been blocked. For more information, go to"
#define GMAIL4 "https://support.google.com/mail/?p=UnsolicitedMessageError d2-20020a05600c000000b0040e4a7a7e2csi1234567wmq.12 - gsmtp"
#define POSTFIX_T "<x@example.com>: Recipient address rejected: User unknown in local recipient table"
#define SENDMAIL_T "<a@b>... Domain of sender address a@b does not exist"
#define EXCHANGE_T "Access denied, banned sending IP [1.2.3.4]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [DB5EUR03FT022.eop-EUR03.prod.protection.outlook.com]"

static const struct prow parse_rows[] = {
	/* real replies */
	{ "postfix", "550 5.1.1 " POSTFIX_T, 0, 1,
	  { { "550", ' ', "5.1.1", POSTFIX_T, 0 } } },
	{ "postfix crlf", "550 5.1.1 " POSTFIX_T "\r\n", 0, 1,
	  { { "550", ' ', "5.1.1", POSTFIX_T, 0 } } },
	{ "sendmail", "553 5.1.8 " SENDMAIL_T "\r\n", 0, 1,
	  { { "553", ' ', "5.1.8", SENDMAIL_T, 0 } } },
	{ "exchange", "550 5.7.606 " EXCHANGE_T "\r\n", 0, 1,
	  { { "550", ' ', "5.7.606", EXCHANGE_T, 0 } } },
	{ "gmail multi-line",
	  "550-5.7.1 " GMAIL1 "\r\n550-5.7.1 " GMAIL2 "\r\n550-5.7.1 " GMAIL3
	  "\r\n550 5.7.1 " GMAIL4 "\r\n", 0, 4,
	  { { "550", '-', "5.7.1", GMAIL1, 0 }, { "550", '-', "5.7.1", GMAIL2, 0 },
	    { "550", '-', "5.7.1", GMAIL3, 0 }, { "550", ' ', "5.7.1", GMAIL4, 0 } } },
	{ "gmail multi-line, two blanks", "550-5.7.1 " GMAIL1 "\r\n550 5.7.1  " GMAIL4,
	  0, 2, { { "550", '-', "5.7.1", GMAIL1, 0 }, { "550", ' ', "5.7.1", GMAIL4, 0 } } },
	{ "421 closing", "421 4.7.0 Try again later, closing connection.\r\n", 0, 1,
	  { { "421", ' ', "4.7.0", "Try again later, closing connection.", 0 } } },
	{ "ehlo", "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME", 0, 3,
	  { { "250", '-', "", "mx.example.com", 0 }, { "250", '-', "", "PIPELINING", 0 },
	    { "250", ' ', "", "8BITMIME", 0 } } },
	{ "greeting", "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n", 0, 1,
	  { { "220", ' ', "", "mx.example.com ESMTP Postfix (Debian/GNU)", 0 } } },
	{ "354", "354 End data with <CR><LF>.<CR><LF>\r\n", 0, 1,
	  { { "354", ' ', "", "End data with <CR><LF>.<CR><LF>", 0 } } },

	/* line endings */
	{ "lf only", "550-5.7.1 a\n550 5.7.1 b\n", 0, 2,
	  { { "550", '-', "5.7.1", "a", 0 }, { "550", ' ', "5.7.1", "b", 0 } } },
	{ "mixed endings", "550-a\r\n550-b\n550 c", 0, 3,
	  { { "550", '-', "", "a", 0 }, { "550", '-', "", "b", 0 },
	    { "550", ' ', "", "c", 0 } } },
	{ "no final ending", "550 5.7.1 x", 0, 1,
	  { { "550", ' ', "5.7.1", "x", 0 } } },
	{ "lone cr in text", "550 5.7.1 a\rb\r\n", 0, 1,
	  { { "550", ' ', "5.7.1", "a\rb", 0 } } },
	{ "lone cr does not end a line", "550-a\r550 b", 0, 1,
	  { { "550", '-', "", "a\r550 b", 0 } } },
	{ "empty input", "", 0, 1, { { "", '\0', "", "", 0 } } },
	{ "crlf only", "\r\n", 0, 1, { { "", '\0', "", "", 0 } } },
	{ "lf only line", "\n", 0, 1, { { "", '\0', "", "", 0 } } },
	{ "empty second line", "550 a\r\n\r\n", 0, 2,
	  { { "550", ' ', "", "a", 0 }, { "", '\0', "", "", 0 } } },
	{ "two empty lines", "\r\n\r\n", 0, 2,
	  { { "", '\0', "", "", 0 }, { "", '\0', "", "", 0 } } },

	/* separators and codes */
	{ "550- alone", "550-", 0, 1, { { "550", '-', "", "", 0 } } },
	{ "550- alone crlf", "550-\r\n", 0, 1, { { "550", '-', "", "", 0 } } },
	{ "550 alone", "550", 0, 1, { { "550", '\0', "", "", 0 } } },
	{ "550 crlf", "550\r\n", 0, 1, { { "550", '\0', "", "", 0 } } },
	{ "550 sp", "550 ", 0, 1, { { "550", ' ', "", "", 0 } } },
	{ "two digits", "55", 0, 1, { { "55", '\0', "", "", 0 } } },
	{ "two digits text", "55 x", 0, 1, { { "55", ' ', "", "x", 0 } } },
	{ "only digits", "5505505505", 0, 1,
	  { { "5505505505", '\0', "", "", 0 } } },
	{ "five digits text", "55011 blocked", 0, 1,
	  { { "55011", ' ', "", "blocked", 0 } } },
	{ "letter after code", "550x", 0, 1, { { "550", '?', "", "x", 0 } } },
	{ "tab after code", "550\t5.7.1 x", 0, 1,
	  { { "550", ' ', "5.7.1", "x", 0 } } },
	{ "letters", "abc", 0, 1, { { "", '?', "", "abc", 0 } } },
	{ "leading space", " 550 x", 0, 1, { { "", ' ', "", "550 x", 0 } } },
	{ "enhanced without code", "5.7.1 blocked", 0, 1,
	  { { "", ' ', "5.7.1", "blocked", 0 } } },
	{ "second line other code", "550-a\r\n451 b", 0, 2,
	  { { "550", '-', "", "a", 0 }, { "451", ' ', "", "b", 0 } } },

	/* enhanced tokens */
	{ "enh glued to text", "550 5.7.1text", 0, 1,
	  { { "550", ' ', "", "5.7.1text", 0 } } },
	{ "1.5 MB", "550 1.5 MB", 0, 1, { { "550", ' ', "", "1.5 MB", 0 } } },
	{ "5.7 cut", "550 5.7 x", 0, 1, { { "550", ' ', "5.7", "x", 0 } } },
	{ "enh then tab", "550 5.7.1\tx", 0, 1,
	  { { "550", ' ', "5.7.1", "x", 0 } } },
	{ "enh then two spaces", "550 5.7.1  x", 0, 1,
	  { { "550", ' ', "5.7.1", "x", 0 } } },
	{ "enh then trailing blanks", "550 5.7.1  ", 0, 1,
	  { { "550", ' ', "5.7.1", " ", 0 } } },
	{ "enh at end", "550 5.7.1", 0, 1, { { "550", ' ', "5.7.1", "", 0 } } },
	{ "enh then sp at end", "550 5.7.1 ", 0, 1,
	  { { "550", ' ', "5.7.1", "", 0 } } },
	{ "enh at end crlf", "550-5.7.1\r\n550 5.7.1 b", 0, 2,
	  { { "550", '-', "5.7.1", "", 0 }, { "550", ' ', "5.7.1", "b", 0 } } },
	{ "four fields", "550 5.7.1.2 x", 0, 1,
	  { { "550", ' ', "5.7.1.2", "x", 0 } } },
	{ "trailing dot", "550 5.7. x", 0, 1, { { "550", ' ', "5.7.", "x", 0 } } },
	{ "leading dot", "550 .5.7.1 x", 0, 1,
	  { { "550", ' ', "", ".5.7.1 x", 0 } } },
	{ "leading zero", "550 5.01.1 x", 0, 1,
	  { { "550", ' ', "5.01.1", "x", 0 } } },
	{ "long detail", "550 5.7.1000 x", 0, 1,
	  { { "550", ' ', "5.7.1000", "x", 0 } } },
	{ "class 6", "550 6.1.1 x", 0, 1, { { "550", ' ', "", "6.1.1 x", 0 } } },
	{ "ip literal", "220 192.0.2.1 ESMTP", 0, 1, { { "220", ' ', "", "192.0.2.1 ESMTP", 0 } } },
	{ "digits no dot", "550 12345 x", 0, 1,
	  { { "550", ' ', "", "12345 x", 0 } } },
	{ "enh then dash", "550 5.7.1-x", 0, 1,
	  { { "550", ' ', "", "5.7.1-x", 0 } } },
	{ "enh after dash", "550-5.7.1 x", 0, 1,
	  { { "550", '-', "5.7.1", "x", 0 } } },
	{ "no enh after ?", "550x5.7.1 x", 0, 1,
	  { { "550", '?', "", "x5.7.1 x", 0 } } },
	{ "unregistered", "550 5.7.99 x", 0, 1,
	  { { "550", ' ', "5.7.99", "x", 0 } } },
	{ "enh 3xx", "354 2.0.0 go ahead", 0, 1,
	  { { "354", ' ', "2.0.0", "go ahead", 0 } } },

	/* NUL bytes: explicit lengths */
	{ "nul in text", "550-5.7.1 a\0b\r\n550 5.7.1 \0", TU_LEN("550-5.7.1 a\0b\r\n550 5.7.1 \0"), 2,
	  { { "550", '-', "5.7.1", "a\0b", 3 }, { "550", ' ', "5.7.1", "\0", 1 } } },
	{ "nul after code", "5\0" "0 x", TU_LEN("5\0" "0 x"), 1,
	  { { "5", '?', "", "\0" "0 x", 4 } } },
	{ "nul only", "\0", 1, 1, { { "", '?', "", "\0", 1 } } },
	{ "nul before crlf", "550 x\0\r\n550 y", TU_LEN("550 x\0\r\n550 y"), 2,
	  { { "550", ' ', "", "x\0", 2 }, { "550", ' ', "", "y", 0 } } },
	{ "high bytes", "550 5.7.1 caf\xc3\xa9 \xff", 0, 1,
	  { { "550", ' ', "5.7.1", "caf\xc3\xa9 \xff", 0 } } },
};


static char *line_problem(const struct tu_reply *t, const char *name,
			  size_t i, const struct pl *e)
{
	const struct sr_line *l = &t->r.lines[i];
	size_t tlen = e->tlen ? e->tlen : strlen(e->text);

	if (l->code.len != strlen(e->code) ||
	    (l->code.len > 0 && memcmp(l->code.p, e->code, l->code.len) != 0))
		return tu_msg(t, "%s: line %zu: code \"%.*s\", expected \"%s\"",
			      name, i + 1, (int)l->code.len, l->code.p ? l->code.p : "",
			      e->code);
	if (e->sep == SEP_FINAL ? l->sep == '-' : l->sep != e->sep)
		return tu_msg(t, "%s: line %zu: sep 0x%02x, expected %s0x%02x",
			      name, i + 1, (unsigned char)l->sep,
			      e->sep == SEP_FINAL ? "not " : "",
			      e->sep == SEP_FINAL ? '-' : (unsigned char)e->sep);
	if (l->enh.len != strlen(e->enh) ||
	    (l->enh.len > 0 && memcmp(l->enh.p, e->enh, l->enh.len) != 0))
		return tu_msg(t, "%s: line %zu: enh \"%.*s\", expected \"%s\"",
			      name, i + 1, (int)l->enh.len, l->enh.p ? l->enh.p : "",
			      e->enh);
	if (l->text.len != tlen ||
	    (tlen > 0 && memcmp(l->text.p, e->text, tlen) != 0)) {
		struct tu_str s = { 0 };
		char *m;

		tu_str_quoted(&s, e->text, tlen, 300);
		m = tu_msg(t, "%s: line %zu: text differs, expected %s", name,
			   i + 1, s.p);
		free(s.p);
		return m;
	}
	return NULL;
}

/* Non-empty spans lie inside [BUF, BUF+LEN), in order, line after line. */
static char *spans_problem(const struct tu_reply *t, const char *name)
{
	const char *end = t->buf + t->len;
	const char *last = t->buf;
	size_t i;

	for (i = 0; i < t->r.nlines; i++) {
		const struct sr_line *l = &t->r.lines[i];
		const struct sr_span *sp[3] = { &l->code, &l->enh, &l->text };
		size_t k;

		for (k = 0; k < 3; k++) {
			if (sp[k]->len == 0)
				continue;
			if (sp[k]->p < last || sp[k]->p > end ||
			    sp[k]->len > (size_t)(end - sp[k]->p))
				return tu_msg(t, "%s: line %zu: span %zu outside the input or out of order",
					      name, i + 1, k);
			last = sp[k]->p + sp[k]->len;
		}
	}
	return NULL;
}

/*
 * The lexer's near misses (notes/engine-semantics.md, "Parsing"): what it
 * reads, the SR_FORM_* flags it sets and the blanks it consumes beyond the
 * single separators.
 */
struct lrow {
	const char *in;
	unsigned form;
	size_t extra;
	const char *code, *enh, *text;
};

#define NOC SR_FORM_NO_CODE
#define BLK SR_FORM_BLANKS
#define BRK SR_FORM_CODE_BROKEN

static const struct lrow lex_rows[] = {
	{ "550 5.7.1 ok", 0, 0, "550", "5.7.1", "ok" },
	{ "250-2.1.5 ok", 0, 0, "250", "2.1.5", "ok" },
	/* an enhanced code with no basic code */
	{ "5.7.1 Access denied", NOC, 0, "", "5.7.1", "Access denied" },
	{ "4.2.0 try later", NOC, 0, "", "4.2.0", "try later" },
	{ "5.7.1", NOC, 0, "", "5.7.1", "" },
	{ "5.7.1  two", NOC | BLK, 1, "", "5.7.1", "two" },
	{ "5.01.1 zero", NOC, 0, "", "5.01.1", "zero" },
	{ "5.7 short", NOC, 0, "", "5.7", "short" },
	{ "1.5 MB", BRK, 0, "1", "", ".5 MB" },
	{ "5.7 MB", NOC, 0, "", "5.7", "MB" },
	{ "5.7.1text", BRK, 0, "5", "", ".7.1text" },
	/* runs of blanks */
	{ "550  5.7.1 two spaces", BLK, 1, "550", "5.7.1", "two spaces" },
	{ "550   5.7.1 three", BLK, 2, "550", "5.7.1", "three" },
	{ "550\t5.7.1 tab", BLK, 1, "550", "5.7.1", "tab" },
	{ "550 \t5.7.1 sp tab", BLK, 1, "550", "5.7.1", "sp tab" },
	{ "550-  5.7.1 dash", BLK, 2, "550", "5.7.1", "dash" },
	{ "550 5.7.1\t\ttabs", BLK, 1, "550", "5.7.1", "tabs" },
	{ "550  5.7.1  both", BLK, 2, "550", "5.7.1", "both" },
	{ "550\ttext", BLK, 1, "550", "", "text" },
	/* blanks before what is no valid enhanced code stay text */
	{ "550  text", 0, 0, "550", "", " text" },
	{ "550  1.5 MB", 0, 0, "550", "", " 1.5 MB" },
	{ "220  192.0.2.1 ESMTP", 0, 0, "220", "", " 192.0.2.1 ESMTP" },
	{ "354  2.0.0 go", 0, 0, "354", "", " 2.0.0 go" },	/* 3xx */
	{ "550 ", 0, 0, "550", "", "" },
	{ "550   ", 0, 0, "550", "", "  " },
	/* codes that cannot be read */
	{ "55O 5.7.1 letter O", BRK, 0, "55", "", "O 5.7.1 letter O" },
	{ "5 5 0 x", BRK, 0, "5", "", "5 0 x" },
	{ "5501 x", BRK, 0, "5501", "", "x" },
	{ "550x", BRK, 0, "550", "", "x" },
	{ "55", BRK, 0, "55", "", "" },
	{ "55 5.7.1 x", BRK, 0, "55", "5.7.1", "x" },
	/* no digits: no code at all, nothing broken */
	{ "Access denied", 0, 0, "", "", "Access denied" },
};

START_TEST(lex_table)
{
	const struct lrow *row = &lex_rows[_i];
	const struct sr_line *l;
	struct tu_reply t;

	tu_wire_str(&t, row->in, NULL);
	l = &t.r.lines[0];
	TU_ASSERT(&t, l->form == row->form, "%s: form 0x%x, expected 0x%x",
		  row->in, l->form, row->form);
	TU_ASSERT(&t, l->extra == row->extra, "%s: extra %zu, expected %zu",
		  row->in, l->extra, row->extra);
	TU_ASSERT(&t, l->code.len == strlen(row->code) &&
		  memcmp(l->code.p, row->code, l->code.len) == 0,
		  "%s: code \"%.*s\", expected \"%s\"", row->in,
		  (int)l->code.len, l->code.p, row->code);
	TU_ASSERT(&t, l->enh.len == strlen(row->enh) &&
		  memcmp(l->enh.p, row->enh, l->enh.len) == 0,
		  "%s: enh \"%.*s\", expected \"%s\"", row->in,
		  (int)l->enh.len, l->enh.p, row->enh);
	TU_ASSERT(&t, l->text.len == strlen(row->text) &&
		  memcmp(l->text.p, row->text, l->text.len) == 0,
		  "%s: text \"%.*s\", expected \"%s\"", row->in,
		  (int)l->text.len, l->text.p, row->text);
	tu_release(&t);
}
END_TEST

START_TEST(parse_table)
{
	const struct prow *row = &parse_rows[_i];
	size_t len = row->len ? row->len : strlen(row->in);
	struct tu_reply t;
	size_t i;

	tu_wire(&t, row->in, len, NULL);
	TU_ASSERT(&t, t.r.nlines == row->nlines, "%s: %zu lines, expected %zu",
		  row->name, t.r.nlines, row->nlines);
	TU_ASSERT(&t, t.r.lines != NULL, "%s: lines is NULL", row->name);
	for (i = 0; i < row->nlines && i < 4; i++)
		TU_NO_PROBLEM(line_problem(&t, row->name, i, &row->l[i]));
	TU_NO_PROBLEM(spans_problem(&t, row->name));
	if (len > 0)
		TU_ASSERT(&t, t.r.lines[0].code.len == 0 ||
			  t.r.lines[0].code.p == t.buf,
			  "%s: the code is not a view into the input", row->name);
	tu_release(&t);
}
END_TEST

/* A 10 kB line: one line, all of it text. */
START_TEST(parse_10k_line)
{
	size_t len;
	char *in = tu_expand("550 5.7.1 {x*10000}\r\n", TU_LEN("550 5.7.1 {x*10000}\r\n"), &len);
	struct tu_reply t;
	size_t i;

	ck_assert_uint_eq(len, 10012);
	tu_wire(&t, in, len, NULL);
	TU_ASSERT(&t, t.r.nlines == 1, "10k: %zu lines", t.r.nlines);
	TU_ASSERT(&t, t.r.lines[0].code.len == 3 && t.r.lines[0].enh.len == 5,
		  "10k: code/enh lengths %zu/%zu", t.r.lines[0].code.len,
		  t.r.lines[0].enh.len);
	TU_ASSERT(&t, t.r.lines[0].text.len == 10000, "10k: text length %zu",
		  t.r.lines[0].text.len);
	for (i = 0; i < 10000; i++)
		if (t.r.lines[0].text.p[i] != 'x')
			break;
	TU_ASSERT(&t, i == 10000, "10k: text byte %zu is not 'x'", i);
	TU_NO_PROBLEM(spans_problem(&t, "10k"));
	tu_release(&t);
	free(in);
}
END_TEST

/* 1000 lines: the line array grows past the inline storage. */
START_TEST(parse_1000_lines)
{
	static const char spec[] = "{550-5.7.1 line\r\n*999}550 5.7.1 last";
	size_t len;
	char *in = tu_expand(spec, TU_LEN(spec), &len);
	struct tu_reply t;
	size_t i;

	tu_wire(&t, in, len, NULL);
	TU_ASSERT(&t, t.r.nlines == 1000, "1000 lines: got %zu", t.r.nlines);
	TU_ASSERT(&t, t.r.cap >= 1000, "1000 lines: cap %zu", t.r.cap);
	TU_ASSERT(&t, t.r.lines != t.r.inline_lines,
		  "1000 lines: still in the inline storage");
	for (i = 0; i < 1000; i++) {
		struct pl e = { "550", i < 999 ? '-' : ' ', "5.7.1",
				i < 999 ? "line" : "last", 0 };

		TU_NO_PROBLEM(line_problem(&t, "1000 lines", i, &e));
	}
	TU_NO_PROBLEM(spans_problem(&t, "1000 lines"));
	tu_release(&t);

	/* the same struct can be used again after release */
	tu_wire(&t, "550 5.7.1 again", TU_LEN("550 5.7.1 again"), NULL);
	TU_ASSERT(&t, t.r.nlines == 1, "reparse: %zu lines", t.r.nlines);
	tu_release(&t);
	free(in);
}
END_TEST

/* Every prefix of a few inputs parses, spans stay inside it (exact-size copies). */
START_TEST(parse_every_prefix)
{
	static const char *const inputs[] = {
		"550-5.7.1 " GMAIL1 "\r\n550-5.7.1 " GMAIL2 "\r\n550 5.7.1 " GMAIL4 "\r\n",
		"250-mx.example.com\r\n250-PIPELINING\n250 8BITMIME\r\n",
		"550 5.01.1 a\rb\tc\x01\xff\xc3\xa9 1.5 5.7.1000\r\n\r\n-\r",
	};
	size_t k;

	for (k = 0; k < NROWS(inputs); k++) {
		size_t full = strlen(inputs[k]), len;

		for (len = 0; len <= full; len++) {
			struct tu_reply t;
			char name[64];

			snprintf(name, sizeof name, "input %zu prefix %zu", k, len);
			tu_wire(&t, inputs[k], len, NULL);
			TU_ASSERT(&t, t.r.nlines >= 1, "%s: no lines", name);
			TU_NO_PROBLEM(spans_problem(&t, name));
			TU_NO_PROBLEM(tu_check_problem(&t, name));
			tu_release(&t);
		}
	}
}
END_TEST

/* ---- from parts ------------------------------------------------------- */

struct frow {
	const char *name;
	const char *code;
	const char *enh;
	const char *text[3];
	size_t ntext;
	bool text_null;		/* pass NULL as the text array */
	size_t nlines;
	struct pl l[3];
};

static const struct frow parts_rows[] = {
	{ "code enh text", "550", "5.1.1", { "User unknown" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.1.1", "User unknown", 0 } } },
	{ "three lines", "550", "5.7.1", { "a", "b", "c" }, 3, false, 3,
	  { { "550", '-', "5.7.1", "a", 0 }, { "550", '-', "5.7.1", "b", 0 },
	    { "550", SEP_FINAL, "5.7.1", "c", 0 } } },
	{ "no enhanced", "550", NULL, { "blocked" }, 1, false, 1,
	  { { "550", SEP_FINAL, "", "blocked", 0 } } },
	{ "NULL enhanced, text starts with one", "550", NULL, { "5.7.1 blocked" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7.1", "blocked", 0 } } },
	{ "empty enhanced, text starts with one", "550", "", { "5.7.1 blocked" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7.1", "blocked", 0 } } },
	{ "NULL enhanced, glued", "550", NULL, { "5.7.1text" }, 1, false, 1,
	  { { "550", SEP_FINAL, "", "5.7.1text", 0 } } },
	{ "NULL enhanced, malformed token", "550", NULL, { "5.7 MB" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7", "MB", 0 } } },
	{ "NULL enhanced, no class: text", "550", NULL, { "1.5 MB" }, 1, false, 1,
	  { { "550", SEP_FINAL, "", "1.5 MB", 0 } } },
	{ "NULL enhanced, each line scanned", "550", NULL, { "5.7.1 a", "b", "5.7.2 c" }, 3, false, 3,
	  { { "550", '-', "5.7.1", "a", 0 }, { "550", '-', "", "b", 0 },
	    { "550", SEP_FINAL, "5.7.2", "c", 0 } } },
	{ "given enhanced, text not scanned", "550", "5.7.1", { "5.1.1 x" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7.1", "5.1.1 x", 0 } } },
	{ "ntext 0", "550", "5.7.1", { NULL }, 0, true, 1,
	  { { "550", SEP_FINAL, "5.7.1", "", 0 } } },
	{ "ntext 0, no enhanced", "550", NULL, { NULL }, 0, true, 1,
	  { { "550", SEP_FINAL, "", "", 0 } } },
	{ "ntext 0 with an array", "451", "4.7.1", { "ignored" }, 0, false, 1,
	  { { "451", SEP_FINAL, "4.7.1", "", 0 } } },
	{ "two-digit code", "55", NULL, { "x" }, 1, false, 1,
	  { { "55", SEP_FINAL, "", "x", 0 } } },
	{ "LF kept in text", "550", "5.7.1", { "a\nb" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7.1", "a\nb", 0 } } },
	{ "CR kept in text", "550", "5.7.1", { "a\rb", "c" }, 2, false, 2,
	  { { "550", '-', "5.7.1", "a\rb", 0 }, { "550", SEP_FINAL, "5.7.1", "c", 0 } } },
	{ "empty text line", "550", "5.7.1", { "" }, 1, false, 1,
	  { { "550", SEP_FINAL, "5.7.1", "", 0 } } },
};

START_TEST(parts_table)
{
	const struct frow *row = &parts_rows[_i];
	struct tu_reply t;
	size_t i;

	tu_parts(&t, row->code, row->enh, row->text_null ? NULL : row->text,
		 row->ntext, NULL);
	TU_ASSERT(&t, t.r.nlines == row->nlines, "%s: %zu lines, expected %zu",
		  row->name, t.r.nlines, row->nlines);
	for (i = 0; i < row->nlines && i < 3; i++)
		TU_NO_PROBLEM(line_problem(&t, row->name, i, &row->l[i]));
	/* the text is referenced, not copied */
	for (i = 0; i < row->ntext && i < row->nlines; i++) {
		const struct sr_span *tx = &t.r.lines[i].text;

		if (tx->len == 0)
			continue;
		TU_ASSERT(&t, tx->p >= row->text[i] &&
			  tx->p + tx->len <= row->text[i] + strlen(row->text[i]),
			  "%s: line %zu text is not a view into text[%zu]",
			  row->name, i + 1, i);
	}
	TU_ASSERT(&t, sr_reply_code(&t.r) == (strlen(row->code) == 3 ? atoi(row->code) : -1),
		  "%s: sr_reply_code %d", row->name, sr_reply_code(&t.r));
	TU_NO_PROBLEM(tu_check_problem(&t, row->name));
	tu_release(&t);
}
END_TEST

/* Many text lines: heap growth in from_parts too. */
START_TEST(parts_many_lines)
{
	const char *text[40];
	char bufs[40][16];
	struct tu_reply t;
	size_t i;

	for (i = 0; i < 40; i++) {
		snprintf(bufs[i], sizeof bufs[i], "line %zu", i + 1);
		text[i] = bufs[i];
	}
	tu_parts(&t, "451", "4.3.0", text, 40, NULL);
	TU_ASSERT(&t, t.r.nlines == 40, "40 parts: %zu lines", t.r.nlines);
	for (i = 0; i < 40; i++) {
		struct pl e = { "451", i < 39 ? '-' : SEP_FINAL, "4.3.0", bufs[i], 0 };

		TU_NO_PROBLEM(line_problem(&t, "40 parts", i, &e));
	}
	TU_ASSERT(&t, t.chk.errors == 0, "40 parts: %u errors in wire context",
		  t.chk.errors);
	tu_release(&t);
}
END_TEST

/* ---- sr_reply_code ---------------------------------------------------- */

struct crow {
	const char *in;
	int code;
};

static const struct crow code_rows[] = {
	{ "550 5.1.1 x", 550 }, { "250", 250 }, { "250-a\r\n250 b", 250 },
	{ "421 4.7.0 bye", 421 }, { "55", -1 }, { "55 x", -1 },
	{ "5501 x", -1 }, { "5505505505", -1 }, { "", -1 }, { "abc", -1 },
	{ " 550 x", -1 }, { "099 x", 99 }, { "000", 0 }, { "600 x", 600 },
	{ "101 cannot open", 101 }, { "572 relay", 572 }, { "999", 999 },
	{ "550-a\r\n551 b", 550 }, { "55\r\n550 x", -1 }, { "550x", -1 },
	{ "5.7.1 x", -1 }, { "55O x", -1 }, { "550\tx", 550 },
};

START_TEST(reply_code_table)
{
	const struct crow *row = &code_rows[_i];
	struct tu_reply t;

	tu_wire_str(&t, row->in, NULL);
	TU_ASSERT(&t, sr_reply_code(&t.r) == row->code,
		  "sr_reply_code = %d, expected %d", sr_reply_code(&t.r),
		  row->code);
	tu_release(&t);
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc;

	tc = tcase_create("wire");
	tcase_add_loop_test(tc, parse_table, 0, (int)NROWS(parse_rows));
	tcase_add_loop_test(tc, lex_table, 0, (int)NROWS(lex_rows));
	tcase_add_test(tc, parse_10k_line);
	tcase_add_test(tc, parse_1000_lines);
	tcase_add_test(tc, parse_every_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("parts");
	tcase_add_loop_test(tc, parts_table, 0, (int)NROWS(parts_rows));
	tcase_add_test(tc, parts_many_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("code");
	tcase_add_loop_test(tc, reply_code_table, 0, (int)NROWS(code_rows));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(parse_suite());
}
