/*
 * SPDX-License-Identifier: ISC
 * metrics.h - the milter's counters in Prometheus's text format.
 *
 * Pure logic, no HTTP (metrics_http.c serves it at /metrics with
 * libmicrohttpd): a registry of collectors and the writer of the text
 * exposition format 0.0.4 they write into.
 *
 * Counting stays lock-free: a module keeps its counters as C11 atomics in
 * a structure of its own and increments them with relaxed atomic adds on
 * the mail path (counters_inc() in counters.h). Nothing is pushed to the
 * registry: at each scrape, the HTTP thread calls every registered
 * collector, which loads its atomics and writes its metric families. A
 * scrape therefore never blocks a mail thread; the registry's mutex is
 * taken only by metrics_register() and, for copying the list, by a scrape.
 *
 * Adding counters (the socketmap filter, the milter proxy's children ...):
 *
 *   1. Keep them in your module as atomics (atomic_ulong), increment with
 *      counters_inc(); a label dimension is an array indexed by a value
 *      from a fixed, bounded set (an enum, a child index below a
 *      configured maximum), never by a string from outside.
 *   2. Write  static void mymod_collect(struct metrics_out *o, void *arg)
 *      that calls metrics_family() once per family, then metrics_sample()
 *      (or metrics_sample_double()) once per label set, in that order.
 *      Names: smtpreply_<component>_<what>_<unit>, "_total" for counters
 *      (https://prometheus.io/docs/practices/naming/); see counters.c.
 *   3. Call metrics_register(reg, mymod_collect, mystate) where main.c
 *      registers the milter's counters (before metrics_http_start() or
 *      later: both are safe). The state must outlive the HTTP server.
 *
 * Label values are escaped here; label names and metric names must be
 * valid Prometheus names (checked: a bad one makes the scrape fail, which
 * the unit tests catch, rather than a malformed exposition).
 */
#ifndef SMTPREPLY_MILTER_METRICS_H
#define SMTPREPLY_MILTER_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The exposition being written: a growing buffer, bounded. */
struct metrics_out {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;		/* out of memory, over the bound or a bad name */
};

#define METRICS_OUT_MAX (8u << 20)	/* bytes of one exposition */

struct metrics_label {
	const char *name;
	const char *value;
};

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE };

/* Start a family: its "# HELP" and "# TYPE" lines. */
void metrics_family(struct metrics_out *o, const char *name,
		    enum metrics_type type, const char *help);
/* One sample of the current family: NAME{LABELS} VALUE. */
void metrics_sample(struct metrics_out *o, const char *name,
		    const struct metrics_label *labels, size_t nlabels,
		    unsigned long long value);
void metrics_sample_double(struct metrics_out *o, const char *name,
			   const struct metrics_label *labels, size_t nlabels,
			   double value);

typedef void metrics_collect_fn(struct metrics_out *o, void *arg);

#define METRICS_MAX_COLLECTORS 32

struct metrics_registry {
	pthread_mutex_t lock;
	struct {
		metrics_collect_fn *fn;
		void *arg;
	} c[METRICS_MAX_COLLECTORS];
	size_t n;
};

void metrics_registry_init(struct metrics_registry *reg);
/* Returns 0, or -1 when the registry is full. */
int metrics_register(struct metrics_registry *reg, metrics_collect_fn *fn,
		     void *arg);

/*
 * Run every collector into a new buffer. Returns 0 and *BUF (malloc'd,
 * NUL-terminated, the caller frees it) and *LEN, or -1.
 */
int metrics_render(struct metrics_registry *reg, char **buf, size_t *len);

/*
 * Where the endpoint listens, written like the milter socket:
 * "inet:PORT@HOST" or "inet6:PORT@HOST"; without "@HOST" the loopback
 * address (127.0.0.1, ::1). HOST is an address or a name resolved once.
 * Returns 0 and fills *SS, *SSLEN, or -1 with a message in ERR.
 */
struct sockaddr_storage;
int metrics_listen_parse(const char *spec, struct sockaddr_storage *ss,
			 unsigned *sslen, char *err, size_t errlen);
/* Whether the parsed address is a loopback one (127.0.0.0/8, ::1). */
bool metrics_listen_is_loopback(const struct sockaddr_storage *ss);

#endif /* SMTPREPLY_MILTER_METRICS_H */
