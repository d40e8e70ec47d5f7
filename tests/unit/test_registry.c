/*
 * SPDX-License-Identifier: ISC
 * test_registry.c - unit tests of the code registry, the shipped policy
 * and the phases: enhanced code syntax, the IANA rows, the basic-code
 * catalog, default and replacement codes, policy overrides, phase names
 * and the codes RFC 5321 4.3.2 expects per phase.
 *
 * Table-driven: each table row is one loop iteration of its test.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <smtpreply/smtpreply.h>

#include "internal.h"
#include "testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The enhanced code E as text, in BUF. */
#define ENH_TEXT(e, buf) sr_enh_format((e), (buf))

/* ---- the IANA registry ------------------------------------------------- */

START_TEST(test_enhanced_count)
{
	ck_assert_uint_eq(sr_registry_enhanced_count(), 81);
	ck_assert_ptr_nonnull(sr_registry_enhanced_at(80));
	ck_assert_ptr_null(sr_registry_enhanced_at(81));
}
END_TEST

/* Rows ordered strictly by subject, then detail; each found by look-up. */
START_TEST(test_enhanced_sorted)
{
	size_t n = sr_registry_enhanced_count();
	const struct sr_enhanced_info *row = sr_registry_enhanced_at((size_t)_i);

	ck_assert_ptr_nonnull(row);
	ck_assert_ptr_eq(sr_registry_enhanced(row->subject, row->detail), row);
	ck_assert_ptr_nonnull(row->sample);
	ck_assert_ptr_nonnull(row->assoc);
	ck_assert_ptr_nonnull(row->refs);
	if ((size_t)_i + 1 < n) {
		const struct sr_enhanced_info *next =
		    sr_registry_enhanced_at((size_t)_i + 1);

		ck_assert_msg(row->subject < next->subject
		    || (row->subject == next->subject && row->detail < next->detail),
		    "row %d X.%u.%u not before X.%u.%u", _i, row->subject,
		    row->detail, next->subject, next->detail);
	}
}
END_TEST

static const struct enhanced_row {
	unsigned subject, detail;
	const char *sample, *assoc, *refs;
} enhanced_rows[] = {
	{ 0, 0, "Other undefined Status", "*", "rfc3463" },
	{ 1, 1, "Bad destination mailbox address", "451,550", "rfc3463" },
	{ 1, 2, "Bad destination system address", "", "rfc3463" },
	{ 1, 6, "Destination mailbox has moved, No forwarding address", "",
	  "rfc3463" },
	{ 1, 7, "Bad sender's mailbox address syntax", "", "rfc3463" },
	{ 1, 10, "Recipient address has null MX", "556", "rfc7505;rfc7504" },
	{ 3, 2, "System not accepting network messages", "453,521",
	  "rfc3463;rfc7504" },
	{ 3, 6, "Requested priority was changed", "250,251", "rfc6710" },
	{ 5, 0, "Other or undefined protocol status",
	  "220,250,251,252,253,451,452,454,458,459,501,502,503,554", "rfc3463" },
	{ 6, 9, "UTF-8 header message cannot be transferred to one or more "
	  "recipients, so the message must be rejected", "550", "rfc6531" },
	{ 6, 10, "", "", "rfc6531" },
	{ 7, 1, "Delivery not authorized, message refused",
	  "451,454,502,503,533,550,551", "rfc3463" },
	{ 7, 10, "Encryption Needed", "523", "rfc5248" },
	{ 7, 15, "Priority Level is too low", "450,550,4XX,5XX", "rfc6710" },
	{ 7, 16, "Message is too big for the specified priority", "552,4XX,5XX",
	  "rfc6710" },
	{ 7, 17, "Mailbox owner has changed", "5XX", "rfc7293" },
	{ 7, 24, "SPF validation error", "451,550", "rfc7372;rfc7208" },
	{ 7, 28, "Mail flood detected", "", "draft-levine-mailbomb-header-00" },
	{ 7, 30, "REQUIRETLS support required", "550", "rfc8689" },
};

START_TEST(test_enhanced_rows)
{
	const struct enhanced_row *want = &enhanced_rows[_i];
	const struct sr_enhanced_info *row =
	    sr_registry_enhanced(want->subject, want->detail);

	ck_assert_msg(row != NULL, "X.%u.%u not found", want->subject,
	    want->detail);
	ck_assert_uint_eq(row->subject, want->subject);
	ck_assert_uint_eq(row->detail, want->detail);
	ck_assert_str_eq(row->sample, want->sample);
	ck_assert_str_eq(row->assoc, want->assoc);
	ck_assert_str_eq(row->refs, want->refs);
}
END_TEST

static const struct lookup_case {
	unsigned subject, detail;
	bool registered;
} lookup_cases[] = {
	{ 0, 0, true }, { 1, 0, true }, { 1, 10, true }, { 2, 4, true },
	{ 5, 6, true }, { 7, 0, true }, { 7, 30, true },
	{ 0, 1, false }, { 1, 11, false }, { 2, 5, false }, { 5, 7, false },
	{ 7, 31, false }, { 7, 99, false }, { 8, 0, false }, { 9, 1, false },
	{ 1000, 0, false }, { 7, 1001, false }, { 4294967295u, 1, false },
	{ 1, 4294967295u, false },
};

START_TEST(test_enhanced_lookup)
{
	const struct lookup_case *c = &lookup_cases[_i];
	const struct sr_enhanced_info *row = sr_registry_enhanced(c->subject,
	    c->detail);

	if (c->registered) {
		ck_assert_msg(row != NULL, "X.%u.%u should be registered",
		    c->subject, c->detail);
		ck_assert_uint_eq(row->subject, c->subject);
		ck_assert_uint_eq(row->detail, c->detail);
	} else {
		ck_assert_msg(row == NULL, "X.%u.%u should not be registered",
		    c->subject, c->detail);
	}
}
END_TEST

