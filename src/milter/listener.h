/*
 * SPDX-License-Identifier: ISC
 * listener.h - tune the listening socket libmilter opened.
 *
 * libmilter opens the milter socket and accepts on it itself; it sets
 * SO_KEEPALIVE on each connection and nothing else. Over TCP that costs
 * about 40 ms per quarantined message: libmilter writes the quarantine
 * packet and then the final reply as two small segments, and Nagle's
 * algorithm holds the second until the MTA's delayed ACK for the first.
 * On Linux an accepted socket inherits TCP_NODELAY from the listening
 * socket, so setting it there fixes every connection without touching
 * libmilter. The listening socket is found among the process's
 * descriptors by SO_ACCEPTCONN (it is the only listening socket).
 */
#ifndef SMTPREPLY_MILTER_LISTENER_H
#define SMTPREPLY_MILTER_LISTENER_H

#include <stddef.h>

/*
 * Set TCP_NODELAY on every listening TCP socket of the process. Returns
 * how many were tuned (0 for a unix socket), or -1 with ERR set.
 */
int listener_tune(char *err, size_t errsize);

/* The process's listening socket (TCP or unix), or -1. */
int listener_find(void);

#endif /* SMTPREPLY_MILTER_LISTENER_H */
