/*
 * SPDX-License-Identifier: ISC
 * cmd_probe.c - "smtpreply probe": provoke a live server's replies with
 * a fixed list of SMTP dialogues and judge each with the engine.
 *
 * For servers the user runs or may test: the output says so first. Each
 * probe is one session (TCP, or a command's standard input and output
 * with --exec), sessions are spaced by --delay, and no message is ever
 * delivered unless --deliver-to names a recipient. The dialogues and
 * their judging are in src/probe/ (pure); this file has the options, the
 * sessions' glue calls and the report (text, or one JSON object).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smtpreply/smtpreply.h>

#include "cmd_probe.h"
#include "json.h"
#include "probe.h"
#include "transport.h"
#include "show.h"

#define PROBE_CLEAN	0
#define PROBE_FOUND	1
#define PROBE_TROUBLE	2

#define DEFAULT_RELAY_DOMAIN	"relay-test.smtpreply.invalid"
#define DEFAULT_HELO		"smtpreply-probe.invalid"

static const char probe_notice[] =
    "Only probe servers you run or are allowed to test.";

enum fail_on { FAIL_ON_ERROR, FAIL_ON_WARNING, FAIL_ON_NEVER };

struct probe_cli {
	struct probe_params params;
	const char *target;	/* HOST[:PORT] as given, or NULL */
	const char *exec;	/* --exec COMMAND, or NULL */
	char host[256], port[16];
	char helo[256], sender[300], domain[256], rcpt[300];
	bool domain_given, rcpt_given;
	int connect_timeout_ms;
	int delay_ms;
	const char *skip;	/* comma-separated probe ids */
	const char *only;
	bool json;
	enum fail_on fail_on;

	/* the report */
	struct json_writer w;
	unsigned long nprobes, nrun, nskipped, ntargets, nerrors, nwarnings,
	    nproblems;
	bool connected_once;
	bool discovered;	/* a session was run to learn the domain */
	int esc;		/* EHLO lists ENHANCEDSTATUSCODES: 1, no: 0, unknown: -1 */
};

static const char probe_synopsis[] =
    "usage: smtpreply probe [OPTIONS] HOST[:PORT]\n"
    "       smtpreply probe [OPTIONS] --exec 'COMMAND'\n"
    "       smtpreply probe --list\n";

static void probe_usage(FILE *fp)
{
	fputs(probe_synopsis, fp);
	fputs("\n"
	    "Provoke a mail server's replies with a fixed list of SMTP dialogues,\n"
	    "one session each, and check every reply for its phase. ", fp);
	fputs(probe_notice, fp);
	fputs("\n"
	    "No message is delivered unless --deliver-to is given.\n"
	    "\n"
	    "  -e, --exec COMMAND      talk to COMMAND's standard input and output\n"
	    "                          (/bin/sh -c), e.g. 'sendmail -bs', 'exim -bs'\n"
	    "  -H, --helo NAME         the HELO/EHLO name (default: this host's name\n"
	    "                          if qualified, else " DEFAULT_HELO ")\n"
	    "  -s, --sender ADDR       the MAIL FROM address (default: smtpreply-probe@HELO)\n"
	    "  -d, --domain DOMAIN     the server's local domain (default: the name\n"
	    "                          in its greeting)\n"
	    "  -r, --rcpt ADDR         a recipient it accepts (default: postmaster@DOMAIN)\n"
	    "  -R, --relay-domain D    a domain it must not relay to (default:\n"
	    "                          " DEFAULT_RELAY_DOMAIN ")\n"
	    "  -D, --deliver-to ADDR   send the final dot of the empty message, to ADDR\n"
	    "                          (the only way a message gets delivered)\n"
	    "  -m, --max-rcpt N        probe the recipient limit with N + 1 recipients\n"
	    "  -t, --timeout SEC       for each reply, whole (default: 30)\n"
	    "  -c, --connect-timeout SEC  (default: 10)\n"
	    "  -w, --delay SEC         pause between sessions (default: 1)\n"
	    "  -x, --skip ID[,ID...]   leave these probes out\n"
	    "  -o, --only ID[,ID...]   run only these probes\n"
	    "  -l, --list              list the probes and exit\n"
	    "  -j, --json              print one JSON object\n"
	    "  -f, --fail-on L         exit 1 when a probed reply has an error (default),\n"
	    "                          a warning too (warning), or never (never)\n"
	    "  -h, --help              print this help and exit\n"
	    "\n"
	    "Exit status: 0 nothing found (per --fail-on), 1 found (a stream\n"
	    "problem counts as an error), 2 bad usage or the server unreachable.\n",
	    fp);
}

