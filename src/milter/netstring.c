/*
 * SPDX-License-Identifier: ISC
 * netstring.c - decode and encode netstrings (see netstring.h).
 */
#include <stdio.h>
#include <string.h>

#include "netstring.h"

const char *netstring_status_name(enum netstring_status st)
{
	switch (st) {
	case NETSTRING_OK:		return "ok";
	case NETSTRING_INCOMPLETE:	return "incomplete";
	case NETSTRING_ERR_LENGTH:	return "bad length";
	case NETSTRING_ERR_TOO_LONG:	return "too long";
	case NETSTRING_ERR_COMMA:	return "missing comma";
	}
	return "?";
}

enum netstring_status netstring_decode(const char *buf, size_t len,
				       size_t max, const char **data,
				       size_t *dlen, size_t *used)
{
	size_t i, n = 0;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i >= NETSTRING_LEN_DIGITS_MAX)
			return NETSTRING_ERR_LENGTH;
		n = n * 10 + (size_t)(buf[i] - '0');
		/* Judged as soon as the digits say so: more only add. */
		if (n > max)
			return NETSTRING_ERR_TOO_LONG;
	}
	if (i == len)
		return NETSTRING_INCOMPLETE;
	if (i == 0 || buf[i] != ':')
		return NETSTRING_ERR_LENGTH;
	i++;			/* ':' */
	if (len - i < n + 1)
		return NETSTRING_INCOMPLETE;
	if (buf[i + n] != ',')
		return NETSTRING_ERR_COMMA;
	*data = buf + i;
	*dlen = n;
	*used = i + n + 1;
	return NETSTRING_OK;
}

size_t netstring_encoded_len(size_t dlen)
{
	size_t digits = 1;

	for (size_t v = dlen; v >= 10; v /= 10)
		digits++;
	return digits + 1 + dlen + 1;
}

size_t netstring_encode(char *dst, const char *const *parts,
			const size_t *lens, size_t nparts)
{
	char head[NETSTRING_LEN_DIGITS_MAX + 12];
	size_t total = 0, o, i;
	int k;

	for (i = 0; i < nparts; i++)
		total += lens[i];
	k = snprintf(head, sizeof(head), "%zu:", total);
	o = (size_t)k;
	memcpy(dst, head, o);
	for (i = 0; i < nparts; i++) {
		if (lens[i] > 0)
			memcpy(dst + o, parts[i], lens[i]);
		o += lens[i];
	}
	dst[o++] = ',';
	return o;
}
