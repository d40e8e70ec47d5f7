/*
 * SPDX-License-Identifier: ISC
 * test_template.c - reply templates: compilation errors, expansion,
 * truncation, and the cleaning of values that keeps CR/LF, '%', NUL,
 * control bytes, 8-bit bytes and unbounded length out of a reply.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "template.h"
#include "testutil.h"


/* ---- compilation ----------------------------------------------------------- */

struct crow {
	const char *src;
	const char *err;	/* NULL: compiles */
	unsigned vars;		/* expected variable bits */
};

#define B(v) (1u << TEMPLATE_##v)

static const struct crow crows[] = {
	{ "550 5.7.1 Rejected", NULL, 0 },
	{ "", NULL, 0 },
	{ "550 5.7.1 Rejected ${client_addr} by ${rule}", NULL, B(CLIENT_ADDR) | B(RULE) },
	{ "${client_addr}${client_name}${helo}${sender}${rcpt}${queue_id}${rule}", NULL,
	  B(CLIENT_ADDR) | B(CLIENT_NAME) | B(HELO) | B(SENDER) | B(RCPT) | B(QUEUE_ID) | B(RULE) },
	{ "cost $5 {not a var} $", NULL, 0 },
	{ "$${sender}", NULL, B(SENDER) },
	{ "550 ${nope}", "unknown variable ${nope} (known: ${client_addr}, ${client_name}, "
	  "${helo}, ${sender}, ${rcpt}, ${queue_id}, ${rule})", 0 },
	{ "550 ${Sender}", "unknown variable ${Sender} (known: ${client_addr}, ${client_name}, "
	  "${helo}, ${sender}, ${rcpt}, ${queue_id}, ${rule})", 0 },
	{ "550 ${sender", "unterminated ${", 0 },
	{ "550 ${", "unterminated ${", 0 },
	{ "550 ${sender} ${rcpt", "unterminated ${", 0 },
	{ "550 ${}", "empty variable ${}", 0 },
	{ "550 ${a\nb}", "unknown variable ${a?b} (known: ${client_addr}, ${client_name}, "
	  "${helo}, ${sender}, ${rcpt}, ${queue_id}, ${rule})", 0 },
};

START_TEST(test_compile)
{
	const struct crow *r = &crows[_i];
	struct template t;
	char err[256];
	int rc = template_compile(&t, r->src, strlen(r->src), err, sizeof(err));

	if (r->err == NULL) {
		ck_assert_msg(rc == 0, "row %d: %s", _i, err);
		ck_assert_uint_eq(t.vars, r->vars);
		ck_assert(template_has_vars(&t) == (r->vars != 0));
	} else {
		ck_assert_msg(rc == -1, "row %d compiled", _i);
		ck_assert_str_eq(err, r->err);
		ck_assert_ptr_null(t.parts);
		ck_assert_ptr_null(t.text);
	}
	template_free(&t);
}
END_TEST

START_TEST(test_compile_long_name)
{
	char src[200], err[256];
	struct template t;

	strcpy(src, "550 ${");
	memset(src + 6, 'x', 100);
	strcpy(src + 106, "}");
	ck_assert_int_eq(template_compile(&t, src, strlen(src), err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "unknown variable ${xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...}", 55) == 0,
		      "%s", err);
}
END_TEST

/* ---- expansion ------------------------------------------------------------- */

struct erow {
	const char *src;
	const char *vals[TEMPLATE__COUNT];
	size_t vlen[TEMPLATE__COUNT];	/* non-zero: value with NUL bytes */
	const char *out;
};

