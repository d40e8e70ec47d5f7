/*
 * SPDX-License-Identifier: ISC
 * confreport.c - errors of a configuration group's loader. See
 * confreport.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "confreport.h"

unsigned confreport(confreport_fn fn, void *ctx, const config_setting_t *s,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(ctx, s, msg);
	return 1;
}
