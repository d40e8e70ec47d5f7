/*
 * SPDX-License-Identifier: ISC
 * test_normalize.c - every normalization rule, exact wire output.
 *
 * The expectations come from issue #2 ("Normalize") as refined by
 * notes/engine-semantics.md ("Normalize"): the shipped non-standard map
 * and default enhanced codes, the registry's sample texts, the address
 * code table of reply-codes.md section 3. Every row also checks that the
 * result checks with no error and normalizes to itself.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"


/* ---- policies --------------------------------------------------------- */

enum {
	POL_SHIPPED = 0,	/* NULL: the shipped tables */
	POL_450_420,		/* default of 450 is 4.2.0 */
	POL_557_554,		/* 557 -> 554 5.7.1 */
	POL_420_450,		/* 420 -> 450, 450's default */
	POL_250_200,		/* default of 250 is 2.0.0, no phase defaults */
	POL_554_530,		/* default of 554 is 5.3.0 */
	POL__COUNT
};

static const struct sr_policy *policy(int i)
{
	static struct sr_policy p[POL__COUNT];
	static bool done;

	if (i == POL_SHIPPED)
		return NULL;
	if (!done) {
		int k;

		for (k = 1; k < POL__COUNT; k++)
			sr_policy_init(&p[k]);
		ck_assert_int_eq(sr_policy_set_default(&p[POL_450_420], 450, "4.2.0"), 0);
		ck_assert_int_eq(sr_policy_set_replacement(&p[POL_557_554], 557, 554, "5.7.1"), 0);
		ck_assert_int_eq(sr_policy_set_replacement(&p[POL_420_450], 420, 450, NULL), 0);
		ck_assert_int_eq(sr_policy_set_default(&p[POL_250_200], 250, "2.0.0"), 0);
		ck_assert_int_eq(sr_policy_set_default(&p[POL_554_530], 554, "5.3.0"), 0);
		done = true;
	}
	return &p[i];
}

/* ---- the table -------------------------------------------------------- */

struct nrow {
	const char *in;		/* wire input (a spec when x) */
	size_t len;		/* 0: strlen(in) */
	bool x;			/* expand "{UNIT*N}" in IN and OUT */
	const char *pcode;	/* non-NULL: build from parts */
	const char *penh;
	const char *ptext;
	enum sr_phase ph;
	enum sr_context ctx;
	bool utf8;
	int pol;
	enum sr_norm_status st;
	const char *out;	/* expected wire form; NULL: properties only */
	const char *changes;	/* NULL: not checked; "": none; "a,b": present */
};

#define W_(in_, len_, x_, ph_, ctx_, u8_, pol_, st_, out_, ch_)         \
	{ .in = (in_), .len = (len_), .x = (x_), .ph = SR_PHASE_##ph_,  \
	  .ctx = SR_CONTEXT_##ctx_, .utf8 = (u8_), .pol = (pol_),       \
	  .st = (st_), .out = (out_), .changes = (ch_) }
#define OK(in, ph, out)         W_(in, 0, false, ph, WIRE, false, 0, SR_NORM_OK, out, NULL)
#define OKC(in, ph, out, ch)    W_(in, 0, false, ph, WIRE, false, 0, SR_NORM_OK, out, ch)
#define OKM(in, ph, out)        W_(in, 0, false, ph, MILTER, false, 0, SR_NORM_OK, out, NULL)
#define OKU(in, ph, out)        W_(in, 0, false, ph, WIRE, true, 0, SR_NORM_OK, out, NULL)
#define OKL(in, ph, out)        W_(in, TU_LEN(in), false, ph, WIRE, false, 0, SR_NORM_OK, out, NULL)
#define OKX(in, ph, out)        W_(in, 0, true, ph, WIRE, false, 0, SR_NORM_OK, out, NULL)
#define OKXC(in, ph, out, ch)   W_(in, 0, true, ph, WIRE, false, 0, SR_NORM_OK, out, ch)
#define OKXU(in, ph, out)       W_(in, 0, true, ph, WIRE, true, 0, SR_NORM_OK, out, NULL)
#define OKXM(in, ph, out)       W_(in, 0, true, ph, MILTER, false, 0, SR_NORM_OK, out, NULL)
#define OKPOL(in, ph, pol, out) W_(in, 0, false, ph, WIRE, false, pol, SR_NORM_OK, out, NULL)
#define ANY(in, ph)             W_(in, 0, false, ph, WIRE, false, 0, SR_NORM_OK, NULL, NULL)
#define ANYU(in, ph)            W_(in, 0, false, ph, WIRE, true, 0, SR_NORM_OK, NULL, NULL)
#define ANYX(in, ph)            W_(in, 0, true, ph, WIRE, false, 0, SR_NORM_OK, NULL, NULL)
#define ANYXM(in, ph)           W_(in, 0, true, ph, MILTER, false, 0, SR_NORM_OK, NULL, NULL)
#define BAD(in, ph)             W_(in, 0, false, ph, WIRE, false, 0, SR_NORM_UNFIXABLE, NULL, NULL)
#define BADM(in, ph)            W_(in, 0, false, ph, MILTER, false, 0, SR_NORM_UNFIXABLE, NULL, NULL)
#define OKP(c_, e_, t_, ph_, out_)                                      \
	{ .pcode = (c_), .penh = (e_), .ptext = (t_), .ph = SR_PHASE_##ph_, \
	  .ctx = SR_CONTEXT_WIRE, .st = SR_NORM_OK, .out = (out_) }

#define SAMPLE_571 "Delivery not authorized, message refused"
#define POSTFIX "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table"
#define SENDMAIL "553 5.1.8 <a@b>... Domain of sender address a@b does not exist"
#define GMAIL "550-5.7.1 [192.0.2.1] Our system has detected that this message is\r\n" \
	"550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n" \
	"550 5.7.1 https://support.google.com/mail/?p=UnsolicitedMessageError x1si123.45 - gsmtp"
#define EHLO "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME"

