/*
 * SPDX-License-Identifier: ISC
 * show.h - reply and log bytes made printable for people.
 *
 * Replies and log lines are data, not text we trust: before they reach a
 * terminal their control bytes are escaped, so that a reply cannot move
 * the cursor, clear the screen or forge an output line.
 */
#ifndef SMTPREPLY_CLI_SHOW_H
#define SMTPREPLY_CLI_SHOW_H

#include <stddef.h>
#include <stdio.h>

#define SHOW_BACKSLASH	0x01	/* '\\' as "\\\\" (so escapes are unambiguous) */
#define SHOW_UTF8	0x02	/* valid UTF-8 as is, not as \xHH */

/*
 * Write LEN bytes at S to FP, made printable (sr_quote_char()): CR, LF,
 * HT as \r \n \t, other control bytes and DEL as \xHH, bytes over 126
 * as \xHH unless SHOW_UTF8 is set and they are valid UTF-8. HOW: SHOW_*
 * flags.
 */
void put_printable(FILE *fp, const char *s, size_t len, unsigned how);

#endif /* SMTPREPLY_CLI_SHOW_H */
