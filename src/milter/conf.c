/*
 * SPDX-License-Identifier: ISC
 * conf.c - load and check the milter's libconfig file.
 *
 * The loader walks the file against a fixed schema, reports every
 * problem with the file and line libconfig recorded for the setting, and
 * goes on after an error so that one run shows them all. Only a
 * configuration without any error is handed out. Strings from the file
 * are shown in messages made printable.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "cidr.h"
#include "conf.h"
#include "metrics.h"
#include "reply.h"
#include "proxy_conf.h"

#define ERR_MAX 1024		/* one error line */
#define SHOW_MAX 80		/* bytes of a configured string in a message */
#define RULE_NAME_MAX 64

#if defined(__GNUC__)
#define CONF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CONF_PRINTF(f, a)
#endif

/* ---- errors ---------------------------------------------------------------- */

void conf_errors_init(struct conf_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void conf_errors_free(struct conf_errors *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->lines[i]);
	free(e->lines);
	memset(e, 0, sizeof(*e));
}

/* Append LINE (taken over); on no memory keep what we have. */
static void errors_add(struct conf_errors *e, char *line)
{
	if (line == NULL)
		return;
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		char **nv = realloc(e->lines, ncap * sizeof(*nv));

		if (nv == NULL) {
			free(line);
			return;
		}
		e->lines = nv;
		e->cap = ncap;
	}
	e->lines[e->n++] = line;
}

struct loader {
	const char *path;
	struct conf_errors *errs;
	unsigned nerrors;
	struct conf *cfg;
};

static void verrorf(struct loader *ld, const char *file, unsigned line,
		    const char *fmt, va_list ap) CONF_PRINTF(4, 0);

static void verrorf(struct loader *ld, const char *file, unsigned line,
		    const char *fmt, va_list ap)
{
	char msg[ERR_MAX], *out;
	size_t i, need;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	if (file == NULL)
		file = ld->path != NULL ? ld->path : "(built-in)";
	need = strlen(file) + strlen(msg) + 16;
	out = malloc(need);
	if (out != NULL) {
		if (line > 0)
			snprintf(out, need, "%s:%u: %s", file, line, msg);
		else
			snprintf(out, need, "%s: %s", file, msg);
	}
	errors_add(ld->errs, out);
	ld->nerrors++;
}

static void errorf_at(struct loader *ld, const char *file, unsigned line,
		      const char *fmt, ...) CONF_PRINTF(4, 5);

static void errorf_at(struct loader *ld, const char *file, unsigned line,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(ld, file, line, fmt, ap);
	va_end(ap);
}

static unsigned setting_line(const config_setting_t *s)
{
	for (; s != NULL; s = config_setting_parent(s))
		if (config_setting_source_line(s) > 0)
			return config_setting_source_line(s);
	return 0;
}

static const char *setting_file(struct loader *ld, const config_setting_t *s)
{
	for (; s != NULL; s = config_setting_parent(s))
		if (config_setting_source_file(s) != NULL)
			return config_setting_source_file(s);
	return ld->path;
}

static void errorf(struct loader *ld, const config_setting_t *s,
		   const char *fmt, ...) CONF_PRINTF(3, 4);

static void errorf(struct loader *ld, const config_setting_t *s,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(ld, setting_file(ld, s), setting_line(s), fmt, ap);
	va_end(ap);
}

/* A printable copy of S for a message: SHOW_MAX bytes, then "...". */
static void show(const char *s, char *buf, size_t size)
{
	if (size > SHOW_MAX + 4)
		size = SHOW_MAX + 4;
	if (s == NULL)
		s = "";
	(void)sr_quote(buf, size, s, strnlen(s, size), SR_QUOTE_ELLIPSIS);
}

/* ---- small helpers --------------------------------------------------------- */

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:		return "an integer";
	case CONFIG_TYPE_FLOAT:		return "a number";
	case CONFIG_TYPE_STRING:	return "a string";
	case CONFIG_TYPE_BOOL:		return "a boolean";
	case CONFIG_TYPE_ARRAY:		return "an array";
	case CONFIG_TYPE_LIST:		return "a list";
	default:			return "a value";
	}
}

/* PREFIX is "" or e.g. "rule 'x': "; WHAT the setting's path. */
static bool want_type(struct loader *ld, const config_setting_t *s,
		      const char *prefix, const char *what, int type)
{
	if (config_setting_type(s) == type)
		return true;
	errorf(ld, s, "%s'%s' must be %s, not %s", prefix, what,
	       type_name(type), type_name(config_setting_type(s)));
	return false;
}

/* A string setting; NULL (and an error) when it is not one. */
static const char *want_string(struct loader *ld, const config_setting_t *s,
			       const char *prefix, const char *what)
{
	if (!want_type(ld, s, prefix, what, CONFIG_TYPE_STRING))
		return NULL;
	return config_setting_get_string(s);
}

