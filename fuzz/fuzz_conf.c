/*
 * SPDX-License-Identifier: ISC
 * fuzz_conf.c - libFuzzer target over the milter's configuration loader.
 *
 * The input is the text of a configuration file. It is handed to
 * conf_load() through a memfd (the loader reads a path and insists on a
 * regular file; a memfd is one), with every check of the loader: libconfig
 * parsing, the schema walk, regular expressions compiled, CIDR blocks,
 * templates, every reply parsed and normalized by the engine, proxy
 * children and the reply filter. A configuration that loads is then
 * reported as "-t" reports it (conftest_print), to a null stream, and
 * released; one that does not has its error lines checked for printable
 * bytes. Any crash, sanitizer report or leak is a finding. Seeds: the
 * sample configuration and hostile files (fuzz/conf-seeds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "conftest.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null_out;
	struct conf_errors errs;
	struct conf *cfg = NULL;
	char path[64];
	size_t i, j;
	int fd;

	if (null_out == NULL) {
		null_out = fopen("/dev/null", "w");
		/* Load-time notices stay quiet: only errors, to stderr. */
		log_open("fuzz_conf", true, LOG_MAIL, LOG_EMERG);
		if (null_out == NULL)
			abort();
	}
	/*
	 * libconfig 1.5 follows @include itself, past the loader's checks: a
	 * mutated path could name /dev/zero and never end. Left out here (a
	 * known limit, notes/hardening.md).
	 */
	if (size > CONF_MAX_BYTES || memmem(data, size, "include", 7) != NULL)
		return 0;
	fd = memfd_create("fuzz_conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	conf_errors_init(&errs);
	if (conf_load(path, &cfg, &errs) == 0) {
		conftest_print(null_out, cfg, cfg->socket, cfg->user);
		conf_unref(cfg);
	} else {
		/* Error lines are for a terminal: printable, one line each. */
		for (i = 0; i < errs.n; i++)
			for (j = 0; errs.lines[i][j] != '\0'; j++)
				if ((unsigned char)errs.lines[i][j] < 0x20 ||
				    (unsigned char)errs.lines[i][j] == 0x7f)
					abort();
	}
	conf_errors_free(&errs);
	close(fd);
	return 0;
}
