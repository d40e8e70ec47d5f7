/*
 * SPDX-License-Identifier: ISC
 * reader.h - one SMTP reply read from a byte stream, in bounded memory.
 *
 * The reader is fed the bytes a server sends, in whatever pieces they
 * arrive (a reply may be split anywhere across TCP segments), and says
 * when a reply is complete: at the end of a line whose fourth byte is
 * not '-' (RFC 5321 4.2.1). Lines may end with CRLF or a bare LF.
 *
 * Memory is bounded whatever the server sends: of each line the first
 * PROBE_LINE_KEEP bytes are kept and the rest is counted and dropped
 * (a kept line that long still trips the engine's line-too-long check,
 * so the bound never hides a finding); a reply of more than
 * PROBE_REPLY_LINES lines or PROBE_REPLY_BYTES bytes is cut there and
 * reported as an overflow, and the caller stops reading.
 *
 * No I/O: the session code owns sockets and timeouts. No global state.
 */
#ifndef SMTPREPLY_PROBE_READER_H
#define SMTPREPLY_PROBE_READER_H

#include <stdbool.h>
#include <stddef.h>

#define PROBE_LINE_KEEP		1024		/* bytes kept of one line */
#define PROBE_REPLY_LINES	100		/* lines in one reply at most */
#define PROBE_REPLY_BYTES	(1024 * 1024)	/* bytes read for one reply at most */

enum probe_reader_state {
	PROBE_READ_MORE,	/* the reply is not complete yet */
	PROBE_READ_DONE,	/* a final line ended */
	PROBE_READ_OVERFLOW	/* over a bound: stop reading this stream */
};

struct probe_reader {
	char *buf;		/* kept bytes of the reply's lines, line
				 * endings as received */
	size_t len;		/* at most PROBE_READER_SIZE */
	size_t line_start;	/* offset in buf of the current line */
	size_t line_seen;	/* bytes of the current line seen so far */
	size_t total;		/* bytes consumed for this reply */
	size_t dropped;		/* bytes not kept (over PROBE_LINE_KEEP) */
	unsigned nlines;	/* complete lines */
	unsigned cut_lines;	/* lines longer than PROBE_LINE_KEEP */
	bool continued;		/* the last complete line had '-' */
	enum probe_reader_state state;
};

/* Room for the kept bytes of a reply: every line kept whole, with CRLF. */
#define PROBE_READER_SIZE	(PROBE_REPLY_LINES * (PROBE_LINE_KEEP + 2))

/* 0, or -1 when memory ran out. */
int probe_reader_init(struct probe_reader *r);
void probe_reader_free(struct probe_reader *r);

/* Forget the reply read so far (memory is kept for the next one). */
void probe_reader_reset(struct probe_reader *r);

/*
 * Feed N bytes at P. Consumes bytes up to and including the line ending
 * that completes the reply (or up to the bound that overflows it) and
 * returns how many it consumed; the rest belongs to what comes next.
 * r->state says where the reply stands. After PROBE_READ_DONE further
 * calls append more lines to the same reply (what a server sent beyond
 * the reply's end), until probe_reader_reset().
 */
size_t probe_reader_feed(struct probe_reader *r, const char *p, size_t n);

/* True while a line has been started but has not ended. */
bool probe_reader_mid_line(const struct probe_reader *r);

/*
 * The reply as the engine takes it: R's kept bytes, without the final
 * line ending. *LEN is set.
 */
const char *probe_reader_reply(const struct probe_reader *r, size_t *len);

#endif /* SMTPREPLY_PROBE_READER_H */
