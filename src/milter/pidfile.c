/*
 * SPDX-License-Identifier: ISC
 * pidfile.c - write the daemon's pid file without following links.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

int pidfile_write(const char *path, pid_t pid, char *err, size_t errsize)
{
	char buf[32];
	struct stat st;
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errsize, "%s", errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "is not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_nlink != 1) {
		snprintf(err, errsize, "has %lu hard links",
		    (unsigned long)st.st_nlink);
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errsize, "is owned by uid %lu",
		    (unsigned long)st.st_uid);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		snprintf(err, errsize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	return 0;
}
