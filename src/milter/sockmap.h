/*
 * SPDX-License-Identifier: ISC
 * sockmap.h - the socketmap protocol, server side, from bytes to bytes.
 *
 * Sendmail's socketmap, as Postfix's socketmap: client speaks it: each
 * request is one netstring "NAME KEY" (NAME the map, KEY the lookup key,
 * any bytes, CRLF included); each reply one netstring "OK DATA",
 * "NOTFOUND ", "TEMP REASON" or "PERM REASON". The client keeps the
 * connection and sends many requests, one at a time or pipelined.
 *
 * sockmap_serve() takes the bytes a connection has received so far,
 * answers every whole request in them through a handler, in order, and
 * says how far it got; the socket code (filterserver.c) only moves bytes.
 * Requests are at most SOCKMAP_QUERY_MAX bytes of data, replies at most
 * SOCKMAP_REPLY_MAX (Postfix's socketmap_max_reply). A request that
 * breaks the framing gets one PERM reply and ends the connection: after
 * a bad length there is no way to find the next request.
 */
#ifndef SMTPREPLY_MILTER_SOCKMAP_H
#define SMTPREPLY_MILTER_SOCKMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "netstring.h"

#define SOCKMAP_QUERY_MAX	10000
#define SOCKMAP_REPLY_MAX	100000

enum sockmap_status {
	SOCKMAP_OK,
	SOCKMAP_NOTFOUND,
	SOCKMAP_TEMP,
	SOCKMAP_PERM
};

/* "OK", "NOTFOUND", "TEMP", "PERM". */
const char *sockmap_status_word(enum sockmap_status st);

struct sockmap_request {
	const char *name;	/* the map's name, inside the input */
	size_t name_len;
	const char *key;	/* the key, inside the input */
	size_t key_len;
};

/*
 * Split a request's data "NAME SP KEY" (the first space ends the name).
 * Returns 0, or -1 when there is no space or the name is empty.
 */
int sockmap_request_split(const char *data, size_t len,
			  struct sockmap_request *req);

/* Replies waiting to be written: a growable byte buffer. */
struct sockmap_out {
	char *p;
	size_t len;
	size_t cap;
};

void sockmap_out_init(struct sockmap_out *o);
void sockmap_out_free(struct sockmap_out *o);
/* Drop the first N bytes (written). */
void sockmap_out_consume(struct sockmap_out *o, size_t n);

/*
 * Append the reply "WORD TEXT" as a netstring. A reply over
 * SOCKMAP_REPLY_MAX becomes "PERM reply too long". Returns 0, or -1 when
 * memory ran out (nothing appended).
 */
int sockmap_out_reply(struct sockmap_out *o, enum sockmap_status st,
		      const char *text, size_t len);

/*
 * Answers one request: appends exactly one reply to OUT with
 * sockmap_out_reply(). A handler that appends none gets "TEMP internal
 * error" sent for it.
 */
typedef void (*sockmap_handler)(void *ctx, const struct sockmap_request *req,
				struct sockmap_out *out);

struct sockmap_served {
	size_t used;			/* input bytes consumed */
	size_t requests;		/* requests answered */
	enum netstring_status error;	/* NETSTRING_OK or _INCOMPLETE: go on;
					 * else the framing error that ends
					 * the connection (a PERM was sent) */
	bool nomem;			/* memory ran out: end the connection */
};

/*
 * Answer the whole requests at the start of IN[0..LEN) with HANDLER,
 * appending the replies to OUT, while OUT holds less than OUT_LIMIT
 * bytes (the rest waits for the peer to read).
 */
struct sockmap_served sockmap_serve(const char *in, size_t len,
				    struct sockmap_out *out, size_t out_limit,
				    sockmap_handler handler, void *ctx);

#endif /* SMTPREPLY_MILTER_SOCKMAP_H */
