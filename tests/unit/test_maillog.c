/*
 * SPDX-License-Identifier: ISC
 * test_maillog.c - the log side of "smtpreply audit": recognizing reply
 * lines, rebuilding multi-line replies, timestamps, reading plain and
 * gzip input in fixed buffers, and the bounded statistics.
 *
 * The line recognizers are driven by tests/data/audit-lines.tsv: real-
 * format Postfix, sendmail and Exim lines (captured or written from the
 * MTAs' sources), each with the reply, direction, phase and peer it must
 * give, or "skip" for lines that look almost right and must not count.
 * Each line of that file is its own test case.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>

#include "logread.h"
#include "maillog.h"
#include "stats.h"
#include "testutil.h"

#define MAX_CASES 2000

/* ---- the corpus ---------------------------------------------------------- */

struct corpus_case {
	unsigned lineno;
	bool reply;
	bool success;		/* recognized only with MAILLOG_WANT_SUCCESS */
	char *dir, *phase, *peer, *text, *line;
};

static struct corpus_case cases[MAX_CASES];
static size_t ncases;
static char corpus_path[512];

static char *dup_field(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Load the corpus before the tests fork; a malformed line aborts. */
static void load_corpus(void)
{
	const char *dir = getenv("SR_TEST_DATA");
	char buf[70000];
	unsigned lineno = 0;
	FILE *f;

	snprintf(corpus_path, sizeof(corpus_path), "%s/audit-lines.tsv",
		 dir != NULL ? dir : "tests/data");
	if ((f = fopen(corpus_path, "r")) == NULL) {
		fprintf(stderr, "test_maillog: cannot read %s\n", corpus_path);
		exit(1);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strcspn(buf, "\n");
		const char *fld[6];
		size_t flen[6], k = 0, i = 0;

		lineno++;
		buf[len] = '\0';
		if (len == 0 || buf[0] == '#')
			continue;
		fld[0] = buf;
		for (i = 0; i < len && k < 5; i++)
			if (buf[i] == '\t') {
				flen[k] = (size_t)(buf + i - fld[k]);
				fld[++k] = buf + i + 1;
			}
		if (k != 5 || ncases == MAX_CASES) {
			fprintf(stderr, "%s:%u: not 6 tab-separated fields\n",
				corpus_path, lineno);
			exit(1);
		}
		flen[5] = len - (size_t)(fld[5] - buf);
		cases[ncases].lineno = lineno;
		cases[ncases].reply = flen[0] == 5 && memcmp(fld[0], "reply", 5) == 0;
		cases[ncases].success = flen[0] == 7 &&
		    memcmp(fld[0], "success", 7) == 0;
		cases[ncases].dir = dup_field(fld[1], flen[1]);
		cases[ncases].phase = dup_field(fld[2], flen[2]);
		cases[ncases].peer = dup_field(fld[3], flen[3]);
		cases[ncases].text = dup_field(fld[4], flen[4]);
		cases[ncases].line = dup_field(fld[5], flen[5]);
		ncases++;
	}
	fclose(f);
}

START_TEST(corpus_line)
{
	const struct corpus_case *c = &cases[_i];
	struct maillog_reply r;
	bool got = maillog_parse_line(c->line, strlen(c->line), &r);

	if (c->success) {
		ck_assert_msg(!got, "%s:%u: a success reply, recognized without "
			      "MAILLOG_WANT_SUCCESS", corpus_path, c->lineno);
		got = maillog_parse_line_with(c->line, strlen(c->line),
		    MAILLOG_WANT_SUCCESS, &r);
		ck_assert_msg(got && r.success, "%s:%u: not recognized as a "
			      "success", corpus_path, c->lineno);
	} else if (got && r.success)
		ck_abort_msg("%s:%u: success flag on a reply", corpus_path,
			     c->lineno);
	if (!c->reply && !c->success) {
		ck_assert_msg(!got, "%s:%u: must not be recognized, got reply "
			      "\"%.*s\"", corpus_path, c->lineno,
			      (int)(got ? r.reply_len : 0), got ? r.reply : "");
		return;
	}
	ck_assert_msg(got, "%s:%u: not recognized", corpus_path, c->lineno);
	ck_assert_msg(r.reply_len == strlen(c->text) &&
		      memcmp(r.reply, c->text, r.reply_len) == 0,
		      "%s:%u: reply \"%.*s\", want \"%s\"", corpus_path,
		      c->lineno, (int)r.reply_len, r.reply, c->text);
	ck_assert_msg(strcmp(maillog_direction_name(r.dir), c->dir) == 0,
		      "%s:%u: direction %s, want %s", corpus_path, c->lineno,
		      maillog_direction_name(r.dir), c->dir);
	ck_assert_msg(strcmp(maillog_phase_name(r.phase), c->phase) == 0,
		      "%s:%u: phase %s, want %s", corpus_path, c->lineno,
		      maillog_phase_name(r.phase), c->phase);
	ck_assert_msg(strcmp(r.peer[0] ? r.peer : "-", c->peer) == 0,
		      "%s:%u: peer '%s', want '%s'", corpus_path, c->lineno,
		      r.peer, c->peer);
	/* the has_code flag agrees with the reply; a malformed code counts */
	ck_assert_int_eq(r.has_code, r.malformed || (r.reply_len >= 3 &&
			 r.reply[0] >= '0' && r.reply[0] <= '9' && r.reply[1] >= '0' &&
			 r.reply[1] <= '9' && r.reply[2] >= '0' && r.reply[2] <= '9'));
	ck_assert(!r.malformed || r.has_code);
}
END_TEST

/* Every prefix of every corpus line: no crash, nothing read past it (the
 * copy has no byte after the prefix, so ASan sees any read past it). */
START_TEST(corpus_prefixes)
{
	const struct corpus_case *c = &cases[_i];
	size_t len = strlen(c->line), n;
	struct maillog_reply r;

	for (n = 0; n <= len; n++) {
		char *copy = malloc(n > 0 ? n : 1);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, c->line, n);
		if (maillog_parse_line(copy, n, &r))
			ck_assert(r.reply == r.built ||
				  (r.reply >= copy && r.reply + r.reply_len <= copy + n));
		free(copy);
	}
}
END_TEST

