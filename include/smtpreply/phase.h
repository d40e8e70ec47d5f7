/*
 * SPDX-License-Identifier: ISC
 * smtpreply/phase.h - the SMTP phases a reply can answer.
 *
 * The phase decides which codes RFC 5321 section 4.3.2 expects, which
 * address status codes fit (a sender is not a recipient) and whether an
 * enhanced status code belongs on the reply at all (not on the greeting
 * nor on HELO/EHLO replies, RFC 2034).
 */
#ifndef SMTPREPLY_PHASE_H
#define SMTPREPLY_PHASE_H

#ifdef __cplusplus
extern "C" {
#endif

enum sr_phase {
	SR_PHASE_CONNECT,	/* connection greeting */
	SR_PHASE_HELO,		/* HELO / EHLO */
	SR_PHASE_MAIL,		/* MAIL FROM */
	SR_PHASE_RCPT,		/* RCPT TO */
	SR_PHASE_DATA,		/* the DATA command itself */
	SR_PHASE_EOM,		/* after the final dot */
	SR_PHASE_OTHER,		/* anything else, or unknown */
	SR_PHASE__COUNT
};

/* "connect", "helo", "mail", "rcpt", "data", "eom", "other". */
const char *sr_phase_name(enum sr_phase phase);

/* Phase named NAME (case-insensitive; also "ehlo", "end-of-message"), or -1. */
int sr_phase_lookup(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_PHASE_H */
