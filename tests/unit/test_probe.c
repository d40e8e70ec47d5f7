/*
 * SPDX-License-Identifier: ISC
 * test_probe.c - the pure part of "smtpreply probe" from byte streams:
 * the bounded reply reader (every split of the input gives the same
 * reply), the dialogue runner over a scripted transport with a virtual
 * clock (stalls, closes, refused setup steps, no final dot), command
 * templates and option values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "reader.h"
#include "testutil.h"

/* ---- the reader ------------------------------------------------------------ */

struct rrow {
	const char *name;
	const char *in;
	enum probe_reader_state state;
	unsigned nlines;
	const char *reply;	/* what probe_reader_reply gives */
	size_t consumed;	/* 0: all of it */
};

static const struct rrow reader_rows[] = {
	{ "one line", "250 ok\r\n", PROBE_READ_DONE, 1, "250 ok", 0 },
	{ "bare LF", "250-a\n250 b\n", PROBE_READ_DONE, 2, "250-a\n250 b", 0 },
	{ "multi-line", "250-a\r\n250-b\r\n250 c\r\n", PROBE_READ_DONE, 3,
	  "250-a\r\n250-b\r\n250 c", 0 },
	{ "stops after the last line", "250 a\r\n250 b\r\n", PROBE_READ_DONE, 1,
	  "250 a", 7 },
	{ "short line is final", "25\r\n", PROBE_READ_DONE, 1, "25", 0 },
	{ "empty line is final", "\r\n", PROBE_READ_DONE, 1, "", 0 },
	{ "not complete", "250-a\r\n250 b", PROBE_READ_MORE, 1, "250-a\r\n250 b", 0 },
	{ "CR alone stays", "250 a\rb\r\n", PROBE_READ_DONE, 1, "250 a\rb", 0 },
};

/* Feed ROW's input split at SPLIT (and the rest at once). */
static void check_reader_row(const struct rrow *row, size_t split)
{
	struct probe_reader r;
	size_t len = strlen(row->in), n, used, rlen;
	const char *reply;

	ck_assert_int_eq(probe_reader_init(&r), 0);
	n = split < len ? split : len;
	used = probe_reader_feed(&r, row->in, n);
	if (used == n && r.state == PROBE_READ_MORE)
		used += probe_reader_feed(&r, row->in + n, len - n);
	ck_assert_msg(r.state == row->state, "%s split %zu: state %d", row->name,
	    split, (int)r.state);
	ck_assert_msg(r.nlines == row->nlines, "%s split %zu: %u lines",
	    row->name, split, r.nlines);
	ck_assert_msg(used == (row->consumed ? row->consumed : len),
	    "%s split %zu: consumed %zu", row->name, split, used);
	reply = probe_reader_reply(&r, &rlen);
	ck_assert_msg(rlen == strlen(row->reply) && memcmp(reply, row->reply, rlen) == 0,
	    "%s split %zu: reply '%.*s'", row->name, split, (int)rlen, reply);
	probe_reader_free(&r);
}

START_TEST(reader_table)
{
	const struct rrow *row = &reader_rows[_i];
	size_t split;

	for (split = 0; split <= strlen(row->in); split++)
		check_reader_row(row, split);
}
END_TEST

START_TEST(reader_long_line)
{
	struct probe_reader r;
	char *line = malloc(5002);
	size_t rlen;

	memset(line, 'x', 5000);
	memcpy(line, "550 ", 4);
	memcpy(line + 5000, "\r\n", 2);
	ck_assert_int_eq(probe_reader_init(&r), 0);
	ck_assert_uint_eq(probe_reader_feed(&r, line, 5002), 5002);
	ck_assert_int_eq(r.state, PROBE_READ_DONE);
	probe_reader_reply(&r, &rlen);
	ck_assert_uint_eq(rlen, PROBE_LINE_KEEP);
	ck_assert_uint_eq(r.dropped, 5001 - PROBE_LINE_KEEP);	/* the CR too */
	ck_assert_uint_eq(r.cut_lines, 1);
	probe_reader_free(&r);
	free(line);
}
END_TEST

