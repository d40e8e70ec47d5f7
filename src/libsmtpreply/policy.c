/*
 * SPDX-License-Identifier: ISC
 * policy.c - the normalizer's tables: default enhanced codes per basic
 * code (and per phase), and replacements for non-standard basic codes;
 * sr_code_target() applies them to a reply's code.
 *
 * The shipped policy is const data generated from data/smtp-codes.tsv.
 * A program that wants to override entries copies it with sr_policy_init()
 * and edits its copy; the setters refuse anything that would let the
 * normalizer produce a reply with an error in it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <smtpreply/policy.h>
#include <smtpreply/registry.h>

#include "internal.h"
#include "registry_data.h"

const struct sr_policy *sr_policy_shipped(void)
{
	return &sr_data_policy;
}

void sr_policy_init(struct sr_policy *p)
{
	*p = sr_data_policy;
}

/* The class digit of a basic code: 2, 4 or 5 for codes that can carry an
 * enhanced code, 0 for anything else (3xx, 1xx, out of range). */
static unsigned enh_class_of(unsigned code)
{
	unsigned first = code / 100;

	if (code > 999)
		return 0;
	return first == 2 || first == 4 || first == 5 ? first : 0;
}

/* Parse ENH strictly into *OUT and require class CLS. */
static bool parse_enh_of_class(const char *enh, unsigned cls,
			       struct sr_enh *out)
{
	if (enh == NULL || sr_enh_parse(enh, strlen(enh), out) != 0)
		return false;
	return out->cls == cls;
}

int sr_policy_set_default(struct sr_policy *p, unsigned code, const char *enh)
{
	struct sr_enh parsed;
	size_t kept = 0;

	if (p == NULL || code < 200 || code > 599 || enh_class_of(code) == 0)
		return -1;
	if (!parse_enh_of_class(enh, code / 100, &parsed))
		return -1;
	p->default_enh[code] = parsed;

	/* A per-phase default of CODE would win over the new one: drop it. */
	for (size_t i = 0; i < p->nphase_default
	    && i < SR_POLICY_MAX_PHASE_DEFAULTS; i++) {
		if (p->phase_default[i].code != code)
			p->phase_default[kept++] = p->phase_default[i];
	}
	for (size_t i = kept; i < SR_POLICY_MAX_PHASE_DEFAULTS; i++)
		p->phase_default[i] = (struct sr_phase_default){ 0 };
	p->nphase_default = kept;
	return 0;
}

/* True when some entry other than CODE's own is replaced by CODE. */
static bool is_replacement_target(const struct sr_policy *p, unsigned code)
{
	for (size_t i = 0; i < 1000; i++) {
		if (i != code && p->replace[i] == code)
			return true;
	}
	return false;
}

int sr_policy_set_replacement(struct sr_policy *p, unsigned code,
			      unsigned newcode, const char *enh)
{
	struct sr_enh parsed = { 0 };

	if (p == NULL || code > 999 || newcode == code)
		return -1;
	if (!sr_code_is_standard(newcode) || enh_class_of(newcode) == 0)
		return -1;
	/* No chains: the target is final, and CODE is no one's target. */
	if (p->replace[newcode] != 0 || is_replacement_target(p, code))
		return -1;
	if (enh != NULL && !parse_enh_of_class(enh, newcode / 100, &parsed))
		return -1;
	p->replace[code] = (uint16_t)newcode;
	p->replace_enh[code] = parsed;
	return 0;
}

struct sr_enh sr_policy_default_enh(const struct sr_policy *p, unsigned code,
				    enum sr_phase phase)
{
	unsigned cls = enh_class_of(code);
	struct sr_enh none = { 0 };

	if (cls == 0)
		return none;
	if (p == NULL)
		p = &sr_data_policy;
	for (size_t i = 0; i < p->nphase_default
	    && i < SR_POLICY_MAX_PHASE_DEFAULTS; i++) {
		const struct sr_phase_default *d = &p->phase_default[i];

		if (d->code == code && d->phase == (unsigned)phase
		    && d->enh.cls != 0)
			return d->enh;
	}
	if (p->default_enh[code].cls != 0)
		return p->default_enh[code];
	return (struct sr_enh){ .cls = (uint8_t)cls };
}

unsigned sr_code_target(const struct sr_policy *policy, struct sr_span code,
			struct sr_enh *repl_enh)
{
	int value = -1;
	char first;

	repl_enh->cls = 0;
	if (code.len == 0)
		return 0;
	first = code.p[0];
	if (first < '2' || first > '5')
		return 0;
	value = sr_code_value(code);
	if (value >= 0 && policy->replace[value] != 0) {
		*repl_enh = policy->replace_enh[value];
		return policy->replace[value];
	}
	if (value >= 0 && sr_code_in_abnf((unsigned)value) &&
	    (sr_code_is_standard((unsigned)value) || first == '3'))
		return (unsigned)value;
	switch (first) {
	case '2':
		return 250;
	case '4':
		return 451;
	case '5':
		return 550;
	default:
		return 0;	/* 3xx outside the grammar */
	}
}

unsigned sr_code_for_enhanced(struct sr_enh e, enum sr_phase phase)
{
	const struct sr_enhanced_info *info;
	unsigned fallback, code;
	const char *a;

	switch (e.cls) {
	case 2:
		fallback = 250;
		break;
	case 4:
		fallback = 451;
		break;
	default:
		fallback = 550;
		break;
	}
	info = sr_registry_enhanced(e.subject, e.detail);
	if (info == NULL)
		info = sr_registry_enhanced(e.subject, 0);
	if ((phase >= SR_PHASE_OTHER || sr_phase_lists(phase, fallback)) &&
	    (info == NULL || sr_registry_associated(info, fallback)))
		return fallback;
	if (info == NULL)
		return fallback;
	/* "451,550,4XX,5XX": the 3-digit codes, in the registry's order. */
	for (a = info->assoc; *a != '\0'; a += *a == ',' ? 1 : 0) {
		size_t n = strcspn(a, ",");
		int v = sr_code_parse(a, n);

		a += n;
		if (v < 0)
			continue;
		code = (unsigned)v;
		if (code / 100 != e.cls || !sr_code_is_standard(code) ||
		    !sr_phase_lists(phase, code))
			continue;
		if (code >= 500 && code <= 504 && e.subject != 5)
			continue;
		return code;
	}
	return fallback;
}