/* ---- multi-line replies ---------------------------------------------------- */

struct wire_row {
	const char *logged, *wire;
};

static const struct wire_row wire_rows[] = {
	{ "550 5.7.1 one line", "550 5.7.1 one line" },
	/* Postfix smtpd: CR LF as "??" */
	{ "550-5.7.1 one??550 5.7.1 two", "550-5.7.1 one\r\n550 5.7.1 two" },
	{ "550 5.7.1 what?? no", "550 5.7.1 what?? no" },
	/* smtp client: joined with blanks */
	{ "550-5.7.1 a b 550-5.7.1 c 550 5.7.1 d", "550-5.7.1 a b\r\n550-5.7.1 c\r\n550 5.7.1 d" },
	/* after the last line no more splits */
	{ "550-5.7.1 a 550 5.7.1 b 550 c", "550-5.7.1 a\r\n550 5.7.1 b 550 c" },
	/* sendmail: "\r\n" as written in its log; Exim: "\n" */
	{ "550-5.7.1 one\\r\\n550 5.7.1 two", "550-5.7.1 one\r\n550 5.7.1 two" },
	{ "550-5.7.1 a\\n550-5.7.1 b\\n550 5.7.1 c", "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c" },
	{ "550 5.7.1 a path C:\\new", "550 5.7.1 a path C:\\new" },
	/* another code in the text of a one-line reply */
	{ "550 5.7.1 see 550 5.7.1", "550 5.7.1 see 550 5.7.1" },
};

START_TEST(reply_wire)
{
	const struct wire_row *row = &wire_rows[_i];
	char buf[256];
	size_t n = maillog_reply_wire(row->logged, strlen(row->logged), buf,
				  sizeof(buf));

	ck_assert_uint_eq(n, strlen(row->wire));
	ck_assert(memcmp(buf, row->wire, n) == 0);
	/* a small buffer: cut, never overrun */
	n = maillog_reply_wire(row->logged, strlen(row->logged), buf, 5);
	ck_assert_uint_le(n, 5);
}
END_TEST

/* ---- timestamps ------------------------------------------------------------ */

struct time_row {
	const char *stamp;
	unsigned long long key;
};

static const struct time_row time_rows[] = {
	{ "Dec  1 19:57:01", 20261201195701ULL },
	{ "Dec 01 19:57:01", 20261201195701ULL },
	{ "Jan 31 00:00:00", 20260131000000ULL },
	{ "2026-12-01T19:57:01.123456+01:00", 20261201195701ULL },
	{ "2026-12-01T19:57:01+0100", 20261201195701ULL },
	{ "2026-12-03 08:15:01", 20261203081501ULL },
	{ "2025-07-30 18:51:05.712", 20250730185105ULL },
	{ "Mar 7 02:09:33", 20260307020933ULL },
	{ "Foo  1 19:57:01", 0 },
	{ "2026-13-01T00:00:00", 0 },
	{ "", 0 },
};