/* An integer setting into *V; false (and an error) when it is not one. */
static bool want_int(struct loader *ld, const config_setting_t *s,
		     const char *prefix, const char *what, long long *v)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_INT)
		*v = config_setting_get_int(s);
	else if (t == CONFIG_TYPE_INT64)
		*v = config_setting_get_int64(s);
	else {
		errorf(ld, s, "%s'%s' must be an integer, not %s", prefix, what,
		       type_name(t));
		return false;
	}
	return true;
}

static bool name_in(const char *name, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(name, *names) == 0)
			return true;
	return false;
}

/* Report every member of group G not in NAMES. */
static void unknown_members(struct loader *ld, const config_setting_t *g,
			    const char *prefix, const char *where,
			    const char *const *names)
{
	int i, n = config_setting_length(g);
	char shown[SHOW_MAX + 4];

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);

		if (name == NULL || name_in(name, names))
			continue;
		show(name, shown, sizeof(shown));
		if (where != NULL)
			errorf(ld, m, "%sunknown setting '%s' in %s", prefix,
			       shown, where);
		else
			errorf(ld, m, "%sunknown setting '%s'", prefix, shown);
	}
}

static char *dup_or_fail(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		errorf_at(ld, NULL, 0, "out of memory");
	return d;
}

/* ---- syslog names ---------------------------------------------------------- */

struct named { const char *name; int value; };

static const struct named facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "cron", LOG_CRON },
	{ "daemon", LOG_DAEMON }, { "kern", LOG_KERN }, { "lpr", LOG_LPR },
	{ "mail", LOG_MAIL }, { "news", LOG_NEWS }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 }
};

static const struct named levels[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ NULL, 0 }
};

static int lookup(const struct named *t, const char *name)
{
	for (; name != NULL && t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t->value;
	return -1;
}

int conf_facility_lookup(const char *name)
{
	return lookup(facilities, name);
}

int conf_level_lookup(const char *name)
{
	return lookup(levels, name);
}

/* ---- replies --------------------------------------------------------------- */

void conf_sr_options(const struct conf *cfg, enum sr_phase phase,
		     struct sr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->phase = phase;
	o->context = SR_CONTEXT_MILTER;
	o->utf8 = cfg->utf8;
	o->policy = &cfg->policy;
}

/*
 * Build the reply for ACTION at PHASE from NLINES lines (reply.c). Errors
 * go to LD at FILE:LINE with PREFIX. Returns NULL on error.
 */
static struct reply *reply_build(struct loader *ld, const char *file,
				 unsigned line, const char *prefix,
				 const char *const *lines, size_t nlines,
				 enum rule_action action, enum sr_phase phase)
{
	struct reply *rp;
	char err[512];

	switch (reply_new(&rp, ld->cfg, file, line, lines, nlines, action, phase,
			  err, sizeof(err))) {
	case 0:
		return rp;
	case REPLY_INVALID:
		errorf_at(ld, file, line, "%s%s", prefix, err);
		return NULL;
	default:
		errorf_at(ld, NULL, 0, "out of memory");
		return NULL;
	}
}

/*
 * The lines of reply setting S: a string or a non-empty list/array of
 * strings. Returns the count (lines point into S), 0 on error.
 */
static size_t reply_lines(struct loader *ld, const config_setting_t *s,
			  const char *prefix, const char *what,
			  const char ***out)
{
	int t = config_setting_type(s), n, i;
	const char **v;

	*out = NULL;
	if (t == CONFIG_TYPE_STRING) {
		v = malloc(sizeof(*v));
		if (v == NULL) {
			errorf_at(ld, NULL, 0, "out of memory");
			return 0;
		}
		v[0] = config_setting_get_string(s);
		*out = v;
		return 1;
	}
	n = config_setting_length(s);
	if ((t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) || n == 0) {
		errorf(ld, s, "%s'%s' must be a string or a non-empty list of strings",
		       prefix, what);
		return 0;
	}
	v = calloc((size_t)n, sizeof(*v));
	if (v == NULL) {
		errorf_at(ld, NULL, 0, "out of memory");
		return 0;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			errorf(ld, e, "%s'%s' must be a string or a non-empty list of strings",
			       prefix, what);
			free(v);
			return 0;
		}
		v[i] = config_setting_get_string(e);
	}
	*out = v;
	return (size_t)n;
}

/* ---- top-level settings ---------------------------------------------------- */

static void load_string(struct loader *ld, const config_setting_t *root,
			const char *name, char **dst)
{
	const config_setting_t *s = config_setting_get_member(root, name);
	const char *v;
	char *d;

	if (s == NULL || (v = want_string(ld, s, "", name)) == NULL)
		return;
	if (*v == '\0') {
		errorf(ld, s, "'%s' must not be empty", name);
		return;
	}
	if ((d = dup_or_fail(ld, v)) == NULL)
		return;
	free(*dst);
	*dst = d;
}

