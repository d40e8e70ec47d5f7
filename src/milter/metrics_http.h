/*
 * SPDX-License-Identifier: ISC
 * metrics_http.h - the /metrics endpoint over HTTP, see metrics_http.c.
 */
#ifndef SMTPREPLY_MILTER_METRICS_HTTP_H
#define SMTPREPLY_MILTER_METRICS_HTTP_H

#include "metrics.h"

struct metrics_http;

/*
 * Listen on SPEC (metrics_listen_parse()) and serve REG's exposition at
 * /metrics from a thread of libmicrohttpd's, with every signal blocked.
 * Returns the server, or NULL with the reason logged. Call it after any
 * fork(): the thread would not survive one.
 */
struct metrics_http *metrics_http_start(const char *spec,
					struct metrics_registry *reg);
/* Stop serving, close the socket, free. NULL is fine. */
void metrics_http_stop(struct metrics_http *srv);

#endif /* SMTPREPLY_MILTER_METRICS_HTTP_H */
