/*
 * SPDX-License-Identifier: ISC
 * smtpreply/text.h - the small text helpers every part of smtpreply
 * shares: reading a basic reply code, the length of a UTF-8 character,
 * and making untrusted bytes printable.
 *
 * One definition of each, used by the engine itself, the milter, the
 * audit and the command line, so that "what is a reply code" or "which
 * bytes are valid UTF-8" cannot be answered differently in two places.
 * Locale-free: replies and log lines are bytes, not text of the locale.
 */
#ifndef SMTPREPLY_TEXT_H
#define SMTPREPLY_TEXT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The value of P[0..LEN) when it is exactly 3 ASCII digits, else -1. */
int sr_code_parse(const char *p, size_t len);

/*
 * The basic code the reply line P[0..LEN) starts with: 3 ASCII digits
 * followed by SP, '-' or the end of the line ("550 ...", "250-...",
 * "421"). -1 when the line does not start that way ("5500", "55O",
 * "5.7.1").
 */
int sr_code_at(const char *p, size_t len);

/*
 * Length (1-4) of the valid UTF-8 character that starts at P, given LEN
 * bytes are there: 1 for an ASCII byte, 2-4 for a valid multi-byte
 * sequence; 0 when LEN is 0 or the bytes are not valid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or
 * cut short).
 */
size_t sr_utf8_len(const unsigned char *p, size_t len);

/* How sr_quote() and sr_quote_char() show a byte. */
#define SR_QUOTE_ESCAPE		0x01	/* CR LF HT as \r \n \t, other
					 * controls, DEL and bytes over 126
					 * as \xhh; without it they become
					 * '?' */
#define SR_QUOTE_DQUOTE		0x02	/* '"' and '\' as \" and \\ (a value
					 * between double quotes) */
#define SR_QUOTE_BACKSLASH	0x04	/* '\' as \\ (escapes unambiguous) */
#define SR_QUOTE_UTF8		0x08	/* valid UTF-8 kept as it is */
#define SR_QUOTE_HEX_UPPER	0x10	/* \xHH rather than \xhh */
#define SR_QUOTE_ELLIPSIS	0x20	/* sr_quote(): a cut result ends in
					 * "..." */

/* Longest piece sr_quote_char() writes: "\xhh" or a UTF-8 character. */
#define SR_QUOTE_PIECE_MAX 4

/*
 * The printable form of the character at SRC (LEN > 0 bytes there) under
 * FLAGS: writes it to PIECE, its length to *PIECE_LEN, and returns how
 * many bytes of SRC it stands for (1, or 2-4 for a UTF-8 character kept
 * with SR_QUOTE_UTF8). Printable ASCII (0x20-0x7e) is itself unless
 * FLAGS escape it. Returns 0 only when LEN is 0.
 */
size_t sr_quote_char(const char *src, size_t len, unsigned flags,
		     char piece[SR_QUOTE_PIECE_MAX], size_t *piece_len);

/*
 * SRC[0..LEN) made printable into DST of SIZE bytes, NUL-terminated when
 * SIZE > 0, never cutting a piece in two. With SR_QUOTE_ELLIPSIS a result
 * that does not fit ends in "..." (when SIZE leaves room for it). Returns
 * the length written (without the NUL).
 */
size_t sr_quote(char *dst, size_t size, const char *src, size_t len,
		unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_TEXT_H */