/* ---- enhanced code syntax ---------------------------------------------- */

static const struct parse_case {
	const char *text;
	size_t len;		/* bytes given to the parser; 0: strlen */
	int result;
	unsigned cls, subject, detail;
} parse_cases[] = {
	{ "2.0.0", 0, 0, 2, 0, 0 },
	{ "4.7.1", 0, 0, 4, 7, 1 },
	{ "5.7.1", 0, 0, 5, 7, 1 },
	{ "4.7.12", 0, 0, 4, 7, 12 },
	{ "5.1.10", 0, 0, 5, 1, 10 },
	{ "5.999.999", 0, 0, 5, 999, 999 },
	{ "5.100.0", 0, 0, 5, 100, 0 },
	{ "5.7.1xyz", 5, 0, 5, 7, 1 },		/* length-limited */
	{ "5.7.10", 5, 0, 5, 7, 1 },		/* only "5.7.1" given */
	{ "5.7.1 Text", 5, 0, 5, 7, 1 },
	{ "5.01.1", 0, -1, 0, 0, 0 },
	{ "5.1.01", 0, -1, 0, 0, 0 },
	{ "05.1.1", 0, -1, 0, 0, 0 },
	{ "5.00.1", 0, -1, 0, 0, 0 },
	{ "6.1.1", 0, -1, 0, 0, 0 },
	{ "3.1.1", 0, -1, 0, 0, 0 },
	{ "1.1.1", 0, -1, 0, 0, 0 },
	{ "0.0.0", 0, -1, 0, 0, 0 },
	{ "5.7", 0, -1, 0, 0, 0 },
	{ "5.7.1.2", 0, -1, 0, 0, 0 },
	{ "5.7.1000", 0, -1, 0, 0, 0 },
	{ "5.1000.1", 0, -1, 0, 0, 0 },
	{ "", 0, -1, 0, 0, 0 },
	{ "5", 0, -1, 0, 0, 0 },
	{ "5.", 0, -1, 0, 0, 0 },
	{ "5.7.", 0, -1, 0, 0, 0 },
	{ "5..1", 0, -1, 0, 0, 0 },
	{ "5...", 0, -1, 0, 0, 0 },
	{ ".5.7.1", 0, -1, 0, 0, 0 },
	{ "55.7.1", 0, -1, 0, 0, 0 },
	{ "5.7.1 ", 0, -1, 0, 0, 0 },
	{ " 5.7.1", 0, -1, 0, 0, 0 },
	{ "5,7,1", 0, -1, 0, 0, 0 },
	{ "5.7.a", 0, -1, 0, 0, 0 },
	{ "X.7.1", 0, -1, 0, 0, 0 },
	{ "5.-1.1", 0, -1, 0, 0, 0 },
	{ "5.+7.1", 0, -1, 0, 0, 0 },
	{ "5.7.1", 4, -1, 0, 0, 0 },		/* "5.7." */
	{ "5.7.1", 3, -1, 0, 0, 0 },		/* "5.7" */
	{ "5.7.1\0", 6, -1, 0, 0, 0 },		/* NUL inside the length */
	{ "5.7\0.1", 6, -1, 0, 0, 0 },
};

START_TEST(test_enh_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);
	/* Exactly LEN bytes on the heap, no NUL: ASan sees any over-read. */
	char *copy = malloc(len ? len : 1);
	struct sr_enh out = { 0 };
	int result;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, c->text, len);
	result = sr_enh_parse(copy, len, &out);
	free(copy);
	ck_assert_msg(result == c->result, "\"%.*s\" (%zu bytes): got %d, want %d",
	    (int)len, c->text, len, result, c->result);
	if (c->result == 0) {
		ck_assert_uint_eq(out.cls, c->cls);
		ck_assert_uint_eq(out.subject, c->subject);
		ck_assert_uint_eq(out.detail, c->detail);
	}
}
END_TEST

START_TEST(test_enh_parse_null)
{
	struct sr_enh out = { 0 };

	ck_assert_int_eq(sr_enh_parse(NULL, 0, &out), -1);
	ck_assert_int_eq(sr_enh_parse(NULL, 5, &out), -1);
	ck_assert_int_eq(sr_enh_parse("5.7.1", 5, NULL), 0);
}
END_TEST

static const struct format_case {
	struct sr_enh enh;
	const char *text;
} format_cases[] = {
	{ { 2, 0, 0 }, "2.0.0" },
	{ { 4, 7, 1 }, "4.7.1" },
	{ { 5, 7, 1 }, "5.7.1" },
	{ { 4, 7, 12 }, "4.7.12" },
	{ { 5, 1, 10 }, "5.1.10" },
	{ { 5, 100, 0 }, "5.100.0" },
	{ { 5, 999, 999 }, "5.999.999" },
	{ { 0, 0, 0 }, "" },
	{ { 0, 7, 1 }, "" },
	{ { 3, 1, 1 }, "" },		/* not a valid class: no code */
	{ { 9, 1, 1 }, "" },
	{ { 5, 1000, 1 }, "" },
	{ { 5, 1, 65535 }, "" },
};

START_TEST(test_enh_format)
{
	const struct format_case *c = &format_cases[_i];
	char buf[SR_ENH_STRLEN];

	memset(buf, 'x', sizeof(buf));
	ck_assert_ptr_eq(sr_enh_format(c->enh, buf), buf);
	ck_assert_str_eq(buf, c->text);
}
END_TEST

/* Every registered code formats and parses back to itself, in each class. */
START_TEST(test_enh_round_trip)
{
	const struct sr_enhanced_info *row = sr_registry_enhanced_at((size_t)_i);
	static const unsigned classes[] = { 2, 4, 5 };

	ck_assert_ptr_nonnull(row);
	for (size_t k = 0; k < NELEM(classes); k++) {
		struct sr_enh e = { (uint8_t)classes[k], row->subject, row->detail };
		struct sr_enh back = { 0 };
		char buf[SR_ENH_STRLEN];

		sr_enh_format(e, buf);
		ck_assert_int_eq(sr_enh_parse(buf, strlen(buf), &back), 0);
		ck_assert(sr_enh_equal(e, back));
	}
}
END_TEST

