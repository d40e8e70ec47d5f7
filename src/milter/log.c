/*
 * SPDX-License-Identifier: ISC
 * log.c - syslog or standard error, one printable line per message.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <smtpreply/text.h>

#include "log.h"

/* Set once by log_open() before threads exist. */
static const char *log_ident = "smtpreply-milter";
static bool log_foreground = true;
static bool log_journal;		/* stderr is systemd's journal */
/* Changed by a reload while workers log. */
static atomic_int log_level = LOG_INFO;
static atomic_int log_facility = LOG_MAIL;

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"
};

const char *log_level_name(int level)
{
	if (level < 0 || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

/*
 * True when standard error is a stream systemd's journal reads: it then
 * adds the name and pid itself and takes the priority from a "<N>" prefix.
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, bool foreground, int facility, int level)
{
	log_ident = ident;
	log_foreground = foreground;
	log_journal = foreground && stderr_is_journal();
	atomic_store(&log_level, level);
	atomic_store(&log_facility, facility);
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_reconfigure(int facility, int level)
{
	atomic_store(&log_facility, facility);
	atomic_store(&log_level, level);
}

bool log_enabled(int level)
{
	return level <= atomic_load(&log_level);
}

/* Replace what would break a line; the text is already bounded. */
static void make_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* No error number to append (emit's ERR). */
#define NO_ERRNO (-1)

/*
 * One line at LEVEL: the queue id RAWQID (NULL: none) first, then FMT
 * with AP, then ": " and the text of ERR unless it is NO_ERRNO.
 */
/* Append ": " and the text of ERR to MSG (SIZE bytes), cutting MSG for room. */
static void append_error(char *msg, size_t size, int err)
{
	char ebuf[128];
	const char *text = strerror_r(err, ebuf, sizeof(ebuf));
	size_t len = strlen(msg), need = strlen(text) + 3;

	if (need > size / 2)
		need = size / 2;
	if (len + need > size - 1) {
		len = size - 1 - need;
		memcpy(msg + len - 3, "...", 3);
	}
	snprintf(msg + len, size - len, ": %s", text);
}

static void emit(int level, const char *rawqid, int err, const char *fmt,
		 va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128], qbuf[LOG_QID_SHOWN];
	const char *prefix, *qid = NULL;
	int n;

	/* The queue id is the MTA's macro: from outside like any value. */
	if (rawqid != NULL)
		qid = log_field(qbuf, sizeof(qbuf), rawqid, strlen(rawqid));

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable log message)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (err != NO_ERRNO)
		append_error(msg, sizeof(msg), err);
	make_printable(msg);
	prefix = level <= LOG_ERR ? "error: " : level == LOG_WARNING ?
	    "warning: " : "";
	if (log_journal) {
		if (qid != NULL)
			n = snprintf(line, sizeof(line), "<%d>%s: %s%s\n", level,
			    qid, prefix, msg);
		else
			n = snprintf(line, sizeof(line), "<%d>%s%s\n", level,
			    prefix, msg);
	} else if (log_foreground) {
		if (qid != NULL)
			n = snprintf(line, sizeof(line), "%s[%ld]: %s: %s%s\n",
			    log_ident, (long)getpid(), qid, prefix, msg);
		else
			n = snprintf(line, sizeof(line), "%s[%ld]: %s%s\n",
			    log_ident, (long)getpid(), prefix, msg);
	}
	if (log_foreground) {
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(line)) {
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		/* One write per line: lines of concurrent threads never mix. */
		(void)!write(STDERR_FILENO, line, (size_t)n);
		return;
	}
	if (qid != NULL)
		syslog(LOG_MAKEPRI(atomic_load(&log_facility), level),
		    "%s: %s%s", qid, prefix, msg);
	else
		syslog(LOG_MAKEPRI(atomic_load(&log_facility), level), "%s%s",
		    prefix, msg);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, NULL, NO_ERRNO, fmt, ap);
	va_end(ap);
}

void log_errno(int level, int err, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, NULL, err, fmt, ap);
	va_end(ap);
}

void log_qid(int level, const char *qid, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, qid != NULL && *qid != '\0' ? qid : "NOQUEUE", NO_ERRNO, fmt,
	    ap);
	va_end(ap);
}

char *log_quote(char *dst, size_t size, const char *src, size_t len)
{
	(void)sr_quote(dst, size, src, len,
	    SR_QUOTE_ESCAPE | SR_QUOTE_DQUOTE | SR_QUOTE_ELLIPSIS);
	return dst;
}

/* Bytes a field may show bare: printable ASCII but space, '"' and '\\'. */
static bool token_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

char *log_field(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	if (size < 3) {
		if (size > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; i < len && token_byte((unsigned char)src[i]); i++)
		continue;
	if (len > 0 && i == len) {
		if (len < size) {
			memcpy(dst, src, len);
			dst[len] = '\0';
		} else if (size >= 4) {
			memcpy(dst, src, size - 4);
			memcpy(dst + size - 4, "...", 4);
		} else
			dst[0] = '\0';
		return dst;
	}
	dst[0] = '"';
	log_quote(dst + 1, size - 2, src, len);
	i = strlen(dst);
	dst[i] = '"';
	dst[i + 1] = '\0';
	return dst;
}
