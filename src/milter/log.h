/*
 * SPDX-License-Identifier: ISC
 * log.h - the milter's one logging module.
 *
 * A daemon logs to syslog (facility and level from the configuration);
 * in the foreground (-f, -t) it logs to standard error, one line per
 * call, written with a single write(2) so that lines from different
 * threads never mix. Lines about a message start with its queue id
 * ("4Q1x2y3z: ...", "NOQUEUE: ..." before the MTA has assigned one), as
 * Postfix's own do, so that one grep finds everything about a message.
 *
 * Every line is made printable before it is written: a format argument
 * that carries client data cannot break a line or inject control bytes.
 * Values from outside (the queue id of the prefix included) go through
 * log_field() or log_quote(), so that none can pose as another field.
 * The format itself is always a literal (checked by the compiler through
 * the printf attribute); data goes in the arguments, never in the format.
 *
 * The level may change at run time (SIGHUP reload) while other threads
 * log: it is kept in an atomic. Nothing else here is mutable after
 * log_open().
 */
#ifndef SMTPREPLY_MILTER_LOG_H
#define SMTPREPLY_MILTER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#if defined(__GNUC__)
#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOG_PRINTF(f, a)
#endif

/* Longest line written; longer ones end with "...". */
#define LOG_LINE_MAX 4096

/*
 * Start logging as IDENT ("smtpreply-milter"): to standard error when
 * FOREGROUND, else to syslog with FACILITY (LOG_MAIL ...). Messages above
 * LEVEL (LOG_INFO ...) are dropped. Call before any thread starts.
 */
void log_open(const char *ident, bool foreground, int facility, int level);

/* Change the level and facility (reload); safe while threads log. */
void log_reconfigure(int facility, int level);

/* True when a message at LEVEL would be written. */
bool log_enabled(int level);

/* A line not about a message: "warning: ...", "started ...". */
void log_msg(int level, const char *fmt, ...) LOG_PRINTF(2, 3);

/*
 * log_msg() with ": " and the text of error number ERR appended (errno
 * where a system call failed, a pthread function's result): the
 * OpenSMTPD log_warn() convention, with the number given explicitly.
 */
void log_errno(int level, int err, const char *fmt, ...) LOG_PRINTF(3, 4);

/* A line about a message: QID (NULL or "": "NOQUEUE") goes first. */
void log_qid(int level, const char *qid, const char *fmt, ...)
	LOG_PRINTF(3, 4);

/* "emerg" ... "debug". */
const char *log_level_name(int level);

/*
 * Copy SRC[0..LEN) into DST (SIZE bytes, always NUL-terminated when SIZE
 * > 0) for quoting inside a log line: CR, LF and HT as \r \n \t, other
 * control and 8-bit bytes as \xNN, '"' and '\' escaped. A result that
 * does not fit is cut and ends with "...". Returns DST.
 */
char *log_quote(char *dst, size_t size, const char *src, size_t len);

/* Room for a queue id in a line's prefix; a longer one is cut. */
#define LOG_QID_SHOWN 80

/*
 * A value from outside as one field of a log line, into DST (SIZE bytes,
 * at least 3): as it is when every byte is printable ASCII other than
 * space, '"' and '\\' (so that "from=<a@example.org>" reads as always),
 * else in double quotes, escaped as by log_quote(). Either way no value
 * can end its field early, start another or break the line: "helo=<bad
 * rule=vip>" is written helo="<bad rule=vip>". Cut with "..." when it
 * does not fit. Returns DST.
 */
char *log_field(char *dst, size_t size, const char *src, size_t len);

#endif /* SMTPREPLY_MILTER_LOG_H */
