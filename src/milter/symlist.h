/*
 * SPDX-License-Identifier: ISC
 * symlist.h - which macros smtpreply-milter asks the MTA for, per stage,
 * on behalf of the proxy children (smfi_setsymlist at negotiation).
 *
 * A proxy child may name the macros it wants at each stage (its
 * SMFIR_SETSYMLIST); proxy.c hands it those macros out of what the MTA
 * gave smtpreply-milter. The MTA sends smtpreply-milter only its own
 * default list for each stage (Postfix: milter_*_macros; sendmail:
 * Milter.macros.*) unless smtpreply-milter asks for a list itself, and
 * a list asked for REPLACES the MTA's list for that stage (Postfix's
 * milter8.c, sendmail's milter.c). So, for every stage at which at least
 * one child that is up sent a list, this module computes the list to ask
 * for: the union, without duplicates, of
 *
 *  - both MTAs' default lists for the stage (a child without a list of
 *    its own gets the default, and the rules and the session read some of
 *    those macros);
 *  - every child's list for the stage;
 *  - the macros the rules look at in a phase at or after the stage
 *    (rules_macros_needed(); a macro asked for earlier stays known to
 *    libmilter for the later callbacks, so an administrator who put one
 *    in an earlier stage's MTA list keeps it);
 *  - what session.c reads itself: "i" (the queue id, from MAIL on) and
 *    "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}" (the audit, at RCPT).
 *
 * Names are written as the MTAs write them: one character bare ("i"),
 * longer ones in braces ("{rcpt_addr}"); "rcpt_addr" and "{i}" are
 * normalized to that, so that one macro is never asked for twice.
 *
 * A stage whose union exceeds SYMLIST_NAMES_MAX names or
 * SYMLIST_BYTES_MAX bytes is asked for nothing at all (the MTA's list
 * stays as it is) and marked SYMLIST_OVERFLOW for the caller to log: a
 * list cut short would silently take macros away. A name that no MTA can
 * have (control bytes, stray braces, longer than SYMLIST_NAME_MAX) is
 * left out and counted for the caller to log.
 *
 * Pure: no libmilter, no I/O, no allocation, no global state; the
 * caller owns the struct (a few kilobytes).
 */
#ifndef SMTPREPLY_MILTER_SYMLIST_H
#define SMTPREPLY_MILTER_SYMLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

/* The stages, in SMFIM_* order: connect, helo, envfrom, envrcpt, data,
 * eom, eoh (libmilter's mfapi.h; MCLIENT_MACRO_LISTS in mclient.h). */
#define SYMLIST_STAGES 7

/*
 * sendmail keeps at most 50 macros per stage and milter (MAXFILTERMACROS
 * in sendmail/conf.h); with more it logs a syserr and drops the rest.
 * Postfix and libmilter have no bound but the packet length.
 */
#define SYMLIST_NAMES_MAX 50
/* Bytes of one stage's list (names and the spaces between them). */
#define SYMLIST_BYTES_MAX 1024
/* Longest name, braces included (sendmail's MAXMACNAMELEN is 25). */
#define SYMLIST_NAME_MAX 64

enum symlist_status {
	SYMLIST_NONE,		/* no child sent a list: ask for nothing */
	SYMLIST_REQUEST,	/* ask for list[] */
	SYMLIST_OVERFLOW	/* over a bound: ask for nothing (log it) */
};

struct symlist_stage {
	bool asked;		/* a child sent a list for the stage */
	bool overflow;
	unsigned nnames;
	size_t len;
	char list[SYMLIST_BYTES_MAX + 1];	/* "i {rcpt_addr} ..." */
	unsigned invalid;	/* names left out: no MTA can have them */
	char first_invalid[SYMLIST_NAME_MAX + 1];	/* as given (cut) */
};

struct symlist {
	struct symlist_stage st[SYMLIST_STAGES];
};

/* The stage's name ("connect", "envfrom" ...), "?" when out of range. */
const char *symlist_stage_name(int stage);

/* The MTAs' default list of STAGE, as they document it (NULL: none). */
const char *symlist_postfix_default(int stage);
const char *symlist_sendmail_default(int stage);

/*
 * Normalize macro name NAME[0..LEN) into OUT (SIZE bytes): "x" and "{x}"
 * become "x", "name" and "{name}" become "{name}". Returns the length
 * written, or -1 when no MTA can have such a name (empty, control or
 * 8-bit bytes, ',' or a brace inside, longer than SYMLIST_NAME_MAX) or it
 * does not fit.
 */
int symlist_normalize(const char *name, size_t len, char *out, size_t size);

/*
 * Start: no stage asked for; each stage's list holds the MTAs' defaults
 * and what session.c reads.
 */
void symlist_init(struct symlist *sl);

/*
 * A child's SMFIR_SETSYMLIST list for STAGE (names separated by spaces,
 * tabs or commas, as the MTAs read them): the stage is asked for, its
 * names go into the union.
 */
void symlist_add_child(struct symlist *sl, int stage, const char *list);

/* Add the macros of RS's rules to each stage at or before their phase. */
void symlist_add_rules(struct symlist *sl, const struct rule_set *rs);

/* What to ask for at STAGE, once every child and the rules are added. */
enum symlist_status symlist_status(const struct symlist *sl, int stage);

/* The list to ask for at STAGE (SYMLIST_REQUEST), else NULL. */
const char *symlist_list(const struct symlist *sl, int stage);

#endif /* SMTPREPLY_MILTER_SYMLIST_H */
