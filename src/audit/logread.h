/*
 * SPDX-License-Identifier: ISC
 * logread.h - read a log line by line, plain or gzip-compressed.
 *
 * The format is told by the content (the gzip magic bytes), not by the
 * file name, so that "smtpreply audit < maillog.1.gz" works. Reading is
 * streaming, with fixed buffers: memory does not grow with the file.
 * Lines end with LF (a CR before it is kept; the parser ignores it); the
 * last line may lack one. A line longer than LOGREAD_LINE_MAX is handed
 * over cut to that length, and counted.
 */
#ifndef SMTPREPLY_AUDIT_LOGREAD_H
#define SMTPREPLY_AUDIT_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>

#define LOGREAD_LINE_MAX (64 * 1024)

struct logread;

/*
 * Open FD (already open for reading; NAME for messages). Returns NULL
 * when memory ran out. The descriptor is not closed by logread_close().
 */
struct logread *logread_open(int fd, const char *name);

/*
 * The next line: *LINE (not NUL-terminated, valid until the next call)
 * and *LEN, without its LF. Returns 1 for a line, 0 at the end, -1 on a
 * read or decompression error (logread_error() says what; the lines
 * before it were all handed over).
 */
int logread_next(struct logread *lr, const char **line, size_t *len);

/* "read error: Is a directory", "gzip data truncated" ... */
const char *logread_error(const struct logread *lr);

/* Whether the data was gzip-compressed. */
bool logread_gzip(const struct logread *lr);

/* Bytes read from the descriptor so far (compressed, for gzip). */
unsigned long long logread_bytes(const struct logread *lr);

/* Lines that were longer than LOGREAD_LINE_MAX. */
unsigned long long logread_long_lines(const struct logread *lr);

void logread_close(struct logread *lr);

#endif /* SMTPREPLY_AUDIT_LOGREAD_H */
