/*
 * SPDX-License-Identifier: ISC
 * cmd_check.c - "smtpreply check": check and normalize SMTP replies.
 *
 * Each reply comes from an argument, or from standard input where lines
 * group into replies as on the wire. For each one the program prints the
 * engine's diagnostics and the normalized reply (or why there is none),
 * for people by default or as one JSON object per line with --json.
 * Reply bytes are data: they are escaped on output and never used as a
 * format string. Reading standard input is bounded in memory.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smtpreply/smtpreply.h>

#include "cmd_check.h"
#include "json.h"
#include "show.h"

/* Exit statuses. */
#define CHECK_CLEAN	0	/* no error (with --strict: no warning) */
#define CHECK_FOUND	1	/* a reply has an error (--strict: or warning) */
#define CHECK_TROUBLE	2	/* bad usage, unreadable input, no memory */

/* Bounds on one reply read from standard input. */
#define INPUT_REPLY_MAX	(64 * 1024)	/* bytes, line endings included */
#define INPUT_LINES_MAX	1000

/* Column where the normalized reply starts in human output. */
#define NORMALIZED_LABEL "  normalized: "

struct check_run {
	struct sr_options opts;
	bool json;
	bool strict;
	int status;		/* worst exit status so far */
	unsigned long nreplies;	/* replies reported so far */
};

static const char check_synopsis[] =
    "usage: smtpreply check [--phase P] [--milter] [--utf8] [--json] "
    "[--strict] [REPLY ...]\n";

static void check_usage(FILE *fp)
{
	int i;

	fputs(check_synopsis, fp);
	fputs("\n"
	    "Check each SMTP reply REPLY (in wire form: lines separated by LF or\n"
	    "CRLF) or, with no REPLY, the replies on standard input (a line whose\n"
	    "fourth character is '-' continues into the next line), and print its\n"
	    "diagnostics and the normalized reply.\n"
	    "\n"
	    "  -p, --phase P  the SMTP phase the reply answers (default: other):\n"
	    "                ", fp);
	for (i = 0; i < SR_PHASE__COUNT; i++)
		fprintf(fp, "%s%s", i > 0 ? ", " : "", sr_phase_name(i));
	fputs("\n"
	    "  -m, --milter   judge the reply as one a milter hands to libmilter\n"
	    "  -u, --utf8     allow valid UTF-8 in the text (SMTPUTF8)\n"
	    "  -j, --json     print one JSON object per reply, one per line\n"
	    "  -s, --strict   exit 1 on warnings too\n"
	    "  -h, --help     print this help and exit\n"
	    "\n"
	    "Exit status: 0 no error, 1 a reply has an error (--strict: or a\n"
	    "warning), 2 bad usage or unreadable input.\n", fp);
}

static int check_usage_error(void)
{
	fputs(check_synopsis, stderr);
	fputs("Try 'smtpreply check --help' for more information.\n", stderr);
	return CHECK_TROUBLE;
}

static int check_nomem(void)
{
	fputs("smtpreply: out of memory\n", stderr);
	return CHECK_TROUBLE;
}

/* Length of the NUL-terminated string in the fixed array BUF[SIZE]. */
static size_t fixed_len(const char *buf, size_t size)
{
	const char *end = memchr(buf, '\0', size);

	return end != NULL ? (size_t)(end - buf) : size;
}

/*
 * Format the message of D into SMALL[SIZE], or into memory from malloc
 * when it does not fit (*HEAP is then set, for the caller to free).
 * Returns the message, or NULL when memory ran out.
 */
static const char *diag_message(const struct sr_diag *d, char *small,
				size_t size, char **heap, size_t *lenp)
{
	size_t len;

	*heap = NULL;
	len = sr_diag_format(d, small, size);
	if (len < size) {
		*lenp = len;
		return small;
	}
	if ((*heap = malloc(len + 1)) == NULL)
		return NULL;
	*lenp = sr_diag_format(d, *heap, len + 1);
	if (*lenp > len)
		*lenp = len;
	return *heap;
}

/*
 * The reply as the user gave it: one output line per input line, line
 * endings (LF or CRLF) not shown, everything else made printable.
 */
static void print_input(FILE *fp, const char *in, size_t len, unsigned how)
{
	const char *line = in, *end = in + len, *nl;
	size_t n;

	if (len == 0) {
		fputs("(empty reply)\n", fp);
		return;
	}
	for (;;) {
		nl = memchr(line, '\n', (size_t)(end - line));
		n = (nl != NULL ? nl : end) - line;
		if (nl != NULL && n > 0 && line[n - 1] == '\r')
			n--;
		put_printable(fp, line, n, how);
		putc('\n', fp);
		if (nl == NULL || nl + 1 == end)
			break;
		line = nl + 1;
	}
}

