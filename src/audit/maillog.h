/*
 * SPDX-License-Identifier: ISC
 * maillog.h - find the SMTP reply a mail log line records.
 *
 * maillog_parse_line() looks at one line of a Postfix, sendmail or Exim log
 * and, when the line records an SMTP reply, says which reply (the bytes,
 * without the MTA's decorations), whose it is (this server's reply to its
 * client: local; a peer server's reply to this server: remote), the SMTP
 * phase it answered when the log says it, and the peer for remote
 * replies. Everything else is "not recognized": lines are never errors.
 *
 * The recognizers are strict about where a marker sits (Postfix's
 * "QUEUEID: reject: RCPT from CLIENT: ..." layout, sendmail's
 * "reject=", Exim's "SMTP error from remote mail server after"), so
 * that a subject, a warning or another program's line that merely
 * contains the words is not counted. Pure functions over bytes: no
 * allocation, any input, nothing read past LEN.
 */
#ifndef SMTPREPLY_AUDIT_MAILLOG_H
#define SMTPREPLY_AUDIT_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpreply/phase.h>

enum maillog_direction {
	MAILLOG_DIR_LOCAL,		/* this server's reply to its client */
	MAILLOG_DIR_REMOTE,		/* a peer's reply to this server */
	MAILLOG_DIR__COUNT
};

enum maillog_phase {
	MAILLOG_PHASE_NONE,		/* the log does not say */
	MAILLOG_PHASE_CONNECT,
	MAILLOG_PHASE_HELO,
	MAILLOG_PHASE_MAIL,
	MAILLOG_PHASE_RCPT,
	MAILLOG_PHASE_DATA,
	MAILLOG_PHASE_EOM,		/* END-OF-MESSAGE */
	MAILLOG_PHASE__COUNT
};

/* Which recognizer found the reply. */
enum maillog_source {
	MAILLOG_SRC_POSTFIX_SMTPD,		/* smtpd, postscreen */
	MAILLOG_SRC_POSTFIX_CLEANUP,
	MAILLOG_SRC_POSTFIX_SMTP,		/* smtp, lmtp client */
	MAILLOG_SRC_SENDMAIL,
	MAILLOG_SRC_EXIM,
	MAILLOG_SRC__COUNT
};

/*
 * A Postfix reply filter line (smtpd_reject_filter_maps, Postfix 3.11:
 * "QUEUEID: reply filter in: REPLY" then "... out: REPLY"; the
 * documentation writes "reject filter"): the reply before and after the
 * filter. The reply sent is OUT; IN repeats the reject line just logged.
 */
enum maillog_filter {
	MAILLOG_FILTER_NONE,
	MAILLOG_FILTER_IN,
	MAILLOG_FILTER_OUT
};

/* maillog_parse_line_with() flags. */
#define MAILLOG_WANT_SUCCESS 0x1	/* also 2xx success replies (status=sent,
				 * Exim C="250 ...", proxy-accept) */

/* Longest peer name kept ("name[ip]"); longer ones are cut. */
#define MAILLOG_PEER_MAX 160
/* Longest reply put together from parts of a line. */
#define MAILLOG_BUILT_MAX 1024

struct maillog_reply {
	enum maillog_source source;
	enum maillog_direction dir;
	enum maillog_phase phase;
	const char *reply;	/* view into the line */
	size_t reply_len;
	bool has_code;		/* the reply starts with its basic code */
	bool malformed;		/* ... or with a code that is none: "9999",
				 * "55", "55O" (has_code is then true too) */
	bool success;		/* a 2xx success reply (MAILLOG_WANT_SUCCESS) */
	enum maillog_filter filter;
	bool conn_error;	/* Exim: a connection's error ("Malformed SMTP
				 * reply", "EHLO response was"), logged on
				 * the host's line, then again on ... */
	bool repeat;		/* ... each address's delivery line */
	const char *line;	/* the whole line, view */
	size_t line_len;
	const char *proc;	/* "host prog[pid]" of a syslog line, view
				 * (len 0: none): which process wrote it */
	size_t proc_len;
	char peer[MAILLOG_PEER_MAX];	/* remote: "mx.example.com[192.0.2.1]" */
	char built[MAILLOG_BUILT_MAX];	/* a reply put together from two
					 * fields (sendmail's dsn= and stat=);
					 * reply then points here */
	const char *stamp;	/* the line's timestamp, view (len 0: none) */
	size_t stamp_len;
};

/* Returns true and fills *OUT when LINE[0..LEN) records a reply. */
bool maillog_parse_line(const char *line, size_t len,
			struct maillog_reply *out);
/* The same, with LOG_WANT_* FLAGS. */
bool maillog_parse_line_with(const char *line, size_t len, unsigned flags,
			     struct maillog_reply *out);

/* "CONNECT", "HELO", ..., "END-OF-MESSAGE"; "-" for none. */
const char *maillog_phase_name(enum maillog_phase p);
/* "local", "remote". */
const char *maillog_direction_name(enum maillog_direction d);
/* The engine's phase for P (none: other). */
enum sr_phase maillog_phase_sr(enum maillog_phase p);

/*
 * Rebuild the wire form of a logged reply into BUF (SIZE bytes): MTAs
 * write a multi-line reply on one log line, Postfix's smtpd with "??"
 * where CR LF was, its smtp client and sendmail with a space before each
 * next "550-" / "550 ". Those become CR LF again. Returns the length
 * written (at most SIZE, no NUL added); a reply that does not fit is cut.
 */
size_t maillog_reply_wire(const char *reply, size_t len, char *buf,
			  size_t size);

/*
 * A timestamp as a sortable number YYYYMMDDhhmmss. Classic syslog lines
 * carry no year: DEFAULT_YEAR is used. Returns 0 when STAMP is none of
 * the forms this module knows (classic syslog "Dec  1 19:57:01" or
 * "Dec 1 19:57:01", RFC 3339 "2026-12-01T19:57:01.123+01:00" taken as
 * written, Exim's "2026-12-01 19:57:01[.123]").
 */
uint64_t maillog_time_key(const char *stamp, size_t len, int default_year);

/* A time key as seconds since 1970-01-01 00:00:00 (the stamp's own
 * zone, taken as UTC); 0 for key 0. */
int64_t maillog_time_seconds(uint64_t key);

/*
 * Parse a --since/--until argument: "YYYY-MM-DD", "YYYY-MM-DD hh:mm",
 * "YYYY-MM-DD hh:mm:ss", with 'T' or ' ' between. END: an argument
 * without seconds (or time) stands for the end of that minute (day).
 * Returns the key, or 0 when the argument is not understood.
 */
uint64_t maillog_time_arg(const char *arg, bool end);

#endif /* SMTPREPLY_AUDIT_MAILLOG_H */
