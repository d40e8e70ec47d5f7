/*
 * SPDX-License-Identifier: ISC
 * cmd_audit.c - "smtpreply audit": the replies a mail log records, checked.
 *
 * One pass over each file (plain or gzip, told by content), line by line
 * in fixed buffers: maillog.c finds the reply a line records, the engine
 * checks it for its phase, stats.c counts it in bounded memory. The
 * report is a set of aligned tables for people, one JSON object with
 * --json, Prometheus metrics with --format prometheus, and with --html a
 * page for a browser; --output writes the report to a file atomically;
 * --merge combines JSON reports made elsewhere. On a terminal, a long
 * read shows its progress on standard error. Log bytes are data: escaped
 * on output, never a format string.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <smtpreply/smtpreply.h>

#include "report.h"
#include "stats.h"
#include "cmd_audit.h"
#include "json.h"
#include "maillog.h"
#include "logread.h"
#include "show.h"

#define AUDIT_CLEAN	0
#define AUDIT_FOUND	1
#define AUDIT_TROUBLE	2

#define TOP_DEFAULT	5
#define TOP_MAX		100

enum fail_on { FAIL_ON_ERROR, FAIL_ON_WARNING, FAIL_ON_NEVER };
enum audit_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_PROMETHEUS };
enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

#define file_result report_file

/* The progress line on a terminal. */
struct progress {
	bool on;		/* standard error is a terminal, not disabled */
	bool shown;		/* a line is on the screen */
	bool eager;		/* --progress: from the start */
	struct timespec start, last;
	unsigned long long size;	/* of the file, 0: unknown (a pipe) */
	unsigned long long lines0;	/* lines before this file */
};

struct audit_run {
	enum audit_format format;
	const char *output;	/* --output FILE, or NULL: standard output */
	const char *html;	/* --html FILE */
	bool merge;		/* the FILEs are JSON reports */
	size_t nmerged;		/* ... merged */
	bool success;		/* count 2xx success replies */
	struct progress prog;
	bool utf8;
	int direction;		/* -1 any, else enum maillog_direction */
	uint64_t since, until;	/* 0: no bound */
	int year;		/* for classic syslog stamps */
	bool guess_year;	/* no --year: a stamp after now is last year's */
	uint64_t now;		/* this moment as a time key */
	size_t top;
	enum fail_on fail_on;
	struct stats *st;
	char last_stamp[40];	/* the time of the last stamp, cached */
	size_t last_stamp_len;
	uint64_t last_key;
	int64_t last_secs;
	uint64_t day_key;	/* YYYYMMDD of day_secs */
	int64_t day_secs;
	unsigned long long filtered;	/* reply lines left out by filters */
	unsigned long long undated;	/* ... of them: no timestamp to judge */
	struct file_result *files;
	size_t nfiles;
	bool trouble;
};

/* ---- progress on a terminal -------------------------------------------- */

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void human_bytes(char *buf, size_t size, unsigned long long n)
{
	if (n >= 1000000000ULL)
		snprintf(buf, size, "%.1f GB", (double)n / 1e9);
	else
		snprintf(buf, size, "%.1f MB", (double)n / 1e6);
}

/*
 * Called every 64 Ki lines: at most 4 times a second, and (without
 * --progress) only once the read has lasted a second, one line on
 * standard error, rewritten in place: bytes read, lines/s, and for a file
 * of known size the share done and the time left.
 */
static void progress_tick(struct audit_run *run, const char *name,
			  unsigned long long bytes, unsigned long long lines)
{
	struct progress *pg = &run->prog;
	struct timespec now;
	double secs, rate;
	char done[32], total[32];

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = elapsed(&pg->start, &now);
	if ((!pg->eager && secs < 1.0) || (pg->shown &&
	    elapsed(&pg->last, &now) < 0.25))
		return;
	pg->last = now;
	rate = secs > 0 ? (double)lines / secs : 0;
	human_bytes(done, sizeof(done), bytes);
	fputs("\r\033[K", stderr);
	fputs("smtpreply audit: ", stderr);
	put_printable(stderr, name, strlen(name), 0);
	fprintf(stderr, ": %s", done);
	if (pg->size > 0 && bytes <= pg->size) {
		double share = (double)bytes / (double)pg->size;
		double left = share > 0 ? secs / share - secs : 0;

		human_bytes(total, sizeof(total), pg->size);
		fprintf(stderr, " of %s (%.0f%%)", total, 100 * share);
		fprintf(stderr, ", %.2fM lines/s, ETA %d:%02d", rate / 1e6,
		    (int)left / 60, (int)left % 60);
	} else
		fprintf(stderr, ", %.2fM lines/s", rate / 1e6);
	fflush(stderr);
	pg->shown = true;
}

/* Take the progress line away. */
static void progress_clear(struct audit_run *run)
{
	if (run->prog.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		run->prog.shown = false;
	}
}

