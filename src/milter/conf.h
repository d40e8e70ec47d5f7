/*
 * SPDX-License-Identifier: ISC
 * conf.h - the milter's configuration: load, check, share.
 *
 * conf_load() reads a libconfig file (or, with no file, takes the
 * built-in defaults), checks everything and collects every error as
 * "file:line: message", not just the first. Every configured reply is
 * built by reply.c at load time: parsed and normalized by libsmtpreply
 * in milter context,
 * for the phase it answers, under the configured policy; the changes the
 * engine made are kept so that "-t" and the start-up log can show them. A
 * reply the engine cannot fix, or whose class does not fit its action
 * (reject: 5xx, tempfail: 4xx), is a configuration error.
 *
 * Decisions: "accept", "discard" and "continue" take no reply (one is an
 * error); "quarantine" takes an optional single-string reply that is the
 * quarantine reason (plain text, variables allowed, not an SMTP reply);
 * "reject" and "tempfail" without a reply use the "replies" block.
 *
 * A loaded configuration is immutable and reference-counted: the daemon
 * holds one reference, each session takes its own with conf_ref(), and
 * a SIGHUP reload swaps the daemon's pointer; the old one is freed by the
 * last conf_unref(). No global state.
 */
#ifndef SMTPREPLY_MILTER_CONF_H
#define SMTPREPLY_MILTER_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

#include "conffile.h"
#include "reply.h"
#include "proxy.h"
#include "filterconf.h"
#include "rules.h"

#define CONF_DEFAULT_SOCKET	"inet:8891@localhost"
#define CONF_NO_SOCKET		"none"	/* socket = "none": no milter */
#define CONF_DEFAULT_PIDFILE	"/run/smtpreply-milter.pid"
#define CONF_DEFAULT_REJECT	"550 5.7.1 Command rejected"
#define CONF_DEFAULT_TEMPFAIL	"451 4.7.1 Please try again later"

/*
 * The largest configuration file read: 16 MiB, room for over 100,000
 * rules, for the file and the files it includes together (conffile.h).
 * A bigger file, or anything but a regular file (a FIFO would block a
 * reload), is refused before libconfig sees it; libconfig's time
 * grows with the square of a string's length, so a huge file could stall
 * the reload thread for minutes.
 */
#define CONF_MAX_BYTES	CONFFILE_MAX_BYTES

/*
 * Sessions: at most 1000 MTA connections at once (each is a thread and a
 * descriptor; Postfix runs 100 smtpd processes by default), and a
 * connection silent for 600 s is closed: twice Postfix's smtpd_timeout
 * and RFC 5321's five-minute server timeout, far below libmilter's 7210 s.
 */
#define CONF_DEFAULT_MAX_SESSIONS	1000
#define CONF_MAX_MAX_SESSIONS		100000
#define CONF_DEFAULT_SESSION_TIMEOUT	600
#define CONF_MAX_SESSION_TIMEOUT	86400

enum conf_on_error {
	CONF_ON_ERROR_TEMPFAIL,
	CONF_ON_ERROR_ACCEPT
};

struct conf {
	atomic_uint refs;
	char *file;			/* NULL: built-in defaults */
	char *socket;
	char *user;			/* NULL: not set */
	char *group;			/* NULL: not set */
	unsigned socket_mode;		/* when socket_mode_set */
	bool socket_mode_set;
	char *pidfile;
	char *metrics;			/* Prometheus endpoint; NULL, "": off */
	int log_facility;		/* syslog LOG_MAIL ... */
	int log_level;			/* syslog LOG_INFO ... */
	enum conf_on_error on_error;
	bool audit_mta_rejects;
	unsigned max_sessions;		/* MTA connections served at once */
	unsigned session_timeout;	/* seconds a connection may be silent */
	bool utf8;
	bool accept_missing_code;	/* normalize.accept_missing_code: a
					 * reply written without its basic code
					 * ("5.7.1 ...") passes -t */
	struct sr_policy policy;
	/* The "replies" block, normalized for each engine phase. */
	struct reply *reject[SR_PHASE__COUNT];
	struct reply *tempfail[SR_PHASE__COUNT];
	struct rule_set rules;
	struct proxy_conf proxy;	/* "milters": children behind the proxy */
	struct filterconf filter;	/* the socketmap service, filterconf.h */
};

/* Error lines, each "file:line: message" (or "file: message"). */
struct conf_errors {
	char **lines;
	size_t n;
	size_t cap;
};

void conf_errors_init(struct conf_errors *e);
void conf_errors_free(struct conf_errors *e);

/*
 * Load PATH (NULL: the built-in defaults) into *OUT, a new configuration
 * with one reference. Returns 0, or -1 with every error in ERRS (which
 * the caller initialized and frees) and *OUT NULL.
 */
int conf_load(const char *path, struct conf **out,
	      struct conf_errors *errs);

/* Take one more reference; returns CFG. */
struct conf *conf_ref(struct conf *cfg);
/* Drop one reference; the last one frees CFG. NULL is fine. */
void conf_unref(struct conf *cfg);

/* The engine options a reply at PHASE is normalized with under CFG. */
void conf_sr_options(const struct conf *cfg, enum sr_phase phase,
		     struct sr_options *o);

/*
 * The reply rule R answers with: its own, or for reject/tempfail the one
 * of the "replies" block for its phase. NULL for accept, discard and
 * continue, and for a quarantine rule without a reason (the daemon then
 * uses the rule's name).
 */
const struct reply *conf_rule_reply(const struct conf *cfg,
				    const struct rule *r);

/*
 * Check a milter socket specification: inet:PORT@HOST or inet6:PORT@HOST
 * with a port from 1 to 65535 (libmilter would wrap 94562 to 29026), or
 * unix:PATH / local:PATH with an absolute path. 0, or -1 with ERR.
 */
int conf_socket_check(const char *spec, char *err, size_t errsize);

/* Configurations in memory now (the current one and any older ones that
 * sessions still hold). */
unsigned conf_alive_count(void);

/* Syslog facility / level named NAME, or -1. */
int conf_facility_lookup(const char *name);
int conf_level_lookup(const char *name);

#endif /* SMTPREPLY_MILTER_CONF_H */