START_TEST(reader_bounds)
{
	struct probe_reader r;
	char chunk[4096];
	size_t i, used;

	/* too many lines */
	ck_assert_int_eq(probe_reader_init(&r), 0);
	for (i = 0; i < PROBE_REPLY_LINES + 5 && r.state != PROBE_READ_OVERFLOW; i++)
		probe_reader_feed(&r, "250-x\r\n", 7);
	ck_assert_int_eq(r.state, PROBE_READ_OVERFLOW);
	ck_assert_uint_eq(r.nlines, PROBE_REPLY_LINES);
	ck_assert_uint_eq(probe_reader_feed(&r, "250 x\r\n", 7), 0);

	/* lines after the reply's end count too (no line beyond the bound) */
	probe_reader_reset(&r);
	ck_assert_uint_eq(probe_reader_feed(&r, "250 x\r\n", 7), 7);
	for (i = 0; i < 3 * PROBE_REPLY_LINES && r.state != PROBE_READ_OVERFLOW; i++)
		probe_reader_feed(&r, i % 2 ? "\n" : "250 y\r\n", i % 2 ? 1 : 7);
	ck_assert_int_eq(r.state, PROBE_READ_OVERFLOW);
	ck_assert_uint_eq(r.nlines, PROBE_REPLY_LINES);
	ck_assert_uint_le(r.len, PROBE_READER_SIZE);

	/* endless line: stops at PROBE_REPLY_BYTES, memory stays bounded */
	probe_reader_reset(&r);
	memset(chunk, 'y', sizeof(chunk));
	used = 0;
	for (i = 0; i < 1024 && r.state == PROBE_READ_MORE; i++)
		used += probe_reader_feed(&r, chunk, sizeof(chunk));
	ck_assert_int_eq(r.state, PROBE_READ_OVERFLOW);
	ck_assert_uint_eq(used, PROBE_REPLY_BYTES);
	ck_assert_uint_eq(r.len, PROBE_LINE_KEEP);
	ck_assert(probe_reader_mid_line(&r));
	probe_reader_free(&r);
}
END_TEST

/* ---- a scripted server with a virtual clock --------------------------------- */

#define STALL ((const char *)1)	/* send nothing, ever */
#define CLOSE ((const char *)2)	/* end of stream */

struct script {
	const char *const *turns;	/* one per reply: greeting first */
	size_t nturns, next;
	const char *pending;		/* bytes of the current turn not read */
	size_t chunk;			/* bytes per recv (0: all) */
	long long clock;
	char sent[8192];
	size_t sent_len;
	bool closed;
};

static int s_send(void *ctx, const char *p, size_t len)
{
	struct script *s = ctx;

	ck_assert(s->sent_len + len < sizeof(s->sent));
	memcpy(s->sent + s->sent_len, p, len);
	s->sent_len += len;
	if (s->pending == NULL && s->next < s->nturns)
		s->pending = s->turns[s->next++];
	return 0;
}

static ssize_t s_recv(void *ctx, char *buf, size_t size, int timeout_ms)
{
	struct script *s = ctx;
	size_t n;

	if (s->pending == NULL && s->next == 0 && s->nturns > 0)
		s->pending = s->turns[s->next++];	/* the greeting */
	if (s->pending == CLOSE || s->closed) {
		s->closed = true;
		return 0;
	}
	if (s->pending == STALL || s->pending == NULL) {
		s->clock += timeout_ms;
		return PROBE_IO_TIMEOUT;
	}
	n = strlen(s->pending);
	if (s->chunk > 0 && n > s->chunk)
		n = s->chunk;
	if (n > size)
		n = size;
	memcpy(buf, s->pending, n);
	s->pending += n;
	if (*s->pending == '\0') {
		s->pending = NULL;
		if (s->next < s->nturns && s->turns[s->next] == CLOSE)
			s->pending = s->turns[s->next++];
	}
	s->clock += 1;
	return (ssize_t)n;
}

static long long
s_now(void *ctx)
{
	return ((struct script *)ctx)->clock;
}

static const struct probe_params params = {
	.helo = "client.test", .sender = "a@client.test", .domain = "mx.test",
	.rcpt = "postmaster@mx.test", .relay_domain = "relay.invalid",
	.deliver_to = NULL, .max_rcpt = 0, .timeout_ms = 5000,
};

static void play(const char *id, const char *const *turns, size_t nturns,
		 size_t chunk, const struct probe_params *p, struct script *s,
		 struct probe_result *res)
{
	struct probe_transport t = { s, s_send, s_recv, s_now };

	memset(s, 0, sizeof(*s));
	s->turns = turns;
	s->nturns = nturns;
	s->chunk = chunk;
	ck_assert_ptr_nonnull(probe_find(id));
	ck_assert_int_eq(probe_run(probe_find(id), p, &t, res), 0);
}

static const struct probe_exchange *target(const struct probe_result *res)
{
	size_t i;

	for (i = 0; i < res->nex; i++)
		if (res->ex[i].role == PROBE_TARGET)
			return &res->ex[i];
	return NULL;
}

