/*
 * SPDX-License-Identifier: ISC
 * conffile.h - the files of a configuration, opened as conf.c trusts them.
 *
 * The configuration file and every file it names with libconfig's
 * "@include" are checked before libconfig reads any of them: a regular
 * file (not a FIFO, a device or a directory, which could block a reload
 * or feed it without end), at most CONFFILE_MAX_BYTES each and all of them
 * together, nested at most CONFFILE_INCLUDE_DEPTH deep (libconfig 1.5's
 * own limit). libconfig 1.5 has no include hook, so the directives are
 * found the way its scanner finds them: "@include" at the start of a line
 * (spaces and tabs before it), outside comments and strings, followed by
 * blanks and a quoted name, read as a path as libconfig reads it (no
 * include directory is set: as given, relative to the working
 * directory). What can still happen: a file replaced between this check
 * and libconfig's own open (whoever can do that can write the
 * configuration).
 */
#ifndef SMTPREPLY_MILTER_CONFFILE_H
#define SMTPREPLY_MILTER_CONFFILE_H

#include <stddef.h>
#include <stdio.h>

#define CONFFILE_MAX_BYTES	(16 << 20)
#define CONFFILE_INCLUDE_DEPTH	10

/* Where and why a check failed. */
struct conffile_error {
	char file[1024];	/* the file whose line names the culprit */
	unsigned line;		/* 0: the file itself */
	char msg[1200];
};

/*
 * Open PATH (a regular file of at most CONFFILE_MAX_BYTES; opened without
 * blocking, so that a FIFO in its place cannot hang, and checked on the
 * descriptor). On success the file is positioned at its start and *SIZE
 * (if not NULL) holds its length. NULL with E filled in.
 */
FILE *conffile_open(const char *path, size_t *size, struct conffile_error *e);

/*
 * Check every file F (opened by conffile_open from PATH, of SIZE bytes)
 * includes, and theirs. F is rewound for libconfig. 0, or -1 with E.
 */
int conffile_check_includes(FILE *f, const char *path, size_t size,
			    struct conffile_error *e);

#endif /* SMTPREPLY_MILTER_CONFFILE_H */
