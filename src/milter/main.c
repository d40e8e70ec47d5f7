/*
 * SPDX-License-Identifier: ISC
 * main.c - smtpreply-milter: options, socket, privileges, signals, reload.
 *
 * Start-up: load and check the configuration (all errors at once), open
 * the milter socket as root when needed, detach unless -f, write the pid
 * file, drop privileges to the configured user (never serve mail as root
 * unless "-u root" says so), then run libmilter.
 *
 * Signals: libmilter's own signal thread takes SIGHUP, SIGTERM and SIGINT
 * by sigwait() in the threads smfi_main() creates, and stops the milter on
 * SIGHUP. So smfi_main() runs in a thread of its own, created with those
 * signals (and SIGUSR1) blocked, and the main thread keeps them unblocked
 * with handlers that write the signal number to a pipe; on Linux a signal
 * sent to the process goes to the main thread first when it can take it.
 * The main thread then reloads (SIGHUP), logs the counters (SIGUSR1) or
 * stops libmilter (SIGTERM, SIGINT).
 */
#include "config.h"	/* autoconf: PACKAGE_VERSION */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "conftest.h"
#include "filterserver.h"
#include "log.h"
#include "daemon.h"
#include "fdguard.h"
#include "listener.h"
#include "metrics_http.h"
#include "milter.h"
#include "notify.h"
#include "pidfile.h"
#include "proxy_metrics.h"
#include "reloader.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/smtpreply/smtpreply.conf"
#define PROGNAME "smtpreply-milter"

struct options {
	const char *config;		/* -c, or the default file if it exists */
	const char *socket;		/* -p */
	const char *user;		/* -u */
	const char *metrics;		/* -m */
	bool foreground;		/* -f */
	bool test;			/* -t */
	int debug;			/* -d */
};

/* The signal pipe: written by handlers, read by the main thread. */
static int sig_pipe[2] = { -1, -1 };

/* The signals the main thread handles; every other thread blocks them. */
static const int main_signals[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: " PROGNAME " [-c FILE] [-p SOCKET] [-u USER] [-m SOCKET] "
	    "[-f] [-t]\n        [-d LEVEL] [-V]\n"
	    "  -c FILE    configuration (default " DEFAULT_CONFIG
	    " if it exists,\n"
	    "             else built-in defaults)\n"
	    "  -p SOCKET  inet:PORT@HOST, inet6:PORT@HOST or unix:PATH "
	    "(overrides 'socket')\n"
	    "  -u USER    serve mail as USER (overrides 'user'; '-u root' to "
	    "stay root)\n"
	    "  -m SOCKET  serve Prometheus metrics at /metrics on "
	    "inet:PORT@HOST or\n"
	    "             inet6:PORT@HOST (default HOST: loopback; "
	    "overrides 'metrics')\n"
	    "  -f         stay in the foreground, log to standard error\n"
	    "  -t         check the configuration, print every reply as it "
	    "will be sent\n"
	    "  -d LEVEL   debug (0-9): log level debug; libmilter's debug level\n"
	    "  -V         print the version\n");
}