int conf_socket_check(const char *spec, char *err, size_t errsize)
{
	const char *p, *at;
	unsigned long port = 0;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		if (*p != '/') {
			snprintf(err, errsize, "a unix socket needs an absolute path");
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0)
		p = spec + 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		p = spec + 6;
	else {
		snprintf(err, errsize, "socket must be inet:PORT@HOST, "
			 "inet6:PORT@HOST or unix:PATH");
		return -1;
	}
	at = strchr(p, '@');
	if (at == p || at == NULL || at[1] == '\0') {
		snprintf(err, errsize, "socket must be inet:PORT@HOST, "
			 "inet6:PORT@HOST or unix:PATH");
		return -1;
	}
	for (; p < at; p++) {
		if (*p < '0' || *p > '9' || port > 65535) {
			port = 0;
			break;
		}
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errsize, "the port must be a number from 1 to 65535");
		return -1;
	}
	return 0;
}

static void load_socket(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "socket");
	const char *v;
	char shown[SHOW_MAX + 4], err[128];

	if (s == NULL)
		return;
	load_string(ld, root, "socket", &ld->cfg->socket);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		return;
	if (strcmp(v, CONF_NO_SOCKET) != 0 &&
	    conf_socket_check(v, err, sizeof(err)) != 0) {
		show(v, shown, sizeof(shown));
		errorf(ld, s, "'socket' \"%s\": %s", shown, err);
	}
}

/* "metrics": where the Prometheus endpoint listens; unset: off. */
static void load_metrics(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "metrics");
	struct sockaddr_storage ss;
	char shown[SHOW_MAX + 4], err[256];
	unsigned sslen;

	if (s == NULL)
		return;
	load_string(ld, root, "metrics", &ld->cfg->metrics);
	if (ld->cfg->metrics == NULL || ld->cfg->metrics[0] == '\0')
		return;
	if (metrics_listen_parse(ld->cfg->metrics, &ss, &sslen, err,
	    sizeof(err)) != 0) {
		show(ld->cfg->metrics, shown, sizeof(shown));
		errorf(ld, s, "'metrics' \"%s\": %s", shown, err);
	}
}

static void load_socket_mode(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "socket_mode");
	const char *v, *p;
	unsigned long mode = 0;
	char shown[SHOW_MAX + 4];

	if (s == NULL || (v = want_string(ld, s, "", "socket_mode")) == NULL)
		return;
	for (p = v; *p >= '0' && *p <= '7'; p++)
		mode = mode * 8 + (unsigned long)(*p - '0');
	if (*v == '\0' || *p != '\0' || p - v > 4 || mode > 0777) {
		show(v, shown, sizeof(shown));
		errorf(ld, s, "'socket_mode' must be an octal mode such as \"0660\", not \"%s\"",
		       shown);
		return;
	}
	ld->cfg->socket_mode = (unsigned)mode;
	ld->cfg->socket_mode_set = true;
}

static void load_bool(struct loader *ld, const config_setting_t *g,
		      const char *name, const char *what, bool *dst)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (s != NULL && want_type(ld, s, "", what, CONFIG_TYPE_BOOL))
		*dst = config_setting_get_bool(s) != 0;
}

static void load_log(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "facility", "level", NULL };
	const config_setting_t *g = config_setting_get_member(root, "log"), *s;
	const char *v;
	char shown[SHOW_MAX + 4];
	int x;

	if (g == NULL || !want_type(ld, g, "", "log", CONFIG_TYPE_GROUP))
		return;
	unknown_members(ld, g, "", "log", known);
	if ((s = config_setting_get_member(g, "facility")) != NULL &&
	    (v = want_string(ld, s, "", "log.facility")) != NULL) {
		if ((x = conf_facility_lookup(v)) < 0) {
			show(v, shown, sizeof(shown));
			errorf(ld, s, "unknown log facility '%s' (mail, daemon, "
			       "local0 ... local7, ...)", shown);
		} else
			ld->cfg->log_facility = x;
	}
	if ((s = config_setting_get_member(g, "level")) != NULL &&
	    (v = want_string(ld, s, "", "log.level")) != NULL) {
		if ((x = conf_level_lookup(v)) < 0) {
			show(v, shown, sizeof(shown));
			errorf(ld, s, "unknown log level '%s' (emerg, alert, crit, "
			       "err, warning, notice, info, debug)", shown);
		} else
			ld->cfg->log_level = x;
	}
}

/* An integer setting NAME from LO to HI into *DST. */
static void load_uint(struct loader *ld, const config_setting_t *root,
		      const char *name, unsigned lo, unsigned hi, unsigned *dst)
{
	const config_setting_t *s = config_setting_get_member(root, name);
	long long v;

	if (s == NULL || !want_int(ld, s, "", name, &v))
		return;
	if (v < lo || v > hi) {
		errorf(ld, s, "'%s' must be from %u to %u", name, lo, hi);
		return;
	}
	*dst = (unsigned)v;
}

