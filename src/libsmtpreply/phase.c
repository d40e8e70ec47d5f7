/*
 * SPDX-License-Identifier: ISC
 * phase.c - names of the SMTP phases, which reply codes RFC 5321
 * section 4.3.2 lists as answers in each of them, and which address
 * status codes fit each.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpreply/phase.h>

#include "internal.h"
#include "registry_data.h"

static const char *const phase_names[SR_PHASE__COUNT] = {
	[SR_PHASE_CONNECT] = "connect",
	[SR_PHASE_HELO] = "helo",
	[SR_PHASE_MAIL] = "mail",
	[SR_PHASE_RCPT] = "rcpt",
	[SR_PHASE_DATA] = "data",
	[SR_PHASE_EOM] = "eom",
	[SR_PHASE_OTHER] = "other",
};

/* Other spellings sr_phase_lookup() accepts. */
static const struct phase_alias {
	const char *name;
	enum sr_phase phase;
} phase_aliases[] = {
	{ "ehlo", SR_PHASE_HELO },
	{ "connection", SR_PHASE_CONNECT },
	{ "end-of-message", SR_PHASE_EOM },
	{ "end-of-data", SR_PHASE_EOM },
};

const char *sr_phase_name(enum sr_phase phase)
{
	if ((unsigned)phase >= SR_PHASE__COUNT)
		return NULL;
	return phase_names[phase];
}

/* ASCII case-insensitive string equality, independent of the locale. */
static bool equal_ignoring_case(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a;
		unsigned char cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

int sr_phase_lookup(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < SR_PHASE__COUNT; i++) {
		if (equal_ignoring_case(name, phase_names[i]))
			return (int)i;
	}
	for (size_t i = 0; i < sizeof(phase_aliases) / sizeof(phase_aliases[0]);
	    i++) {
		if (equal_ignoring_case(name, phase_aliases[i].name))
			return (int)phase_aliases[i].phase;
	}
	return -1;
}

bool sr_phase_expects(enum sr_phase phase, unsigned code)
{
	/* 421 may answer any command; 500-504 answer what cannot be parsed
	 * or sequenced. At "other" (or an unknown phase) nothing is known. */
	if (code == 421 || (code >= 500 && code <= 504))
		return true;
	if ((unsigned)phase >= SR_PHASE_OTHER)
		return true;
	return sr_phase_lists(phase, code);
}

bool sr_phase_lists(enum sr_phase phase, unsigned code)
{
	const uint16_t *codes;
	size_t ncodes;

	if ((unsigned)phase >= SR_PHASE_OTHER)
		return false;
	codes = sr_data_phase_codes[phase];
	ncodes = sr_data_phase_ncodes[phase];
	for (size_t i = 0; i < ncodes; i++) {
		if (codes[i] == code)
			return true;
	}
	return false;
}

struct sr_enh sr_enh_fit_phase(struct sr_enh e, enum sr_phase phase)
{
	if (e.cls == 0 || e.subject != 1)
		return e;
	switch (phase) {
	case SR_PHASE_MAIL:
		/* Only the sender exists yet: a code that names a recipient
		 * (X.1.1-6, X.1.9, X.1.10) names the wrong party for sure. */
		switch (e.detail) {
		case 2:
			e.detail = 8;
			break;
		case 3:
			e.detail = 7;
			break;
		case 0:
		case 7:
		case 8:
			break;
		default:
			e.detail = 0;
			break;
		}
		break;
	case SR_PHASE_CONNECT:
	case SR_PHASE_HELO:
		/* No address has been given: an address code names nobody. */
		e.subject = 0;
		e.detail = 0;
		break;
	default:
		/*
		 * RCPT: sender codes are normal there (Postfix's
		 * smtpd_delay_reject = yes and sendmail's delay_checks reject
		 * the sender at RCPT). DATA and end of message: Postfix's
		 * data and end-of-data restrictions may reject the sender,
		 * LMTP and content filters answer per recipient after the
		 * dot. Unknown phase: nothing is known. None of them names
		 * the wrong party with certainty: no change.
		 */
		break;
	}
	return e;
}
