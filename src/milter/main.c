/*
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
#include "log.h"
#include "metrics_http.h"
#include "milter.h"
#include "notify.h"
#include "pidfile.h"

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

static bool socket_ok(const char *s)
{
	return strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0 ||
	    strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0;
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

/* Unix socket mode and owner; the group of the socket is cfg->group. */
static int fix_unix_socket(const struct conf *cfg, const char *socket,
			   uid_t uid, gid_t gid)
{
	const char *path = unix_path(socket);

	if (path == NULL)
		return 0;
	if (getuid() == 0 && chown(path, uid, gid) != 0) {
		log_msg(LOG_ERR, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (cfg->socket_mode_set && chmod(path, (mode_t)cfg->socket_mode) != 0) {
		log_msg(LOG_ERR, "chmod %s: %s", path, strerror(errno));
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
		log_msg(LOG_ERR, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		log_msg(LOG_ERR, "cannot become user '%s': %s", user,
		    strerror(errno));
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
		log_msg(LOG_ERR, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
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
		log_msg(LOG_ERR, "setsid/chdir: %s", strerror(errno));
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
		log_msg(LOG_ERR, "pipe: %s", strerror(errno));
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
		log_msg(LOG_ERR, "cannot start the milter thread: %s",
		    strerror(rc));
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
	    "on_error %s, audit_mta_rejects %s", what,
	    cfg->file != NULL ? cfg->file : "(built-in defaults)",
	    cfg->rules.nrules, cfg->rules.nrules == 1 ? "" : "s", socket,
	    cfg->on_error == CONF_ON_ERROR_ACCEPT ? "accept" : "tempfail",
	    cfg->audit_mta_rejects ? "yes" : "no");
	conftest_log_changes(cfg);
}

static bool same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void reload(struct milter_shared *sh, const char *path,
		   const char *socket, int debug)
{
	struct conf *cfg, *cur;

	if (path == NULL) {
		log_msg(LOG_INFO, "reload: no configuration file, nothing to "
		    "reload (built-in defaults)");
		return;
	}
	log_msg(LOG_INFO, "reload: reading %s", path);
	if ((cfg = load(path, false)) == NULL) {
		log_msg(LOG_ERR, "reload: %s has errors; keeping the running "
		    "configuration", path);
		counters_reload(&sh->counters, false);
		return;
	}
	cur = milter_conf_get(sh);
	if (strcmp(cur->socket, cfg->socket) != 0 ||
	    !same_string(cur->user, cfg->user) ||
	    !same_string(cur->group, cfg->group) ||
	    !same_string(cur->pidfile, cfg->pidfile) ||
	    cur->socket_mode_set != cfg->socket_mode_set ||
	    cur->socket_mode != cfg->socket_mode ||
	    !same_string(cur->metrics, cfg->metrics))
		log_msg(LOG_WARNING, "reload: socket, socket_mode, user, group, "
		    "pidfile and metrics take effect at the next start only");
	conf_unref(cur);
	log_reconfigure(cfg->log_facility, debug > 0 ? LOG_DEBUG :
	    cfg->log_level);
	log_config(cfg, socket, "reloaded");
	milter_conf_swap(sh, cfg);
	counters_reload(&sh->counters, true);
}

/* Wait for the milter thread, at most SECONDS; true when it ended. */
static bool join_milter(struct milter_thread *mt, int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	return pthread_timedjoin_np(mt->tid, NULL, &ts) == 0;
}

int main(int argc, char **argv)
{
	static struct milter_shared sh;
	static struct metrics_registry metrics_reg;
	struct metrics_http *metrics = NULL;
	const char *metrics_spec;
	struct milter_thread mt = { 0, 0 };
	struct options o;
	struct conf *cfg;
	char *path = NULL, *pidfile = NULL;
	const char *socket, *user;
	uid_t uid;
	gid_t gid;
	bool drop, stop = false;
	int status = 0, ready = -1;

	if (parse_options(argc, argv, &o) != 0)
		return 2;
	if (o.config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		o.config = DEFAULT_CONFIG;
	if (o.config != NULL && (path = realpath(o.config, NULL)) == NULL) {
		fprintf(stderr, "%s: cannot read the file: %s\n", o.config,
		    strerror(errno));
		return 1;
	}
	if ((cfg = load(path, true)) == NULL) {
		if (o.test)
			fprintf(stderr, "%s: configuration has errors\n", path);
		free(path);
		return 1;
	}
	socket = o.socket != NULL ? o.socket : cfg->socket;
	if (!socket_ok(socket)) {
		fprintf(stderr, PROGNAME ": -p: socket must be inet:PORT@HOST, "
		    "inet6:PORT@HOST or unix:PATH, not '%s'\n", socket);
		conf_unref(cfg);
		free(path);
		return 2;
	}
	user = o.user != NULL ? o.user : cfg->user;
	metrics_spec = o.metrics != NULL ? o.metrics : cfg->metrics;
	if (metrics_spec != NULL && metrics_spec[0] == '\0')
		metrics_spec = NULL;
	if (o.metrics != NULL && metrics_spec != NULL) {
		struct sockaddr_storage ss;
		unsigned sslen;
		char err[256];

		if (metrics_listen_parse(metrics_spec, &ss, &sslen, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, PROGNAME ": -m '%s': %s\n", metrics_spec,
			    err);
			conf_unref(cfg);
			free(path);
			return 2;
		}
	}
	if (o.test) {
		if (user != NULL && getpwnam(user) == NULL) {
			fprintf(stderr, "%s: unknown user '%s'\n", path != NULL ?
			    path : "built-in defaults", user);
			conf_unref(cfg);
			free(path);
			return 1;
		}
		if (cfg->group != NULL && getgrnam(cfg->group) == NULL) {
			fprintf(stderr, "%s: unknown group '%s'\n", path != NULL ?
			    path : "built-in defaults", cfg->group);
			conf_unref(cfg);
			free(path);
			return 1;
		}
		conftest_print(stdout, cfg, socket, user);
		conf_unref(cfg);
		free(path);
		return 0;
	}

	log_open(PROGNAME, o.foreground, cfg->log_facility,
	    o.debug > 0 ? LOG_DEBUG : cfg->log_level);
	if (resolve_user(user, cfg->group, &uid, &gid, &drop) != 0)
		goto fail;
	if (o.debug > 0)
		(void)smfi_setdbg(o.debug);
	if (smfi_setconn((char *)socket) != MI_SUCCESS) {
		log_msg(LOG_ERR, "bad socket '%s'", socket);
		goto fail;
	}
	if (milter_setup(&sh, cfg, PROGNAME) != 0)
		goto fail_registered;
	/* Open the socket while still root, removing a stale unix socket. */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot listen on %s (in use? permissions?)",
		    socket);
		goto fail_registered;
	}
	if (fix_unix_socket(cfg, socket, uid, gid) != 0)
		goto fail_registered;
	if (!o.foreground) {
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
	if (metrics_spec != NULL &&
	    (metrics = metrics_http_start(metrics_spec, &metrics_reg)) == NULL)
		goto fail_registered;
	if (drop && drop_privileges(user, uid, gid) != 0)
		goto fail_registered;
	if (setup_signals() != 0 || start_milter(&mt) != 0)
		goto fail_registered;
	log_config(cfg, socket, "started");
	log_msg(LOG_INFO, "serving as uid %ld gid %ld, pid %ld", (long)getuid(),
	    (long)getgid(), (long)getpid());
	if (ready >= 0) {
		(void)!write(ready, "R", 1);
		close(ready);
	}
	(void)notify_send("READY=1\nSTATUS=serving mail");

	while (!stop) {
		unsigned char b;
		ssize_t n = read(sig_pipe[0], &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_msg(LOG_ERR, "signal pipe: %s", strerror(errno));
			break;
		}
		switch (b) {
		case SIGHUP:
			(void)notify_send("RELOADING=1");
			reload(&sh, path, socket, o.debug);
			(void)notify_send("READY=1");
			break;
		case SIGUSR1:
			counters_log(&sh.counters);
			break;
		case SIGTERM:
		case SIGINT:
			log_msg(LOG_INFO, "stopping on signal %d", b);
			(void)notify_send("STOPPING=1");
			stop_milter(&mt);
			stop = true;
			break;
		case 0:
			log_msg(mt.rc == MI_SUCCESS ? LOG_INFO : LOG_ERR,
			    "libmilter stopped%s", mt.rc == MI_SUCCESS ? "" :
			    " with an error");
			status = mt.rc == MI_SUCCESS ? 0 : 1;
			stop = true;
			break;
		default:
			break;
		}
	}
	if (!join_milter(&mt, 10))
		log_msg(LOG_WARNING, "libmilter did not stop within 10 s; exiting");
	metrics_http_stop(metrics);
	counters_log(&sh.counters);
	if (pidfile != NULL)
		(void)unlink(pidfile);	/* fails after the drop: harmless */
	log_msg(LOG_INFO, "stopped");
	free(pidfile);
	free(path);
	return status;

fail:
	conf_unref(cfg);
fail_registered:
	metrics_http_stop(metrics);
	log_msg(LOG_ERR, "not started");
	free(pidfile);
	free(path);
	return 1;
}
