/*
 * SPDX-License-Identifier: ISC
 * transport.c - TCP and command byte streams for "smtpreply probe".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

struct probe_conn {
	int rfd, wfd;		/* the same socket, or two pipes */
	pid_t pid;		/* the command, or 0 */
	int send_timeout_ms;
};

long long
probe_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int probe_split_target(const char *arg, char *host, size_t hsize, char *port,
		       size_t psize)
{
	const char *h = arg, *hend, *colon, *p = "25";

	if (arg[0] == '[') {
		h = arg + 1;
		if ((hend = strchr(h, ']')) == NULL)
			return -1;
		if (hend[1] == ':')
			p = hend + 2;
		else if (hend[1] != '\0')
			return -1;
	} else {
		colon = strchr(arg, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		hend = colon != NULL ? colon : arg + strlen(arg);
		if (colon != NULL)
			p = colon + 1;
	}
	if (hend == h || (size_t)(hend - h) >= hsize || p[0] == '\0' ||
	    strlen(p) >= psize || strspn(p, "0123456789") != strlen(p))
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	strcpy(port, p);
	return 0;
}

static struct probe_conn *new_conn(int rfd, int wfd, pid_t pid)
{
	struct probe_conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->rfd = rfd;
		c->wfd = wfd;
		c->pid = pid;
	}
	return c;
}

/* Connect FD to AI within TIMEOUT_MS: 0, or an errno value. */
static int connect_within(int fd, const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return ETIMEDOUT;
	if (n < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

struct probe_conn *probe_connect_tcp(const char *host, const char *port,
				     int timeout_ms, char *err, size_t errsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct probe_conn *c;
	int fd = -1, rc, e = 0;

	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "%s: %s", host, gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if ((e = connect_within(fd, ai, timeout_ms)) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errsize, "cannot connect to %s port %s: %s",
		    host, port, strerror(e));
		return NULL;
	}
	if ((c = new_conn(fd, fd, 0)) == NULL) {
		close(fd);
		snprintf(err, errsize, "out of memory");
	}
	return c;
}

struct probe_conn *probe_connect_exec(const char *command, char *err,
				      size_t errsize)
{
	int in[2], out[2];
	struct probe_conn *c;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) != 0) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) != 0) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return NULL;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return NULL;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides: no race with the kill at close */
	close(in[0]);
	close(out[1]);
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	if ((c = new_conn(out[0], in[1], pid)) == NULL) {
		snprintf(err, errsize, "out of memory");
		close(out[0]);
		close(in[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return c;
}

static int conn_send(void *ctx, const char *p, size_t len)
{
	struct probe_conn *c = ctx;
	long long deadline = probe_clock_ms() + c->send_timeout_ms;
	struct pollfd pfd = { .fd = c->wfd, .events = POLLOUT };
	ssize_t n;
	long long left;

	while (len > 0) {
		if (c->rfd == c->wfd)
			n = send(c->wfd, p, len, MSG_NOSIGNAL);
		else
			n = write(c->wfd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if ((left = deadline - probe_clock_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

static ssize_t conn_recv(void *ctx, char *buf, size_t size, int timeout_ms)
{
	struct probe_conn *c = ctx;
	struct pollfd pfd = { .fd = c->rfd, .events = POLLIN };
	ssize_t n;
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return PROBE_IO_TIMEOUT;
	do
		n = read(c->rfd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return PROBE_IO_TIMEOUT;
	if (n < 0 && errno == ECONNRESET)
		return 0;
	return n;
}

static long long
conn_now(void *ctx)
{
	(void)ctx;
	return probe_clock_ms();
}

void probe_conn_transport(struct probe_conn *c, int send_timeout_ms,
			  struct probe_transport *t)
{
	c->send_timeout_ms = send_timeout_ms;
	t->ctx = c;
	t->send = conn_send;
	t->recv = conn_recv;
	t->now_ms = conn_now;
}

/* Wait up to MS for the command to exit: true when it did. */
static bool reaped_within(pid_t pid, int ms)
{
	long long deadline = probe_clock_ms() + ms;
	struct timespec pause = { 0, 20 * 1000000 };

	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (probe_clock_ms() >= deadline)
			return false;
		nanosleep(&pause, NULL);
	}
}

void probe_conn_close(struct probe_conn *c)
{
	if (c == NULL)
		return;
	if (c->rfd == c->wfd) {
		close(c->rfd);
	} else {
		close(c->wfd);	/* end of input: -bs servers exit */
		close(c->rfd);
	}
	if (c->pid > 0 && !reaped_within(c->pid, 5000)) {
		kill(-c->pid, SIGTERM);
		if (!reaped_within(c->pid, 2000)) {
			kill(-c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
	}
	free(c);
}