START_TEST(run_rcpt_unknown)
{
	static const char *const turns[] = {
		"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 8BITMIME\r\n",
		"250 2.1.0 Ok\r\n", "550 4.7.1 <x@mx.test>: no\r\n", "221 2.0.0 Bye\r\n",
	};
	struct script s;
	struct probe_result res;
	const struct probe_exchange *t;
	size_t chunk;

	for (chunk = 0; chunk < 4; chunk++) {	/* 0: whole; 1-3 bytes per read */
		play("rcpt-unknown", turns, NROWS(turns), chunk, &params, &s, &res);
		ck_assert_int_eq(res.status, PROBE_DONE);
		ck_assert_uint_eq(res.nex, 5);
		ck_assert_str_eq(s.sent, "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
		    "RCPT TO:<smtpreply-no-such-user@mx.test>\r\nQUIT\r\n");
		t = target(&res);
		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(t->reply, "550 4.7.1 <x@mx.test>: no");
		ck_assert_int_eq(t->phase, SR_PHASE_RCPT);
		ck_assert(t->judged);
		ck_assert_ptr_nonnull(sr_check_find(&t->check,
		    SR_D_ENHANCED_CLASS_MISMATCH));
		ck_assert_str_eq(t->normalized, "550 5.7.1 <x@mx.test>: no");
		ck_assert_str_eq(res.ex[1].reply, "250-mx.test\r\n250 8BITMIME");
		ck_assert_uint_eq(res.ex[1].reply_lines, 2);
		probe_result_release(&res);
	}
}
END_TEST

START_TEST(run_stall_and_close)
{
	static const char *const stall[] = { STALL };
	static const char *const midreply[] = { "220 mx.test\r\n", "250-mx.test\r\n" };
	static const char *const closing[] = { "220 mx.test\r\n", "250-mx.test\r\n250-PIPE",
					       CLOSE };
	struct script s;
	struct probe_result res;

	play("greeting", stall, 1, 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_BROKEN);
	ck_assert_uint_eq(res.nex, 1);
	ck_assert_int_eq(res.ex[0].problem, PROBE_TIMEOUT);
	ck_assert_msg(s.clock >= 5000 && s.clock < 5100, "clock %lld", s.clock);
	ck_assert_uint_eq(s.sent_len, 0);
	probe_result_release(&res);

	play("ehlo", midreply, 2, 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_BROKEN);
	ck_assert_int_eq(res.ex[1].problem, PROBE_TIMEOUT);
	ck_assert_str_eq(res.ex[1].reply, "250-mx.test");
	ck_assert_msg(s.clock < 5100, "one timeout per reply, not per read: %lld", s.clock);
	probe_result_release(&res);

	play("ehlo", closing, 3, 4, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_BROKEN);
	ck_assert_int_eq(res.ex[1].problem, PROBE_CLOSED);
	ck_assert_str_eq(res.ex[1].reply, "250-mx.test\r\n250-PIPE");
	ck_assert_uint_eq(res.ex[1].reply_lines, 2);
	probe_result_release(&res);
}
END_TEST

START_TEST(run_no_final_dot)
{
	static const char *const turns[] = {
		"220 mx.test\r\n", "250 mx.test\r\n", "250 2.1.0 Ok\r\n",
		"250 2.1.5 Ok\r\n", "354 go ahead\r\n", "250 2.0.0 queued\r\n",
		"221 2.0.0 Bye\r\n",
	};
	struct probe_params dp = params;
	struct script s;
	struct probe_result res;

	play("data-empty", turns, NROWS(turns), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_DONE);
	ck_assert(!res.delivered);
	ck_assert_str_eq(s.sent, "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
	    "RCPT TO:<postmaster@mx.test>\r\nDATA\r\n");
	probe_result_release(&res);

	dp.deliver_to = "me@mx.test";
	play("data-empty", turns, NROWS(turns), 0, &dp, &s, &res);
	ck_assert(res.delivered);
	ck_assert_str_eq(s.sent, "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
	    "RCPT TO:<me@mx.test>\r\nDATA\r\n.\r\nQUIT\r\n");
	ck_assert_int_eq(res.ex[5].phase, SR_PHASE_EOM);
	probe_result_release(&res);
}
END_TEST

START_TEST(run_setup_refused)
{
	static const char *const turns[] = {
		"220 mx.test\r\n", "250 mx.test\r\n", "550 5.7.1 go away\r\n",
		"221 2.0.0 Bye\r\n",
	};
	static const char *const refused[] = { "554 5.7.1 no service\r\n", "221 bye\r\n" };
	static const char *const unsolicited[] = {
		"220 mx.test\r\n", "250 mx.test\r\n", "250 ok\r\n250 more\r\n",
		"221 2.0.0 Bye\r\n",
	};
	struct script s;
	struct probe_result res;

	play("rcpt-relay", turns, NROWS(turns), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_STOPPED);
	ck_assert_ptr_null(target(&res));
	ck_assert_str_eq(s.sent, "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
	    "QUIT\r\n");
	probe_result_release(&res);

	play("noop", refused, NROWS(refused), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_STOPPED);
	ck_assert_str_eq(s.sent, "QUIT\r\n");
	probe_result_release(&res);

	play("noop", unsolicited, NROWS(unsolicited), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_DONE);
	ck_assert_int_eq(target(&res)->problem, PROBE_UNSOLICITED);
	ck_assert_str_eq(target(&res)->reply, "250 ok\r\n250 more");
	ck_assert_ptr_nonnull(sr_check_find(&target(&res)->check,
	    SR_D_MULTILINE_SEPARATOR));
	probe_result_release(&res);
}
END_TEST

