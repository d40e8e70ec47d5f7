/*
 * SPDX-License-Identifier: ISC
 * mtareject.h - judge the replies the MTA gave to recipients it rejected.
 *
 * With SMFIP_RCPT_REJ the MTA also shows the milter each recipient it
 * rejected itself (macro {rcpt_mailer} is "error"). A milter cannot
 * change those replies, only check them. What the MTA exposes differs:
 *  - Postfix: {rcpt_host} is the enhanced status code, {rcpt_addr} the
 *    text; the basic code is not exposed, so nothing is said about it;
 *  - sendmail: {rcpt_addr} is the whole reply ("550 5.1.1 User unknown").
 * mtareject_check() rebuilds what it can and checks it with the engine
 * (wire context, phase rcpt). Pure logic, reentrant.
 */
#ifndef SMTPREPLY_MILTER_MTAREJECT_H
#define SMTPREPLY_MILTER_MTAREJECT_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

/* Longest macro value looked at. */
#define MTAREJECT_VALUE_MAX 1024

struct mtareject {
	char reply[2 * MTAREJECT_VALUE_MAX + 2];	/* as rebuilt, raw bytes */
	size_t len;
	bool has_code;		/* the MTA exposed the basic code */
	int code;		/* the basic code, -1 when not exposed or bad */
	/*
	 * The engine's diagnostics. When the basic code is not exposed, the
	 * ones about it (code-syntax, code-nonstandard, enhanced-class-
	 * mismatch, enhanced-unassociated, phase-unexpected-code) are left
	 * out: they would judge a code the MTA did not show.
	 */
	struct sr_check chk;
};

/*
 * Audit the reply the MTA gave to recipient RCPT ("<x@example.org>"),
 * from {rcpt_host} HOST and {rcpt_addr} ADDR (any may be NULL). UTF8:
 * whether the MTA allows UTF-8 text. Returns 0, or -1 when there is
 * nothing to audit: both empty, or ADDR is the recipient itself (or its
 * local part), which is what sendmail leaves there for a reject that
 * came with no reply (a ruleset-5 error, a program recipient).
 */
int mtareject_check(const char *host, const char *addr, const char *rcpt,
		    bool utf8, struct mtareject *out);

#endif /* SMTPREPLY_MILTER_MTAREJECT_H */
