/*
 * SPDX-License-Identifier: ISC
 * cmd_audit.h - "smtpreply audit": audit a mail server's replies from its logs.
 */
#ifndef SMTPREPLY_AUDIT_CMD_AUDIT_H
#define SMTPREPLY_AUDIT_CMD_AUDIT_H

/*
 * Run "smtpreply audit" with ARGV[0] = "audit", its options and files.
 * Returns the exit status: 0 nothing to report (per --fail-on), 1 a reply
 * with an error (or warning, per --fail-on), 2 bad usage or a file that
 * could not be read.
 */
int cmd_audit(int argc, char **argv);

#endif /* SMTPREPLY_AUDIT_CMD_AUDIT_H */
