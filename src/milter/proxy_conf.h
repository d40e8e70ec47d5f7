/*
 * SPDX-License-Identifier: ISC
 * proxy_conf.h - the "milters" list of smtpreply.conf: the children
 * behind the proxy (proxy.h), read with libconfig.
 *
 *   milters = (
 *     { name = "dkim"; socket = "inet:8892@127.0.0.1";
 *       timeouts = { connect = "5s"; command = "30s"; eom = "5m"; };
 *       on_error = "tempfail";   # or "accept", "reject"
 *       evaluate = false; }
 *   );
 *
 * name (required, unique, letters, digits, '.', '_', '-', at most 64),
 * socket (required, as libmilter writes it, see mchild.h), timeouts
 * (an integer of seconds or a string "250ms", "30s", "5m"; defaults
 * connect 5s, command 30s, eom 5m as Postfix's milter timeouts),
 * on_error (default tempfail), evaluate (default false). Errors go
 * through the caller's function, one call each, so that the loader
 * reports all of them with their lines.
 */
#ifndef SMTPREPLY_MILTER_PROXY_CONF_H
#define SMTPREPLY_MILTER_PROXY_CONF_H

#include <libconfig.h>

#include "confreport.h"
#include "proxy.h"

#define PROXY_NAME_MAX 64
#define PROXY_CHILDREN_MAX 32


/*
 * Read LIST (the "milters" setting; NULL: none) into OUT. Returns the
 * number of errors reported through ERR (0: OUT is complete; otherwise
 * OUT holds what was read and the caller frees it).
 */
unsigned proxy_conf_load(const config_setting_t *list, struct proxy_conf *out,
			 confreport_fn err, void *ctx);

/* Parse a duration ("250ms", "30s", "5m", or a number of seconds) into
 * milliseconds, 1 ms .. 1 hour. 0, or -1. */
int proxy_duration_ms(const char *s, int *ms);

#endif /* SMTPREPLY_MILTER_PROXY_CONF_H */
