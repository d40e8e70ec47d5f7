/*
 * show.c - reply and log bytes made printable for people.
 */
#include "json.h"
#include "show.h"

void
put_printable(FILE *fp, const char *s, size_t len, unsigned how)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	unsigned char c;

	while (i < len) {
		c = p[i];
		if (c >= 0x80 && (how & SHOW_UTF8) &&
		    (n = json_utf8_seqlen(p + i, len - i)) > 0) {
			fwrite(p + i, 1, n, fp);
			i += n;
			continue;
		}
		if (c == '\\' && (how & SHOW_BACKSLASH))
			fputs("\\\\", fp);
		else if (c == '\r')
			fputs("\\r", fp);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c >= 0x7F)
			fprintf(fp, "\\x%02X", (unsigned)c);
		else
			putc(c, fp);
		i++;
	}
}
