/*
 * SPDX-License-Identifier: ISC
 * tests/corpus.c - load the shared corpus of SMTP replies.
 *
 * Reads the escaped one-reply-per-line format of tests/data/replies.txt
 * (see corpus.h) with a bounded line reader: a line longer than
 * SR_CORPUS_LINE_MAX is an error, never an unbounded allocation. Used by
 * the property tests and the benchmark; no static state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

static void corpus_error(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void corpus_error(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long sr_corpus_unescape(const char *in, size_t len, char *out, size_t *errpos)
{
	size_t i, o;
	int hi, lo;
	unsigned char c;

	for (i = 0, o = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			if (errpos != NULL)
				*errpos = i;
			return -1;
		}
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (i + 1 >= len) {
			if (errpos != NULL)
				*errpos = i;
			return -1;
		}
		switch (in[i + 1]) {
		case 'r':
			out[o++] = '\r';
			i++;
			break;
		case 'n':
			out[o++] = '\n';
			i++;
			break;
		case 't':
			out[o++] = '\t';
			i++;
			break;
		case '\\':
			out[o++] = '\\';
			i++;
			break;
		case 'x':
			if (len - i < 4
			    || (hi = hexval((unsigned char)in[i + 2])) < 0
			    || (lo = hexval((unsigned char)in[i + 3])) < 0) {
				if (errpos != NULL)
					*errpos = i;
				return -1;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
			break;
		default:
			if (errpos != NULL)
				*errpos = i;
			return -1;
		}
	}
	return (long)o;
}

/* The escaped form of byte C into TMP[5]; returns its length. */
static size_t escape_byte(unsigned char c, char tmp[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\r':
		memcpy(tmp, "\\r", 3);
		return 2;
	case '\n':
		memcpy(tmp, "\\n", 3);
		return 2;
	case '\t':
		memcpy(tmp, "\\t", 3);
		return 2;
	case '\\':
		memcpy(tmp, "\\\\", 3);
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		tmp[0] = '\\';
		tmp[1] = 'x';
		tmp[2] = hex[c >> 4];
		tmp[3] = hex[c & 0xf];
		tmp[4] = '\0';
		return 4;
	}
	tmp[0] = (char)c;
	tmp[1] = '\0';
	return 1;
}

char *sr_corpus_escape(const char *in, size_t len, char *out, size_t size)
{
	char tmp[5];
	size_t i, o, n, total;
	int cut;

	if (size == 0)
		return out;
	for (i = 0, total = 0; i < len; i++)
		total += escape_byte((unsigned char)in[i], tmp);
	cut = total >= size;
	for (i = 0, o = 0; i < len; i++) {
		n = escape_byte((unsigned char)in[i], tmp);
		if (cut && o + n + 3 >= size)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (cut && o + 3 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

void sr_corpus_init(struct sr_corpus *c)
{
	c->replies = NULL;
	c->n = 0;
	c->cap = 0;
}

void sr_corpus_free(struct sr_corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->replies[i].bytes);
	free(c->replies);
	sr_corpus_init(c);
}

/* Append LEN bytes at BYTES (copied) as the reply of file line LINE. */
static int corpus_add(struct sr_corpus *c, const char *bytes, size_t len,
		      unsigned line)
{
	struct sr_corpus_reply *nr;
	size_t ncap;
	char *copy;

	if (c->n == c->cap) {
		ncap = c->cap ? c->cap * 2 : 256;
		nr = realloc(c->replies, ncap * sizeof(*nr));
		if (nr == NULL)
			return -1;
		c->replies = nr;
		c->cap = ncap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, bytes, len);
	copy[len] = '\0';
	c->replies[c->n].bytes = copy;
	c->replies[c->n].len = len;
	c->replies[c->n].line = line;
	c->n++;
	return 0;
}

/*
 * Read one line of FP into BUF[SR_CORPUS_LINE_MAX + 1], without its
 * newline. Returns 1 and sets *LEN, 0 at end of file, -1 on a read error,
 * -2 when the line is too long (the rest of it is not read).
 */
static int read_line(FILE *fp, char *buf, size_t *len)
{
	size_t n = 0;
	int ch;

	while ((ch = getc(fp)) != EOF) {
		if (ch == '\n') {
			*len = n;
			return 1;
		}
		if (n == SR_CORPUS_LINE_MAX)
			return -2;
		buf[n++] = (char)ch;
	}
	if (ferror(fp))
		return -1;
	if (n == 0)
		return 0;
	*len = n;		/* last line without a newline */
	return 1;
}

/* True when the line is to be skipped: empty, only blanks, or a comment. */
static int skip_line(const char *buf, size_t len)
{
	size_t i;

	if (len > 0 && buf[0] == '#')
		return 1;
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t')
			return 0;
	return 1;
}

int sr_corpus_load(struct sr_corpus *c, const char *path, char *err,
		   size_t errsize)
{
	FILE *fp;
	char *line = NULL, *out = NULL;
	size_t len, pos;
	unsigned lineno = 0;
	long olen;
	int rc, ret = -1;

	sr_corpus_init(c);
	if ((fp = fopen(path, "r")) == NULL) {
		corpus_error(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	line = malloc(SR_CORPUS_LINE_MAX + 1);
	out = malloc(SR_CORPUS_LINE_MAX + 1);
	if (line == NULL || out == NULL) {
		corpus_error(err, errsize, "%s: out of memory", path);
		goto done;
	}
	for (;;) {
		rc = read_line(fp, line, &len);
		if (rc == 0)
			break;
		lineno++;
		if (rc == -1) {
			corpus_error(err, errsize, "%s:%u: read error: %s",
				     path, lineno, strerror(errno));
			goto done;
		}
		if (rc == -2) {
			corpus_error(err, errsize,
				     "%s:%u: line longer than %u bytes",
				     path, lineno,
				     (unsigned)SR_CORPUS_LINE_MAX);
			goto done;
		}
		if (skip_line(line, len))
			continue;
		if ((olen = sr_corpus_unescape(line, len, out, &pos)) < 0) {
			if (line[pos] == '\\')
				corpus_error(err, errsize, "%s:%u: bad escape "
					     "at column %zu (use \\r \\n \\t "
					     "\\\\ or \\xHH)", path, lineno,
					     pos + 1);
			else
				corpus_error(err, errsize, "%s:%u: raw control "
					     "byte 0x%02x at column %zu (write "
					     "it as \\xHH)", path, lineno,
					     (unsigned char)line[pos], pos + 1);
			goto done;
		}
		if (corpus_add(c, out, (size_t)olen, lineno) == -1) {
			corpus_error(err, errsize, "%s:%u: out of memory",
				     path, lineno);
			goto done;
		}
	}
	if (c->n == 0) {
		corpus_error(err, errsize, "%s: no replies", path);
		goto done;
	}
	ret = 0;
done:
	free(line);
	free(out);
	fclose(fp);
	if (ret != 0)
		sr_corpus_free(c);
	return ret;
}
