/*
 * SPDX-License-Identifier: ISC
 * test_filter.c - the socketmap filter, from bytes: netstrings, socketmap
 * requests and replies (pipelined, truncated, oversized, malformed), the
 * phase table of Postfix's standard texts, and the maps "reject" and
 * "reply" over the engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "filtermap.h"
#include "filterphase.h"
#include "netstring.h"
#include "sockmap.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s) s, sizeof(s) - 1

/* ---- netstrings ---------------------------------------------------------- */

struct nrow {
	const char *in;
	size_t len;
	size_t max;
	enum netstring_status want;
	const char *data;	/* on OK */
	size_t used;		/* on OK */
};

static const struct nrow nrows[] = {
	{ LIT("5:hello,"), 100, NETSTRING_OK, "hello", 8 },
	{ LIT("0:,"), 100, NETSTRING_OK, "", 3 },
	{ LIT("5:hello,5:world,"), 100, NETSTRING_OK, "hello", 8 },
	{ LIT("005:hello,"), 100, NETSTRING_OK, "hello", 10 },
	{ LIT("3:a\0b,"), 100, NETSTRING_OK, "a\0b", 6 },
	{ LIT("4:a\r\nb,"), 100, NETSTRING_OK, "a\r\nb", 7 },
	{ LIT("5:hello,"), 5, NETSTRING_OK, "hello", 8 },
	/* truncated anywhere: a prefix of a valid netstring */
	{ LIT(""), 100, NETSTRING_INCOMPLETE, NULL, 0 },
	{ LIT("5"), 100, NETSTRING_INCOMPLETE, NULL, 0 },
	{ LIT("5:"), 100, NETSTRING_INCOMPLETE, NULL, 0 },
	{ LIT("5:hel"), 100, NETSTRING_INCOMPLETE, NULL, 0 },
	{ LIT("5:hello"), 100, NETSTRING_INCOMPLETE, NULL, 0 },
	{ LIT("10000"), 10000, NETSTRING_INCOMPLETE, NULL, 0 },
	/* oversized: refused as soon as the digits say so */
	{ LIT("6:hello!,"), 5, NETSTRING_ERR_TOO_LONG, NULL, 0 },
	{ LIT("10001:"), 10000, NETSTRING_ERR_TOO_LONG, NULL, 0 },
	{ LIT("10001"), 10000, NETSTRING_ERR_TOO_LONG, NULL, 0 },
	{ LIT("99999999999999999999:"), 10000, NETSTRING_ERR_TOO_LONG, NULL, 0 },
	{ LIT("00000000000:"), 10000, NETSTRING_ERR_LENGTH, NULL, 0 },
	/* non-digit lengths */
	{ LIT(":hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT("x:hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT("-5:hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT(" 5:hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT("5 :hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT("5x"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	{ LIT("0x5:hello,"), 100, NETSTRING_ERR_LENGTH, NULL, 0 },
	/* missing comma */
	{ LIT("5:hello;"), 100, NETSTRING_ERR_COMMA, NULL, 0 },
	{ LIT("5:hellooo,"), 100, NETSTRING_ERR_COMMA, NULL, 0 },
	{ LIT("3:hello,"), 100, NETSTRING_ERR_COMMA, NULL, 0 },
	{ LIT("0:x"), 100, NETSTRING_ERR_COMMA, NULL, 0 },
};

START_TEST(test_decode)
{
	const struct nrow *r = &nrows[_i];
	const char *data = NULL;
	size_t dlen = 0, used = 0;
	char *copy = malloc(r->len + 1);	/* exact size: ASan sees overreads */
	enum netstring_status st;

	memcpy(copy, r->in, r->len);
	st = netstring_decode(copy, r->len, r->max, &data, &dlen, &used);
	ck_assert_msg(st == r->want, "row %d: got %s, want %s", _i,
	    netstring_status_name(st), netstring_status_name(r->want));
	if (r->want == NETSTRING_OK) {
		ck_assert_uint_eq(used, r->used);
		ck_assert_uint_eq(dlen, r->used - (size_t)(strchr(r->in, ':') - r->in) - 2);
		ck_assert(memcmp(data, r->data, dlen) == 0);
	}
	free(copy);
}
END_TEST

START_TEST(test_encode_roundtrip)
{
	static const size_t sizes[] = { 0, 1, 9, 10, 99, 100, 9999, 10000, 100000 };
	size_t i;

	for (i = 0; i < NROWS(sizes); i++) {
		size_t n = sizes[i], need = netstring_encoded_len(n), dlen, used;
		char *src = malloc(n + 1), *buf = malloc(need);
		const char *parts[2], *data;
		size_t lens[2];

		memset(src, 'k', n);
		parts[0] = src;
		lens[0] = n / 2;
		parts[1] = src + n / 2;
		lens[1] = n - n / 2;
		ck_assert_uint_eq(netstring_encode(buf, parts, lens, 2), need);
		ck_assert_int_eq(netstring_decode(buf, need, n, &data, &dlen,
		    &used), NETSTRING_OK);
		ck_assert_uint_eq(dlen, n);
		ck_assert_uint_eq(used, need);
		/* every proper prefix is incomplete */
		ck_assert_int_eq(netstring_decode(buf, need - 1, n, &data, &dlen,
		    &used), NETSTRING_INCOMPLETE);
		free(src);
		free(buf);
	}
}
END_TEST

/* ---- socketmap ----------------------------------------------------------- */

/* A handler that answers "OK <key reversed>" for map "rev", NOTFOUND for
 * an empty key, PERM for anything else, and nothing at all for "mute". */
static void rev_handler(void *ctx, const struct sockmap_request *req,
			struct sockmap_out *out)
{
	char buf[SOCKMAP_QUERY_MAX];
	size_t i;

	(*(int *)ctx)++;
	if (req->name_len == 4 && memcmp(req->name, "mute", 4) == 0)
		return;
	if (req->name_len != 3 || memcmp(req->name, "rev", 3) != 0) {
		sockmap_out_reply(out, SOCKMAP_PERM, "unknown map", 11);
		return;
	}
	if (req->key_len == 0) {
		sockmap_out_reply(out, SOCKMAP_NOTFOUND, "", 0);
		return;
	}
	for (i = 0; i < req->key_len; i++)
		buf[i] = req->key[req->key_len - 1 - i];
	sockmap_out_reply(out, SOCKMAP_OK, buf, req->key_len);
}

struct srow {
	const char *in;
	size_t len;
	const char *out;	/* all replies, concatenated */
	size_t used;
	enum netstring_status err;
	int calls;
};

static const struct srow srows[] = {
	{ LIT("7:rev abc,"), "6:OK cba,", 10, NETSTRING_OK, 1 },
	/* pipelined: every whole request answered in order */
	{ LIT("7:rev abc,6:rev xy,4:rev ,"), "6:OK cba,5:OK yx,9:NOTFOUND ,", 26,
	  NETSTRING_OK, 3 },
	/* a partial request waits for its bytes */
	{ LIT("7:rev abc,6:rev x"), "6:OK cba,", 10, NETSTRING_INCOMPLETE, 1 },
	{ LIT("7:rev"), "", 0, NETSTRING_INCOMPLETE, 0 },
	/* a key with CRLF and a space */
	{ LIT("10:rev a\r\nb c,"), "9:OK c b\n\ra,", 14, NETSTRING_OK, 1 },
	/* no map name, an unknown map: PERM, the connection goes on */
	{ LIT("3:abc,7:rev abc,"), "29:PERM bad request: no map name,6:OK cba,",
	  16, NETSTRING_OK, 1 },
	{ LIT("4: abc,"), "29:PERM bad request: no map name,", 7, NETSTRING_OK, 0 },
	{ LIT("5:foo x,"), "16:PERM unknown map,", 8, NETSTRING_OK, 1 },
	/* a handler that answers nothing: TEMP for it */
	{ LIT("6:mute x,"), "19:TEMP internal error,", 9, NETSTRING_OK, 1 },
	/* framing errors: one PERM, and the rest is not looked at */
	{ LIT("7:rev abc,x:rev,7:rev abc,"), "6:OK cba,28:PERM bad request: bad length,",
	  10, NETSTRING_ERR_LENGTH, 1 },
	{ LIT("7:rev abc;"), "31:PERM bad request: missing comma,", 0,
	  NETSTRING_ERR_COMMA, 0 },
	{ LIT("10001:rev "), "26:PERM bad request: too long,", 0,
	  NETSTRING_ERR_TOO_LONG, 0 },
};

START_TEST(test_serve)
{
	const struct srow *r = &srows[_i];
	struct sockmap_out out;
	struct sockmap_served sv;
	int calls = 0;
	char *copy = malloc(r->len + 1);

	memcpy(copy, r->in, r->len);
	sockmap_out_init(&out);
	sv = sockmap_serve(copy, r->len, &out, 1 << 20, rev_handler, &calls);
	ck_assert_msg(out.len == strlen(r->out) && (out.len == 0 ||
	    memcmp(out.p, r->out, out.len) == 0), "row %d: got \"%.*s\", want \"%s\"", _i,
	    (int)out.len, out.p != NULL ? out.p : "", r->out);
	ck_assert_uint_eq(sv.used, r->used);
	ck_assert_msg(sv.error == r->err, "row %d: error %s, want %s", _i,
	    netstring_status_name(sv.error), netstring_status_name(r->err));
	ck_assert_int_eq(calls, r->calls);
	ck_assert(!sv.nomem);
	sockmap_out_free(&out);
	free(copy);
}
END_TEST

/* Replies wait while the output is over its limit; the rest comes later. */
START_TEST(test_serve_backpressure)
{
	struct sockmap_out out;
	struct sockmap_served sv;
	char in[] = "5:rev a,5:rev b,5:rev c,";
	int calls = 0;

	sockmap_out_init(&out);
	sv = sockmap_serve(in, strlen(in), &out, 1, rev_handler, &calls);
	ck_assert_uint_eq(sv.requests, 1);
	ck_assert_uint_eq(sv.used, 8);
	sockmap_out_consume(&out, out.len);
	sv = sockmap_serve(in + 8, strlen(in) - 8, &out, 1 << 20, rev_handler,
	    &calls);
	ck_assert_uint_eq(sv.requests, 2);
	ck_assert_int_eq(calls, 3);
	ck_assert(out.len == 14 && memcmp(out.p, "4:OK b,4:OK c,", 14) == 0);
	sockmap_out_free(&out);
}
END_TEST

START_TEST(test_reply_limits)
{
	struct sockmap_out out;
	char *big = malloc(SOCKMAP_REPLY_MAX);
	const char *data;
	size_t dlen, used;

	memset(big, 'x', SOCKMAP_REPLY_MAX);
	sockmap_out_init(&out);
	/* "OK " + 99,997 bytes is exactly the limit */
	ck_assert_int_eq(sockmap_out_reply(&out, SOCKMAP_OK, big,
	    SOCKMAP_REPLY_MAX - 3), 0);
	ck_assert_int_eq(netstring_decode(out.p, out.len, SOCKMAP_REPLY_MAX,
	    &data, &dlen, &used), NETSTRING_OK);
	ck_assert_uint_eq(dlen, SOCKMAP_REPLY_MAX);
	sockmap_out_consume(&out, used);
	ck_assert_int_eq(sockmap_out_reply(&out, SOCKMAP_OK, big,
	    SOCKMAP_REPLY_MAX - 2), 0);
	ck_assert_int_eq(netstring_decode(out.p, out.len, SOCKMAP_REPLY_MAX,
	    &data, &dlen, &used), NETSTRING_OK);
	ck_assert(dlen == 19 && memcmp(data, "PERM reply too long", 19) == 0);
	sockmap_out_free(&out);
	free(big);
}
END_TEST

START_TEST(test_split)
{
	struct sockmap_request req;

	ck_assert_int_eq(sockmap_request_split(LIT("reject 550 x"), &req), 0);
	ck_assert(req.name_len == 6 && memcmp(req.name, "reject", 6) == 0);
	ck_assert(req.key_len == 5 && memcmp(req.key, "550 x", 5) == 0);
	ck_assert_int_eq(sockmap_request_split(LIT("reply "), &req), 0);
	ck_assert_uint_eq(req.key_len, 0);
	ck_assert_int_eq(sockmap_request_split(LIT("reply"), &req), -1);
	ck_assert_int_eq(sockmap_request_split(LIT(" x"), &req), -1);
	ck_assert_int_eq(sockmap_request_split(LIT(""), &req), -1);
}
END_TEST

/* ---- the phase table ----------------------------------------------------- */

struct prow {
	const char *text;
	bool known;
	enum sr_phase phase;
};

static const struct prow prows[] = {
	{ "<a@b.example>: Recipient address rejected: Access denied", true, SR_PHASE_RCPT },
	{ "<a@b.example>: Sender address rejected: Domain not found", true, SR_PHASE_MAIL },
	{ "<localhost[127.0.0.1]>: Client host rejected: Access denied", true, SR_PHASE_CONNECT },
	{ "<x[192.0.2.1]>: Unverified Client host rejected: Access denied", true, SR_PHASE_CONNECT },
	{ "<bad.helo>: Helo command rejected: Host not found", true, SR_PHASE_HELO },
	{ "<DATA>: Data command rejected: Improper use of SMTP command pipelining", true, SR_PHASE_DATA },
	{ "<END-OF-MESSAGE>: End-of-data rejected: too big", true, SR_PHASE_EOM },
	{ "<example.org>: Etrn command rejected: Access denied", true, SR_PHASE_OTHER },
	{ "<user>: SASL login name rejected: no", true, SR_PHASE_CONNECT },
	{ "<a>b>: Recipient address rejected: x", true, SR_PHASE_RCPT },
	{ "Service unavailable; Client host [192.0.2.1] blocked using zen.example", true, SR_PHASE_CONNECT },
	{ "Service unavailable; Sender address [a@spam.example] blocked using dbl.example; listed", true, SR_PHASE_MAIL },
	{ "Service unavailable; Helo command [h] blocked using rhsbl.example", true, SR_PHASE_HELO },
	{ "Client host rejected: cannot find your hostname, [192.0.2.1]", true, SR_PHASE_CONNECT },
	{ "Client host rejected: cannot find your reverse hostname, [192.0.2.1]", true, SR_PHASE_CONNECT },
	{ "Syntax: HELO hostname", true, SR_PHASE_HELO },
	{ "Syntax: EHLO hostname", true, SR_PHASE_HELO },
	/* not certain: a milter's, a policy service's, protocol errors */
	{ "Recipient address rejected: Access denied", false, SR_PHASE_OTHER },
	{ "<a@b>: recipient address rejected: lower case", false, SR_PHASE_OTHER },
	{ "<a@b> Recipient address rejected: x", false, SR_PHASE_OTHER },
	{ "<a@b>: Recipient address denied: x", false, SR_PHASE_OTHER },
	{ "Service unavailable; Client host blocked", false, SR_PHASE_OTHER },
	{ "Service unavailable; Client host [x] listed", false, SR_PHASE_OTHER },
	{ "Error: need MAIL command", false, SR_PHASE_OTHER },
	{ "Too many duplicate messages", false, SR_PHASE_OTHER },
	{ "", false, SR_PHASE_OTHER },
	{ "<", false, SR_PHASE_OTHER },
	{ "<a>: ", false, SR_PHASE_OTHER },
};

START_TEST(test_phase)
{
	const struct prow *r = &prows[_i];
	size_t len = strlen(r->text);
	char *copy = malloc(len + 1);
	struct filterphase f;

	memcpy(copy, r->text, len);
	f = filterphase_infer(copy, len);
	ck_assert_msg(f.known == r->known, "\"%s\": known %d", r->text, f.known);
	if (r->known) {
		ck_assert_msg(f.phase == r->phase, "\"%s\": phase %s, want %s",
		    r->text, sr_phase_name(f.phase), sr_phase_name(r->phase));
		ck_assert_ptr_nonnull(f.what);
	}
	free(copy);
}
END_TEST

START_TEST(test_phase_table)
{
	size_t n, i;
	const struct filterphase_row *t = filterphase_table(&n);

	ck_assert_uint_ge(n, 10);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(t[i].form);
		ck_assert_ptr_nonnull(t[i].what);
	}
}
END_TEST

/* ---- the maps ------------------------------------------------------------- */

struct mrow {
	enum filtermap_kind kind;
	const char *key;
	enum filtermap_outcome want;
	const char *out;	/* on CHANGED */
};

static const struct mrow mrows[] = {
	/* reject: what Postfix sends for access map entries */
	{ FILTERMAP_REJECT, "557 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages",
	  FILTERMAP_CHANGED, "550 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages" },
	{ FILTERMAP_REJECT, "572 5.7.1 <r@localhost>: Recipient address rejected: Relay not authorized",
	  FILTERMAP_CHANGED, "550 5.7.1 <r@localhost>: Recipient address rejected: Relay not authorized" },
	{ FILTERMAP_REJECT, "550 4.7.1 <m@localhost>: Recipient address rejected: Access denied",
	  FILTERMAP_CHANGED, "550 5.7.1 <m@localhost>: Recipient address rejected: Access denied" },
	{ FILTERMAP_REJECT, "550 5.7.1 <ok@localhost>: Recipient address rejected: Access denied",
	  FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Service unavailable; listed",
	  FILTERMAP_UNCHANGED, NULL },
	/* the phase fits address codes: a sender's, a recipient's */
	{ FILTERMAP_REJECT, "550 5.1.1 <s@x>: Sender address rejected: unknown",
	  FILTERMAP_CHANGED, "550 5.1.0 <s@x>: Sender address rejected: unknown" },
	/* (the engine fits no code at RCPT: a sender's code there is normal
	 * with delayed rejects, so it cannot know; nor does the filter) */
	{ FILTERMAP_REJECT, "550 5.1.7 <r@x>: Recipient address rejected: bad",
	  FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550 5.1.1 <h>: Helo command rejected: x",
	  FILTERMAP_CHANGED, "550 5.0.0 <h>: Helo command rejected: x" },
	/* unknown phase: no fitting, an address code stays */
	{ FILTERMAP_REJECT, "501 5.1.7 Bad sender address syntax", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "501 5.1.3 Bad recipient address syntax", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550 5.1.1 User unknown", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550 5.1.8 Bad sender domain", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550 5.01.1 User unknown", FILTERMAP_CHANGED, "550 5.1.1 User unknown" },
	/* Postfix's own protocol replies stay as they are */
	{ FILTERMAP_REJECT, "503 5.5.1 Error: need MAIL command", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "554 5.5.1 Error: no valid recipients", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "501 Syntax: HELO hostname", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "451 4.3.5 Server configuration problem", FILTERMAP_UNCHANGED, NULL },
	/* a % is data */
	{ FILTERMAP_REJECT, "557 5.7.1 <p@localhost>: Recipient address rejected: 100% sure",
	  FILTERMAP_CHANGED, "550 5.7.1 <p@localhost>: Recipient address rejected: 100% sure" },
	/* multi-line */
	{ FILTERMAP_REJECT, "557-5.7.1 line one\r\n557 4.7.1 line two",
	  FILTERMAP_CHANGED, "550-5.7.1 line one\r\n550 5.7.1 line two" },
	{ FILTERMAP_REJECT, "550-5.7.1 line one\r\n550 5.7.1 line two", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550-5.7.1 line one\r\n550 5.7.1 line two\r\n", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REJECT, "550 5.7.1 line one\r\n550 5.7.1 line two",
	  FILTERMAP_CHANGED, "550-5.7.1 line one\r\n550 5.7.1 line two" },
	/* a milter's reply without an enhanced code gets one */
	{ FILTERMAP_REJECT, "550 Go away", FILTERMAP_CHANGED, "550 5.7.1 Go away" },
	/* never a class change, never a guess */
	{ FILTERMAP_REJECT, "250 2.0.0 Ok", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REJECT, "", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REJECT, "5", FILTERMAP_UNFIXABLE, NULL },
	/* reply: one line of a remote server's reply */
	{ FILTERMAP_REPLY, "572 relay denied", FILTERMAP_CHANGED, "550 5.7.1 relay denied" },
	{ FILTERMAP_REPLY, "550 4.7.1 no", FILTERMAP_CHANGED, "550 5.7.1 no" },
	{ FILTERMAP_REPLY, "451 Greylisted 50% off", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REPLY, "557 Too many duplicates", FILTERMAP_CHANGED, "550 5.7.1 Too many duplicates" },
	{ FILTERMAP_REPLY, "550 User unknown", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REPLY, "550 5.1.1 User unknown", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REPLY, "550 5.1.7 Bad sender", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REPLY, "451 5.7.1 Try later", FILTERMAP_CHANGED, "451 4.7.1 Try later" },
	{ FILTERMAP_REPLY, "550-5.1.1 The account does not exist.", FILTERMAP_UNCHANGED, NULL },
	{ FILTERMAP_REPLY, "550-4.1.1 The account", FILTERMAP_CHANGED, "550-5.1.1 The account" },
	{ FILTERMAP_REPLY, "557-5.7.1 first line", FILTERMAP_CHANGED, "550-5.7.1 first line" },
	/* 2xx and 3xx lines are never touched: greeting, EHLO, 354 */
	{ FILTERMAP_REPLY, "220 mx.example ESMTP", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REPLY, "250-PIPELINING", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REPLY, "250 4.7.1 odd", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REPLY, "354 End data with <CR><LF>.<CR><LF>", FILTERMAP_SKIPPED, NULL },
	{ FILTERMAP_REPLY, "garbage", FILTERMAP_SKIPPED, NULL },
	/* a long line stays one line */
	{ FILTERMAP_REPLY, "557 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
	  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc "
	  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd "
	  "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee "
	  "ffff", FILTERMAP_CHANGED,
	  "550 5.7.1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
	  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc "
	  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd "
	  "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee "
	  "ffff" },
};

START_TEST(test_map)
{
	const struct mrow *r = &mrows[_i];
	struct filtermap_result res;
	size_t len = strlen(r->key);
	char *copy = malloc(len + 1);

	memcpy(copy, r->key, len);
	filtermap_run(r->kind, copy, len, NULL, &res);
	ck_assert_msg(res.outcome == r->want, "%s \"%s\": %s, want %s (%s)",
	    filtermap_name(r->kind), r->key, filtermap_outcome_name(res.outcome),
	    filtermap_outcome_name(r->want), res.out != NULL ? res.out :
	    res.norm.wire != NULL ? res.norm.wire : "");
	if (r->want == FILTERMAP_CHANGED) {
		ck_assert_msg(res.out_len == strlen(r->out) &&
		    memcmp(res.out, r->out, res.out_len) == 0,
		    "%s \"%s\": got \"%s\", want \"%s\"", filtermap_name(r->kind),
		    r->key, res.out, r->out);
		/* what the map answers, Postfix takes: [45]DD[ -], same class */
		ck_assert(res.out[0] == r->key[0]);
		ck_assert(res.out[3] == ' ' || res.out[3] == '-');
		if (res.out[4] >= '0' && res.out[4] <= '9')
			ck_assert(res.out[4] == res.out[0]);
	} else {
		ck_assert_ptr_null(res.out);
	}
	filtermap_result_release(&res);
	free(copy);
}
END_TEST

/* Normalizing a map's answer again changes nothing (idempotence). */
START_TEST(test_map_idempotent)
{
	const struct mrow *r = &mrows[_i];
	struct filtermap_result res, again;

	filtermap_run(r->kind, r->key, strlen(r->key), NULL, &res);
	if (res.outcome == FILTERMAP_CHANGED) {
		filtermap_run(r->kind, res.out, res.out_len, NULL, &again);
		ck_assert_msg(again.outcome == FILTERMAP_UNCHANGED,
		    "\"%s\" -> \"%s\" -> %s", r->key, res.out,
		    filtermap_outcome_name(again.outcome));
		filtermap_result_release(&again);
	}
	filtermap_result_release(&res);
}
END_TEST

START_TEST(test_map_names)
{
	ck_assert_int_eq(filtermap_lookup("reject", 6), FILTERMAP_REJECT);
	ck_assert_int_eq(filtermap_lookup("reply", 5), FILTERMAP_REPLY);
	ck_assert_int_eq(filtermap_lookup("rejec", 5), -1);
	ck_assert_int_eq(filtermap_lookup("rejects", 7), -1);
	ck_assert_int_eq(filtermap_lookup("", 0), -1);
	ck_assert_str_eq(filtermap_name(FILTERMAP_REPLY), "reply");
}
END_TEST

/* The answer on the wire, with the counters. */
START_TEST(test_answer)
{
	static struct filtermap_counters c;
	struct sockmap_request req;
	struct sockmap_out out;

	filtermap_counters_init(&c);
	sockmap_out_init(&out);
	ck_assert_int_eq(sockmap_request_split(LIT("reply 572 relay denied"), &req), 0);
	filtermap_answer(&req, NULL, &c, &out);
	ck_assert_int_eq(sockmap_request_split(LIT("reply 250 ok"), &req), 0);
	filtermap_answer(&req, NULL, &c, &out);
	ck_assert_int_eq(sockmap_request_split(LIT("other 250 ok"), &req), 0);
	filtermap_answer(&req, NULL, &c, &out);
	out.p[out.len] = '\0';
	ck_assert_str_eq(out.p, "25:OK 550 5.7.1 relay denied,9:NOTFOUND ,16:PERM unknown map,");
	ck_assert_uint_eq(atomic_load(&c.lookups[FILTERMAP_REPLY]), 2);
	ck_assert_uint_eq(atomic_load(&c.outcomes[FILTERMAP_REPLY][FILTERMAP_CHANGED]), 1);
	ck_assert_uint_eq(atomic_load(&c.outcomes[FILTERMAP_REPLY][FILTERMAP_SKIPPED]), 1);
	ck_assert_uint_eq(atomic_load(&c.nonstandard[FILTERMAP_REPLY][572]), 1);
	ck_assert_uint_eq(atomic_load(&c.normalized[FILTERMAP_REPLY][SR_D_CODE_SYNTAX]), 1);
	ck_assert_uint_eq(atomic_load(&c.bad_requests), 1);
	sockmap_out_free(&out);
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("netstring");

	tcase_add_loop_test(tc, test_decode, 0, (int)NROWS(nrows));
	tcase_add_test(tc, test_encode_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("sockmap");
	tcase_add_loop_test(tc, test_serve, 0, (int)NROWS(srows));
	tcase_add_test(tc, test_serve_backpressure);
	tcase_add_test(tc, test_reply_limits);
	tcase_add_test(tc, test_split);
	suite_add_tcase(s, tc);
	tc = tcase_create("phase");
	tcase_add_loop_test(tc, test_phase, 0, (int)NROWS(prows));
	tcase_add_test(tc, test_phase_table);
	suite_add_tcase(s, tc);
	tc = tcase_create("maps");
	tcase_add_loop_test(tc, test_map, 0, (int)NROWS(mrows));
	tcase_add_loop_test(tc, test_map_idempotent, 0, (int)NROWS(mrows));
	tcase_add_test(tc, test_map_names);
	tcase_add_test(tc, test_answer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(filter_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
