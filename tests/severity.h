/*
 * SPDX-License-Identifier: ISC
 * tests/severity.h - the severity order of reply classes, written apart from
 * the engine, for the "never weaker" property (test_properties, fuzz_reply).
 *
 * 5 > 4 > 2 = 3: a normalized reply must claim a class at least as severe as
 * the most severe line of its input. Header-only (static inline): the fuzz
 * targets are built without the test library.
 */
#ifndef SR_TESTS_SEVERITY_H
#define SR_TESTS_SEVERITY_H

#include <stddef.h>

#include <smtpreply/smtpreply.h>

/* How severe a class is: 5 > 4 > 2 and 3; 0 for none. */
static inline int class_rank(int cls)
{
	return cls == 5 ? 3 : cls == 4 ? 2 : cls == 2 || cls == 3 ? 1 : 0;
}

/* The most severe class any line of R claims, as a rank. */
static inline int reply_rank(const struct sr_reply *r)
{
	int best = 0, rank;
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		const struct sr_line *l = &r->lines[i];

		if (l->form & SR_FORM_NO_CODE)
			rank = class_rank(l->enh.p[0] - '0');
		else if (l->code.len > 0)
			rank = class_rank(l->code.p[0] - '0');
		else
			rank = 0;
		if (rank > best)
			best = rank;
	}
	return best;
}

#endif
