/*
 * SPDX-License-Identifier: ISC
 * logread.c - plain or gzip input, in fixed buffers, line by line.
 *
 * Plain data is read straight into the line buffer; gzip data is read
 * into an input buffer and inflated into the line buffer (zlib; several
 * concatenated gzip members, as "cat a.gz b.gz" makes, are one stream).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "logread.h"

#define IN_SIZE		(256 * 1024)
#define BUF_SIZE	(1024 * 1024 + LOGREAD_LINE_MAX)

struct logread {
	int fd;
	const char *name;
	bool decided;		/* plain or gzip known */
	bool gzip;
	bool in_eof;		/* read() said end of file */
	bool member_end;	/* inflate ended a gzip member */
	bool failed;
	bool skipping;		/* discarding the rest of an over-long line */
	z_stream zs;
	bool zs_live;
	unsigned char *in;	/* gzip only */
	char *buf;		/* decoded bytes [start, end) */
	size_t start, end;
	unsigned long long long_lines;
	unsigned long long bytes_in;	/* read from the descriptor */
	char err[160];
};

struct logread *logread_open(int fd, const char *name)
{
	struct logread *lr = calloc(1, sizeof(*lr));

	if (lr == NULL)
		return NULL;
	lr->fd = fd;
	lr->name = name;
	lr->buf = malloc(BUF_SIZE);
	if (lr->buf == NULL) {
		free(lr);
		return NULL;
	}
	return lr;
}

void logread_close(struct logread *lr)
{
	if (lr == NULL)
		return;
	if (lr->zs_live)
		inflateEnd(&lr->zs);
	free(lr->in);
	free(lr->buf);
	free(lr);
}

const char *logread_error(const struct logread *lr)
{
	return lr->err;
}

bool logread_gzip(const struct logread *lr)
{
	return lr->gzip;
}

unsigned long long logread_bytes(const struct logread *lr)
{
	return lr->bytes_in;
}

unsigned long long logread_long_lines(const struct logread *lr)
{
	return lr->long_lines;
}

static ssize_t read_some(struct logread *lr, void *p, size_t n)
{
	ssize_t k;

	do
		k = read(lr->fd, p, n);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		snprintf(lr->err, sizeof(lr->err), "read error: %s",
		    strerror(errno));
		lr->failed = true;
	} else if (k == 0)
		lr->in_eof = true;
	else
		lr->bytes_in += (unsigned long long)k;
	return k;
}

/* The first read decides: gzip magic, or plain bytes for the buffer. */
static int decide(struct logread *lr)
{
	/* At most what the gzip input buffer takes: the bytes move there. */
	ssize_t k = read_some(lr, lr->buf + lr->end, IN_SIZE);

	if (k < 0)
		return -1;
	/* One byte may be all a pipe gives at first: wait for the second. */
	if (k == 1 && lr->buf[lr->end] == '\x1f') {
		ssize_t k2 = read_some(lr, lr->buf + lr->end + 1, 1);

		if (k2 < 0)
			return -1;
		k += k2;
	}
	lr->decided = true;
	if (k >= 2 && (unsigned char)lr->buf[lr->end] == 0x1f &&
	    (unsigned char)lr->buf[lr->end + 1] == 0x8b) {
		lr->gzip = true;
		lr->in = malloc(IN_SIZE);
		if (lr->in == NULL) {
			snprintf(lr->err, sizeof(lr->err), "out of memory");
			lr->failed = true;
			return -1;
		}
		memcpy(lr->in, lr->buf + lr->end, (size_t)k);
		memset(&lr->zs, 0, sizeof(lr->zs));
		if (inflateInit2(&lr->zs, 15 + 16) != Z_OK) {
			snprintf(lr->err, sizeof(lr->err), "zlib: cannot start");
			lr->failed = true;
			return -1;
		}
		lr->zs_live = true;
		lr->zs.next_in = lr->in;
		lr->zs.avail_in = (uInt)k;
		return 1;
	}
	lr->end += (size_t)k;
	return k > 0 ? 1 : 0;
}

/* Inflate into the buffer; 1 when bytes came, 0 at the end, -1 error. */
static int inflate_some(struct logread *lr)
{
	size_t before = lr->end;
	int rc;

	while (lr->end == before) {
		if (lr->zs.avail_in == 0 && !lr->in_eof) {
			ssize_t k = read_some(lr, lr->in, IN_SIZE);

			if (k < 0)
				return -1;
			lr->zs.next_in = lr->in;
			lr->zs.avail_in = (uInt)k;
		}
		if (lr->zs.avail_in == 0 && lr->in_eof) {
			if (!lr->member_end) {
				snprintf(lr->err, sizeof(lr->err),
				    "gzip data truncated");
				lr->failed = true;
				return -1;
			}
			return 0;
		}
		if (lr->member_end) {
			/* Another gzip member follows. */
			if (inflateReset(&lr->zs) != Z_OK)
				return -1;
			lr->member_end = false;
		}
		lr->zs.next_out = (Bytef *)lr->buf + lr->end;
		lr->zs.avail_out = (uInt)(BUF_SIZE - lr->end);
		rc = inflate(&lr->zs, Z_NO_FLUSH);
		lr->end = BUF_SIZE - lr->zs.avail_out;
		if (rc == Z_STREAM_END)
			lr->member_end = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(lr->err, sizeof(lr->err), "gzip data corrupt%s%s",
			    lr->zs.msg != NULL ? ": " : "",
			    lr->zs.msg != NULL ? lr->zs.msg : "");
			lr->failed = true;
			return -1;
		}
	}
	return 1;
}

/* Move what is left to the front and add more; 1, 0 (end) or -1. */
static int fill(struct logread *lr)
{
	ssize_t k;

	if (lr->failed)
		return -1;
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (!lr->decided)
		return decide(lr);
	if (lr->gzip)
		return inflate_some(lr);
	if (lr->in_eof)
		return 0;
	k = read_some(lr, lr->buf + lr->end, BUF_SIZE - lr->end);
	if (k < 0)
		return -1;
	lr->end += (size_t)k;
	return k > 0 ? 1 : 0;
}

int logread_next(struct logread *lr, const char **line, size_t *len)
{
	for (;;) {
		char *p = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = avail > 0 ? memchr(p, '\n', avail) : NULL;
		int rc;

		if (nl != NULL) {
			lr->start += (size_t)(nl - p) + 1;
			if (lr->skipping) {
				lr->skipping = false;
				continue;
			}
			*line = p;
			*len = (size_t)(nl - p);
			if (*len > LOGREAD_LINE_MAX) {
				lr->long_lines++;
				*len = LOGREAD_LINE_MAX;
			}
			return 1;
		}
		if (avail >= LOGREAD_LINE_MAX && !lr->skipping) {
			/* Hand over the first LOGREAD_LINE_MAX bytes; the rest
			 * of the line goes unread. */
			lr->long_lines++;
			lr->skipping = true;
			lr->start = lr->end;
			*line = p;
			*len = LOGREAD_LINE_MAX;
			return 1;
		}
		if (lr->skipping) {
			lr->start = lr->end;
			avail = 0;
		}
		rc = fill(lr);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			/* The end: a last line without LF. */
			avail = lr->end - lr->start;
			if (avail == 0 || lr->skipping)
				return 0;
			*line = lr->buf + lr->start;
			*len = avail;
			if (*len > LOGREAD_LINE_MAX) {
				lr->long_lines++;
				*len = LOGREAD_LINE_MAX;
			}
			lr->start = lr->end;
			return 1;
		}
	}
}
