/*
 * SPDX-License-Identifier: ISC
 * filterconf.h - the "filter" group of smtpreply.conf: the socketmap service.
 *
 *   filter = {
 *       socket = "inet:10026@127.0.0.1";   # or inet6:PORT@HOST, unix:PATH
 *       socket_mode = "0660";              # unix socket; default: the milter's
 *       group = "postfix";                 # unix socket's group; default: the milter's
 *       max_connections = 256;             # at once; more are closed at once
 *   };
 *
 * Without the group there is no socketmap service; the socket is checked
 * as the milter's (conf_socket_check()).
 * The loader reports each problem through a callback with the offending
 * setting, so that conf.c can say file:line as for everything else.
 */
#ifndef SMTPREPLY_MILTER_FILTERCONF_H
#define SMTPREPLY_MILTER_FILTERCONF_H

#include <stdbool.h>

#include <libconfig.h>

#include "confreport.h"

#define FILTERCONF_MAX_CONNECTIONS	256
#define FILTERCONF_MAX_CONNECTIONS_MAX	4096

struct filterconf {
	char *socket;			/* NULL: no socketmap service */
	unsigned socket_mode;		/* when socket_mode_set */
	bool socket_mode_set;
	char *group;			/* NULL: the milter's group */
	unsigned max_connections;
};


/* Defaults: no service. */
void filterconf_init(struct filterconf *fc);

/*
 * Load group G (the "filter" setting) into FC. Each problem goes to ERR;
 * returns the number of problems.
 */
unsigned filterconf_load(const config_setting_t *g, struct filterconf *fc,
			 confreport_fn err, void *ctx);

void filterconf_free(struct filterconf *fc);

#endif /* SMTPREPLY_MILTER_FILTERCONF_H */
