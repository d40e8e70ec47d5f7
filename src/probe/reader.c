/*
 * SPDX-License-Identifier: ISC
 * reader.c - one SMTP reply read from a byte stream, in bounded memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reader.h"

int probe_reader_init(struct probe_reader *r)
{
	memset(r, 0, sizeof(*r));
	if ((r->buf = malloc(PROBE_READER_SIZE)) == NULL)
		return -1;
	r->state = PROBE_READ_MORE;
	return 0;
}

void probe_reader_free(struct probe_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

void probe_reader_reset(struct probe_reader *r)
{
	char *buf = r->buf;

	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->state = PROBE_READ_MORE;
}

bool probe_reader_mid_line(const struct probe_reader *r)
{
	return r->line_seen > 0;
}

/* The line that just ended (its LF not stored yet) is complete. */
static void end_line(struct probe_reader *r)
{
	const char *line = r->buf + r->line_start;
	size_t kept = r->len - r->line_start;

	r->nlines++;
	r->continued = kept >= 4 && line[3] == '-';
	r->buf[r->len++] = '\n';
	r->line_start = r->len;
	r->line_seen = 0;
	if (!r->continued)
		r->state = PROBE_READ_DONE;
	else if (r->nlines >= PROBE_REPLY_LINES)
		r->state = PROBE_READ_OVERFLOW;
	else
		r->state = PROBE_READ_MORE;
}

size_t probe_reader_feed(struct probe_reader *r, const char *p, size_t n)
{
	size_t i;
	char c;

	if (r->state == PROBE_READ_OVERFLOW)
		return 0;
	for (i = 0; i < n; i++) {
		if (r->total >= PROBE_REPLY_BYTES) {
			r->state = PROBE_READ_OVERFLOW;
			return i;
		}
		r->total++;
		c = p[i];
		if (c == '\n') {
			if (r->line_seen == 0 && r->nlines >= PROBE_REPLY_LINES) {
				r->state = PROBE_READ_OVERFLOW;
				r->total--;
				return i;
			}
			end_line(r);
			if (r->state != PROBE_READ_MORE)
				return i + 1;
			continue;
		}
		if (r->state == PROBE_READ_DONE)
			r->state = PROBE_READ_MORE;	/* more after the end */
		if (r->line_seen == 0 && r->nlines >= PROBE_REPLY_LINES) {
			r->state = PROBE_READ_OVERFLOW;	/* a line too many */
			r->total--;
			return i;
		}
		r->line_seen++;
		if (r->line_seen <= PROBE_LINE_KEEP) {
			r->buf[r->len++] = c;
		} else {
			if (r->line_seen == PROBE_LINE_KEEP + 1)
				r->cut_lines++;
			r->dropped++;
		}
	}
	return n;
}

const char *probe_reader_reply(const struct probe_reader *r, size_t *len)
{
	size_t n = r->len;

	if (n > 0 && r->buf[n - 1] == '\n' && !probe_reader_mid_line(r)) {
		n--;
		if (n > 0 && r->buf[n - 1] == '\r')
			n--;
	}
	*len = n;
	return r->buf;
}
