/*
 * SPDX-License-Identifier: ISC
 * daemon.c - inherited descriptors and the descriptor limit.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"

int daemon_close_inherited(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0, dfd;

	d = opendir("/proc/self/fd");
	if (d == NULL) {
#ifdef SYS_close_range
		return syscall(SYS_close_range, 3u, ~0u, 0u) == 0 ? 0 : -1;
#else
		return -1;
#endif
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd <= 2 || fd == dfd)
			continue;
		if (close((int)fd) == 0)
			n++;
	}
	closedir(d);
	return n;
}

unsigned long daemon_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = rl;

		want.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 :
	    (unsigned long)rl.rlim_cur;
}

unsigned daemon_session_capacity(unsigned long nofile)
{
	if (nofile <= DAEMON_FD_RESERVE + 1)
		return 1;
	if (nofile - DAEMON_FD_RESERVE > 0xffffffffUL)
		return 0xffffffffu;
	return (unsigned)(nofile - DAEMON_FD_RESERVE);
}
