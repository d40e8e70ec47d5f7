/*
 * SPDX-License-Identifier: ISC
 * test_mclient.c - the MTA side of the milter protocol, from bytes.
 *
 * Encoder: every packet an MTA sends, compared byte for byte with the
 * sequence libmilter's filter side reads (length, command, data), as
 * Postfix 3.7 and sendmail 8.17 write them. Reader: streams cut at every
 * byte boundary, lengths of zero and over the bound. Decoder: every
 * reply a child can send, well-formed and broken (missing NULs, trailing
 * bytes, unknown commands, bad header names, codes that are not 4xx/5xx).
 * Negotiation: versions, subsets, macro lists. State machine: steps a
 * child declined, no-reply steps, replies in the wrong step, accept and
 * reject ending the connection or the message, skip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "mclient.h"
#include "testutil.h"

#define LIT(s) (const unsigned char *)(s), sizeof(s) - 1

static void assert_bytes(const struct mclient_buf *b, const unsigned char *exp,
			 size_t explen)
{
	size_t i;

	ck_assert(!b->failed);
	for (i = 0; i < b->len && i < explen; i++)
		if (b->p[i] != exp[i])
			break;
	ck_assert_msg(b->len == explen && i == explen,
	    "packet differs at byte %zu (got %zu bytes, expected %zu; got 0x%02x,"
	    " expected 0x%02x)", i, b->len, explen,
	    i < b->len ? b->p[i] : 0, i < explen ? exp[i] : 0);
}

/* ---- encoder ---------------------------------------------------------- */

START_TEST(test_put_optneg)
{
	struct mclient_buf b;

	mclient_buf_init(&b);
	ck_assert_int_eq(mclient_put_optneg(&b, 6, 0x1ff, 0x1fffff), 0);
	assert_bytes(&b, LIT("\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff"));
	mclient_buf_free(&b);
}
END_TEST

START_TEST(test_put_connect)
{
	struct mclient_buf b;

	mclient_buf_init(&b);
	ck_assert_int_eq(mclient_put_connect(&b, "mx.example.net", SMFIA_INET,
	    25025, "192.0.2.7"), 0);
	assert_bytes(&b, LIT("\0\0\0\x1d" "Cmx.example.net\0" "4\x61\xc1"
	    "192.0.2.7\0"));
	mclient_buf_reset(&b);
	ck_assert_int_eq(mclient_put_connect(&b, "[::1]", SMFIA_INET6, 1,
	    "::1"), 0);
	assert_bytes(&b, LIT("\0\0\0\x0e" "C[::1]\0" "6\0\x01::1\0"));
	mclient_buf_reset(&b);
	ck_assert_int_eq(mclient_put_connect(&b, "localhost", SMFIA_UNKNOWN, 0,
	    NULL), 0);
	assert_bytes(&b, LIT("\0\0\0\x0c" "Clocalhost\0U"));
	mclient_buf_free(&b);
}
END_TEST

START_TEST(test_put_macros)
{
	struct mclient_buf b;
	const char *names[] = { "i", "{auth_authen}", "j" };
	const char *values[] = { "4Q1x2y", NULL, "mx" };

	mclient_buf_init(&b);
	ck_assert_int_eq(mclient_put_macros(&b, SMFIC_MAIL, names, values, 3),
	    0);
	assert_bytes(&b, LIT("\0\0\0\x10" "DMi\0" "4Q1x2y\0" "j\0" "mx\0"));
	mclient_buf_reset(&b);
	ck_assert_int_eq(mclient_put_macros(&b, SMFIC_BODYEOB, NULL, NULL, 0),
	    0);
	assert_bytes(&b, LIT("\0\0\0\x02" "DE"));
	mclient_buf_free(&b);
}
END_TEST

