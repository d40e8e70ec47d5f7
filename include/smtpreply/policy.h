/*
 * SPDX-License-Identifier: ISC
 * smtpreply/policy.h - the tables the normalizer applies.
 *
 * A policy says which enhanced status code a reply gets when it has none
 * (per basic code, with a few per-phase exceptions) and which basic code
 * replaces a non-standard one. The shipped policy is const data generated
 * from data/smtp-codes.tsv; a program that lets the administrator override
 * entries makes its own copy with sr_policy_init() and changes that copy
 * (before sharing it between threads: a policy is read-only once in use).
 */
#ifndef SMTPREPLY_POLICY_H
#define SMTPREPLY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <smtpreply/phase.h>
#include <smtpreply/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SR_POLICY_MAX_PHASE_DEFAULTS 16

struct sr_phase_default {
	uint8_t phase;		/* enum sr_phase */
	uint16_t code;
	struct sr_enh enh;
};

struct sr_policy {
	/* Default enhanced code per basic code; cls 0 = "class.0.0". */
	struct sr_enh default_enh[1000];
	/* Replacement basic code; 0 = none. */
	uint16_t replace[1000];
	/* Enhanced code that goes with a replacement when the reply has no
	 * usable one of its own; cls 0 = the replacement's default. */
	struct sr_enh replace_enh[1000];
	/* Per-phase defaults that win over default_enh (250 at MAIL: 2.1.0). */
	struct sr_phase_default phase_default[SR_POLICY_MAX_PHASE_DEFAULTS];
	size_t nphase_default;
};

/* The shipped tables. */
const struct sr_policy *sr_policy_shipped(void);

/* Initialize *P as a copy of the shipped tables. */
void sr_policy_init(struct sr_policy *p);

/*
 * Set the default enhanced code for basic code CODE (200-599, first digit
 * 2, 4 or 5) to ENH, whose class must match; this also drops any
 * per-phase default of CODE. Returns 0, or -1 when CODE or ENH is invalid.
 */
int sr_policy_set_default(struct sr_policy *p, unsigned code, const char *enh);

/*
 * Replace basic code CODE (0-999, not itself a valid replacement target
 * of another entry) by NEWCODE, a standard code of the same class digit
 * range 2/4/5, with enhanced code ENH (NULL: NEWCODE's default). Returns
 * 0, or -1 when the arguments are invalid.
 */
int sr_policy_set_replacement(struct sr_policy *p, unsigned code,
			      unsigned newcode, const char *enh);

/* The default enhanced code for CODE at PHASE under P (cls 0 for 3xx). */
struct sr_enh sr_policy_default_enh(const struct sr_policy *p, unsigned code,
				    enum sr_phase phase);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_POLICY_H */