static int probe_usage_error(void)
{
	fputs(probe_synopsis, stderr);
	fputs("Try 'smtpreply probe --help' for more information.\n", stderr);
	return PROBE_TROUBLE;
}

/* Whether ID is in the comma-separated LIST. */
static bool in_list(const char *list, const char *id)
{
	size_t n = strlen(id);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

/* Every id of LIST names a probe; else complain. */
static bool list_valid(const char *list, const char *opt)
{
	char id[64];
	const char *p = list, *end;
	size_t n;

	while (*p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= sizeof(id)) {
			fprintf(stderr, "smtpreply probe: %s: empty or long "
			    "probe name\n", opt);
			return false;
		}
		memcpy(id, p, n);
		id[n] = '\0';
		if (probe_find(id) == NULL) {
			fprintf(stderr, "smtpreply probe: %s: no probe '", opt);
			put_printable(stderr, id, n, 0);
			fputs("' (see --list)\n", stderr);
			return false;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

static bool parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
		return false;
	*ms = (int)lround(v * 1000);
	return true;
}

static void list_probes(void)
{
	const struct probe_def *defs;
	size_t n, i;

	defs = probe_list(&n);
	for (i = 0; i < n; i++)
		printf("%-22s %s\n%-22s   expected: %s\n", defs[i].id,
		    defs[i].title, "", defs[i].expect);
}

/* The server's name from a 220 greeting, as the default local domain. */
static void domain_from_greeting(struct probe_cli *cli,
				 const struct probe_result *res)
{
	const struct probe_exchange *e;
	size_t i, n;

	if (res->nex == 0)
		return;
	e = &res->ex[0];
	if (e->sent != NULL || e->reply_len < 5 ||
	    (memcmp(e->reply, "220 ", 4) != 0 && memcmp(e->reply, "220-", 4) != 0))
		return;
	for (n = 0, i = 4; i < e->reply_len && n < sizeof(cli->domain) - 1; i++, n++) {
		char c = e->reply[i];

		if (c == ' ' || c == '\r' || c == '\n')
			break;
		cli->domain[n] = c;
	}
	cli->domain[n] = '\0';
	if (!probe_param_ok(cli->domain) || strchr(cli->domain, '.') == NULL)
		cli->domain[0] = '\0';
	else
		cli->params.domain = cli->domain;
}

static void settle_rcpt(struct probe_cli *cli)
{
	if (!cli->rcpt_given && cli->params.domain != NULL &&
	    cli->params.rcpt == NULL) {
		snprintf(cli->rcpt, sizeof(cli->rcpt), "postmaster@%s",
		    cli->params.domain);
		cli->params.rcpt = cli->rcpt;
	}
}

/* ---- text report ---------------------------------------------------------- */

static size_t first_line_len(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - s) : len;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

/* Each line of the LEN bytes at S after PREFIX, made printable. */
static void put_lines(FILE *fp, const char *prefix, const char *s, size_t len)
{
	const char *end = s + len, *nl;
	size_t n;

	for (;;) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (nl != NULL ? nl : end) - s;
		if (nl != NULL && n > 0 && s[n - 1] == '\r')
			n--;
		fputs(prefix, fp);
		put_printable(fp, s, n, SHOW_BACKSLASH);
		putc('\n', fp);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
}

static const char *problem_text(enum probe_problem p)
{
	switch (p) {
	case PROBE_TIMEOUT:
		return "no complete reply within the timeout";
	case PROBE_CLOSED:
		return "the server closed the connection before a complete reply";
	case PROBE_OVERFLOW:
		return "the reply is over smtpreply's bounds (100 lines, 1 MiB); "
		    "the rest was not read";
	case PROBE_UNSOLICITED:
		return "more lines came after the reply's last line";
	case PROBE_IO_ERROR:
		return "the command could not be sent or the reply read";
	default:
		return probe_problem_name(p);
	}
}

static void text_diags(FILE *fp, const struct probe_exchange *e)
{
	const struct sr_diag *d;
	char msg[512];
	size_t i, n;

	if (e->problem != PROBE_OK)
		fprintf(fp, "    error   %s: %s\n", probe_problem_name(e->problem),
		    problem_text(e->problem));
	if (e->dropped > 0)
		fprintf(fp, "    (%zu bytes of over-long lines not kept)\n",
		    e->dropped);
	if (!e->judged)
		return;
	for (i = 0; i < e->check.ndiags; i++) {
		d = &e->check.diags[i];
		n = sr_diag_format(d, msg, sizeof(msg));
		if (n >= sizeof(msg))
			n = sizeof(msg) - 1;
		fprintf(fp, "    %-7s %s (line %u): ",
		    sr_severity_name(sr_diag_severity(d->id)),
		    sr_diag_name(d->id), d->line);
		put_printable(fp, msg, n, 0);
		putc('\n', fp);
	}
	if (e->check.ndiags == 0 && e->problem == PROBE_OK)
		fputs("    ok\n", fp);
	if (e->check.ndiags > 0) {
		if (e->fixable)
			put_lines(fp, "    normalized: ", e->normalized,
			    e->normalized_len);
		else {
			fputs("    not fixable: ", fp);
			put_printable(fp, e->why, strlen(e->why), 0);
			putc('\n', fp);
		}
	}
}

static void text_probe(const struct probe_result *res)
{
	FILE *fp = stdout;
	const struct probe_exchange *e;
	size_t i, n;

	fprintf(fp, "\n%s: %s (expected: %s)\n", res->def->id, res->def->title,
	    res->def->expect);
	for (i = 0; i < res->nex; i++) {
		e = &res->ex[i];
		if (e->sent != NULL) {
			fputs("  > ", fp);
			put_printable(fp, e->sent, e->sent_len, SHOW_BACKSLASH);
			putc('\n', fp);
		}
		if (e->role == PROBE_TARGET) {
			if (e->reply_len > 0 || e->reply_lines > 0)
				put_lines(fp, "  < ", e->reply, e->reply_len);
			else
				fputs("  < (nothing)\n", fp);
			text_diags(fp, e);
			continue;
		}
		/* setup and teardown: the first line; judged where targeted */
		n = first_line_len(e->reply, e->reply_len);
		fputs("  < ", fp);
		put_printable(fp, e->reply, n, SHOW_BACKSLASH);
		if (e->reply_lines > 1)
			fprintf(fp, " ... (%u lines)", e->reply_lines);
		if (e->reply_len == 0 && e->reply_lines == 0)
			fputs("(nothing)", fp);
		putc('\n', fp);
		if (e->problem != PROBE_OK)
			fprintf(fp, "    error   %s: %s\n",
			    probe_problem_name(e->problem),
			    problem_text(e->problem));
	}
	if (res->why[0] != '\0')
		fprintf(fp, "  -> %s: %s\n", probe_status_name(res->status),
		    res->why);
}

/* ---- JSON report ------------------------------------------------------------- */

static void json_exchange(struct json_writer *w, const struct probe_exchange *e)
{
	const struct sr_diag *d;
	char msg[512];
	size_t i, n;
	static const char *const roles[] = { "setup", "target", "teardown" };

	json_begin_object(w);
	json_key(w, "role");
	json_cstring(w, roles[e->role]);
	json_key(w, "phase");
	json_cstring(w, sr_phase_name(e->phase));
	json_key(w, "sent");
	if (e->sent != NULL)
		json_string(w, e->sent, e->sent_len);
	else
		json_null(w);
	json_key(w, "reply");
	json_string(w, e->reply, e->reply_len);
	json_key(w, "lines");
	json_uint(w, e->reply_lines);
	json_key(w, "bytes_dropped");
	json_uint(w, e->dropped);
	json_key(w, "problem");
	json_cstring(w, e->problem == PROBE_OK ? NULL :
	    probe_problem_name(e->problem));
	json_key(w, "diagnostics");
	json_begin_array(w);
	for (i = 0; e->judged && i < e->check.ndiags; i++) {
		d = &e->check.diags[i];
		n = sr_diag_format(d, msg, sizeof(msg));
		if (n >= sizeof(msg))
			n = sizeof(msg) - 1;
		json_begin_object(w);
		json_key(w, "id");
		json_cstring(w, sr_diag_name(d->id));
		json_key(w, "severity");
		json_cstring(w, sr_severity_name(sr_diag_severity(d->id)));
		json_key(w, "line");
		json_uint(w, d->line);
		json_key(w, "message");
		json_string(w, msg, n);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "normalized");
	if (e->judged && e->fixable)
		json_string(w, e->normalized, e->normalized_len);
	else
		json_null(w);
	if (e->judged && !e->fixable) {
		json_key(w, "why");
		json_cstring(w, e->why);
	}
	json_end_object(w);
}

static void json_probe(struct json_writer *w, const struct probe_result *res)
{
	size_t i;

	json_begin_object(w);
	json_key(w, "id");
	json_cstring(w, res->def->id);
	json_key(w, "title");
	json_cstring(w, res->def->title);
	json_key(w, "expected");
	json_cstring(w, res->def->expect);
	json_key(w, "status");
	json_cstring(w, probe_status_name(res->status));
	json_key(w, "why");
	json_cstring(w, res->why[0] != '\0' ? res->why : NULL);
	json_key(w, "delivered");
	json_bool(w, res->delivered);
	json_key(w, "exchanges");
	json_begin_array(w);
	for (i = 0; i < res->nex; i++)
		json_exchange(w, &res->ex[i]);
	json_end_array(w);
	json_end_object(w);
}

/* ---- running ------------------------------------------------------------------ */

static void count(struct probe_cli *cli, const struct probe_result *res)
{
	const struct probe_exchange *e;
	size_t i;

	cli->nprobes++;
	if (res->status == PROBE_SKIPPED && res->nex == 0) {
		cli->nskipped++;
		return;
	}
	cli->nrun++;
	for (i = 0; i < res->nex; i++) {
		e = &res->ex[i];
		if (!probe_exchange_counts(e))
			continue;
		if (e->role == PROBE_TARGET)
			cli->ntargets++;
		if (e->problem != PROBE_OK)
			cli->nproblems++;
		if (e->problem != PROBE_OK || (e->judged && e->check.errors > 0))
			cli->nerrors++;
		else if (e->judged && e->check.warnings > 0)
			cli->nwarnings++;
	}
}

/* Whether a complete 250 EHLO reply lists ENHANCEDSTATUSCODES. */
static void note_esc(struct probe_cli *cli, const struct probe_result *res)
{
	const struct probe_exchange *e;
	size_t i;

	for (i = 0; i < res->nex && cli->esc < 0; i++) {
		e = &res->ex[i];
		if (e->sent == NULL || strncmp(e->sent, "EHLO ", 5) != 0 ||
		    e->problem != PROBE_OK || e->reply_len < 4 ||
		    memcmp(e->reply, "250", 3) != 0)
			continue;
		cli->esc = memmem(e->reply, e->reply_len, "ENHANCEDSTATUSCODES",
		    19) != NULL;
	}
}

static void report(struct probe_cli *cli, const struct probe_result *res)
{
	note_esc(cli, res);
	count(cli, res);
	if (cli->json)
		json_probe(&cli->w, res);
	else
		text_probe(res);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Open a session, play DEF, close; learn the domain from the greeting
 * when none was given. RES NULL: do not report (the discovery session).
 * 0, or -1: unreachable; -2: no memory.
 */
static int run_session(struct probe_cli *cli, const struct probe_def *def,
		       bool *reported)
{
	struct probe_result res;
	struct probe_transport t;
	struct probe_conn *c;
	char err[300];

	if (cli->exec != NULL)
		c = probe_connect_exec(cli->exec, err, sizeof(err));
	else
		c = probe_connect_tcp(cli->host, cli->port,
		    cli->connect_timeout_ms, err, sizeof(err));
	if (c == NULL) {
		if (!cli->connected_once) {
			fprintf(stderr, "smtpreply probe: %s\n", err);
			return -1;
		}
		if (reported == NULL)
			return 0;
		probe_result_skip(&res, def, err);
		res.status = PROBE_BROKEN;
		report(cli, &res);
		cli->nproblems++;
		cli->nerrors++;
		return 0;
	}
	cli->connected_once = true;
	probe_conn_transport(c, cli->params.timeout_ms, &t);
	if (probe_run(def, &cli->params, &t, &res) != 0) {
		probe_conn_close(c);
		probe_result_release(&res);
		return -2;
	}
	probe_conn_close(c);
	if (cli->params.domain == NULL && !cli->domain_given)
		domain_from_greeting(cli, &res);
	settle_rcpt(cli);
	if (reported != NULL)
		report(cli, &res);
	probe_result_release(&res);
	return 0;
}

/* One probe of the list. 0, or -1: unreachable; -2: no memory. */
static int run_one(struct probe_cli *cli, const struct probe_def *def)
{
	struct probe_result res;
	bool reported = true;
	int r;

	if (!probe_def_ready(def, &cli->params) && cli->params.domain == NULL &&
	    !cli->discovered) {
		/* a session of its own to learn the domain from the greeting */
		cli->discovered = true;
		if ((r = run_session(cli, probe_find("greeting"), NULL)) != 0)
			return r;
		if (cli->delay_ms > 0)
			sleep_ms(cli->delay_ms);
	}
	if (!probe_def_ready(def, &cli->params)) {
		probe_result_skip(&res, def, "needs --domain (the greeting "
		    "gave no qualified name)");
		report(cli, &res);
		return 0;
	}
	return run_session(cli, def, &reported);
}

static void default_helo(struct probe_cli *cli)
{
	char name[256];

	if (gethostname(name, sizeof(name)) == 0 &&
	    (name[sizeof(name) - 1] = '\0', strchr(name, '.') != NULL) &&
	    probe_param_ok(name))
		snprintf(cli->helo, sizeof(cli->helo), "%s", name);
	else
		snprintf(cli->helo, sizeof(cli->helo), "%s", DEFAULT_HELO);
	cli->params.helo = cli->helo;
}

static void header(struct probe_cli *cli)
{
	const struct probe_params *p = &cli->params;

	if (cli->json) {
		json_init(&cli->w, stdout);
		json_begin_object(&cli->w);
		json_key(&cli->w, "target");
		json_cstring(&cli->w, cli->exec != NULL ? NULL : cli->target);
		json_key(&cli->w, "exec");
		json_cstring(&cli->w, cli->exec);
		json_key(&cli->w, "notice");
		json_cstring(&cli->w, probe_notice);
		json_key(&cli->w, "probes");
		json_begin_array(&cli->w);
		return;
	}
	printf("smtpreply probe of ");
	if (cli->exec != NULL) {
		fputs("the command ", stdout);
		put_printable(stdout, cli->exec, strlen(cli->exec), 0);
	} else {
		put_printable(stdout, cli->target, strlen(cli->target), 0);
	}
	printf("\n%s\n", probe_notice);
	printf("helo %s, sender %s, relay domain %s, timeout %.1f s; %s\n",
	    p->helo, p->sender, p->relay_domain, p->timeout_ms / 1000.0,
	    p->deliver_to != NULL ? "the empty message goes to --deliver-to" :
	    "no message is delivered");
}

static void footer(struct probe_cli *cli)
{
	struct json_writer *w = &cli->w;

	if (cli->json) {
		json_end_array(w);
		json_key(w, "domain");
		json_cstring(w, cli->params.domain);
		json_key(w, "rcpt");
		json_cstring(w, cli->params.rcpt);
		json_key(w, "enhancedstatuscodes");
		if (cli->esc < 0)
			json_null(w);
		else
			json_bool(w, cli->esc == 1);
		json_key(w, "summary");
		json_begin_object(w);
		json_key(w, "probes");
		json_uint(w, cli->nprobes);
		json_key(w, "run");
		json_uint(w, cli->nrun);
		json_key(w, "skipped");
		json_uint(w, cli->nskipped);
		json_key(w, "probed_replies");
		json_uint(w, cli->ntargets);
		json_key(w, "with_error");
		json_uint(w, cli->nerrors);
		json_key(w, "with_warning");
		json_uint(w, cli->nwarnings);
		json_key(w, "stream_problems");
		json_uint(w, cli->nproblems);
		json_end_object(w);
		json_end_object(w);
		putchar('\n');
		return;
	}
	printf("\nSummary: %lu probes, %lu run, %lu skipped; %lu probed replies: "
	    "%lu with an error, %lu more with a warning; %lu stream problems\n",
	    cli->nprobes, cli->nrun, cli->nskipped, cli->ntargets,
	    cli->nerrors, cli->nwarnings, cli->nproblems);
	if (cli->esc == 0)
		puts("The server's EHLO reply does not list ENHANCEDSTATUSCODES: "
		    "enhanced-missing is\nadvice there, RFC 2034 asks for enhanced "
		    "codes only from servers that list it.");
	printf("%s\n", probe_notice);
}

int cmd_probe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "exec", required_argument, NULL, 'e' },
		{ "helo", required_argument, NULL, 'H' },
		{ "sender", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "relay-domain", required_argument, NULL, 'R' },
		{ "deliver-to", required_argument, NULL, 'D' },
		{ "max-rcpt", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "delay", required_argument, NULL, 'w' },
		{ "skip", required_argument, NULL, 'x' },
		{ "only", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe_cli *cli;
	const struct probe_def *defs;
	const char *bad = NULL;
	char *end;
	unsigned long v;
	size_t n, i;
	int ch, rc = PROBE_CLEAN, ran = 0, r;

	if ((cli = calloc(1, sizeof(*cli))) == NULL) {
		fputs("smtpreply: out of memory\n", stderr);
		return PROBE_TROUBLE;
	}
	cli->esc = -1;
	cli->params.relay_domain = DEFAULT_RELAY_DOMAIN;
	cli->params.timeout_ms = 30000;
	cli->connect_timeout_ms = 10000;
	cli->delay_ms = 1000;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":e:H:s:d:r:R:D:m:t:c:w:x:o:ljf:h",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			cli->exec = optarg;
			break;
		case 'H':
			if (!probe_param_ok(optarg))
				bad = "--helo";
			snprintf(cli->helo, sizeof(cli->helo), "%s", optarg);
			cli->params.helo = cli->helo;
			break;
		case 's':
			if (!probe_param_ok(optarg))
				bad = "--sender";
			cli->params.sender = optarg;
			break;
		case 'd':
			if (!probe_param_ok(optarg))
				bad = "--domain";
			cli->params.domain = optarg;
			cli->domain_given = true;
			break;
		case 'r':
			if (!probe_param_ok(optarg))
				bad = "--rcpt";
			cli->params.rcpt = optarg;
			cli->rcpt_given = true;
			break;
		case 'R':
			if (!probe_param_ok(optarg))
				bad = "--relay-domain";
			cli->params.relay_domain = optarg;
			break;
		case 'D':
			if (!probe_param_ok(optarg))
				bad = "--deliver-to";
			cli->params.deliver_to = optarg;
			break;
		case 'm':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > 1000 || optarg[0] == '-') {
				fputs("smtpreply probe: --max-rcpt: a number "
				    "from 1 to 1000\n", stderr);
				free(cli);
				return probe_usage_error();
			}
			cli->params.max_rcpt = (unsigned)v;
			break;
		case 't':
		case 'c':
		case 'w':
			if (!parse_seconds(optarg, ch == 't' ?
			    &cli->params.timeout_ms : ch == 'c' ?
			    &cli->connect_timeout_ms : &cli->delay_ms) ||
			    (ch != 'w' && (ch == 't' ? cli->params.timeout_ms :
			    cli->connect_timeout_ms) == 0)) {
				fprintf(stderr, "smtpreply probe: %s: seconds, "
				    "from 0 to 86400 (timeouts over 0)\n",
				    argv[optind - 1]);
				free(cli);
				return probe_usage_error();
			}
			break;
		case 'x':
			cli->skip = optarg;
			if (!list_valid(optarg, "--skip")) {
				free(cli);
				return probe_usage_error();
			}
			break;
		case 'o':
			cli->only = optarg;
			if (!list_valid(optarg, "--only")) {
				free(cli);
				return probe_usage_error();
			}
			break;
		case 'l':
			list_probes();
			free(cli);
			return fflush(stdout) == 0 ? PROBE_CLEAN : PROBE_TROUBLE;
		case 'j':
			cli->json = true;
			break;
		case 'f':
			if (strcmp(optarg, "error") == 0)
				cli->fail_on = FAIL_ON_ERROR;
			else if (strcmp(optarg, "warning") == 0)
				cli->fail_on = FAIL_ON_WARNING;
			else if (strcmp(optarg, "never") == 0)
				cli->fail_on = FAIL_ON_NEVER;
			else {
				fputs("smtpreply probe: --fail-on: error, "
				    "warning or never\n", stderr);
				free(cli);
				return probe_usage_error();
			}
			break;
		case 'h':
			probe_usage(stdout);
			free(cli);
			return fflush(stdout) == 0 ? PROBE_CLEAN : PROBE_TROUBLE;
		case ':':
			fprintf(stderr, "smtpreply probe: option %s needs an "
			    "argument\n", argv[optind - 1]);
			free(cli);
			return probe_usage_error();
		default:
			if (optopt != 0)
				fprintf(stderr, "smtpreply probe: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "smtpreply probe: unknown option "
				    "%s\n", argv[optind - 1]);
			free(cli);
			return probe_usage_error();
		}
	}
	if (bad != NULL) {
		fprintf(stderr, "smtpreply probe: %s: printable ASCII without "
		    "spaces or <>, at most 255 bytes\n", bad);
		free(cli);
		return probe_usage_error();
	}
	if ((cli->exec != NULL) == (optind < argc) || argc - optind > 1) {
		fputs("smtpreply probe: give one HOST[:PORT], or --exec "
		    "COMMAND\n", stderr);
		free(cli);
		return probe_usage_error();
	}
	if (cli->exec == NULL) {
		cli->target = argv[optind];
		if (probe_split_target(cli->target, cli->host,
		    sizeof(cli->host), cli->port, sizeof(cli->port)) != 0) {
			fputs("smtpreply probe: HOST[:PORT] expected, "
			    "[ADDRESS]:PORT for IPv6\n", stderr);
			free(cli);
			return probe_usage_error();
		}
	}
	if (cli->params.helo == NULL)
		default_helo(cli);
	if (cli->params.sender == NULL) {
		snprintf(cli->sender, sizeof(cli->sender), "smtpreply-probe@%s",
		    cli->params.helo);
		cli->params.sender = cli->sender;
	}
	settle_rcpt(cli);
	signal(SIGPIPE, SIG_IGN);

	header(cli);
	defs = probe_list(&n);
	for (i = 0; i < n; i++) {
		if ((cli->only != NULL && !in_list(cli->only, defs[i].id)) ||
		    (cli->skip != NULL && in_list(cli->skip, defs[i].id)))
			continue;
		if (ran++ > 0 && cli->delay_ms > 0)
			sleep_ms(cli->delay_ms);
		if ((r = run_one(cli, &defs[i])) != 0) {
			if (r == -2)
				fputs("smtpreply: out of memory\n", stderr);
			rc = PROBE_TROUBLE;
			break;
		}
		fflush(stdout);
	}
	if (rc != PROBE_TROUBLE) {
		footer(cli);
		if ((cli->fail_on != FAIL_ON_NEVER && cli->nerrors > 0) ||
		    (cli->fail_on == FAIL_ON_WARNING && cli->nwarnings > 0))
			rc = PROBE_FOUND;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpreply: standard output: %s\n",
		    strerror(errno));
		rc = PROBE_TROUBLE;
	}
	free(cli);
	return rc;
}