START_TEST(test_put_steps)
{
	struct mclient_buf b;
	const char *mail[] = { "<a@example.org>", "SIZE=100", "BODY=8BITMIME" };
	const char *rcpt[] = { "<b@example.net>" };

	mclient_buf_init(&b);
	ck_assert_int_eq(mclient_put_helo(&b, "client.example"), 0);
	ck_assert_int_eq(mclient_put_mail(&b, mail, 3), 0);
	ck_assert_int_eq(mclient_put_rcpt(&b, rcpt, 1), 0);
	ck_assert_int_eq(mclient_put_data(&b), 0);
	ck_assert_int_eq(mclient_put_header(&b, "Subject", "hi", false), 0);
	ck_assert_int_eq(mclient_put_header(&b, "To", "<b@x>", true), 0);
	ck_assert_int_eq(mclient_put_eoh(&b), 0);
	ck_assert_int_eq(mclient_put_body(&b, "a\r\nb\r\n", 6), 0);
	ck_assert_int_eq(mclient_put_eom(&b), 0);
	ck_assert_int_eq(mclient_put_abort(&b), 0);
	ck_assert_int_eq(mclient_put_unknown(&b, "XFOO bar"), 0);
	ck_assert_int_eq(mclient_put_quit(&b), 0);
	assert_bytes(&b, LIT(
	    "\0\0\0\x10" "Hclient.example\0"
	    "\0\0\0\x28" "M<a@example.org>\0SIZE=100\0BODY=8BITMIME\0"
	    "\0\0\0\x11" "R<b@example.net>\0"
	    "\0\0\0\x01" "T"
	    "\0\0\0\x0c" "LSubject\0hi\0"
	    "\0\0\0\x0b" "LTo\0 <b@x>\0"
	    "\0\0\0\x01" "N"
	    "\0\0\0\x07" "Ba\r\nb\r\n"
	    "\0\0\0\x01" "E"
	    "\0\0\0\x01" "A"
	    "\0\0\0\x0a" "UXFOO bar\0"
	    "\0\0\0\x01" "Q"));
	mclient_buf_free(&b);
}
END_TEST

START_TEST(test_put_bounds)
{
	struct mclient_buf b;
	char *big = malloc(MCLIENT_PACKET_MAX + 1);
	static char chunk[MCLIENT_BODY_CHUNK + 1];

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', MCLIENT_PACKET_MAX);
	big[MCLIENT_PACKET_MAX] = '\0';
	mclient_buf_init(&b);
	/* A string that would overflow the packet bound is refused. */
	ck_assert_int_eq(mclient_put_helo(&b, big), -1);
	ck_assert_uint_eq(b.len, 0);
	/* Body chunks are at most 65,535 bytes. */
	ck_assert_int_eq(mclient_put_body(&b, chunk, MCLIENT_BODY_CHUNK + 1), -1);
	ck_assert_int_eq(mclient_put_body(&b, chunk, MCLIENT_BODY_CHUNK), 0);
	ck_assert_uint_eq(b.len, 4 + 1 + MCLIENT_BODY_CHUNK);
	ck_assert_int_eq(b.p[0], 0);
	ck_assert_int_eq(b.p[1], 1);
	ck_assert_int_eq(b.p[2], 0);
	ck_assert_int_eq(b.p[3], 0);
	mclient_buf_free(&b);
	free(big);
}
END_TEST

/* ---- reader ----------------------------------------------------------- */

/* A child's answer to one end of message, as libmilter writes it. */
static const unsigned char eom_stream[] =
    "\0\0\0\x0f" "hX-Checked\0" "yes\0"
    "\0\0\0\x01" "p"
    "\0\0\0\x19" "y550 5.7.1 Spam detected\0"
    "\0\0\0\x01" "r";