static void load_on_error(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "on_error");
	const char *v;
	char shown[SHOW_MAX + 4];

	if (s == NULL || (v = want_string(ld, s, "", "on_error")) == NULL)
		return;
	if (strcmp(v, "tempfail") == 0)
		ld->cfg->on_error = CONF_ON_ERROR_TEMPFAIL;
	else if (strcmp(v, "accept") == 0)
		ld->cfg->on_error = CONF_ON_ERROR_ACCEPT;
	else {
		show(v, shown, sizeof(shown));
		errorf(ld, s, "'on_error' must be 'tempfail' or 'accept', not '%s'",
		       shown);
	}
}

/* One list of entries in normalize: default_enhanced or nonstandard. */
static void load_policy_list(struct loader *ld, const config_setting_t *norm,
			     const char *name, const char *second)
{
	const config_setting_t *l = config_setting_get_member(norm, name);
	const char *const known[] = { "code", second, NULL };
	char what[64], where[128], shown[SHOW_MAX + 4];
	int i, n;

	if (l == NULL)
		return;
	snprintf(what, sizeof(what), "normalize.%s", name);
	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		errorf(ld, l, "'%s' must be a list of groups, not %s", what,
		       type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		const config_setting_t *cs, *ss;
		const char *sv;
		long long code;

		snprintf(where, sizeof(where), "%s entry %d", what, i + 1);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			errorf(ld, e, "%s must be a group { code = ...; %s = ...; }",
			       where, second);
			continue;
		}
		unknown_members(ld, e, "", where, known);
		cs = config_setting_get_member(e, "code");
		ss = config_setting_get_member(e, second);
		if (cs == NULL || ss == NULL) {
			errorf(ld, e, "%s needs both 'code' and '%s'", where, second);
			continue;
		}
		if (!want_int(ld, cs, "", "code", &code) ||
		    (sv = want_string(ld, ss, "", second)) == NULL)
			continue;
		show(sv, shown, sizeof(shown));
		if (code < 100 || code > 999) {
			/* libconfig may have wrapped a huge number: no value shown. */
			errorf(ld, cs, "%s: 'code' must be a reply code from 100 "
			       "to 999", where);
			continue;
		}
		if (strcmp(name, "default_enhanced") == 0) {
			if (sr_policy_set_default(&ld->cfg->policy, (unsigned)code, sv) < 0)
				errorf(ld, e, "%s: the engine refuses %s as the default "
				       "enhanced code of %lld (the code must be 2xx, 4xx "
				       "or 5xx and the class must match it)",
				       what, shown, code);
		} else {
			unsigned newcode = 0;
			const char *enh = NULL;
			int v = sr_code_at(sv, strlen(sv));
			bool ok = v >= 0 && (sv[3] == '\0' ||
					     (sv[3] == ' ' && sv[4] != '\0'));

			if (ok) {
				newcode = (unsigned)v;
				enh = sv[3] == ' ' ? sv + 4 : NULL;
			}
			if (!ok)
				errorf(ld, ss, "%s: 'replace' must be \"CODE\" or "
				       "\"CODE X.Y.Z\", not \"%s\"", what, shown);
			else if (sr_policy_set_replacement(&ld->cfg->policy,
							   (unsigned)code, newcode,
							   enh) < 0)
				errorf(ld, e, "%s: the engine refuses to replace %lld "
				       "by \"%s\" (a standard code of the same class, "
				       "with a matching enhanced code)", what, code,
				       shown);
		}
	}
}

static void load_normalize(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = {
		"utf8", "accept_missing_code", "default_enhanced",
		"nonstandard", NULL
	};
	const config_setting_t *g = config_setting_get_member(root, "normalize");

	if (g == NULL || !want_type(ld, g, "", "normalize", CONFIG_TYPE_GROUP))
		return;
	unknown_members(ld, g, "", "normalize", known);
	load_bool(ld, g, "utf8", "normalize.utf8", &ld->cfg->utf8);
	load_bool(ld, g, "accept_missing_code", "normalize.accept_missing_code",
		  &ld->cfg->accept_missing_code);
	load_policy_list(ld, g, "default_enhanced", "enhanced");
	load_policy_list(ld, g, "nonstandard", "replace");
}