/* ---- associated basic codes -------------------------------------------- */

static const struct assoc_case {
	unsigned subject, detail, code;
	bool associated;
} assoc_cases[] = {
	{ 7, 1, 550, true },
	{ 7, 1, 451, true },
	{ 7, 1, 551, true },
	{ 7, 1, 554, false },
	{ 7, 1, 55, false },
	{ 0, 0, 550, true },		/* Any */
	{ 0, 0, 220, true },
	{ 0, 0, 999, true },
	{ 7, 17, 550, true },		/* 5XX */
	{ 7, 17, 599, true },
	{ 7, 17, 450, false },
	{ 7, 15, 450, true },
	{ 7, 15, 550, true },
	{ 7, 15, 421, true },		/* via 4XX */
	{ 7, 15, 554, true },		/* via 5XX */
	{ 7, 15, 250, false },
	{ 7, 16, 552, true },
	{ 7, 16, 421, true },
	{ 7, 16, 354, false },
	{ 1, 2, 550, true },		/* Not given */
	{ 1, 2, 250, true },
	{ 7, 28, 550, true },		/* "." */
	{ 3, 6, 250, true },		/* "250 or 251" */
	{ 3, 6, 251, true },
	{ 3, 6, 252, false },
	{ 7, 24, 451, true },		/* "451/550" */
	{ 7, 24, 550, true },
	{ 7, 24, 450, false },
	{ 1, 1, 5501, false },
};

START_TEST(test_associated)
{
	const struct assoc_case *c = &assoc_cases[_i];
	const struct sr_enhanced_info *row = sr_registry_enhanced(c->subject,
	    c->detail);

	ck_assert_ptr_nonnull(row);
	ck_assert_msg(sr_registry_associated(row, c->code) == c->associated,
	    "X.%u.%u with %u: want %s", c->subject, c->detail, c->code,
	    c->associated ? "true" : "false");
}
END_TEST

START_TEST(test_associated_null)
{
	ck_assert(!sr_registry_associated(NULL, 550));
}
END_TEST

/* ---- the basic-code catalog -------------------------------------------- */

static const struct catalog_code {
	unsigned code;
	enum sr_code_origin origin;
} catalog_codes[] = {
	{ 211, SR_ORIGIN_RFC5321 }, { 214, SR_ORIGIN_RFC5321 },
	{ 220, SR_ORIGIN_RFC5321 }, { 221, SR_ORIGIN_RFC5321 },
	{ 250, SR_ORIGIN_RFC5321 }, { 251, SR_ORIGIN_RFC5321 },
	{ 252, SR_ORIGIN_RFC5321 }, { 354, SR_ORIGIN_RFC5321 },
	{ 421, SR_ORIGIN_RFC5321 }, { 450, SR_ORIGIN_RFC5321 },
	{ 451, SR_ORIGIN_RFC5321 }, { 452, SR_ORIGIN_RFC5321 },
	{ 455, SR_ORIGIN_RFC5321 }, { 500, SR_ORIGIN_RFC5321 },
	{ 501, SR_ORIGIN_RFC5321 }, { 502, SR_ORIGIN_RFC5321 },
	{ 503, SR_ORIGIN_RFC5321 }, { 504, SR_ORIGIN_RFC5321 },
	{ 550, SR_ORIGIN_RFC5321 }, { 551, SR_ORIGIN_RFC5321 },
	{ 552, SR_ORIGIN_RFC5321 }, { 553, SR_ORIGIN_RFC5321 },
	{ 554, SR_ORIGIN_RFC5321 }, { 555, SR_ORIGIN_RFC5321 },
	{ 235, SR_ORIGIN_EXTENSION }, { 334, SR_ORIGIN_EXTENSION },
	{ 432, SR_ORIGIN_EXTENSION }, { 454, SR_ORIGIN_EXTENSION },
	{ 530, SR_ORIGIN_EXTENSION }, { 534, SR_ORIGIN_EXTENSION },
	{ 535, SR_ORIGIN_EXTENSION }, { 538, SR_ORIGIN_EXTENSION },
	{ 521, SR_ORIGIN_EXTENSION }, { 556, SR_ORIGIN_EXTENSION },
	{ 253, SR_ORIGIN_EXTENSION }, { 458, SR_ORIGIN_EXTENSION },
	{ 459, SR_ORIGIN_EXTENSION }, { 453, SR_ORIGIN_EXTENSION },
	{ 523, SR_ORIGIN_EXTENSION }, { 524, SR_ORIGIN_EXTENSION },
	{ 525, SR_ORIGIN_EXTENSION },
	{ 101, SR_ORIGIN_NONSTANDARD }, { 111, SR_ORIGIN_NONSTANDARD },
	{ 200, SR_ORIGIN_NONSTANDARD }, { 420, SR_ORIGIN_NONSTANDARD },
	{ 422, SR_ORIGIN_NONSTANDARD }, { 431, SR_ORIGIN_NONSTANDARD },
	{ 441, SR_ORIGIN_NONSTANDARD }, { 442, SR_ORIGIN_NONSTANDARD },
	{ 446, SR_ORIGIN_NONSTANDARD }, { 447, SR_ORIGIN_NONSTANDARD },
	{ 449, SR_ORIGIN_NONSTANDARD }, { 471, SR_ORIGIN_NONSTANDARD },
	{ 510, SR_ORIGIN_NONSTANDARD }, { 511, SR_ORIGIN_NONSTANDARD },
	{ 512, SR_ORIGIN_NONSTANDARD }, { 513, SR_ORIGIN_NONSTANDARD },
	{ 541, SR_ORIGIN_NONSTANDARD }, { 557, SR_ORIGIN_NONSTANDARD },
	{ 572, SR_ORIGIN_NONSTANDARD },
};

