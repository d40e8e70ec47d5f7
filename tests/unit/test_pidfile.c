/*
 * SPDX-License-Identifier: ISC
 * test_pidfile.c - the pid file is never written through a link.
 *
 * Each case prepares the pid file's path in a private directory (a
 * symbolic link to a victim file, a hard link to it, a FIFO, a directory,
 * a stale pid file, nothing), writes the pid file and checks the outcome
 * and that the victim is untouched.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "pidfile.h"
#include "testutil.h"


enum prep { NOTHING, STALE, SYMLINK, DANGLING, HARDLINK, FIFO, DIRECTORY };

struct pid_row {
	enum prep prep;
	int rc;
	const char *err;	/* in the reason, when rc is -1 */
};

static const struct pid_row rows[] = {
	{ NOTHING, 0, NULL },
	{ STALE, 0, NULL },
	{ SYMLINK, -1, "symbolic link" },
	{ DANGLING, -1, "symbolic link" },
	{ HARDLINK, -1, "hard links" },
	{ FIFO, -1, "" },		/* ENXIO: no reader; never blocks */
	{ DIRECTORY, -1, "" },
};

static const char victim_text[] = "precious data\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(pidfile_cases)
{
	const struct pid_row *row = &rows[_i];
	char dir[] = "/tmp/test_pidfile.XXXXXX", pid[128], victim[128], buf[128];
	char err[128] = "";
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(pid, sizeof(pid), "%s/milter.pid", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	write_file(victim, victim_text);
	switch (row->prep) {
	case STALE:
		write_file(pid, "99999999999 a stale and longer pid file\n");
		break;
	case SYMLINK:
		ck_assert_int_eq(symlink(victim, pid), 0);
		break;
	case DANGLING:
		ck_assert_int_eq(symlink("/tmp/test_pidfile-nonexistent", pid), 0);
		break;
	case HARDLINK:
		ck_assert_int_eq(link(victim, pid), 0);
		break;
	case FIFO:
		ck_assert_int_eq(mkfifo(pid, 0600), 0);
		break;
	case DIRECTORY:
		ck_assert_int_eq(mkdir(pid, 0700), 0);
		break;
	default:
		break;
	}
	rc = pidfile_write(pid, 4242, err, sizeof(err));
	ck_assert_msg(rc == row->rc, "case %d: rc %d (%s)", _i, rc, err);
	if (rc == 0) {
		read_file(pid, buf, sizeof(buf));
		ck_assert_str_eq(buf, "4242\n");
	} else {
		ck_assert_msg(strstr(err, row->err) != NULL, "reason '%s'", err);
	}
	read_file(victim, buf, sizeof(buf));
	ck_assert_str_eq(buf, victim_text);
	ck_assert_int_ne(access("/tmp/test_pidfile-nonexistent", F_OK), 0);
	if (row->prep == DIRECTORY)
		rmdir(pid);
	else
		unlink(pid);
	unlink(victim);
	rmdir(dir);
}
END_TEST

static Suite *pidfile_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc = tcase_create("pidfile");

	tcase_add_loop_test(tc, pidfile_cases, 0, (int)NROWS(rows));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(pidfile_suite());
}