START_TEST(test_reader_every_split)
{
	size_t cut, total = sizeof(eom_stream) - 1;

	for (cut = 0; cut <= total; cut++) {
		struct mclient_reader r;
		const unsigned char *data;
		size_t len, n = 0;
		char cmd, cmds[8];
		enum mclient_take t;

		mclient_reader_init(&r, 0);
		ck_assert_int_eq(mclient_reader_feed(&r, eom_stream, cut), 0);
		while ((t = mclient_reader_take(&r, &cmd, &data, &len)) ==
		    MCLIENT_TAKE_PACKET)
			cmds[n++] = cmd;
		ck_assert_int_eq(t, MCLIENT_TAKE_NEED_MORE);
		ck_assert_int_eq(mclient_reader_feed(&r, eom_stream + cut,
		    total - cut), 0);
		while ((t = mclient_reader_take(&r, &cmd, &data, &len)) ==
		    MCLIENT_TAKE_PACKET) {
			cmds[n++] = cmd;
			if (cmd == 'y')
				ck_assert_str_eq((const char *)data,
				    "550 5.7.1 Spam detected");
		}
		ck_assert_int_eq(t, MCLIENT_TAKE_NEED_MORE);
		ck_assert_uint_eq(n, 4);
		ck_assert(memcmp(cmds, "hpyr", 4) == 0);
		ck_assert_uint_eq(mclient_reader_pending(&r), 0);
		mclient_reader_free(&r);
	}
}
END_TEST

static const struct {
	const char *what;
	const char *bytes;
	size_t len;
	size_t max;
	enum mclient_take exp;
} reader_rows[] = {
	{ "zero length", "\0\0\0\0", 4, 0, MCLIENT_TAKE_BROKEN },
	{ "over the default bound", "\0\x10\0\x02y", 5, 0, MCLIENT_TAKE_BROKEN },
	{ "4 GiB", "\xff\xff\xff\xff", 4, 0, MCLIENT_TAKE_BROKEN },
	{ "over a small bound", "\0\0\0\x09", 4, 8, MCLIENT_TAKE_BROKEN },
	{ "at a small bound, incomplete", "\0\0\0\x08", 4, 8,
	  MCLIENT_TAKE_NEED_MORE },
	{ "three bytes", "\0\0\0", 3, 0, MCLIENT_TAKE_NEED_MORE },
	{ "one byte packet", "\0\0\0\x01" "c", 5, 0, MCLIENT_TAKE_PACKET },
};

START_TEST(test_reader_lengths)
{
	struct mclient_reader r;
	const unsigned char *data;
	size_t len;
	char cmd;

	mclient_reader_init(&r, reader_rows[_i].max);
	ck_assert_int_eq(mclient_reader_feed(&r, reader_rows[_i].bytes,
	    reader_rows[_i].len), 0);
	ck_assert_msg(mclient_reader_take(&r, &cmd, &data, &len) ==
	    reader_rows[_i].exp, "%s", reader_rows[_i].what);
	if (reader_rows[_i].exp == MCLIENT_TAKE_BROKEN) {
		/* Broken stays broken: nothing after it is trusted. */
		ck_assert_int_eq(mclient_reader_feed(&r, "\0\0\0\x01" "c", 5), 0);
		ck_assert_int_eq(mclient_reader_take(&r, &cmd, &data, &len),
		    MCLIENT_TAKE_BROKEN);
	}
	mclient_reader_free(&r);
}
END_TEST

/* ---- decoder ---------------------------------------------------------- */

struct drow {
	const char *what;
	char cmd;
	const char *data;
	size_t len;
	int ok;				/* 0 or -1 */
	enum mclient_reply_kind kind;
	const char *text, *args, *name, *value;
	uint32_t index;
	const char *err;		/* substring of the error */
};

#define D(s) s, sizeof(s) - 1