/* The "replies" block (or the built-in texts): one reply per phase. */
static void load_replies(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "reject", "tempfail", NULL };
	const config_setting_t *g = root != NULL ?
		config_setting_get_member(root, "replies") : NULL;
	int k;

	if (g != NULL && !want_type(ld, g, "", "replies", CONFIG_TYPE_GROUP))
		g = NULL;
	if (g != NULL)
		unknown_members(ld, g, "", "replies", known);
	for (k = 0; k < 2; k++) {
		enum rule_action action = k == 0 ? RULE_REJECT : RULE_TEMPFAIL;
		const char *name = k == 0 ? "reject" : "tempfail";
		const char *builtin = k == 0 ? CONF_DEFAULT_REJECT : CONF_DEFAULT_TEMPFAIL;
		struct reply **dst = k == 0 ? ld->cfg->reject : ld->cfg->tempfail;
		const config_setting_t *s = g != NULL ? config_setting_get_member(g, name) : NULL;
		const char **lines = &builtin, *file = NULL;
		size_t nlines = 1;
		unsigned line = 0;
		char prefix[64];
		int ph;

		if (s != NULL) {
			char what[32];

			snprintf(what, sizeof(what), "replies.%s", name);
			nlines = reply_lines(ld, s, "", what, &lines);
			if (nlines == 0)
				continue;
			file = setting_file(ld, s);
			line = setting_line(s);
		}
		snprintf(prefix, sizeof(prefix), "replies.%s: ", name);
		/* Check once in phase "other", then build one per phase. */
		dst[SR_PHASE_OTHER] = reply_build(ld, file, line, prefix, lines,
						  nlines, action, SR_PHASE_OTHER);
		for (ph = 0; dst[SR_PHASE_OTHER] != NULL && ph < SR_PHASE__COUNT; ph++) {
			if (ph == SR_PHASE_OTHER)
				continue;
			snprintf(prefix, sizeof(prefix), "replies.%s (at %s): ", name,
				 sr_phase_name((enum sr_phase)ph));
			dst[ph] = reply_build(ld, file, line, prefix, lines, nlines,
					      action, (enum sr_phase)ph);
		}
		if (s != NULL)
			free(lines);
	}
}

/* ---- rules ----------------------------------------------------------------- */

static bool rule_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_' &&
		    s[n] != '.')
			return false;
	return n > 0 && n <= RULE_NAME_MAX;
}

static bool header_name_ok(const char *s)
{
	size_t n = 0;

	/* RFC 5322 field name: printable ASCII except ':'. */
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f ||
		    s[n] == ':')
			return false;
	return n > 0 && n <= 256;
}

static void load_regex(struct loader *ld, const config_setting_t *s,
		       const char *prefix, const char *what,
		       struct rule_regex *rx)
{
	const char *v = want_string(ld, s, prefix, what);
	char err[512];

	if (v == NULL)
		return;
	if (rule_regex_compile(rx, v, err, sizeof(err)) < 0)
		errorf(ld, s, "%s%s: %s", prefix, what, err);
}

/* name = ...; value = "/.../"; for header and macro conditions. */
static void load_name_value(struct loader *ld, const config_setting_t *g,
			    const char *prefix, const char *what,
			    char **name, struct rule_regex *value)
{
	static const char *const known[] = { "name", "value", NULL };
	const config_setting_t *ns, *vs;
	const char *nv;
	char where[64], shown[SHOW_MAX + 4];

	if (!want_type(ld, g, prefix, what, CONFIG_TYPE_GROUP))
		return;
	snprintf(where, sizeof(where), "%s condition", what);
	unknown_members(ld, g, prefix, where, known);
	ns = config_setting_get_member(g, "name");
	vs = config_setting_get_member(g, "value");
	if (ns == NULL) {
		errorf(ld, g, "%s%s condition needs a 'name'", prefix, what);
		return;
	}
	snprintf(where, sizeof(where), "%s.name", what);
	if ((nv = want_string(ld, ns, prefix, where)) == NULL)
		return;
	if (strcmp(what, "header") == 0 ? !header_name_ok(nv) :
	    (*nv == '\0' || strlen(nv) > 256)) {
		show(nv, shown, sizeof(shown));
		errorf(ld, ns, "%sbad %s name '%s'", prefix, what, shown);
		return;
	}
	if ((*name = dup_or_fail(ld, nv)) == NULL)
		return;
	if (vs != NULL) {
		snprintf(where, sizeof(where), "%s.value", what);
		load_regex(ld, vs, prefix, where, value);
	}
}

