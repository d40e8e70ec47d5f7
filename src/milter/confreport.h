/*
 * SPDX-License-Identifier: ISC
 * confreport.h - how the loaders of a configuration's groups (filterconf.c,
 * proxy_conf.c) report an error: a message formatted here, handed to the
 * caller's function with the setting it is about (conf.c adds the file
 * and line).
 */
#ifndef SMTPREPLY_MILTER_CONFREPORT_H
#define SMTPREPLY_MILTER_CONFREPORT_H

#include <libconfig.h>

/* Receives one error about setting S (may be NULL). */
typedef void (*confreport_fn)(void *ctx, const config_setting_t *s,
			      const char *msg);

/*
 * Format FMT (always the loader's own; values from the file are
 * arguments) and hand it to FN. Returns 1, the number of errors reported,
 * for the loader's count.
 */
unsigned confreport(confreport_fn fn, void *ctx, const config_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* SMTPREPLY_MILTER_CONFREPORT_H */