static const struct drow drows[] = {
	{ "continue", 'c', D(""), 0, MCLIENT_R_CONTINUE, 0, 0, 0, 0, 0, 0 },
	{ "accept", 'a', D(""), 0, MCLIENT_R_ACCEPT, 0, 0, 0, 0, 0, 0 },
	{ "reject", 'r', D(""), 0, MCLIENT_R_REJECT, 0, 0, 0, 0, 0, 0 },
	{ "tempfail", 't', D(""), 0, MCLIENT_R_TEMPFAIL, 0, 0, 0, 0, 0, 0 },
	{ "discard", 'd', D(""), 0, MCLIENT_R_DISCARD, 0, 0, 0, 0, 0, 0 },
	{ "skip", 's', D(""), 0, MCLIENT_R_SKIP, 0, 0, 0, 0, 0, 0 },
	{ "progress", 'p', D(""), 0, MCLIENT_R_PROGRESS, 0, 0, 0, 0, 0, 0 },
	{ "shutdown", '4', D(""), 0, MCLIENT_R_SHUTDOWN, 0, 0, 0, 0, 0, 0 },
	{ "conn_fail", 'f', D(""), 0, MCLIENT_R_CONN_FAIL, 0, 0, 0, 0, 0, 0 },
	{ "reject with data", 'r', D("x"), -1, 0, 0, 0, 0, 0, 0,
	  "unexpected data" },
	{ "replycode", 'y', D("550 5.7.1 Go away\0"), 0, MCLIENT_R_REPLYCODE,
	  "550 5.7.1 Go away", 0, 0, 0, 0, 0 },
	{ "replycode class mismatch (kept for the engine)", 'y',
	  D("550 4.7.23 SPF fail\0"), 0, MCLIENT_R_REPLYCODE,
	  "550 4.7.23 SPF fail", 0, 0, 0, 0, 0 },
	{ "replycode multi-line", 'y',
	  D("550-5.7.1 first\r\n550 5.7.1 second\0"), 0, MCLIENT_R_REPLYCODE,
	  "550-5.7.1 first\r\n550 5.7.1 second", 0, 0, 0, 0, 0 },
	{ "replycode 250", 'y', D("250 ok\0"), -1, 0, 0, 0, 0, 0, 0,
	  "not 4xx or 5xx" },
	{ "replycode empty", 'y', D("\0"), -1, 0, 0, 0, 0, 0, 0,
	  "not 4xx or 5xx" },
	{ "replycode short", 'y', D("55\0"), -1, 0, 0, 0, 0, 0, 0,
	  "not 4xx or 5xx" },
	{ "replycode without NUL", 'y', D("550 x"), -1, 0, 0, 0, 0, 0, 0,
	  "without NUL" },
	{ "replycode trailing", 'y', D("550 x\0y"), -1, 0, 0, 0, 0, 0, 0,
	  "trailing" },
	{ "quarantine", 'q', D("virus found\0"), 0, MCLIENT_R_QUARANTINE,
	  "virus found", 0, 0, 0, 0, 0 },
	{ "addheader", 'h', D("X-Spam\0yes\0"), 0, MCLIENT_R_ADDHEADER,
	  0, 0, "X-Spam", "yes", 0, 0 },
	{ "addheader empty value", 'h', D("X-Spam\0\0"), 0, MCLIENT_R_ADDHEADER,
	  0, 0, "X-Spam", "", 0, 0 },
	{ "addheader no value", 'h', D("X-Spam\0"), -1, 0, 0, 0, 0, 0, 0,
	  "without NUL" },
	{ "addheader empty name", 'h', D("\0v\0"), -1, 0, 0, 0, 0, 0, 0,
	  "bad header name" },
	{ "addheader colon", 'h', D("X:Y\0v\0"), -1, 0, 0, 0, 0, 0, 0,
	  "bad header name" },
	{ "addheader CR in name", 'h', D("X\rY\0v\0"), -1, 0, 0, 0, 0, 0, 0,
	  "bad header name" },
	{ "insheader", 'i', D("\0\0\0\x01" "DKIM-Signature\0v=1\0"), 0,
	  MCLIENT_R_INSHEADER, 0, 0, "DKIM-Signature", "v=1", 1, 0 },
	{ "chgheader delete", 'm', D("\0\0\0\x02" "Subject\0\0"), 0,
	  MCLIENT_R_CHGHEADER, 0, 0, "Subject", "", 2, 0 },
	{ "chgheader no index", 'm', D("\0\0\x01"), -1, 0, 0, 0, 0, 0, 0,
	  "index missing" },
	{ "chgheader huge index", 'm', D("\x80\0\0\0" "S\0v\0"), -1, 0, 0, 0,
	  0, 0, 0, "out of range" },
	{ "addrcpt", '+', D("<c@example.org>\0"), 0, MCLIENT_R_ADDRCPT,
	  "<c@example.org>", 0, 0, 0, 0, 0 },
	{ "addrcpt empty", '+', D("\0"), -1, 0, 0, 0, 0, 0, 0,
	  "empty recipient" },
	{ "delrcpt", '-', D("<b@example.net>\0"), 0, MCLIENT_R_DELRCPT,
	  "<b@example.net>", 0, 0, 0, 0, 0 },
	{ "addrcpt_par", '2', D("<c@x>\0NOTIFY=NEVER\0"), 0,
	  MCLIENT_R_ADDRCPT_PAR, "<c@x>", "NOTIFY=NEVER", 0, 0, 0, 0 },
	{ "addrcpt_par no args", '2', D("<c@x>\0"), 0, MCLIENT_R_ADDRCPT_PAR,
	  "<c@x>", 0, 0, 0, 0, 0 },
	{ "chgfrom", 'e', D("<new@x>\0"), 0, MCLIENT_R_CHGFROM, "<new@x>", 0,
	  0, 0, 0, 0 },
	{ "chgfrom args", 'e', D("<new@x>\0SIZE=10\0"), 0, MCLIENT_R_CHGFROM,
	  "<new@x>", "SIZE=10", 0, 0, 0, 0 },
	{ "chgfrom args without NUL", 'e', D("<new@x>\0SIZE"), -1, 0, 0, 0, 0,
	  0, 0, "without NUL" },
	{ "chgfrom three strings", 'e', D("<n@x>\0A\0B\0"), -1, 0, 0, 0, 0, 0,
	  0, "trailing" },
	{ "replbody", 'b', D("new body\r\n"), 0, MCLIENT_R_REPLBODY, 0, 0, 0,
	  0, 0, 0 },
	{ "setsymlist outside negotiation", 'l', D("\0\0\0\0i\0"), -1, 0, 0, 0,
	  0, 0, 0, "unknown reply command 'l'" },
	{ "unknown letter", 'Z', D(""), -1, 0, 0, 0, 0, 0, 0,
	  "unknown reply command 'Z'" },
	{ "unknown byte", '\x01', D(""), -1, 0, 0, 0, 0, 0, 0,
	  "unknown reply command 0x01" },
	{ "an MTA command echoed", 'O', D(""), -1, 0, 0, 0, 0, 0, 0,
	  "unknown reply" },
};

