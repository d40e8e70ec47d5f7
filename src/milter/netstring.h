/*
 * SPDX-License-Identifier: ISC
 * netstring.h - netstrings, "LEN:DATA,", as the socketmap protocol frames
 * its requests and replies (D. J. Bernstein, cr.yp.to/proto/netstrings.txt).
 *
 * Pure: decoding looks at a byte buffer and says what it holds (one whole
 * netstring, a prefix of one, or garbage); encoding writes into a buffer
 * the caller sized. No I/O, no allocation, no global state. The input is
 * untrusted: any bytes, any length; nothing is read past LEN, and the
 * declared length is checked against the caller's limit before any of the
 * data is awaited, so that a peer cannot make us buffer more than that.
 */
#ifndef SMTPREPLY_MILTER_NETSTRING_H
#define SMTPREPLY_MILTER_NETSTRING_H

#include <stddef.h>

/* Digits of a length we accept: 10 covers any limit up to 9,999,999,999. */
#define NETSTRING_LEN_DIGITS_MAX 10

enum netstring_status {
	NETSTRING_OK,		/* one whole netstring */
	NETSTRING_INCOMPLETE,	/* a valid prefix: more bytes are needed */
	NETSTRING_ERR_LENGTH,	/* the length is not 1-10 digits then ':' */
	NETSTRING_ERR_TOO_LONG,	/* the declared length is over the limit */
	NETSTRING_ERR_COMMA	/* the data is not followed by ',' */
};

/* "ok", "incomplete", "bad length", "too long", "missing comma". */
const char *netstring_status_name(enum netstring_status st);

/*
 * Decode the netstring at the start of BUF[0..LEN), whose data may be at
 * most MAX bytes. On NETSTRING_OK, *DATA and *DLEN are the data (inside
 * BUF) and *USED the bytes the whole netstring took. Otherwise they are
 * untouched. Leading zeros in the length are accepted, as Postfix does.
 */
enum netstring_status netstring_decode(const char *buf, size_t len,
				       size_t max, const char **data,
				       size_t *dlen, size_t *used);

/* The bytes netstring_encode() writes for DLEN bytes of data. */
size_t netstring_encoded_len(size_t dlen);

/*
 * Write the netstring of the NPARTS byte ranges PARTS/LENS, joined, into
 * DST, which has room for netstring_encoded_len() of their total. Returns
 * the bytes written.
 */
size_t netstring_encode(char *dst, const char *const *parts,
			const size_t *lens, size_t nparts);

#endif /* SMTPREPLY_MILTER_NETSTRING_H */
