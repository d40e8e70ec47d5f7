/*
 * SPDX-License-Identifier: ISC
 * conffile.c - the files of a configuration, opened as conf.c trusts
 * them. See conffile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"

static void set_error(struct conffile_error *e, const char *file,
		      unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* FMT is always ours; file names are data, passed as arguments. */
static void set_error(struct conffile_error *e, const char *file,
		      unsigned line, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", file);
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

FILE *conffile_open(const char *path, size_t *size, struct conffile_error *e)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		set_error(e, path, 0, "cannot read the file: %s",
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_error(e, path, 0, "not a regular file: refused");
		close(fd);
		return NULL;
	}
	if (st.st_size > CONFFILE_MAX_BYTES) {
		set_error(e, path, 0, "%lld bytes: over the limit of %d MiB "
		    "for a configuration file", (long long)st.st_size,
		    CONFFILE_MAX_BYTES >> 20);
		close(fd);
		return NULL;
	}
	/* Back to blocking reads: it is a regular file. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((f = fdopen(fd, "r")) == NULL) {
		set_error(e, path, 0, "out of memory");
		close(fd);
		return NULL;
	}
	if (size != NULL)
		*size = (size_t)st.st_size;
	return f;
}

/* Where libconfig's scanner is at the start of a line. */
struct scan_state {
	bool in_comment;	/* inside a block comment */
	bool in_string;		/* inside a quoted string */
};

/*
 * Read the quoted name at P (just past the opening quote) as libconfig
 * reads a string (\\, \", \f, \n, \r, \t, \xHH) into NAME. The end of the
 * name in *END. 0, or -1 when it does not end on this line or is too long.
 */
static int read_name(const char *p, char *name, size_t size, const char **end)
{
	size_t n = 0;

	while (*p != '"') {
		int c = (unsigned char)*p++;

		if (c == '\0' || c == '\n')
			return -1;
		if (c == '\\') {
			c = (unsigned char)*p++;
			switch (c) {
			case '\\': case '"': break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'x': {
				char hex[3] = { 0, 0, 0 };
				char *hend;

				hex[0] = p[0];
				hex[1] = hex[0] != '\0' ? p[1] : '\0';
				c = (int)strtol(hex, &hend, 16);
				if (hend != hex + 2)
					return -1;
				p += 2;
				break;
			}
			default:
				return -1;
			}
		}
		if (n + 1 >= size || c == '\0')
			return -1;
		name[n++] = (char)c;
	}
	name[n] = '\0';
	*end = p + 1;
	return 0;
}

/*
 * Move the scanner state over LINE (comments, strings), as libconfig's
 * scanner would.
 */
static void scan_line(struct scan_state *s, const char *p)
{
	while (*p != '\0') {
		if (s->in_comment) {
			if (p[0] == '*' && p[1] == '/') {
				s->in_comment = false;
				p += 2;
			} else {
				p++;
			}
		} else if (s->in_string) {
			if (p[0] == '\\' && p[1] != '\0')
				p += 2;
			else if (*p++ == '"')
				s->in_string = false;
		} else if (*p == '"') {
			s->in_string = true;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			return;
		} else if (p[0] == '/' && p[1] == '*') {
			s->in_comment = true;
			p += 2;
		} else {
			p++;
		}
	}
}

static int check_file(FILE *f, const char *path, int depth, size_t *total,
		      struct conffile_error *e);

/* The include named on line LINE of PATH: open, check, recurse. */
static int check_include(const char *name, const char *path, unsigned line,
			 int depth, size_t *total, struct conffile_error *e)
{
	struct conffile_error sub;
	size_t size = 0;
	FILE *g;
	int rc;

	if (depth >= CONFFILE_INCLUDE_DEPTH) {
		set_error(e, path, line, "@include \"%s\": nested deeper than "
		    "%d files", name, CONFFILE_INCLUDE_DEPTH);
		return -1;
	}
	if ((g = conffile_open(name, &size, &sub)) == NULL) {
		set_error(e, path, line, "@include \"%s\": %s", name, sub.msg);
		return -1;
	}
	*total += size;
	if (*total > CONFFILE_MAX_BYTES) {
		fclose(g);
		set_error(e, path, line, "@include \"%s\": the files of the "
		    "configuration are over %d MiB together", name,
		    CONFFILE_MAX_BYTES >> 20);
		return -1;
	}
	rc = check_file(g, name, depth + 1, total, e);
	fclose(g);
	return rc;
}

static int check_file(FILE *f, const char *path, int depth, size_t *total,
		      struct conffile_error *e)
{
	struct scan_state s = { false, false };
	char *line = NULL, name[1024];
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		const char *p = line, *end;

		lineno++;
		if (!s.in_comment && !s.in_string) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (strncmp(p, "@include", 8) == 0 &&
			    (p[8] == ' ' || p[8] == '\t')) {
				p += 8;
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p == '"') {
					if (read_name(p + 1, name, sizeof(name),
					    &end) != 0) {
						set_error(e, path, lineno,
						    "@include: a file name that "
						    "cannot be read");
						rc = -1;
						break;
					}
					rc = check_include(name, path, lineno,
					    depth, total, e);
					p = end;
				}
			}
		}
		scan_line(&s, p);
	}
	free(line);
	return rc;
}

int conffile_check_includes(FILE *f, const char *path, size_t size,
			    struct conffile_error *e)
{
	size_t total = size;
	int rc = check_file(f, path, 0, &total, e);

	if (fseek(f, 0, SEEK_SET) != 0 && rc == 0) {
		set_error(e, path, 0, "cannot read the file again");
		rc = -1;
	}
	clearerr(f);
	return rc;
}
