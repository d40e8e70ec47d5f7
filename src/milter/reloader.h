/*
 * SPDX-License-Identifier: ISC
 * reloader.h - configuration reloads on a thread of their own, coalesced.
 *
 * The main thread handles signals; a reload reads a file, which may be
 * slow (a large file, libconfig's quadratic string scanning) or, before
 * the loader refused non-regular files, could block for ever. So SIGHUP
 * only records a request; a worker thread runs the reload. Requests that
 * arrive while a reload runs are merged into one more reload after it: 50
 * quick SIGHUPs cost at most two loads, and the main thread stays free to
 * take SIGTERM at any time (the process may exit while a reload runs: the
 * new configuration is only made current once it is complete).
 */
#ifndef SMTPREPLY_MILTER_RELOADER_H
#define SMTPREPLY_MILTER_RELOADER_H

#include <pthread.h>
#include <stdbool.h>

struct reloader {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pending;			/* a request not yet started */
	bool stopping;
	unsigned long requests;		/* since the last reload started */
	void (*run)(void *arg, unsigned long merged);
	void *arg;
	pthread_t tid;
	bool started;
};

/*
 * Start the worker: RUN(ARG, N) performs one reload covering N requests.
 * SPAWN creates the thread (the daemon's, with its signals blocked).
 * 0, or an errno value.
 */
int reloader_start(struct reloader *rl,
		   int (*spawn)(pthread_t *, void *(*)(void *), void *),
		   void (*run)(void *, unsigned long), void *arg);

/* Ask for a reload (never blocks on a reload in progress). */
void reloader_request(struct reloader *rl);

/*
 * Stop taking requests. When WAIT, wait for a reload in progress to end;
 * else leave the worker to die with the process.
 */
void reloader_stop(struct reloader *rl, bool wait);

#endif /* SMTPREPLY_MILTER_RELOADER_H */
