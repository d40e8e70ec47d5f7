/*
 * SPDX-License-Identifier: ISC
 * test_cidr.c - parsing and matching of addresses and CIDR blocks.
 *
 * Strict parsing (every error message), IPv4 and IPv6 blocks, bare
 * addresses, IPv4-mapped IPv6 on either side, the address forms MTAs
 * hand to milters ("IPv6:...", "[...]") and socket addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "cidr.h"
#include "testutil.h"


/* ---- parsing ------------------------------------------------------------- */

struct prow {
	const char *in;
	const char *err;	/* NULL: parses */
	const char *shown;	/* cidr_format() of the result */
};

static const struct prow prows[] = {
	{ "192.0.2.0/24", NULL, "192.0.2.0/24" },
	{ "192.0.2.7", NULL, "192.0.2.7/32" },
	{ "0.0.0.0/0", NULL, "0.0.0.0/0" },
	{ "10.0.0.0/8", NULL, "10.0.0.0/8" },
	{ "2001:db8::/32", NULL, "2001:db8::/32" },
	{ "2001:db8::1", NULL, "2001:db8::1/128" },
	{ "::/0", NULL, "::/0" },
	{ "::ffff:192.0.2.1", NULL, "192.0.2.1/32" },
	{ "::ffff:192.0.2.0/120", NULL, "192.0.2.0/24" },
	{ "::ffff:0.0.0.0/96", NULL, "0.0.0.0/0" },
	{ "192.0.2.1/32", NULL, "192.0.2.1/32" },
	{ "2001:db8::/128", NULL, "2001:db8::/128" },
	{ "", "empty address", NULL },
	{ "192.0.2.0/", "bad prefix length", NULL },
	{ "192.0.2.0/33", "prefix length over 32 for IPv4", NULL },
	{ "2001:db8::/129", "prefix length over 128 for IPv6", NULL },
	{ "192.0.2.0/024", "bad prefix length", NULL },
	{ "192.0.2.0/+24", "bad prefix length", NULL },
	{ "192.0.2.0/-1", "bad prefix length", NULL },
	{ "192.0.2.0/24 ", "bad prefix length", NULL },
	{ "192.0.2.0/2x", "bad prefix length", NULL },
	{ "192.0.2.0/99999999999999999999", "bad prefix length", NULL },
	{ "192.0.2.0/24/8", "bad prefix length", NULL },
	{ "192.0.2.1/24", "host bits set (did you mean 192.0.2.0/24?)", NULL },
	{ "2001:db8::1/32", "host bits set (did you mean 2001:db8::/32?)", NULL },
	{ "192.0.2", "bad address", NULL },
	{ "192.0.2.256", "bad address", NULL },
	{ "192.0.2.0 /24", "bad address", NULL },
	{ " 192.0.2.0", "bad address", NULL },
	{ "example.org", "bad address", NULL },
	{ "2001:db8:::1", "bad address", NULL },
	{ "fe80::1%eth0", "bad address", NULL },
	{ "/24", "bad address", NULL },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/64",
	  "bad address", NULL },
};

START_TEST(test_parse)
{
	const struct prow *r = &prows[_i];
	struct cidr c;
	char err[128], buf[CIDR_STRLEN];
	int rc = cidr_parse(r->in, &c, err, sizeof(err));

	if (r->err == NULL) {
		ck_assert_msg(rc == 0, "row %d \"%s\": %s", _i, r->in, err);
		cidr_format(&c, buf, sizeof(buf));
		ck_assert_str_eq(buf, r->shown);
	} else {
		ck_assert_msg(rc == -1, "row %d \"%s\" parsed", _i, r->in);
		ck_assert_str_eq(err, r->err);
	}
}
END_TEST

