/*
 * SPDX-License-Identifier: ISC
 * mtareject.c - rebuild and check the reply of a recipient the MTA rejected.
 */
#include <string.h>

#include "mtareject.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits and dots, starting with a digit, with a dot: "5.1.1". */
static bool looks_enhanced(const char *s, size_t len)
{
	bool dot = false;
	size_t i;

	if (len == 0 || !is_digit(s[0]))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			dot = true;
		else if (!is_digit(s[i]))
			return false;
	}
	return dot;
}

/* Is A[0..ALEN) the recipient RCPT, with or without <>, or its local part? */
static bool is_the_recipient(const char *a, size_t alen, const char *rcpt)
{
	size_t rlen, i;

	if (rcpt == NULL || alen == 0)
		return false;
	rlen = strnlen(rcpt, MTAREJECT_VALUE_MAX);
	if (rlen >= 2 && rcpt[0] == '<' && rcpt[rlen - 1] == '>') {
		rcpt++;
		rlen -= 2;
	}
	if (alen == rlen && memcmp(a, rcpt, rlen) == 0)
		return true;
	for (i = 0; i < rlen && rcpt[i] != '@'; i++)
		continue;
	return i < rlen && alen == i && memcmp(a, rcpt, i) == 0;
}

int mtareject_check(const char *host, const char *addr, const char *rcpt,
		    bool utf8, struct mtareject *out)
{
	struct sr_options o = { SR_PHASE_RCPT, SR_CONTEXT_WIRE, utf8, NULL, false };
	size_t hlen = host != NULL ? strnlen(host, MTAREJECT_VALUE_MAX) : 0;
	size_t alen = addr != NULL ? strnlen(addr, MTAREJECT_VALUE_MAX) : 0;
	struct sr_reply r;
	char code[4];

	memset(out, 0, offsetof(struct mtareject, chk));
	out->code = -1;
	out->chk.ndiags = 0;
	out->chk.errors = out->chk.warnings = out->chk.infos = 0;
	if ((hlen == 0 && alen == 0) || is_the_recipient(addr, alen, rcpt))
		return -1;
	if ((out->code = sr_code_at(addr, alen)) >= 0) {
		/* sendmail: the whole reply ("550 ...", "550-...", "550"). */
		memcpy(out->reply, addr, alen);
		out->len = alen;
		out->has_code = true;
		if (sr_reply_parse(&r, out->reply, out->len) != 0)
			return -1;
		sr_check(&r, &o, &out->chk);
		sr_reply_release(&r);
		return 0;
	}
	/* Postfix: enhanced code and text, no basic code. */
	if (looks_enhanced(host, hlen)) {
		memcpy(out->reply, host, hlen);
		out->len = hlen;
		if (alen > 0)
			out->reply[out->len++] = ' ';
	}
	memcpy(out->reply + out->len, addr != NULL ? addr : "", alen);
	out->len += alen;
	out->reply[out->len] = '\0';
	if (sr_check_without_code(out->reply, out->len, &o, &out->chk,
	    code) != 0)
		return -1;
	return 0;
}
