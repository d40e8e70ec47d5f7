/*
 * SPDX-License-Identifier: ISC
 * smtpreply/registry.h - the catalog of SMTP codes the engine knows.
 *
 * Two read-only tables, generated at build time from data/smtp-codes.tsv
 * (the single source of truth):
 *  - the IANA registry of enhanced status codes (RFC 5248), with sample
 *    text and associated basic codes;
 *  - the basic reply codes: those defined by RFC 5321 and its extensions,
 *    and the non-standard ones seen in the field with the meaning servers
 *    give them, the replacement the normalizer uses and the default
 *    enhanced code for each.
 * Everything here is const data: safe from any thread.
 */
#ifndef SMTPREPLY_REGISTRY_H
#define SMTPREPLY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An enhanced status code class.subject.detail; cls == 0 means "none". */
struct sr_enh {
	uint8_t cls;		/* 2, 4 or 5; 0 = no code */
	uint16_t subject;	/* 0..999 */
	uint16_t detail;	/* 0..999 */
};

/* Longest text form: "5.999.999" plus NUL. */
#define SR_ENH_STRLEN 12

/* Write "5.7.1" (or "" for no code) into BUF[SR_ENH_STRLEN]; returns BUF. */
char *sr_enh_format(struct sr_enh e, char buf[SR_ENH_STRLEN]);

/*
 * Parse a strictly valid enhanced code (class 2/4/5, 1-3 digit fields,
 * no leading zeros) of exactly LEN bytes. Returns 0 and fills *OUT, or -1.
 */
int sr_enh_parse(const char *s, size_t len, struct sr_enh *out);

static inline bool sr_enh_equal(struct sr_enh a, struct sr_enh b)
{
	return a.cls == b.cls && a.subject == b.subject && a.detail == b.detail;
}

/* One row of the IANA registry; the class is "X" (any). */
struct sr_enhanced_info {
	uint16_t subject;
	uint16_t detail;
	const char *sample;	/* sample text, may be "" */
	const char *assoc;	/* associated basic codes, machine form:
				 * "451,550", "5XX", "*" (any), "" (not given) */
	const char *refs;	/* "rfc3463" ... */
};

/* The registry row for X.SUBJECT.DETAIL, or NULL if unregistered. */
const struct sr_enhanced_info *sr_registry_enhanced(unsigned subject,
						    unsigned detail);

/* Number of registry rows and the I-th one (ordered by subject, detail). */
size_t sr_registry_enhanced_count(void);
const struct sr_enhanced_info *sr_registry_enhanced_at(size_t i);

/*
 * True when the registry lists basic code CODE with INFO. A row that
 * lists nothing ("Not given") or "Any" never contradicts a code: true.
 */
bool sr_registry_associated(const struct sr_enhanced_info *info, unsigned code);

/* Where a basic code comes from. */
enum sr_code_origin {
	SR_ORIGIN_RFC5321,	/* defined by RFC 5321 */
	SR_ORIGIN_EXTENSION,	/* defined by an extension RFC */
	SR_ORIGIN_NONSTANDARD	/* defined by no RFC; seen in the field */
};

struct sr_basic_info {
	uint16_t code;			/* may be outside the ABNF, e.g. 572, 101 */
	enum sr_code_origin origin;
	const char *refs;		/* "rfc5321", "rfc4954", "" */
	const char *meaning;		/* RFC text, or what servers mean by it */
};

/* Catalog entry for CODE (0..999), or NULL when the catalog has none. */
const struct sr_basic_info *sr_registry_basic(unsigned code);

size_t sr_registry_basic_count(void);
const struct sr_basic_info *sr_registry_basic_at(size_t i);

/* True for codes in the RFC 5321 ABNF: first digit 2-5, second 0-5. */
static inline bool sr_code_in_abnf(unsigned code)
{
	return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

/* True when CODE is in the ABNF and defined by RFC 5321 or an extension. */
bool sr_code_is_standard(unsigned code);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_REGISTRY_H */