static void load_clients(struct loader *ld, const config_setting_t *s,
			 const char *prefix, struct rule *r)
{
	int t = config_setting_type(s), n, i;
	char err[128], shown[SHOW_MAX + 4];

	if (t == CONFIG_TYPE_STRING)
		n = 1;
	else if (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY)
		n = config_setting_length(s);
	else
		n = -1;
	if (n <= 0) {
		errorf(ld, s, "%s'client' must be an address, a CIDR block or a "
		       "non-empty list of them", prefix);
		return;
	}
	r->clients = calloc((size_t)n, sizeof(*r->clients));
	if (r->clients == NULL) {
		errorf_at(ld, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = t == CONFIG_TYPE_STRING ? s :
			config_setting_get_elem(s, (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			errorf(ld, e, "%s'client' must be an address, a CIDR block "
			       "or a non-empty list of them", prefix);
			continue;
		}
		v = config_setting_get_string(e);
		if (cidr_parse(v, &r->clients[r->nclients], err, sizeof(err)) < 0) {
			show(v, shown, sizeof(shown));
			errorf(ld, e, "%sclient '%s': %s", prefix, shown, err);
			continue;
		}
		r->nclients++;
	}
}

static const char *const rule_known[] = {
	"name", "phase", "action", "reply", "client", "client_name", "helo",
	"sender", "rcpt", "header", "macro", "authenticated", NULL
};

/* Load rule number IDX (0-based) from group G; NULL on any error. */
static struct rule *load_rule(struct loader *ld, const config_setting_t *g,
			      int idx, const struct rule_set *rs)
{
	const config_setting_t *s, *ps, *as;
	const char *name = NULL, *v;
	char prefix[RULE_NAME_MAX + 16], shown[SHOW_MAX + 4];
	struct rule *r;
	unsigned before = ld->nerrors;
	int x, c;
	const struct rule *dup;

	snprintf(prefix, sizeof(prefix), "rule #%d: ", idx + 1);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		errorf(ld, g, "%smust be a group { name = ...; phase = ...; action = ...; }",
		       prefix);
		return NULL;
	}
	s = config_setting_get_member(g, "name");
	if (s == NULL)
		errorf(ld, g, "%shas no 'name'", prefix);
	else if ((name = want_string(ld, s, prefix, "name")) != NULL) {
		if (!rule_name_ok(name)) {
			show(name, shown, sizeof(shown));
			errorf(ld, s, "%sbad name '%s' (1 to %d letters, digits, '-', "
			       "'_' or '.')", prefix, shown, RULE_NAME_MAX);
			name = NULL;
		} else
			snprintf(prefix, sizeof(prefix), "rule '%s': ", name);
	}
	if (name != NULL && (dup = rule_set_find(rs, name)) != NULL)
		errorf(ld, s, "duplicate rule name '%s' (first defined at line %u)",
		       name, dup->line);
	r = rule_new(name != NULL ? name : "");
	if (r == NULL) {
		errorf_at(ld, NULL, 0, "out of memory");
		return NULL;
	}
	r->line = setting_line(g);
	unknown_members(ld, g, prefix, NULL, rule_known);

	ps = config_setting_get_member(g, "phase");
	if (ps == NULL)
		errorf(ld, g, "%shas no 'phase'", prefix);
	else if ((v = want_string(ld, ps, prefix, "phase")) != NULL) {
		if ((x = rule_phase_lookup(v)) < 0) {
			show(v, shown, sizeof(shown));
			errorf(ld, ps, "%sunknown phase '%s' (connect, helo, mail, "
			       "rcpt, data, header, eom)", prefix, shown);
			ps = NULL;
		} else
			r->phase = (enum rule_phase)x;
	} else
		ps = NULL;
	as = config_setting_get_member(g, "action");
	if (as == NULL)
		errorf(ld, g, "%shas no 'action'", prefix);
	else if ((v = want_string(ld, as, prefix, "action")) != NULL) {
		if ((x = rule_action_lookup(v)) < 0) {
			show(v, shown, sizeof(shown));
			errorf(ld, as, "%sunknown action '%s' (accept, reject, "
			       "tempfail, discard, quarantine, continue)", prefix, shown);
			as = NULL;
		} else
			r->action = (enum rule_action)x;
	} else
		as = NULL;
	if (ps != NULL && as != NULL && r->action == RULE_DISCARD &&
	    (r->phase == RULE_PHASE_CONNECT || r->phase == RULE_PHASE_HELO))
		errorf(ld, as, "%saction discard cannot be used at phase %s "
		       "(the MTA discards messages, not connections; use phase "
		       "mail)", prefix, rule_phase_name(r->phase));

	/* Conditions, each checked against the phase when it is known. */
	for (c = 0; c < RULE_COND__COUNT; c++) {
		const char *cn = rule_cond_name((enum rule_cond)c);

		s = config_setting_get_member(g, cn);
		if (s == NULL)
			continue;
		if (ps != NULL && !rule_cond_available((enum rule_cond)c, r->phase))
			errorf(ld, s, "%scondition '%s' cannot be used at phase %s "
			       "(the MTA has not told it yet%s)", prefix, cn,
			       rule_phase_name(r->phase),
			       c == RULE_COND_RCPT ? "; only at phase rcpt" :
			       c == RULE_COND_HEADER ? "; only at phase header" : "");
		switch ((enum rule_cond)c) {
		case RULE_COND_CLIENT:
			load_clients(ld, s, prefix, r);
			break;
		case RULE_COND_CLIENT_NAME:
			load_regex(ld, s, prefix, cn, &r->client_name);
			break;
		case RULE_COND_HELO:
			load_regex(ld, s, prefix, cn, &r->helo);
			break;
		case RULE_COND_SENDER:
			load_regex(ld, s, prefix, cn, &r->sender);
			break;
		case RULE_COND_RCPT:
			load_regex(ld, s, prefix, cn, &r->rcpt);
			break;
		case RULE_COND_HEADER:
			load_name_value(ld, s, prefix, cn, &r->header_name,
					&r->header_value);
			break;
		case RULE_COND_MACRO:
			load_name_value(ld, s, prefix, cn, &r->macro_name,
					&r->macro_value);
			break;
		case RULE_COND_AUTHENTICATED:
			if (want_type(ld, s, prefix, cn, CONFIG_TYPE_BOOL))
				r->authenticated = config_setting_get_bool(s) != 0;
			break;
		default:
			break;
		}
	}

	s = config_setting_get_member(g, "reply");
	if (s != NULL && as != NULL) {
		if (r->action == RULE_ACCEPT || r->action == RULE_DISCARD ||
		    r->action == RULE_CONTINUE)
			errorf(ld, s, "%saction %s takes no reply", prefix,
			       rule_action_name(r->action));
		else if (r->action == RULE_QUARANTINE &&
			 config_setting_type(s) != CONFIG_TYPE_STRING)
			errorf(ld, s, "%s'reply' of a quarantine rule (the reason) "
			       "must be a string", prefix);
		else if (ps != NULL) {
			const char **lines;
			size_t n = reply_lines(ld, s, prefix, "reply", &lines);

			if (n > 0) {
				r->reply = reply_build(ld, setting_file(ld, s),
						       setting_line(s), prefix, lines, n,
						       r->action,
						       rule_phase_sr(r->phase));
				free(lines);
			}
		}
	}
	if (ld->nerrors != before || name == NULL) {
		reply_free(r->reply);
		rule_free(r);
		return NULL;
	}
	return r;
}

static void load_rules(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *l = config_setting_get_member(root, "rules");
	struct rule_set *rs = &ld->cfg->rules;
	int i, n;

	if (l == NULL)
		return;
	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		errorf(ld, l, "'rules' must be a list ( { ... }, { ... } ), not %s",
		       type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		struct rule *r = load_rule(ld, g, i, rs);

		/* A rule with errors is left out; its name still counts. */
		if (r == NULL) {
			const config_setting_t *ns = config_setting_type(g) ==
				CONFIG_TYPE_GROUP ? config_setting_get_member(g, "name") : NULL;

			if (ns != NULL && config_setting_type(ns) == CONFIG_TYPE_STRING &&
			    rule_name_ok(config_setting_get_string(ns)) &&
			    rule_set_find(rs, config_setting_get_string(ns)) == NULL &&
			    (r = rule_new(config_setting_get_string(ns))) != NULL) {
				/* A placeholder so that duplicates are found. */
				r->line = setting_line(g);
				r->phase = RULE_PHASE__COUNT;
				if (rule_set_add(rs, r) < 0)
					errorf_at(ld, NULL, 0, "out of memory");
			}
			continue;
		}
		if (rule_set_add(rs, r) < 0)
			errorf_at(ld, NULL, 0, "out of memory");
	}
}

/* ---- the whole ------------------------------------------------------------- */

/*
 * Configurations in memory (loaded and not yet freed): a statistic the
 * daemon logs on SIGUSR1, so that old generations kept alive by sessions
 * can be seen. Atomic; nothing else is global here.
 */
static atomic_uint conf_alive;

unsigned conf_alive_count(void)
{
	return atomic_load(&conf_alive);
}

static void conf_free(struct conf *cfg)
{
	size_t i;
	int ph;

	if (cfg == NULL)
		return;
	atomic_fetch_sub(&conf_alive, 1);
	for (i = 0; i < cfg->rules.nrules; i++)
		reply_free(cfg->rules.rules[i]->reply);
	rule_set_free(&cfg->rules);
	for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
		reply_free(cfg->reject[ph]);
		reply_free(cfg->tempfail[ph]);
	}
	free(cfg->file);
	free(cfg->socket);
	free(cfg->user);
	free(cfg->group);
	free(cfg->pidfile);
	free(cfg->metrics);
	proxy_conf_free(&cfg->proxy);
	filterconf_free(&cfg->filter);
	free(cfg);
}