/* SIGUSR2 only interrupts the milter thread's poll() (see stop_milter). */
static void on_wake(int sig)
{
	(void)sig;
}

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	while ((c = getopt(argc, argv, "c:p:u:m:ftd:Vh")) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			o->socket = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'm':
			o->metrics = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
			o->test = true;
			break;
		case 'd':
			errno = 0;
			o->debug = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o->debug < 0 ||
			    o->debug > 9) {
				fprintf(stderr, PROGNAME ": -d: a level from 0 to 9, "
				    "not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'V':
			printf(PROGNAME " " PACKAGE_VERSION "\n");
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROGNAME ": unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Load PATH; print every error. Returns the configuration or NULL. */
static struct conf *load(const char *path, bool to_stderr)
{
	struct conf_errors errs;
	struct conf *cfg = NULL;
	size_t i;

	conf_errors_init(&errs);
	if (conf_load(path, &cfg, &errs) != 0) {
		for (i = 0; i < errs.n; i++) {
			if (to_stderr)
				fprintf(stderr, "%s\n", errs.lines[i]);
			else
				log_msg(LOG_ERR, "%s", errs.lines[i]);
		}
		cfg = NULL;
	}
	conf_errors_free(&errs);
	return cfg;
}

static const char *unix_path(const char *socket)
{
	if (strncmp(socket, "unix:", 5) == 0)
		return socket + 5;
	if (strncmp(socket, "local:", 6) == 0)
		return socket + 6;
	return NULL;
}

/*
 * What is at a unix socket's path must be nothing or a socket: libmilter
 * would fail on anything else with no reason given. 0, or -1 with ERR.
 */
static int unix_path_check(const char *socket, char *err, size_t errsize)
{
	const char *path = unix_path(socket);
	struct stat st;

	if (path == NULL || lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errsize, "%s exists and is not a socket (it is "
		    "left alone; remove it or choose another path)", path);
		return -1;
	}
	return 0;
}

/* Unix socket mode and owner; the group of the socket is cfg->group. */
static int fix_unix_socket(const struct conf *cfg, const char *socket,
			   uid_t uid, gid_t gid)
{
	const char *path = unix_path(socket);

	if (path == NULL)
		return 0;
	if (getuid() == 0 && chown(path, uid, gid) != 0) {
		log_errno(LOG_ERR, errno, "chown %s", path);
		return -1;
	}
	if (cfg->socket_mode_set && chmod(path, (mode_t)cfg->socket_mode) != 0) {
		log_errno(LOG_ERR, errno, "chmod %s", path);
		return -1;
	}
	return 0;
}

/* Who mail is served as: USER (NULL: stay who we are, unless root). */
static int resolve_user(const char *user, const char *group, uid_t *uid,
			gid_t *gid, bool *drop)
{
	struct passwd *pw;
	struct group *gr;

	*uid = getuid();
	*gid = getgid();
	*drop = false;
	if (user == NULL) {
		if (getuid() == 0) {
			log_msg(LOG_ERR, "running as root: set 'user' in the "
			    "configuration or give -u USER (\"-u root\" to serve "
			    "mail as root, which is not recommended)");
			return -1;
		}
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_msg(LOG_ERR, "unknown user '%s'", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			log_msg(LOG_ERR, "unknown group '%s'", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (*uid != getuid() || *gid != getgid()) {
		if (getuid() != 0) {
			log_msg(LOG_ERR, "cannot become user '%s': not running "
			    "as root", user);
			return -1;
		}
		*drop = true;
	}
	if (*uid == 0)
		log_msg(LOG_WARNING, "serving mail as root, as \"%s\" asks",
		    user);
	return 0;
}

static int drop_privileges(const char *user, uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 && errno != EPERM) {
		log_errno(LOG_ERR, errno, "setgroups");
		return -1;
	}
	if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		log_errno(LOG_ERR, errno, "cannot become user '%s'", user);
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		log_msg(LOG_ERR, "privileges could be regained after the drop");
		return -1;
	}
	return 0;
}

/*
 * Go to the background. The parent stays until the child says it serves
 * mail (or dies trying), so that its exit status tells a start script the
 * truth. Returns the descriptor the child reports on, or -1.
 */
static int detach(void)
{
	int p[2], fd;
	pid_t pid;
	char b = 0;

	if (pipe(p) != 0) {
		log_errno(LOG_ERR, errno, "pipe");
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_errno(LOG_ERR, errno, "fork");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &b, 1) < 0 && errno == EINTR)
			continue;
		if (b == 'R')
			_exit(0);
		fprintf(stderr, PROGNAME ": not started (see the mail log)\n");
		_exit(1);
	}
	close(p[0]);
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	if (setsid() < 0 || chdir("/") != 0) {
		log_errno(LOG_ERR, errno, "setsid/chdir");
		return -1;
	}
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return p[1];
}