/* The report on one reply for people. */
static int report_human(struct check_run *run, const char *in, size_t len,
			const struct sr_check *chk,
			const struct sr_normalized *norm)
{
	FILE *fp = stdout;
	unsigned how = run->opts.utf8 ? SHOW_UTF8 : 0;
	const struct sr_diag *d;
	const struct sr_change *c;
	const char *msg, *line, *end, *crlf;
	char small[256], *heap;
	size_t i, n;

	if (run->nreplies > 0)
		putc('\n', fp);
	print_input(fp, in, len, how | SHOW_BACKSLASH);

	for (i = 0; i < chk->ndiags; i++) {
		d = &chk->diags[i];
		if ((msg = diag_message(d, small, sizeof(small), &heap, &n)) == NULL)
			return -1;
		fprintf(fp, "  %-7s %s (line %u): ",
		    sr_severity_name(sr_diag_severity(d->id)),
		    sr_diag_name(d->id), d->line);
		put_printable(fp, msg, n, how);
		putc('\n', fp);
		free(heap);
	}
	if (chk->ndiags == 0)
		fputs("  ok\n", fp);

	if (norm->status == SR_NORM_OK) {
		fputs(NORMALIZED_LABEL, fp);
		line = norm->wire;
		end = norm->wire + norm->wire_len;
		for (;;) {
			crlf = NULL;
			for (n = 0; line + n + 1 < end; n++)
				if (line[n] == '\r' && line[n + 1] == '\n') {
					crlf = line + n;
					break;
				}
			if (crlf == NULL)
				n = (size_t)(end - line);
			put_printable(fp, line, n, how);
			putc('\n', fp);
			if (crlf == NULL)
				break;
			line = crlf + 2;
			fprintf(fp, "%*s", (int)(sizeof(NORMALIZED_LABEL) - 1), "");
		}
	} else {
		fputs("  not fixable: ", fp);
		put_printable(fp, norm->why, fixed_len(norm->why,
		    sizeof(norm->why)), how);
		putc('\n', fp);
	}

	for (i = 0; i < norm->nchanges; i++) {
		c = &norm->changes[i];
		fprintf(fp, "  changed: %s: ", sr_diag_name(c->id));
		put_printable(fp, c->before, fixed_len(c->before,
		    sizeof(c->before)), how);
		fputs(" -> ", fp);
		put_printable(fp, c->after, fixed_len(c->after,
		    sizeof(c->after)), how);
		if (c->line > 1)
			fprintf(fp, " (line %u)", c->line);
		putc('\n', fp);
	}
	return 0;
}

/* The report on one reply as one JSON object on one line. */
static int report_json(struct check_run *run, const char *in, size_t len,
		       const struct sr_check *chk,
		       const struct sr_normalized *norm)
{
	struct json_writer w;
	const struct sr_diag *d;
	const struct sr_change *c;
	const char *msg;
	char small[256], *heap;
	size_t i, n;
	bool fixable = norm->status == SR_NORM_OK;

	json_init(&w, stdout);
	json_begin_object(&w);
	json_key(&w, "input");
	json_string(&w, in, len);
	json_key(&w, "phase");
	json_cstring(&w, sr_phase_name(run->opts.phase));
	json_key(&w, "context");
	json_cstring(&w, sr_context_name(run->opts.context));

	json_key(&w, "diagnostics");
	json_begin_array(&w);
	for (i = 0; i < chk->ndiags; i++) {
		d = &chk->diags[i];
		if ((msg = diag_message(d, small, sizeof(small), &heap, &n)) == NULL)
			return -1;
		json_begin_object(&w);
		json_key(&w, "id");
		json_cstring(&w, sr_diag_name(d->id));
		json_key(&w, "severity");
		json_cstring(&w, sr_severity_name(sr_diag_severity(d->id)));
		json_key(&w, "line");
		json_uint(&w, d->line);
		json_key(&w, "count");
		json_uint(&w, d->count);
		json_key(&w, "message");
		json_string(&w, msg, n);
		json_end_object(&w);
		free(heap);
	}
	json_end_array(&w);

	json_key(&w, "normalized");
	if (fixable)
		json_string(&w, norm->wire, norm->wire_len);
	else
		json_null(&w);
	json_key(&w, "fixable");
	json_bool(&w, fixable);
	if (!fixable) {
		json_key(&w, "why");
		json_string(&w, norm->why, fixed_len(norm->why,
		    sizeof(norm->why)));
	}

	json_key(&w, "changes");
	json_begin_array(&w);
	for (i = 0; i < norm->nchanges; i++) {
		c = &norm->changes[i];
		json_begin_object(&w);
		json_key(&w, "id");
		json_cstring(&w, sr_diag_name(c->id));
		json_key(&w, "line");
		json_uint(&w, c->line);
		json_key(&w, "before");
		json_string(&w, c->before, fixed_len(c->before,
		    sizeof(c->before)));
		json_key(&w, "after");
		json_string(&w, c->after, fixed_len(c->after,
		    sizeof(c->after)));
		json_end_object(&w);
	}
	json_end_array(&w);
	json_end_object(&w);
	putc('\n', stdout);
	return 0;
}