static void eq_or_null(const char *what, const char *got, const char *exp)
{
	if (exp == NULL)
		ck_assert_msg(got == NULL, "%s: expected none, got '%s'", what,
		    got);
	else
		ck_assert_msg(got != NULL && strcmp(got, exp) == 0,
		    "%s: expected '%s', got '%s'", what, exp,
		    got != NULL ? got : "(null)");
}

START_TEST(test_decode)
{
	const struct drow *d = &drows[_i];
	/* An exact-size heap copy: the sanitizers see any over-read. */
	unsigned char *data = malloc(d->len + 1);
	struct mclient_reply r;
	char err[128] = "";
	int rc;

	ck_assert_ptr_nonnull(data);
	memcpy(data, d->data, d->len);
	rc = mclient_decode_reply(d->cmd, data, d->len, &r, err, sizeof(err));
	ck_assert_msg(rc == d->ok, "%s: rc %d (%s)", d->what, rc, err);
	if (rc == 0) {
		ck_assert_msg(r.kind == d->kind, "%s: kind %s", d->what,
		    mclient_reply_name(r.kind));
		eq_or_null(d->what, r.text, d->text);
		eq_or_null(d->what, r.args, d->args);
		eq_or_null(d->what, r.name, d->name);
		eq_or_null(d->what, r.value, d->value);
		ck_assert_uint_eq(r.index, d->index);
		if (d->kind == MCLIENT_R_REPLBODY)
			ck_assert(r.body_len == d->len &&
			    memcmp(r.body, d->data, d->len) == 0);
	} else {
		ck_assert_msg(strstr(err, d->err) != NULL, "%s: error '%s', "
		    "expected '%s'", d->what, err, d->err);
	}
	free(data);
}
END_TEST

/* ---- negotiation ------------------------------------------------------ */

#define OFFER_A MCLIENT_ACTIONS_ALL
#define OFFER_P MCLIENT_PROTOCOL_ALL

