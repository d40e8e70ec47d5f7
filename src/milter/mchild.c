/*
 * SPDX-License-Identifier: ISC
 * mchild.c - sockets to proxy children, with timeouts. See mchild.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mchild.h"

enum kind { K_UNIX, K_INET, K_INET6 };

struct target {
	enum kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];
	char port[8];
};

static void set_err(char *err, size_t size, const char *what, int e)
{
	if (err == NULL || size == 0)
		return;
	if (e != 0)
		snprintf(err, size, "%s: %s", what, strerror(e));
	else
		snprintf(err, size, "%s", what);
}

static int parse_spec(const char *spec, struct target *t, char *err,
		      size_t errsize)
{
	const char *rest, *at;
	size_t n;
	long port;
	char *end;

	memset(t, 0, sizeof(*t));
	if (spec == NULL || spec[0] == '\0') {
		set_err(err, errsize, "empty socket", 0);
		return -1;
	}
	if (spec[0] == '/' || strncmp(spec, "unix:", 5) == 0 ||
	    strncmp(spec, "local:", 6) == 0) {
		rest = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
		n = strlen(rest);
		if (rest[0] != '/' || n >= sizeof(t->path)) {
			set_err(err, errsize, "a unix socket needs an absolute "
			    "path shorter than 108 bytes", 0);
			return -1;
		}
		t->kind = K_UNIX;
		memcpy(t->path, rest, n + 1);
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		t->kind = K_INET;
		rest = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		t->kind = K_INET6;
		rest = spec + 6;
	} else {
		set_err(err, errsize, "socket must start with unix:, local:, "
		    "inet: or inet6:", 0);
		return -1;
	}
	errno = 0;
	port = strtol(rest, &end, 10);
	if (end == rest || errno != 0 || port < 1 || port > 65535 ||
	    (*end != '\0' && *end != '@')) {
		set_err(err, errsize, "socket needs a port 1-65535 "
		    "(inet:PORT@HOST)", 0);
		return -1;
	}
	snprintf(t->port, sizeof(t->port), "%ld", port);
	at = *end == '@' ? end + 1 : NULL;
	if (at == NULL || *at == '\0')
		at = t->kind == K_INET6 ? "::1" : "127.0.0.1";
	n = strlen(at);
	if (n >= sizeof(t->host)) {
		set_err(err, errsize, "host name too long", 0);
		return -1;
	}
	/* "[::1]" is accepted for an IPv6 literal. */
	if (at[0] == '[' && n > 2 && at[n - 1] == ']') {
		memcpy(t->host, at + 1, n - 2);
		t->host[n - 2] = '\0';
	} else {
		memcpy(t->host, at, n + 1);
	}
	return 0;
}

int mchild_socket_check(const char *spec, char *err, size_t errsize)
{
	struct target t;

	return parse_spec(spec, &t, err, errsize);
}

void mchild_init(struct mchild_conn *c)
{
	c->fd = -1;
	c->local = false;
	mclient_reader_init(&c->rd, 0);
	mclient_buf_init(&c->out);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		long long left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			continue;	/* loop re-checks the deadline */
		if (errno != EINTR)
			return -1;
	}
}

static int connect_one(int family, const struct sockaddr *sa, socklen_t salen,
		       long long deadline, char *err, size_t errsize)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e = 0, rc;
	socklen_t elen = sizeof(e);

	if (fd < 0) {
		set_err(err, errsize, "socket", errno);
		return -1;
	}
	if (connect(fd, sa, salen) == 0)
		goto ok;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		set_err(err, errsize, "connect", errno);
		close(fd);
		return -1;
	}
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc <= 0) {
		set_err(err, errsize, rc == 0 ? "connect: timed out" :
		    "connect", rc == 0 ? 0 : errno);
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0 || e != 0) {
		set_err(err, errsize, "connect", e != 0 ? e : errno);
		close(fd);
		return -1;
	}