struct conf *conf_ref(struct conf *cfg)
{
	atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
	return cfg;
}

void conf_unref(struct conf *cfg)
{
	if (cfg == NULL)
		return;
	if (atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) == 1)
		conf_free(cfg);
}

static struct conf *conf_new(struct loader *ld, const char *path)
{
	struct conf *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		errorf_at(ld, NULL, 0, "out of memory");
		return NULL;
	}
	atomic_fetch_add(&conf_alive, 1);	/* conf_free() counts it out */
	atomic_init(&cfg->refs, 1);
	sr_policy_init(&cfg->policy);
	rule_set_init(&cfg->rules);
	filterconf_init(&cfg->filter);
	cfg->log_facility = LOG_MAIL;
	cfg->log_level = LOG_INFO;
	cfg->on_error = CONF_ON_ERROR_TEMPFAIL;
	cfg->audit_mta_rejects = true;
	cfg->max_sessions = CONF_DEFAULT_MAX_SESSIONS;
	cfg->session_timeout = CONF_DEFAULT_SESSION_TIMEOUT;
	cfg->socket = strdup(CONF_DEFAULT_SOCKET);
	cfg->pidfile = strdup(CONF_DEFAULT_PIDFILE);
	if (path != NULL)
		cfg->file = strdup(path);
	if (cfg->socket == NULL || cfg->pidfile == NULL ||
	    (path != NULL && cfg->file == NULL)) {
		errorf_at(ld, NULL, 0, "out of memory");
		conf_free(cfg);
		return NULL;
	}
	return cfg;
}