static const char audit_synopsis[] =
    "usage: smtpreply audit [--json | --format text|json|prometheus] "
    "[--output FILE]\n"
    "                       [--html FILE] [--direction local|remote] "
    "[--since T] [--until T]\n"
    "                       [--top N] [--fail-on error|warning|never] "
    "[--utf8] [--year Y]\n"
    "                       [--success] [--progress | --no-progress] "
    "[FILE ...]\n"
    "       smtpreply audit --merge [OPTIONS] REPORT.json ...\n";

static void audit_usage(FILE *fp)
{
	fputs(audit_synopsis, fp);
	fputs("\n"
	    "Read Postfix, sendmail and Exim logs (plain or gzip-compressed; standard\n"
	    "input when there is no FILE, or for '-'), check every SMTP reply they\n"
	    "record against RFC 5321/3463 and report: replies by direction (local:\n"
	    "this server's replies; remote: the replies of the servers it delivers to),\n"
	    "phase and code, non-standard codes, diagnostics with examples and the\n"
	    "normalized reply, and the peers that send the most non-conforming\n"
	    "replies.\n"
	    "\n"
	    "  -j, --json           one JSON object instead of tables\n"
	    "  -F, --format F       text (default), json, or prometheus (the\n"
	    "                       counts as metrics for node_exporter's textfile\n"
	    "                       collector)\n"
	    "  -o, --output FILE    write the report to FILE, atomically (a\n"
	    "                       temporary file renamed over it)\n"
	    "  -H, --html FILE      also write a self-contained HTML page (charts)\n"
	    "  -m, --merge          the FILEs are JSON reports of this command\n"
	    "                       (made on other servers): report them as one\n"
	    "  -s, --success        also count 2xx success replies (status=sent,\n"
	    "                       Exim C=\"250 ...\", proxy-accept)\n"
	    "  -P, --progress       show progress on a terminal from the start\n"
	    "                       (default: when a read lasts over a second)\n"
	    "  -N, --no-progress    never show progress\n"
	    "  -d, --direction D    only local or only remote replies\n"
	    "  -S, --since T        only lines from T on (YYYY-MM-DD[ hh:mm[:ss]])\n"
	    "  -U, --until T        only lines up to T (a date alone: to its end)\n"
	    "  -t, --top N          examples per diagnostic (at most 10) and peers\n"
	    "                       to show (default 5)\n"
	    "  -f, --fail-on L      exit 1 when a reply has an error (default),\n"
	    "                       a warning or error ('warning'), or never\n"
	    "  -u, --utf8           the server allows UTF-8 text (SMTPUTF8)\n"
	    "  -y, --year Y         the year of classic syslog timestamps, which\n"
	    "                       carry none (default: this year)\n"
	    "  -h, --help           print this help and exit\n"
	    "\n"
	    "Exit status: 0 nothing found (per --fail-on), 1 found, 2 bad usage or a\n"
	    "file that could not be read.\n", fp);
}

static int usage_error(void)
{
	fputs(audit_synopsis, stderr);
	fputs("Try 'smtpreply audit --help' for more information.\n", stderr);
	return AUDIT_TROUBLE;
}

/* ---- reading -------------------------------------------------------------- */

/*
 * Two stamps of LEN bytes that differ only in a final "hh:mm:ss": true,
 * with *HMS the time of A as hhmmss.
 */
static bool same_day(const char *a, const char *b, size_t len, uint64_t *hms)
{
	const char *t = a + len - 8;
	int h, m, s;

	if (t[2] != ':' || t[5] != ':' || memcmp(a, b, len - 8) != 0)
		return false;
	if (!(t[0] >= '0' && t[0] <= '2' && t[1] >= '0' && t[1] <= '9' &&
	    t[3] >= '0' && t[3] <= '5' && t[4] >= '0' && t[4] <= '9' &&
	    t[6] >= '0' && t[6] <= '6' && t[7] >= '0' && t[7] <= '9'))
		return false;
	h = (t[0] - '0') * 10 + (t[1] - '0');
	m = (t[3] - '0') * 10 + (t[4] - '0');
	s = (t[6] - '0') * 10 + (t[7] - '0');
	if (h > 23 || s > 60)
		return false;
	*hms = (uint64_t)(h * 10000 + m * 100 + s);
	return true;
}

