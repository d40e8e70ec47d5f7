/*
 * SPDX-License-Identifier: ISC
 * fuzz_logline.c - libFuzzer target for the log side of "smtpreply audit".
 *
 * Input: log bytes; each LF-separated line goes through
 * maillog_parse_line_with() (success replies too) and, when it records a
 * reply, through maillog_reply_wire(), the timestamp parser and
 * stats_feed() (the filter-pairing queue, the engine's check and
 * normalization of the reply, the examples, the peer table, the label
 * series, the timeline); then the statistics are merged into a second
 * one. Asserted: a recognized reply
 * lies inside its line (or in the record's own buffer), is not empty, and
 * its rebuilt wire form is no longer than the buffer given. Memory errors
 * and undefined behaviour are caught by ASan and UBSan.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "maillog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stats *stats, *total;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char wire[256];
	unsigned long long lineno = 0;

	if (stats == NULL && (stats = malloc(sizeof(*stats))) == NULL)
		abort();
	if (total == NULL && (total = malloc(sizeof(*total))) == NULL)
		abort();
	stats_init(stats, size > 0 && (data[0] & 1));
	stats_init(total, false);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		/* a private copy: nothing may be read past the line */
		char *line = malloc(len > 0 ? len : 1);
		struct maillog_reply r;

		if (line == NULL)
			abort();
		memcpy(line, p, len);
		lineno++;
		if (maillog_parse_line_with(line, len, MAILLOG_WANT_SUCCESS, &r)) {
			if (r.reply_len == 0)
				abort();
			if (r.reply != r.built && (r.reply < line ||
			    r.reply + r.reply_len > line + len))
				abort();
			if (maillog_reply_wire(r.reply, r.reply_len, wire,
			    sizeof(wire)) > sizeof(wire))
				abort();
			stats_feed(stats, &r, maillog_time_seconds(maillog_time_key(
			    r.stamp, r.stamp_len, 2026)), lineno);
		}
		free(line);
		p += len + 1;
	}
	stats_flush(stats);
	stats_merge(total, stats);
	stats_merge(total, stats);
	return 0;
}
