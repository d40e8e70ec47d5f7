/*
 * SPDX-License-Identifier: ISC
 * diag.c - names, severities and messages of the checker's diagnostics.
 *
 * The names are stable identifiers (logs, JSON, configuration). Messages
 * are built on demand from the facts a diagnostic carries, so that a check
 * costs no formatting unless somebody reads the result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const struct {
	const char *name;
	enum sr_severity severity;
} diag_table[SR_D__COUNT] = {
	[SR_D_CODE_SYNTAX] = { "code-syntax", SR_SEV_ERROR },
	[SR_D_CODE_NONSTANDARD] = { "code-nonstandard", SR_SEV_WARNING },
	[SR_D_ENHANCED_SYNTAX] = { "enhanced-syntax", SR_SEV_ERROR },
	[SR_D_ENHANCED_LEADING_ZERO] = { "enhanced-leading-zero", SR_SEV_ERROR },
	[SR_D_ENHANCED_CLASS_MISMATCH] = { "enhanced-class-mismatch", SR_SEV_ERROR },
	[SR_D_ENHANCED_NOT_ALLOWED] = { "enhanced-not-allowed", SR_SEV_ERROR },
	[SR_D_ENHANCED_MISSING] = { "enhanced-missing", SR_SEV_WARNING },
	[SR_D_ENHANCED_UNREGISTERED] = { "enhanced-unregistered", SR_SEV_WARNING },
	[SR_D_ENHANCED_UNASSOCIATED] = { "enhanced-unassociated", SR_SEV_INFO },
	[SR_D_ENHANCED_PHASE] = { "enhanced-phase", SR_SEV_WARNING },
	[SR_D_MULTILINE_CODE_MISMATCH] = { "multiline-code-mismatch", SR_SEV_ERROR },
	[SR_D_MULTILINE_ENHANCED_MISMATCH] = { "multiline-enhanced-mismatch", SR_SEV_ERROR },
	[SR_D_MULTILINE_SEPARATOR] = { "multiline-separator", SR_SEV_ERROR },
	[SR_D_LINE_TOO_LONG] = { "line-too-long", SR_SEV_ERROR },
	[SR_D_TOO_MANY_LINES] = { "too-many-lines", SR_SEV_ERROR },
	[SR_D_TEXT_BAD_CHAR] = { "text-bad-char", SR_SEV_ERROR },
	[SR_D_TEXT_NON_ASCII] = { "text-non-ascii", SR_SEV_WARNING },
	[SR_D_TEXT_EMPTY] = { "text-empty", SR_SEV_WARNING },
	[SR_D_PHASE_UNEXPECTED_CODE] = { "phase-unexpected-code", SR_SEV_INFO },
	[SR_D_MILTER_CODE_CLASS] = { "milter-code-class", SR_SEV_ERROR },
	[SR_D_CODE_MISSING] = { "code-missing", SR_SEV_ERROR },
	[SR_D_SEPARATOR_BLANKS] = { "separator-blanks", SR_SEV_WARNING },
	[SR_D_MULTILINE_CUT] = { "multiline-cut", SR_SEV_INFO },
};

const char *sr_diag_name(enum sr_diag_id id)
{
	if ((unsigned)id >= SR_D__COUNT)
		return NULL;
	return diag_table[id].name;
}

int sr_diag_lookup(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < SR_D__COUNT; i++)
		if (strcasecmp(name, diag_table[i].name) == 0)
			return i;
	return -1;
}

enum sr_severity sr_diag_severity(enum sr_diag_id id)
{
	if ((unsigned)id >= SR_D__COUNT)
		return SR_SEV_ERROR;
	return diag_table[id].severity;
}

const char *sr_severity_name(enum sr_severity sev)
{
	switch (sev) {
	case SR_SEV_INFO:
		return "info";
	case SR_SEV_WARNING:
		return "warning";
	case SR_SEV_ERROR:
		return "error";
	}
	return "error";
}

/* snprintf that tolerates SIZE 0 and returns size_t. */
__attribute__((format(printf, 3, 4)))
static size_t fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(size ? buf : NULL, size, f, ap);
	va_end(ap);
	return n < 0 ? 0 : (size_t)n;
}