ok:
	if (family != AF_UNIX) {
		int one = 1;

		/* Small request/answer packets: no Nagle delay. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	}
	return fd;
}

int mchild_connect(struct mchild_conn *c, const char *spec, int timeout_ms,
		   char *err, size_t errsize)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	struct target t;

	mchild_close(c);
	c->local = false;
	if (parse_spec(spec, &t, err, errsize) != 0)
		return -1;
	if (t.kind == K_UNIX) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, t.path, strlen(t.path) + 1);
		c->fd = connect_one(AF_UNIX, (struct sockaddr *)&sun,
		    sizeof(sun), deadline, err, errsize);
		c->local = true;
	} else {
		struct addrinfo hints, *res = NULL, *ai;
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = t.kind == K_INET6 ? AF_INET6 : AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(t.host, t.port, &hints, &res);
		if (rc != 0) {
			if (err != NULL && errsize > 0)
				snprintf(err, errsize, "cannot resolve %s: %s",
				    t.host, gai_strerror(rc));
			return -1;
		}
		for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
			c->fd = connect_one(ai->ai_family, ai->ai_addr,
			    ai->ai_addrlen, deadline, err, errsize);
		freeaddrinfo(res);
	}
	return c->fd >= 0 ? 0 : -1;
}

int mchild_flush(struct mchild_conn *c, int timeout_ms, char *err,
		 size_t errsize)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	size_t off = 0;

	if (c->fd < 0) {
		set_err(err, errsize, "not connected", 0);
		return -1;
	}
	if (c->out.failed) {
		set_err(err, errsize, "out of memory", 0);
		mclient_buf_reset(&c->out);
		return -1;
	}
	while (off < c->out.len) {
		ssize_t k = send(c->fd, c->out.p + off, c->out.len - off,
		    MSG_NOSIGNAL);

		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c->fd, POLLOUT, deadline);

			if (rc > 0)
				continue;
			set_err(err, errsize, rc == 0 ? "write: timed out" :
			    "write", rc == 0 ? 0 : errno);
			mclient_buf_reset(&c->out);
			return -1;
		}
		set_err(err, errsize, "write", k < 0 ? errno : EPIPE);
		mclient_buf_reset(&c->out);
		return -1;
	}
	mclient_buf_reset(&c->out);
	return 0;
}

int mchild_read(struct mchild_conn *c, int timeout_ms, char *cmd,
		const unsigned char **data, size_t *len, char *err,
		size_t errsize)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	unsigned char buf[16384];

	if (c->fd < 0) {
		set_err(err, errsize, "not connected", 0);
		return -1;
	}
	for (;;) {
		ssize_t k;
		int rc;

		switch (mclient_reader_take(&c->rd, cmd, data, len)) {
		case MCLIENT_TAKE_PACKET:
			return 0;
		case MCLIENT_TAKE_BROKEN:
			set_err(err, errsize, "packet length zero or over "
			    "the bound", 0);
			return -1;
		case MCLIENT_TAKE_NEED_MORE:
			break;
		}
		rc = wait_fd(c->fd, POLLIN, deadline);
		if (rc <= 0) {
			set_err(err, errsize, rc == 0 ? "read: timed out" :
			    "read", rc == 0 ? 0 : errno);
			return -1;
		}
		k = recv(c->fd, buf, sizeof(buf), 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			set_err(err, errsize, k == 0 ? "connection closed by "
			    "the child" : "read", k == 0 ? 0 : errno);
			return -1;
		}
		if (mclient_reader_feed(&c->rd, buf, (size_t)k) != 0) {
			set_err(err, errsize, "out of memory", 0);
			return -1;
		}
	}
}

void mchild_ack_now(struct mchild_conn *c)
{
	int one = 1;

	if (c->fd >= 0 && !c->local)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
}

void mchild_close(struct mchild_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mclient_reader_free(&c->rd);
	mclient_reader_init(&c->rd, 0);
	mclient_buf_reset(&c->out);
}

void mchild_free(struct mchild_conn *c)
{
	mchild_close(c);
	mclient_reader_free(&c->rd);
	mclient_buf_free(&c->out);
}
