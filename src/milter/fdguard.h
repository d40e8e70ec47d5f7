/*
 * SPDX-License-Identifier: ISC
 * fdguard.h - keep the milter serving at its descriptor limit.
 *
 * libmilter's listener treats accept() failing with EMFILE as transient
 * and retries at once: at the descriptor limit, with connections waiting,
 * it spins the CPU and nobody is served until descriptors free up. Racing
 * it for the waiting connections is a lost cause (it is in a tight loop),
 * so this guard thread takes the listening socket away from it instead:
 * when connections wait while the process is within a few descriptors of
 * its limit, the guard puts a quiet stand-in (a non-blocking listening
 * socket on loopback that nobody is told about) at the listener's
 * descriptor number with dup2(). libmilter then polls the stand-in and
 * sleeps. The guard takes the waiting connections on the real socket
 * itself, with a descriptor held in reserve, and closes them at once (the
 * MTA applies its default action for an unavailable milter). When enough
 * descriptors are free again (sessions ended; session_timeout bounds idle
 * ones) it puts the real socket back: libmilter serves again within its
 * poll period (a few seconds). Connections shed are counted and logged at
 * most once a second.
 */
#ifndef SMTPREPLY_MILTER_FDGUARD_H
#define SMTPREPLY_MILTER_FDGUARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct fdguard {
	int listener;			/* libmilter's descriptor number */
	int real;			/* our copy of the real listening socket */
	int standin;			/* the quiet stand-in */
	bool swapped;			/* the stand-in is at LISTENER */
	int reserve;			/* a descriptor kept for accept() */
	unsigned long limit;		/* RLIMIT_NOFILE in force */
	atomic_bool stop;
	atomic_ulong shed;		/* connections closed at the limit */
	pthread_t tid;
	bool started;
};

/*
 * Start guarding LISTENER under descriptor limit LIMIT; SPAWN creates
 * the thread. 0, or -1 (nothing started).
 */
int fdguard_start(struct fdguard *g, int listener, unsigned long limit,
		  int (*spawn)(pthread_t *, void *(*)(void *), void *));
void fdguard_stop(struct fdguard *g);

/* Descriptors the process has open now (from /proc/self/fd), or -1. */
long fdguard_count_open(void);

#endif /* SMTPREPLY_MILTER_FDGUARD_H */
