/*
 * SPDX-License-Identifier: ISC
 * runner.c - play one probe's SMTP dialogue over a byte stream and judge
 * every reply with the engine.
 *
 * One command at a time: the runner writes a command, then reads its
 * reply whole (reader.c) within the reply timeout, however the bytes are
 * split; a server that stalls, closes or sends without end ends the
 * session with the problem named. Bytes that arrive right after a reply's
 * last line (a multi-line reply without its '-' separators, say) are read
 * as more lines of that reply, so the engine sees what the client would
 * have to make sense of.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <smtpreply/text.h>

#include "probe.h"
#include "reader.h"

#define COMMAND_MAX	1024	/* an expanded command line, CRLF excluded */
#define INBUF_SIZE	4096

struct run {
	const struct probe_def *def;
	const struct probe_params *p;
	const struct probe_transport *t;
	struct probe_result *res;
	struct probe_reader rd;
	char in[INBUF_SIZE];
	size_t in_start, in_end;
	bool eof;
};

const char *probe_problem_name(enum probe_problem p)
{
	switch (p) {
	case PROBE_OK:		return "ok";
	case PROBE_TIMEOUT:	return "timeout";
	case PROBE_CLOSED:	return "closed";
	case PROBE_OVERFLOW:	return "overflow";
	case PROBE_UNSOLICITED:	return "unsolicited";
	case PROBE_IO_ERROR:	return "io-error";
	case PROBE_NOMEM:	return "no-memory";
	}
	return "?";
}

const char *probe_status_name(enum probe_status s)
{
	switch (s) {
	case PROBE_DONE:	return "done";
	case PROBE_STOPPED:	return "stopped";
	case PROBE_BROKEN:	return "broken";
	case PROBE_SKIPPED:	return "skipped";
	}
	return "?";
}

bool probe_exchange_counts(const struct probe_exchange *e)
{
	return e->role == PROBE_TARGET || e->problem != PROBE_OK;
}

void probe_result_skip(struct probe_result *res, const struct probe_def *def,
		       const char *why)
{
	memset(res, 0, sizeof(*res));
	res->def = def;
	res->status = PROBE_SKIPPED;
	snprintf(res->why, sizeof(res->why), "%s", why);
}

void probe_result_release(struct probe_result *res)
{
	size_t i;

	for (i = 0; i < res->nex; i++) {
		free(res->ex[i].sent);
		free(res->ex[i].reply);
		free(res->ex[i].normalized);
	}
	free(res->ex);
	res->ex = NULL;
	res->nex = res->cap = 0;
}

static char *copy_bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static struct probe_exchange *new_exchange(struct probe_result *res,
					   const struct probe_step *st,
					   const char *cmd, size_t cmd_len)
{
	struct probe_exchange *e, *nex;
	size_t ncap;

	if (res->nex == res->cap) {
		ncap = res->cap == 0 ? 8 : 2 * res->cap;
		if ((nex = realloc(res->ex, ncap * sizeof(*nex))) == NULL)
			return NULL;
		res->ex = nex;
		res->cap = ncap;
	}
	e = &res->ex[res->nex];
	memset(e, 0, sizeof(*e));
	e->role = st->role;
	e->phase = st->phase;
	if (cmd != NULL) {
		if ((e->sent = copy_bytes(cmd, cmd_len)) == NULL)
			return NULL;
		e->sent_len = cmd_len;
	}
	res->nex++;
	return e;
}

/* More bytes into the input buffer, waiting WAIT_MS at most. */
static ssize_t fill(struct run *r, int wait_ms)
{
	ssize_t n;

	if (r->in_start == r->in_end)
		r->in_start = r->in_end = 0;
	n = r->t->recv(r->t->ctx, r->in + r->in_end,
	    sizeof(r->in) - r->in_end, wait_ms);
	if (n > 0)
		r->in_end += (size_t)n;
	else if (n == 0)
		r->eof = true;
	return n;
}

