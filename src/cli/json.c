/*
 * SPDX-License-Identifier: ISC
 * json.c - a small streaming JSON writer for stdio (see json.h).
 *
 * Members and elements are separated by ", " and keys followed by ": ",
 * the way people write JSON by hand; the caller ends each top-level
 * value with a newline to get one object per line.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <smtpreply/text.h>

#include "json.h"

void json_write_string(FILE *fp, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	unsigned char c;

	putc('"', fp);
	while (i < len) {
		c = p[i];
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (n = sr_utf8_len(p + i, len - i)) > 0) {
			i += n;
			continue;
		}
		/* Byte I needs an escape: write the plain run before it. */
		if (i > run)
			fwrite(p + run, 1, i - run, fp);
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c >= 0x80) {
				fputs("\\ufffd", fp);
			} else {
				fputs("\\u00", fp);
				putc(hex[c >> 4], fp);
				putc(hex[c & 0x0F], fp);
			}
			break;
		}
		i++;
		run = i;
	}
	if (i > run)
		fwrite(p + run, 1, i - run, fp);
	putc('"', fp);
}

void json_init(struct json_writer *w, FILE *fp)
{
	w->fp = fp;
	w->depth = 0;
	w->has_member = 0;
	w->after_key = false;
	w->overflow = false;
}

/* Write the separator a new value or key needs at the current position. */
static void json_separate(struct json_writer *w)
{
	uint32_t bit;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0 || w->depth > JSON_MAX_DEPTH)
		return;
	bit = UINT32_C(1) << (w->depth - 1);
	if (w->has_member & bit)
		fputs(", ", w->fp);
	else
		w->has_member |= bit;
}

static void json_open(struct json_writer *w, int bracket)
{
	json_separate(w);
	putc(bracket, w->fp);
	w->depth++;
	if (w->depth > JSON_MAX_DEPTH)
		w->overflow = true;
	else
		w->has_member &= ~(UINT32_C(1) << (w->depth - 1));
}

static void json_close(struct json_writer *w, int bracket)
{
	putc(bracket, w->fp);
	w->after_key = false;
	if (w->depth > 0)
		w->depth--;
	else
		w->overflow = true;	/* closed more than was opened */
}

void json_begin_object(struct json_writer *w)
{
	json_open(w, '{');
}

void json_end_object(struct json_writer *w)
{
	json_close(w, '}');
}

void json_begin_array(struct json_writer *w)
{
	json_open(w, '[');
}

void json_end_array(struct json_writer *w)
{
	json_close(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	json_separate(w);
	json_write_string(w->fp, key, strlen(key));
	fputs(": ", w->fp);
	w->after_key = true;
}

void json_string(struct json_writer *w, const char *s, size_t len)
{
	json_separate(w);
	json_write_string(w->fp, s, len);
}

void json_cstring(struct json_writer *w, const char *s)
{
	if (s == NULL)
		json_null(w);
	else
		json_string(w, s, strlen(s));
}

void json_uint(struct json_writer *w, unsigned long long v)
{
	json_separate(w);
	fprintf(w->fp, "%llu", v);
}

void json_int(struct json_writer *w, long long v)
{
	json_separate(w);
	fprintf(w->fp, "%lld", v);
}

void json_bool(struct json_writer *w, bool v)
{
	json_separate(w);
	fputs(v ? "true" : "false", w->fp);
}

void json_null(struct json_writer *w)
{
	json_separate(w);
	fputs("null", w->fp);
}

bool json_ok(const struct json_writer *w)
{
	return !w->overflow && w->depth == 0 && !w->after_key &&
	    !ferror(w->fp);
}