/* The catalog holds exactly these codes, with these origins. */
START_TEST(test_basic_count)
{
	ck_assert_uint_eq(sr_registry_basic_count(), NELEM(catalog_codes));
	ck_assert_ptr_null(sr_registry_basic_at(NELEM(catalog_codes)));
}
END_TEST

START_TEST(test_basic_origin)
{
	const struct catalog_code *c = &catalog_codes[_i];
	const struct sr_basic_info *info = sr_registry_basic(c->code);

	ck_assert_msg(info != NULL, "%u missing from the catalog", c->code);
	ck_assert_uint_eq(info->code, c->code);
	ck_assert_msg(info->origin == c->origin, "%u: origin %d, want %d",
	    c->code, (int)info->origin, (int)c->origin);
}
END_TEST

/* Every catalog row: sorted, found by code, printable non-empty meaning. */
START_TEST(test_basic_rows)
{
	const struct sr_basic_info *info = sr_registry_basic_at((size_t)_i);
	const struct sr_basic_info *next = sr_registry_basic_at((size_t)_i + 1);

	ck_assert_ptr_nonnull(info);
	ck_assert_ptr_eq(sr_registry_basic(info->code), info);
	if (next != NULL)
		ck_assert_uint_lt(info->code, next->code);
	ck_assert_ptr_nonnull(info->refs);
	ck_assert_ptr_nonnull(info->meaning);
	ck_assert_uint_gt(strlen(info->meaning), 0);
	for (const char *p = info->meaning; *p != '\0'; p++)
		ck_assert_msg(*p >= ' ' && *p <= '~', "%u: unprintable meaning",
		    info->code);
	if (info->origin == SR_ORIGIN_NONSTANDARD)
		ck_assert_str_eq(info->refs, "");
	else
		ck_assert_msg(sr_code_in_abnf(info->code) && info->refs[0] != '\0',
		    "%u: standard code outside the ABNF or without refs",
		    info->code);
}
END_TEST

static const struct basic_case {
	unsigned code;
	bool present;
	enum sr_code_origin origin;
	const char *refs;		/* NULL: not checked */
	const char *meaning;		/* NULL: not checked */
} basic_cases[] = {
	{ 557, true, SR_ORIGIN_NONSTANDARD, "",
	  "Too many duplicate messages (anti-spam)" },
	{ 572, true, SR_ORIGIN_NONSTANDARD, "",
	  "Relay not authorized or not local host" },
	{ 101, true, SR_ORIGIN_NONSTANDARD, "", "Cannot open connection" },
	{ 200, true, SR_ORIGIN_NONSTANDARD, "", NULL },
	{ 250, true, SR_ORIGIN_RFC5321, "rfc5321",
	  "Requested mail action okay, completed" },
	{ 220, true, SR_ORIGIN_RFC5321, "rfc5321", "Service ready" },
	{ 354, true, SR_ORIGIN_RFC5321, "rfc5321",
	  "Start mail input; end with <CRLF>.<CRLF>" },
	{ 421, true, SR_ORIGIN_RFC5321, "rfc5321",
	  "Service not available, closing transmission channel" },
	{ 550, true, SR_ORIGIN_RFC5321, "rfc5321",
	  "Requested action not taken: mailbox unavailable" },
	{ 523, true, SR_ORIGIN_EXTENSION, "rfc5248", "Encryption Needed" },
	{ 454, true, SR_ORIGIN_EXTENSION, "rfc4954;rfc3207", NULL },
	{ 556, true, SR_ORIGIN_EXTENSION, "rfc7504", NULL },
	{ 999, false, 0, NULL, NULL },
	{ 0, false, 0, NULL, NULL },
	{ 430, false, 0, NULL, NULL },
	{ 355, false, 0, NULL, NULL },
	{ 1000, false, 0, NULL, NULL },
	{ 4294967295u, false, 0, NULL, NULL },
};

START_TEST(test_basic_lookup)
{
	const struct basic_case *c = &basic_cases[_i];
	const struct sr_basic_info *info = sr_registry_basic(c->code);

	if (!c->present) {
		ck_assert_msg(info == NULL, "%u should not be in the catalog",
		    c->code);
		return;
	}
	ck_assert_msg(info != NULL, "%u should be in the catalog", c->code);
	ck_assert_uint_eq(info->code, c->code);
	ck_assert_int_eq(info->origin, c->origin);
	if (c->refs != NULL)
		ck_assert_str_eq(info->refs, c->refs);
	if (c->meaning != NULL)
		ck_assert_str_eq(info->meaning, c->meaning);
}
END_TEST

static const struct standard_case {
	unsigned code;
	bool standard;
} standard_cases[] = {
	{ 250, true }, { 220, true }, { 354, true }, { 421, true },
	{ 550, true }, { 555, true }, { 523, true }, { 530, true },
	{ 334, true }, { 253, true },
	{ 557, false }, { 572, false }, { 101, false }, { 200, false },
	{ 471, false }, { 510, false }, { 355, false }, { 430, false },
	{ 999, false }, { 0, false }, { 599, false }, { 1250, false },
};

START_TEST(test_code_is_standard)
{
	const struct standard_case *c = &standard_cases[_i];

	ck_assert_msg(sr_code_is_standard(c->code) == c->standard,
	    "%u: want %s", c->code, c->standard ? "standard" : "not standard");
}
END_TEST

START_TEST(test_version)
{
	ck_assert_ptr_nonnull(sr_version());
	ck_assert_uint_gt(strlen(sr_version()), 0);
}
END_TEST

/* ---- the shipped policy ------------------------------------------------ */

