/*
 * SPDX-License-Identifier: ISC
 * filterserver.c - the socketmap service's sockets and event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "filterserver.h"
#include "log.h"
#include "metrics.h"
#include "sockmap.h"

/* Bytes a connection may hold unread: a whole request and then some. */
#define IN_CAP (SOCKMAP_QUERY_MAX + 64)
/* Replies held for a peer that does not read, before we stop reading. */
#define OUT_LIMIT (256 * 1024)

struct conn {
	int fd;
	char *in;		/* IN_CAP bytes */
	size_t in_len;
	struct sockmap_out out;
	time_t last;		/* last activity (CLOCK_MONOTONIC seconds) */
	bool closing;		/* a framing error: close once OUT is written */
};

struct filterserver {
	int listen_fd;
	int wake[2];		/* a byte in wake[1] stops the thread */
	char *unix_path;	/* to report only */
	char *spec;
	unsigned max_conns;
	struct conn *conns;	/* max_conns slots, fd -1 when free */
	unsigned nconns;
	struct milter_shared *sh;
	pthread_t tid;
	bool started;
	time_t accept_paused_until;	/* out of descriptors: listener off */
	time_t last_full_warning;	/* warnings at most once a minute */
	time_t last_fd_warning;
	struct filtermap_counters counters;
};

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* "inet:PORT@HOST" / "inet6:PORT@HOST": a listening TCP socket, or -1. */
static int listen_inet(const char *spec, int family)
{
	const char *rest = strchr(spec, ':') + 1, *at = strchr(rest, '@');
	struct addrinfo hints, *res = NULL, *ai;
	char port[16], *host = NULL;
	int fd = -1, on = 1, rc;
	size_t plen = at != NULL ? (size_t)(at - rest) : strlen(rest);

	if (plen == 0 || plen >= sizeof(port)) {
		log_msg(LOG_ERR, "filter: bad socket '%s'", spec);
		return -1;
	}
	memcpy(port, rest, plen);
	port[plen] = '\0';
	if (at != NULL && at[1] != '\0' && (host = strdup(at + 1)) == NULL)
		return -1;
	if (host != NULL && host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_msg(LOG_ERR, "filter: socket '%s': %s", spec,
		    gai_strerror(rc));
		free(host);
		return -1;
	}
	free(host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		log_msg(LOG_ERR, "filter: cannot listen on %s: %s (in use? "
		    "permissions?)", spec, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int listen_unix(const char *path, uid_t uid, gid_t gid, unsigned mode,
		       bool mode_set)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_msg(LOG_ERR, "filter: socket path too long: %s", path);
		return -1;
	}
	/* A socket left by an earlier run is ours to remove; nothing else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 128) != 0) {
		log_msg(LOG_ERR, "filter: cannot listen on unix:%s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (getuid() == 0 && chown(path, uid, gid) != 0) {
		log_msg(LOG_ERR, "filter: chown %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (mode_set && chmod(path, (mode_t)mode) != 0) {
		log_msg(LOG_ERR, "filter: chmod %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct filterserver *filterserver_open(const char *spec, unsigned max_conns,
				       uid_t uid, gid_t gid, unsigned mode,
				       bool mode_set)
{
	struct filterserver *fs = calloc(1, sizeof(*fs));
	unsigned i;

	if (fs == NULL)
		return NULL;
	fs->listen_fd = fs->wake[0] = fs->wake[1] = -1;
	fs->max_conns = max_conns;
	fs->last_full_warning = fs->last_fd_warning = now() - 61;
	filtermap_counters_init(&fs->counters);
	if ((fs->spec = strdup(spec)) == NULL ||
	    (fs->conns = calloc(max_conns, sizeof(*fs->conns))) == NULL)
		goto fail;
	for (i = 0; i < max_conns; i++)
		fs->conns[i].fd = -1;
	if (strncmp(spec, "inet:", 5) == 0)
		fs->listen_fd = listen_inet(spec, AF_INET);
	else if (strncmp(spec, "inet6:", 6) == 0)
		fs->listen_fd = listen_inet(spec, AF_INET6);
	else if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		fs->listen_fd = listen_unix(strchr(spec, ':') + 1, uid, gid, mode,
		    mode_set);
	else
		log_msg(LOG_ERR, "filter: bad socket '%s'", spec);
	if (fs->listen_fd < 0 || nonblock_cloexec(fs->listen_fd) != 0 ||
	    pipe(fs->wake) != 0 || nonblock_cloexec(fs->wake[0]) != 0 ||
	    nonblock_cloexec(fs->wake[1]) != 0)
		goto fail;
	return fs;
fail:
	filterserver_stop(fs);
	return NULL;
}

struct filtermap_counters *filterserver_counters(struct filterserver *fs)
{
	return &fs->counters;
}

static void conn_close(struct filterserver *fs, struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	sockmap_out_free(&c->out);
	c->closing = false;
	fs->nconns--;
}

/*
 * Take the pending connections. Out of descriptors, the listener is left
 * alone for a second (a pending connection would make poll() return at
 * once, forever); over max_connections a new one is closed at once. Each
 * warning is logged at most once a minute.
 */
static void accept_all(struct filterserver *fs)
{
	unsigned i;
	int fd, one = 1;
	time_t t;

	for (;;) {
		fd = accept4(fs->listen_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			t = now();
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				fs->accept_paused_until = t + 1;
			if (t - fs->last_fd_warning >= 60) {
				fs->last_fd_warning = t;
				log_msg(LOG_WARNING, "filter: accept: %s",
				    strerror(errno));
			}
			return;
		}
		if (fs->nconns >= fs->max_conns) {
			t = now();
			if (t - fs->last_full_warning >= 60) {
				fs->last_full_warning = t;
				log_msg(LOG_WARNING, "filter: %u connections "
				    "already (max_connections); closing new ones",
				    fs->nconns);
			}
			close(fd);
			continue;
		}
		for (i = 0; i < fs->max_conns && fs->conns[i].fd >= 0; i++)
			continue;
		fs->conns[i].in = malloc(IN_CAP);
		if (fs->conns[i].in == NULL) {
			log_msg(LOG_ERR, "filter: out of memory for a connection");
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fs->conns[i].fd = fd;
		fs->conns[i].in_len = 0;
		fs->conns[i].closing = false;
		fs->conns[i].last = now();
		sockmap_out_init(&fs->conns[i].out);
		fs->nconns++;
		atomic_fetch_add_explicit(&fs->counters.connections, 1,
		    memory_order_relaxed);
	}
}

struct answer_ctx {
	struct filtermap_options opts;
	struct filtermap_counters *counters;
};

static void answer(void *arg, const struct sockmap_request *req,
		   struct sockmap_out *out)
{
	struct answer_ctx *a = arg;

	filtermap_answer(req, &a->opts, a->counters, out);
}

/* Answer what C holds; false when C must be closed now. */
static bool serve(struct filterserver *fs, struct conn *c)
{
	struct answer_ctx a;
	struct sockmap_served sv;
	struct conf *cfg;

	if (c->closing || c->in_len == 0)
		return true;
	cfg = milter_conf_get(fs->sh);
	a.opts.policy = &cfg->policy;
	a.opts.utf8 = cfg->utf8;
	a.counters = &fs->counters;
	sv = sockmap_serve(c->in, c->in_len, &c->out, OUT_LIMIT, answer, &a);
	conf_unref(cfg);
	if (sv.used > 0) {
		memmove(c->in, c->in + sv.used, c->in_len - sv.used);
		c->in_len -= sv.used;
	}
	if (sv.nomem) {
		log_msg(LOG_ERR, "filter: out of memory; closing a connection");
		return false;
	}
	if (sv.error != NETSTRING_OK && sv.error != NETSTRING_INCOMPLETE) {
		atomic_fetch_add_explicit(&fs->counters.bad_requests, 1,
		    memory_order_relaxed);
		log_msg(LOG_WARNING, "filter: bad socketmap request (%s); "
		    "closing the connection", netstring_status_name(sv.error));
		c->closing = true;
		c->in_len = 0;
	}
	return true;
}

/* Read what there is; false when C is done (EOF, error). */
static bool conn_read(struct conn *c)
{
	ssize_t n;

	while (c->in_len < IN_CAP) {
		n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return false;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK;
	}
	return true;
}

/* Write what there is; false on an error. */
static bool conn_write(struct conn *c)
{
	ssize_t n;

	while (c->out.len > 0) {
		n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
		if (n > 0) {
			sockmap_out_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return true;
}

static void *run(void *arg)
{
	struct filterserver *fs = arg;
	struct pollfd *pfd;
	unsigned *slot, i, n;
	time_t t;

	pfd = calloc(fs->max_conns + 2, sizeof(*pfd));
	slot = calloc(fs->max_conns + 2, sizeof(*slot));
	if (pfd == NULL || slot == NULL) {
		log_msg(LOG_ERR, "filter: out of memory; the socketmap service "
		    "stops");
		free(pfd);
		free(slot);
		return NULL;
	}
	for (;;) {
		pfd[0].fd = fs->wake[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = fs->listen_fd;
		pfd[1].events = now() >= fs->accept_paused_until ? POLLIN : 0;
		n = 2;
		for (i = 0; i < fs->max_conns; i++) {
			struct conn *c = &fs->conns[i];

			if (c->fd < 0)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = (short)((c->out.len > 0 ? POLLOUT : 0) |
			    (!c->closing && c->out.len < OUT_LIMIT &&
			    c->in_len < IN_CAP ? POLLIN : 0));
			pfd[n].revents = 0;
			slot[n++] = i;
		}
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "filter: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents & POLLIN)
			accept_all(fs);
		t = now();
		for (i = 2; i < n; i++) {
			struct conn *c = &fs->conns[slot[i]];
			bool alive = true;

			if (pfd[i].revents == 0) {
				if (t - c->last > FILTERSERVER_IDLE_SECONDS)
					conn_close(fs, c);
				continue;
			}
			c->last = t;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				alive = conn_read(c);
			/* Answer what came, even from a peer that closed. */
			if (!serve(fs, c))
				alive = false;
			if (!conn_write(c) || !alive ||
			    (c->closing && c->out.len == 0))
				conn_close(fs, c);
		}
	}
	free(pfd);
	free(slot);
	return NULL;
}

int filterserver_start(struct filterserver *fs, struct milter_shared *sh,
		       filterserver_spawn_fn spawn)
{
	int rc;

	fs->sh = sh;
	if ((rc = spawn(&fs->tid, run, fs)) != 0) {
		log_msg(LOG_ERR, "filter: cannot start the thread: %s",
		    strerror(rc));
		return -1;
	}
	fs->started = true;
	return 0;
}

void filterserver_stop(struct filterserver *fs)
{
	unsigned i;

	if (fs == NULL)
		return;
	if (fs->started) {
		(void)!write(fs->wake[1], "x", 1);
		pthread_join(fs->tid, NULL);
	}
	for (i = 0; fs->conns != NULL && i < fs->max_conns; i++)
		if (fs->conns[i].fd >= 0)
			conn_close(fs, &fs->conns[i]);
	if (fs->listen_fd >= 0)
		close(fs->listen_fd);
	if (fs->wake[0] >= 0)
		close(fs->wake[0]);
	if (fs->wake[1] >= 0)
		close(fs->wake[1]);
	free(fs->conns);
	free(fs->spec);
	free(fs->unix_path);
	free(fs);
}

struct filterserver *filterserver_from_config(const struct conf *cfg,
					      uid_t uid, gid_t gid,
					      bool *failed)
{
	const struct filterconf *fc = &cfg->filter;
	struct filterserver *fs;
	struct group *gr;

	*failed = false;
	if (fc->socket == NULL)
		return NULL;
	if (fc->group != NULL) {
		if ((gr = getgrnam(fc->group)) == NULL) {
			log_msg(LOG_ERR, "filter: unknown group '%s'", fc->group);
			*failed = true;
			return NULL;
		}
		gid = gr->gr_gid;
	}
	fs = filterserver_open(fc->socket, fc->max_connections, uid, gid,
	    fc->socket_mode_set ? fc->socket_mode : cfg->socket_mode,
	    fc->socket_mode_set || cfg->socket_mode_set);
	*failed = fs == NULL;
	return fs;
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void filterserver_check_reload(const struct conf *cur,
			       const struct conf *cfg)
{
	const struct filterconf *a = &cur->filter, *b = &cfg->filter;

	if (!same(a->socket, b->socket) || !same(a->group, b->group) ||
	    a->socket_mode_set != b->socket_mode_set ||
	    a->socket_mode != b->socket_mode ||
	    a->max_connections != b->max_connections)
		log_msg(LOG_WARNING, "reload: the filter's socket, socket_mode, "
		    "group and max_connections take effect at the next start "
		    "only");
}

#define NS "smtpreply_milter_filter_"

static unsigned long long load(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void filterserver_collect(struct metrics_out *o, void *arg)
{
	const struct filtermap_counters *c = arg;
	struct metrics_label l[2];
	char code[8];
	int k, i;

	metrics_family(o, NS "connections_total", METRICS_COUNTER,
	    "Socketmap connections the reply filter has taken.");
	metrics_sample(o, NS "connections_total", NULL, 0, load(&c->connections));
	metrics_family(o, NS "bad_requests_total", METRICS_COUNTER,
	    "Socketmap requests refused: broken framing or an unknown map.");
	metrics_sample(o, NS "bad_requests_total", NULL, 0,
	    load(&c->bad_requests));
	metrics_family(o, NS "lookups_total", METRICS_COUNTER,
	    "Lookups by map (reject: smtpd_reject_filter_maps, reply: "
	    "smtp_reply_filter) and outcome (changed: answered OK with the "
	    "normalized reply; the others: NOTFOUND or TEMP).");
	l[0].name = "map";
	l[1].name = "outcome";
	for (k = 0; k < FILTERMAP__COUNT; k++)
		for (i = 0; i <= FILTERMAP_NOMEM; i++) {
			l[0].value = filtermap_name((enum filtermap_kind)k);
			l[1].value = filtermap_outcome_name(
			    (enum filtermap_outcome)i);
			metrics_sample(o, NS "lookups_total", l, 2,
			    load(&c->outcomes[k][i]));
		}
	metrics_family(o, NS "normalizations_total", METRICS_COUNTER,
	    "Changes the reply filter made, by map and diagnostic id.");
	l[1].name = "diagnostic";
	for (k = 0; k < FILTERMAP__COUNT; k++)
		for (i = 0; i < SR_D__COUNT; i++) {
			l[0].value = filtermap_name((enum filtermap_kind)k);
			l[1].value = sr_diag_name((enum sr_diag_id)i);
			metrics_sample(o, NS "normalizations_total", l, 2,
			    load(&c->normalized[k][i]));
		}
	metrics_family(o, NS "nonstandard_codes_total", METRICS_COUNTER,
	    "Non-standard basic codes the reply filter replaced, by map and "
	    "code (codes seen only).");
	l[1].name = "code";
	for (k = 0; k < FILTERMAP__COUNT; k++)
		for (i = 0; i < 1000; i++) {
			unsigned long long v = load(&c->nonstandard[k][i]);

			if (v == 0)
				continue;
			snprintf(code, sizeof(code), "%03d", i);
			l[0].value = filtermap_name((enum filtermap_kind)k);
			l[1].value = code;
			metrics_sample(o, NS "nonstandard_codes_total", l, 2, v);
		}
}