static const struct erow erows[] = {
	{ "550 5.7.1 Rejected ${client_addr} by ${rule}",
	  { [TEMPLATE_CLIENT_ADDR] = "192.0.2.1", [TEMPLATE_RULE] = "block-x" }, { 0 },
	  "550 5.7.1 Rejected 192.0.2.1 by block-x" },
	{ "${client_addr}|${client_name}|${helo}|${sender}|${rcpt}|${queue_id}|${rule}",
	  { "a", "b", "c", "d", "e", "f", "g" }, { 0 }, "a|b|c|d|e|f|g" },
	{ "550 x ${sender} y", { 0 }, { 0 }, "550 x  y" },
	{ "550 ${sender}${sender}", { [TEMPLATE_SENDER] = "<a@b>" }, { 0 }, "550 <a@b><a@b>" },
	{ "cost $5 ${rule}$", { [TEMPLATE_RULE] = "r" }, { 0 }, "cost $5 r$" },
	/* A value is never expanded again. */
	{ "550 ${sender}", { [TEMPLATE_SENDER] = "${rcpt}" }, { 0 }, "550 ${rcpt}" },
	/* Injection attempts. */
	{ "550 ${sender}", { [TEMPLATE_SENDER] = "a\r\n250 OK" }, { 0 }, "550 a??250 OK" },
	{ "550 ${sender}", { [TEMPLATE_SENDER] = "a\nb\rc" }, { 0 }, "550 a?b?c" },
	{ "451 ${helo}", { [TEMPLATE_HELO] = "100% sure %s %n" }, { 0 }, "451 100? sure ?s ?n" },
	{ "550 ${rcpt}", { [TEMPLATE_RCPT] = "\xff\xfe\x80" "abc\x7f" }, { 0 }, "550 ???abc?" },
	{ "550 ${rcpt}", { [TEMPLATE_RCPT] = "\x01\x1b[31m\t" }, { 0 }, "550 ??[31m?" },
	{ "550 ${rcpt}", { [TEMPLATE_RCPT] = "caf\xc3\xa9" }, { 0 }, "550 caf??" },
	{ "550 ${client_name}!", { [TEMPLATE_CLIENT_NAME] = "a\0b" },
	  { [TEMPLATE_CLIENT_NAME] = 3 }, "550 a!" },
	{ "550 ${queue_id}", { [TEMPLATE_QUEUE_ID] = "~ !\"#&'()*+,-./:;<=>?@[\\]^_`{|}" }, { 0 },
	  "550 ~ !\"#&'()*+,-./:;<=>?@[\\]^_`{|}" },
};

START_TEST(test_expand)
{
	const struct erow *r = &erows[_i];
	struct template t;
	struct template_values v;
	char err[256], buf[1024];
	bool trunc = true;
	size_t n;

	memcpy(v.v, r->vals, sizeof(v.v));
	ck_assert_int_eq(template_compile(&t, r->src, strlen(r->src), err, sizeof(err)), 0);
	n = template_expand(&t, &v, buf, sizeof(buf), &trunc);
	ck_assert_msg(strcmp(buf, r->out) == 0, "row %d: got \"%s\"", _i, buf);
	ck_assert_uint_eq(n, strlen(r->out));
	ck_assert(!trunc);
	ck_assert_uint_le(n, template_max_len(&t));
	template_free(&t);
}
END_TEST

/* Lengths of a value and what it cleans to. */
struct lrow {
	size_t in;
	size_t out;
	bool dots;
};

static const struct lrow lrows[] = {
	{ 0, 0, false }, { 1, 1, false }, { 255, 255, false },
	{ 256, 256, false }, { 257, 256, true }, { 300, 256, true },
	{ 10 * 1024, 256, true }, { 1024 * 1024, 256, true },
};

START_TEST(test_value_length)
{
	const struct lrow *r = &lrows[_i];
	char *v = malloc(r->in + 1), out[TEMPLATE_VALUE_MAX + 1];
	size_t n;

	ck_assert_ptr_nonnull(v);
	memset(v, '\n', r->in);	/* worst case: every byte needs cleaning */
	v[r->in] = '\0';
	n = template_clean_value(v, out);
	ck_assert_uint_eq(n, r->out);
	ck_assert_uint_eq(strlen(out), n);
	ck_assert_ptr_null(strpbrk(out, "\r\n%"));
	if (r->dots)
		ck_assert_str_eq(out + n - 3, "...");
	else if (n > 0)
		ck_assert_int_eq(out[n - 1], '?');
	free(v);
}
END_TEST

