/*
 * SPDX-License-Identifier: ISC
 * test_check.c - every diagnostic of the checker, present and absent.
 *
 * The expectations come from issue #2 ("Check") as refined by
 * notes/engine-semantics.md ("Check"), and from the facts in
 * reply-codes.md (ABNF, RFC 5321 4.3.2 per phase, the IANA registry).
 * Every row also checks the invariants of a check result and, when the
 * reply can be normalized, that the normalized reply checks with no error
 * and normalizes to itself.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"


struct row {
	const char *in;		/* wire input (a spec when x) */
	size_t len;		/* 0: strlen(in) */
	bool x;			/* expand "{UNIT*N}" in IN */
	const char *pcode;	/* non-NULL: build from parts instead */
	const char *penh;
	const char *ptext;	/* one text line */
	enum sr_phase ph;
	enum sr_context ctx;
	bool utf8;
	enum sr_diag_id id;
	enum sr_severity sev;
	unsigned line;		/* expected line when present */
	bool present;
	bool cut;		/* sr_options.may_be_cut (a log's copy) */
};

#define R_(in_, len_, x_, ph_, ctx_, u8_, id_, sev_, line_, pres_)      \
	{ .in = (in_), .len = (len_), .x = (x_), .ph = SR_PHASE_##ph_,  \
	  .ctx = SR_CONTEXT_##ctx_, .utf8 = (u8_), .id = SR_D_##id_,    \
	  .sev = SR_SEV_##sev_, .line = (line_), .present = (pres_) }

/* Y: present (wire, utf8 off); N: absent. M: milter; U: utf8 on;
 * L: explicit length (NUL bytes); X: expanded. */
#define Y(in, ph, id, sev, line)   R_(in, 0, false, ph, WIRE, false, id, sev, line, true)
#define N(in, ph, id)              R_(in, 0, false, ph, WIRE, false, id, INFO, 0, false)
#define YM(in, ph, id, sev, line)  R_(in, 0, false, ph, MILTER, false, id, sev, line, true)
#define NM(in, ph, id)             R_(in, 0, false, ph, MILTER, false, id, INFO, 0, false)
#define YU(in, ph, id, sev, line)  R_(in, 0, false, ph, WIRE, true, id, sev, line, true)
#define NU(in, ph, id)             R_(in, 0, false, ph, WIRE, true, id, INFO, 0, false)
#define YL(in, ph, id, sev, line)  R_(in, TU_LEN(in), false, ph, WIRE, false, id, sev, line, true)
#define NL(in, ph, id)             R_(in, TU_LEN(in), false, ph, WIRE, false, id, INFO, 0, false)
#define YX(in, ph, id, sev, line)  R_(in, 0, true, ph, WIRE, false, id, sev, line, true)
#define NX(in, ph, id)             R_(in, 0, true, ph, WIRE, false, id, INFO, 0, false)
#define YXM(in, ph, id, sev, line) R_(in, 0, true, ph, MILTER, false, id, sev, line, true)
#define NXM(in, ph, id)            R_(in, 0, true, ph, MILTER, false, id, INFO, 0, false)
/* C: a log's copy, which may be cut (may_be_cut). */
#define YC(in_, ph_, id_, sev_, line_)                                  \
	{ .in = (in_), .ph = SR_PHASE_##ph_, .ctx = SR_CONTEXT_WIRE,    \
	  .id = SR_D_##id_, .sev = SR_SEV_##sev_, .line = (line_),      \
	  .present = true, .cut = true }
#define NC(in_, ph_, id_)                                               \
	{ .in = (in_), .ph = SR_PHASE_##ph_, .ctx = SR_CONTEXT_WIRE,    \
	  .id = SR_D_##id_, .sev = SR_SEV_INFO, .present = false,       \
	  .cut = true }
#define P_(c, e, t, ph_, id_, sev_, line_, pres_)                       \
	{ .pcode = (c), .penh = (e), .ptext = (t), .ph = SR_PHASE_##ph_, \
	  .ctx = SR_CONTEXT_WIRE, .id = SR_D_##id_, .sev = SR_SEV_##sev_, \
	  .line = (line_), .present = (pres_) }
#define YP(c, e, t, ph, id, sev, line) P_(c, e, t, ph, id, sev, line, true)
#define NP(c, e, t, ph, id)            P_(c, e, t, ph, id, INFO, 0, false)

#define GMAIL "550-5.7.1 [192.0.2.1] Our system has detected that this message is\r\n" \
	"550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n" \
	"550 5.7.1 https://support.google.com/mail/?p=UnsolicitedMessageError x1si123.45 - gsmtp\r\n"
#define EHLO "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
#define POSTFIX "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table"

static const struct row rows[] = {
	/* ---- code-syntax [error] ---- */
	Y("572 5.7.1 relay not permitted", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("101 cannot open connection", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("111 connection refused", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("600 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("650 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("699 x", RCPT, CODE_SYNTAX, ERROR, 1),
	Y("560 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("099 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("55", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("55 blocked", RCPT, CODE_SYNTAX, ERROR, 1),
	Y("abc", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("5501 blocked", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("5505505505", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("", OTHER, CODE_SYNTAX, ERROR, 1),
	Y(" 550 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("55-a\r\n55 b", OTHER, CODE_SYNTAX, ERROR, 1),
	N("550 5.7.1 x", OTHER, CODE_SYNTAX),
	N("557 x", OTHER, CODE_SYNTAX),
	Y("599 x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("471 4.7.1 local error", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("260 ok", OTHER, CODE_SYNTAX, ERROR, 1),
	N("409 x", OTHER, CODE_SYNTAX),
	N("250 ok", OTHER, CODE_SYNTAX),
	N("200 ok", OTHER, CODE_SYNTAX),
	N("355 x", OTHER, CODE_SYNTAX),
	Y("550x", OTHER, CODE_SYNTAX, ERROR, 1),
	Y("55O 5.7.1 letter O", RCPT, CODE_SYNTAX, ERROR, 1),
	Y("5 5 0 x", RCPT, CODE_SYNTAX, ERROR, 1),
	Y("5501 x", RCPT, CODE_SYNTAX, ERROR, 1),
	N("55O 5.7.1 letter O", RCPT, ENHANCED_MISSING),
	N("5.7.1 Access denied", RCPT, CODE_SYNTAX),

	/* ---- code-missing [error] ---- */
	Y("5.7.1 Access denied", RCPT, CODE_MISSING, ERROR, 1),
	Y("4.2.0 try later", RCPT, CODE_MISSING, ERROR, 1),
	Y("5.7 x", RCPT, CODE_MISSING, ERROR, 1),
	Y("5.7 x", RCPT, ENHANCED_SYNTAX, ERROR, 1),
	Y("5.01.1 x", RCPT, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("5.7.99 x", RCPT, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("5.1.1 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	N("5.7.1 Access denied", RCPT, ENHANCED_CLASS_MISMATCH),
	N("5.7.1 Access denied", RCPT, ENHANCED_MISSING),
	N("5.7.1 Access denied", RCPT, PHASE_UNEXPECTED_CODE),
	N("550 5.7.1 x", RCPT, CODE_MISSING),
	N("Access denied", RCPT, CODE_MISSING),
	N("5.7.1text", RCPT, CODE_MISSING),

	/* ---- separator-blanks [warning] ---- */
	Y("550  5.7.1 two spaces", RCPT, SEPARATOR_BLANKS, WARNING, 1),
	Y("550\t5.7.1 tab", RCPT, SEPARATOR_BLANKS, WARNING, 1),
	Y("550 5.7.1  x", RCPT, SEPARATOR_BLANKS, WARNING, 1),
	Y("550-5.7.1 a\r\n550  5.7.1 b", RCPT, SEPARATOR_BLANKS, WARNING, 2),
	N("550  5.7.1 two spaces", RCPT, ENHANCED_MISSING),
	N("550 5.7.1 x", RCPT, SEPARATOR_BLANKS),
	N("550 5.7.1  ", RCPT, SEPARATOR_BLANKS),
	N("550  text", RCPT, SEPARATOR_BLANKS),
	N("220  192.0.2.1 ESMTP", CONNECT, SEPARATOR_BLANKS),
	N("550-a\r\n55 b", OTHER, CODE_SYNTAX),
	N(GMAIL, RCPT, CODE_SYNTAX),

	/* ---- code-nonstandard [warning] ---- */
	Y("557 5.7.1 too many duplicates", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("420 timeout", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("409 x", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("505 x", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("510 bad address", RCPT, CODE_NONSTANDARD, WARNING, 1),
	Y("200 ok", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("422 full", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("541 rejected", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("355 x", OTHER, CODE_NONSTANDARD, WARNING, 1),
	Y("557-5.7.1 a\r\n557 5.7.1 b", OTHER, CODE_NONSTANDARD, WARNING, 1),
	N("550 5.7.1 x", OTHER, CODE_NONSTANDARD),
	N("523 5.7.10 encryption needed", OTHER, CODE_NONSTANDARD),
	N("250 ok", OTHER, CODE_NONSTANDARD),
	N("354 go ahead", DATA, CODE_NONSTANDARD),
	N("235 2.7.0 ok", OTHER, CODE_NONSTANDARD),
	N("453 x", OTHER, CODE_NONSTANDARD),
	N("458 x", OTHER, CODE_NONSTANDARD),
	N("556 5.1.10 null MX", RCPT, CODE_NONSTANDARD),
	N("572 x", OTHER, CODE_NONSTANDARD),
	N("101 x", OTHER, CODE_NONSTANDARD),

	/* ---- enhanced-syntax [error] ---- */
	Y("550 5.7 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.7.1.2 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.7.1000 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	/* no class first: text, no attempt at an enhanced code */
	N("550 6.1.1 x", OTHER, ENHANCED_SYNTAX),
	N("550 3.7.1 x", OTHER, ENHANCED_SYNTAX),
	N("550 1.5 MB", OTHER, ENHANCED_SYNTAX),
	N("220 192.0.2.1 ESMTP", CONNECT, ENHANCED_SYNTAX),
	Y("550 5.7 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 05.7 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5..1 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.7. x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.1000.1 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.01 x", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550 5.7", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	Y("550-5.7.1 a\r\n550 5.7 b", OTHER, ENHANCED_SYNTAX, ERROR, 2),
	YP("550", NULL, "5.7 blocked", OTHER, ENHANCED_SYNTAX, ERROR, 1),
	N("550 5.7.1 x", OTHER, ENHANCED_SYNTAX),
	N("550 5.7.1text", OTHER, ENHANCED_SYNTAX),
	N("550 5.01.1 x", OTHER, ENHANCED_SYNTAX),
	N("550 5.0001.1 x", OTHER, ENHANCED_SYNTAX),
	N("550 5.7.999 x", OTHER, ENHANCED_SYNTAX),
	N("550 12345 x", OTHER, ENHANCED_SYNTAX),
	N("550 5.7.1\tx", OTHER, ENHANCED_SYNTAX),
	N("550 blocked", OTHER, ENHANCED_SYNTAX),
	N("550 4.7.1 x", OTHER, ENHANCED_SYNTAX),

	/* ---- enhanced-leading-zero [error] ---- */
	Y("550 5.01.1 x", OTHER, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("550 05.1.1 x", OTHER, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("550 5.0001.1 x", OTHER, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("550 5.7.01 x", OTHER, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("550 5.00.1 x", OTHER, ENHANCED_LEADING_ZERO, ERROR, 1),
	Y("550-5.7.1 a\r\n550 5.7.01 b", OTHER, ENHANCED_LEADING_ZERO, ERROR, 2),
	N("550 5.0.0 x", OTHER, ENHANCED_LEADING_ZERO),
	N("550 5.7.10 x", OTHER, ENHANCED_LEADING_ZERO),
	N("550 5.10.1 x", OTHER, ENHANCED_LEADING_ZERO),
	N("550 5.7 x", OTHER, ENHANCED_LEADING_ZERO),
	N("550 5.01 x", OTHER, ENHANCED_LEADING_ZERO),
	N("550 5.7.1 x", OTHER, ENHANCED_LEADING_ZERO),

	/* ---- enhanced-class-mismatch [error] ---- */
	Y("550 4.7.1 x", OTHER, ENHANCED_CLASS_MISMATCH, ERROR, 1),
	Y("451 5.7.1 x", OTHER, ENHANCED_CLASS_MISMATCH, ERROR, 1),
	Y("250 5.0.0 ok", OTHER, ENHANCED_CLASS_MISMATCH, ERROR, 1),
	Y("450 2.0.0 x", OTHER, ENHANCED_CLASS_MISMATCH, ERROR, 1),
	Y("550-4.7.1 a\r\n550 4.7.1 b", OTHER, ENHANCED_CLASS_MISMATCH, ERROR, 1),
	N("550 5.7.1 x", OTHER, ENHANCED_CLASS_MISMATCH),
	N("451 4.7.1 x", OTHER, ENHANCED_CLASS_MISMATCH),
	N("250 2.0.0 ok", OTHER, ENHANCED_CLASS_MISMATCH),
	N("550 6.1.1 x", OTHER, ENHANCED_CLASS_MISMATCH),
	N("550 4.7 x", OTHER, ENHANCED_CLASS_MISMATCH),
	N("55 4.7.1 x", OTHER, ENHANCED_CLASS_MISMATCH),
	N("550 blocked", OTHER, ENHANCED_CLASS_MISMATCH),

	/* ---- enhanced-not-allowed [error] ---- */
	Y("354 2.0.0 go ahead", DATA, ENHANCED_NOT_ALLOWED, ERROR, 1),
	Y("334 2.7.0 VXNlcm5hbWU6", OTHER, ENHANCED_NOT_ALLOWED, ERROR, 1),
	Y("354-2.0.0 go\r\n354 2.0.0 ahead", DATA, ENHANCED_NOT_ALLOWED, ERROR, 1),
	N("354 go ahead", DATA, ENHANCED_NOT_ALLOWED),
	N("354 2.0 go", DATA, ENHANCED_NOT_ALLOWED),
	N("250 2.0.0 ok", OTHER, ENHANCED_NOT_ALLOWED),
	N("550 5.7.1 x", OTHER, ENHANCED_NOT_ALLOWED),

	/* ---- enhanced-missing [warning] ---- */
	Y("550 blocked", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("550 blocked", MAIL, ENHANCED_MISSING, WARNING, 1),
	Y("550 blocked", DATA, ENHANCED_MISSING, WARNING, 1),
	Y("550 blocked", EOM, ENHANCED_MISSING, WARNING, 1),
	Y("550 blocked", OTHER, ENHANCED_MISSING, WARNING, 1),
	N("550 blocked", CONNECT, ENHANCED_MISSING),
	N("550 blocked", HELO, ENHANCED_MISSING),
	N("354 go ahead", DATA, ENHANCED_MISSING),
	N("354 go ahead", OTHER, ENHANCED_MISSING),
	Y("250 ok", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("421 closing", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("550 5.7.1text", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("550", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("550-a\r\n550 5.7.1 b", RCPT, ENHANCED_MISSING, WARNING, 1),
	YP("550", NULL, "blocked", RCPT, ENHANCED_MISSING, WARNING, 1),
	Y("550 1.5 MB", RCPT, ENHANCED_MISSING, WARNING, 1),
	N("220 mx.example.com ESMTP", CONNECT, ENHANCED_MISSING),
	N("554 no service", CONNECT, ENHANCED_MISSING),
	N(EHLO, HELO, ENHANCED_MISSING),
	N("550-5.7.1 a\r\n550 b", RCPT, ENHANCED_MISSING),
	N("550 5.7.1 x", RCPT, ENHANCED_MISSING),
	NP("550", NULL, "5.7.1 blocked", RCPT, ENHANCED_MISSING),
	NP("550", "5.7.1", "blocked", RCPT, ENHANCED_MISSING),

	/* ---- enhanced-unregistered [warning] ---- */
	Y("550 5.7.99 x", OTHER, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("550 5.9.1 x", OTHER, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("550 5.1.11 x", RCPT, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("550 5.0.1 x", OTHER, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("450 4.7.31 x", OTHER, ENHANCED_UNREGISTERED, WARNING, 1),
	Y("550 5.7.606 Access denied, banned sending IP [1.2.3.4]. To request removal from this list please visit https://sender.office.com/", RCPT, ENHANCED_UNREGISTERED, WARNING, 1),
	N("550 5.7.1 x", OTHER, ENHANCED_UNREGISTERED),
	N("550 5.7.30 x", OTHER, ENHANCED_UNREGISTERED),
	N("550 5.6.10 x", OTHER, ENHANCED_UNREGISTERED),
	N("556 5.1.10 x", RCPT, ENHANCED_UNREGISTERED),
	N("550 5.7 x", OTHER, ENHANCED_UNREGISTERED),
	N("550 x", OTHER, ENHANCED_UNREGISTERED),

	/* ---- enhanced-unassociated [info] ---- */
	Y("554 5.7.1 [info]", OTHER, ENHANCED_UNASSOCIATED, INFO, 1),
	Y("554 5.7.1 [info]", RCPT, ENHANCED_UNASSOCIATED, INFO, 1),
	Y("550 5.2.2 mailbox full", OTHER, ENHANCED_UNASSOCIATED, INFO, 1),
	Y("550 5.7.10 x", OTHER, ENHANCED_UNASSOCIATED, INFO, 1),
	N("550 5.7.1 x", OTHER, ENHANCED_UNASSOCIATED),
	N("451 4.7.1 x", OTHER, ENHANCED_UNASSOCIATED),
	N("552 5.2.2 full", OTHER, ENHANCED_UNASSOCIATED),
	N("550 5.0.0 x", OTHER, ENHANCED_UNASSOCIATED),
	N("250 2.0.0 ok", OTHER, ENHANCED_UNASSOCIATED),
	N("550 5.1.2 x", RCPT, ENHANCED_UNASSOCIATED),
	N("523 5.7.10 x", OTHER, ENHANCED_UNASSOCIATED),
	N("550 5.7.17 x", OTHER, ENHANCED_UNASSOCIATED),
	N("550 5.7.99 x", OTHER, ENHANCED_UNASSOCIATED),
	N("550 blocked", OTHER, ENHANCED_UNASSOCIATED),

	/* ---- enhanced-phase [warning] ---- */
	Y("550 5.1.1 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.2 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.3 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.4 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.6 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.9 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.10 x", MAIL, ENHANCED_PHASE, WARNING, 1),
	Y("250 2.1.5 ok", MAIL, ENHANCED_PHASE, WARNING, 1),
	/* only a party that is wrong for sure: sender codes at RCPT are
	 * delayed rejects, after the dot replies may be per recipient, an
	 * unknown phase tells nothing */
	N("550 5.1.7 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.8 x", RCPT, ENHANCED_PHASE),
	N("450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found", RCPT, ENHANCED_PHASE),
	N("550 5.1.11 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.1 x", EOM, ENHANCED_PHASE),
	N("550 5.1.0 x", DATA, ENHANCED_PHASE),
	N("550 5.1.1 x", OTHER, ENHANCED_PHASE),
	N("550 5.1.8 x", OTHER, ENHANCED_PHASE),
	Y("550 5.1.1 x", HELO, ENHANCED_PHASE, WARNING, 1),
	Y("550 5.1.1 x", CONNECT, ENHANCED_PHASE, WARNING, 1),
	Y("550-5.1.1 a\r\n550 5.1.1 b", MAIL, ENHANCED_PHASE, WARNING, 1),
	N("550 5.1.1 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.10 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.9 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.6 x", RCPT, ENHANCED_PHASE),
	N("550 5.1.0 x", RCPT, ENHANCED_PHASE),
	N("553 5.1.3 x", RCPT, ENHANCED_PHASE),
	N("553 5.1.7 x", MAIL, ENHANCED_PHASE),
	N("553 5.1.8 x", MAIL, ENHANCED_PHASE),
	N("550 5.1.0 x", MAIL, ENHANCED_PHASE),
	N("250 2.1.0 ok", MAIL, ENHANCED_PHASE),
	N("250 2.1.5 ok", RCPT, ENHANCED_PHASE),
	N("550 5.7.1 x", MAIL, ENHANCED_PHASE),
	N("550 5.7.1 x", EOM, ENHANCED_PHASE),
	N("550 5.0.0 x", EOM, ENHANCED_PHASE),
	N("550 blocked", MAIL, ENHANCED_PHASE),
	N(POSTFIX, RCPT, ENHANCED_PHASE),

	/* ---- multiline-code-mismatch [error] ---- */
	Y("550-5.7.1 a\r\n551 5.7.1 b", OTHER, MULTILINE_CODE_MISMATCH, ERROR, 2),
	Y("550-5.7.1 a\r\n550-5.7.1 b\r\n551 5.7.1 c", OTHER, MULTILINE_CODE_MISMATCH, ERROR, 3),
	Y("550-a\r\n55 b", OTHER, MULTILINE_CODE_MISMATCH, ERROR, 2),
	Y("250-a\r\n250-b\r\n2500 c", OTHER, MULTILINE_CODE_MISMATCH, ERROR, 3),
	Y("550-a\r\nb", OTHER, MULTILINE_CODE_MISMATCH, ERROR, 2),
	N(GMAIL, RCPT, MULTILINE_CODE_MISMATCH),
	N(EHLO, HELO, MULTILINE_CODE_MISMATCH),
	N("550 5.7.1 x", OTHER, MULTILINE_CODE_MISMATCH),
	N("550-a\n550 b", OTHER, MULTILINE_CODE_MISMATCH),

	/* ---- multiline-enhanced-mismatch [error] ---- */
	Y("550-5.7.1 a\r\n550 5.7.2 b", OTHER, MULTILINE_ENHANCED_MISMATCH, ERROR, 2),
	Y("550-5.7.1 a\r\n550 b", OTHER, MULTILINE_ENHANCED_MISMATCH, ERROR, 2),
	Y("550-a\r\n550 5.7.1 b", OTHER, MULTILINE_ENHANCED_MISMATCH, ERROR, 2),
	Y("550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.10 c", OTHER, MULTILINE_ENHANCED_MISMATCH, ERROR, 3),
	N(GMAIL, RCPT, MULTILINE_ENHANCED_MISMATCH),
	N(EHLO, HELO, MULTILINE_ENHANCED_MISMATCH),
	N("550-a\r\n550 b", OTHER, MULTILINE_ENHANCED_MISMATCH),
	N("550-5.7.1 a\r\n550 5.7.1", OTHER, MULTILINE_ENHANCED_MISMATCH),
	N("550 5.7.1 x", OTHER, MULTILINE_ENHANCED_MISMATCH),

	/* ---- multiline-separator [error] ---- */
	/* ---- multiline-cut [info]: a log showed the first lines only ---- */
	YC("451-4.3.0 Temporary failure, please retry", RCPT, MULTILINE_CUT, INFO, 1),
	YC("550-5.7.1 a\r\n550-5.7.1 b", RCPT, MULTILINE_CUT, INFO, 2),
	NC("451-4.3.0 Temporary failure", RCPT, MULTILINE_SEPARATOR),
	YC("550 5.7.1 a\r\n550-5.7.1 b", RCPT, MULTILINE_SEPARATOR, ERROR, 1),
	NC("550 5.7.1 complete", RCPT, MULTILINE_CUT),
	N("451-4.3.0 Temporary failure", RCPT, MULTILINE_CUT),
	Y("451-4.3.0 Temporary failure", RCPT, MULTILINE_SEPARATOR, ERROR, 1),

	Y("550 5.7.1 a\r\n550 5.7.1 b", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	Y("550-5.7.1 a", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	Y("550-", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	Y("550-5.7.1 a\r\n550-5.7.1 b", OTHER, MULTILINE_SEPARATOR, ERROR, 2),
	Y("550-a\r\n550-b\r\n550-c", OTHER, MULTILINE_SEPARATOR, ERROR, 3),
	Y("550 a\n550-b", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	Y("550x\r\n550 b", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	Y("550\r\n550 b", OTHER, MULTILINE_SEPARATOR, ERROR, 1),
	N(GMAIL, RCPT, MULTILINE_SEPARATOR),
	N(EHLO, HELO, MULTILINE_SEPARATOR),
	N("550-a\r\n550", OTHER, MULTILINE_SEPARATOR),
	N("550 5.7.1 x", OTHER, MULTILINE_SEPARATOR),
	N("550", OTHER, MULTILINE_SEPARATOR),
	N("550x", OTHER, MULTILINE_SEPARATOR),

	/* ---- line-too-long [error]: 512 octets with code and CRLF ---- */
	NX("550 5.7.1 {x*499}", OTHER, LINE_TOO_LONG),		/* 511 */
	NX("550 5.7.1 {x*500}", OTHER, LINE_TOO_LONG),		/* 512 */
	NX("550 5.7.1 {x*500}\r\n", OTHER, LINE_TOO_LONG),	/* 512 */
	YX("550 5.7.1 {x*501}", OTHER, LINE_TOO_LONG, ERROR, 1),	/* 513 */
	YX("550 5.7.1 {x*501}\n", OTHER, LINE_TOO_LONG, ERROR, 1),
	NX("550 {x*506}", OTHER, LINE_TOO_LONG),			/* 512 */
	YX("550 {x*507}", OTHER, LINE_TOO_LONG, ERROR, 1),	/* 513 */
	YX("550-5.7.1 a\r\n550 5.7.1 {x*501}", OTHER, LINE_TOO_LONG, ERROR, 2),
	YX("550 5.7.1 {x*10000}", OTHER, LINE_TOO_LONG, ERROR, 1),
	/* milter: also at most 980 bytes of text once '%' is doubled */
	NXM("550 5.7.1 {%*490}", RCPT, LINE_TOO_LONG),		/* 980 */
	YXM("550 5.7.1 {%*490}a", RCPT, LINE_TOO_LONG, ERROR, 1),	/* 981 */
	NX("550 5.7.1 {%*490}a", RCPT, LINE_TOO_LONG),		/* wire: 503 */
	NXM("550 5.7.1 {%*480}{x*20}", RCPT, LINE_TOO_LONG),	/* 980 */
	YXM("550 5.7.1 {%*481}{x*19}", RCPT, LINE_TOO_LONG, ERROR, 1), /* 981 */
	YXM("550 5.7.1 {%*500}", RCPT, LINE_TOO_LONG, ERROR, 1),	/* 1000 */
	NX("550 5.7.1 {%*500}", RCPT, LINE_TOO_LONG),		/* wire: 512 */
	NXM("550 5.7.1 {x*500}", RCPT, LINE_TOO_LONG),
	YXM("550 5.7.1 {x*501}", RCPT, LINE_TOO_LONG, ERROR, 1),	/* 513 */
	YXM("550-5.7.1 a\r\n550 5.7.1 {%*491}", RCPT, LINE_TOO_LONG, ERROR, 2),

	/* ---- too-many-lines [error]: milter context, over 32 ---- */
	NXM("{550-5.7.1 a\r\n*31}550 5.7.1 a", RCPT, TOO_MANY_LINES),	/* 32 */
	YXM("{550-5.7.1 a\r\n*32}550 5.7.1 a", RCPT, TOO_MANY_LINES, ERROR, 33),
	YXM("{550-5.7.1 a\r\n*99}550 5.7.1 a", RCPT, TOO_MANY_LINES, ERROR, 33),
	NX("{550-5.7.1 a\r\n*32}550 5.7.1 a", RCPT, TOO_MANY_LINES),	/* wire */
	NX("{550-5.7.1 a\r\n*999}550 5.7.1 a", RCPT, TOO_MANY_LINES),
	NM("550 5.7.1 a", RCPT, TOO_MANY_LINES),

	/* ---- text-bad-char [error] ---- */
	YL("550 5.7.1 a\0b", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	YL("550 5.7.1 \0", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550 5.7.1 a\rb", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	/* Parts may carry a code that is 3 bytes but not 3 digits (fuzzer). */
	YP("5l5", NULL, "x", OTHER, CODE_SYNTAX, ERROR, 1),
	YP("5l5", "4.7.1", "x", OTHER, CODE_SYNTAX, ERROR, 1),
	YP("550", "5.7.1", "a\nb", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	YP("550", "5.7.1", "a\rb", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	YP("550", "5.7.1", "a\r\nb", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550 5.7.1 a\x01" "b", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550 5.7.1 a\x7f" "b", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550 5.7.1 a\x1b[0m", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550 5.7.1 a\x1f", OTHER, TEXT_BAD_CHAR, ERROR, 1),
	Y("550-5.7.1 a\r\n550 5.7.1 b\x01", OTHER, TEXT_BAD_CHAR, ERROR, 2),
	N("550 5.7.1 a\tb", OTHER, TEXT_BAD_CHAR),
	N("550 5.7.1 \ta\t", OTHER, TEXT_BAD_CHAR),
	N("550 5.7.1 caf\xc3\xa9", OTHER, TEXT_BAD_CHAR),
	N("550 5.7.1 x\r\n", OTHER, TEXT_BAD_CHAR),
	N("550 5.7.1 x\n", OTHER, TEXT_BAD_CHAR),
	N("550 5.7.1 ~ !", OTHER, TEXT_BAD_CHAR),

	/* ---- text-non-ascii [warning] ---- */
	Y("550 5.7.1 caf\xc3\xa9", OTHER, TEXT_NON_ASCII, WARNING, 1),
	NU("550 5.7.1 caf\xc3\xa9", OTHER, TEXT_NON_ASCII),
	NU("550 5.7.1 \xe2\x82\xac 5 \xf0\x9f\x98\x80", OTHER, TEXT_NON_ASCII),
	Y("550 5.7.1 caf\xe9", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 caf\xe9", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 caf\xc3", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 \xa9 x", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 \xc0\xaf", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 \xed\xa0\x80", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 \xf4\x90\x80\x80", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 \xff", OTHER, TEXT_NON_ASCII, WARNING, 1),
	YU("550 5.7.1 ok \xc3\xa9 then \xe9", OTHER, TEXT_NON_ASCII, WARNING, 1),
	Y("550-5.7.1 a\r\n550 5.7.1 caf\xc3\xa9", OTHER, TEXT_NON_ASCII, WARNING, 2),
	N("550 5.7.1 a\x7f" "b", OTHER, TEXT_NON_ASCII),
	N("550 5.7.1 plain ~", OTHER, TEXT_NON_ASCII),

	/* ---- text-empty [warning] ---- */
	Y("550 5.7.1", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550 ", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550 5.7.1    ", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550 5.7.1 \t ", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550-5.7.1\r\n550 5.7.1", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("550-", OTHER, TEXT_EMPTY, WARNING, 1),
	Y("", OTHER, TEXT_EMPTY, WARNING, 1),
	YP("550", "5.7.1", "", OTHER, TEXT_EMPTY, WARNING, 1),
	N("550 5.7.1 x", OTHER, TEXT_EMPTY),
	N("550-5.7.1\r\n550 5.7.1 x", OTHER, TEXT_EMPTY),
	N("550-5.7.1 x\r\n550 5.7.1", OTHER, TEXT_EMPTY),
	N("550 5.7.1text", OTHER, TEXT_EMPTY),
	N("550 x", OTHER, TEXT_EMPTY),

	/* ---- phase-unexpected-code [warning] ---- */
	Y("554 5.7.1 x", RCPT, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("221 2.0.0 bye", RCPT, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("354 go ahead", RCPT, PHASE_UNEXPECTED_CODE, INFO, 1),
	N("550 5.7.1 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("250 2.1.5 ok", RCPT, PHASE_UNEXPECTED_CODE),
	N("251 2.1.5 ok", RCPT, PHASE_UNEXPECTED_CODE),
	N("450 4.2.0 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("451 4.7.1 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("452 4.3.1 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("455 4.0.0 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("551 5.1.6 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("552 5.2.2 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("553 5.1.3 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("555 5.5.4 x", RCPT, PHASE_UNEXPECTED_CODE),
	/* 421 and 500-504 anywhere */
	N("421 4.3.0 x", CONNECT, PHASE_UNEXPECTED_CODE),
	N("421 4.3.0 x", HELO, PHASE_UNEXPECTED_CODE),
	N("421 4.3.0 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("421 4.3.0 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("421 4.3.0 x", DATA, PHASE_UNEXPECTED_CODE),
	N("421 4.3.0 x", EOM, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", CONNECT, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", HELO, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", DATA, PHASE_UNEXPECTED_CODE),
	N("503 5.5.1 x", EOM, PHASE_UNEXPECTED_CODE),
	N("500 5.5.2 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("501 5.5.4 x", EOM, PHASE_UNEXPECTED_CODE),
	N("502 5.5.1 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("504 5.5.4 x", CONNECT, PHASE_UNEXPECTED_CODE),
	/* connect */
	Y("250 ok", CONNECT, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("550 go away", CONNECT, PHASE_UNEXPECTED_CODE, INFO, 1),
	N("220 mx.example.com ESMTP", CONNECT, PHASE_UNEXPECTED_CODE),
	N("554 no service", CONNECT, PHASE_UNEXPECTED_CODE),
	/* helo */
	N(EHLO, HELO, PHASE_UNEXPECTED_CODE),
	N("504 x", HELO, PHASE_UNEXPECTED_CODE),
	N("550 x", HELO, PHASE_UNEXPECTED_CODE),
	N("502 x", HELO, PHASE_UNEXPECTED_CODE),
	Y("554 x", HELO, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("220 x", HELO, PHASE_UNEXPECTED_CODE, INFO, 1),
	/* mail */
	N("250 2.1.0 ok", MAIL, PHASE_UNEXPECTED_CODE),
	N("552 5.3.4 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("451 4.7.1 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("452 4.3.1 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("550 5.7.1 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("553 5.1.7 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("455 4.0.0 x", MAIL, PHASE_UNEXPECTED_CODE),
	N("555 5.5.4 x", MAIL, PHASE_UNEXPECTED_CODE),
	Y("551 5.7.1 x", MAIL, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("251 2.0.0 x", MAIL, PHASE_UNEXPECTED_CODE, INFO, 1),
	/* data, eom */
	N("354 go ahead", DATA, PHASE_UNEXPECTED_CODE),
	N("554 5.7.1 x", DATA, PHASE_UNEXPECTED_CODE),
	Y("551 5.7.1 x", DATA, PHASE_UNEXPECTED_CODE, INFO, 1),
	N("250 2.0.0 queued", EOM, PHASE_UNEXPECTED_CODE),
	N("550 5.7.1 x", EOM, PHASE_UNEXPECTED_CODE),
	N("552 5.3.4 x", EOM, PHASE_UNEXPECTED_CODE),
	N("554 5.7.1 x", EOM, PHASE_UNEXPECTED_CODE),
	N("451 4.7.1 x", EOM, PHASE_UNEXPECTED_CODE),
	N("452 4.3.1 x", EOM, PHASE_UNEXPECTED_CODE),
	N("450 4.7.1 x", EOM, PHASE_UNEXPECTED_CODE),
	Y("251 2.0.0 x", EOM, PHASE_UNEXPECTED_CODE, INFO, 1),
	Y("553 5.0.0 x", EOM, PHASE_UNEXPECTED_CODE, INFO, 1),
	/* other: anything goes; non-standard and invalid codes are not judged */
	N("250 ok", OTHER, PHASE_UNEXPECTED_CODE),
	N("554 5.7.1 x", OTHER, PHASE_UNEXPECTED_CODE),
	N("354 go", OTHER, PHASE_UNEXPECTED_CODE),
	N("557 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("572 x", RCPT, PHASE_UNEXPECTED_CODE),
	N("101 x", RCPT, PHASE_UNEXPECTED_CODE),

	/* ---- milter-code-class [error] ---- */
	YM("250 ok", RCPT, MILTER_CODE_CLASS, ERROR, 1),
	YM("354 go ahead", DATA, MILTER_CODE_CLASS, ERROR, 1),
	YM("221 bye", OTHER, MILTER_CODE_CLASS, ERROR, 1),
	YM("", OTHER, MILTER_CODE_CLASS, ERROR, 1),
	YM("abc", OTHER, MILTER_CODE_CLASS, ERROR, 1),
	YM("650 x", OTHER, MILTER_CODE_CLASS, ERROR, 1),
	YM("101 x", OTHER, MILTER_CODE_CLASS, ERROR, 1),
	NM("550 5.7.1 x", RCPT, MILTER_CODE_CLASS),
	NM("421 4.3.0 x", RCPT, MILTER_CODE_CLASS),
	NM("451 4.7.1 x", RCPT, MILTER_CODE_CLASS),
	NM("557 5.7.1 x", RCPT, MILTER_CODE_CLASS),
	N("250 ok", RCPT, MILTER_CODE_CLASS),
	N("354 go ahead", DATA, MILTER_CODE_CLASS),
};

static const char *const ph_names[] = {
	"connect", "helo", "mail", "rcpt", "data", "eom", "other"
};

static void row_reply(struct tu_reply *t, const struct row *row, char **spec)
{
	struct sr_options o;

	tu_options(&o, row->ph, row->ctx, row->utf8, NULL);
	o.may_be_cut = row->cut;
	*spec = NULL;
	if (row->pcode != NULL) {
		tu_parts(t, row->pcode, row->penh, &row->ptext, 1, &o);
	} else if (row->x) {
		size_t len;

		*spec = tu_expand(row->in, strlen(row->in), &len);
		tu_wire(t, *spec, len, &o);
	} else {
		tu_wire(t, row->in, row->len ? row->len : strlen(row->in), &o);
	}
}

START_TEST(check_table)
{
	const struct row *row = &rows[_i];
	struct tu_reply t;
	struct sr_normalized n;
	char prefix[96];
	char *spec;

	snprintf(prefix, sizeof prefix, "row %d (%s %s at %s)", _i,
		 row->present ? "expect" : "expect no",
		 sr_diag_name(row->id) ? sr_diag_name(row->id) : "?",
		 ph_names[row->ph]);
	row_reply(&t, row, &spec);

	TU_NO_PROBLEM(tu_diag_problem(&t, prefix, row->id, row->present,
				      row->present ? (int)row->sev : -1,
				      row->line));
	TU_NO_PROBLEM(tu_check_problem(&t, prefix));

	/* property: a fixable reply normalizes to one with no error */
	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	if (n.status == SR_NORM_OK)
		TU_NO_PROBLEM(tu_props_problem(&t, prefix, &n));
	else
		TU_NO_PROBLEM(tu_norm_problem(&t, prefix, &n, SR_NORM_UNFIXABLE, NULL, 0));
	sr_normalized_release(&n);
	tu_release(&t);
	free(spec);
}
END_TEST

/* Every id has a present and an absent row. */
START_TEST(check_table_coverage)
{
	bool yes[SR_D__COUNT] = { false }, no[SR_D__COUNT] = { false };
	size_t i;

	for (i = 0; i < NROWS(rows); i++) {
		if (rows[i].present)
			yes[rows[i].id] = true;
		else
			no[rows[i].id] = true;
	}
	for (i = 0; i < SR_D__COUNT; i++) {
		ck_assert_msg(yes[i], "no row expects %s", sr_diag_name((enum sr_diag_id)i));
		ck_assert_msg(no[i], "no row expects no %s", sr_diag_name((enum sr_diag_id)i));
	}
}
END_TEST

/* ---- counts (lines or bytes) ---------------------------------------- */

struct count_row {
	const char *in;
	bool x;
	enum sr_diag_id id;
	unsigned line;
	unsigned count;
};

static const struct count_row count_rows[] = {
	{ "550-5.7.1 a\x01\x02\r\n550 5.7.1 b\x03", false, SR_D_TEXT_BAD_CHAR, 1, 3 },
	{ "550-5.7.1 ok\r\n550 5.7.1 a\x01\x02", false, SR_D_TEXT_BAD_CHAR, 2, 2 },
	{ "550 5.7.1 caf\xc3\xa9 \xff", false, SR_D_TEXT_NON_ASCII, 1, 3 },
	{ "550-5.7.1 a\r\n551-5.7.1 b\r\n552 5.7.1 c", false, SR_D_MULTILINE_CODE_MISMATCH, 2, 2 },
	{ "550-5.7.1 a\r\n550-5.7.2 b\r\n550 5.7.3 c", false, SR_D_MULTILINE_ENHANCED_MISMATCH, 2, 2 },
	{ "550 a\r\n550 b\r\n550-c", false, SR_D_MULTILINE_SEPARATOR, 1, 3 },
	{ "{550-5.7.1 {x*501}\r\n*2}550 5.7.1 ok", true, SR_D_LINE_TOO_LONG, 1, 2 },
	{ "550-5.7.1 ok\r\n{550-5.7.1 {x*501}\r\n*3}550 5.7.1 ok", true, SR_D_LINE_TOO_LONG, 2, 3 },
};

START_TEST(check_counts)
{
	const struct count_row *row = &count_rows[_i];
	struct tu_reply t;
	const struct sr_diag *d;
	char *in = NULL;
	char prefix[32];

	snprintf(prefix, sizeof prefix, "count row %d", _i);
	if (row->x) {
		size_t len;

		in = tu_expand(row->in, strlen(row->in), &len);
		tu_wire(&t, in, len, NULL);
	} else {
		tu_wire_str(&t, row->in, NULL);
	}
	TU_NO_PROBLEM(tu_diag_problem(&t, prefix, row->id, true, -1, row->line));
	d = sr_check_find(&t.chk, row->id);
	TU_ASSERT(&t, d->count == row->count, "%s: %s count %u, expected %u",
		  prefix, sr_diag_name(row->id), d->count, row->count);
	TU_NO_PROBLEM(tu_check_problem(&t, prefix));
	tu_release(&t);
	free(in);
}
END_TEST

/*
 * ---- one special byte at every offset of a text ----------------------
 * The text scanners skip plain ASCII 8 bytes at a time: a byte that is
 * not plain must be found wherever it sits in (or after) a word.
 */
static const unsigned char odd_bytes[] = {
	0x00, 0x01, 0x09, 0x1f, 0x7f, 0x80, 0xc3, 0xff, '%', ' ', '~'
};
#define ODD_TEXT_LEN 40

START_TEST(check_byte_at_every_offset)
{
	unsigned char b = odd_bytes[_i / ODD_TEXT_LEN];
	size_t pos = (size_t)(_i % ODD_TEXT_LEN), i;
	char in[10 + ODD_TEXT_LEN], want;
	struct sr_options o = { SR_PHASE_RCPT, SR_CONTEXT_WIRE, false, NULL, false };
	struct sr_normalized n;
	const struct sr_diag *bad, *high;
	struct tu_reply t;

	memcpy(in, "550 5.7.1 ", 10);
	memset(in + 10, 'a', ODD_TEXT_LEN);
	in[10 + pos] = (char)b;
	tu_wire(&t, in, sizeof(in), &o);
	bad = sr_check_find(&t.chk, SR_D_TEXT_BAD_CHAR);
	high = sr_check_find(&t.chk, SR_D_TEXT_NON_ASCII);
	if ((b < 0x20 && b != 0x09) || b == 0x7f)
		TU_ASSERT(&t, bad != NULL && bad->count == 1 && high == NULL,
			  "byte 0x%02x at %zu: want one text-bad-char", b, pos);
	else if (b >= 0x80)
		TU_ASSERT(&t, high != NULL && high->count == 1 && bad == NULL,
			  "byte 0x%02x at %zu: want one text-non-ascii", b, pos);
	else
		TU_ASSERT(&t, bad == NULL && high == NULL,
			  "byte 0x%02x at %zu: want no text diagnostic", b, pos);
	tu_normalize(&t, &n);
	TU_ASSERT(&t, n.status == SR_NORM_OK, "byte 0x%02x at %zu: not normalized",
		  b, pos);
	want = (b < 0x20 && b != 0x09) || b == 0x7f ? ' ' :
	    b >= 0x80 ? '?' : (char)b;
	if ((pos == ODD_TEXT_LEN - 1 || pos == 0) && (want == ' ' || b == 0x09))
		TU_ASSERT(&t, n.wire_len == 10 + ODD_TEXT_LEN - 1,
			  "byte 0x%02x at %zu: leading or trailing blank kept",
			  b, pos);
	else
		TU_ASSERT(&t, n.wire_len == 10 + ODD_TEXT_LEN &&
			  n.wire[10 + pos] == want,
			  "byte 0x%02x at %zu: normalized to 0x%02x", b, pos,
			  (unsigned char)n.wire[10 + pos]);
	for (i = 0; i < ODD_TEXT_LEN && i < n.wire_len - 10; i++)
		if (i != pos)
			TU_ASSERT(&t, n.wire[10 + i] == 'a',
				  "byte 0x%02x at %zu: byte %zu changed", b, pos, i);
	sr_normalized_release(&n);
	tu_release(&t);
}
END_TEST

/*
 * '%' is doubled for libmilter: 500 bytes of text fit a wire line; with
 * 480 '%' they make 980 escaped bytes (fits), with 481, 981 (too long).
 * The block of other bytes moves through every alignment.
 */
START_TEST(check_percent_at_every_offset)
{
	size_t pos = (size_t)(_i / 2), npct = _i % 2 ? 481 : 480, i, k;
	struct sr_options o = { SR_PHASE_RCPT, SR_CONTEXT_MILTER, false, NULL, false };
	char in[10 + 500];
	struct tu_reply t;
	bool too_long;

	memcpy(in, "550 5.7.1 ", 10);
	for (i = 0, k = 0; i < 500; i++)
		in[10 + i] = i >= pos && i < pos + 500 - npct ? 'a' : '%';
	for (i = 0; i < 500; i++)
		k += in[10 + i] == '%';
	ck_assert_uint_eq(k, npct);
	tu_wire(&t, in, sizeof(in), &o);
	too_long = sr_check_find(&t.chk, SR_D_LINE_TOO_LONG) != NULL;
	TU_ASSERT(&t, too_long == (npct == 481),
		  "%zu '%%' from offset %zu: line-too-long %s", npct, pos,
		  too_long ? "reported" : "not reported");
	tu_release(&t);
}
END_TEST

/* ---- severity counters on whole replies ----------------------------- */

struct sev_row {
	const char *in;
	enum sr_phase ph;
	unsigned errors, warnings, infos;
};

static const struct sev_row sev_rows[] = {
	{ "554 5.7.1 [info]", SR_PHASE_RCPT, 0, 0, 2 },
	{ "550 4.7.1 x", SR_PHASE_RCPT, 1, 0, 0 },
	{ "557 x", SR_PHASE_RCPT, 0, 2, 0 },
	{ "550 blocked", SR_PHASE_RCPT, 0, 1, 0 },
	{ POSTFIX, SR_PHASE_RCPT, 0, 0, 0 },
	{ GMAIL, SR_PHASE_RCPT, 0, 0, 0 },
	{ EHLO, SR_PHASE_HELO, 0, 0, 0 },
	{ "220 mx.example.com ESMTP Postfix\r\n", SR_PHASE_CONNECT, 0, 0, 0 },
	{ "354 End data with <CR><LF>.<CR><LF>\r\n", SR_PHASE_DATA, 0, 0, 0 },
	{ "421 4.7.0 Try again later, closing connection.", SR_PHASE_RCPT, 0, 0, 1 },
	{ "553 5.1.8 <a@b>... Domain of sender address a@b does not exist", SR_PHASE_MAIL, 0, 0, 1 },
	{ "550 5.7.606 Access denied, banned sending IP [1.2.3.4].", SR_PHASE_RCPT, 0, 1, 0 },
	{ "250 2.0.0 Ok: queued as 4Q1x2y3z", SR_PHASE_EOM, 0, 0, 0 },
	{ "550 4.7.1 x\r\n551 5.7.1 y", SR_PHASE_RCPT, 4, 0, 0 },
};

START_TEST(check_severity_counters)
{
	const struct sev_row *row = &sev_rows[_i];
	struct sr_options o;
	struct tu_reply t;

	tu_options(&o, row->ph, SR_CONTEXT_WIRE, false, NULL);
	tu_wire_str(&t, row->in, &o);
	TU_ASSERT(&t, t.chk.errors == row->errors && t.chk.warnings == row->warnings &&
		  t.chk.infos == row->infos,
		  "sev row %d: %u/%u/%u errors/warnings/infos, expected %u/%u/%u",
		  _i, t.chk.errors, t.chk.warnings, t.chk.infos, row->errors,
		  row->warnings, row->infos);
	TU_NO_PROBLEM(tu_check_problem(&t, "severity counters"));
	tu_release(&t);
}
END_TEST

/* A reply with every problem at once still reports each id once. */
START_TEST(check_each_id_once)
{
	static const char spec[] =
		"{557 4.01 caf\xc3\xa9\x01\r\n*3}558-5.7.99 \xff\r\n557-{%*600}\r\n"
		"{557 5.1.1\r\n*40}";
	size_t len;
	char *in = tu_expand(spec, TU_LEN(spec), &len);
	struct sr_options o;
	struct tu_reply t;

	tu_options(&o, SR_PHASE_MAIL, SR_CONTEXT_MILTER, false, NULL);
	tu_wire(&t, in, len, &o);
	TU_NO_PROBLEM(tu_check_problem(&t, "every problem"));
	TU_ASSERT(&t, t.chk.errors >= 5, "every problem: only %u errors", t.chk.errors);
	tu_release(&t);
	free(in);
}
END_TEST

/* Every diagnostic carries the reply's basic code (0 if none), as diag.h says. */
static const struct {
	const char *in;
	enum sr_phase ph;
	unsigned code;
} code_field_rows[] = {
	{ "560 x", SR_PHASE_RCPT, 560 },
	{ "557 x", SR_PHASE_RCPT, 557 },
	{ "200 ok", SR_PHASE_OTHER, 200 },
	{ "422 full", SR_PHASE_OTHER, 422 },
	{ "510 bad address", SR_PHASE_RCPT, 510 },
	{ "550 4.7.1 x\r\n551 5.7.1 \x01", SR_PHASE_RCPT, 550 },
	{ "554 5.7.1 [info]", SR_PHASE_RCPT, 554 },
	{ "55 4.7.1 x", SR_PHASE_RCPT, 0 },
	{ "abc", SR_PHASE_RCPT, 0 },
};

START_TEST(check_code_field)
{
	struct sr_options o;
	struct tu_reply t;
	size_t i;

	tu_options(&o, code_field_rows[_i].ph, SR_CONTEXT_WIRE, false, NULL);
	tu_wire_str(&t, code_field_rows[_i].in, &o);
	TU_ASSERT(&t, t.chk.ndiags > 0, "no diagnostics");
	for (i = 0; i < t.chk.ndiags; i++)
		TU_ASSERT(&t, t.chk.diags[i].code == code_field_rows[_i].code,
			  "%s carries code %u, the reply's code is %u",
			  sr_diag_name(t.chk.diags[i].id), t.chk.diags[i].code,
			  code_field_rows[_i].code);
	tu_release(&t);
}
END_TEST

/* NULL options: wire context, phase other. */
START_TEST(check_null_options)
{
	struct sr_reply r;
	struct sr_check c;

	ck_assert_int_eq(sr_reply_parse(&r, "250 ok", 6), 0);
	sr_check(&r, NULL, &c);
	/* at "other" 250 is expected, enhanced code missing is a warning */
	ck_assert_ptr_nonnull(sr_check_find(&c, SR_D_ENHANCED_MISSING));
	ck_assert_ptr_null(sr_check_find(&c, SR_D_PHASE_UNEXPECTED_CODE));
	ck_assert_ptr_null(sr_check_find(&c, SR_D_MILTER_CODE_CLASS));
	ck_assert_uint_eq(c.errors, 0);
	sr_reply_release(&r);
}
END_TEST

/* ---- names, lookup, severities, messages ---------------------------- */

static const struct {
	enum sr_diag_id id;
	const char *name;
	enum sr_severity sev;
} names[] = {
	{ SR_D_CODE_SYNTAX, "code-syntax", SR_SEV_ERROR },
	{ SR_D_CODE_NONSTANDARD, "code-nonstandard", SR_SEV_WARNING },
	{ SR_D_ENHANCED_SYNTAX, "enhanced-syntax", SR_SEV_ERROR },
	{ SR_D_ENHANCED_LEADING_ZERO, "enhanced-leading-zero", SR_SEV_ERROR },
	{ SR_D_ENHANCED_CLASS_MISMATCH, "enhanced-class-mismatch", SR_SEV_ERROR },
	{ SR_D_ENHANCED_NOT_ALLOWED, "enhanced-not-allowed", SR_SEV_ERROR },
	{ SR_D_ENHANCED_MISSING, "enhanced-missing", SR_SEV_WARNING },
	{ SR_D_ENHANCED_UNREGISTERED, "enhanced-unregistered", SR_SEV_WARNING },
	{ SR_D_ENHANCED_UNASSOCIATED, "enhanced-unassociated", SR_SEV_INFO },
	{ SR_D_ENHANCED_PHASE, "enhanced-phase", SR_SEV_WARNING },
	{ SR_D_MULTILINE_CODE_MISMATCH, "multiline-code-mismatch", SR_SEV_ERROR },
	{ SR_D_MULTILINE_ENHANCED_MISMATCH, "multiline-enhanced-mismatch", SR_SEV_ERROR },
	{ SR_D_MULTILINE_SEPARATOR, "multiline-separator", SR_SEV_ERROR },
	{ SR_D_LINE_TOO_LONG, "line-too-long", SR_SEV_ERROR },
	{ SR_D_TOO_MANY_LINES, "too-many-lines", SR_SEV_ERROR },
	{ SR_D_TEXT_BAD_CHAR, "text-bad-char", SR_SEV_ERROR },
	{ SR_D_TEXT_NON_ASCII, "text-non-ascii", SR_SEV_WARNING },
	{ SR_D_TEXT_EMPTY, "text-empty", SR_SEV_WARNING },
	{ SR_D_PHASE_UNEXPECTED_CODE, "phase-unexpected-code", SR_SEV_INFO },
	{ SR_D_MILTER_CODE_CLASS, "milter-code-class", SR_SEV_ERROR },
	{ SR_D_CODE_MISSING, "code-missing", SR_SEV_ERROR },
	{ SR_D_SEPARATOR_BLANKS, "separator-blanks", SR_SEV_WARNING },
	{ SR_D_MULTILINE_CUT, "multiline-cut", SR_SEV_INFO },
};

START_TEST(diag_names)
{
	enum sr_diag_id id = names[_i].id;
	const char *name = sr_diag_name(id);

	ck_assert_int_eq(SR_D__COUNT, 23);
	ck_assert_int_eq((int)id, _i);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, names[_i].name);
	ck_assert_int_eq(sr_diag_lookup(names[_i].name), (int)id);
	ck_assert_int_eq(sr_diag_lookup(name), (int)id);
	ck_assert_int_eq((int)sr_diag_severity(id), (int)names[_i].sev);
}
END_TEST

START_TEST(diag_names_misc)
{
	ck_assert_ptr_null(sr_diag_name(SR_D__COUNT));
	ck_assert_ptr_null(sr_diag_name((enum sr_diag_id)999));
	ck_assert_ptr_null(sr_diag_name((enum sr_diag_id)-1));
	ck_assert_int_eq(sr_diag_lookup("no-such-id"), -1);
	ck_assert_int_eq(sr_diag_lookup(""), -1);
	ck_assert_int_eq(sr_diag_lookup("code-syntax "), -1);
	ck_assert_int_eq(sr_diag_lookup("code"), -1);
	ck_assert_str_eq(sr_severity_name(SR_SEV_ERROR), "error");
	ck_assert_str_eq(sr_severity_name(SR_SEV_WARNING), "warning");
	ck_assert_str_eq(sr_severity_name(SR_SEV_INFO), "info");
	ck_assert_str_eq(sr_context_name(SR_CONTEXT_WIRE), "wire");
	ck_assert_str_eq(sr_context_name(SR_CONTEXT_MILTER), "milter");
}
END_TEST

/* sr_diag_format: a message for every id, snprintf-like, printable. */
START_TEST(diag_format_every_id)
{
	struct sr_diag d;
	char buf[1024], small[8], none[4] = { 'Z', 'Z', 'Z', 'Z' };
	size_t len, i;

	memset(&d, 0, sizeof d);
	d.id = (enum sr_diag_id)_i;
	d.line = 2;
	d.count = 3;
	d.code = 550;
	memcpy(d.token, "5.7\x01\xff\x1b", 7);
	memcpy(d.want, "5.7.1", 6);

	len = sr_diag_format(&d, buf, sizeof buf);
	ck_assert_msg(len > 0 && buf[0] != '\0', "%s: empty message",
		      sr_diag_name(d.id));
	ck_assert_msg(len < sizeof buf && strlen(buf) == len,
		      "%s: returned %zu, message has %zu bytes", sr_diag_name(d.id),
		      len, strlen(buf));
	for (i = 0; i < len; i++)
		ck_assert_msg((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] != 0x7f,
			      "%s: byte 0x%02x at %zu in \"%s\" is not printable",
			      sr_diag_name(d.id), (unsigned char)buf[i], i, buf);

	/* truncation: NUL-terminated, full length returned */
	ck_assert_uint_eq(sr_diag_format(&d, small, sizeof small), len);
	ck_assert_msg(memchr(small, '\0', sizeof small) != NULL, "not NUL-terminated");
	ck_assert_int_eq(strncmp(small, buf, strlen(small)), 0);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	/* size 0: nothing written */
	ck_assert_uint_eq(sr_diag_format(&d, none, 0), len);
	ck_assert_int_eq(none[0], 'Z');
	/* size 1: just the NUL */
	ck_assert_uint_eq(sr_diag_format(&d, none, 1), len);
	ck_assert_int_eq(none[0], '\0');
	ck_assert_int_eq(none[1], 'Z');
}
END_TEST

/* The message names what servers mean by a known non-standard code. */
static const struct {
	const char *in;
	enum sr_diag_id id;
	const char *word;
} meaning_rows[] = {
	{ "557 5.7.1 slow down", SR_D_CODE_NONSTANDARD, "duplicate" },
	{ "572 5.7.1 not here", SR_D_CODE_SYNTAX, "relay" },
	{ "420 4.4.2 x", SR_D_CODE_NONSTANDARD, "timeout" },
};

START_TEST(diag_format_meaning)
{
	struct tu_reply t;
	const struct sr_diag *d;
	char buf[1024];

	tu_wire_str(&t, meaning_rows[_i].in, NULL);
	d = sr_check_find(&t.chk, meaning_rows[_i].id);
	TU_ASSERT(&t, d != NULL, "%s not reported", sr_diag_name(meaning_rows[_i].id));
	sr_diag_format(d, buf, sizeof buf);
	TU_ASSERT(&t, tu_contains_ci(buf, meaning_rows[_i].word),
		  "the %s message \"%s\" does not say \"%s\"",
		  sr_diag_name(meaning_rows[_i].id), buf, meaning_rows[_i].word);
	tu_release(&t);
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc;

	tc = tcase_create("diagnostics");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, check_table, 0, (int)NROWS(rows));
	tcase_add_test(tc, check_table_coverage);
	tcase_add_loop_test(tc, check_counts, 0, (int)NROWS(count_rows));
	tcase_add_loop_test(tc, check_byte_at_every_offset, 0,
			    (int)(sizeof(odd_bytes) * ODD_TEXT_LEN));
	tcase_add_loop_test(tc, check_percent_at_every_offset, 0, 2 * 20);
	tcase_add_loop_test(tc, check_severity_counters, 0, (int)NROWS(sev_rows));
	tcase_add_test(tc, check_each_id_once);
	tcase_add_test(tc, check_null_options);
	tcase_add_loop_test(tc, check_code_field, 0, (int)NROWS(code_field_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, diag_names, 0, (int)NROWS(names));
	tcase_add_test(tc, diag_names_misc);
	tcase_add_loop_test(tc, diag_format_every_id, 0, SR_D__COUNT);
	tcase_add_loop_test(tc, diag_format_meaning, 0, (int)NROWS(meaning_rows));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(check_suite());
}
