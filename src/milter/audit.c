/*
 * audit.c - rebuild and check the reply of a recipient the MTA rejected.
 */
#include <string.h>

#include "audit.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "550 ...", "550-...", "550": a reply with its basic code. */
static bool starts_with_code(const char *s, size_t len)
{
	return len >= 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
	    (len == 3 || s[3] == ' ' || s[3] == '-');
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

/* Drop the diagnostics about a basic code the MTA did not show. */
static void drop_code_diags(struct sr_check *c)
{
	size_t i, o = 0;

	c->errors = c->warnings = c->infos = 0;
	for (i = 0; i < c->ndiags; i++) {
		switch (c->diags[i].id) {
		case SR_D_CODE_SYNTAX:
		case SR_D_CODE_NONSTANDARD:
		case SR_D_ENHANCED_CLASS_MISMATCH:
		case SR_D_ENHANCED_UNASSOCIATED:
		case SR_D_PHASE_UNEXPECTED_CODE:
		case SR_D_MILTER_CODE_CLASS:
			continue;
		default:
			break;
		}
		c->diags[o] = c->diags[i];
		switch (sr_diag_severity(c->diags[o].id)) {
		case SR_SEV_ERROR:
			c->errors++;
			break;
		case SR_SEV_WARNING:
			c->warnings++;
			break;
		default:
			c->infos++;
			break;
		}
		o++;
	}
	c->ndiags = o;
}

int audit_mta_reject(const char *host, const char *addr, bool utf8,
		     struct audit_reply *out)
{
	struct sr_options o = { SR_PHASE_RCPT, SR_CONTEXT_WIRE, utf8, NULL };
	size_t hlen = host != NULL ? strnlen(host, AUDIT_VALUE_MAX) : 0;
	size_t alen = addr != NULL ? strnlen(addr, AUDIT_VALUE_MAX) : 0;
	struct sr_reply r;
	char code[4];

	memset(out, 0, offsetof(struct audit_reply, chk));
	out->code = -1;
	out->chk.ndiags = 0;
	out->chk.errors = out->chk.warnings = out->chk.infos = 0;
	if (hlen == 0 && alen == 0)
		return -1;
	if (starts_with_code(addr, alen)) {
		/* sendmail: the whole reply. */
		memcpy(out->reply, addr, alen);
		out->len = alen;
		out->has_code = true;
		out->code = (addr[0] - '0') * 100 + (addr[1] - '0') * 10 +
		    (addr[2] - '0');
		if (sr_reply_parse(&r, out->reply, out->len) != 0)
			return -1;
		sr_check(&r, &o, &out->chk);
		sr_reply_release(&r);
		return 0;
	}
	/*
	 * Postfix: enhanced code and text. A stand-in basic code of the
	 * enhanced code's class lets the engine judge the rest.
	 */
	if (looks_enhanced(host, hlen)) {
		memcpy(out->reply, host, hlen);
		out->len = hlen;
		if (alen > 0)
			out->reply[out->len++] = ' ';
		code[0] = host[0] == '4' ? '4' : '5';
	} else {
		code[0] = '5';
	}
	memcpy(out->reply + out->len, addr != NULL ? addr : "", alen);
	out->len += alen;
	out->reply[out->len] = '\0';
	code[1] = '5';
	code[2] = '0';
	code[3] = '\0';
	/* Parse "code reply" as the client would have read it, minus the code. */
	{
		char wire[sizeof(out->reply) + 4];

		memcpy(wire, code, 3);
		wire[3] = ' ';
		memcpy(wire + 4, out->reply, out->len);
		if (sr_reply_parse(&r, wire, out->len + 4) != 0)
			return -1;
		sr_check(&r, &o, &out->chk);
		sr_reply_release(&r);
	}
	drop_code_diags(&out->chk);
	return 0;
}