static int write_pidfile(const char *path)
{
	char err[128];

	if (pidfile_write(path, getpid(), err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "pid file %s: %s", path, err);
		return -1;
	}
	return 0;
}

struct milter_thread {
	pthread_t tid;
	int rc;
};

static void *run_milter(void *arg)
{
	struct milter_thread *mt = arg;
	unsigned char zero = 0;

	mt->rc = smfi_main();
	/* Wake the main thread: libmilter stopped (or failed). */
	(void)!write(sig_pipe[1], &zero, 1);
	return NULL;
}

static int setup_signals(void)
{
	struct sigaction sa;
	size_t i;

	if (pipe(sig_pipe) != 0) {
		log_errno(LOG_ERR, errno, "pipe");
		return -1;
	}
	(void)fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
	(void)fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(main_signals) / sizeof(main_signals[0]); i++)
		if (sigaction(main_signals[i], &sa, NULL) != 0)
			return -1;
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_wake;
	sa.sa_flags = 0;		/* no SA_RESTART: poll() returns EINTR */
	(void)sigaction(SIGUSR2, &sa, NULL);
	return 0;
}

/*
 * Create a thread running FN(ARG) with the main thread's signals blocked,
 * so that they reach the main thread (libmilter's threads inherit that).
 * Returns pthread_create's result.
 */