struct nrow {
	const char *what;
	const char *data;
	size_t len;
	uint32_t offer_a, offer_p;
	int ok;
	uint32_t actions, protocol;
	int symlist;			/* index with a list, or -1 */
	const char *names;
	const char *err;
};

static const struct nrow nrows[] = {
	/* Recorded: the answer of tests/e2e/children.py "bad" (pymilter
	 * 1.0.5 on libmilter 8.17) to an offer of every action and step:
	 * it keeps the actions offered and declines connect, HELO, DATA,
	 * unknown, end of headers and body (the callbacks it lacks), and
	 * takes SKIP. */
	{ "pymilter, recorded", D("\0\0\0\x06\0\0\x01\xff\0\0\x07S"), OFFER_A,
	  OFFER_P, 0, 0x1ff, 0x753, -1, 0, 0 },
	{ "v6, two actions", D("\0\0\0\x06\0\0\0\x11\0\0\0\0"), OFFER_A, OFFER_P,
	  0, SMFIF_ADDHDRS | SMFIF_CHGHDRS, 0, -1, 0, 0 },
	{ "v6 asking steps", D("\0\0\0\x06\0\0\0\x01\0\x10\x00\x3f"), OFFER_A,
	  OFFER_P, 0, SMFIF_ADDHDRS, 0x10003f, -1, 0, 0 },
	{ "v2, zeros taken as given", D("\0\0\0\x02\0\0\0\0\0\0\0\0"),
	  OFFER_A, OFFER_P, 0, 0, 0, -1, 0, 0 },
	{ "MDS bits ignored", D("\0\0\0\x06\0\0\0\x01\x30\0\0\x10"), OFFER_A,
	  OFFER_P, 0, SMFIF_ADDHDRS, SMFIP_NOBODY, -1, 0, 0 },
	{ "symlist", D("\0\0\0\x06\0\0\x01\0\0\0\0\0" "\0\0\0\x02"
	  "{mail_addr} {auth_authen}\0"), OFFER_A, OFFER_P, 0,
	  SMFIF_SETSYMLIST, 0, 2, "{mail_addr} {auth_authen}", 0 },
	{ "symlist without the action", D("\0\0\0\x06\0\0\0\x01\0\0\0\0"
	  "\0\0\0\x02" "i\0"), OFFER_A, OFFER_P, -1, 0, 0, -1, 0,
	  "without SMFIF_SETSYMLIST" },
	{ "symlist unknown step", D("\0\0\0\x06\0\0\x01\0\0\0\0\0"
	  "\0\0\0\x07" "i\0"), OFFER_A, OFFER_P, -1, 0, 0, -1, 0,
	  "unknown step" },
	{ "symlist twice", D("\0\0\0\x06\0\0\x01\0\0\0\0\0"
	  "\0\0\0\x01" "i\0" "\0\0\0\x01" "j\0"), OFFER_A, OFFER_P, -1, 0, 0,
	  -1, 0, "twice" },
	{ "symlist truncated", D("\0\0\0\x06\0\0\x01\0\0\0\0\0\0\0"),
	  OFFER_A, OFFER_P, -1, 0, 0, -1, 0, "truncated" },
	{ "symlist without NUL", D("\0\0\0\x06\0\0\x01\0\0\0\0\0\0\0\0\x01i"),
	  OFFER_A, OFFER_P, -1, 0, 0, -1, 0, "without NUL" },
	{ "short", D("\0\0\0\x06\0\0\0"), OFFER_A, OFFER_P, -1, 0, 0, -1, 0,
	  "shorter" },
	{ "version 7", D("\0\0\0\x07\0\0\0\0\0\0\0\0"), OFFER_A, OFFER_P, -1,
	  0, 0, -1, 0, "version 7" },
	{ "version 1", D("\0\0\0\x01\0\0\0\0\0\0\0\0"), OFFER_A, OFFER_P, -1,
	  0, 0, -1, 0, "version 1" },
	{ "action not offered", D("\0\0\0\x06\0\0\0\x02\0\0\0\0"),
	  SMFIF_ADDHDRS, OFFER_P, -1, 0, 0, -1, 0, "actions 0x2 not offered" },
	{ "step not offered", D("\0\0\0\x06\0\0\0\0\0\0\x04\0"), OFFER_A,
	  OFFER_P & ~(uint32_t)SMFIP_SKIP, -1, 0, 0, -1, 0,
	  "protocol steps 0x400" },
	{ "unknown step bit", D("\0\0\0\x06\0\0\0\0\0\x40\0\0"), OFFER_A,
	  OFFER_P, -1, 0, 0, -1, 0, "not offered" },
};

