/*
 * SPDX-License-Identifier: ISC
 * test_rules.c - the rule matcher: every condition, every action, file
 * order, first match, "continue", the case-insensitive flag, header name
 * case, macros, "authenticated", regex compile errors and the phases and
 * macros a rule set needs.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <check.h>

#include "rules.h"
#include "testutil.h"


/* The tables leave trailing conditions out: they are NULL / 0. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- building rules and sessions from compact specs ------------------------ */

struct rspec {
	const char *name;
	enum rule_phase phase;
	enum rule_action action;
	const char *client;	/* comma-separated blocks */
	const char *client_name, *helo, *sender, *rcpt;
	const char *hname, *hvalue;
	const char *mname, *mvalue;
	int auth;		/* 0: none, 1: true, 2: false */
};

struct sspec {
	const char *client_addr, *client_name, *helo, *sender, *rcpt;
	const char *hname, *hvalue;
	const char *macros;	/* "{a}=x;{b}=y" */
	bool no_macro_fn;
};

static void regex(struct rule_regex *rx, const char *src)
{
	char err[256];

	if (src != NULL)
		ck_assert_msg(rule_regex_compile(rx, src, err, sizeof(err)) == 0,
			      "%s: %s", src, err);
}

static struct rule *build(const struct rspec *sp)
{
	struct rule *r = rule_new(sp->name);
	char err[128];

	ck_assert_ptr_nonnull(r);
	r->phase = sp->phase;
	r->action = sp->action;
	if (sp->client != NULL) {
		char *list = strdup(sp->client), *save = NULL, *tok;

		ck_assert_ptr_nonnull(list);
		r->clients = calloc(16, sizeof(*r->clients));
		ck_assert_ptr_nonnull(r->clients);
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			ck_assert_msg(cidr_parse(tok, &r->clients[r->nclients], err,
						 sizeof(err)) == 0, "%s: %s", tok, err);
			r->nclients++;
		}
		free(list);
	}
	regex(&r->client_name, sp->client_name);
	regex(&r->helo, sp->helo);
	regex(&r->sender, sp->sender);
	regex(&r->rcpt, sp->rcpt);
	if (sp->hname != NULL) {
		r->header_name = strdup(sp->hname);
		regex(&r->header_value, sp->hvalue);
	}
	if (sp->mname != NULL) {
		r->macro_name = strdup(sp->mname);
		regex(&r->macro_value, sp->mvalue);
	}
	r->authenticated = sp->auth == 0 ? -1 : sp->auth == 1;
	return r;
}

/* Macro lookup over "{a}=x;{b}=y": the value is returned from a buffer
 * owned by the context, like libmilter's smfi_getsymval. */
struct macro_ctx {
	const char *macros;
	char buf[256];
};

