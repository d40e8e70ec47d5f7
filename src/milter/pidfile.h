/*
 * SPDX-License-Identifier: ISC
 * pidfile.h - write the daemon's pid file without following links.
 *
 * The pid file is written as root, in a directory (/run) that an attacker
 * should not control but might: a symbolic link, a hard link to another
 * file, a FIFO or a device in its place must never make root truncate or
 * write something else, nor block. So the file is opened with O_NOFOLLOW
 * and O_NONBLOCK and without O_TRUNC, then checked (a regular file, one
 * link, owned by us) before it is truncated and written.
 */
#ifndef SMTPREPLY_MILTER_PIDFILE_H
#define SMTPREPLY_MILTER_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write PID and a newline to PATH (created mode 0644 when missing).
 * Returns 0, or -1 with a reason in ERR ("is a symbolic link", "is not a
 * regular file", "has 2 hard links", "is owned by uid 1000", or
 * strerror's text); the file is then left as it was.
 */
int pidfile_write(const char *path, pid_t pid, char *err, size_t errsize);

#endif /* SMTPREPLY_MILTER_PIDFILE_H */