START_TEST(test_optneg)
{
	const struct nrow *n = &nrows[_i];
	unsigned char *data = malloc(n->len + 1);
	struct mclient_neg neg;
	char err[160] = "";
	int rc;

	memcpy(data, n->data, n->len);
	rc = mclient_decode_optneg(data, n->len, n->offer_a, n->offer_p, &neg,
	    err, sizeof(err));
	ck_assert_msg(rc == n->ok, "%s: rc %d (%s)", n->what, rc, err);
	if (rc == 0) {
		int i;

		ck_assert_msg(neg.actions == n->actions, "%s: actions %#x",
		    n->what, neg.actions);
		ck_assert_msg(neg.protocol == n->protocol, "%s: protocol %#x",
		    n->what, neg.protocol);
		for (i = 0; i < MCLIENT_MACRO_LISTS; i++)
			ck_assert(neg.has_symlist[i] == (i == n->symlist));
		if (n->symlist >= 0)
			ck_assert_str_eq(neg.symlist[n->symlist], n->names);
	} else {
		ck_assert_msg(strstr(err, n->err) != NULL, "%s: '%s'", n->what,
		    err);
	}
	free(data);
}
END_TEST

/* ---- state machine ---------------------------------------------------- */

static void state_with(struct mclient_state *s, uint32_t actions,
		       uint32_t protocol)
{
	struct mclient_neg neg;

	memset(&neg, 0, sizeof(neg));
	neg.version = 6;
	neg.actions = actions;
	neg.protocol = protocol;
	mclient_state_init(s, &neg);
}

static enum mclient_verdict_use feed(struct mclient_state *s,
				     enum mclient_step st,
				     enum mclient_reply_kind k)
{
	struct mclient_reply r;
	char err[128];

	memset(&r, 0, sizeof(r));
	r.kind = k;
	return mclient_state_reply(s, st, &r, err, sizeof(err));
}

START_TEST(test_state_declined_steps)
{
	struct mclient_state s;
	int st;

	state_with(&s, 0, SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NR_RCPT |
	    SMFIP_NR_HDR);
	for (st = 0; st < MCLIENT_STEP__COUNT; st++)
		ck_assert_msg(mclient_state_sends(&s, st) ==
		    (st != MCLIENT_STEP_HELO && st != MCLIENT_STEP_BODY),
		    "step %s", mclient_step_name(st));
	ck_assert(!mclient_state_expects_reply(&s, MCLIENT_STEP_RCPT));
	ck_assert(!mclient_state_expects_reply(&s, MCLIENT_STEP_HEADER));
	ck_assert(mclient_state_expects_reply(&s, MCLIENT_STEP_MAIL));
	ck_assert(mclient_state_expects_reply(&s, MCLIENT_STEP_EOM));
	/* A reply to a step it was not sent, or to a no-reply step. */
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_HELO, MCLIENT_R_CONTINUE),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_RCPT, MCLIENT_R_CONTINUE),
	    MCLIENT_USE_VIOLATION);
}
END_TEST

