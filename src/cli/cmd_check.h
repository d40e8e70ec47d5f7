/*
 * SPDX-License-Identifier: ISC
 * cmd_check.h - "smtpreply check": check and normalize SMTP replies.
 */
#ifndef SMTPREPLY_CLI_CMD_CHECK_H
#define SMTPREPLY_CLI_CMD_CHECK_H

/*
 * Run "smtpreply check" with ARGV[0] = "check" and its options and
 * replies after it. Returns the exit status: 0 no error, 1 a reply has
 * an error (with --strict also a warning), 2 bad usage, unreadable
 * input or out of memory.
 */
int cmd_check(int argc, char **argv);

#endif /* SMTPREPLY_CLI_CMD_CHECK_H */