START_TEST(time_key)
{
	const struct time_row *row = &time_rows[_i];

	ck_assert_uint_eq(maillog_time_key(row->stamp, strlen(row->stamp), 2026),
			  row->key);
}
END_TEST

struct arg_row {
	const char *arg;
	bool end;
	unsigned long long key;
};

static const struct arg_row arg_rows[] = {
	{ "2026-12-01", false, 20261201000000ULL },
	{ "2026-12-01", true, 20261201235959ULL },
	{ "2026-12-01 19:57", false, 20261201195700ULL },
	{ "2026-12-01 19:57", true, 20261201195759ULL },
	{ "2026-12-01T19:57:01", false, 20261201195701ULL },
	{ "yesterday", false, 0 },
	{ "2026-12-01 19", false, 0 },
	{ "2026-12-32", false, 0 },
};

START_TEST(time_arg)
{
	const struct arg_row *row = &arg_rows[_i];

	ck_assert_uint_eq(maillog_time_arg(row->arg, row->end), row->key);
}
END_TEST

/* ---- reading ----------------------------------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/test_maillog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Read PATH to the end; the lines joined by '\n' into OUT (malloc'd). */
static int read_all(const char *path, char **out, size_t *nlines,
		    unsigned long long *longs)
{
	int fd = open(path, 0);
	struct logread *lr;
	const char *line;
	size_t len, cap = 1 << 20, used = 0;
	int rc;

	ck_assert_int_ge(fd, 0);
	lr = logread_open(fd, path);
	ck_assert_ptr_nonnull(lr);
	*out = malloc(cap);
	*nlines = 0;
	while ((rc = logread_next(lr, &line, &len)) > 0) {
		if (used + len + 2 > cap) {
			cap = 2 * (used + len + 2);
			*out = realloc(*out, cap);
			ck_assert_ptr_nonnull(*out);
		}
		memcpy(*out + used, line, len);
		used += len;
		(*out)[used++] = '\n';
		(*nlines)++;
	}
	(*out)[used] = '\0';
	*longs = logread_long_lines(lr);
	logread_close(lr);
	close(fd);
	return rc;
}

static const char *write_file(const char *name, const char *data, size_t len,
			      bool gz)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (gz) {
		gzFile g = gzopen(path, "wb");

		ck_assert_ptr_nonnull(g);
		ck_assert_int_eq(gzwrite(g, data, (unsigned)len), (int)len);
		ck_assert_int_eq(gzclose(g), Z_OK);
	} else {
		FILE *f = fopen(path, "wb");

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(data, 1, len, f), len);
		ck_assert_int_eq(fclose(f), 0);
	}
	return path;
}

START_TEST(read_plain_and_gzip)
{
	/* lines crossing the 1 MiB buffer many times over */
	size_t n = 300000, i, nl;
	size_t size = n * 12 + 1;
	char *data = malloc(size), *got;
	unsigned long long longs;
	size_t len = 0;
	int gz;

	for (i = 0; i < n; i++)
		len += (size_t)sprintf(data + len, "line %06zu\n", i);
	for (gz = 0; gz <= 1; gz++) {
		const char *path = write_file(gz ? "a.gz" : "a.log", data, len, gz);

		ck_assert_int_eq(read_all(path, &got, &nl, &longs), 0);
		ck_assert_uint_eq(nl, n);
		ck_assert_str_eq(got, data);
		ck_assert_uint_eq(longs, 0);
		free(got);
	}
	free(data);
}
END_TEST

