/*
 * SPDX-License-Identifier: ISC
 * show.c - reply and log bytes made printable for people, with the
 * engine's quoting (smtpreply/text.h).
 */
#include <smtpreply/text.h>

#include "show.h"

void put_printable(FILE *fp, const char *s, size_t len, unsigned how)
{
	unsigned flags = SR_QUOTE_ESCAPE | SR_QUOTE_HEX_UPPER;
	char buf[512], piece[SR_QUOTE_PIECE_MAX];
	size_t i = 0, o = 0, n;

	if (how & SHOW_BACKSLASH)
		flags |= SR_QUOTE_BACKSLASH;
	if (how & SHOW_UTF8)
		flags |= SR_QUOTE_UTF8;
	while (i < len) {
		i += sr_quote_char(s + i, len - i, flags, piece, &n);
		if (o + n > sizeof(buf)) {
			fwrite(buf, 1, o, fp);
			o = 0;
		}
		for (size_t k = 0; k < n; k++)
			buf[o++] = piece[k];
	}
	if (o > 0)
		fwrite(buf, 1, o, fp);
}
