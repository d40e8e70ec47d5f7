/*
 * SPDX-License-Identifier: ISC
 * filterphase.h - the SMTP phase of a reject, inferred from Postfix's texts.
 *
 * smtpd_reject_filter_maps look up the whole reply, with nothing about the
 * command it answers. Postfix writes its restriction rejects in a few fixed
 * forms that name what was judged ("<a@b>: Recipient address rejected: ...",
 * "Service unavailable; Client host [192.0.2.1] blocked using ...", "Syntax:
 * HELO hostname"); when one of them is there the phase is certain, and the
 * engine can fit address status codes to it (a sender is not a recipient).
 * Any other text (a milter's, a policy service's, Postfix's protocol errors)
 * gives FILTERPHASE_UNKNOWN: the reply is then normalized without phase
 * fitting. Pure, table-driven; the table is documented in smtpreply-milter(8).
 */
#ifndef SMTPREPLY_MILTER_FILTERPHASE_H
#define SMTPREPLY_MILTER_FILTERPHASE_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/smtpreply.h>

/* What a standard text names, and the engine phase it is judged in. */
struct filterphase {
	bool known;		/* false: no standard text found */
	enum sr_phase phase;	/* when known */
	const char *what;	/* "Recipient address" ...; NULL when unknown */
};

/*
 * Infer the phase of the reply whose first line's text (after the basic
 * and enhanced codes) is TEXT[0..LEN).
 */
struct filterphase filterphase_infer(const char *text, size_t len);

/* One row of the table, for documentation and tests. */
struct filterphase_row {
	const char *form;	/* how the text reads */
	const char *what;	/* the name Postfix puts in it */
	enum sr_phase phase;
};

/* The table: *N rows. */
const struct filterphase_row *filterphase_table(size_t *n);

#endif /* SMTPREPLY_MILTER_FILTERPHASE_H */
