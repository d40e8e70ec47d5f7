/*
 * SPDX-License-Identifier: ISC
 * smtpreply/reply.h - parse, check and normalize one SMTP reply.
 *
 * A reply is a basic code (RFC 5321), an optional enhanced status code
 * (RFC 3463) and one or more lines of text, judged in a context: the SMTP
 * phase it answers, and whether it goes on the wire or is handed to
 * libmilter by a milter (which adds libmilter's own limits).
 *
 *   struct sr_reply r;
 *   sr_reply_parse(&r, buf, len);          // views into BUF, no copy
 *   sr_check(&r, &opts, &chk);             // diagnostics
 *   sr_normalize(&r, &opts, &norm);        // a reply with no error
 *   ... norm.wire ...
 *   sr_normalized_release(&norm);
 *   sr_reply_release(&r);
 *
 * The engine is reentrant: no static buffers, no global mutable state.
 * Input is untrusted: any bytes, any length; nothing is read past LEN.
 * Structures that hold inline storage must not be copied by value.
 */
#ifndef SMTPREPLY_REPLY_H
#define SMTPREPLY_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <smtpreply/diag.h>
#include <smtpreply/phase.h>
#include <smtpreply/policy.h>
#include <smtpreply/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits from RFC 5321 4.5.3.1.5 and libmilter (smfi_setmlreply). */
#define SR_WIRE_LINE_MAX	512	/* octets, code and CRLF included */
#define SR_MILTER_TEXT_MAX	980	/* bytes of text per line */
#define SR_MILTER_LINES_MAX	32

enum sr_context {
	SR_CONTEXT_WIRE,	/* a reply as sent on the wire */
	SR_CONTEXT_MILTER	/* a reply a milter hands to libmilter */
};

/* "wire", "milter". */
const char *sr_context_name(enum sr_context ctx);

struct sr_options {
	enum sr_phase phase;
	enum sr_context context;
	bool utf8;			/* valid UTF-8 text allowed (SMTPUTF8) */
	const struct sr_policy *policy;	/* NULL: the shipped tables */
	bool may_be_cut;		/* a log's copy of the reply, which may
					 * show only its first lines: a last
					 * line with '-' is multiline-cut
					 * (info), not multiline-separator */
};

/* A byte range inside the parsed input (or a caller's part string). */
struct sr_span {
	const char *p;
	size_t len;
};

/* How a line departs from "CODE SEP [ENH SP] TEXT" (struct sr_line.form). */
#define SR_FORM_NO_CODE		0x01	/* "5.7.1 text": an enhanced code
					 * and no basic code (code empty) */
#define SR_FORM_BLANKS		0x02	/* blanks other than one SP between
					 * code, enhanced code and text */
#define SR_FORM_CODE_BROKEN	0x04	/* leading digits that are no
					 * readable code: "55O", "5 5 0",
					 * "5501", "550x" */

struct sr_line {
	struct sr_span code;	/* leading digits, possibly empty or not 3 */
	char sep;		/* ' ', '-', '\0' (line ends after the code),
				 * or '?' (something else follows the code;
				 * text then starts right after the code) */
	struct sr_span enh;	/* a token that looks like an enhanced code
				 * (digits and dots after the code); len 0
				 * when there is none */
	struct sr_span text;	/* the rest: the human-readable text */
	unsigned form;		/* SR_FORM_* */
	size_t extra;		/* blanks consumed beyond the single
				 * separators (the line is that much longer
				 * on the wire than its parts) */
};

#define SR_INLINE_LINES 8

struct sr_reply {
	struct sr_line *lines;	/* inline_lines or heap */
	size_t nlines;
	size_t cap;
	struct sr_line inline_lines[SR_INLINE_LINES];
};

/*
 * Parse wire form: lines ended by CRLF or LF (the last line may lack an
 * ending; a lone CR stays inside the text). Every line belongs to this one
 * reply. Empty input gives one empty line. Each line is lexed as
 * notes/engine-semantics.md says ("Parsing"): near misses are read as
 * meant and marked in sr_line.form. Returns 0, or -1 when memory ran out
 * (R is then an empty reply, safe to release).
 */
int sr_reply_parse(struct sr_reply *r, const char *buf, size_t len);

/*
 * Build a reply from parts: CODE ("550"), ENHANCED ("5.7.1", or NULL /
 * "" for none: the first text then is looked at as the client would see
 * it), and NTEXT text lines (NTEXT 0: one empty line). The strings are
 * referenced, not copied. Returns 0, or -1 when memory ran out.
 */
