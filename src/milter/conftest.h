/*
 * SPDX-License-Identifier: ISC
 * conftest.h - show a loaded configuration's replies as they will be sent.
 *
 * "smtpreply-milter -t" prints every configured reply: as written, the
 * engine's diagnostics with their reasons, and the reply as the MTA will
 * get it. At start-up and after a reload the same facts go to the log,
 * one line per reply the engine had to change, so that an administrator
 * sees that "550 4.7.1" in the file is sent as "550 5.7.1".
 */
#ifndef SMTPREPLY_MILTER_CONFTEST_H
#define SMTPREPLY_MILTER_CONFTEST_H

#include <stdio.h>

#include "conf.h"

/* The report of -t on OUT; SOCKET and USER (NULL: none) as they will be used. */
void conftest_print(FILE *out, const struct conf *cfg, const char *socket,
		    const char *user);

/*
 * What -t is strict about: a configured reply written without its basic
 * code ("5.7.1 Access denied"), unless normalize.accept_missing_code is
 * set. Prints "file:line: ..." with the reply as it would be sent on ERR
 * for each, and returns how many there are.
 */
int conftest_strict(FILE *err, const struct conf *cfg);

/* Log one line per configured reply the engine changed. */
void conftest_log_changes(const struct conf *cfg);

#endif /* SMTPREPLY_MILTER_CONFTEST_H */
