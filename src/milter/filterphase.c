/*
 * SPDX-License-Identifier: ISC
 * filterphase.c - Postfix's standard reject texts and the phase they tell.
 *
 * The forms, from Postfix's smtpd_check.c and smtpd.c (3.7 to 3.11):
 *
 *   <NAME>: WHAT rejected: TEXT        every restriction reject
 *   Service unavailable; WHAT [X] blocked using DOMAIN...
 *                                      reject_rbl_* and reject_rhsbl_*
 *   Client host rejected: cannot find your (reverse) hostname, [ADDR]
 *   Syntax: HELO hostname / Syntax: EHLO hostname
 *
 * WHAT is one of Postfix's reply classes (smtpd_dsn_fix.h). "Sender
 * address" is a sender whether the reject is sent at MAIL or, with
 * smtpd_delay_reject (the default), at RCPT: its status codes are a
 * sender's. Client, certificate and login rejects judge no address.
 */
#include <string.h>

#include "filterphase.h"

struct what_row {
	const char *what;
	enum sr_phase phase;
};

/* Longest first where one is a suffix of another. */
static const struct what_row whats[] = {
	{ "Unverified Client host", SR_PHASE_CONNECT },
	{ "Client host", SR_PHASE_CONNECT },
	{ "Client certificate", SR_PHASE_CONNECT },
	{ "SASL login name", SR_PHASE_CONNECT },
	{ "Helo command", SR_PHASE_HELO },
	{ "Sender address", SR_PHASE_MAIL },
	{ "Recipient address", SR_PHASE_RCPT },
	{ "Etrn command", SR_PHASE_OTHER },
	{ "Data command", SR_PHASE_DATA },
	{ "End-of-data", SR_PHASE_EOM },
};

#define NWHATS (sizeof(whats) / sizeof(whats[0]))

static const struct filterphase_row table[] = {
	{ "<NAME>: Unverified Client host rejected: ...", "Unverified Client host", SR_PHASE_CONNECT },
	{ "<NAME>: Client host rejected: ...", "Client host", SR_PHASE_CONNECT },
	{ "<NAME>: Client certificate rejected: ...", "Client certificate", SR_PHASE_CONNECT },
	{ "<NAME>: SASL login name rejected: ...", "SASL login name", SR_PHASE_CONNECT },
	{ "<NAME>: Helo command rejected: ...", "Helo command", SR_PHASE_HELO },
	{ "<NAME>: Sender address rejected: ...", "Sender address", SR_PHASE_MAIL },
	{ "<NAME>: Recipient address rejected: ...", "Recipient address", SR_PHASE_RCPT },
	{ "<NAME>: Etrn command rejected: ...", "Etrn command", SR_PHASE_OTHER },
	{ "<NAME>: Data command rejected: ...", "Data command", SR_PHASE_DATA },
	{ "<NAME>: End-of-data rejected: ...", "End-of-data", SR_PHASE_EOM },
	{ "Service unavailable; WHAT [X] blocked using ...", "(any of the above)", SR_PHASE__COUNT },
	{ "Client host rejected: cannot find your (reverse) hostname, [ADDR]", "Client host", SR_PHASE_CONNECT },
	{ "Syntax: HELO hostname", "Helo command", SR_PHASE_HELO },
	{ "Syntax: EHLO hostname", "Helo command", SR_PHASE_HELO },
};

const struct filterphase_row *filterphase_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* Does S[0..LEN) start with a WHAT followed by SUFFIX? Its row or NULL. */
static const struct what_row *what_then(const char *s, size_t len,
					const char *suffix)
{
	size_t i, n;

	for (i = 0; i < NWHATS; i++) {
		n = strlen(whats[i].what);
		if (starts(s, len, whats[i].what) &&
		    starts(s + n, len - n, suffix))
			return &whats[i];
	}
	return NULL;
}

static struct filterphase found(const struct what_row *w)
{
	struct filterphase f = { true, w->phase, w->what };

	return f;
}

struct filterphase filterphase_infer(const char *text, size_t len)
{
	static const struct what_row helo = { "Helo command", SR_PHASE_HELO };
	struct filterphase none = { false, SR_PHASE_OTHER, NULL };
	const struct what_row *w;
	const char *p;
	size_t i;

	if (starts(text, len, "Syntax: HELO hostname") ||
	    starts(text, len, "Syntax: EHLO hostname"))
		return found(&helo);
	if (starts(text, len, "Client host rejected: cannot find your "))
		return found(&whats[1]);
	if (starts(text, len, "Service unavailable; ")) {
		p = text + 21;
		w = what_then(p, len - 21, " [");
		if (w != NULL && memmem(p, len - 21, "] blocked using ", 16) != NULL)
			return found(w);
		return none;
	}
	/* "<NAME>: WHAT rejected: ": NAME may hold anything but a line end;
	 * the first ">: " followed by a known WHAT decides. */
	if (len == 0 || text[0] != '<')
		return none;
	for (i = 1; i + 3 <= len; i++) {
		if (text[i] != '>' || text[i + 1] != ':' || text[i + 2] != ' ')
			continue;
		w = what_then(text + i + 3, len - i - 3, " rejected: ");
		if (w != NULL)
			return found(w);
	}
	return none;
}