static const struct default_case {
	unsigned code;
	enum sr_phase phase;
	const char *enh;		/* "" = none */
} default_cases[] = {
	{ 421, SR_PHASE_OTHER, "4.3.0" },
	{ 432, SR_PHASE_OTHER, "4.7.12" },
	{ 450, SR_PHASE_RCPT, "4.7.1" },
	{ 451, SR_PHASE_MAIL, "4.7.1" },
	{ 452, SR_PHASE_RCPT, "4.3.1" },
	{ 454, SR_PHASE_OTHER, "4.7.0" },
	{ 500, SR_PHASE_OTHER, "5.5.2" },
	{ 501, SR_PHASE_MAIL, "5.5.4" },
	{ 504, SR_PHASE_HELO, "5.5.4" },
	{ 555, SR_PHASE_RCPT, "5.5.4" },
	{ 502, SR_PHASE_OTHER, "5.5.1" },
	{ 503, SR_PHASE_DATA, "5.5.1" },
	{ 521, SR_PHASE_CONNECT, "5.3.2" },
	{ 523, SR_PHASE_OTHER, "5.7.10" },
	{ 524, SR_PHASE_OTHER, "5.7.11" },
	{ 538, SR_PHASE_OTHER, "5.7.11" },
	{ 525, SR_PHASE_OTHER, "5.7.13" },
	{ 530, SR_PHASE_MAIL, "5.7.0" },
	{ 534, SR_PHASE_OTHER, "5.7.9" },
	{ 535, SR_PHASE_OTHER, "5.7.8" },
	{ 550, SR_PHASE_RCPT, "5.7.1" },
	{ 550, SR_PHASE_MAIL, "5.7.1" },
	{ 551, SR_PHASE_RCPT, "5.7.1" },
	{ 554, SR_PHASE_EOM, "5.7.1" },
	{ 552, SR_PHASE_EOM, "5.3.4" },
	{ 553, SR_PHASE_RCPT, "5.1.3" },
	{ 556, SR_PHASE_RCPT, "5.1.10" },
	/* 2xx */
	{ 220, SR_PHASE_CONNECT, "2.0.0" },
	{ 221, SR_PHASE_OTHER, "2.0.0" },
	{ 235, SR_PHASE_OTHER, "2.0.0" },
	{ 250, SR_PHASE_OTHER, "2.0.0" },
	{ 250, SR_PHASE_MAIL, "2.1.0" },
	{ 250, SR_PHASE_RCPT, "2.1.5" },
	{ 250, SR_PHASE_DATA, "2.0.0" },
	{ 250, SR_PHASE_EOM, "2.0.0" },
	{ 250, SR_PHASE_HELO, "2.0.0" },
	{ 251, SR_PHASE_RCPT, "2.1.5" },
	{ 251, SR_PHASE_MAIL, "2.0.0" },
	{ 252, SR_PHASE_RCPT, "2.0.0" },
	{ 299, SR_PHASE_OTHER, "2.0.0" },
	/* the rest of 4xx / 5xx */
	{ 455, SR_PHASE_MAIL, "4.0.0" },
	{ 499, SR_PHASE_OTHER, "4.0.0" },
	{ 453, SR_PHASE_OTHER, "4.0.0" },
	{ 599, SR_PHASE_OTHER, "5.0.0" },
	{ 557, SR_PHASE_RCPT, "5.0.0" },
	/* none: 3xx, and codes that cannot carry an enhanced code */
	{ 354, SR_PHASE_DATA, "" },
	{ 334, SR_PHASE_OTHER, "" },
	{ 300, SR_PHASE_OTHER, "" },
	{ 101, SR_PHASE_OTHER, "" },
	{ 0, SR_PHASE_OTHER, "" },
	{ 600, SR_PHASE_OTHER, "" },
	{ 999, SR_PHASE_OTHER, "" },
	{ 1000, SR_PHASE_OTHER, "" },
	{ 4294967295u, SR_PHASE_OTHER, "" },
};

START_TEST(test_shipped_defaults)
{
	const struct default_case *c = &default_cases[_i];
	char got[SR_ENH_STRLEN], got_null[SR_ENH_STRLEN];

	ENH_TEXT(sr_policy_default_enh(sr_policy_shipped(), c->code, c->phase),
	    got);
	ck_assert_msg(strcmp(got, c->enh) == 0, "%u at %s: got \"%s\", want \"%s\"",
	    c->code, sr_phase_name(c->phase), got, c->enh);
	/* A NULL policy means the shipped one. */
	ENH_TEXT(sr_policy_default_enh(NULL, c->code, c->phase), got_null);
	ck_assert_str_eq(got_null, c->enh);
}
END_TEST

static const struct replacement_case {
	unsigned code, newcode;		/* newcode 0: no replacement */
	const char *enh;		/* "" = the target's default */
} replacement_cases[] = {
	{ 200, 250, "" },
	{ 420, 451, "4.4.2" },
	{ 441, 451, "4.4.1" },
	{ 442, 451, "4.4.2" },
	{ 446, 451, "4.4.6" },
	{ 447, 451, "4.4.7" },
	{ 449, 451, "4.4.0" },
	{ 471, 451, "" },
	{ 422, 452, "4.2.2" },
	{ 431, 452, "4.3.1" },
	{ 510, 550, "5.1.1" },
	{ 511, 550, "5.1.1" },
	{ 512, 550, "5.1.2" },
	{ 541, 550, "" },
	{ 557, 550, "" },
	{ 572, 550, "" },
	{ 513, 553, "5.1.3" },
	{ 101, 0, "" },
	{ 111, 0, "" },
	{ 250, 0, "" },
	{ 550, 0, "" },
	{ 354, 0, "" },
	{ 599, 0, "" },
	{ 999, 0, "" },
};

START_TEST(test_shipped_replacements)
{
	const struct replacement_case *c = &replacement_cases[_i];
	const struct sr_policy *p = sr_policy_shipped();
	char got[SR_ENH_STRLEN];

	ck_assert_msg(p->replace[c->code] == c->newcode, "%u: replaced by %u, want %u",
	    c->code, (unsigned)p->replace[c->code], c->newcode);
	ENH_TEXT(p->replace_enh[c->code], got);
	ck_assert_str_eq(got, c->enh);
}
END_TEST