START_TEST(run_skips)
{
	static const char *const auth[] = {
		"220 mx.test\r\n", "250-mx.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n",
		"221 2.0.0 Bye\r\n",
	};
	struct probe_params np = params;
	struct script s;
	struct probe_result res;

	play("auth-not-offered", auth, NROWS(auth), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_SKIPPED);
	ck_assert_str_eq(s.sent, "EHLO client.test\r\nQUIT\r\n");
	probe_result_release(&res);

	play("starttls-not-offered", auth, NROWS(auth), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_DONE);	/* STARTTLS not offered */
	probe_result_release(&res);

	play("rcpt-too-many", auth, NROWS(auth), 0, &params, &s, &res);
	ck_assert_int_eq(res.status, PROBE_SKIPPED);
	ck_assert_uint_eq(res.nex, 0);
	ck_assert_uint_eq(s.sent_len, 0);
	probe_result_release(&res);

	np.domain = NULL;
	np.rcpt = NULL;
	ck_assert(!probe_def_ready(probe_find("rcpt-unknown"), &np));
	ck_assert(probe_def_ready(probe_find("ehlo"), &np));
}
END_TEST

/* ---- templates and values ----------------------------------------------------- */

START_TEST(expand_templates)
{
	char buf[1024];
	struct probe_params p = params;
	int n;

	ck_assert_int_eq(probe_expand("RCPT TO:<{rcpt}>", &p, buf, sizeof(buf)), 28);
	ck_assert_str_eq(buf, "RCPT TO:<postmaster@mx.test>");
	probe_expand("RCPT TO:<{data_rcpt}>", &p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "RCPT TO:<postmaster@mx.test>");
	p.deliver_to = "me@mx.test";
	probe_expand("RCPT TO:<{data_rcpt}>", &p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "RCPT TO:<me@mx.test>");
	n = probe_expand("MAIL FROM:<{long}@{domain}>", &p, buf, sizeof(buf));
	ck_assert_int_gt(n + 2, 512);
	ck_assert_int_eq(probe_expand("{nonesuch}", &p, buf, sizeof(buf)), -1);
	ck_assert_int_eq(probe_expand("MAIL FROM:<{long}>", &p, buf, 100), -1);
	p.domain = NULL;
	ck_assert_int_eq(probe_expand("{domain}", &p, buf, sizeof(buf)), -1);
	ck_assert_int_eq(probe_expand("RSET", &p, buf, 5), 4);
	ck_assert_int_eq(probe_expand("RSET", &p, buf, 4), -1);
}
END_TEST

START_TEST(param_values)
{
	char big[300];

	ck_assert(probe_param_ok("postmaster@example.org"));
	ck_assert(!probe_param_ok(""));
	ck_assert(!probe_param_ok("a b"));
	ck_assert(!probe_param_ok("a>b"));
	ck_assert(!probe_param_ok("a\r\nRSET"));
	ck_assert(!probe_param_ok("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!probe_param_ok(big));
}
END_TEST

START_TEST(list_is_documented)
{
	size_t n, i, j;
	const struct probe_def *d = probe_list(&n);

	ck_assert_uint_eq(n, 25);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_eq(probe_find(d[i].id), &d[i]);
		ck_assert(d[i].nsteps >= 1 && d[i].nsteps <= PROBE_MAX_STEPS);
		ck_assert_ptr_null(d[i].steps[0].command);	/* the greeting */
		for (j = 0; j < d[i].nsteps; j++)
			if (d[i].steps[j].role == PROBE_TARGET)
				break;
		ck_assert_msg(j < d[i].nsteps, "%s has a target", d[i].id);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("reader");

	tcase_add_loop_test(tc, reader_table, 0, (int)NROWS(reader_rows));
	tcase_add_test(tc, reader_long_line);
	tcase_add_test(tc, reader_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("runner");
	tcase_add_test(tc, run_rcpt_unknown);
	tcase_add_test(tc, run_stall_and_close);
	tcase_add_test(tc, run_no_final_dot);
	tcase_add_test(tc, run_setup_refused);
	tcase_add_test(tc, run_skips);
	suite_add_tcase(s, tc);
	tc = tcase_create("list");
	tcase_add_test(tc, expand_templates);
	tcase_add_test(tc, param_values);
	tcase_add_test(tc, list_is_documented);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
