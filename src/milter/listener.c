/*
 * SPDX-License-Identifier: ISC
 * listener.c - tune the listening socket libmilter opened.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listener.h"

/* Is FD a listening stream socket? */
static int is_listener(int fd)
{
	int on = 0, type = 0;
	socklen_t olen = sizeof(on), tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) != 0 || !on)
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
	    type == SOCK_STREAM;
}

/* Is FD a listening TCP socket? */
static int is_tcp_listener(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!is_listener(fd))
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

int listener_tune(char *err, size_t errsize)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0, one = 1;

	if (d == NULL) {
		snprintf(err, errsize, "/proc/self/fd: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd == dirfd(d) ||
		    !is_tcp_listener((int)fd))
			continue;
		if (setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) != 0) {
			snprintf(err, errsize, "TCP_NODELAY: %s", strerror(errno));
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	return n;
}

int listener_find(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int found = -1;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && found < 0) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end == '\0' && end != de->d_name && fd != dirfd(d) &&
		    is_listener((int)fd))
			found = (int)fd;
	}
	closedir(d);
	return found;
}