int sr_reply_from_parts(struct sr_reply *r, const char *code,
			const char *enhanced, const char *const *text,
			size_t ntext);

void sr_reply_release(struct sr_reply *r);

/* The basic code of line 0 as a number, or -1 when it has none that can be
 * read (not exactly 3 digits followed by a blank, '-' or the end). */
int sr_reply_code(const struct sr_reply *r);

struct sr_check {
	struct sr_diag diags[SR_D__COUNT];	/* each id at most once */
	size_t ndiags;
	unsigned errors, warnings, infos;
};

/* Check R in context O (NULL: wire, phase other). Never fails. */
void sr_check(const struct sr_reply *r, const struct sr_options *o,
	      struct sr_check *out);

/*
 * Check a reply whose basic code was not recorded, as logs and MTAs give
 * some ("5.7.1 Message rejected": Postfix's cleanup log, the {rcpt_host}
 * and {rcpt_addr} macros of a recipient Postfix rejected). TEXT[0..LEN)
 * starts with the enhanced code (or with text when there is none). It is
 * checked behind a stand-in code of the enhanced code's class (written
 * to STAND_IN: "550", "450", "250"), and the diagnostics about the basic
 * code (code-syntax, code-nonstandard, enhanced-class-mismatch,
 * enhanced-unassociated, phase-unexpected-code, milter-code-class) are
 * left out: nobody showed that code. Returns 0, or -1 when memory ran out
 * (OUT then holds no diagnostic).
 */
int sr_check_without_code(const char *text, size_t len,
			  const struct sr_options *o, struct sr_check *out,
			  char stand_in[4]);

/* The diagnostic with ID in C, or NULL. */
const struct sr_diag *sr_check_find(const struct sr_check *c,
				    enum sr_diag_id id);

/* One change the normalizer made, for logs: "550 4.7.1" -> "550 5.7.1". */
#define SR_CHANGE_TEXT_MAX 48
struct sr_change {
	enum sr_diag_id id;			/* the problem it fixed */
	unsigned line;				/* 1-based, 0 = whole reply */
	char before[SR_CHANGE_TEXT_MAX];	/* printable, truncated */
	char after[SR_CHANGE_TEXT_MAX];
};

enum sr_norm_status {
	SR_NORM_OK = 0,		/* wire holds a reply with no error */
	SR_NORM_UNFIXABLE,	/* why says why; nothing guessed */
	SR_NORM_NOMEM		/* memory ran out */
};

#define SR_NORM_INLINE 1024

struct sr_normalized {
	enum sr_norm_status status;
	char why[160];			/* when not OK */
	char code[4];			/* "550" */
	char enhanced[SR_ENH_STRLEN];	/* "5.7.1" or "" */
	/*
	 * The reply in wire form, lines joined by CRLF, no final CRLF,
	 * NUL-terminated. The text is as the client will read it: in milter
	 * context hand each line's text (sr_normalized_next_text()) through
	 * sr_milter_escape() to get it escaped for libmilter.
	 */
	char *wire;
	size_t wire_len;
	size_t nlines;
	struct sr_change changes[SR_D__COUNT];	/* each id at most once */
	size_t nchanges;
	/* private */
	size_t cap;
	char inline_buf[SR_NORM_INLINE];
};

/*
 * Normalize R in context O (NULL: wire, phase other) into OUT, which the
 * caller releases with sr_normalized_release() whatever the status.
 * Idempotent: normalizing the result gives the same result, and the
 * result checks with no error-level diagnostic.
 */
void sr_normalize(const struct sr_reply *r, const struct sr_options *o,
		  struct sr_normalized *out);

void sr_normalized_release(struct sr_normalized *n);

/*
 * Iterate over the text of the normalized lines: *POS starts at 0; each
 * call sets *TEXT to the next line's text (without code and enhanced
 * code) and returns true, or returns false after the last line.
 */
bool sr_normalized_next_text(const struct sr_normalized *n, size_t *pos,
			     struct sr_span *text);

/*
 * Copy TEXT into BUF with every '%' doubled, as libmilter's
 * smfi_setreply/smfi_setmlreply need it so that the client reads the
 * text as written. Returns the escaped length; BUF holds it and a NUL
 * when it is < SIZE, else the result is truncated (check the return).
 */
size_t sr_milter_escape(struct sr_span text, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SMTPREPLY_REPLY_H */