/* Whether R passes the filters; *T its time key (0: none). */
static bool keep(struct audit_run *run, const struct maillog_reply *r,
		 uint64_t *tp)
{
	uint64_t t;

	/* lines of the same second share their stamp: the last one cached;
	 * of the same day, the date ("Dec  1 " ... "hh:mm:ss" at the end) */
	if (r->stamp_len == run->last_stamp_len && r->stamp_len > 0 &&
	    memcmp(r->stamp, run->last_stamp, r->stamp_len) == 0)
		t = run->last_key;
	else if (r->stamp_len == run->last_stamp_len && r->stamp_len >= 15 &&
	    run->last_key != 0 && same_day(r->stamp, run->last_stamp,
	    r->stamp_len, &t)) {
		t += run->last_key / 1000000 * 1000000;
		memcpy(run->last_stamp, r->stamp, r->stamp_len);
		run->last_key = t;
		run->last_secs = run->day_secs + (int64_t)(t / 10000 % 100) *
		    3600 + (int64_t)(t / 100 % 100) * 60 + (int64_t)(t % 100);
	} else {
		t = maillog_time_key(r->stamp, r->stamp_len, run->year);
		/* A classic stamp (no year) later than now is from last
		 * year: a log of December read in January. */
		if (run->guess_year && t > run->now + 1000000ULL &&
		    r->stamp_len > 0 && !(r->stamp[0] >= '0' &&
		    r->stamp[0] <= '9'))
			t = maillog_time_key(r->stamp, r->stamp_len, run->year - 1);
		if (r->stamp_len <= sizeof(run->last_stamp)) {
			memcpy(run->last_stamp, r->stamp, r->stamp_len);
			run->last_stamp_len = r->stamp_len;
			run->last_key = t;
			/* the day's seconds cached too: most stamps share it */
			if (t / 1000000 != run->day_key) {
				run->day_key = t / 1000000;
				run->day_secs = maillog_time_seconds(run->day_key *
				    1000000);
			}
			run->last_secs = t == 0 ? 0 : run->day_secs +
			    (int64_t)(t / 10000 % 100) * 3600 +
			    (int64_t)(t / 100 % 100) * 60 + (int64_t)(t % 100);
		} else
			run->last_stamp_len = 0;
	}
	*tp = t;
	if (run->direction >= 0 && (int)r->dir != run->direction)
		return false;
	if (run->since == 0 && run->until == 0)
		return true;
	if (t == 0) {
		run->undated++;
		return false;
	}
	return (run->since == 0 || t >= run->since) &&
	    (run->until == 0 || t <= run->until);
}

static void audit_fd(struct audit_run *run, int fd, struct file_result *fr)
{
	struct logread *lr = logread_open(fd, fr->name);
	unsigned flags = run->success ? MAILLOG_WANT_SUCCESS : 0;
	struct maillog_reply r;
	const char *line;
	size_t len;
	uint64_t t;
	int rc;

	if (lr == NULL) {
		fr->error = "out of memory";
		return;
	}
	while ((rc = logread_next(lr, &line, &len)) > 0) {
		fr->lines++;
		if ((fr->lines & 0xffff) == 0 && run->prog.on)
			progress_tick(run, fr->name, logread_bytes(lr), fr->lines +
			    run->prog.lines0);
		if (!maillog_parse_line_with(line, len, flags, &r))
			continue;
		/* a filter's "in" repeats a reply already counted */
		if (r.filter != MAILLOG_FILTER_IN)
			run->st->recognized++;
		if (!keep(run, &r, &t)) {
			if (r.filter != MAILLOG_FILTER_IN)
				run->filtered++;
			continue;
		}
		stats_feed(run->st, &r, t == run->last_key ?
		    run->last_secs : maillog_time_seconds(t), fr->lines);
	}
	stats_flush(run->st);
	run->prog.lines0 += fr->lines;
	if (rc < 0) {
		snprintf(fr->errbuf, sizeof(fr->errbuf), "%s", logread_error(lr));
		fr->error = fr->errbuf;
	}
	fr->gzip = logread_gzip(lr);
	run->st->lines += fr->lines;
	run->st->long_lines += logread_long_lines(lr);
	logread_close(lr);
}