/* The shipped map only has the replacements above, all to final standard codes. */
START_TEST(test_shipped_replacement_targets)
{
	const struct sr_policy *p = sr_policy_shipped();
	size_t count = 0;

	for (unsigned code = 0; code < 1000; code++) {
		unsigned target = p->replace[code];

		if (target == 0) {
			ck_assert_uint_eq(p->replace_enh[code].cls, 0);
			continue;
		}
		count++;
		ck_assert_msg(sr_code_is_standard(target) && target / 100 != 3,
		    "%u -> %u: not a standard 2/4/5 code", code, target);
		ck_assert_msg(p->replace[target] == 0, "%u -> %u: chain", code,
		    target);
		if (p->replace_enh[code].cls != 0)
			ck_assert_uint_eq(p->replace_enh[code].cls, target / 100);
	}
	ck_assert_uint_eq(count, 17);
}
END_TEST

START_TEST(test_shipped_phase_defaults)
{
	const struct sr_policy *p = sr_policy_shipped();
	char enh[SR_ENH_STRLEN];

	ck_assert_uint_eq(p->nphase_default, 3);
	ck_assert_uint_eq(p->phase_default[0].phase, SR_PHASE_MAIL);
	ck_assert_uint_eq(p->phase_default[0].code, 250);
	ck_assert_str_eq(ENH_TEXT(p->phase_default[0].enh, enh), "2.1.0");
	ck_assert_uint_eq(p->phase_default[1].phase, SR_PHASE_RCPT);
	ck_assert_uint_eq(p->phase_default[1].code, 250);
	ck_assert_str_eq(ENH_TEXT(p->phase_default[1].enh, enh), "2.1.5");
	ck_assert_uint_eq(p->phase_default[2].phase, SR_PHASE_RCPT);
	ck_assert_uint_eq(p->phase_default[2].code, 251);
	ck_assert_str_eq(ENH_TEXT(p->phase_default[2].enh, enh), "2.1.5");
}
END_TEST

/* Every default that is set is registered and of the code's class. */
START_TEST(test_shipped_defaults_registered)
{
	const struct sr_policy *p = sr_policy_shipped();

	for (unsigned code = 0; code < 1000; code++) {
		struct sr_enh e = p->default_enh[code];

		if (e.cls == 0)
			continue;
		ck_assert_msg(e.cls == code / 100, "%u: default of class %u",
		    code, (unsigned)e.cls);
		ck_assert_msg(sr_registry_enhanced(e.subject, e.detail) != NULL,
		    "%u: default X.%u.%u unregistered", code, (unsigned)e.subject,
		    (unsigned)e.detail);
	}
}
END_TEST

/* ---- policy overrides -------------------------------------------------- */

START_TEST(test_policy_init)
{
	struct sr_policy p;

	memset(&p, 0xa5, sizeof(p));
	sr_policy_init(&p);
	ck_assert(memcmp(&p, sr_policy_shipped(), sizeof(p)) == 0);
}
END_TEST

START_TEST(test_policy_set_default)
{
	struct sr_policy p;
	char enh[SR_ENH_STRLEN];

	sr_policy_init(&p);
	ck_assert_int_eq(sr_policy_set_default(&p, 450, "4.2.0"), 0);
	ck_assert_str_eq(ENH_TEXT(sr_policy_default_enh(&p, 450, SR_PHASE_RCPT),
	    enh), "4.2.0");
	/* Nothing else changed; the shipped tables are untouched. */
	ck_assert_str_eq(ENH_TEXT(sr_policy_default_enh(sr_policy_shipped(), 450,
	    SR_PHASE_RCPT), enh), "4.7.1");
	p.default_enh[450] = sr_policy_shipped()->default_enh[450];
	ck_assert(memcmp(&p, sr_policy_shipped(), sizeof(p)) == 0);
}
END_TEST

START_TEST(test_policy_set_default_drops_phase)
{
	struct sr_policy p;
	char enh[SR_ENH_STRLEN];

	sr_policy_init(&p);
	ck_assert_int_eq(sr_policy_set_default(&p, 250, "2.6.0"), 0);
	ck_assert_uint_eq(p.nphase_default, 1);
	ck_assert_str_eq(ENH_TEXT(sr_policy_default_enh(&p, 250, SR_PHASE_MAIL),
	    enh), "2.6.0");
	ck_assert_str_eq(ENH_TEXT(sr_policy_default_enh(&p, 250, SR_PHASE_RCPT),
	    enh), "2.6.0");
	ck_assert_str_eq(ENH_TEXT(sr_policy_default_enh(&p, 251, SR_PHASE_RCPT),
	    enh), "2.1.5");
}
END_TEST

static const struct bad_default_case {
	unsigned code;
	const char *enh;
} bad_default_cases[] = {
	{ 450, "5.2.0" },	/* class differs */
	{ 550, "4.7.1" },
	{ 250, "5.0.0" },
	{ 354, "2.0.0" },	/* 3xx takes none */
	{ 350, "3.0.0" },
	{ 199, "1.0.0" },
	{ 150, "2.0.0" },
	{ 600, "5.0.0" },
	{ 650, "5.0.0" },
	{ 1000, "5.0.0" },
	{ 4294967295u, "5.0.0" },
	{ 450, NULL },
	{ 450, "" },
	{ 450, "4.02.0" },
	{ 450, "4.2" },
	{ 450, "4.2.0 " },
	{ 450, "4.2.1000" },
	{ 450, "x" },
};

START_TEST(test_policy_set_default_invalid)
{
	const struct bad_default_case *c = &bad_default_cases[_i];
	struct sr_policy p;

	sr_policy_init(&p);
	ck_assert_msg(sr_policy_set_default(&p, c->code, c->enh) == -1,
	    "%u \"%s\" accepted", c->code, c->enh ? c->enh : "(null)");
	ck_assert(memcmp(&p, sr_policy_shipped(), sizeof(p)) == 0);
}
END_TEST