static int spawn_thread(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;
	size_t i;
	int rc;

	sigemptyset(&set);
	for (i = 0; i < sizeof(main_signals) / sizeof(main_signals[0]); i++)
		sigaddset(&set, main_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = pthread_create(tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Start smfi_main() in a thread of its own. */
static int start_milter(struct milter_thread *mt)
{
	int rc = spawn_thread(&mt->tid, run_milter, mt);

	if (rc != 0) {
		log_errno(LOG_ERR, rc, "cannot start the milter thread");
		return -1;
	}
	return 0;
}

static void *call_smfi_stop(void *arg)
{
	atomic_bool *done = arg;

	(void)smfi_stop();
	atomic_store(done, true);
	return NULL;
}

/*
 * Stop libmilter promptly. smfi_stop() waits for a lock that libmilter's
 * listener holds while it sits in poll(), for up to 5 s: call it from a
 * helper thread and meanwhile interrupt that poll() (SIGUSR2, a handler
 * that does nothing) until it has gone through.
 */
static void stop_milter(struct milter_thread *mt)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	atomic_bool done = false;
	pthread_t tid;
	int i;

	if (spawn_thread(&tid, call_smfi_stop, &done) != 0) {
		(void)smfi_stop();
		return;
	}
	for (i = 0; i < 500 && !atomic_load(&done); i++) {
		(void)pthread_kill(mt->tid, SIGUSR2);
		nanosleep(&tick, NULL);
	}
	pthread_join(tid, NULL);
	(void)pthread_kill(mt->tid, SIGUSR2);
}

static void log_config(const struct conf *cfg, const char *socket,
		       const char *what)
{
	log_msg(LOG_INFO, "%s: configuration %s, %zu rule%s, socket %s, "
	    "on_error %s, audit_mta_rejects %s%s%s", what,
	    cfg->file != NULL ? cfg->file : "(built-in defaults)",
	    cfg->rules.nrules, cfg->rules.nrules == 1 ? "" : "s", socket,
	    cfg->on_error == CONF_ON_ERROR_ACCEPT ? "accept" : "tempfail",
	    cfg->audit_mta_rejects ? "yes" : "no",
	    cfg->filter.socket != NULL ? ", filter socket " : "",
	    cfg->filter.socket != NULL ? cfg->filter.socket : "");
	conftest_log_changes(cfg);
}

static bool same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* What the reload thread needs. */
struct reload_ctx {
	struct milter_shared *sh;
	const char *path;
	const char *socket;
	int debug;
};

/* One reload, on the reload thread (reloader.h); MERGED requests led to it. */
static void reload(void *arg, unsigned long merged)
{
	const struct reload_ctx *rc = arg;
	struct milter_shared *sh = rc->sh;
	struct conf *cfg, *cur;

	if (rc->path == NULL) {
		log_msg(LOG_INFO, "reload: no configuration file, nothing to "
		    "reload (built-in defaults)");
		return;
	}
	(void)notify_send("RELOADING=1");
	if (merged > 1)
		log_msg(LOG_INFO, "reload: reading %s (%lu requests merged)",
		    rc->path, merged);
	else
		log_msg(LOG_INFO, "reload: reading %s", rc->path);
	if ((cfg = load(rc->path, false)) == NULL) {
		log_msg(LOG_ERR, "reload: %s has errors; keeping the running "
		    "configuration", rc->path);
		counters_reload(&sh->counters, false);
		(void)notify_send("READY=1");
		return;
	}
	cur = milter_conf_get(sh);
	if (strcmp(cur->socket, cfg->socket) != 0 ||
	    !same_string(cur->user, cfg->user) ||
	    !same_string(cur->group, cfg->group) ||
	    !same_string(cur->pidfile, cfg->pidfile) ||
	    cur->socket_mode_set != cfg->socket_mode_set ||
	    cur->socket_mode != cfg->socket_mode ||
	    !same_string(cur->metrics, cfg->metrics) ||
	    cur->session_timeout != cfg->session_timeout)
		log_msg(LOG_WARNING, "reload: socket, socket_mode, user, group, "
		    "pidfile, metrics and session_timeout take effect at the "
		    "next start only");
	filterserver_check_reload(cur, cfg);
	conf_unref(cur);
	log_reconfigure(cfg->log_facility, rc->debug > 0 ? LOG_DEBUG :
	    cfg->log_level);
	log_config(cfg, rc->socket, "reloaded");
	milter_conf_swap(sh, cfg);
	counters_reload(&sh->counters, true);
	(void)notify_send("READY=1");
}

/*
 * Let the sessions in flight end, at most SECONDS, before libmilter is
 * stopped: Debian's libmilter (built with its workers pool) serves no
 * session once smfi_stop() has been called, so the drain comes first.
 * Meanwhile new MTA connections are closed at negotiation (the MTA
 * applies its default action for them). A second SIGTERM or SIGINT ends
 * the wait at once.
 */
static void drain_sessions(struct milter_shared *sh, int seconds)
{
	struct timespec t0, now;
	unsigned n;

	atomic_store(&sh->draining, true);
	n = atomic_load(&sh->active);
	if (n == 0)
		return;
	log_msg(LOG_INFO, "stopping: no new sessions; waiting up to %d s for "
	    "%u session%s in flight", seconds, n, n == 1 ? "" : "s");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&sh->active) > 0) {
		struct pollfd p = { sig_pipe[0], POLLIN, 0 };
		unsigned char b;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= seconds)
			break;
		if (poll(&p, 1, 20) == 1 && read(sig_pipe[0], &b, 1) == 1 &&
		    (b == SIGTERM || b == SIGINT)) {
			log_msg(LOG_INFO, "stopping: second signal %d, not "
			    "waiting any longer", b);
			break;
		}
	}
	if ((n = atomic_load(&sh->active)) > 0)
		log_msg(LOG_WARNING, "stopping: %u session%s still open %s cut",
		    n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
}

/* Wait for the milter thread, at most SECONDS; true when it ended. */
static bool join_milter(struct milter_thread *mt, int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	return pthread_timedjoin_np(mt->tid, NULL, &ts) == 0;
}

/* What both paths start from: the options, the loaded configuration and
 * the values the options override. */
struct startup {
	struct options o;
	char *path;			/* the configuration file; NULL: built in */
	struct conf *cfg;
	const char *socket;		/* -p, else the configuration's */
	const char *user;		/* -u, else the configuration's */
	const char *metrics;		/* -m, else the configuration's; NULL: off */
	bool milter_on;			/* socket is not "none" */
	struct filterserver *fs;	/* the reply filter, when configured */
};

static void startup_free(struct startup *st)
{
	conf_unref(st->cfg);
	free(st->path);
}