static void audit_file(struct audit_run *run, struct file_result *fr)
{
	int fd;

	if (strcmp(fr->name, "-") == 0) {
		fr->name = "(standard input)";
		run->prog.size = 0;
		audit_fd(run, STDIN_FILENO, fr);
	} else if ((fd = open(fr->name, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(fr->errbuf, sizeof(fr->errbuf), "%s", strerror(errno));
		fr->error = fr->errbuf;
	} else {
		struct stat sb;

		run->prog.size = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ?
		    (unsigned long long)sb.st_size : 0;
		audit_fd(run, fd, fr);
		close(fd);
	}
	progress_clear(run);
	if (fr->error != NULL) {
		fprintf(stderr, "smtpreply audit: %s: %s\n", fr->name, fr->error);
		run->trouble = true;
	}
}

/* ---- the text report ------------------------------------------------------ */

static void rule(FILE *fp, const char *title, const char *right)
{
	fprintf(fp, "\n%-40s %12s\n", title, right);
}

static void row(FILE *fp, const char *label, unsigned long long n,
		const char *note)
{
	fprintf(fp, "  %-38s %12llu%s%s\n", label, n, note != NULL ? "  " : "",
	    note != NULL ? note : "");
}

static double share(unsigned long long part, unsigned long long whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void text_examples(FILE *fp, const struct audit_run *run,
			  enum sr_diag_id id)
{
	const struct stats *st = run->st;
	size_t i, n = st->nex[id] < run->top ? st->nex[id] : run->top;

	for (i = 0; i < n; i++) {
		const struct stats_example *e = &st->ex[id][i];
		unsigned how = run->utf8 ? SHOW_UTF8 : 0;

		fputs("      ", fp);
		put_printable(fp, e->reply, e->len, how);
		fprintf(fp, "\n        (%s, %s%s", maillog_direction_name(e->dir),
		    maillog_phase_name(e->phase), e->peer[0] ? ", from " : "");
		put_printable(fp, e->peer, strlen(e->peer), 0);	/* from a log */
		fprintf(fp, ", %llu time%s)", e->count, e->count == 1 ? "" : "s");
		fputc('\n', fp);
		if (e->sugg_len == 0)
			fputs("        -> no normalized form (the engine does not "
			    "guess)\n", fp);
		else if (e->sugg_len != e->len ||
		    memcmp(e->suggestion, e->reply, e->len) != 0) {
			fputs("        -> ", fp);
			put_printable(fp, e->suggestion, e->sugg_len, how);
			fputc('\n', fp);
		}
	}
}

static void text_report(FILE *fp, const struct audit_run *run)
{
	const struct stats *st = run->st;
	const struct stats_peer *top[TOP_MAX];
	char label[64];
	size_t i, n;
	int c, p, d;

	fprintf(fp, "smtpreply audit: %llu lines read", st->lines);
	if (run->nfiles > 1)
		fprintf(fp, " from %zu files", run->nfiles);
	fprintf(fp, ", %llu reply lines recognized, %llu replies audited",
	    st->recognized, st->replies);
	if (run->filtered > 0)
		fprintf(fp, " (%llu left out by --direction/--since/--until%s)",
		    run->filtered, run->undated > 0 ? ", some without a timestamp" : "");
	fputs("\n", fp);
	fprintf(fp, "%llu repl%s (%.1f%%) with an error, %llu more (%.1f%%) with a "
	    "warning\n", st->with_error, st->with_error == 1 ? "y" : "ies",
	    share(st->with_error, st->replies), st->with_warning,
	    share(st->with_warning, st->replies));
	if (st->long_lines > 0)
		fprintf(fp, "%llu line%s over %d bytes cut\n", st->long_lines,
		    st->long_lines == 1 ? "" : "s", LOGREAD_LINE_MAX);
	if (run->success)
		fprintf(fp, "%llu 2xx success repl%s counted (--success)\n",
		    st->success, st->success == 1 ? "y" : "ies");
	if (st->filter_changed > 0)
		fprintf(fp, "%llu repl%s changed by a Postfix reply filter (the "
		    "reply sent is counted)\n", st->filter_changed,
		    st->filter_changed == 1 ? "y" : "ies");

	rule(fp, "Replies by direction", "count");
	for (d = 0; d < MAILLOG_DIR__COUNT; d++)
		row(fp, maillog_direction_name((enum maillog_direction)d), st->by_dir[d],
		    d == MAILLOG_DIR_LOCAL ? "this server's replies" :
		    "replies of the servers it delivers to");

	rule(fp, "Replies by phase", "count");
	for (p = 1; p < MAILLOG_PHASE__COUNT; p++)
		if (st->by_phase[p] > 0)
			row(fp, maillog_phase_name((enum maillog_phase)p), st->by_phase[p],
			    NULL);
	if (st->by_phase[MAILLOG_PHASE_NONE] > 0)
		row(fp, "(not in the log)", st->by_phase[MAILLOG_PHASE_NONE], NULL);

	rule(fp, "Replies by basic code", "count");
	for (c = 0; c < 1000; c++) {
		const struct sr_basic_info *b;

		if (st->by_code[c] == 0)
			continue;
		b = sr_registry_basic((unsigned)c);
		snprintf(label, sizeof(label), "%03d", c);
		row(fp, label, st->by_code[c], b != NULL ? b->meaning : NULL);
	}
	if (st->no_code > 0)
		row(fp, "(no basic code in the log)", st->no_code,
		    "enhanced code and text only");

	rule(fp, "Non-standard basic codes", "count");
	for (c = 0, n = 0; c < 1000; c++) {
		const struct sr_basic_info *b;

		if (st->nonstandard[c] == 0)
			continue;
		b = sr_registry_basic((unsigned)c);
		snprintf(label, sizeof(label), "%03d", c);
		row(fp, label, st->nonstandard[c], b != NULL ? b->meaning :
		    "no known meaning");
		n++;
	}
	if (n == 0)
		fputs("  (none)\n", fp);

	if (st->malformed > 0) {
		rule(fp, "Malformed codes (no valid reply code)", "replies");
		for (i = 0; i < st->nmal && i < run->top; i++) {
			const struct stats_malformed *m = &st->mal[i];

			fputs("  ", fp);
			put_printable(fp, m->reply, m->len, run->utf8 ? SHOW_UTF8 : 0);
			fprintf(fp, "\n    (%s, %s%s", maillog_direction_name(m->dir),
			    maillog_phase_name(m->phase), m->peer[0] ? ", from " : "");
			put_printable(fp, m->peer, strlen(m->peer), 0);
			fprintf(fp, ", %llu time%s) line: ", m->count,
			    m->count == 1 ? "" : "s");
			put_printable(fp, m->line, m->line_len, run->utf8 ?
			    SHOW_UTF8 : 0);
			fputc('\n', fp);
		}
		fprintf(fp, "  %-38s %12llu\n", "in all", st->malformed);
	}

	rule(fp, "Diagnostics", "replies");
	for (d = 0, n = 0; d < SR_D__COUNT; d++) {
		enum sr_diag_id id = (enum sr_diag_id)d;

		if (st->diag[d] == 0)
			continue;
		snprintf(label, sizeof(label), "%-30s %s", sr_diag_name(id),
		    sr_severity_name(sr_diag_severity(id)));
		row(fp, label, st->diag[d], NULL);
		text_examples(fp, run, id);
		n++;
	}
	if (n == 0)
		fputs("  (none)\n", fp);

	rule(fp, "Peers with the most non-conforming replies", "replies");
	n = stats_top_peers(st, top, run->top);
	for (i = 0; i < n; i++) {
		/* A peer's name comes from a log: escaped like a reply. */
		char *shown = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&shown, &len);

		if (m != NULL) {
			put_printable(m, top[i]->name, strlen(top[i]->name), 0);
			fclose(m);
		}
		row(fp, shown != NULL ? shown : "?", top[i]->bad,
		    top[i]->err > 0 ? "(at most)" : NULL);
		free(shown);
	}
	if (n == 0)
		fputs(run->top == 0 && st->npeers > 0 ? "  (not shown: --top 0)\n" :
		    "  (none)\n", fp);
	if (st->check_failed > 0)
		fprintf(fp, "\n%llu replies could not be checked (out of memory)\n",
		    st->check_failed);
}

/* ---- the JSON report -------------------------------------------------------- */

static void json_count(struct json_writer *w, const char *key,
		       unsigned long long v)
{
	json_key(w, key);
	json_uint(w, v);
}

/*
 * What came with issue 14, after the older keys: success replies,
 * malformed codes with their lines, the filter's changes, the label
 * series, the timeline, and every tracked peer with its error bound
 * (what --merge reads back).
 */
static void json_extra(struct json_writer *w, const struct audit_run *run)
{
	const struct stats *st = run->st;
	char code[8];
	size_t i, k;

	json_key(w, "report");
	json_cstring(w, "smtpreply-audit");
	json_count(w, "report_version", 1);
	json_key(w, "success_counted");
	json_bool(w, run->success);
	json_count(w, "success", st->success);
	json_count(w, "malformed", st->malformed);
	json_count(w, "filter_changed", st->filter_changed);
	json_count(w, "undated_replies", st->undated);
	json_key(w, "malformed_codes");
	json_begin_array(w);
	for (i = 0; i < st->nmal; i++) {
		const struct stats_malformed *m = &st->mal[i];

		json_begin_object(w);
		json_key(w, "reply");
		json_string(w, m->reply, m->len);
		json_key(w, "line");
		json_string(w, m->line, m->line_len);
		json_key(w, "direction");
		json_cstring(w, maillog_direction_name(m->dir));
		json_key(w, "phase");
		json_cstring(w, m->phase == MAILLOG_PHASE_NONE ? NULL :
		    maillog_phase_name(m->phase));
		json_key(w, "peer");
		json_cstring(w, m->peer[0] ? m->peer : NULL);
		json_count(w, "count", m->count);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "replies_by_label");
	json_begin_array(w);
	for (i = 0; i < st->nseries; i++) {
		const struct stats_series *se = &st->series[i];

		if (se->count == 0)	/* all taken back by a reply filter */
			continue;
		json_begin_object(w);
		json_key(w, "direction");
		json_cstring(w, maillog_direction_name((enum maillog_direction)se->dir));
		json_key(w, "phase");
		json_cstring(w, se->phase == MAILLOG_PHASE_NONE ? "none" :
		    maillog_phase_name((enum maillog_phase)se->phase));
		json_key(w, "code");
		json_cstring(w, stats_code_label(se->code, code));
		json_key(w, "enhanced_code");
		json_cstring(w, se->enh);
		json_count(w, "count", se->count);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "timeline");
	json_begin_object(w);
	json_key(w, "origin");
	json_int(w, (long long)st->tl.origin);
	json_count(w, "step", st->tl.step);
	json_key(w, "classes");
	json_begin_array(w);
	for (k = 0; k < STATS_CLASS__COUNT; k++)
		json_cstring(w, stats_class_name((enum stats_class)k));
	json_end_array(w);
	json_key(w, "counts");
	json_begin_array(w);
	for (i = 0; i < st->tl.n; i++) {
		json_begin_array(w);
		for (k = 0; k < STATS_CLASS__COUNT; k++)
			json_uint(w, st->tl.c[i][k]);
		json_end_array(w);
	}
	json_end_array(w);
	json_end_object(w);
	json_key(w, "peer_table");
	json_begin_array(w);
	for (i = 0; i < st->npeers; i++) {
		json_begin_object(w);
		json_key(w, "peer");
		json_cstring(w, st->peers[i].name);
		json_count(w, "nonconforming", st->peers[i].bad);
		json_count(w, "overestimate", st->peers[i].err);
		json_end_object(w);
	}
	json_end_array(w);
}

static void json_report(FILE *fp, const struct audit_run *run)
{
	const struct stats *st = run->st;
	const struct stats_peer *top[TOP_MAX];
	struct json_writer w;
	char key[8];
	size_t i, n;
	int c, d;

	json_init(&w, fp);
	json_begin_object(&w);
	json_count(&w, "lines", st->lines);
	json_count(&w, "recognized", st->recognized);
	json_count(&w, "replies", st->replies);
	json_count(&w, "filtered", run->filtered);
	json_count(&w, "undated", run->undated);
	json_count(&w, "check_failed", st->check_failed);
	json_count(&w, "long_lines", st->long_lines);
	json_count(&w, "with_error", st->with_error);
	json_count(&w, "with_warning", st->with_warning);
	json_key(&w, "files");
	json_begin_array(&w);
	for (i = 0; i < run->nfiles; i++) {
		const struct file_result *fr = &run->files[i];

		json_begin_object(&w);
		json_key(&w, "name");
		json_cstring(&w, fr->name);
		json_count(&w, "lines", fr->lines);
		json_key(&w, "gzip");
		json_bool(&w, fr->gzip);
		json_key(&w, "error");
		json_cstring(&w, fr->error);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_key(&w, "by_direction");
	json_begin_object(&w);
	for (d = 0; d < MAILLOG_DIR__COUNT; d++)
		json_count(&w, maillog_direction_name((enum maillog_direction)d),
		    st->by_dir[d]);
	json_end_object(&w);
	json_key(&w, "by_phase");
	json_begin_object(&w);
	for (d = 1; d < MAILLOG_PHASE__COUNT; d++)
		json_count(&w, maillog_phase_name((enum maillog_phase)d), st->by_phase[d]);
	json_count(&w, "none", st->by_phase[MAILLOG_PHASE_NONE]);
	json_end_object(&w);
	json_key(&w, "by_code");
	json_begin_object(&w);
	for (c = 0; c < 1000; c++) {
		if (st->by_code[c] == 0)
			continue;
		snprintf(key, sizeof(key), "%03d", c);
		json_count(&w, key, st->by_code[c]);
	}
	json_end_object(&w);
	json_count(&w, "no_code", st->no_code);
	json_key(&w, "nonstandard");
	json_begin_object(&w);
	for (c = 0; c < 1000; c++) {
		if (st->nonstandard[c] == 0)
			continue;
		snprintf(key, sizeof(key), "%03d", c);
		json_count(&w, key, st->nonstandard[c]);
	}
	json_end_object(&w);
	json_key(&w, "meanings");
	json_begin_object(&w);
	for (c = 0; c < 1000; c++) {
		const struct sr_basic_info *b;

		if (st->nonstandard[c] == 0 || (b = sr_registry_basic((unsigned)c)) == NULL)
			continue;
		snprintf(key, sizeof(key), "%03d", c);
		json_key(&w, key);
		json_cstring(&w, b->meaning);
	}
	json_end_object(&w);
	json_key(&w, "diagnostics");
	json_begin_object(&w);
	for (d = 0; d < SR_D__COUNT; d++)
		if (st->diag[d] > 0)
			json_count(&w, sr_diag_name((enum sr_diag_id)d), st->diag[d]);
	json_end_object(&w);
	json_key(&w, "severities");
	json_begin_object(&w);
	for (d = 0; d < SR_D__COUNT; d++) {
		if (st->diag[d] == 0)
			continue;
		json_key(&w, sr_diag_name((enum sr_diag_id)d));
		json_cstring(&w, sr_severity_name(sr_diag_severity((enum sr_diag_id)d)));
	}
	json_end_object(&w);
	json_key(&w, "examples");
	json_begin_object(&w);
	for (d = 0; d < SR_D__COUNT; d++) {
		if (st->nex[d] == 0)
			continue;
		json_key(&w, sr_diag_name((enum sr_diag_id)d));
		json_begin_array(&w);
		/* all kept: --merge needs them */
		n = st->nex[d];
		for (i = 0; i < n; i++) {
			const struct stats_example *e = &st->ex[d][i];

			json_begin_object(&w);
			json_key(&w, "reply");
			json_string(&w, e->reply, e->len);
			json_key(&w, "normalized");
			if (e->sugg_len > 0)
				json_string(&w, e->suggestion, e->sugg_len);
			else
				json_null(&w);
			json_key(&w, "direction");
			json_cstring(&w, maillog_direction_name(e->dir));
			json_key(&w, "phase");
			json_cstring(&w, e->phase == MAILLOG_PHASE_NONE ? NULL :
			    maillog_phase_name(e->phase));
			json_key(&w, "peer");
			json_cstring(&w, e->peer[0] ? e->peer : NULL);
			json_count(&w, "count", e->count);
			json_key(&w, "has_code");
			json_bool(&w, e->has_code);
			json_end_object(&w);
		}
		json_end_array(&w);
	}
	json_end_object(&w);
	json_key(&w, "peers");
	json_begin_array(&w);
	n = stats_top_peers(st, top, run->top);
	for (i = 0; i < n; i++) {
		json_begin_object(&w);
		json_key(&w, "peer");
		json_cstring(&w, top[i]->name);
		json_count(&w, "nonconforming", top[i]->bad);
		json_count(&w, "overestimate", top[i]->err);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_extra(&w, run);
	json_end_object(&w);
	fputc('\n', fp);
}

/* ---- other formats, files, merging --------------------------------------------- */

#define MERGE_FILES_MAX 4096

static void report_of(const struct audit_run *run, struct report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->st = run->st;
	rep->files = run->files;
	rep->nfiles = run->nfiles;
	rep->filtered = run->filtered;
	rep->undated = run->undated;
	rep->top = run->top;
	rep->utf8 = run->utf8;
	rep->success = run->success;
	rep->merged = run->nmerged;
}

static void write_format(FILE *fp, const struct audit_run *run,
			 enum audit_format format)
{
	struct report rep;

	switch (format) {
	case FORMAT_JSON:
		json_report(fp, run);
		break;
	case FORMAT_PROMETHEUS:
		report_of(run, &rep);
		report_prom_write(fp, &rep);
		break;
	default:
		text_report(fp, run);
		break;
	}
}

static void write_html(FILE *fp, const struct audit_run *run,
		       enum audit_format format)
{
	struct report rep;

	(void)format;
	report_of(run, &rep);
	report_html_write(fp, &rep);
}

/*
 * Write PATH atomically: into a temporary file in the same directory,
 * then renamed over PATH (node_exporter's textfile collector must never
 * read half a file). False, with a message, on failure.
 */
static bool write_atomic(const char *path, const struct audit_run *run,
			 enum audit_format format,
			 void (*fn)(FILE *, const struct audit_run *,
				    enum audit_format))
{
	char *tmp;
	size_t n = strlen(path);
	int fd;
	FILE *fp;
	bool ok;

	tmp = malloc(n + 16);
	if (tmp == NULL)
		return false;
	snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "smtpreply audit: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return false;
	}
	(void)fchmod(fd, 0644);
	fn(fp, run, format);
	ok = fflush(fp) == 0 && !ferror(fp) && fsync(fd) == 0;
	ok = fclose(fp) == 0 && ok;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "smtpreply audit: %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

static void write_main(FILE *fp, const struct audit_run *run,
		       enum audit_format format)
{
	write_format(fp, run, format);
}

static bool write_reports(struct audit_run *run)
{
	bool ok = true;

	if (run->html != NULL)
		ok = write_atomic(run->html, run, run->format, write_html);
	if (run->output != NULL)
		ok = write_atomic(run->output, run, run->format, write_main) && ok;
	else
		write_main(stdout, run, run->format);
	return ok;
}

static void merge_reports(struct audit_run *run, char **names, size_t n)
{
	struct stats *one = malloc(sizeof(*one));
	char err[300];
	size_t i, nfiles = 0;

	if (one == NULL) {
		fputs("smtpreply: out of memory\n", stderr);
		run->trouble = true;
		return;
	}
	for (i = 0; i < n; i++) {
		stats_init(one, run->utf8);
		if (report_merge_json(names[i], one, &run->filtered, &run->undated,
		    run->files, &nfiles, MERGE_FILES_MAX, &run->success, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "smtpreply audit: %s: ", names[i]);
			put_printable(stderr, err, strlen(err), 0);
			fputc('\n', stderr);
			run->trouble = true;
			continue;
		}
		stats_merge(run->st, one);
		run->nmerged++;
	}
	run->nfiles = nfiles;
	free(one);
}

/* ---- options ----------------------------------------------------------------- */

/* This year, and this moment as a time key. */
static int this_year(uint64_t *key)
{
	time_t now = time(NULL);
	struct tm tm;

	*key = 0;
	if (localtime_r(&now, &tm) == NULL)
		return 1970;
	*key = (((((uint64_t)(tm.tm_year + 1900) * 100 + (uint64_t)(tm.tm_mon + 1)) *
	    100 + (uint64_t)tm.tm_mday) * 100 + (uint64_t)tm.tm_hour) * 100 +
	    (uint64_t)tm.tm_min) * 100 + (uint64_t)tm.tm_sec;
	return tm.tm_year + 1900;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "direction", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "top", required_argument, NULL, 't' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ "utf8", no_argument, NULL, 'u' },
		{ "year", required_argument, NULL, 'y' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "html", required_argument, NULL, 'H' },
		{ "merge", no_argument, NULL, 'm' },
		{ "success", no_argument, NULL, 's' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_run run;
	char *stdin_name[] = { (char *)"-" };
	char **names, *end;
	enum progress_mode progress = PROGRESS_AUTO;
	long v;
	size_t i;
	int ch, status;

	memset(&run, 0, sizeof(run));
	run.direction = -1;
	run.top = TOP_DEFAULT;
	run.year = this_year(&run.now);
	run.guess_year = true;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":jd:S:U:t:f:uy:F:o:H:msPNh",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			run.format = FORMAT_JSON;
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0)
				run.format = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				run.format = FORMAT_JSON;
			else if (strcmp(optarg, "prometheus") == 0)
				run.format = FORMAT_PROMETHEUS;
			else {
				fprintf(stderr, "smtpreply audit: --format: 'text', "
				    "'json' or 'prometheus', not '%s'\n", optarg);
				return usage_error();
			}
			break;
		case 'o':
			run.output = optarg;
			break;
		case 'H':
			run.html = optarg;
			break;
		case 'm':
			run.merge = true;
			break;
		case 's':
			run.success = true;
			break;
		case 'P':
			progress = PROGRESS_ALWAYS;
			break;
		case 'N':
			progress = PROGRESS_NEVER;
			break;
		case 'd':
			if (strcasecmp(optarg, "local") == 0)
				run.direction = MAILLOG_DIR_LOCAL;
			else if (strcasecmp(optarg, "remote") == 0)
				run.direction = MAILLOG_DIR_REMOTE;
			else {
				fprintf(stderr, "smtpreply audit: --direction: "
				    "'local' or 'remote', not '%s'\n", optarg);
				return usage_error();
			}
			break;
		case 'S':
		case 'U':
			if (maillog_time_arg(optarg, ch == 'U') == 0) {
				fprintf(stderr, "smtpreply audit: %s: a time such "
				    "as 2026-12-01, 2026-12-01 19:57 or "
				    "2026-12-01T19:57:01, not '%s'\n", ch == 'S' ?
				    "--since" : "--until", optarg);
				return usage_error();
			}
			if (ch == 'S')
				run.since = maillog_time_arg(optarg, false);
			else
				run.until = maillog_time_arg(optarg, true);
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 0 || v > TOP_MAX) {
				fprintf(stderr, "smtpreply audit: --top: a number "
				    "from 0 to %d, not '%s'\n", TOP_MAX, optarg);
				return usage_error();
			}
			run.top = (size_t)v;
			break;
		case 'f':
			if (strcmp(optarg, "error") == 0)
				run.fail_on = FAIL_ON_ERROR;
			else if (strcmp(optarg, "warning") == 0)
				run.fail_on = FAIL_ON_WARNING;
			else if (strcmp(optarg, "never") == 0)
				run.fail_on = FAIL_ON_NEVER;
			else {
				fprintf(stderr, "smtpreply audit: --fail-on: "
				    "'error', 'warning' or 'never', not '%s'\n",
				    optarg);
				return usage_error();
			}
			break;
		case 'u':
			run.utf8 = true;
			break;
		case 'y':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > 9999) {
				fprintf(stderr, "smtpreply audit: --year: a year, "
				    "not '%s'\n", optarg);
				return usage_error();
			}
			run.year = (int)v;
			run.guess_year = false;
			break;
		case 'h':
			audit_usage(stdout);
			return fflush(stdout) == 0 ? AUDIT_CLEAN : AUDIT_TROUBLE;
		case ':':
			fprintf(stderr, "smtpreply audit: option %s needs an "
			    "argument\n", argv[optind - 1]);
			return usage_error();
		default:
			fprintf(stderr, "smtpreply audit: unknown option %s\n",
			    argv[optind - 1]);
			return usage_error();
		}
	}
	if (run.since != 0 && run.until != 0 && run.since > run.until) {
		fputs("smtpreply audit: --since is after --until\n", stderr);
		return usage_error();
	}
	if (run.merge && optind >= argc) {
		fputs("smtpreply audit: --merge: name the JSON reports to merge\n",
		    stderr);
		return usage_error();
	}
	names = optind < argc ? argv + optind : stdin_name;
	run.nfiles = optind < argc ? (size_t)(argc - optind) : 1;
	run.files = calloc(run.merge ? MERGE_FILES_MAX : run.nfiles,
	    sizeof(*run.files));
	run.st = malloc(sizeof(*run.st));
	if (run.files == NULL || run.st == NULL) {
		fputs("smtpreply: out of memory\n", stderr);
		free(run.files);
		free(run.st);
		return AUDIT_TROUBLE;
	}
	stats_init(run.st, run.utf8);
	run.prog.on = progress != PROGRESS_NEVER && !run.merge &&
	    isatty(STDERR_FILENO);
	run.prog.eager = progress == PROGRESS_ALWAYS;
	clock_gettime(CLOCK_MONOTONIC, &run.prog.start);
	if (run.merge)
		merge_reports(&run, names, (size_t)(argc - optind));
	else
		for (i = 0; i < run.nfiles; i++) {
			run.files[i].name = names[i];
			audit_file(&run, &run.files[i]);
		}
	if (!write_reports(&run))
		run.trouble = true;

	if (run.trouble)
		status = AUDIT_TROUBLE;
	else if (run.fail_on == FAIL_ON_ERROR && run.st->with_error > 0)
		status = AUDIT_FOUND;
	else if (run.fail_on == FAIL_ON_WARNING &&
	    run.st->with_error + run.st->with_warning > 0)
		status = AUDIT_FOUND;
	else
		status = AUDIT_CLEAN;
	free(run.files);
	free(run.st);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpreply: standard output: %s\n",
		    strerror(errno));
		return AUDIT_TROUBLE;
	}
	return status;
}