/*
 * Check, normalize and report the reply of LEN bytes at IN. Returns 0,
 * or -1 when memory ran out.
 */
static int check_reply(struct check_run *run, const char *in, size_t len)
{
	struct sr_reply reply;
	struct sr_check chk;
	struct sr_normalized norm;
	int rc;

	if (sr_reply_parse(&reply, in, len) != 0) {
		sr_reply_release(&reply);
		return -1;
	}
	sr_check(&reply, &run->opts, &chk);
	sr_normalize(&reply, &run->opts, &norm);
	if (norm.status == SR_NORM_NOMEM)
		rc = -1;
	else if (run->json)
		rc = report_json(run, in, len, &chk, &norm);
	else
		rc = report_human(run, in, len, &chk, &norm);
	sr_normalized_release(&norm);
	sr_reply_release(&reply);
	if (rc != 0)
		return rc;

	run->nreplies++;
	if ((chk.errors > 0 || (run->strict && chk.warnings > 0)) &&
	    run->status < CHECK_FOUND)
		run->status = CHECK_FOUND;
	return 0;
}

/*
 * Standard input, line by line. A line is kept up to INPUT_REPLY_MAX + 1
 * bytes; the rest of a longer one is read and dropped (it is too long for
 * any reply anyway), so memory stays bounded whatever the input.
 */
struct line_reader {
	FILE *fp;
	unsigned long lineno;	/* of the line last read, 1-based */
	char *buf;		/* the line, without its LF */
	size_t len;
	size_t cap;
	bool had_lf;		/* the line ended with LF (not end of input) */
	bool cut;		/* longer than what was kept */
};

#define LINE_KEEP_MAX (INPUT_REPLY_MAX + 1)

/* Returns 1 with a line, 0 at end of input, -1 on a read error, -2 no memory. */
static int read_line(struct line_reader *r)
{
	size_t ncap;
	char *nbuf;
	int c;
	bool any = false;

	r->len = 0;
	r->had_lf = false;
	r->cut = false;
	while ((c = getc_unlocked(r->fp)) != EOF) {
		any = true;
		if (c == '\n') {
			r->had_lf = true;
			break;
		}
		if (r->len == LINE_KEEP_MAX) {
			r->cut = true;
			continue;
		}
		if (r->len == r->cap) {
			ncap = r->cap == 0 ? 256 : 2 * r->cap;
			if (ncap > LINE_KEEP_MAX)
				ncap = LINE_KEEP_MAX;
			if ((nbuf = realloc(r->buf, ncap)) == NULL)
				return -2;
			r->buf = nbuf;
			r->cap = ncap;
		}
		r->buf[r->len++] = (char)c;
	}
	if (c == EOF && ferror(r->fp))
		return -1;
	if (!any)
		return 0;
	r->lineno++;
	return 1;
}

/* A line with nothing but blanks (SP, HT, CR) on it. */
static bool blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* One reply being gathered from standard input. */
struct input_reply {
	char *buf;
	size_t len;
	size_t cap;
	unsigned long first_line;	/* where it starts in the input */
	unsigned nlines;
	bool open;			/* a reply is being gathered */
	bool skip;			/* over a bound: read, then dropped */
};

static int append_line(struct input_reply *ir, const struct line_reader *r)
{
	size_t need = r->len + (r->had_lf ? 1 : 0), ncap;
	char *nbuf;

	if (ir->len + need > ir->cap) {
		ncap = ir->cap == 0 ? 1024 : ir->cap;
		while (ncap < ir->len + need)
			ncap *= 2;
		if (ncap > INPUT_REPLY_MAX)
			ncap = INPUT_REPLY_MAX;
		if ((nbuf = realloc(ir->buf, ncap)) == NULL)
			return -1;
		ir->buf = nbuf;
		ir->cap = ncap;
	}
	if (r->len > 0)
		memcpy(ir->buf + ir->len, r->buf, r->len);
	ir->len += r->len;
	if (r->had_lf)
		ir->buf[ir->len++] = '\n';
	return 0;
}