/* The catalog's meaning of a non-standard code, or NULL. */
static const char *known_meaning(const char *token)
{
	const struct sr_basic_info *b;
	int code = sr_code_parse(token, strlen(token));

	if (code < 0)
		return NULL;
	b = sr_registry_basic((unsigned)code);
	return b ? b->meaning : NULL;
}

size_t sr_diag_format(const struct sr_diag *d, char *buf, size_t size)
{
	char t[SR_DIAG_TOKEN_MAX], w[SR_DIAG_TOKEN_MAX];
	const char *meaning, *phase = sr_phase_name(d->phase);

	/* The facts may come from anywhere: make them printable first. */
	sr_copy_printable(t, sizeof(t), d->token, strnlen(d->token,
	    sizeof(d->token)));
	sr_copy_printable(w, sizeof(w), d->want, strnlen(d->want,
	    sizeof(d->want)));
	if (phase == NULL)
		phase = "other";
	if (size > 0)
		buf[0] = '\0';
	switch (d->id) {
	case SR_D_CODE_SYNTAX:
		if (*t == '\0')
			return fmt(buf, size, "no reply code: a reply starts "
			    "with 3 digits");
		if ((meaning = known_meaning(t)) != NULL)
			return fmt(buf, size, "%s: %s (not an RFC 5321 code: "
			    "outside the reply-code grammar)", t, meaning);
		return fmt(buf, size, "\"%s\" is not a valid reply code (3 "
		    "digits, the first 2-5, the second 0-5)", t);
	case SR_D_CODE_NONSTANDARD:
		if ((meaning = known_meaning(t)) != NULL)
			return fmt(buf, size, "%s: %s (not an RFC 5321 code)",
			    t, meaning);
		return fmt(buf, size, "%s: defined by no RFC (not an RFC 5321 "
		    "code)", t);
	case SR_D_ENHANCED_SYNTAX:
		return fmt(buf, size, "\"%s\" is not a valid enhanced status "
		    "code (class.subject.detail: class 2, 4 or 5, 1-3 digits "
		    "each)", t);
	case SR_D_ENHANCED_LEADING_ZERO:
		return fmt(buf, size, "enhanced status code %s has leading "
		    "zeros (RFC 3463): %s", t, w);
	case SR_D_ENHANCED_CLASS_MISMATCH:
		return fmt(buf, size, "enhanced status code %s has class %c "
		    "but the reply code %03u has class %u: %s (Postfix rejects "
		    "such a milter reply as malformed)", t, t[0] ? t[0] : '?',
		    d->code % 1000, d->code % 1000 / 100, w);
	case SR_D_ENHANCED_NOT_ALLOWED:
		return fmt(buf, size, "enhanced status code %s on a 3xx reply "
		    "(RFC 2034: never on 3xx)", t);
	case SR_D_ENHANCED_MISSING:
		if (*w != '\0')
			return fmt(buf, size, "no enhanced status code (RFC "
			    "2034: on every reply but the greeting and EHLO); "
			    "default: %s", w);
		return fmt(buf, size, "no enhanced status code (RFC 2034: on "
		    "every reply but the greeting and EHLO)");
	case SR_D_ENHANCED_UNREGISTERED:
		return fmt(buf, size, "enhanced status code %s is not in the "
		    "IANA registry (RFC 5248); nearest general code: %s", t, w);
	case SR_D_ENHANCED_UNASSOCIATED: {
		struct sr_enh e;
		const struct sr_enhanced_info *info = NULL;

		if (sr_enh_classify((struct sr_span){ t, strlen(t) }, &e) !=
		    SR_ENH_MALFORMED)
			info = sr_registry_enhanced(e.subject, e.detail);
		return fmt(buf, size, "the IANA registry does not list reply "
		    "code %03u with %s (it lists: %s)", d->code % 1000, t,
		    info && info->assoc[0] ? info->assoc : "none");
	}
	case SR_D_ENHANCED_PHASE:
		return fmt(buf, size, "address status code %s does not fit a "
		    "reply at %s: %s", t, phase, w);
	case SR_D_MULTILINE_CODE_MISMATCH:
		return fmt(buf, size, "line %u has reply code \"%s\", not line "
		    "1's; every line must carry the same code (%u line%s "
		    "differ%s)", d->line, t, d->count, d->count == 1 ? "" : "s",
		    d->count == 1 ? "s" : "");
	case SR_D_MULTILINE_ENHANCED_MISMATCH:
		return fmt(buf, size, "line %u has enhanced status code \"%s\", "
		    "not line 1's (%u line%s differ%s)", d->line, t, d->count,
		    d->count == 1 ? "" : "s", d->count == 1 ? "s" : "");
	case SR_D_MULTILINE_SEPARATOR:
		return fmt(buf, size, "line %u: %s (%u line%s)", d->line,
		    w[0] == '-' ? "a line before the last needs '-' after the "
		    "code" : "the last line must not have '-' after the code",
		    d->count, d->count == 1 ? "" : "s");
	case SR_D_LINE_TOO_LONG:
		if (strcmp(t, "milter") == 0)
			return fmt(buf, size, "line %u: %s bytes of text for "
			    "libmilter ('%%' doubled), over its limit of %u (%u "
			    "line%s too long)", d->line, w, SR_MILTER_TEXT_MAX,
			    d->count, d->count == 1 ? "" : "s");
		return fmt(buf, size, "line %u is %s octets with CRLF, over the "
		    "limit of %u (RFC 5321 4.5.3.1.5; %u line%s too long)",
		    d->line, w, SR_WIRE_LINE_MAX, d->count,
		    d->count == 1 ? "" : "s");
	case SR_D_TOO_MANY_LINES:
		return fmt(buf, size, "%u lines; libmilter accepts at most %u",
		    d->count, SR_MILTER_LINES_MAX);
	case SR_D_TEXT_BAD_CHAR:
		return fmt(buf, size, "%u control byte%s (CR, LF, NUL or "
		    "other) in the text, first on line %u", d->count,
		    d->count == 1 ? "" : "s", d->line);
	case SR_D_TEXT_NON_ASCII:
		return fmt(buf, size, "%u byte%s over 126 in the text, first on "
		    "line %u (only valid UTF-8 with SMTPUTF8)", d->count,
		    d->count == 1 ? "" : "s", d->line);
	case SR_D_TEXT_EMPTY:
		return fmt(buf, size, "the reply has no text");
	case SR_D_PHASE_UNEXPECTED_CODE:
		return fmt(buf, size, "RFC 5321 4.3.2 does not list %s as a "
		    "reply at %s", t, phase);
	case SR_D_MILTER_CODE_CLASS:
		return fmt(buf, size, "libmilter can send only 4xx and 5xx "
		    "replies, not \"%s\"", t);
	case SR_D_CODE_MISSING:
		if (*w != '\0')
			return fmt(buf, size, "no basic reply code before the "
			    "enhanced status code %s: recovered from its class "
			    "and the registry as %s", t, w);
		return fmt(buf, size, "no basic reply code, and \"%s\" is no "
		    "enhanced status code to recover one from", t);
	case SR_D_SEPARATOR_BLANKS:
		return fmt(buf, size, "line %u: blanks other than one space "
		    "between the code, the enhanced status code and the text "
		    "(a client may not see the enhanced code; %u line%s)",
		    d->line, d->count, d->count == 1 ? "" : "s");
	case SR_D_MULTILINE_CUT:
		return fmt(buf, size, "line %u still has '-' after the code: "
		    "the log shows only the first line%s of the reply; they are "
		    "checked as they are", d->line, d->line == 1 ? "" : "s");
	case SR_D__COUNT:
		break;
	}
	return fmt(buf, size, "unknown diagnostic");
}
