/*
 * SPDX-License-Identifier: ISC
 * metrics.c - registry of collectors and Prometheus text exposition
 * (format 0.0.4), see metrics.h.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"

static bool reserve(struct metrics_out *o, size_t more)
{
	size_t cap;
	char *p;

	if (o->failed)
		return false;
	if (o->len + more + 1 <= o->cap)
		return true;
	if (o->len + more + 1 > METRICS_OUT_MAX) {
		o->failed = true;
		return false;
	}
	cap = o->cap > 0 ? o->cap : 4096;
	while (cap < o->len + more + 1)
		cap *= 2;
	if (cap > METRICS_OUT_MAX)
		cap = METRICS_OUT_MAX;
	if ((p = realloc(o->buf, cap)) == NULL) {
		o->failed = true;
		return false;
	}
	o->buf = p;
	o->cap = cap;
	return true;
}

static void put(struct metrics_out *o, const char *s, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct metrics_out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':'). */
static bool valid_name(const char *s, bool label)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (c == ':' && !label) ||
		    (i > 0 && c >= '0' && c <= '9'))
			continue;
		return false;
	}
	return true;
}

/* HELP text: backslash and newline escaped. */
static void put_help(struct metrics_out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(o, "\\\\");
		else if (*s == '\n')
			puts_(o, "\\n");
		else
			put(o, s, 1);
	}
}

/* Label value: backslash, double quote and newline escaped. */
static void put_label_value(struct metrics_out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(o, "\\\\");
		else if (*s == '"')
			puts_(o, "\\\"");
		else if (*s == '\n')
			puts_(o, "\\n");
		else
			put(o, s, 1);
	}
}

void metrics_family(struct metrics_out *o, const char *name,
		    enum metrics_type type, const char *help)
{
	if (!valid_name(name, false)) {
		o->failed = true;
		return;
	}
	puts_(o, "# HELP ");
	puts_(o, name);
	puts_(o, " ");
	put_help(o, help);
	puts_(o, "\n# TYPE ");
	puts_(o, name);
	puts_(o, type == METRICS_COUNTER ? " counter\n" : " gauge\n");
}

static void put_series(struct metrics_out *o, const char *name,
		       const struct metrics_label *labels, size_t nlabels)
{
	size_t i;

	if (!valid_name(name, false)) {
		o->failed = true;
		return;
	}
	puts_(o, name);
	if (nlabels == 0)
		return;
	puts_(o, "{");
	for (i = 0; i < nlabels; i++) {
		if (!valid_name(labels[i].name, true) ||
		    strncmp(labels[i].name, "__", 2) == 0 ||
		    labels[i].value == NULL) {
			o->failed = true;
			return;
		}
		if (i > 0)
			puts_(o, ",");
		puts_(o, labels[i].name);
		puts_(o, "=\"");
		put_label_value(o, labels[i].value);
		puts_(o, "\"");
	}
	puts_(o, "}");
}

void metrics_sample(struct metrics_out *o, const char *name,
		    const struct metrics_label *labels, size_t nlabels,
		    unsigned long long value)
{
	char num[32];

	put_series(o, name, labels, nlabels);
	snprintf(num, sizeof(num), " %llu\n", value);
	puts_(o, num);
}

void metrics_sample_double(struct metrics_out *o, const char *name,
			   const struct metrics_label *labels, size_t nlabels,
			   double value)
{
	char num[48];

	put_series(o, name, labels, nlabels);
	if (isnan(value))
		snprintf(num, sizeof(num), " NaN\n");
	else if (isinf(value))
		snprintf(num, sizeof(num), " %s\n", value > 0 ? "+Inf" : "-Inf");
	else
		snprintf(num, sizeof(num), " %.17g\n", value);
	puts_(o, num);
}

void metrics_registry_init(struct metrics_registry *reg)
{
	memset(reg, 0, sizeof(*reg));
	pthread_mutex_init(&reg->lock, NULL);
}

int metrics_register(struct metrics_registry *reg, metrics_collect_fn *fn,
		     void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&reg->lock);
	if (reg->n < METRICS_MAX_COLLECTORS) {
		reg->c[reg->n].fn = fn;
		reg->c[reg->n].arg = arg;
		reg->n++;
		rc = 0;
	}
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

int metrics_render(struct metrics_registry *reg, char **buf, size_t *len)
{
	struct metrics_out o = { NULL, 0, 0, false };
	struct metrics_registry copy;
	size_t i;

	pthread_mutex_lock(&reg->lock);
	memcpy(copy.c, reg->c, sizeof(copy.c));
	copy.n = reg->n;
	pthread_mutex_unlock(&reg->lock);
	if (reserve(&o, 0))
		o.buf[0] = '\0';
	for (i = 0; i < copy.n; i++)
		copy.c[i].fn(&o, copy.c[i].arg);
	if (o.failed) {
		free(o.buf);
		return -1;
	}
	*buf = o.buf;
	*len = o.len;
	return 0;
}

int metrics_listen_parse(const char *spec, struct sockaddr_storage *ss,
			 unsigned *sslen, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	const char *p, *at, *host;
	char port[8], hostbuf[256];
	size_t plen;
	bool six;
	int rc;

	if (strncmp(spec, "inet:", 5) == 0) {
		six = false;
		p = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		six = true;
		p = spec + 6;
	} else {
		snprintf(err, errlen, "must be inet:PORT@HOST or inet6:PORT@HOST");
		return -1;
	}
	at = strchr(p, '@');
	plen = at != NULL ? (size_t)(at - p) : strlen(p);
	if (plen == 0 || plen > 5 || strspn(p, "0123456789") != plen ||
	    atoi(p) < 1 || atoi(p) > 65535) {
		snprintf(err, errlen, "port must be a number from 1 to 65535");
		return -1;
	}
	memcpy(port, p, plen);
	port[plen] = '\0';
	if (at == NULL)
		host = six ? "::1" : "127.0.0.1";
	else {
		if (at[1] == '\0' || strlen(at + 1) >= sizeof(hostbuf)) {
			snprintf(err, errlen, "host after '@' missing or too long");
			return -1;
		}
		/* "[::1]" is accepted for "::1". */
		snprintf(hostbuf, sizeof(hostbuf), "%s", at + 1);
		if (hostbuf[0] == '[' && hostbuf[strlen(hostbuf) - 1] == ']') {
			hostbuf[strlen(hostbuf) - 1] = '\0';
			memmove(hostbuf, hostbuf + 1, strlen(hostbuf));
		}
		host = hostbuf;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = six ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve '%s' as an IPv%c address: %s",
		    host, six ? '6' : '4', gai_strerror(rc));
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = (unsigned)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Whether SS is a loopback address (127.0.0.0/8, ::1). */
bool metrics_listen_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		return memcmp(&in6->sin6_addr, &in6addr_loopback,
		    sizeof(in6addr_loopback)) == 0;
	}
	return false;
}
