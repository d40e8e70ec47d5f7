/*
 * SPDX-License-Identifier: ISC
 * internal.h - helpers shared by the parser, checker, diagnostics and
 * normalizer; defined in the leaf modules text.c (bytes, tokens),
 * phase.c and policy.c. Not installed; not part of the library's
 * interface.
 */
#ifndef SR_INTERNAL_H
#define SR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/reply.h>
#include <smtpreply/text.h>

/* Locale-free character classes (the reply is bytes, not text). */
static inline bool sr_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool sr_isblank(char c)
{
	return c == ' ' || c == '\t';
}

/* What a byte of reply text is, for the scanning loops (text.c). */
enum sr_byte_class {
	SR_BC_PLAIN,	/* printable ASCII but '%' */
	SR_BC_BLANK,	/* SP, HT */
	SR_BC_BAD,	/* controls other than HT, and DEL */
	SR_BC_HIGH,	/* over 126: UTF-8 or junk */
	SR_BC_PERCENT	/* '%': doubled for libmilter */
};
extern const unsigned char sr_byte_class[256];

/*
 * Length of the leading run of P[LEN] made only of printable ASCII
 * (0x20-0x7e) other than '%', 8 bytes at a time: the common case of reply
 * text, which the scanning loops then skip without looking at each byte.
 * *SPACES_ONLY is cleared when the run holds anything but SP.
 */
size_t sr_plain_run(const unsigned char *p, size_t len, bool *spaces_only);

/* A byte the text may not carry: controls other than HT, and DEL. */
static inline bool sr_is_bad_char(unsigned char c)
{
	return sr_byte_class[c] == SR_BC_BAD;
}

/* sr_code_parse(), inline for the engine's own hot paths (text.c's public
 * function is this one). */
static inline int sr_code_digits(const char *p, size_t len)
{
	if (len != 3 || !sr_isdigit(p[0]) || !sr_isdigit(p[1]) ||
	    !sr_isdigit(p[2]))
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* The value of a code of exactly 3 digits, else -1 (parts may hold anything). */
static inline int sr_code_value(struct sr_span code)
{
	return sr_code_digits(code.p, code.len);
}

/* True when RFC 5321 4.3.2 lists CODE for PHASE (421, 500-504 always;
 * any code at "other"). phase.c */
bool sr_phase_expects(enum sr_phase phase, unsigned code);

/* True when RFC 5321 4.3.2's list for PHASE names CODE itself (never at
 * "other"). phase.c */
bool sr_phase_lists(enum sr_phase phase, unsigned code);

/*
 * Length of the enhanced-code-like token at the start of P: digits and
 * dots, starting with a class field (2, 4 or 5, leading zeros aside) and
 * a dot, followed by a blank or the end. 0 when there is none: "1.5 MB"
 * and "192.0.2.1" are text.
 */
size_t sr_enh_token_len(const char *p, size_t len);

enum sr_enh_kind {
	SR_ENH_NONE,		/* no token */
	SR_ENH_VALID,		/* well-formed */
	SR_ENH_LEADING_ZERO,	/* well-formed once leading zeros go */
	SR_ENH_MALFORMED	/* anything else */
};

/* Classify an enhanced token; *OUT gets the value for VALID/LEADING_ZERO. */
enum sr_enh_kind sr_enh_classify(struct sr_span tok, struct sr_enh *out);

/*
 * The address status code that fits PHASE (phase.c) (the table of reference
 * section 3, after Postfix's smtpd_dsn_fix, keeping X.1.9 and X.1.10 for
 * recipients); E unchanged unless its subject is 1.
 */
struct sr_enh sr_enh_fit_phase(struct sr_enh e, enum sr_phase phase);

/*
 * The basic code the normalizer puts in place of CODE (policy.c) (digits as given):
 * CODE itself when it is standard (or a valid 3xx), the policy's
 * replacement (and its enhanced code in *REPL_ENH, cls 0 if none), else
 * 250/451/550 by the first digit. 0 when there is none to give: no
 * digits, a first digit other than 2-5, a 3xx code outside the grammar.
 */
unsigned sr_code_target(const struct sr_policy *policy, struct sr_span code,
			struct sr_enh *repl_enh);

/*
 * The basic code a reply that shows only the enhanced code E (valid, class
 * 2, 4 or 5) was meant to have at PHASE (policy.c): 250/451/550 for the
 * class when the phase expects it and the registry associates it with E;
 * else the first code of the class the registry associates with E and
 * RFC 5321 lists for the phase (500-504 only for protocol codes X.5.N);
 * else 250/451/550.
 */
unsigned sr_code_for_enhanced(struct sr_enh e, enum sr_phase phase);

/*
 * What sr_check() and sr_normalize() work on (check.c): *OPTS becomes *O,
 * or wire context at phase other when O is NULL, with the shipped policy
 * when none is given and an unknown phase taken as other; a missing or
 * empty reply R becomes the empty reply, parsed into *EMPTY (no
 * allocation). Returns the reply to use.
 */
const struct sr_reply *sr_resolve_input(const struct sr_reply *r,
					const struct sr_options *o,
					struct sr_options *opts,
					struct sr_reply *empty);

/* Bytes TEXT takes once every '%' is doubled for libmilter. */
size_t sr_milter_len(const char *p, size_t len);

/* "A B" into BUF of SIZE bytes (truncated); B may be NULL: "A". */
void sr_join(char *buf, size_t size, const char *a, size_t alen,
	     const char *b, size_t blen);

/*
 * Copy at most SIZE-1 bytes of P into BUF, non-printables as '?': what
 * sr_quote() does with no flags (it calls this), inline for the short
 * tokens of diagnostics and changes. Returns the length written.
 */
static inline size_t sr_copy_printable(char *buf, size_t size, const char *p,
				       size_t len)
{
	size_t o;

	if (size == 0)
		return 0;
	for (o = 0; o < len && o + 1 < size; o++) {
		unsigned char c = (unsigned char)p[o];

		buf[o] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[o] = '\0';
	return o;
}

#endif /* SR_INTERNAL_H */