/* Read one reply into E (bounded, within the timeout) and judge it. */
static int read_reply(struct run *r, struct probe_exchange *e)
{
	long long deadline = r->t->now_ms(r->t->ctx) + r->p->timeout_ms;
	long long left;
	struct sr_options opts = { .phase = e->phase, .context = SR_CONTEXT_WIRE };
	struct sr_reply reply;
	struct sr_normalized norm;
	const char *text;
	size_t n, len;
	ssize_t got;
	bool extra = false;

	probe_reader_reset(&r->rd);
	for (;;) {
		if (r->in_start < r->in_end) {
			n = probe_reader_feed(&r->rd, r->in + r->in_start,
			    r->in_end - r->in_start);
			r->in_start += n;
			if (r->rd.state == PROBE_READ_OVERFLOW) {
				e->problem = PROBE_OVERFLOW;
				break;
			}
			if (r->rd.state == PROBE_READ_DONE) {
				/* Anything sent beyond the reply's end? */
				if (r->in_start < r->in_end) {
					extra = true;
					continue;
				}
				if (!r->eof && fill(r, 0) > 0) {
					extra = true;
					continue;
				}
				break;
			}
			continue;
		}
		if (r->eof) {
			e->problem = PROBE_CLOSED;
			break;
		}
		left = deadline - r->t->now_ms(r->t->ctx);
		if (left <= 0) {
			e->problem = PROBE_TIMEOUT;
			break;
		}
		got = fill(r, left > 1000000 ? 1000000 : (int)left);
		if (got == PROBE_IO_TIMEOUT)
			continue;	/* the deadline decides */
		if (got < 0) {
			e->problem = PROBE_IO_ERROR;
			break;
		}
	}
	if (e->problem == PROBE_OK && extra)
		e->problem = PROBE_UNSOLICITED;

	text = probe_reader_reply(&r->rd, &len);
	if ((e->reply = copy_bytes(text, len)) == NULL)
		return -1;
	e->reply_len = len;
	e->reply_lines = r->rd.nlines + (probe_reader_mid_line(&r->rd) ? 1 : 0);
	e->dropped = r->rd.dropped;
	if (r->rd.total == 0)
		return 0;	/* nothing to judge */

	if (sr_reply_parse(&reply, text, len) != 0) {
		sr_reply_release(&reply);
		return -1;
	}
	e->judged = true;
	sr_check(&reply, &opts, &e->check);
	sr_normalize(&reply, &opts, &norm);
	if (norm.status == SR_NORM_NOMEM) {
		sr_normalized_release(&norm);
		sr_reply_release(&reply);
		return -1;
	}
	e->fixable = norm.status == SR_NORM_OK;
	if (e->fixable) {
		e->normalized = copy_bytes(norm.wire, norm.wire_len);
		e->normalized_len = norm.wire_len;
	} else {
		snprintf(e->why, sizeof(e->why), "%s", norm.why);
	}
	sr_normalized_release(&norm);
	sr_reply_release(&reply);
	return e->fixable && e->normalized == NULL ? -1 : 0;
}

/* The first digit (2-5) of the reply's code (sr_code_at()), or 0. */
static char reply_class(const struct probe_exchange *e)
{
	int code = sr_code_at(e->reply, e->reply_len);

	return code >= 200 && code <= 599 ? (char)('0' + code / 100) : 0;
}

/* True when the reply's basic code is CODE. */
static bool reply_is(const struct probe_exchange *e, int code)
{
	return sr_code_at(e->reply, e->reply_len) == code;
}

/* Whether an EHLO reply lists KEYWORD (case-insensitive) on some line. */
static bool ehlo_offers(const struct probe_exchange *e, const char *keyword)
{
	size_t klen = strlen(keyword), i = 0, start;

	while (i < e->reply_len) {
		start = i;
		while (i < e->reply_len && e->reply[i] != '\n')
			i++;
		if (i - start >= 4 + klen &&
		    strncasecmp(e->reply + start + 4, keyword, klen) == 0 &&
		    (i - start == 4 + klen || e->reply[start + 4 + klen] == ' ' ||
		     e->reply[start + 4 + klen] == '\r' ||
		     e->reply[start + 4 + klen] == '='))
			return true;
		i++;
	}
	return false;
}

/* Send CMD (CRLF added) and read its reply into a new exchange. */
static struct probe_exchange *exchange(struct run *r,
				       const struct probe_step *st,
				       const char *cmd, size_t len)
{
	struct probe_exchange *e;
	char line[COMMAND_MAX + 2];

	if ((e = new_exchange(r->res, st, cmd, len)) == NULL)
		return NULL;
	if (cmd != NULL) {
		memcpy(line, cmd, len);
		memcpy(line + len, "\r\n", 2);
		if (r->t->send(r->t->ctx, line, len + 2) != 0) {
			e->problem = PROBE_IO_ERROR;
			if ((e->reply = copy_bytes("", 0)) == NULL)
				return NULL;
			return e;
		}
	}
	if (read_reply(r, e) != 0)
		return NULL;
	return e;
}

static bool broken(const struct probe_exchange *e)
{
	return e->problem != PROBE_OK && e->problem != PROBE_UNSOLICITED;
}

