/*
 * SPDX-License-Identifier: ISC
 * fdguard.c - keep the milter serving at its descriptor limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdguard.h"
#include "log.h"

/* Within this many descriptors of the limit, waiting connections are shed. */
#define FDGUARD_MARGIN 4

long fdguard_count_open(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	long n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/*
 * Take and close the connections waiting on the real socket. The reserve
 * descriptor is given up for each accept(); the accepted connection,
 * shut down at once, becomes the reserve, so the slot never leaves us.
 */
static unsigned long shed_waiting(struct fdguard *g)
{
	struct pollfd p = { g->real, POLLIN, 0 };
	unsigned long n = 0;

	while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
		int c;

		if (g->reserve >= 0)
			close(g->reserve);
		c = accept4(g->real, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
			break;
		}
		(void)shutdown(c, SHUT_RDWR);	/* the MTA sees it closed */
		g->reserve = c;
		n++;
	}
	if (g->reserve < 0)
		g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return n;
}

/* Is the process within MARGIN descriptors of its limit? */
static bool near_limit(const struct fdguard *g, unsigned long margin)
{
	long open_now = fdguard_count_open();

	/* No descriptor even to count them: at the limit. */
	return open_now < 0 || (unsigned long)open_now + margin >= g->limit;
}

static void *guard(void *arg)
{
	struct fdguard *g = arg;
	time_t logged = 0;

	while (!atomic_load(&g->stop)) {
		struct pollfd p = { g->real, POLLIN, 0 };
		unsigned long n;

		if (!g->swapped) {
			/* Wake when a connection waits (libmilter normally
			 * takes it at once). */
			if (poll(&p, 1, 200) != 1 || (p.revents & POLLIN) == 0)
				continue;
			if (!near_limit(g, FDGUARD_MARGIN)) {
				struct timespec pause = { 0, 10 * 1000 * 1000 };

				nanosleep(&pause, NULL);	/* libmilter's turn */
				continue;
			}
			if (dup2(g->standin, g->listener) < 0)
				continue;
			g->swapped = true;
			log_msg(LOG_WARNING, "descriptor limit %lu reached: new MTA "
			    "connections are closed at once until sessions end "
			    "(raise the limit or lower max_sessions)", g->limit);
		}
		(void)poll(&p, 1, 100);
		n = shed_waiting(g);
		if (n > 0) {
			time_t now = time(NULL);

			atomic_fetch_add(&g->shed, n);
			if (now != logged) {
				logged = now;
				log_msg(LOG_WARNING, "descriptor limit %lu reached: "
				    "%lu MTA connections closed at once so far",
				    g->limit, (unsigned long)atomic_load(&g->shed));
			}
		}
		if (!near_limit(g, 2 * FDGUARD_MARGIN) &&
		    dup2(g->real, g->listener) >= 0) {
			g->swapped = false;
			log_msg(LOG_INFO, "descriptors available again: serving "
			    "new MTA connections");
		}
	}
	if (g->swapped && dup2(g->real, g->listener) >= 0)
		g->swapped = false;
	return NULL;
}

/* A listening socket nobody connects to, non-blocking, like LISTENER's. */
static int make_standin(int listener)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	if (getsockname(listener, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	fd = socket(ss.ss_family == AF_INET6 ? AF_INET6 : ss.ss_family ==
	    AF_INET ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in a;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 a;

		memset(&a, 0, sizeof(a));
		a.sin6_family = AF_INET6;
		a.sin6_addr = in6addr_loopback;
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
	}
	/* AF_UNIX: listen() binds an abstract name of its own. */
	if (listen(fd, 1) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int fdguard_start(struct fdguard *g, int listener, unsigned long limit,
		  int (*spawn)(pthread_t *, void *(*)(void *), void *))
{
	g->listener = listener;
	g->limit = limit;
	g->swapped = false;
	g->real = g->standin = g->reserve = -1;
	atomic_init(&g->stop, false);
	atomic_init(&g->shed, 0);
	g->started = false;
	if (listener < 0)
		return -1;
	g->real = fcntl(listener, F_DUPFD_CLOEXEC, 0);
	g->standin = make_standin(listener);
	g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (g->real < 0 || g->standin < 0 || g->reserve < 0 ||
	    spawn(&g->tid, guard, g) != 0) {
		if (g->real >= 0)
			close(g->real);
		if (g->standin >= 0)
			close(g->standin);
		if (g->reserve >= 0)
			close(g->reserve);
		g->real = g->standin = g->reserve = -1;
		return -1;
	}
	g->started = true;
	return 0;
}

void fdguard_stop(struct fdguard *g)
{
	if (!g->started)
		return;
	atomic_store(&g->stop, true);
	pthread_join(g->tid, NULL);	/* puts the real socket back */
	close(g->real);
	close(g->standin);
	if (g->reserve >= 0)
		close(g->reserve);
	g->real = g->standin = g->reserve = -1;
	g->started = false;
}