static const char *macro_lookup(void *vctx, const char *name)
{
	struct macro_ctx *ctx = vctx;
	const char *p = ctx->macros;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			memcpy(ctx->buf, p + nlen + 1, len - nlen - 1);
			ctx->buf[len - nlen - 1] = '\0';
			return ctx->buf;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

static void session(struct rules_session *s, struct macro_ctx *mc,
		    const struct sspec *sp)
{
	memset(s, 0, sizeof(*s));
	s->client_addr = sp->client_addr;
	s->client_name = sp->client_name;
	s->helo = sp->helo;
	s->sender = sp->sender;
	s->rcpt = sp->rcpt;
	s->header_name = sp->hname;
	s->header_value = sp->hvalue;
	s->queue_id = "4XyZ1";
	mc->macros = sp->macros;
	if (!sp->no_macro_fn) {
		s->macro = macro_lookup;
		s->macro_ctx = mc;
	}
}

/* ---- one rule, one session: does it match? -------------------------------- */

struct crow {
	struct rspec r;
	struct sspec s;
	bool match;
};

#define R_(...) { "r", RULE_PHASE_RCPT, RULE_REJECT, __VA_ARGS__ }

static const struct crow crows[] = {
	/* No condition: always. */
	{ R_(NULL), { NULL }, true },
	/* client */
	{ R_("192.0.2.0/24"), { .client_addr = "192.0.2.9" }, true },
	{ R_("192.0.2.0/24"), { .client_addr = "192.0.3.9" }, false },
	{ R_("192.0.2.0/24,2001:db8::/32"), { .client_addr = "IPv6:2001:db8::1" }, true },
	{ R_("192.0.2.0/24"), { .client_addr = "::ffff:192.0.2.1" }, true },
	{ R_("192.0.2.0/24"), { .client_addr = NULL }, false },
	{ R_("192.0.2.0/24"), { .client_addr = "garbage" }, false },
	/* client_name */
	{ R_(NULL, "/\\.example\\.org$/"), { .client_name = "mx.example.org" }, true },
	{ R_(NULL, "/\\.example\\.org$/"), { .client_name = "mx.EXAMPLE.org" }, false },
	{ R_(NULL, "/\\.example\\.org$/i"), { .client_name = "mx.EXAMPLE.org" }, true },
	{ R_(NULL, "/^unknown$/"), { .client_name = NULL }, false },
	/* helo */
	{ R_(NULL, NULL, "/^\\[?[0-9.]+\\]?$/"), { .helo = "[192.0.2.1]" }, true },
	{ R_(NULL, NULL, "/^\\[?[0-9.]+\\]?$/"), { .helo = "mail.example.org" }, false },
	/* sender */
	{ R_(NULL, NULL, NULL, "/@spam\\.example$/"), { .sender = "<a@spam.example" }, true },
	{ R_(NULL, NULL, NULL, "/@spam\\.example>$/"), { .sender = "<a@SPAM.example>" }, false },
	{ R_(NULL, NULL, NULL, "/@spam\\.example>$/i"), { .sender = "<a@SPAM.example>" }, true },
	{ R_(NULL, NULL, NULL, "/^<>$/"), { .sender = "<>" }, true },
	{ R_(NULL, NULL, NULL, "//"), { .sender = "" }, true },
	{ R_(NULL, NULL, NULL, "//"), { .sender = NULL }, false },
	/* a slash inside the pattern: the last one closes it */
	{ R_(NULL, NULL, NULL, "/a/b/"), { .sender = "xa/by" }, true },
	/* rcpt */
	{ R_(NULL, NULL, NULL, NULL, "/^<postmaster@/i"), { .rcpt = "<Postmaster@example.org>" }, true },
	{ R_(NULL, NULL, NULL, NULL, "/^<postmaster@/"), { .rcpt = "<Postmaster@example.org>" }, false },
	/* 8-bit subjects are bytes, never an error */
	{ R_(NULL, NULL, NULL, NULL, "/caf/"), { .rcpt = "<caf\xc3\xa9\xff@x>" }, true },
	/* header: name case-insensitive, value a regex */
	{ R_(NULL, NULL, NULL, NULL, NULL, "Subject", "/viagra/i"),
	  { .hname = "subject", .hvalue = "Cheap VIAGRA" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, "Subject", "/viagra/i"),
	  { .hname = "SUBJECT", .hvalue = "Cheap VIAGRA" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, "Subject", "/viagra/"),
	  { .hname = "Subject", .hvalue = "Cheap VIAGRA" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, "Subject", "/viagra/i"),
	  { .hname = "X-Subject", .hvalue = "viagra" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, "Subject", "/viagra/i"),
	  { .hname = NULL, .hvalue = "viagra" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, "X-Spam", NULL),
	  { .hname = "x-spam", .hvalue = "" }, true },
	/* macro */
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{auth_authen}", "/.+/"),
	  { .macros = "{auth_authen}=alice" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{auth_authen}", "/.+/"),
	  { .macros = "{auth_authen}=" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{auth_authen}", "/.+/"),
	  { .macros = "{other}=x" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{auth_authen}", "/.+/"),
	  { .macros = "{auth_authen}=alice", .no_macro_fn = true }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{daemon_name}", "/^ORIGINATING$/"),
	  { .macros = "{daemon_name}=ORIGINATING" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{daemon_name}", NULL),
	  { .macros = "{daemon_name}=x" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "{daemon_name}", NULL),
	  { .macros = "{daemon_name}=" }, false },
	/* authenticated */
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	  { .macros = "{auth_authen}=alice" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	  { .macros = "{auth_authen}=" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	  { .macros = "" }, false },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2),
	  { .macros = "" }, true },
	{ R_(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2),
	  { .macros = "{auth_authen}=alice" }, false },
	/* all conditions must hold */
	{ R_("192.0.2.0/24", NULL, NULL, "/@example\\.org>$/", "/^<bob@/"),
	  { .client_addr = "192.0.2.1", .sender = "<a@example.org>", .rcpt = "<bob@x>" }, true },
	{ R_("192.0.2.0/24", NULL, NULL, "/@example\\.org>$/", "/^<bob@/"),
	  { .client_addr = "192.0.2.1", .sender = "<a@example.org>", .rcpt = "<eve@x>" }, false },
	{ R_("192.0.2.0/24", NULL, NULL, "/@example\\.org>$/", "/^<bob@/"),
	  { .client_addr = "198.51.100.1", .sender = "<a@example.org>", .rcpt = "<bob@x>" }, false },
	{ R_("192.0.2.0/24", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	  { .client_addr = "192.0.2.1", .macros = "" }, false },
};

START_TEST(test_condition)
{
	const struct crow *row = &crows[_i];
	struct rule *r = build(&row->r);
	struct rules_session s;
	struct macro_ctx mc;

	session(&s, &mc, &row->s);
	ck_assert_msg(rule_matches(r, &s) == (int)row->match, "row %d: expected %s",
		      _i, row->match ? "a match" : "no match");
	rule_free(r);
}
END_TEST

/* ---- rule sets: order, first match, continue, every action --------------- */

struct orow {
	struct rspec rules[4];
	size_t nrules;
	enum rule_phase phase;
	struct sspec s;
	const char *expect;	/* name of the deciding rule, NULL: none */
	const char *continued;	/* names of the continue rules reported */
};

#define RR(name, ph, act, ...) { name, RULE_PHASE_##ph, RULE_##act, __VA_ARGS__ }

static const struct orow orows[] = {
	/* every action decides */
	{ { RR("a", MAIL, ACCEPT, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, "a", "" },
	{ { RR("a", MAIL, REJECT, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, "a", "" },
	{ { RR("a", MAIL, TEMPFAIL, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, "a", "" },
	{ { RR("a", MAIL, DISCARD, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, "a", "" },
	{ { RR("a", MAIL, QUARANTINE, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, "a", "" },
	/* continue reports and goes on */
	{ { RR("a", MAIL, CONTINUE, NULL) }, 1, RULE_PHASE_MAIL, { 0 }, NULL, "a" },
	{ { RR("a", MAIL, CONTINUE, NULL), RR("b", MAIL, CONTINUE, NULL),
	    RR("c", MAIL, REJECT, NULL), RR("d", MAIL, CONTINUE, NULL) }, 4,
	  RULE_PHASE_MAIL, { 0 }, "c", "a,b" },
	/* first match wins, in file order */
	{ { RR("a", RCPT, TEMPFAIL, NULL), RR("b", RCPT, REJECT, NULL) }, 2,
	  RULE_PHASE_RCPT, { 0 }, "a", "" },
	{ { RR("a", RCPT, REJECT, NULL, NULL, NULL, NULL, "/^<x@/"),
	    RR("b", RCPT, TEMPFAIL, NULL) }, 2,
	  RULE_PHASE_RCPT, { .rcpt = "<y@z>" }, "b", "" },
	{ { RR("a", RCPT, REJECT, NULL, NULL, NULL, NULL, "/^<x@/"),
	    RR("b", RCPT, TEMPFAIL, NULL) }, 2,
	  RULE_PHASE_RCPT, { .rcpt = "<x@z>" }, "a", "" },
	/* accept stops the search: the reject after it never runs */
	{ { RR("ok", MAIL, ACCEPT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	    RR("no", MAIL, REJECT, NULL) }, 2,
	  RULE_PHASE_MAIL, { .macros = "{auth_authen}=alice" }, "ok", "" },
	{ { RR("ok", MAIL, ACCEPT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1),
	    RR("no", MAIL, REJECT, NULL) }, 2,
	  RULE_PHASE_MAIL, { .macros = "" }, "no", "" },
	/* other phases are not looked at */
	{ { RR("a", CONNECT, REJECT, NULL), RR("b", EOM, REJECT, NULL) }, 2,
	  RULE_PHASE_MAIL, { 0 }, NULL, "" },
	{ { RR("a", CONNECT, REJECT, NULL), RR("b", EOM, REJECT, NULL) }, 2,
	  RULE_PHASE_EOM, { 0 }, "b", "" },
	{ { RR("a", HEADER, REJECT, NULL, NULL, NULL, NULL, NULL, "subject", "/x/") }, 1,
	  RULE_PHASE_HEADER, { .hname = "Subject", .hvalue = "x" }, "a", "" },
	/* nothing matches */
	{ { RR("a", HELO, REJECT, NULL, NULL, "/^localhost$/") }, 1,
	  RULE_PHASE_HELO, { .helo = "mx.example.org" }, NULL, "" },
	{ { { 0 } }, 0, RULE_PHASE_RCPT, { 0 }, NULL, "" },
};

struct seen {
	char names[128];
};

static void on_continue(void *ctx, const struct rule *r)
{
	struct seen *s = ctx;

	if (s->names[0] != '\0')
		strcat(s->names, ",");
	strcat(s->names, r->name);
}

START_TEST(test_order)
{
	const struct orow *row = &orows[_i];
	struct rule_set rs;
	struct rules_session s;
	struct macro_ctx mc;
	struct seen seen = { "" };
	const struct rule *m = (const struct rule *)&rs;
	size_t i;
	int rc;

	rule_set_init(&rs);
	for (i = 0; i < row->nrules; i++)
		ck_assert_int_eq(rule_set_add(&rs, build(&row->rules[i])), 0);
	ck_assert_int_eq(rule_set_finish(&rs), 0);
	session(&s, &mc, &row->s);
	rc = rules_match(&rs, row->phase, &s, on_continue, &seen, &m);
	if (row->expect == NULL) {
		ck_assert_msg(rc == 0, "row %d: rc %d", _i, rc);
		ck_assert_ptr_null(m);
	} else {
		ck_assert_msg(rc == 1, "row %d: rc %d", _i, rc);
		ck_assert_str_eq(m->name, row->expect);
	}
	ck_assert_str_eq(seen.names, row->continued);
	/* Without a callback, the same verdict. */
	rc = rules_match(&rs, row->phase, &s, NULL, NULL, &m);
	ck_assert_int_eq(rc, row->expect != NULL);
	rule_set_free(&rs);
}
END_TEST

/* ---- regex compilation errors ------------------------------------------------ */

struct xrow {
	const char *src;
	const char *err;
};

static const struct xrow xrows[] = {
	{ "/ok/", NULL },
	{ "/ok/i", NULL },
	{ "/ok/ii", NULL },
	{ "//", NULL },
	{ "ok", "regular expression must be written /.../ (optional flag i)" },
	{ "/ok", "regular expression must be written /.../ (optional flag i)" },
	{ "/", "regular expression must be written /.../ (optional flag i)" },
	{ "", "regular expression must be written /.../ (optional flag i)" },
	{ "/ok/x", "unknown regular expression flag 'x' (only i)" },
	{ "/ok/g", "unknown regular expression flag 'g' (only i)" },
	{ "/ok/\t", "unknown regular expression flag (only i)" },
	{ "/(a/", "bad regular expression: missing closing parenthesis at offset 2 in /(a/" },
	{ "/a[/", "bad regular expression: missing terminating ] for character class at offset 2 in /a[/" },
	{ "/*a/", "bad regular expression: quantifier does not follow a repeatable item at offset 0 in /*a/" },
};

START_TEST(test_regex)
{
	const struct xrow *row = &xrows[_i];
	struct rule_regex rx;
	char err[256];
	int rc = rule_regex_compile(&rx, row->src, err, sizeof(err));

	if (row->err == NULL) {
		ck_assert_msg(rc == 0, "row %d: %s", _i, err);
		ck_assert_ptr_nonnull(rx.code);
		ck_assert_str_eq(rx.source, row->src);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, row->err);
		ck_assert_ptr_null(rx.code);
	}
	rule_regex_free(&rx);
}
END_TEST

/* A pattern that backtracks catastrophically hits the match limit and is
 * reported as an internal error, not a hang. */
START_TEST(test_match_limit)
{
	struct rspec sp = R_(NULL, NULL, NULL, "/^(a+)+$/");
	struct rule *r = build(&sp);
	struct rules_session s;
	struct macro_ctx mc;
	struct sspec ss = { .sender = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab" };

	session(&s, &mc, &ss);
	ck_assert_int_eq(rule_matches(r, &s), -1);
	rule_free(r);
}
END_TEST

/* ---- what the daemon negotiates ---------------------------------------------- */

START_TEST(test_phases_needed)
{
	struct rspec specs[] = {
		RR("a", CONNECT, REJECT, NULL),
		RR("b", RCPT, REJECT, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		   "{rcpt_mailer}", "/x/", 1),
		RR("c", RCPT, CONTINUE, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		   "{auth_authen}", "/x/"),
		RR("d", HEADER, REJECT, NULL),
	};
	const char *names[4];
	struct rule_set rs;
	size_t i;

	rule_set_init(&rs);
	ck_assert_int_eq(rule_set_finish(&rs), 0);
	ck_assert_uint_eq(rules_phases_needed(&rs), 0);
	for (i = 0; i < NROWS(specs); i++)
		ck_assert_int_eq(rule_set_add(&rs, build(&specs[i])), 0);
	ck_assert_int_eq(rule_set_finish(&rs), 0);
	ck_assert_uint_eq(rules_phases_needed(&rs),
			  (1u << RULE_PHASE_CONNECT) | (1u << RULE_PHASE_RCPT) |
			  (1u << RULE_PHASE_HEADER));
	ck_assert_uint_eq(rules_macros_needed(&rs, RULE_PHASE_RCPT, names, 4), 2);
	ck_assert_str_eq(names[0], "{auth_authen}");
	ck_assert_str_eq(names[1], "{rcpt_mailer}");
	ck_assert_uint_eq(rules_macros_needed(&rs, RULE_PHASE_CONNECT, names, 4), 0);
	ck_assert_ptr_nonnull(rule_set_find(&rs, "c"));
	ck_assert_ptr_null(rule_set_find(&rs, "e"));
	rule_set_free(&rs);
}
END_TEST

START_TEST(test_names)
{
	int i;

	for (i = 0; i < RULE_PHASE__COUNT; i++)
		ck_assert_int_eq(rule_phase_lookup(rule_phase_name((enum rule_phase)i)), i);
	for (i = 0; i < RULE_ACTION__COUNT; i++)
		ck_assert_int_eq(rule_action_lookup(rule_action_name((enum rule_action)i)), i);
	ck_assert_int_eq(rule_phase_lookup("Connect"), -1);
	ck_assert_int_eq(rule_phase_lookup(NULL), -1);
	ck_assert_int_eq(rule_action_lookup("drop"), -1);
	ck_assert_int_eq(rule_phase_sr(RULE_PHASE_HEADER), SR_PHASE_EOM);
	ck_assert_int_eq(rule_phase_sr(RULE_PHASE_EOM), SR_PHASE_EOM);
	ck_assert_int_eq(rule_phase_sr(RULE_PHASE_CONNECT), SR_PHASE_MAIL);
	ck_assert_int_eq(rule_phase_sr(RULE_PHASE_HELO), SR_PHASE_MAIL);
	ck_assert_int_eq(rule_phase_sr(RULE_PHASE_DATA), SR_PHASE_DATA);
	ck_assert(rule_cond_available(RULE_COND_CLIENT, RULE_PHASE_CONNECT));
	ck_assert(!rule_cond_available(RULE_COND_HELO, RULE_PHASE_CONNECT));
	ck_assert(!rule_cond_available(RULE_COND_SENDER, RULE_PHASE_HELO));
	ck_assert(rule_cond_available(RULE_COND_SENDER, RULE_PHASE_EOM));
	ck_assert(!rule_cond_available(RULE_COND_RCPT, RULE_PHASE_DATA));
	ck_assert(rule_cond_available(RULE_COND_HEADER, RULE_PHASE_HEADER));
	ck_assert(!rule_cond_available(RULE_COND_HEADER, RULE_PHASE_EOM));
	ck_assert(!rule_cond_available(RULE_COND_AUTHENTICATED, RULE_PHASE_HELO));
}
END_TEST

/*
 * PCRE2's JIT reads past the end of a subject (valgrind sees it on header
 * values in libmilter's buffer). It must never read across a page end: a
 * value whose terminating NUL is the last byte of a page followed by an
 * inaccessible page is matched by JIT-compiled patterns of the kinds that
 * use its SIMD searches (first character, literal, class, anchored,
 * case-insensitive), at every length from 0 to 200. A read across the
 * page end is a SIGSEGV here (issue 10).
 */
START_TEST(test_jit_stays_in_page)
{
	static const char *const patterns[] = {
		"/x/", "/xyz/", "/[xyz]/", "/^a+x$/", "/b$/i", "/@(spam|junk)\\.example>?$/i",
		"/\\x00/", "/.{1000}/",
	};
	long pagesize = sysconf(_SC_PAGESIZE);
	char *pages = mmap(NULL, (size_t)pagesize * 2, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rules_session view;
	size_t p, len;

	ck_assert_ptr_ne(pages, MAP_FAILED);
	ck_assert_int_eq(mprotect(pages + pagesize, (size_t)pagesize, PROT_NONE), 0);
	for (p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		struct rule *r = rule_new("jit");
		char err[256];

		ck_assert_ptr_nonnull(r);
		r->phase = RULE_PHASE_MAIL;
		r->action = RULE_REJECT;
		ck_assert_msg(rule_regex_compile(&r->sender, patterns[p], err,
						 sizeof(err)) == 0, "%s: %s", patterns[p], err);
		for (len = 0; len <= 200; len++) {
			char *v = pages + pagesize - 1 - len;

			memset(v, 'a', len);
			v[len] = '\0';		/* the page's last byte */
			memset(&view, 0, sizeof(view));
			view.sender = v;
			ck_assert_int_ge(rule_matches(r, &view), 0);
		}
		rule_free(r);
	}
	munmap(pages, (size_t)pagesize * 2);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("conditions");

	tcase_add_loop_test(tc, test_condition, 0, (int)NROWS(crows));
	suite_add_tcase(s, tc);
	tc = tcase_create("order");
	tcase_add_loop_test(tc, test_order, 0, (int)NROWS(orows));
	suite_add_tcase(s, tc);
	tc = tcase_create("regex");
	tcase_add_loop_test(tc, test_regex, 0, (int)NROWS(xrows));
	tcase_add_test(tc, test_match_limit);
	tcase_add_test(tc, test_jit_stays_in_page);
	suite_add_tcase(s, tc);
	tc = tcase_create("misc");
	tcase_add_test(tc, test_phases_needed);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(rules_suite());
}
