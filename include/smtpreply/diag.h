/*
 * SPDX-License-Identifier: ISC
 * smtpreply/diag.h - the diagnostics the reply checker reports.
 *
 * Every problem the engine can find in an SMTP reply has a stable id
 * (the string form, e.g. "enhanced-class-mismatch", is part of the
 * interface: logs, JSON output and configuration use it) and a fixed
 * severity. A check reports each id at most once per reply, at the first
 * line where it applies, with a count of how often it applies.
 */
#ifndef SMTPREPLY_DIAG_H
#define SMTPREPLY_DIAG_H

#include <stddef.h>

#include <smtpreply/phase.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sr_severity {
	SR_SEV_INFO = 0,
	SR_SEV_WARNING = 1,
	SR_SEV_ERROR = 2
};

/* Keep in the order of the table in diag.c. */
enum sr_diag_id {
	SR_D_CODE_SYNTAX,		/* error: not 3 digits / outside ABNF */
	SR_D_CODE_NONSTANDARD,		/* warning: valid syntax, no RFC */
	SR_D_ENHANCED_SYNTAX,		/* error: malformed enhanced code */
	SR_D_ENHANCED_LEADING_ZERO,	/* error: 5.01.1 */
	SR_D_ENHANCED_CLASS_MISMATCH,	/* error: 550 4.7.1 */
	SR_D_ENHANCED_NOT_ALLOWED,	/* error: enhanced code on 3xx */
	SR_D_ENHANCED_MISSING,		/* warning */
	SR_D_ENHANCED_UNREGISTERED,	/* warning: 5.7.99 */
	SR_D_ENHANCED_UNASSOCIATED,	/* info */
	SR_D_ENHANCED_PHASE,		/* warning: address code, wrong phase */
	SR_D_MULTILINE_CODE_MISMATCH,	/* error */
	SR_D_MULTILINE_ENHANCED_MISMATCH, /* error */
	SR_D_MULTILINE_SEPARATOR,	/* error */
	SR_D_LINE_TOO_LONG,		/* error */
	SR_D_TOO_MANY_LINES,		/* error (milter context) */
	SR_D_TEXT_BAD_CHAR,		/* error: CR, LF, NUL, controls */
	SR_D_TEXT_NON_ASCII,		/* warning */
	SR_D_TEXT_EMPTY,		/* warning */
	SR_D_PHASE_UNEXPECTED_CODE,	/* info: not in RFC 5321 4.3.2's list */
	SR_D_MILTER_CODE_CLASS,		/* error (milter context) */
	SR_D_CODE_MISSING,		/* error: "5.7.1 text", no basic code */
	SR_D_SEPARATOR_BLANKS,		/* warning: "550  5.7.1", "550\t..." */
	SR_D_MULTILINE_CUT,		/* info: a log cut the reply */
	SR_D__COUNT
};

/* Short fixed-size facts a diagnostic carries; enough to build its message. */
#define SR_DIAG_TOKEN_MAX 24

struct sr_diag {
	enum sr_diag_id id;
	unsigned line;			/* first line it applies to, 1-based */
	unsigned count;			/* lines or bytes affected (id-specific) */
	unsigned code;			/* the reply's basic code, 0 if none */
	enum sr_phase phase;		/* the phase the reply was checked in */
	char token[SR_DIAG_TOKEN_MAX];	/* the offending token, NUL-terminated, truncated */
	char want[SR_DIAG_TOKEN_MAX];	/* what it should be, "" when not known */
};

/* "code-syntax" etc.; NULL for an out-of-range id. */
const char *sr_diag_name(enum sr_diag_id id);

/* The id named NAME, or -1. */
int sr_diag_lookup(const char *name);

enum sr_severity sr_diag_severity(enum sr_diag_id id);

/* "error", "warning", "info". */
const char *sr_severity_name(enum sr_severity sev);

/*
 * Write the human-readable message of D into BUF (always NUL-terminated
 * when SIZE > 0). Returns the length the full message has, like snprintf.
 * Reply bytes in the message are made printable.
 */
size_t sr_diag_format(const struct sr_diag *d, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_DIAG_H */
