/*
 * SPDX-License-Identifier: ISC
 * smtpreply.c - the smtpreply program: dispatch to its commands.
 *
 * "smtpreply COMMAND [ARGS...]" runs COMMAND with ARGS (the command's own
 * argv starts with its name). Each command lives in its own cmd_*.c file
 * and is listed once in the table below, with the line "--help" shows.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd_audit.h"
#include "cmd_check.h"
#include "cmd_probe.h"

#define EXIT_USAGE 2

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "check", cmd_check, "check and normalize SMTP replies" },
	{ "audit", cmd_audit, "audit the replies a mail server's logs record" },
	{ "probe", cmd_probe, "provoke and judge a live server's replies (your own servers)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *fp)
{
	size_t i;

	fputs("usage: smtpreply COMMAND [ARGS...]\n"
	    "       smtpreply --help | --version\n"
	    "\n"
	    "Commands:\n", fp);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fputs("\n"
	    "Run 'smtpreply COMMAND --help' for the options of COMMAND.\n", fp);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Exit status 0 when everything reached standard output, else 2. */
static int flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("smtpreply: standard output");
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char help_opt[] = "--help";
	char *help_argv[3];

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("smtpreply %s\n", PACKAGE_VERSION);
		return flush_stdout();
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (strcmp(argv[1], "help") == 0 && argc > 2) {
			/* "smtpreply help COMMAND" = "smtpreply COMMAND --help" */
			if ((cmd = find_command(argv[2])) == NULL) {
				fprintf(stderr, "smtpreply: unknown command "
				    "'%s'\n", argv[2]);
				usage(stderr);
				return EXIT_USAGE;
			}
			help_argv[0] = argv[2];
			help_argv[1] = help_opt;
			help_argv[2] = NULL;
			return cmd->run(2, help_argv);
		}
		usage(stdout);
		return flush_stdout();
	}
	if ((cmd = find_command(argv[1])) == NULL) {
		if (argv[1][0] == '-')
			fprintf(stderr, "smtpreply: unknown option '%s'\n",
			    argv[1]);
		else
			fprintf(stderr, "smtpreply: unknown command '%s'\n",
			    argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