START_TEST(test_state_wrong_step)
{
	static const enum mclient_reply_kind mods[] = {
		MCLIENT_R_QUARANTINE, MCLIENT_R_ADDHEADER, MCLIENT_R_INSHEADER,
		MCLIENT_R_CHGHEADER, MCLIENT_R_ADDRCPT, MCLIENT_R_ADDRCPT_PAR,
		MCLIENT_R_DELRCPT, MCLIENT_R_CHGFROM, MCLIENT_R_REPLBODY
	};
	struct mclient_state s;
	size_t i;
	int st;

	state_with(&s, MCLIENT_ACTIONS_ALL, SMFIP_SKIP);
	for (i = 0; i < NROWS(mods); i++) {
		for (st = 0; st < MCLIENT_STEP_EOM; st++)
			ck_assert_msg(feed(&s, st, mods[i]) ==
			    MCLIENT_USE_VIOLATION, "%s at %s",
			    mclient_reply_name(mods[i]), mclient_step_name(st));
		ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, mods[i]),
		    MCLIENT_USE_MORE);
	}
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_RCPT, MCLIENT_R_PROGRESS),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R_PROGRESS),
	    MCLIENT_USE_MORE);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_HEADER, MCLIENT_R_SKIP),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_CONNECT, MCLIENT_R_DISCARD),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_HELO, MCLIENT_R_DISCARD),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R__COUNT),
	    MCLIENT_USE_VIOLATION);
}
END_TEST

START_TEST(test_state_not_negotiated)
{
	struct mclient_state s;

	state_with(&s, SMFIF_ADDHDRS, 0);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R_ADDHEADER),
	    MCLIENT_USE_MORE);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R_CHGHEADER),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R_REPLBODY),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_EOM, MCLIENT_R_QUARANTINE),
	    MCLIENT_USE_VIOLATION);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_BODY, MCLIENT_R_SKIP),
	    MCLIENT_USE_VIOLATION);
}
END_TEST

START_TEST(test_state_done)
{
	struct mclient_state s;

	/* Accept at connect: nothing more for this connection. */
	state_with(&s, 0, 0);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_CONNECT, MCLIENT_R_ACCEPT),
	    MCLIENT_USE_FINAL);
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_MAIL));
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_EOM));

	/* Reject at RCPT: that recipient only. */
	state_with(&s, 0, 0);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_RCPT, MCLIENT_R_REPLYCODE),
	    MCLIENT_USE_FINAL);
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_RCPT));
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_DATA));

	/* Accept in a message: until the next MAIL. */
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_DATA, MCLIENT_R_ACCEPT),
	    MCLIENT_USE_FINAL);
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_HEADER));
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_EOM));
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_MAIL));
	mclient_state_new_message(&s);
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_EOM));

	/* Skip: no more body, end of message still sent. */
	state_with(&s, 0, SMFIP_SKIP);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_BODY, MCLIENT_R_CONTINUE),
	    MCLIENT_USE_FINAL);
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_BODY, MCLIENT_R_SKIP),
	    MCLIENT_USE_FINAL);
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_BODY));
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_EOM));
	ck_assert_int_eq(feed(&s, MCLIENT_STEP_BODY, MCLIENT_R_CONTINUE),
	    MCLIENT_USE_VIOLATION);
	mclient_state_new_message(&s);
	ck_assert(mclient_state_sends(&s, MCLIENT_STEP_BODY));

	/* Failed: nothing is sent any more. */
	s.failed = true;
	ck_assert(!mclient_state_sends(&s, MCLIENT_STEP_MAIL));
}
END_TEST

static Suite *mclient_suite(void)
{
	Suite *s = suite_create("mclient");
	TCase *tc = tcase_create("encode");

	tcase_add_test(tc, test_put_optneg);
	tcase_add_test(tc, test_put_connect);
	tcase_add_test(tc, test_put_macros);
	tcase_add_test(tc, test_put_steps);
	tcase_add_test(tc, test_put_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_test(tc, test_reader_every_split);
	tcase_add_loop_test(tc, test_reader_lengths, 0, (int)NROWS(reader_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode, 0, (int)NROWS(drows));
	tcase_add_loop_test(tc, test_optneg, 0, (int)NROWS(nrows));
	suite_add_tcase(s, tc);
	tc = tcase_create("state");
	tcase_add_test(tc, test_state_declined_steps);
	tcase_add_test(tc, test_state_wrong_step);
	tcase_add_test(tc, test_state_not_negotiated);
	tcase_add_test(tc, test_state_done);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(mclient_suite());
}
