/*
 * SPDX-License-Identifier: ISC
 * mchild.h - the socket under one proxy child: connect, send, receive,
 * every wait bounded by a timeout.
 *
 * The protocol itself is mclient.c (pure); this module only moves its
 * bytes. A child's address is written as libmilter writes it:
 * "unix:/path" (or "local:/path", or an absolute path), "inet:PORT@HOST",
 * "inet6:PORT@HOST" (HOST a name or a literal address; "inet:PORT" alone
 * is the loopback). Every call that waits takes a timeout in
 * milliseconds; a child that does not answer in time is failed, never
 * waited for. Writes never raise SIGPIPE.
 */
#ifndef SMTPREPLY_MILTER_MCHILD_H
#define SMTPREPLY_MILTER_MCHILD_H

#include <stdbool.h>
#include <stddef.h>

#include "mclient.h"

/*
 * Check SPEC without connecting. Returns 0, or -1 with a reason in ERR.
 */
int mchild_socket_check(const char *spec, char *err, size_t errsize);

struct mchild_conn {
	int fd;				/* -1: not connected */
	bool local;			/* a unix socket (not TCP) */
	struct mclient_reader rd;
	struct mclient_buf out;		/* packets to send next */
};

void mchild_init(struct mchild_conn *c);

/* Connect to SPEC within TIMEOUT_MS. 0, or -1 with a reason in ERR. */
int mchild_connect(struct mchild_conn *c, const char *spec, int timeout_ms,
		   char *err, size_t errsize);

/* Send what is in C->out within TIMEOUT_MS, then empty it. 0 or -1. */
int mchild_flush(struct mchild_conn *c, int timeout_ms, char *err,
		 size_t errsize);

/*
 * Over TCP, acknowledge what arrives at once from now on (TCP_QUICKACK;
 * the kernel falls back to delayed ACKs by itself). Called before the
 * answers to pipelined steps are read: the child's libmilter sends each
 * answer with Nagle's algorithm, so without it an answer waits for the
 * ACK of the one before it, which a delayed ACK holds back. A no-op on
 * unix sockets.
 */
void mchild_ack_now(struct mchild_conn *c);

/*
 * The next packet of the child, waiting at most TIMEOUT_MS for it to be
 * complete. Its data stays valid until the next call. 0, or -1 with a
 * reason in ERR (timeout, closed, over-long or zero length).
 */
int mchild_read(struct mchild_conn *c, int timeout_ms, char *cmd,
		const unsigned char **data, size_t *len, char *err,
		size_t errsize);

/* Close (no QUIT: the caller sends it first when the child is healthy). */
void mchild_close(struct mchild_conn *c);
/* Close and free the buffers. */
void mchild_free(struct mchild_conn *c);

#endif /* SMTPREPLY_MILTER_MCHILD_H */