static int play(struct run *r)
{
	static const struct probe_step quit = {
		"QUIT", SR_PHASE_OTHER, PROBE_TEARDOWN, 0
	};
	const struct probe_def *def = r->def;
	struct probe_result *res = r->res;
	const struct probe_step *st;
	struct probe_exchange *e = NULL;
	char cmd[COMMAND_MAX];
	unsigned times, k;
	size_t i;
	int len;
	bool quit_sent = false;

	for (i = 0; i < def->nsteps; i++) {
		st = &def->steps[i];
		if ((st->flags & PROBE_STEP_DATA_END) && !reply_is(e, 354)) {
			snprintf(res->why, sizeof(res->why), "DATA was not "
			    "answered 354: no message text sent");
			goto teardown;
		}
		if ((st->flags & PROBE_STEP_DATA_END) && r->p->deliver_to == NULL) {
			snprintf(res->why, sizeof(res->why), "ended before the "
			    "final dot: no message delivered");
			return 0;	/* no QUIT: it would be message text */
		}
		times = (st->flags & PROBE_STEP_REPEAT) ? r->p->max_rcpt + 1 : 1;
		for (k = 0; k < times; k++) {
			if (st->command == NULL) {
				e = exchange(r, st, NULL, 0);
			} else {
				len = probe_expand(st->command, r->p, cmd, sizeof(cmd));
				if (len < 0) {
					res->status = PROBE_SKIPPED;
					snprintf(res->why, sizeof(res->why),
					    "the command '%s' cannot be made "
					    "from the options", st->command);
					return 0;
				}
				e = exchange(r, st, cmd, (size_t)len);
			}
			if (e == NULL)
				return -1;
			if (st->flags & PROBE_STEP_DATA_END)
				res->delivered = true;
			if (st->command != NULL && strcmp(st->command, "QUIT") == 0)
				quit_sent = true;
			if (broken(e)) {
				res->status = PROBE_BROKEN;
				snprintf(res->why, sizeof(res->why), "%s: %s",
				    st->command == NULL ? "greeting" :
				    "reply", probe_problem_name(e->problem));
				return 0;
			}
			if (reply_is(e, 421)) {
				if (st->role == PROBE_SETUP)
					res->status = PROBE_STOPPED;
				snprintf(res->why, sizeof(res->why),
				    "the server closed the session (421)");
				return 0;
			}
			if ((st->flags & PROBE_STEP_STARTTLS) && reply_is(e, 220)) {
				snprintf(res->why, sizeof(res->why), "220 to "
				    "STARTTLS: TLS would start here; session "
				    "ended");
				return 0;
			}
			if (reply_is(e, 354) && (i + 1 >= def->nsteps ||
			    !(def->steps[i + 1].flags & PROBE_STEP_DATA_END))) {
				snprintf(res->why, sizeof(res->why), "354: the "
				    "server waits for message text; session "
				    "ended without any");
				return 0;
			}
			if (st->role == PROBE_SETUP && reply_class(e) != '2' &&
			    reply_class(e) != '3') {
				res->status = PROBE_STOPPED;
				snprintf(res->why, sizeof(res->why),
				    "%s was refused: the probed command was not "
				    "reached", st->command == NULL ? "the greeting"
				    : "a setup command");
				goto teardown;
			}
		}
		if ((def->flags & PROBE_DEF_EHLO_FIRST) && i == 1) {
			if (((def->flags & PROBE_DEF_UNLESS_AUTH) &&
			    ehlo_offers(e, "AUTH")) ||
			    ((def->flags & PROBE_DEF_UNLESS_STARTTLS) &&
			    ehlo_offers(e, "STARTTLS"))) {
				res->status = PROBE_SKIPPED;
				snprintf(res->why, sizeof(res->why), "EHLO "
				    "offers %s: the probe is for servers that "
				    "do not", (def->flags & PROBE_DEF_UNLESS_AUTH)
				    ? "AUTH" : "STARTTLS");
				goto teardown;
			}
		}
	}
teardown:
	if (quit_sent)
		return 0;
	if ((e = exchange(r, &quit, "QUIT", 4)) == NULL)
		return -1;
	return 0;
}

int probe_run(const struct probe_def *def, const struct probe_params *p,
	      const struct probe_transport *t, struct probe_result *res)
{
	struct run *r;
	int rc;

	memset(res, 0, sizeof(*res));
	res->def = def;
	res->status = PROBE_DONE;
	if ((def->flags & PROBE_DEF_NEEDS_MAX_RCPT) && p->max_rcpt == 0) {
		probe_result_skip(res, def, "needs --max-rcpt N");
		return 0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if (probe_reader_init(&r->rd) != 0) {
		free(r);
		return -1;
	}
	r->def = def;
	r->p = p;
	r->t = t;
	r->res = res;
	rc = play(r);
	probe_reader_free(&r->rd);
	free(r);
	return rc;
}
