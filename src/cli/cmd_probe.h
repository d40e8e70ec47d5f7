/*
 * SPDX-License-Identifier: ISC
 * cmd_probe.h - "smtpreply probe": provoke and judge a live server's replies.
 */
#ifndef SMTPREPLY_CMD_PROBE_H
#define SMTPREPLY_CMD_PROBE_H

int cmd_probe(int argc, char **argv);

#endif /* SMTPREPLY_CMD_PROBE_H */
