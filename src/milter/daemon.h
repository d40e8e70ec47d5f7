/*
 * SPDX-License-Identifier: ISC
 * daemon.h - what the process inherits and may open: descriptors, limits.
 *
 * A daemon started by root from a shell or a script inherits whatever
 * descriptors its parent had open (a file opened as root stays writable
 * after the drop to the unprivileged user), and a descriptor limit that
 * may be far below what its sessions need. At its limit libmilter's
 * listener spins on accept() failing with EMFILE and serves nobody. This
 * module closes every inherited descriptor but the standard ones at
 * start-up, raises the soft descriptor limit to the hard one, and tells
 * how many sessions that limit can carry.
 */
#ifndef SMTPREPLY_MILTER_DAEMON_H
#define SMTPREPLY_MILTER_DAEMON_H

/* Descriptors kept for the daemon itself: listener, log, pipes, config. */
#define DAEMON_FD_RESERVE 32

/*
 * Close every descriptor above standard error. Call first thing, before
 * any library opens one. Returns how many were closed, or -1.
 */
int daemon_close_inherited(void);

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit
 * now in force (at least what it was).
 */
unsigned long daemon_raise_nofile(void);

/*
 * The sessions a descriptor limit of NOFILE can serve at once: one
 * descriptor each, DAEMON_FD_RESERVE kept. At least 1.
 */
unsigned daemon_session_capacity(unsigned long nofile);

#endif /* SMTPREPLY_MILTER_DAEMON_H */
