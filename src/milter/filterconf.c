/*
 * SPDX-License-Identifier: ISC
 * filterconf.c - load the "filter" group (see filterconf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "filterconf.h"

void filterconf_init(struct filterconf *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->max_connections = FILTERCONF_MAX_CONNECTIONS;
}

void filterconf_free(struct filterconf *fc)
{
	free(fc->socket);
	free(fc->group);
	filterconf_init(fc);
}

/* A printable, bounded copy of S for a message. */
static void show(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < size; i++)
		buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

/* A non-empty string member NAME of G, or NULL (with a problem if bad). */
static const char *string_member(const config_setting_t *g, const char *name,
				 unsigned *n, confreport_fn err,
				 void *ctx)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	const char *v;

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		*n += confreport(err, ctx, s, "filter: '%s' must be a string", name);
		return NULL;
	}
	v = config_setting_get_string(s);
	if (*v == '\0') {
		*n += confreport(err, ctx, s, "filter: '%s' must not be empty", name);
		return NULL;
	}
	return v;
}

unsigned filterconf_load(const config_setting_t *g, struct filterconf *fc,
			 confreport_fn err, void *ctx)
{
	static const char *const known[] = {
		"socket", "socket_mode", "group", "max_connections", NULL
	};
	const config_setting_t *s;
	const char *v, *p;
	char shown[96], why[160];
	unsigned n = 0, mode = 0;
	int i, len;
	size_t k;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return confreport(err, ctx, g, "'%s' must be a group", "filter");
	len = config_setting_length(g);
	for (i = 0; i < len; i++) {
		const char *name = config_setting_name(
		    config_setting_get_elem(g, (unsigned)i));
		bool ok = false;

		for (k = 0; name != NULL && known[k] != NULL; k++)
			ok = ok || strcmp(name, known[k]) == 0;
		if (name != NULL && !ok) {
			show(name, shown, sizeof(shown));
			n += confreport(err, ctx, config_setting_get_elem(g,
			    (unsigned)i), "filter: unknown setting '%s'", shown);
		}
	}
	if ((v = string_member(g, "socket", &n, err, ctx)) != NULL) {
		if (conf_socket_check(v, why, sizeof(why)) != 0) {
			show(v, shown, sizeof(shown));
			n += confreport(err, ctx, config_setting_get_member(g,
			    "socket"), "filter: 'socket' \"%s\": %s", shown, why);
		} else if ((fc->socket = strdup(v)) == NULL) {
			n += confreport(err, ctx, g, "%s", "out of memory");
		}
	} else if (config_setting_get_member(g, "socket") == NULL) {
		n += confreport(err, ctx, g, "%s", "filter: 'socket' is required");
	}
	if ((v = string_member(g, "socket_mode", &n, err, ctx)) != NULL) {
		for (p = v; *p >= '0' && *p <= '7'; p++)
			mode = mode * 8 + (unsigned)(*p - '0');
		if (*p != '\0' || p - v > 4 || mode > 0777) {
			show(v, shown, sizeof(shown));
			n += confreport(err, ctx, config_setting_get_member(g,
			    "socket_mode"), "filter: 'socket_mode' must be an "
			    "octal mode such as \"0660\", not \"%s\"", shown);
		} else {
			fc->socket_mode = mode;
			fc->socket_mode_set = true;
		}
	}
	if ((v = string_member(g, "group", &n, err, ctx)) != NULL &&
	    (fc->group = strdup(v)) == NULL)
		n += confreport(err, ctx, g, "%s", "out of memory");
	if ((s = config_setting_get_member(g, "max_connections")) != NULL) {
		long long x;

		if (config_setting_type(s) == CONFIG_TYPE_INT)
			x = config_setting_get_int(s);
		else if (config_setting_type(s) == CONFIG_TYPE_INT64)
			x = config_setting_get_int64(s);
		else
			return n + confreport(err, ctx, s, "filter: '%s' must be an "
			    "integer", "max_connections");
		if (x < 1 || x > FILTERCONF_MAX_CONNECTIONS_MAX)
			n += confreport(err, ctx, s, "filter: 'max_connections' "
			    "must be 1 to %d", FILTERCONF_MAX_CONNECTIONS_MAX);
		else
			fc->max_connections = (unsigned)x;
	}
	return n;
}
