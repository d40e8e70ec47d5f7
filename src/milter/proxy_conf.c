/*
 * SPDX-License-Identifier: ISC
 * proxy_conf.c - read the "milters" list. See proxy_conf.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_conf.h"

#define DEFAULT_CONNECT_MS	5000
#define DEFAULT_COMMAND_MS	30000
#define DEFAULT_EOM_MS		300000
#define DURATION_MAX_MS		3600000

int proxy_duration_ms(const char *s, int *ms)
{
	char *end;
	long v;
	long mult;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 0 || *s == '-' || *s == '+' ||
	    *s == ' ')
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else
		return -1;
	if (v > DURATION_MAX_MS / mult || v * mult < 1)
		return -1;
	*ms = (int)(v * mult);
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > PROXY_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
		    || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static void load_timeout(const config_setting_t *t, const char *key, int *ms,
			 confreport_fn err, void *ctx, unsigned *n)
{
	const config_setting_t *s = config_setting_get_member(t, key);
	char buf[32];
	const char *v;

	if (s == NULL)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		snprintf(buf, sizeof(buf), "%d", config_setting_get_int(s));
		v = buf;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
	} else {
		*n += confreport(err, ctx, s, "timeout '%s' must be a number of seconds "
		    "or a string like \"30s\", \"250ms\", \"5m\"", key);
		return;
	}
	if (proxy_duration_ms(v, ms) != 0)
		*n += confreport(err, ctx, s, "bad timeout '%s' (1ms to 1 hour: \"250ms\", "
		    "\"30s\", \"5m\")", v);
}

static const char *const child_known[] = {
	"name", "socket", "timeouts", "on_error", "evaluate", NULL
};
static const char *const timeout_known[] = {
	"connect", "command", "eom", NULL
};

static void unknown_members(const config_setting_t *g,
			    const char *const *known, const char *where,
			    confreport_fn err, void *ctx, unsigned *n)
{
	int i, len = config_setting_length(g);

	for (i = 0; i < len; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *nm = config_setting_name(m);
		size_t k;
		bool ok = false;

		for (k = 0; nm != NULL && known[k] != NULL; k++)
			ok = ok || strcmp(nm, known[k]) == 0;
		if (!ok) {
			char msg[200];

			snprintf(msg, sizeof(msg), "unknown setting '%s' in %s",
			    nm != NULL ? nm : "?", where);
			err(ctx, m, msg);
			(*n)++;
		}
	}
}

static const char *string_member(const config_setting_t *g, const char *key,
				 confreport_fn err, void *ctx,
				 unsigned *n)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		*n += confreport(err, ctx, s, "'%s' must be a string", key);
		return NULL;
	}
	return config_setting_get_string(s);
}

unsigned proxy_conf_load(const config_setting_t *list, struct proxy_conf *out,
			 confreport_fn err, void *ctx)
{
	unsigned n = 0;
	int i, len;

	memset(out, 0, sizeof(*out));
	if (list == NULL)
		return 0;
	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    config_setting_type(list) != CONFIG_TYPE_ARRAY) {
		n += confreport(err, ctx, list, "'milters' must be a list: ( { ... }, "
		    "... )");
		return n;
	}
	len = config_setting_length(list);
	if (len > PROXY_CHILDREN_MAX) {
		n += confreport(err, ctx, list, "at most 32 milters");
		return n;
	}
	if (len == 0)
		return 0;
	if ((out->child = calloc((size_t)len, sizeof(*out->child))) == NULL) {
		n += confreport(err, ctx, list, "out of memory");
		return n;
	}
	for (i = 0; i < len; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct proxy_child_conf *c = &out->child[out->n];
		const config_setting_t *s;
		const char *name, *sock, *oe;
		char why[200];
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			n += confreport(err, ctx, g, "each milter is a group { name = "
			    "...; socket = ...; }");
			continue;
		}
		unknown_members(g, child_known, "a milter", err, ctx, &n);
		name = string_member(g, "name", err, ctx, &n);
		sock = string_member(g, "socket", err, ctx, &n);
		if (name == NULL || !name_ok(name)) {
			n += confreport(err, ctx, g, "a milter needs a 'name' of letters, "
			    "digits, '.', '_', '-' (at most 64)");
			continue;
		}
		for (k = 0; k < out->n; k++)
			if (strcmp(out->child[k].name, name) == 0)
				n += confreport(err, ctx, g, "milter '%s' is defined "
				    "twice", name);
		if (sock == NULL) {
			n += confreport(err, ctx, g, "milter '%s' needs a 'socket'", name);
			continue;
		}
		if (mchild_socket_check(sock, why, sizeof(why)) != 0) {
			n += confreport(err, ctx, config_setting_get_member(g, "socket"),
			    "milter '%s': socket '%.100s': %s", name, sock, why);
			continue;
		}
		c->connect_ms = DEFAULT_CONNECT_MS;
		c->command_ms = DEFAULT_COMMAND_MS;
		c->eom_ms = DEFAULT_EOM_MS;
		c->on_error = PROXY_ON_ERROR_TEMPFAIL;
		c->line = (unsigned)config_setting_source_line(g);
		if ((s = config_setting_get_member(g, "timeouts")) != NULL) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
				n += confreport(err, ctx, s, "'timeouts' must be a group "
				    "{ connect = ...; command = ...; eom = ...; }");
			} else {
				unknown_members(s, timeout_known, "timeouts", err,
				    ctx, &n);
				load_timeout(s, "connect", &c->connect_ms, err, ctx,
				    &n);
				load_timeout(s, "command", &c->command_ms, err, ctx,
				    &n);
				load_timeout(s, "eom", &c->eom_ms, err, ctx, &n);
			}
		}
		if ((oe = string_member(g, "on_error", err, ctx, &n)) != NULL) {
			if (strcmp(oe, "tempfail") == 0)
				c->on_error = PROXY_ON_ERROR_TEMPFAIL;
			else if (strcmp(oe, "accept") == 0)
				c->on_error = PROXY_ON_ERROR_ACCEPT;
			else if (strcmp(oe, "reject") == 0)
				c->on_error = PROXY_ON_ERROR_REJECT;
			else
				n += confreport(err, ctx, config_setting_get_member(g,
				    "on_error"), "'on_error' must be 'tempfail', "
				    "'accept' or 'reject', not '%s'", oe);
		}
		if ((s = config_setting_get_member(g, "evaluate")) != NULL) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				n += confreport(err, ctx, s, "'evaluate' must be true or "
				    "false");
			else
				c->evaluate = config_setting_get_bool(s) != 0;
		}
		c->name = strdup(name);
		c->socket = strdup(sock);
		c->ctr = calloc(1, sizeof(*c->ctr));
		c->memo = proxy_child_memo_new();
		out->n++;
		if (c->name == NULL || c->socket == NULL || c->ctr == NULL ||
		    c->memo == NULL)
			n += confreport(err, ctx, g, "out of memory");
	}
	return n;
}