/* The gathered reply is complete: check it, or say it was skipped. */
static int finish_reply(struct check_run *run, struct input_reply *ir)
{
	size_t len = ir->len;

	ir->open = false;
	if (ir->skip) {
		run->status = CHECK_TROUBLE;
		return 0;
	}
	/* The last line's ending ends the reply; it is not part of it. */
	if (len > 0 && ir->buf[len - 1] == '\n') {
		len--;
		if (len > 0 && ir->buf[len - 1] == '\r')
			len--;
	}
	return check_reply(run, len > 0 ? ir->buf : "", len);
}

static int check_stdin(struct check_run *run)
{
	struct line_reader r = { .fp = stdin };
	struct input_reply ir = { .buf = NULL };
	bool more;
	int rc, err = 0;

	while ((rc = read_line(&r)) > 0) {
		if (!ir.open) {
			if (blank_line(r.buf, r.len))
				continue;
			ir.open = true;
			ir.skip = false;
			ir.len = 0;
			ir.nlines = 0;
			ir.first_line = r.lineno;
		}
		ir.nlines++;
		if (!ir.skip) {
			if (ir.nlines > INPUT_LINES_MAX) {
				fprintf(stderr, "smtpreply: standard input, "
				    "line %lu: reply has over %d lines; skipped\n",
				    ir.first_line, INPUT_LINES_MAX);
				ir.skip = true;
			} else if (r.cut || ir.len + r.len +
			    (r.had_lf ? 1 : 0) > INPUT_REPLY_MAX) {
				fprintf(stderr, "smtpreply: standard input, "
				    "line %lu: reply is over %d bytes; skipped\n",
				    ir.first_line, INPUT_REPLY_MAX);
				ir.skip = true;
			} else if (append_line(&ir, &r) != 0) {
				err = check_nomem();
				break;
			}
		}
		more = r.len >= 4 && r.buf[3] == '-';
		if (!more && finish_reply(run, &ir) != 0) {
			err = check_nomem();
			break;
		}
	}
	if (err == 0 && rc == -2)
		err = check_nomem();
	else if (err == 0 && rc == -1) {
		fprintf(stderr, "smtpreply: standard input: read error: %s\n",
		    strerror(errno));
		err = CHECK_TROUBLE;
	}
	/* Input ended inside a reply: check what there is. */
	if (err == 0 && ir.open && finish_reply(run, &ir) != 0)
		err = check_nomem();
	free(ir.buf);
	free(r.buf);
	return err;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "phase", required_argument, NULL, 'p' },
		{ "milter", no_argument, NULL, 'm' },
		{ "utf8", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct check_run run = {
		.opts = {
			.phase = SR_PHASE_OTHER,
			.context = SR_CONTEXT_WIRE,
			.utf8 = false,
			.policy = NULL,
		},
	};
	int ch, phase, i, err;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":p:mujsh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if ((phase = sr_phase_lookup(optarg)) < 0) {
				fprintf(stderr, "smtpreply check: unknown phase "
				    "'%s' (valid: ", optarg);
				for (i = 0; i < SR_PHASE__COUNT; i++)
					fprintf(stderr, "%s%s", i > 0 ? ", " : "",
					    sr_phase_name(i));
				fputs(")\n", stderr);
				return check_usage_error();
			}
			run.opts.phase = (enum sr_phase)phase;
			break;
		case 'm':
			run.opts.context = SR_CONTEXT_MILTER;
			break;
		case 'u':
			run.opts.utf8 = true;
			break;
		case 'j':
			run.json = true;
			break;
		case 's':
			run.strict = true;
			break;
		case 'h':
			check_usage(stdout);
			return fflush(stdout) == 0 ? CHECK_CLEAN : CHECK_TROUBLE;
		case ':':
			if (optopt != 0 && argv[optind - 1][1] != '-')
				fprintf(stderr, "smtpreply check: option -%c "
				    "needs an argument\n", optopt);
			else
				fprintf(stderr, "smtpreply check: option %s "
				    "needs an argument\n", argv[optind - 1]);
			return check_usage_error();
		default:
			if (optopt == 0)
				fprintf(stderr, "smtpreply check: unknown "
				    "option %s\n", argv[optind - 1]);
			else if (strchr("mujsh", optopt) != NULL)
				fprintf(stderr, "smtpreply check: option %s "
				    "takes no argument\n", argv[optind - 1]);
			else
				fprintf(stderr, "smtpreply check: unknown "
				    "option -%c\n", optopt);
			return check_usage_error();
		}
	}

	if (optind < argc) {
		for (i = optind; i < argc; i++)
			if (check_reply(&run, argv[i], strlen(argv[i])) != 0)
				return check_nomem();
	} else if ((err = check_stdin(&run)) != 0) {
		fflush(stdout);
		return err;
	}

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpreply: standard output: %s\n",
		    strerror(errno));
		return CHECK_TROUBLE;
	}
	return run.status;
}
