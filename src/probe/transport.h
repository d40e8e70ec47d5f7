/*
 * SPDX-License-Identifier: ISC
 * transport.h - the glue of "smtpreply probe": a byte stream to a server
 * over TCP, or over the standard input and output of a command run with
 * /bin/sh -c (sendmail -bs, exim -bs), behind struct probe_transport.
 *
 * Every wait is bounded: connecting by the connect timeout, sending and
 * receiving by the timeouts the runner passes. A command runs in a
 * process group of its own and is stopped by PID at close.
 */
#ifndef SMTPREPLY_PROBE_TRANSPORT_H
#define SMTPREPLY_PROBE_TRANSPORT_H

#include <stddef.h>

#include "probe.h"

struct probe_conn;

/*
 * Split "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" into HOST[HSIZE] and
 * PORT[PSIZE] (default "25"). Returns 0, or -1 when malformed.
 */
int probe_split_target(const char *arg, char *host, size_t hsize, char *port,
		       size_t psize);

/*
 * Connect to HOST PORT (every address getaddrinfo gives, in turn) within
 * TIMEOUT_MS. Returns a connection, or NULL with ERR[ERRSIZE] set.
 */
struct probe_conn *probe_connect_tcp(const char *host, const char *port,
				     int timeout_ms, char *err, size_t errsize);

/* Run COMMAND with /bin/sh -c, its standard input and output piped. */
struct probe_conn *probe_connect_exec(const char *command, char *err,
				      size_t errsize);

/* The transport that reads and writes C. SEND_TIMEOUT_MS bounds a send. */
void probe_conn_transport(struct probe_conn *c, int send_timeout_ms,
			  struct probe_transport *t);

/* Close, and for a command wait for it (then SIGTERM, SIGKILL, by PID). */
void probe_conn_close(struct probe_conn *c);

/* A monotonic clock in milliseconds. */
long long probe_clock_ms(void);

#endif /* SMTPREPLY_PROBE_TRANSPORT_H */