static const struct nrow rows[] = {
	/* ---- 1. the shipped non-standard map, no enhanced code ---- */
	OKC("200 ok", OTHER, "250 2.0.0 ok", "code-nonstandard,enhanced-missing"),
	OK("420 timeout", OTHER, "451 4.4.2 timeout"),
	OK("441 no answer", OTHER, "451 4.4.1 no answer"),
	OK("442 dropped", OTHER, "451 4.4.2 dropped"),
	OK("446 too many hops", OTHER, "451 4.4.6 too many hops"),
	OK("447 expired", OTHER, "451 4.4.7 expired"),
	OK("449 routing error", OTHER, "451 4.4.0 routing error"),
	OK("471 local error", OTHER, "451 4.7.1 local error"),
	OK("422 full", OTHER, "452 4.2.2 full"),
	OK("431 out of disk", OTHER, "452 4.3.1 out of disk"),
	OKC("510 bad address", RCPT, "550 5.1.1 bad address", "code-nonstandard,enhanced-missing"),
	OK("511 bad address", RCPT, "550 5.1.1 bad address"),
	OK("512 host not found", RCPT, "550 5.1.2 host not found"),
	OK("541 rejected", OTHER, "550 5.7.1 rejected"),
	OKC("557 too many duplicates", OTHER, "550 5.7.1 too many duplicates", "code-nonstandard"),
	OKC("572 relay denied", OTHER, "550 5.7.1 relay denied", "code-syntax"),
	OK("513 relaying denied", RCPT, "553 5.1.3 relaying denied"),
	/* the address codes they bring are mapped to the phase too */
	OK("511 x", MAIL, "550 5.1.0 x"),
	OK("512 x", MAIL, "550 5.1.8 x"),
	OK("513 x", MAIL, "553 5.1.7 x"),
	OK("510 x", OTHER, "550 5.1.1 x"),
	OK("510 x", EOM, "550 5.1.1 x"),
	OK("510 x", CONNECT, "550 x"),

	/* ---- 1. the map, with an enhanced code of their own ---- */
	OKC("557 5.7.1 dup", OTHER, "550 5.7.1 dup", "code-nonstandard"),
	OK("510 5.1.1 bad", RCPT, "550 5.1.1 bad"),
	OK("510 5.2.1 disabled", RCPT, "550 5.2.1 disabled"),
	OK("512 5.1.2 x", RCPT, "550 5.1.2 x"),
	OK("422 4.2.2 full", OTHER, "452 4.2.2 full"),
	OK("420 4.4.1 x", OTHER, "451 4.4.1 x"),
	OK("449 4.4.7 x", OTHER, "451 4.4.7 x"),
	OK("471 4.7.0 x", OTHER, "451 4.7.0 x"),
	OK("200 2.0.0 ok", OTHER, "250 2.0.0 ok"),
	OK("572 5.7.1 relay denied", OTHER, "550 5.7.1 relay denied"),
	OK("541 5.7.26 x", OTHER, "550 5.7.26 x"),
	/* a fixable one is usable (class set), a malformed one is not */
	OK("557 4.7.0 x", OTHER, "550 5.7.0 x"),
	OK("420 4.7 x", OTHER, "451 4.4.2 x"),
	OK("557 5.7.1.2 x", OTHER, "550 5.7.1 x"),

	/* ---- 1. other non-standard or out-of-ABNF codes ---- */
	OK("599 x", OTHER, "550 5.7.1 x"),
	OK("260 ok", OTHER, "250 2.0.0 ok"),
	OK("299 x", OTHER, "250 2.0.0 x"),
	OK("480 x", OTHER, "451 4.7.1 x"),
	OK("409 x", OTHER, "451 4.7.1 x"),
	OK("499 x", OTHER, "451 4.7.1 x"),
	OK("560 x", OTHER, "550 5.7.1 x"),
	OK("580 x", OTHER, "550 5.7.1 x"),
	/* a code cut or mistyped cannot be read: not fixable, never
	 * remnants of it in the text */
	BAD("55 x", OTHER),
	BAD("5501 x", OTHER),
	BAD("55O 5.7.1 letter O", RCPT),
	BAD("5 5 0 x", RCPT),
	BAD("550x", RCPT),
	BAD("5O0 x", RCPT),
	BAD("550-ok\r\n55O x", RCPT),
	OK("355 x", OTHER, "355 x"),
	OKM("572 relay", RCPT, "550 5.7.1 relay"),
	OKM("420 x", RCPT, "451 4.4.2 x"),

	/* ---- 1. near misses the lexer reads as meant ---- */
	/* an enhanced code and no basic code: the code from its class and
	 * the registry's association for the phase */
	OKC("5.7.1 Access denied", RCPT, "550 5.7.1 Access denied", "code-missing"),
	OKC("4.2.0 try later", RCPT, "451 4.2.0 try later", "code-missing"),
	OK("5.7.1 x", OTHER, "550 5.7.1 x"),
	OK("4.7.1 x", MAIL, "451 4.7.1 x"),
	OK("5.1.8 sender domain", MAIL, "550 5.1.8 sender domain"),
	OK("5.5.2 syntax", RCPT, "550 5.5.2 syntax"),
	OK("2.1.5 ok", RCPT, "250 2.1.5 ok"),
	OK("2.0.0 ok", EOM, "250 2.0.0 ok"),
	OK("5.01.1 x", RCPT, "550 5.1.1 x"),
	OK("5.7.1  x", RCPT, "550 5.7.1 x"),
	OK("5.1.1 x", MAIL, "550 5.1.0 x"),
	OK("5.7.1", RCPT, "550 5.7.1 " SAMPLE_571),
	OKM("5.7.1 Access denied", RCPT, "550 5.7.1 Access denied"),
	OKM("4.7.1 later", RCPT, "451 4.7.1 later"),
	BADM("2.1.5 ok", RCPT),
	BAD("5.7 x", RCPT),
	BAD("1.5 MB", RCPT),
	BAD("6.1.1 x", RCPT),
	/* runs of blanks are one separator */
	OKC("550  5.7.1 two spaces", RCPT, "550 5.7.1 two spaces", "separator-blanks"),
	OK("550\t5.7.1 tab", RCPT, "550 5.7.1 tab"),
	OK("550 \t 5.7.1 mixed", RCPT, "550 5.7.1 mixed"),
	OK("550 5.7.1\t\ttabs", RCPT, "550 5.7.1 tabs"),
	OK("550 5.7.1  after", RCPT, "550 5.7.1 after"),
	OK("550-  5.7.1 a\r\n550  5.7.1 b", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("550  text", RCPT, "550 5.7.1 text"),
	OK("550\ttext", RCPT, "550 5.7.1 text"),
	OK("220  192.0.2.1 ESMTP", CONNECT, "220  192.0.2.1 ESMTP"),
	OK("354  2.0.0 go", DATA, "354  2.0.0 go"),
	OK("220-a\r\n220  2.0.0 b", CONNECT, "220-a\r\n220 b"),

	/* ---- 1. unfixable: say so, do not guess ---- */
	BAD("101 cannot open connection", OTHER),
	BAD("111 connection refused", OTHER),
	BAD("600 x", OTHER),
	BAD("650 6.5.0 x", RCPT),
	BAD("699 x", RCPT),
	BAD("099 x", OTHER),
	BAD("abc", OTHER),
	BAD("", OTHER),
	BAD("\r\n", OTHER),
	BAD(" 550 x", OTHER),
	BAD("-550 x", OTHER),
	BAD("372 x", DATA),
	BAD("3721 x", DATA),
	BADM("250 ok", RCPT),
	BADM("200 ok", RCPT),
	BADM("221 bye", OTHER),
	BADM("354 go ahead", DATA),
	BADM("101 x", OTHER),
	BADM("", OTHER),

	/* ---- 2. shipped default enhanced codes ---- */
	OKC("421 x", OTHER, "421 4.3.0 x", "enhanced-missing"),
	OK("432 x", OTHER, "432 4.7.12 x"),
	OK("450 x", OTHER, "450 4.7.1 x"),
	OK("451 x", OTHER, "451 4.7.1 x"),
	OK("452 x", OTHER, "452 4.3.1 x"),
	OK("454 x", OTHER, "454 4.7.0 x"),
	OK("453 x", OTHER, "453 4.0.0 x"),
	OK("455 x", OTHER, "455 4.0.0 x"),
	OK("458 x", OTHER, "458 4.0.0 x"),
	OK("459 x", OTHER, "459 4.0.0 x"),
	OK("500 x", OTHER, "500 5.5.2 x"),
	OK("501 x", OTHER, "501 5.5.4 x"),
	OK("502 x", OTHER, "502 5.5.1 x"),
	OK("503 x", OTHER, "503 5.5.1 x"),
	OK("504 x", OTHER, "504 5.5.4 x"),
	OK("521 x", OTHER, "521 5.3.2 x"),
	OK("523 x", OTHER, "523 5.7.10 x"),
	OK("524 x", OTHER, "524 5.7.11 x"),
	OK("525 x", OTHER, "525 5.7.13 x"),
	OK("530 x", OTHER, "530 5.7.0 x"),
	OK("534 x", OTHER, "534 5.7.9 x"),
	OK("535 x", OTHER, "535 5.7.8 x"),
	OK("538 x", OTHER, "538 5.7.11 x"),
	OK("550 x", OTHER, "550 5.7.1 x"),
	OK("551 x", OTHER, "551 5.7.1 x"),
	OK("552 x", OTHER, "552 5.3.4 x"),
	OK("553 x", RCPT, "553 5.1.3 x"),
	OK("554 x", OTHER, "554 5.7.1 x"),
	OK("555 x", OTHER, "555 5.5.4 x"),
	OK("556 x", RCPT, "556 5.1.10 x"),
	/* defaults that are address codes follow the phase */
	OK("553 x", MAIL, "553 5.1.7 x"),
	OK("553 x", OTHER, "553 5.1.3 x"),
	OK("556 x", MAIL, "556 5.1.0 x"),
	OK("556 x", EOM, "556 5.1.10 x"),
	/* 2xx */
	OK("250 ok", OTHER, "250 2.0.0 ok"),
	OK("250 ok", MAIL, "250 2.1.0 ok"),
	OK("250 ok", RCPT, "250 2.1.5 ok"),
	OK("251 will forward", RCPT, "251 2.1.5 will forward"),
	OK("251 will forward", OTHER, "251 2.0.0 will forward"),
	OK("250 queued", EOM, "250 2.0.0 queued"),
	OK("221 bye", OTHER, "221 2.0.0 bye"),
	OK("211 status", OTHER, "211 2.0.0 status"),
	OK("214 help", OTHER, "214 2.0.0 help"),
	OK("252 cannot verify", OTHER, "252 2.0.0 cannot verify"),
	OK("235 authenticated", OTHER, "235 2.0.0 authenticated"),
	/* greeting and HELO/EHLO replies are left without one */
	OKC("220 mx.example.com ESMTP Postfix", CONNECT, "220 mx.example.com ESMTP Postfix", ""),
	OK("554 no service here", CONNECT, "554 no service here"),
	OK("421 try later", CONNECT, "421 try later"),
	OKC(EHLO, HELO, EHLO, ""),
	OK(EHLO "\r\n", HELO, EHLO),
	OK("250 mx.example.com", HELO, "250 mx.example.com"),
	OK("550 go away", HELO, "550 go away"),
	OK(EHLO, OTHER, "250-2.0.0 mx.example.com\r\n250-2.0.0 PIPELINING\r\n250 2.0.0 8BITMIME"),
	/* 3xx: removed */
	OKC("354 2.0.0 go ahead", DATA, "354 go ahead", "enhanced-not-allowed"),
	OK("354 End data with <CR><LF>.<CR><LF>", DATA, "354 End data with <CR><LF>.<CR><LF>"),
	OK("334 VXNlcm5hbWU6", OTHER, "334 VXNlcm5hbWU6"),
	OK("334 2.7.0 VXNlcm5hbWU6", OTHER, "334 VXNlcm5hbWU6"),

	/* ---- 2. leading zeros ---- */
	OKC("550 5.01.1 x", RCPT, "550 5.1.1 x", "enhanced-leading-zero"),
	OK("550 05.7.01 x", OTHER, "550 5.7.1 x"),
	OK("451 4.7.001 x", OTHER, "451 4.7.1 x"),
	OK("550 5.0001.1 x", RCPT, "550 5.1.1 x"),
	OK("550 5.00.0 x", OTHER, "550 5.0.0 x"),

	/* ---- 2. class mismatch: the basic code wins ---- */
	OKC("550 4.7.1 x", OTHER, "550 5.7.1 x", "enhanced-class-mismatch"),
	OK("451 5.7.1 x", OTHER, "451 4.7.1 x"),
	OK("250 5.0.0 ok", OTHER, "250 2.0.0 ok"),
	OK("450 2.2.1 x", OTHER, "450 4.2.1 x"),
	OK("550-4.7.1 a\r\n550 4.7.1 b", OTHER, "550-5.7.1 a\r\n550 5.7.1 b"),

	/* ---- 2. malformed: removed and replaced as if missing ---- */
	OKC("550 5.7 x", OTHER, "550 5.7.1 x", "enhanced-syntax"),
	OK("452 4.3 x", OTHER, "452 4.3.1 x"),
	/* what starts with no class is text: kept, every byte of it */
	OK("550 1.5 MB", OTHER, "550 5.7.1 1.5 MB"),
	OK("550 6.1.1 x", OTHER, "550 5.7.1 6.1.1 x"),
	OK("220 192.0.2.1 ESMTP", CONNECT, "220 192.0.2.1 ESMTP"),
	OK("354 1.5 MB max", DATA, "354 1.5 MB max"),
	OK("550 5.7.1000 x", OTHER, "550 5.7.1 x"),
	OK("550 5..1 x", OTHER, "550 5.7.1 x"),
	OK("552 5.3.4.1 x", OTHER, "552 5.3.4 x"),
	OK("550 5.7", OTHER, "550 5.7.1 " SAMPLE_571),

	/* ---- 2. unregistered: X.S.0, or X.0.0 ---- */
	OKC("550 5.7.99 x", OTHER, "550 5.7.0 x", "enhanced-unregistered"),
	OK("550 5.9.1 x", OTHER, "550 5.0.0 x"),
	OK("451 4.7.99 x", OTHER, "451 4.7.0 x"),
	OK("550 5.0.1 x", OTHER, "550 5.0.0 x"),
	OK("550 5.1.11 x", RCPT, "550 5.1.0 x"),
	OK("550 5.7.606 Access denied, banned sending IP [1.2.3.4].", RCPT,
	   "550 5.7.0 Access denied, banned sending IP [1.2.3.4]."),

	/* ---- 2. address codes mapped to the phase ---- */
	OKC("550 5.1.1 x", MAIL, "550 5.1.0 x", "enhanced-phase"),
	OK("550 5.1.2 x", MAIL, "550 5.1.8 x"),
	OK("550 5.1.3 x", MAIL, "550 5.1.7 x"),
	OK("550 5.1.6 x", MAIL, "550 5.1.0 x"),
	OK("550 5.1.10 x", MAIL, "550 5.1.0 x"),
	OK("250 2.1.5 ok", MAIL, "250 2.1.0 ok"),
	/* only a certainly wrong party changes (notes/engine-semantics.md):
	 * sender codes at RCPT are delayed rejects; after the dot replies
	 * may be per recipient; an unknown phase changes nothing */
	OKC("550 5.1.7 x", RCPT, "550 5.1.7 x", ""),
	OKC("450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found",
	    RCPT, "450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found", ""),
	OKC("550 5.1.8 x", RCPT, "550 5.1.8 x", ""),
	OKC("550 5.1.1 x", EOM, "550 5.1.1 x", ""),
	OKC("550 5.1.1 x", DATA, "550 5.1.1 x", ""),
	OKC("550 5.1.1 x", OTHER, "550 5.1.1 x", ""),
	OKC("550 5.1.1 x", CONNECT, "550 5.0.0 x", "enhanced-phase"),
	OKC("550 5.1.8 x", HELO, "550 5.0.0 x", "enhanced-phase"),
	OKC("550 5.1.1 x", RCPT, "550 5.1.1 x", ""),
	OK("550 5.1.10 x", RCPT, "550 5.1.10 x"),
	OK("550 5.1.9 x", RCPT, "550 5.1.9 x"),
	OK("553 5.1.7 x", MAIL, "553 5.1.7 x"),
	OK("553 5.1.8 x", MAIL, "553 5.1.8 x"),

	/* ---- real replies that are fine (info and phase warnings are not rewritten) ---- */
	OKC(POSTFIX, RCPT, POSTFIX, ""),
	OKC(POSTFIX "\r\n", RCPT, POSTFIX, ""),
	OKC(SENDMAIL, MAIL, SENDMAIL, ""),
	OKC(GMAIL, RCPT, GMAIL, ""),
	OKC(GMAIL "\r\n", RCPT, GMAIL, ""),
	OKC("421 4.7.0 Try again later, closing connection.", OTHER,
	    "421 4.7.0 Try again later, closing connection.", ""),
	OKC("554 5.7.1 [info]", OTHER, "554 5.7.1 [info]", ""),
	OKC("554 5.7.1 x", RCPT, "554 5.7.1 x", ""),
	OKC("250 ok", CONNECT, "250 ok", ""),
	OKC("250 2.0.0 Ok: queued as 4Q1x2y3z", EOM, "250 2.0.0 Ok: queued as 4Q1x2y3z", ""),

	/* ---- 3. text ---- */
	OKC("550 5.7.1 a\x01" "b", OTHER, "550 5.7.1 a b", "text-bad-char"),
	OK("550 5.7.1 a\rb", OTHER, "550 5.7.1 a b"),
	OKL("550 5.7.1 a\0b", OTHER, "550 5.7.1 a b"),
	OKL("550 5.7.1 \0\0x\0", OTHER, "550 5.7.1 x"),
	OKP("550", "5.7.1", "a\nb", OTHER, "550 5.7.1 a b"),
	OKP("550", "5.7.1", "a\r\nb", OTHER, "550 5.7.1 a  b"),
	OKP("550", NULL, "5.7.1 a\nb", RCPT, "550 5.7.1 a b"),
	OK("550 5.7.1 a\x1b[0m", OTHER, "550 5.7.1 a [0m"),
	OK("550 5.7.1 a\x1f" "b", OTHER, "550 5.7.1 a b"),
	ANY("550 5.7.1 a\x7f" "b", OTHER),
	OKC("550 5.7.1 a\tb", OTHER, "550 5.7.1 a\tb", ""),
	OKC("550 5.7.1 caf\xc3\xa9", OTHER, "550 5.7.1 caf??", "text-non-ascii"),
	OKU("550 5.7.1 caf\xc3\xa9", OTHER, "550 5.7.1 caf\xc3\xa9"),
	OKU("550 5.7.1 caf\xe9", OTHER, "550 5.7.1 caf?"),
	OKU("550 5.7.1 \xc3\xa9\xff", OTHER, "550 5.7.1 \xc3\xa9?"),
	OKU("550 5.7.1 \xe2\x82\xac 5", OTHER, "550 5.7.1 \xe2\x82\xac 5"),
	OK("550 5.7.1 \xe2\x82\xac 5", OTHER, "550 5.7.1 ??? 5"),
	OK("550 5.7.1 x   ", OTHER, "550 5.7.1 x"),
	OK("550 5.7.1 x\x01", OTHER, "550 5.7.1 x"),
	OK("550 5.7.1 x \x01 \x02", OTHER, "550 5.7.1 x"),
	OK("550 x y", OTHER, "550 5.7.1 x y"),
	/* empty text: the registry's sample for the enhanced code */
	OKC("550", OTHER, "550 5.7.1 " SAMPLE_571, "enhanced-missing,text-empty"),
	OKC("550 5.7.1", OTHER, "550 5.7.1 " SAMPLE_571, "text-empty"),
	OK("550 5.7.1   ", OTHER, "550 5.7.1 " SAMPLE_571),
	OK("550 5.7.1 \x01", OTHER, "550 5.7.1 " SAMPLE_571),
	OK("550-", OTHER, "550 5.7.1 " SAMPLE_571),
	BAD("55", OTHER),
	OK("451", OTHER, "451 4.7.1 " SAMPLE_571),
	OK("421", OTHER, "421 4.3.0 Other or undefined mail system status"),
	OK("452 4.2.2", OTHER, "452 4.2.2 Mailbox full"),
	OK("553 5.1.3", RCPT, "553 5.1.3 Bad destination mailbox address syntax"),
	OK("550 5.7.99", OTHER, "550 5.7.0 Other or undefined security status"),
	OK("550 5.6.10", OTHER, "550 5.6.10 Other or undefined media error"),
	OK("557", OTHER, "550 5.7.1 " SAMPLE_571),
	OKP("550", "5.7.1", "", OTHER, "550 5.7.1 " SAMPLE_571),
	ANY("220", CONNECT),
	ANY("354", DATA),

	/* ---- 4. lines ---- */
	OKC("550-5.7.1 a\r\n551 5.7.2 b", OTHER, "550-5.7.1 a\r\n550 5.7.1 b",
	    "multiline-code-mismatch,multiline-enhanced-mismatch"),
	OKC("550-5.7.1 a\r\n550 b", OTHER, "550-5.7.1 a\r\n550 5.7.1 b", "multiline-enhanced-mismatch"),
	OKC("550 5.7.1 a\r\n550 5.7.1 b", OTHER, "550-5.7.1 a\r\n550 5.7.1 b", "multiline-separator"),
	OKC("550-5.7.1 a", OTHER, "550 5.7.1 a", "multiline-separator"),
	OK("550-5.7.1 a\r\n550-5.7.1 b", OTHER, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("550-a\r\n550-b\r\n550 c", RCPT, "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c"),
	OK("550-a\r\n550 5.1.1 b", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("550-a\n550 b\n", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("550-a\r\nb", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	/* never weaker: the most severe line's code and enhanced code */
	OKC("451-4.7.1 a\r\n550-5.7.1 b\r\n250 c", OTHER,
	    "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c",
	    "multiline-code-mismatch,multiline-enhanced-mismatch"),
	OKC("250-2.1.5 ok\r\n550 5.1.1 no such user", RCPT,
	    "550-5.1.1 ok\r\n550 5.1.1 no such user",
	    "multiline-code-mismatch,multiline-enhanced-mismatch"),
	OK("250-ok\r\n451 4.3.0 later", RCPT, "451-4.3.0 ok\r\n451 4.3.0 later"),
	OK("450-4.2.0 a\r\n550 b", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("250-a\r\n5.7.1 b", RCPT, "550-5.7.1 a\r\n550 5.7.1 b"),
	OK("250-a\r\nb", RCPT, "250-2.1.5 a\r\n250 2.1.5 b"),
	BAD("250-a\r\n354 b", OTHER),
	BAD("354-a\r\n250 b", OTHER),
	BAD("250-a\r\n650 b", OTHER),
	OK("550-5.7.1 a\r\n550-5.7.1\r\n550 5.7.1 c", OTHER, "550-5.7.1 a\r\n550-5.7.1\r\n550 5.7.1 c"),
	OK("550 5.7.1 x\r\n", OTHER, "550 5.7.1 x"),
	OK("550 5.7.1 x\n", OTHER, "550 5.7.1 x"),
	/* wrapping at a blank: lines of at most 512 octets with CRLF */
	OKXC("550 5.7.1 {a*300} {b*300}", OTHER, "550-5.7.1 {a*300}\r\n550 5.7.1 {b*300}", "line-too-long"),
	OKX("550 5.7.1 {a*300}\t{b*300}", OTHER, "550-5.7.1 {a*300}\r\n550 5.7.1 {b*300}"),
	OKX("550 5.7.1 {a*499} {b*10}", OTHER, "550-5.7.1 {a*499}\r\n550 5.7.1 {b*10}"),
	OKX("550 5.7.1 {word *120}", OTHER, "550-5.7.1 {word *99}word\r\n550 5.7.1 {word *19}word"),
	OKX("550 5.7.1 {x*499}", OTHER, "550 5.7.1 {x*499}"),
	OKX("550 5.7.1 {x*500}", OTHER, "550 5.7.1 {x*500}"),
	/* hard split when there is no blank */
	OKX("550 5.7.1 {x*501}", OTHER, "550-5.7.1 {x*500}\r\n550 5.7.1 x"),
	OKX("550 5.7.1 {x*10000}", OTHER, "{550-5.7.1 {x*500}\r\n*19}550 5.7.1 {x*500}"),
	OKX("550-5.7.1 a\r\n550 5.7.1 {x*501}", OTHER, "550-5.7.1 a\r\n550-5.7.1 {x*500}\r\n550 5.7.1 x"),
	OKX("220 {x*507}", CONNECT, "220-{x*506}\r\n220 x"),
	OKX("220 {x*506}", CONNECT, "220 {x*506}"),
	/* never inside a UTF-8 sequence */
	OKXU("550 5.7.1 a{\xc3\xa9*300}", OTHER, "550-5.7.1 a{\xc3\xa9*249}\r\n550 5.7.1 {\xc3\xa9*51}"),
	OKXU("550 5.7.1 {\xe2\x82\xac*200}", OTHER, "550-5.7.1 {\xe2\x82\xac*166}\r\n550 5.7.1 {\xe2\x82\xac*34}"),
	OKX("550 5.7.1 a{\xc3\xa9*300}", OTHER, "550-5.7.1 a{?*499}\r\n550 5.7.1 {?*101}"),
	/* wrapping must not create something that looks like an enhanced code */
	ANYX("220 {a*505} 1.2 x", CONNECT),
	ANY("220 1.2.3 ready", CONNECT),
	ANY("220 2.0.0 ready", CONNECT),
	ANY("250-2.0.0 mx\r\n250 2.0.0 PIPELINING", HELO),
	ANY("550 5.1.1 x", CONNECT),
	OK("250 5.7 ok", HELO, "250 ok"),
	/* milter: the 980 bytes are counted with '%' doubled; the wire keeps one */
	OKXM("550 5.7.1 {%*490}", RCPT, "550 5.7.1 {%*490}"),
	OKXM("550 5.7.1 {%*600}", RCPT, "550-5.7.1 {%*490}\r\n550 5.7.1 {%*110}"),
	OKXM("550 5.7.1 {x*600}", RCPT, "550-5.7.1 {x*500}\r\n550 5.7.1 {x*100}"),
	OKM("550 5.7.1 100% sure", RCPT, "550 5.7.1 100% sure"),
	OKM("451 4.7.1 50%% off", RCPT, "451 4.7.1 50%% off"),
	OKM("550 blocked", RCPT, "550 5.7.1 blocked"),
	ANYXM("{550-5.7.1 line\r\n*39}550 5.7.1 last", RCPT),
	ANYXM("550 5.7.1 {x*20000}", RCPT),
	ANYXM("550 5.7.1 {%*20000}", RCPT),

	/* ---- policy overrides ---- */
	OKPOL("450 x", OTHER, POL_450_420, "450 4.2.0 x"),
	OKPOL("450 4.7.1 x", OTHER, POL_450_420, "450 4.7.1 x"),
	OKPOL("451 x", OTHER, POL_450_420, "451 4.7.1 x"),
	OKPOL("450 x", OTHER, POL_SHIPPED, "450 4.7.1 x"),
	OKPOL("557 x", OTHER, POL_557_554, "554 5.7.1 x"),
	OKPOL("557 5.7.0 dup", OTHER, POL_557_554, "554 5.7.0 dup"),
	OKPOL("572 x", OTHER, POL_557_554, "550 5.7.1 x"),
	OKPOL("420 x", OTHER, POL_420_450, "450 4.7.1 x"),
	OKPOL("420 4.4.1 x", OTHER, POL_420_450, "450 4.4.1 x"),
	OKPOL("250 ok", MAIL, POL_250_200, "250 2.0.0 ok"),
	OKPOL("250 ok", RCPT, POL_250_200, "250 2.0.0 ok"),
	OKPOL("251 ok", RCPT, POL_250_200, "251 2.1.5 ok"),
	OKPOL("554", OTHER, POL_554_530, "554 5.3.0 Other or undefined mail system status"),
	OKPOL("554 x", OTHER, POL_554_530, "554 5.3.0 x"),
};

static const char *const ph_names[] = {
	"connect", "helo", "mail", "rcpt", "data", "eom", "other"
};

/* Every id in the comma-separated list LIST is among N's changes; "" means none. */
static char *changes_problem(const struct tu_reply *t, const char *prefix,
			     const struct sr_normalized *n, const char *list)
{
	const char *p = list;

	if (list == NULL)
		return NULL;
	if (*list == '\0') {
		if (n->nchanges != 0)
			return tu_msg(t, "%s: %zu changes, expected none", prefix,
				      n->nchanges);
		return NULL;
	}
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char name[48];
		int id;

		snprintf(name, sizeof name, "%.*s", (int)len, p);
		id = sr_diag_lookup(name);
		if (id < 0)
			return tu_msg(t, "%s: unknown id \"%s\" in the test", prefix, name);
		if (tu_find_change(n, (enum sr_diag_id)id) == NULL)
			return tu_msg(t, "%s: no change %s", prefix, name);
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

/* At most one change per id, valid ids, NUL-terminated before/after. */
static char *changes_sane(const struct tu_reply *t, const char *prefix,
			  const struct sr_normalized *n)
{
	bool seen[SR_D__COUNT] = { false };
	size_t i;

	if (n->nchanges > SR_D__COUNT)
		return tu_msg(t, "%s: %zu changes", prefix, n->nchanges);
	for (i = 0; i < n->nchanges; i++) {
		const struct sr_change *c = &n->changes[i];

		if ((int)c->id < 0 || c->id >= SR_D__COUNT)
			return tu_msg(t, "%s: change %zu has bad id %d", prefix, i,
				      (int)c->id);
		if (seen[c->id])
			return tu_msg(t, "%s: two changes for %s", prefix,
				      sr_diag_name(c->id));
		seen[c->id] = true;
		if (memchr(c->before, '\0', sizeof c->before) == NULL ||
		    memchr(c->after, '\0', sizeof c->after) == NULL)
			return tu_msg(t, "%s: change %s is not NUL-terminated",
				      prefix, sr_diag_name(c->id));
	}
	return NULL;
}

START_TEST(normalize_table)
{
	const struct nrow *row = &rows[_i];
	struct sr_options o;
	struct tu_reply t;
	struct sr_normalized n;
	char *spec = NULL, *out = NULL;
	size_t outlen = 0;
	char prefix[64];

	snprintf(prefix, sizeof prefix, "row %d (at %s, %s%s)", _i,
		 ph_names[row->ph], row->ctx == SR_CONTEXT_MILTER ? "milter" : "wire",
		 row->utf8 ? ", utf8" : "");
	tu_options(&o, row->ph, row->ctx, row->utf8, policy(row->pol));
	if (row->pcode != NULL) {
		tu_parts(&t, row->pcode, row->penh, &row->ptext, 1, &o);
	} else if (row->x) {
		size_t len;

		spec = tu_expand(row->in, strlen(row->in), &len);
		tu_wire(&t, spec, len, &o);
	} else {
		tu_wire(&t, row->in, row->len ? row->len : strlen(row->in), &o);
	}
	if (row->out != NULL) {
		if (row->x)
			out = tu_expand(row->out, strlen(row->out), &outlen);
		else
			out = tu_dup(row->out, outlen = strlen(row->out));
	}

	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	TU_NO_PROBLEM(tu_norm_problem(&t, prefix, &n, row->st, out, outlen));
	if (n.status == SR_NORM_OK) {
		TU_NO_PROBLEM(changes_problem(&t, prefix, &n, row->changes));
		TU_NO_PROBLEM(changes_sane(&t, prefix, &n));
		/* idempotent, and the result checks with no error */
		TU_NO_PROBLEM(tu_props_problem(&t, prefix, &n));
	}
	sr_normalized_release(&n);
	tu_release(&t);
	free(spec);
	free(out);
}
END_TEST

/* ---- the changes, exactly --------------------------------------------- */

static const struct {
	const char *in;
	enum sr_phase ph;
	enum sr_diag_id id;
	unsigned line;
	const char *before, *after;
} change_rows[] = {
	{ "550 4.7.1 x", SR_PHASE_OTHER, SR_D_ENHANCED_CLASS_MISMATCH, 1, "550 4.7.1", "550 5.7.1" },
	{ "557 x", SR_PHASE_OTHER, SR_D_CODE_NONSTANDARD, 1, "557", "550" },
	{ "557 5.7.1 dup", SR_PHASE_OTHER, SR_D_CODE_NONSTANDARD, 1, "557", "550" },
};

START_TEST(normalize_changes_exact)
{
	struct tu_reply t;
	struct sr_options o;
	struct sr_normalized n;
	const struct sr_change *c;

	tu_options(&o, change_rows[_i].ph, SR_CONTEXT_WIRE, false, NULL);
	tu_wire_str(&t, change_rows[_i].in, &o);
	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	c = tu_find_change(&n, change_rows[_i].id);
	TU_ASSERT(&t, c != NULL, "no change %s", sr_diag_name(change_rows[_i].id));
	TU_ASSERT(&t, c->line == change_rows[_i].line &&
		  strcmp(c->before, change_rows[_i].before) == 0 &&
		  strcmp(c->after, change_rows[_i].after) == 0,
		  "change %s: (%u, \"%s\", \"%s\"), expected (%u, \"%s\", \"%s\")",
		  sr_diag_name(change_rows[_i].id), c->line, c->before, c->after,
		  change_rows[_i].line, change_rows[_i].before, change_rows[_i].after);
	sr_normalized_release(&n);
	tu_release(&t);
}
END_TEST

/* ---- milter: at most 32 lines, cut visibly ----------------------------- */

static const struct {
	const char *spec;
	enum sr_context ctx;
	size_t nlines;
	bool cut;
	const char *first;	/* the first line */
} cut_rows[] = {
	{ "{550-5.7.1 line\r\n*39}550 5.7.1 last", SR_CONTEXT_MILTER, 32, true, "550-5.7.1 line" },
	{ "550 5.7.1 {x*20000}", SR_CONTEXT_MILTER, 32, true, "550-5.7.1 {x*500}" },
	{ "550 5.7.1 {%*20000}", SR_CONTEXT_MILTER, 32, true, "550-5.7.1 {%*490}" },
	{ "{550-5.7.1 line\r\n*32}550 5.7.1 last", SR_CONTEXT_MILTER, 32, true, "550-5.7.1 line" },
	{ "{550-5.7.1 line\r\n*31}550 5.7.1 last", SR_CONTEXT_MILTER, 32, false, "550-5.7.1 line" },
	{ "{550-5.7.1 line\r\n*39}550 5.7.1 last", SR_CONTEXT_WIRE, 40, false, "550-5.7.1 line" },
	{ "550 5.7.1 {x*20000}", SR_CONTEXT_WIRE, 40, false, "550-5.7.1 {x*500}" },
};

START_TEST(normalize_milter_cut)
{
	size_t len, flen, i, start;
	char *in = tu_expand(cut_rows[_i].spec, strlen(cut_rows[_i].spec), &len);
	char *first = tu_expand(cut_rows[_i].first, strlen(cut_rows[_i].first), &flen);
	struct sr_options o;
	struct tu_reply t;
	struct sr_normalized n;
	const char *last;
	size_t lastlen;

	tu_options(&o, SR_PHASE_RCPT, cut_rows[_i].ctx, false, NULL);
	tu_wire(&t, in, len, &o);
	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	TU_NO_PROBLEM(tu_norm_problem(&t, "cut", &n, SR_NORM_OK, NULL, 0));
	TU_ASSERT(&t, n.nlines == cut_rows[_i].nlines, "cut: %zu lines, expected %zu",
		  n.nlines, cut_rows[_i].nlines);
	TU_ASSERT(&t, n.wire_len > flen + 2 && memcmp(n.wire, first, flen) == 0 &&
		  n.wire[flen] == '\r', "cut: the first line is not as expected");
	/* every line fits; find the last */
	start = 0;
	for (i = 0; i + 1 < n.wire_len; i++)
		if (n.wire[i] == '\r' && n.wire[i + 1] == '\n') {
			TU_ASSERT(&t, i - start + 2 <= SR_WIRE_LINE_MAX,
				  "cut: a line of %zu octets", i - start + 2);
			start = i + 2;
		}
	last = n.wire + start;
	lastlen = n.wire_len - start;
	TU_ASSERT(&t, lastlen + 2 <= SR_WIRE_LINE_MAX, "cut: last line of %zu octets",
		  lastlen + 2);
	if (cut_rows[_i].cut) {
		TU_ASSERT(&t, lastlen >= 3 && memcmp(last + lastlen - 3, "...", 3) == 0,
			  "cut: the last line does not end with \"...\"");
		TU_ASSERT(&t, tu_find_change(&n, SR_D_TOO_MANY_LINES) != NULL ||
			  tu_find_change(&n, SR_D_LINE_TOO_LONG) != NULL,
			  "cut: no change too-many-lines / line-too-long");
	} else {
		TU_ASSERT(&t, !(lastlen >= 3 && memcmp(last + lastlen - 3, "...", 3) == 0),
			  "cut: the last line ends with \"...\" but nothing was cut");
	}
	TU_NO_PROBLEM(tu_props_problem(&t, "cut", &n));
	sr_normalized_release(&n);
	tu_release(&t);
	free(in);
	free(first);
}
END_TEST

/* ---- texts, '%' escaping ---------------------------------------------- */

START_TEST(normalize_next_text_and_escape)
{
	static const char in[] = "550-5.7.1 a\r\n550 5.7.1 100% sure";
	struct sr_options o;
	struct tu_reply t;
	struct sr_normalized n;
	struct sr_span text;
	size_t pos = 0;
	char buf[64];

	tu_options(&o, SR_PHASE_RCPT, SR_CONTEXT_MILTER, false, NULL);
	tu_wire(&t, in, TU_LEN(in), &o);
	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	TU_NO_PROBLEM(tu_norm_problem(&t, "escape", &n, SR_NORM_OK, in, TU_LEN(in)));
	TU_ASSERT(&t, strcmp(n.code, "550") == 0 && strcmp(n.enhanced, "5.7.1") == 0,
		  "code \"%s\" enhanced \"%s\"", n.code, n.enhanced);

	TU_ASSERT(&t, sr_normalized_next_text(&n, &pos, &text), "no first text");
	TU_ASSERT(&t, text.len == 1 && memcmp(text.p, "a", 1) == 0,
		  "first text \"%.*s\"", (int)text.len, text.p);
	TU_ASSERT(&t, sr_normalized_next_text(&n, &pos, &text), "no second text");
	TU_ASSERT(&t, text.len == 9 && memcmp(text.p, "100% sure", 9) == 0,
		  "second text \"%.*s\"", (int)text.len, text.p);
	ck_assert_uint_eq(sr_milter_escape(text, buf, sizeof buf), 10);
	ck_assert_str_eq(buf, "100%% sure");
	TU_ASSERT(&t, !sr_normalized_next_text(&n, &pos, &text), "a third text");
	sr_normalized_release(&n);
	tu_release(&t);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} escape_rows[] = {
	{ "", "" }, { "plain", "plain" }, { "%", "%%" }, { "%%", "%%%%" },
	{ "100% sure", "100%% sure" }, { "%s%d%n", "%%s%%d%%n" },
	{ "a%", "a%%" },
};

START_TEST(milter_escape_table)
{
	struct sr_span s = { escape_rows[_i].in, strlen(escape_rows[_i].in) };
	char buf[64], small[4];
	size_t want = strlen(escape_rows[_i].out);

	memset(buf, 'Z', sizeof buf);
	ck_assert_uint_eq(sr_milter_escape(s, buf, sizeof buf), want);
	ck_assert_str_eq(buf, escape_rows[_i].out);
	/* too small: the full length is returned, nothing written past SIZE */
	memset(small, 'Z', sizeof small);
	ck_assert_uint_eq(sr_milter_escape(s, small, 2), want);
	ck_assert_int_eq(small[2], 'Z');
	ck_assert_int_eq(small[3], 'Z');
}
END_TEST

/* The greeting and 354 with no text get the catalog's meaning. */
static const struct {
	const char *in;
	enum sr_phase ph;
} meaning_rows[] = {
	{ "220", SR_PHASE_CONNECT }, { "354", SR_PHASE_DATA },
	{ "250", SR_PHASE_HELO }, { "220 ", SR_PHASE_CONNECT },
};

START_TEST(normalize_empty_without_enhanced)
{
	struct sr_options o;
	struct tu_reply t;
	struct sr_normalized n;
	struct sr_span text;
	size_t pos = 0;

	tu_options(&o, meaning_rows[_i].ph, SR_CONTEXT_WIRE, false, NULL);
	tu_wire_str(&t, meaning_rows[_i].in, &o);
	memset(&n, 0, sizeof n);
	tu_normalize(&t, &n);
	TU_NO_PROBLEM(tu_norm_problem(&t, "empty", &n, SR_NORM_OK, NULL, 0));
	TU_ASSERT(&t, n.enhanced[0] == '\0', "an enhanced code was added");
	TU_ASSERT(&t, sr_normalized_next_text(&n, &pos, &text) && text.len > 0,
		  "the text is still empty");
	TU_ASSERT(&t, n.wire_len > 4 && n.wire[3] == ' ' && memcmp(n.wire, meaning_rows[_i].in, 3) == 0,
		  "the wire form does not start with the code and a space");
	TU_NO_PROBLEM(tu_props_problem(&t, "empty", &n));
	sr_normalized_release(&n);
	tu_release(&t);
}
END_TEST

/* sr_normalize fills OUT whatever it held; NULL options: wire, other. */
START_TEST(normalize_dirty_out_and_null_options)
{
	struct sr_reply r;
	struct sr_normalized n;

	ck_assert_int_eq(sr_reply_parse(&r, "557 x", 5), 0);
	memset(&n, 0xab, sizeof n);
	sr_normalize(&r, NULL, &n);
	ck_assert_int_eq(n.status, SR_NORM_OK);
	ck_assert_uint_eq(n.wire_len, strlen("550 5.7.1 x"));
	ck_assert_str_eq(n.wire, "550 5.7.1 x");
	ck_assert_str_eq(n.code, "550");
	ck_assert_str_eq(n.enhanced, "5.7.1");
	ck_assert_uint_eq(n.nlines, 1);
	sr_normalized_release(&n);

	/* unfixable, then released */
	sr_reply_release(&r);
	ck_assert_int_eq(sr_reply_parse(&r, "101 x", 5), 0);
	memset(&n, 0xab, sizeof n);
	sr_normalize(&r, NULL, &n);
	ck_assert_int_eq(n.status, SR_NORM_UNFIXABLE);
	ck_assert_msg(memchr(n.why, '\0', sizeof n.why) != NULL && n.why[0] != '\0',
		      "empty why");
	sr_normalized_release(&n);
	sr_reply_release(&r);
}
END_TEST

/* ---- the policy API --------------------------------------------------- */

static struct sr_enh enh(const char *s)
{
	struct sr_enh e = { 0, 0, 0 };

	if (*s != '\0')
		ck_assert_int_eq(sr_enh_parse(s, strlen(s), &e), 0);
	return e;
}

static const struct {
	unsigned code;
	enum sr_phase ph;
	const char *enh;
} default_rows[] = {
	{ 421, SR_PHASE_OTHER, "4.3.0" }, { 432, SR_PHASE_OTHER, "4.7.12" },
	{ 450, SR_PHASE_OTHER, "4.7.1" }, { 451, SR_PHASE_OTHER, "4.7.1" },
	{ 452, SR_PHASE_OTHER, "4.3.1" }, { 454, SR_PHASE_OTHER, "4.7.0" },
	{ 500, SR_PHASE_OTHER, "5.5.2" }, { 501, SR_PHASE_OTHER, "5.5.4" },
	{ 504, SR_PHASE_OTHER, "5.5.4" }, { 555, SR_PHASE_OTHER, "5.5.4" },
	{ 502, SR_PHASE_OTHER, "5.5.1" }, { 503, SR_PHASE_OTHER, "5.5.1" },
	{ 521, SR_PHASE_OTHER, "5.3.2" }, { 523, SR_PHASE_OTHER, "5.7.10" },
	{ 524, SR_PHASE_OTHER, "5.7.11" }, { 538, SR_PHASE_OTHER, "5.7.11" },
	{ 525, SR_PHASE_OTHER, "5.7.13" }, { 530, SR_PHASE_OTHER, "5.7.0" },
	{ 534, SR_PHASE_OTHER, "5.7.9" }, { 535, SR_PHASE_OTHER, "5.7.8" },
	{ 550, SR_PHASE_OTHER, "5.7.1" }, { 551, SR_PHASE_OTHER, "5.7.1" },
	{ 554, SR_PHASE_OTHER, "5.7.1" }, { 552, SR_PHASE_OTHER, "5.3.4" },
	{ 553, SR_PHASE_OTHER, "5.1.3" }, { 556, SR_PHASE_OTHER, "5.1.10" },
	{ 499, SR_PHASE_OTHER, "4.0.0" }, { 455, SR_PHASE_OTHER, "4.0.0" },
	{ 453, SR_PHASE_OTHER, "4.0.0" }, { 599, SR_PHASE_OTHER, "5.0.0" },
	{ 250, SR_PHASE_OTHER, "2.0.0" }, { 250, SR_PHASE_MAIL, "2.1.0" },
	{ 250, SR_PHASE_RCPT, "2.1.5" }, { 251, SR_PHASE_RCPT, "2.1.5" },
	{ 250, SR_PHASE_EOM, "2.0.0" }, { 251, SR_PHASE_OTHER, "2.0.0" },
	{ 220, SR_PHASE_OTHER, "2.0.0" }, { 221, SR_PHASE_OTHER, "2.0.0" },
	{ 252, SR_PHASE_OTHER, "2.0.0" }, { 354, SR_PHASE_DATA, "" },
	{ 334, SR_PHASE_OTHER, "" },
};

START_TEST(policy_shipped_defaults)
{
	struct sr_enh got = sr_policy_default_enh(sr_policy_shipped(),
						  default_rows[_i].code,
						  default_rows[_i].ph);
	struct sr_enh want = enh(default_rows[_i].enh);
	char gs[SR_ENH_STRLEN];

	ck_assert_msg(want.cls == 0 ? got.cls == 0 : sr_enh_equal(got, want), "default of %u at %s: \"%s\", expected \"%s\"",
		      default_rows[_i].code, ph_names[default_rows[_i].ph],
		      sr_enh_format(got, gs), default_rows[_i].enh);
}
END_TEST

static const struct {
	unsigned code, to;
	const char *enh;	/* "": the replacement's default */
} map_rows[] = {
	{ 200, 250, "" }, { 420, 451, "4.4.2" }, { 441, 451, "4.4.1" },
	{ 442, 451, "4.4.2" }, { 446, 451, "4.4.6" }, { 447, 451, "4.4.7" },
	{ 449, 451, "4.4.0" }, { 471, 451, "" }, { 422, 452, "4.2.2" },
	{ 431, 452, "4.3.1" }, { 510, 550, "5.1.1" }, { 511, 550, "5.1.1" },
	{ 512, 550, "5.1.2" }, { 541, 550, "" }, { 557, 550, "" },
	{ 572, 550, "" }, { 513, 553, "5.1.3" },
	/* standard codes are not replaced */
	{ 250, 0, "" }, { 550, 0, "" }, { 451, 0, "" }, { 553, 0, "" },
	{ 354, 0, "" },
};

START_TEST(policy_shipped_map)
{
	const struct sr_policy *p = sr_policy_shipped();
	unsigned code = map_rows[_i].code;

	ck_assert_ptr_nonnull(p);
	ck_assert_msg(p->replace[code] == map_rows[_i].to, "replace[%u] = %u, expected %u",
		      code, (unsigned)p->replace[code], map_rows[_i].to);
	if (map_rows[_i].to != 0) {
		struct sr_enh e = p->replace_enh[code];
		struct sr_enh want = map_rows[_i].enh[0] ? enh(map_rows[_i].enh)
			: sr_policy_default_enh(p, map_rows[_i].to, SR_PHASE_OTHER);
		char es[SR_ENH_STRLEN], ws[SR_ENH_STRLEN];

		if (e.cls == 0)
			e = sr_policy_default_enh(p, map_rows[_i].to, SR_PHASE_OTHER);
		ck_assert_msg(sr_enh_equal(e, want), "replacement enhanced of %u: %s, expected %s",
			      code, sr_enh_format(e, es), sr_enh_format(want, ws));
	}
}
END_TEST

START_TEST(policy_init_copies_shipped)
{
	static struct sr_policy p;
	const struct sr_policy *s = sr_policy_shipped();
	size_t i;

	memset(&p, 0x5a, sizeof p);
	sr_policy_init(&p);
	for (i = 0; i < 1000; i++) {
		ck_assert_msg(sr_enh_equal(p.default_enh[i], s->default_enh[i]), "default_enh[%zu]", i);
		ck_assert_msg(p.replace[i] == s->replace[i], "replace[%zu]", i);
		ck_assert_msg(sr_enh_equal(p.replace_enh[i], s->replace_enh[i]), "replace_enh[%zu]", i);
	}
	ck_assert_uint_eq(p.nphase_default, s->nphase_default);
	ck_assert_uint_le(p.nphase_default, SR_POLICY_MAX_PHASE_DEFAULTS);
	for (i = 0; i < p.nphase_default; i++) {
		ck_assert_uint_eq(p.phase_default[i].phase, s->phase_default[i].phase);
		ck_assert_uint_eq(p.phase_default[i].code, s->phase_default[i].code);
		ck_assert(sr_enh_equal(p.phase_default[i].enh, s->phase_default[i].enh));
	}
}
END_TEST

START_TEST(policy_setters)
{
	static struct sr_policy p;
	struct sr_enh e;
	char es[SR_ENH_STRLEN];

	sr_policy_init(&p);
	ck_assert_int_eq(sr_policy_set_default(&p, 450, "4.2.0"), 0);
	e = sr_policy_default_enh(&p, 450, SR_PHASE_OTHER);
	ck_assert_str_eq(sr_enh_format(e, es), "4.2.0");
	/* the shipped tables are not touched */
	e = sr_policy_default_enh(sr_policy_shipped(), 450, SR_PHASE_OTHER);
	ck_assert_str_eq(sr_enh_format(e, es), "4.7.1");
	/* dropping the per-phase default */
	ck_assert_int_eq(sr_policy_set_default(&p, 250, "2.0.0"), 0);
	e = sr_policy_default_enh(&p, 250, SR_PHASE_MAIL);
	ck_assert_str_eq(sr_enh_format(e, es), "2.0.0");
	e = sr_policy_default_enh(&p, 251, SR_PHASE_RCPT);
	ck_assert_str_eq(sr_enh_format(e, es), "2.1.5");

	/* invalid */
	ck_assert_int_eq(sr_policy_set_default(&p, 450, "5.2.0"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 450, "4.2"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 450, "4.02.0"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 354, "3.0.0"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 150, "2.0.0"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 650, "5.0.0"), -1);
	ck_assert_int_eq(sr_policy_set_default(&p, 1000, "5.0.0"), -1);
	e = sr_policy_default_enh(&p, 450, SR_PHASE_OTHER);
	ck_assert_str_eq(sr_enh_format(e, es), "4.2.0");

	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, "5.7.1"), 0);
	ck_assert_uint_eq(p.replace[557], 554);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 650, NULL), -1);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 599, NULL), -1);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, "4.7.1"), -1);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, "5.7"), -1);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 550, 554, NULL), -1);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 1000, 550, NULL), -1);
	ck_assert_uint_eq(p.replace[557], 554);
}
END_TEST

static Suite *normalize_suite(void)
{
	Suite *s = suite_create("normalize");
	TCase *tc;

	tc = tcase_create("rules");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, normalize_table, 0, (int)NROWS(rows));
	tcase_add_loop_test(tc, normalize_changes_exact, 0, (int)NROWS(change_rows));
	tcase_add_loop_test(tc, normalize_milter_cut, 0, (int)NROWS(cut_rows));
	tcase_add_test(tc, normalize_next_text_and_escape);
	tcase_add_loop_test(tc, milter_escape_table, 0, (int)NROWS(escape_rows));
	tcase_add_loop_test(tc, normalize_empty_without_enhanced, 0, (int)NROWS(meaning_rows));
	tcase_add_test(tc, normalize_dirty_out_and_null_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_loop_test(tc, policy_shipped_defaults, 0, (int)NROWS(default_rows));
	tcase_add_loop_test(tc, policy_shipped_map, 0, (int)NROWS(map_rows));
	tcase_add_test(tc, policy_init_copies_shipped);
	tcase_add_test(tc, policy_setters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(normalize_suite());
}