START_TEST(test_policy_set_replacement)
{
	struct sr_policy p;
	char enh[SR_ENH_STRLEN];

	sr_policy_init(&p);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, "5.7.1"), 0);
	ck_assert_uint_eq(p.replace[557], 554);
	ck_assert_str_eq(ENH_TEXT(p.replace_enh[557], enh), "5.7.1");
	/* Without an enhanced code: the target's default. */
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, NULL), 0);
	ck_assert_uint_eq(p.replace[557], 554);
	ck_assert_uint_eq(p.replace_enh[557].cls, 0);
	/* A code outside the catalog may be mapped too. */
	ck_assert_int_eq(sr_policy_set_replacement(&p, 599, 554, "5.7.1"), 0);
	ck_assert_uint_eq(p.replace[599], 554);
	/* The shipped tables are untouched. */
	ck_assert_uint_eq(sr_policy_shipped()->replace[557], 550);
}
END_TEST

static const struct bad_replacement_case {
	unsigned code, newcode;
	const char *enh;
} bad_replacement_cases[] = {
	{ 557, 572, NULL },		/* target not standard */
	{ 557, 557, NULL },		/* itself */
	{ 557, 200, NULL },
	{ 557, 599, NULL },
	{ 557, 999, NULL },
	{ 557, 0, NULL },
	{ 557, 1000, NULL },
	{ 557, 354, NULL },		/* 3xx target */
	{ 557, 334, NULL },
	{ 1000, 550, NULL },		/* code out of range */
	{ 4294967295u, 550, NULL },
	{ 557, 550, "4.7.1" },		/* class differs from target */
	{ 557, 550, "5.07.1" },
	{ 557, 550, "" },
	{ 557, 550, "5.7" },
	{ 550, 554, NULL },		/* 550 is a target: chain */
	{ 451, 450, NULL },
	{ 250, 220, NULL },
	{ 550, 550, NULL },
};

START_TEST(test_policy_set_replacement_invalid)
{
	const struct bad_replacement_case *c = &bad_replacement_cases[_i];
	struct sr_policy p;

	sr_policy_init(&p);
	ck_assert_msg(sr_policy_set_replacement(&p, c->code, c->newcode,
	    c->enh) == -1, "%u -> %u \"%s\" accepted", c->code, c->newcode,
	    c->enh ? c->enh : "(null)");
	ck_assert(memcmp(&p, sr_policy_shipped(), sizeof(p)) == 0);
}
END_TEST

/* A replacement cannot point at a code that is itself replaced. */
START_TEST(test_policy_no_chains)
{
	struct sr_policy p;

	sr_policy_init(&p);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 554, 551, NULL), 0);
	ck_assert_int_eq(sr_policy_set_replacement(&p, 557, 554, NULL), -1);
	ck_assert_uint_eq(p.replace[557], 550);
	/* 551 is now a target: it cannot be replaced in turn. */
	ck_assert_int_eq(sr_policy_set_replacement(&p, 551, 550, NULL), -1);
	ck_assert_uint_eq(p.replace[551], 0);
}
END_TEST

/* ---- phases ------------------------------------------------------------ */

static const struct phase_name_case {
	enum sr_phase phase;
	const char *name;
} phase_name_cases[] = {
	{ SR_PHASE_CONNECT, "connect" },
	{ SR_PHASE_HELO, "helo" },
	{ SR_PHASE_MAIL, "mail" },
	{ SR_PHASE_RCPT, "rcpt" },
	{ SR_PHASE_DATA, "data" },
	{ SR_PHASE_EOM, "eom" },
	{ SR_PHASE_OTHER, "other" },
};

START_TEST(test_phase_name)
{
	const struct phase_name_case *c = &phase_name_cases[_i];

	ck_assert_str_eq(sr_phase_name(c->phase), c->name);
	ck_assert_int_eq(sr_phase_lookup(c->name), (int)c->phase);
}
END_TEST

START_TEST(test_phase_name_invalid)
{
	ck_assert_uint_eq(NELEM(phase_name_cases), SR_PHASE__COUNT);
	ck_assert_ptr_null(sr_phase_name(SR_PHASE__COUNT));
	ck_assert_ptr_null(sr_phase_name((enum sr_phase)-1));
}
END_TEST

static const struct phase_lookup_case {
	const char *name;
	int phase;
} phase_lookup_cases[] = {
	{ "ehlo", SR_PHASE_HELO },
	{ "EHLO", SR_PHASE_HELO },
	{ "Helo", SR_PHASE_HELO },
	{ "RCPT", SR_PHASE_RCPT },
	{ "Mail", SR_PHASE_MAIL },
	{ "CONNECT", SR_PHASE_CONNECT },
	{ "connection", SR_PHASE_CONNECT },
	{ "end-of-message", SR_PHASE_EOM },
	{ "End-Of-Data", SR_PHASE_EOM },
	{ "end-of-data", SR_PHASE_EOM },
	{ "EOM", SR_PHASE_EOM },
	{ "Other", SR_PHASE_OTHER },
	{ "", -1 },
	{ "rcpt ", -1 },
	{ " rcpt", -1 },
	{ "rcp", -1 },
	{ "rcptt", -1 },
	{ "bogus", -1 },
	{ "end_of_message", -1 },
};

START_TEST(test_phase_lookup)
{
	const struct phase_lookup_case *c = &phase_lookup_cases[_i];

	ck_assert_msg(sr_phase_lookup(c->name) == c->phase, "\"%s\": got %d, want %d",
	    c->name, sr_phase_lookup(c->name), c->phase);
}
END_TEST

START_TEST(test_phase_lookup_null)
{
	ck_assert_int_eq(sr_phase_lookup(NULL), -1);
}
END_TEST