/* An error found by a module's loader ("milters": proxy_conf.c,
 * "filter": filterconf.c), with its line. */
static void module_error(void *ctx, const config_setting_t *s,
			 const char *msg)
{
	errorf(ctx, s, "%s", msg);
}

/*
 * Open PATH for libconfig, checked with every file it includes
 * (conffile.h). NULL with the error in LD.
 */
static FILE *open_config_file(struct loader *ld, const char *path)
{
	struct conffile_error e;
	size_t size = 0;
	FILE *f = conffile_open(path, &size, &e);

	if (f != NULL && conffile_check_includes(f, path, size, &e) != 0) {
		fclose(f);
		f = NULL;
	}
	if (f == NULL)
		errorf_at(ld, e.file, e.line, "%s", e.msg);
	return f;
}

static void load_filter(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "filter");

	if (g != NULL)
		(void)filterconf_load(g, &ld->cfg->filter, module_error, ld);
}

static const char *const top_known[] = {
	"socket", "user", "group", "socket_mode", "pidfile", "log", "on_error",
	"audit_mta_rejects", "normalize", "replies", "rules", "metrics",
	"milters", "filter", "max_sessions", "session_timeout", NULL
};

int conf_load(const char *path, struct conf **out,
	      struct conf_errors *errs)
{
	struct loader ld = { path, errs, 0, NULL };
	config_t lc;
	const config_setting_t *root = NULL;
	bool have_lc = false;

	*out = NULL;
	ld.cfg = conf_new(&ld, path);
	if (ld.cfg == NULL)
		return -1;
	if (path != NULL) {
		FILE *f = open_config_file(&ld, path);
		int ok;

		if (f == NULL)
			goto done;
		config_init(&lc);
		have_lc = true;
		ok = config_read(&lc, f);
		fclose(f);
		if (ok != CONFIG_TRUE) {
			if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
				errorf_at(&ld, path, 0, "cannot read the file");
			else
				errorf_at(&ld, config_error_file(&lc) != NULL ?
					  config_error_file(&lc) : path,
					  (unsigned)config_error_line(&lc), "%s",
					  config_error_text(&lc));
			goto done;
		}
		root = config_root_setting(&lc);
		unknown_members(&ld, root, "", NULL, top_known);
		load_socket(&ld, root);
		load_string(&ld, root, "user", &ld.cfg->user);
		load_string(&ld, root, "group", &ld.cfg->group);
		load_socket_mode(&ld, root);
		load_string(&ld, root, "pidfile", &ld.cfg->pidfile);
		load_metrics(&ld, root);
		load_log(&ld, root);
		load_on_error(&ld, root);
		load_bool(&ld, root, "audit_mta_rejects", "audit_mta_rejects",
			  &ld.cfg->audit_mta_rejects);
		load_uint(&ld, root, "max_sessions", 1, CONF_MAX_MAX_SESSIONS,
			  &ld.cfg->max_sessions);
		load_uint(&ld, root, "session_timeout", 10,
			  CONF_MAX_SESSION_TIMEOUT, &ld.cfg->session_timeout);
		/* The policy first: every reply is normalized under it. */
		load_normalize(&ld, root);
	}
	load_replies(&ld, root);
	if (root != NULL) {
		load_rules(&ld, root);
		(void)proxy_conf_load(config_setting_get_member(root, "milters"),
		    &ld.cfg->proxy, module_error, &ld);
		load_filter(&ld, root);
	}
	if (ld.nerrors == 0 && rule_set_finish(&ld.cfg->rules) < 0)
		errorf_at(&ld, NULL, 0, "out of memory");
done:
	if (have_lc)
		config_destroy(&lc);
	if (ld.nerrors > 0) {
		conf_free(ld.cfg);
		return -1;
	}
	*out = ld.cfg;
	return 0;
}

/* ---- run time -------------------------------------------------------------- */

const struct reply *conf_rule_reply(const struct conf *cfg,
				    const struct rule *r)
{
	enum sr_phase ph = rule_phase_sr(r->phase);

	if (r->reply != NULL)
		return r->reply;
	if (r->action == RULE_REJECT)
		return cfg->reject[ph];
	if (r->action == RULE_TEMPFAIL)
		return cfg->tempfail[ph];
	return NULL;
}
