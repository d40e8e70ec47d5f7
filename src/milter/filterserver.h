/*
 * SPDX-License-Identifier: ISC
 * filterserver.h - the socketmap service of smtpreply-milter: sockets only.
 *
 * One thread runs an event loop (poll) over the listening socket and the
 * connections Postfix keeps open: each smtpd, smtp or lmtp process opens
 * one and sends its lookups over it, one at a time or pipelined. Bytes
 * read go to sockmap_serve(), which answers through filtermap_answer()
 * with the configuration current at that moment (a reload takes effect
 * at the next request); replies are written back without blocking, and a
 * connection whose peer does not read is not read either. Connections
 * are bounded (max_connections; more are closed at once) and one idle for
 * FILTERSERVER_IDLE_SECONDS is closed (Postfix reconnects by itself).
 * Every lookup is answered in microseconds, so one thread is enough.
 */
#ifndef SMTPREPLY_MILTER_FILTERSERVER_H
#define SMTPREPLY_MILTER_FILTERSERVER_H

#include <pthread.h>
#include <sys/types.h>

#include "filtermap.h"
#include "milter.h"

#define FILTERSERVER_IDLE_SECONDS 300

struct filterserver;

/*
 * Open and listen on SPEC (inet:PORT@HOST, inet6:PORT@HOST, unix:PATH),
 * as root when the milter is started as root: a stale unix socket is
 * removed first, a new one is given to UID:GID with MODE (when MODE_SET).
 * Returns the server, or NULL (logged).
 */
struct filterserver *filterserver_open(const char *spec, unsigned max_conns,
				       uid_t uid, gid_t gid, unsigned mode,
				       bool mode_set);

/*
 * The service CFG's "filter" group asks for (NULL when it has no socket,
 * or on an error, logged: *FAILED then true). The unix socket goes to
 * UID and the filter's group, else GID.
 */
struct filterserver *filterserver_from_config(const struct conf *cfg,
					      uid_t uid, gid_t gid,
					      bool *failed);

/* Warn when a reload changes what needs a restart (the filter socket). */
void filterserver_check_reload(const struct conf *cur,
			       const struct conf *cfg);

/* Creates the thread that runs FN(ARG) with the daemon's signals blocked. */
typedef int (*filterserver_spawn_fn)(pthread_t *tid, void *(*fn)(void *),
				     void *arg);

/* Serve in a thread of its own, with the configuration of SH. 0 or -1. */
int filterserver_start(struct filterserver *fs, struct milter_shared *sh,
		       filterserver_spawn_fn spawn);

/* Stop the thread, close every socket, free FS. NULL is fine. */
void filterserver_stop(struct filterserver *fs);

/* The counters of the maps (for the log and a metrics module). */
struct filtermap_counters *filterserver_counters(struct filterserver *fs);

struct metrics_out;

/*
 * The Prometheus families of the maps' counters (metrics.h): a collector
 * for metrics_register() whose ARG is filterserver_counters()'s result.
 */
void filterserver_collect(struct metrics_out *o, void *arg);

#endif /* SMTPREPLY_MILTER_FILTERSERVER_H */