START_TEST(read_edges)
{
	unsigned long long longs;
	char *got, *big;
	size_t nl;
	const char *p;

	/* no final LF; CR kept */
	p = write_file("b.log", "one\r\ntwo", 8, false);
	ck_assert_int_eq(read_all(p, &got, &nl, &longs), 0);
	ck_assert_uint_eq(nl, 2);
	ck_assert_str_eq(got, "one\r\ntwo\n");
	free(got);
	/* empty */
	p = write_file("c.log", "", 0, false);
	ck_assert_int_eq(read_all(p, &got, &nl, &longs), 0);
	ck_assert_uint_eq(nl, 0);
	free(got);
	/* a line of 3 MiB between two short ones: cut, the rest read */
	big = malloc(3 << 20);
	memset(big, 'x', 3 << 20);
	memcpy(big, "a\n", 2);
	memcpy(big + (3 << 20) - 2, "\nb", 2);
	p = write_file("d.log", big, 3 << 20, false);
	ck_assert_int_eq(read_all(p, &got, &nl, &longs), 0);
	ck_assert_uint_eq(nl, 3);
	ck_assert_uint_eq(longs, 1);
	ck_assert_uint_eq(strlen(got), 2 + LOGREAD_LINE_MAX + 1 + 2);
	free(got);
	free(big);
	/* a gzip file cut short: the lines before, then an error */
	{
		char line[64], *data = malloc(1 << 20);
		size_t len = 0, i;
		FILE *f;
		long size;
		char *raw;

		for (i = 0; i < 20000; i++) {
			int k = snprintf(line, sizeof(line), "%zu %zu\n", i, i * 7919);

			memcpy(data + len, line, (size_t)k);
			len += (size_t)k;
		}
		p = write_file("e.gz", data, len, true);
		f = fopen(p, "rb");
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, 0, SEEK_SET);
		raw = malloc((size_t)size);
		ck_assert_uint_eq(fread(raw, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		p = write_file("f.gz", raw, (size_t)size / 2, false);
		ck_assert_int_eq(read_all(p, &got, &nl, &longs), -1);
		ck_assert_uint_gt(nl, 0);
		ck_assert_uint_lt(nl, 20000);
		free(got);
		free(raw);
		free(data);
	}
}
END_TEST

/* ---- statistics in bounded memory ------------------------------------------ */

START_TEST(stats_peers_bounded)
{
	struct stats *st = malloc(sizeof(*st));
	const struct stats_peer *top[3];
	struct maillog_reply r;
	char line[256];
	int i, k;
	size_t n;

	ck_assert_ptr_nonnull(st);
	stats_init(st, false);
	/* 5000 distinct peers once each, and three heavy ones */
	for (i = 0; i < 5000 + 3 * 200; i++) {
		int peer = i < 5000 ? i : 100000 + (i - 5000) % 3;

		snprintf(line, sizeof(line), "Dec  1 06:30:01 mx postfix/smtp[1]: "
			 "4Q1: host mx%d.example[192.0.2.1] said: 557 5.7.1 no "
			 "(in reply to RCPT TO command)", peer);
		ck_assert(maillog_parse_line(line, strlen(line), &r));
		stats_add(st, &r, 0);
	}
	ck_assert_uint_eq(st->npeers, STATS_PEERS_MAX);
	n = stats_top_peers(st, top, 3);
	ck_assert_uint_eq(n, 3);
	for (k = 0; k < 3; k++) {
		ck_assert_msg(strncmp(top[k]->name, "mx10000", 7) == 0,
			      "top %d: %s", k, top[k]->name);
		/* Space-Saving: the count is an upper bound within err */
		ck_assert_uint_ge(top[k]->bad, 200);
		ck_assert_uint_le(top[k]->bad - top[k]->err, 200);
	}
	ck_assert_uint_eq(st->nonstandard[557], 5600);
	ck_assert_uint_eq(st->nex[SR_D_CODE_NONSTANDARD], 1);
	ck_assert_uint_eq(st->ex[SR_D_CODE_NONSTANDARD][0].count, 5600);
	free(st);
}
END_TEST

START_TEST(stats_without_code)
{
	struct stats *st = malloc(sizeof(*st));
	static const char line[] = "Dec  1 06:25:15 mx postfix/cleanup[813]: 4Q1: "
		"milter-reject: END-OF-MESSAGE from c[192.0.2.1]: 5.01.1 no; "
		"from=<a@b> to=<c@d> proto=ESMTP helo=<h>";
	struct maillog_reply r;

	stats_init(st, false);
	ck_assert(maillog_parse_line(line, strlen(line), &r));
	ck_assert(!r.has_code);
	stats_add(st, &r, 0);
	ck_assert_uint_eq(st->no_code, 1);
	ck_assert_uint_eq(st->diag[SR_D_ENHANCED_LEADING_ZERO], 1);
	/* nothing said about a code the log does not show */
	ck_assert_uint_eq(st->diag[SR_D_CODE_SYNTAX], 0);
	ck_assert_uint_eq(st->diag[SR_D_PHASE_UNEXPECTED_CODE], 0);
	/* the example and its suggestion carry no stand-in code */
	ck_assert_uint_eq(st->nex[SR_D_ENHANCED_LEADING_ZERO], 1);
	ck_assert(memcmp(st->ex[SR_D_ENHANCED_LEADING_ZERO][0].reply, "5.01.1 no", 9) == 0);
	ck_assert(memcmp(st->ex[SR_D_ENHANCED_LEADING_ZERO][0].suggestion, "5.0.0 no", 8) == 0 ||
		  memcmp(st->ex[SR_D_ENHANCED_LEADING_ZERO][0].suggestion, "5.1.1 no", 8) == 0 ||
		  memcmp(st->ex[SR_D_ENHANCED_LEADING_ZERO][0].suggestion, "5.1.0 no", 8) == 0);
	free(st);
}
END_TEST

START_TEST(seconds)
{
	ck_assert_int_eq(maillog_time_seconds(19700101000000ULL), 0);
	ck_assert_int_eq(maillog_time_seconds(20261201000000ULL), 1796083200);
	ck_assert_int_eq(maillog_time_seconds(20240229235959ULL), 1709251199);
	ck_assert_int_eq(maillog_time_seconds(0), 0);
}
END_TEST

/* The timeline: totals kept through widening, a year in weekly-ish bars,
 * times before the first one, fitting for display. */
START_TEST(timeline)
{
	struct stats_timeline *tl = calloc(1, sizeof(*tl));
	unsigned long long sum = 0;
	int64_t t0 = maillog_time_seconds(20260101000000ULL), t;
	uint32_t i;
	int k;

	ck_assert_ptr_nonnull(tl);
	for (t = t0; t < t0 + 365 * 86400; t += 3600)
		stats_timeline_add(tl, t, STATS_CLASS_5XX, 1);
	stats_timeline_add(tl, t0 - 40 * 86400, STATS_CLASS_4XX, 7);
	ck_assert_uint_le(tl->n, STATS_TL_BUCKETS);
	ck_assert_uint_ge(tl->step, 86400);
	for (i = 0; i < tl->n; i++)
		for (k = 0; k < STATS_CLASS__COUNT; k++)
			sum += tl->c[i][k];
	ck_assert_uint_eq(sum, 365 * 24 + 7);
	ck_assert_uint_eq(tl->c[0][STATS_CLASS_4XX], 7);
	ck_assert_int_le(tl->origin, t0 - 40 * 86400);
	stats_timeline_fit(tl, 60);
	ck_assert_uint_le(tl->n, 60);
	for (sum = 0, i = 0; i < tl->n; i++)
		sum += tl->c[i][STATS_CLASS_5XX];
	ck_assert_uint_eq(sum, 365 * 24);
	free(tl);
}
END_TEST

static void feed_line(struct stats *st, const char *line,
		      unsigned long long lineno)
{
	struct maillog_reply r;

	ck_assert_msg(maillog_parse_line(line, strlen(line), &r), "%s", line);
	stats_feed(st, &r, 0, lineno);
}

/* A Postfix reply filter: the reject it repeats taken back, the reply
 * sent counted with the reject's phase; a reject of another process and
 * one too far back stay. */
START_TEST(filter_takes_back)
{
	struct stats *st = malloc(sizeof(*st));

	ck_assert_ptr_nonnull(st);
	stats_init(st, false);
	feed_line(st, "Dec  7 09:00:02 mx postfix/smtpd[7]: NOQUEUE: reject: RCPT "
		  "from c[192.0.2.7]: 557 5.7.1 <o@x>: Recipient address rejected: "
		  "dup; from=<a@b> to=<o@x> proto=ESMTP helo=<c>", 1);
	feed_line(st, "Dec  7 09:00:02 mx postfix/smtpd[8]: NOQUEUE: reject: RCPT "
		  "from c[192.0.2.8]: 557 5.7.1 <o@x>: Recipient address rejected: "
		  "dup; from=<a@b> to=<o@x> proto=ESMTP helo=<c>", 2);
	ck_assert_uint_eq(st->nonstandard[557], 2);
	feed_line(st, "Dec  7 09:00:02 mx postfix/smtpd[7]: NOQUEUE: reply filter "
		  "in: 557 5.7.1 <o@x>: Recipient address rejected: dup", 3);
	ck_assert_uint_eq(st->replies, 1);
	ck_assert_uint_eq(st->nonstandard[557], 1);
	ck_assert_uint_eq(st->ex[SR_D_CODE_NONSTANDARD][0].count, 1);
	feed_line(st, "Dec  7 09:00:02 mx postfix/smtpd[7]: NOQUEUE: reply filter "
		  "out: 550 5.7.1 <o@x>: Recipient address rejected: dup", 4);
	ck_assert_uint_eq(st->replies, 2);
	ck_assert_uint_eq(st->by_code[550], 1);
	ck_assert_uint_eq(st->by_code[557], 1);
	ck_assert_uint_eq(st->by_phase[MAILLOG_PHASE_RCPT], 2);
	ck_assert_uint_eq(st->filter_changed, 1);
	/* too far back: the reject stays, the "out" is counted, no phase */
	feed_line(st, "Dec  7 09:00:03 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT "
		  "from c[192.0.2.9]: 572 nope; proto=ESMTP", 10);
	feed_line(st, "Dec  7 09:00:09 mx postfix/smtpd[9]: NOQUEUE: reply filter "
		  "in: 572 nope", 10 + STATS_TAKEBACK_LINES + 1);
	feed_line(st, "Dec  7 09:00:09 mx postfix/smtpd[9]: NOQUEUE: reply filter "
		  "out: 550 5.7.1 nope", 10 + STATS_TAKEBACK_LINES + 2);
	ck_assert_uint_eq(st->replies, 4);
	ck_assert_uint_eq(st->by_phase[MAILLOG_PHASE_NONE], 1);
	ck_assert_uint_eq(st->filter_changed, 2);
	free(st);
}
END_TEST

/* Merging full Space-Saving tables: every peer within its bound. */
START_TEST(merge_peers_bounded)
{
	struct stats *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	static unsigned truth[3000];
	struct maillog_reply r;
	char line[256];
	size_t i;
	int k;

	ck_assert(a != NULL && b != NULL);
	stats_init(a, false);
	stats_init(b, false);
	memset(truth, 0, sizeof(truth));
	for (k = 0; k < 12000; k++) {
		int peer = k % 4 == 0 ? k % 5 : (k * 7919) % 3000;

		truth[peer]++;
		snprintf(line, sizeof(line), "Dec  1 06:30:01 mx postfix/smtp[1]: "
			 "4Q1: host mx%d.example[192.0.2.1] said: 557 5.7.1 no "
			 "(in reply to RCPT TO command)", peer);
		ck_assert(maillog_parse_line(line, strlen(line), &r));
		stats_add(k < 6000 ? a : b, &r, 0);
	}
	stats_merge(a, b);
	ck_assert_uint_eq(a->npeers, STATS_PEERS_MAX);
	ck_assert_uint_eq(a->replies, 12000);
	for (i = 0; i < a->npeers; i++) {
		int peer = atoi(a->peers[i].name + 2);

		ck_assert_uint_ge(a->peers[i].bad, truth[peer]);
		ck_assert_uint_le(a->peers[i].bad - a->peers[i].err, truth[peer]);
	}
	for (k = 0; k < 5; k++) {	/* the heavy ones are there */
		char name[64];

		snprintf(name, sizeof(name), "mx%d.example[192.0.2.1]", k);
		for (i = 0; i < a->npeers; i++)
			if (strcmp(a->peers[i].name, name) == 0)
				break;
		ck_assert_msg(i < a->npeers, "%s lost", name);
	}
	free(a);
	free(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("logline");
	TCase *tc = tcase_create("corpus");

	tcase_add_loop_test(tc, corpus_line, 0, (int)ncases);
	tcase_add_loop_test(tc, corpus_prefixes, 0, (int)ncases);
	suite_add_tcase(s, tc);
	tc = tcase_create("pieces");
	tcase_add_loop_test(tc, reply_wire, 0, (int)NROWS(wire_rows));
	tcase_add_loop_test(tc, time_key, 0, (int)NROWS(time_rows));
	tcase_add_loop_test(tc, time_arg, 0, (int)NROWS(arg_rows));
	suite_add_tcase(s, tc);
	tc = tcase_create("reading");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, read_plain_and_gzip);
	tcase_add_test(tc, read_edges);
	suite_add_tcase(s, tc);
	tc = tcase_create("stats");
	tcase_add_test(tc, stats_peers_bounded);
	tcase_add_test(tc, stats_without_code);
	tcase_add_test(tc, seconds);
	tcase_add_test(tc, timeline);
	tcase_add_test(tc, filter_takes_back);
	tcase_add_test(tc, merge_peers_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	load_corpus();
	return tu_run(suite());
}