static const struct expects_case {
	enum sr_phase phase;
	unsigned code;
	bool expected;
} expects_cases[] = {
	{ SR_PHASE_CONNECT, 220, true },
	{ SR_PHASE_CONNECT, 554, true },
	{ SR_PHASE_CONNECT, 421, true },
	{ SR_PHASE_CONNECT, 500, true },
	{ SR_PHASE_CONNECT, 250, false },
	{ SR_PHASE_CONNECT, 550, false },
	{ SR_PHASE_HELO, 250, true },
	{ SR_PHASE_HELO, 504, true },
	{ SR_PHASE_HELO, 550, true },
	{ SR_PHASE_HELO, 502, true },
	{ SR_PHASE_HELO, 251, false },
	{ SR_PHASE_HELO, 554, false },
	{ SR_PHASE_MAIL, 250, true },
	{ SR_PHASE_MAIL, 455, true },
	{ SR_PHASE_MAIL, 553, true },
	{ SR_PHASE_MAIL, 555, true },
	{ SR_PHASE_MAIL, 251, false },
	{ SR_PHASE_MAIL, 450, false },
	{ SR_PHASE_MAIL, 551, false },
	{ SR_PHASE_RCPT, 250, true },
	{ SR_PHASE_RCPT, 251, true },
	{ SR_PHASE_RCPT, 450, true },
	{ SR_PHASE_RCPT, 551, true },
	{ SR_PHASE_RCPT, 501, true },
	{ SR_PHASE_RCPT, 554, false },
	{ SR_PHASE_RCPT, 505, false },
	{ SR_PHASE_RCPT, 499, false },
	{ SR_PHASE_RCPT, 557, false },
	{ SR_PHASE_DATA, 354, true },
	{ SR_PHASE_DATA, 503, true },
	{ SR_PHASE_DATA, 554, true },
	{ SR_PHASE_DATA, 250, false },
	{ SR_PHASE_DATA, 550, false },
	{ SR_PHASE_EOM, 250, true },
	{ SR_PHASE_EOM, 450, true },
	{ SR_PHASE_EOM, 550, true },
	{ SR_PHASE_EOM, 552, true },
	{ SR_PHASE_EOM, 354, false },
	{ SR_PHASE_EOM, 553, false },
	{ SR_PHASE_OTHER, 999, true },
	{ SR_PHASE_OTHER, 0, true },
	{ SR_PHASE_OTHER, 211, true },
};

START_TEST(test_phase_expects)
{
	const struct expects_case *c = &expects_cases[_i];

	ck_assert_msg(sr_phase_expects(c->phase, c->code) == c->expected,
	    "%u at %s: want %s", c->code, sr_phase_name(c->phase),
	    c->expected ? "expected" : "unexpected");
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static void add_loop(Suite *s, const char *name, const TTest *test, size_t n)
{
	TCase *tc = tcase_create(name);

	tcase_add_loop_test(tc, test, 0, (int)n);
	suite_add_tcase(s, tc);
}

static void add_one(Suite *s, const char *name, const TTest *test)
{
	add_loop(s, name, test, 1);
}

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");

	add_one(s, "enhanced_count", test_enhanced_count);
	add_loop(s, "enhanced_sorted", test_enhanced_sorted, 81);
	add_loop(s, "enhanced_rows", test_enhanced_rows, NELEM(enhanced_rows));
	add_loop(s, "enhanced_lookup", test_enhanced_lookup, NELEM(lookup_cases));
	add_loop(s, "enh_parse", test_enh_parse, NELEM(parse_cases));
	add_one(s, "enh_parse_null", test_enh_parse_null);
	add_loop(s, "enh_format", test_enh_format, NELEM(format_cases));
	add_loop(s, "enh_round_trip", test_enh_round_trip, 81);
	add_loop(s, "associated", test_associated, NELEM(assoc_cases));
	add_one(s, "associated_null", test_associated_null);
	add_one(s, "basic_count", test_basic_count);
	add_loop(s, "basic_origin", test_basic_origin, NELEM(catalog_codes));
	add_loop(s, "basic_rows", test_basic_rows, NELEM(catalog_codes));
	add_loop(s, "basic_lookup", test_basic_lookup, NELEM(basic_cases));
	add_loop(s, "code_is_standard", test_code_is_standard,
	    NELEM(standard_cases));
	add_one(s, "version", test_version);
	add_loop(s, "shipped_defaults", test_shipped_defaults,
	    NELEM(default_cases));
	add_loop(s, "shipped_replacements", test_shipped_replacements,
	    NELEM(replacement_cases));
	add_one(s, "shipped_replacement_targets",
	    test_shipped_replacement_targets);
	add_one(s, "shipped_phase_defaults", test_shipped_phase_defaults);
	add_one(s, "shipped_defaults_registered",
	    test_shipped_defaults_registered);
	add_one(s, "policy_init", test_policy_init);
	add_one(s, "policy_set_default", test_policy_set_default);
	add_one(s, "policy_set_default_drops_phase",
	    test_policy_set_default_drops_phase);
	add_loop(s, "policy_set_default_invalid", test_policy_set_default_invalid,
	    NELEM(bad_default_cases));
	add_one(s, "policy_set_replacement", test_policy_set_replacement);
	add_loop(s, "policy_set_replacement_invalid",
	    test_policy_set_replacement_invalid, NELEM(bad_replacement_cases));
	add_one(s, "policy_no_chains", test_policy_no_chains);
	add_loop(s, "phase_name", test_phase_name, NELEM(phase_name_cases));
	add_one(s, "phase_name_invalid", test_phase_name_invalid);
	add_loop(s, "phase_lookup", test_phase_lookup, NELEM(phase_lookup_cases));
	add_one(s, "phase_lookup_null", test_phase_lookup_null);
	add_loop(s, "phase_expects", test_phase_expects, NELEM(expects_cases));
	return s;
}

int main(void)
{
	return tu_run(registry_suite());
}