/*
 * Parse the options, load the configuration (every error to standard
 * error) and apply the overrides. Returns 0, or the exit status to
 * leave with (1: the configuration, 2: usage) with nothing left to free.
 */
static int startup(int argc, char **argv, struct startup *st)
{
	char err[256];

	memset(st, 0, sizeof(*st));
	if (parse_options(argc, argv, &st->o) != 0)
		return 2;
	if (st->o.config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		st->o.config = DEFAULT_CONFIG;
	if (st->o.config != NULL &&
	    (st->path = realpath(st->o.config, NULL)) == NULL) {
		fprintf(stderr, "%s: cannot read the file: %s\n", st->o.config,
		    strerror(errno));
		return 1;
	}
	if ((st->cfg = load(st->path, true)) == NULL) {
		if (st->o.test)
			fprintf(stderr, "%s: configuration has errors\n", st->path);
		free(st->path);
		return 1;
	}
	st->socket = st->o.socket != NULL ? st->o.socket : st->cfg->socket;
	if (strcmp(st->socket, CONF_NO_SOCKET) != 0 &&
	    conf_socket_check(st->socket, err, sizeof(err)) != 0) {
		fprintf(stderr, PROGNAME ": -p '%s': %s\n", st->socket, err);
		startup_free(st);
		return 2;
	}
	st->milter_on = strcmp(st->socket, CONF_NO_SOCKET) != 0;
	if (!st->milter_on && st->cfg->filter.socket == NULL) {
		fprintf(stderr, PROGNAME ": socket \"none\" and no filter socket: "
		    "nothing to serve\n");
		startup_free(st);
		return st->o.socket != NULL ? 2 : 1;
	}
	st->user = st->o.user != NULL ? st->o.user : st->cfg->user;
	st->metrics = st->o.metrics != NULL ? st->o.metrics : st->cfg->metrics;
	if (st->metrics != NULL && st->metrics[0] == '\0')
		st->metrics = NULL;
	if (st->o.metrics != NULL && st->metrics != NULL) {
		struct sockaddr_storage ss;
		unsigned sslen;

		if (metrics_listen_parse(st->metrics, &ss, &sslen, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, PROGNAME ": -m '%s': %s\n", st->metrics,
			    err);
			startup_free(st);
			return 2;
		}
	}
	return 0;
}

/* -t: check what the configuration names, print every reply. */
static int test_config(struct startup *st)
{
	const char *where = st->path != NULL ? st->path : "built-in defaults";
	int status = 1;

	if (st->user != NULL && getpwnam(st->user) == NULL)
		fprintf(stderr, "%s: unknown user '%s'\n", where, st->user);
	else if (st->cfg->group != NULL && getgrnam(st->cfg->group) == NULL)
		fprintf(stderr, "%s: unknown group '%s'\n", where,
		    st->cfg->group);
	else {
		conftest_print(stdout, st->cfg, st->socket, st->user);
		fflush(stdout);
		/* A reply that needed its basic code recovered: exit 1. */
		status = conftest_strict(stderr, st->cfg) > 0 ? 1 : 0;
	}
	startup_free(st);
	return status;
}

/*
 * The main thread while libmilter serves: ask the reload thread for a
 * reload on SIGHUP, log the counters on SIGUSR1, drain the sessions and
 * stop libmilter on SIGTERM and SIGINT. Returns the exit status once
 * libmilter has stopped.
 */
static int handle_signals(struct milter_shared *sh, struct milter_thread *mt,
			  const struct startup *st, struct reloader *rl,
			  struct fdguard *fg)
{
	int status = 0;

	for (;;) {
		unsigned char b;
		ssize_t n = read(sig_pipe[0], &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_errno(LOG_ERR, errno, "signal pipe");
			return status;
		}
		switch (b) {
		case SIGHUP:
			reloader_request(rl);	/* off this thread, merged */
			break;
		case SIGUSR1:
			counters_log(&sh->counters);
			log_msg(LOG_INFO, "counters: sessions_open=%u "
			    "configurations_in_memory=%u",
			    (unsigned)atomic_load(&sh->active), conf_alive_count());
			milter_proxy_log(sh);
			if (st->fs != NULL)
				filtermap_counters_log(filterserver_counters(st->fs));
			break;
		case SIGTERM:
		case SIGINT:
			log_msg(LOG_INFO, "stopping on signal %d", b);
			(void)notify_send("STOPPING=1");
			drain_sessions(sh, 10);
			fdguard_stop(fg);
			if (st->milter_on)
				stop_milter(mt);
			return status;
		case 0:
			fdguard_stop(fg);
			log_msg(mt->rc == MI_SUCCESS ? LOG_INFO : LOG_ERR,
			    "libmilter stopped%s", mt->rc == MI_SUCCESS ? "" :
			    " with an error");
			return mt->rc == MI_SUCCESS ? 0 : 1;
		default:
			break;
		}
	}
}

/*
 * Serve mail: open the socket as root, detach unless -f, write the pid
 * file, start the metrics endpoint, drop privileges, run libmilter in its
 * thread and handle signals until it stops. Returns the exit status.
 */
/* Collector: the proxy's children of the configuration in use. */
static void collect_children(struct metrics_out *o, void *arg)
{
	struct conf *cfg = milter_conf_get(arg);

	proxy_metrics_write(o, &cfg->proxy);
	conf_unref(cfg);
}

static int serve(struct startup *st)
{
	static struct milter_shared sh;
	static struct metrics_registry metrics_reg;
	struct metrics_http *metrics = NULL;
	struct milter_thread mt = { 0, 0 };
	static struct reloader rl;
	static struct fdguard fg;
	struct reload_ctx rctx;
	struct conf *cfg = st->cfg;
	char *pidfile = NULL;
	char err[160];
	unsigned long nofile;
	int milter_lfd;
	uid_t uid;
	gid_t gid;
	bool drop, fs_failed;
	int status, ready = -1, rc;

	/* A daemon keeps nothing its parent had open (before anything of
	 * ours is opened: the configuration file is closed already). */
	(void)daemon_close_inherited();

	log_open(PROGNAME, st->o.foreground, cfg->log_facility,
	    st->o.debug > 0 ? LOG_DEBUG : cfg->log_level);
	if (resolve_user(st->user, cfg->group, &uid, &gid, &drop) != 0)
		goto fail;
	if (st->o.debug > 0)
		(void)smfi_setdbg(st->o.debug);
	if (st->milter_on && smfi_setconn((char *)st->socket) != MI_SUCCESS) {
		log_msg(LOG_ERR, "bad socket '%s'", st->socket);
		goto fail;
	}
	/* From here the configuration's reference belongs to SH. */
	st->cfg = NULL;
	if (st->milter_on ? milter_setup(&sh, cfg, PROGNAME) != 0 :
	    milter_shared_init(&sh, cfg) != 0)
		goto fail_registered;
	/* Open the sockets while still root, removing a stale unix socket. */
	if (st->milter_on && unix_path_check(st->socket, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "cannot listen on %s: %s", st->socket, err);
		goto fail_registered;
	}
	if (st->milter_on && smfi_opensocket(true) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot listen on %s (%s)", st->socket,
		    unix_path(st->socket) != NULL ? "in use? permissions? the "
		    "directory must exist" : "address in use, or not an "
		    "address of this host?");
		goto fail_registered;
	}
	if (st->milter_on && fix_unix_socket(cfg, st->socket, uid, gid) != 0)
		goto fail_registered;
	/* libmilter's listening socket: the only one open so far. */
	milter_lfd = st->milter_on ? listener_find() : -1;
	st->fs = filterserver_from_config(cfg, uid, gid, &fs_failed);
	if (fs_failed)
		goto fail_registered;
	if (listener_tune(err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "listening socket: %s (quarantines over TCP "
		    "may wait for a delayed ACK)", err);
	nofile = daemon_raise_nofile();
	atomic_store(&sh.fd_capacity, daemon_session_capacity(nofile));
	if (daemon_session_capacity(nofile) < cfg->max_sessions)
		log_msg(LOG_WARNING, "the descriptor limit (%lu) carries only %u "
		    "sessions, not max_sessions %u: raise it (systemd: "
		    "LimitNOFILE=%u or more)", nofile,
		    daemon_session_capacity(nofile), cfg->max_sessions,
		    cfg->max_sessions + DAEMON_FD_RESERVE);
	(void)smfi_settimeout(cfg->session_timeout);
	if (!st->o.foreground) {
		if ((ready = detach()) < 0)
			goto fail_registered;
		/* Kept: a reload may free the configuration it came from. */
		if ((pidfile = strdup(cfg->pidfile)) == NULL ||
		    write_pidfile(pidfile) != 0)
			goto fail_registered;
	}
	/*
	 * The metrics endpoint: after the fork (its thread would not survive
	 * it), before the drop (glibc applies it to every thread). Other
	 * modules register their collectors here too (metrics.h).
	 */
	metrics_registry_init(&metrics_reg);
	(void)metrics_register(&metrics_reg, counters_collect, &sh.counters);
	(void)metrics_register(&metrics_reg, collect_children, &sh);
	if (st->fs != NULL)
		(void)metrics_register(&metrics_reg, filterserver_collect,
		    filterserver_counters(st->fs));
	if (st->metrics != NULL &&
	    (metrics = metrics_http_start(st->metrics, &metrics_reg)) == NULL)
		goto fail_registered;
	if (drop && drop_privileges(st->user, uid, gid) != 0)
		goto fail_registered;
	if (setup_signals() != 0 ||
	    (st->milter_on && start_milter(&mt) != 0) ||
	    (st->fs != NULL && filterserver_start(st->fs, &sh, spawn_thread) != 0))
		goto fail_registered;
	if (st->milter_on &&
	    fdguard_start(&fg, milter_lfd, nofile, spawn_thread) != 0)
		log_msg(LOG_WARNING, "no guard at the descriptor limit (no "
		    "listening socket found, or no thread)");
	rctx.sh = &sh;
	rctx.path = st->path;
	rctx.socket = st->socket;
	rctx.debug = st->o.debug;
	if ((rc = reloader_start(&rl, spawn_thread, reload, &rctx)) != 0) {
		log_msg(LOG_ERR, "cannot start the reload thread: %s", strerror(rc));
		fdguard_stop(&fg);
		if (st->milter_on)
			stop_milter(&mt);
		goto fail_registered;
	}
	log_config(cfg, st->socket, "started");
	log_msg(LOG_INFO, "serving as uid %ld gid %ld, pid %ld", (long)getuid(),
	    (long)getgid(), (long)getpid());
	if (ready >= 0) {
		(void)!write(ready, "R", 1);
		close(ready);
	}
	(void)notify_send("READY=1\nSTATUS=serving mail");

	status = handle_signals(&sh, &mt, st, &rl, &fg);
	/* A reload in progress is left to die with the process. */
	reloader_stop(&rl, false);
	if (st->milter_on && !join_milter(&mt, 10))
		log_msg(LOG_WARNING, "libmilter did not stop within 10 s; exiting");
	metrics_http_stop(metrics);
	counters_log(&sh.counters);
	if (st->fs != NULL)
		filtermap_counters_log(filterserver_counters(st->fs));
	filterserver_stop(st->fs);
	if (pidfile != NULL)
		(void)unlink(pidfile);	/* fails after the drop: harmless */
	log_msg(LOG_INFO, "stopped");
	free(pidfile);
	startup_free(st);
	return status;

fail_registered:
	metrics_http_stop(metrics);
	filterserver_stop(st->fs);
fail:
	log_msg(LOG_ERR, "not started");
	free(pidfile);
	startup_free(st);
	return 1;
}

int main(int argc, char **argv)
{
	struct startup st;
	int status;

	if ((status = startup(argc, argv, &st)) != 0)
		return status;
	return st.o.test ? test_config(&st) : serve(&st);
}