START_TEST(test_every_byte)
{
	char v[2] = { 0, 0 }, out[TEMPLATE_VALUE_MAX + 1];
	int c;

	for (c = 1; c < 256; c++) {
		bool keep = c >= 0x20 && c < 0x7f && c != '%';

		v[0] = (char)c;
		ck_assert_uint_eq(template_clean_value(v, out), 1);
		ck_assert_msg(keep ? out[0] == (char)c : out[0] == '?',
			      "byte 0x%02x became 0x%02x", c, (unsigned char)out[0]);
	}
	ck_assert_uint_eq(template_clean_value(NULL, out), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Ten-kilobyte values in every variable: bounded, no line break, no '%'. */
START_TEST(test_big_values)
{
	static const char src[] = "550 5.7.1 ${client_addr} ${client_name} ${helo} "
		"${sender} ${rcpt} ${queue_id} ${rule} end";
	struct template t;
	struct template_values v;
	char err[256], *big, *buf;
	size_t n, max, i;
	bool trunc;

	big = malloc(10 * 1024 + 1);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 10 * 1024; i++)
		big[i] = "a%\r\nz\xff"[i % 6];
	big[10 * 1024] = '\0';
	for (i = 0; i < TEMPLATE__COUNT; i++)
		v.v[i] = big;
	ck_assert_int_eq(template_compile(&t, src, strlen(src), err, sizeof(err)), 0);
	max = template_max_len(&t);
	ck_assert_uint_eq(max, strlen(src) - strlen("${client_addr}${client_name}${helo}"
		"${sender}${rcpt}${queue_id}${rule}") + 7 * TEMPLATE_VALUE_MAX);
	buf = malloc(max + 1);
	ck_assert_ptr_nonnull(buf);
	n = template_expand(&t, &v, buf, max + 1, &trunc);
	ck_assert(!trunc);
	ck_assert_uint_eq(n, max);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert_ptr_null(strpbrk(buf, "\r\n%"));
	for (i = 0; i < n; i++)
		ck_assert((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f);
	ck_assert_str_eq(buf + n - 7, "... end");
	free(buf);
	free(big);
	template_free(&t);
}
END_TEST

/* A small buffer: never written past its size, truncation reported. */
START_TEST(test_truncation)
{
	static const char src[] = "550 5.7.1 ${sender} rejected";
	struct template t;
	struct template_values v = { { [TEMPLATE_SENDER] = "<someone@example.org>" } };
	char err[256], buf[64];
	size_t size, n;
	bool trunc;

	ck_assert_int_eq(template_compile(&t, src, strlen(src), err, sizeof(err)), 0);
	for (size = 0; size < sizeof(buf); size++) {
		memset(buf, 'Z', sizeof(buf));
		n = template_expand(&t, &v, buf, size, &trunc);
		ck_assert_uint_eq(n, strlen("550 5.7.1 <someone@example.org> rejected"));
		ck_assert(trunc == (size <= n));
		if (size > 0) {
			ck_assert_uint_eq(strlen(buf), size - 1 < n ? size - 1 : n);
			ck_assert(strncmp(buf, "550 5.7.1 <someone@example.org> rejected",
					  strlen(buf)) == 0);
		}
		if (size < sizeof(buf))
			ck_assert_int_eq(buf[size], 'Z');
	}
	/* NULL values: every variable expands to nothing. */
	n = template_expand(&t, NULL, buf, sizeof(buf), NULL);
	ck_assert_str_eq(buf, "550 5.7.1  rejected");
	ck_assert_uint_eq(n, strlen(buf));
	template_free(&t);
}
END_TEST

START_TEST(test_names)
{
	int i;

	for (i = 0; i < TEMPLATE__COUNT; i++) {
		const char *n = template_var_name((enum template_var)i);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(template_var_lookup(n, strlen(n)), i);
	}
	ck_assert_ptr_null(template_var_name(TEMPLATE__COUNT));
	ck_assert_int_eq(template_var_lookup("rul", 3), -1);
	ck_assert_int_eq(template_var_lookup("rules", 5), -1);
}
END_TEST

static Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("compile");

	tcase_add_loop_test(tc, test_compile, 0, (int)NROWS(crows));
	tcase_add_test(tc, test_compile_long_name);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("expand");
	tcase_add_loop_test(tc, test_expand, 0, (int)NROWS(erows));
	tcase_add_loop_test(tc, test_value_length, 0, (int)NROWS(lrows));
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_big_values);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(template_suite());
}