START_TEST(test_parse_null)
{
	struct cidr c;
	char err[32];

	ck_assert_int_eq(cidr_parse(NULL, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty address");
	/* A tiny error buffer is cut, never overrun. */
	ck_assert_int_eq(cidr_parse("192.0.2.1/24", &c, err, 5), -1);
	ck_assert_str_eq(err, "host");
}
END_TEST

/* ---- matching ------------------------------------------------------------ */

struct mrow {
	const char *block;
	const char *addr;
	bool match;
};

static const struct mrow mrows[] = {
	{ "192.0.2.0/24", "192.0.2.0", true },
	{ "192.0.2.0/24", "192.0.2.255", true },
	{ "192.0.2.0/24", "192.0.3.0", false },
	{ "192.0.2.0/24", "192.0.1.255", false },
	{ "192.0.2.0/25", "192.0.2.127", true },
	{ "192.0.2.128/25", "192.0.2.127", false },
	{ "192.0.2.128/25", "192.0.2.128", true },
	{ "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.8", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "172.16.0.0/12", "172.31.0.1", true },
	{ "172.16.0.0/12", "172.32.0.1", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "2001:db8::/33", "2001:db8:7fff::1", true },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "2001:db8::1", "2001:db8::1", true },
	{ "2001:db8::1", "2001:DB8:0:0:0:0:0:1", true },
	{ "2001:db8::1", "2001:db8::2", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "192.0.2.1", false },
	/* IPv4-mapped IPv6 on either side. */
	{ "192.0.2.0/24", "::ffff:192.0.2.1", true },
	{ "192.0.2.0/24", "::FFFF:192.0.2.1", true },
	{ "192.0.2.0/24", "::ffff:192.0.3.1", false },
	{ "::ffff:192.0.2.0/120", "192.0.2.77", true },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.77", true },
	{ "::ffff:192.0.2.1", "192.0.2.1", true },
	/* The forms MTAs use for {client_addr}. */
	{ "2001:db8::/32", "IPv6:2001:db8::5", true },
	{ "2001:db8::/32", "ipv6:2001:db8::5", true },
	{ "192.0.2.0/24", "[192.0.2.5]", true },
	{ "2001:db8::/32", "[IPv6:2001:db8::5]", true },
	{ "192.0.2.0/24", "IPv6:192.0.2.5", false },
	/* Not addresses: never match. */
	{ "0.0.0.0/0", "", false },
	{ "0.0.0.0/0", "unknown", false },
	{ "0.0.0.0/0", "192.0.2.1 ", false },
	{ "0.0.0.0/0", "192.0.2.1\r\n", false },
	{ "::/0", "[", false },
	{ "::/0", "[]", false },
};

START_TEST(test_match)
{
	const struct mrow *r = &mrows[_i];
	struct cidr c;
	char err[128];

	ck_assert_msg(cidr_parse(r->block, &c, err, sizeof(err)) == 0,
		      "row %d: %s", _i, err);
	ck_assert_msg(cidr_match_str(&c, r->addr) == r->match,
		      "row %d: %s in %s: expected %s", _i, r->addr, r->block,
		      r->match ? "match" : "no match");
}
END_TEST

START_TEST(test_match_null)
{
	struct cidr c;
	char err[64];

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
	ck_assert(!cidr_match_str(&c, NULL));
	ck_assert(!cidr_match(&c, NULL));
	ck_assert(!cidr_match_sockaddr(&c, NULL));
}
END_TEST

START_TEST(test_match_long_input)
{
	struct cidr c;
	char err[64], big[4096];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
	ck_assert(!cidr_match_str(&c, big));
	ck_assert_int_eq(cidr_parse(big, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad address");
}
END_TEST

START_TEST(test_sockaddr)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr un;
	struct cidr v4, v6;
	char err[64];

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &v4, err, sizeof(err)), 0);
	ck_assert_int_eq(cidr_parse("2001:db8::/32", &v6, err, sizeof(err)), 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr), 1);
	ck_assert(cidr_match_sockaddr(&v4, (struct sockaddr *)&sin));
	ck_assert(!cidr_match_sockaddr(&v6, (struct sockaddr *)&sin));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr), 1);
	ck_assert(cidr_match_sockaddr(&v6, (struct sockaddr *)&sin6));
	ck_assert(!cidr_match_sockaddr(&v4, (struct sockaddr *)&sin6));

	/* A dual-stack socket reports IPv4 clients as mapped addresses. */
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr), 1);
	ck_assert(cidr_match_sockaddr(&v4, (struct sockaddr *)&sin6));
	ck_assert(!cidr_match_sockaddr(&v6, (struct sockaddr *)&sin6));

	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	ck_assert(!cidr_match_sockaddr(&v4, &un));
}
END_TEST

START_TEST(test_list)
{
	const char *blocks[] = { "192.0.2.0/24", "2001:db8::/32", "203.0.113.5" };
	struct cidr v[3];
	struct cidr_addr a;
	char err[64];
	size_t i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(cidr_parse(blocks[i], &v[i], err, sizeof(err)), 0);
	ck_assert_int_eq(cidr_addr_parse("203.0.113.5", &a), 0);
	ck_assert(cidr_list_match(v, 3, &a));
	ck_assert(!cidr_list_match(v, 2, &a));
	ck_assert(!cidr_list_match(v, 0, &a));
	ck_assert_int_eq(cidr_addr_parse("2001:db8::77", &a), 0);
	ck_assert(cidr_list_match(v, 3, &a));
	ck_assert_int_eq(cidr_addr_parse("198.51.100.1", &a), 0);
	ck_assert(!cidr_list_match(v, 3, &a));
}
END_TEST

static Suite *cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, (int)NROWS(prows));
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0, (int)NROWS(mrows));
	tcase_add_test(tc, test_match_null);
	tcase_add_test(tc, test_match_long_input);
	tcase_add_test(tc, test_sockaddr);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(cidr_suite());
}
