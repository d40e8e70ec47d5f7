/*
 * SPDX-License-Identifier: ISC
 * cidr.c - parse and match IPv4/IPv6 addresses and CIDR blocks.
 *
 * Everything here works on bounded copies of the input: an address or a
 * block never needs more than CIDR_STRLEN bytes, so anything longer is
 * refused before inet_pton() sees it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cidr.h"

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Turn an IPv4-mapped IPv6 address into IPv4. */
static void unmap(struct cidr_addr *a)
{
	if (a->family == AF_INET6 &&
	    memcmp(a->bytes, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->family = AF_INET;
	}
}

/* Parse exactly S[0..LEN) as an address, no mapping. */
static int addr_parse_raw(const char *s, size_t len, struct cidr_addr *a)
{
	char buf[CIDR_STRLEN];

	memset(a, 0, sizeof(*a));
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, a->bytes) != 1)
			return -1;
		a->family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, buf, a->bytes) != 1)
			return -1;
		a->family = AF_INET;
	}
	return 0;
}

int cidr_addr_parse(const char *s, struct cidr_addr *a)
{
	size_t len;

	if (s == NULL)
		return -1;
	len = strnlen(s, CIDR_STRLEN + 8);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
		if (memchr(s, ':', len) == NULL)
			return -1;
	}
	if (addr_parse_raw(s, len, a) < 0)
		return -1;
	unmap(a);
	return 0;
}

int cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		a->family = AF_INET;
		memcpy(a->bytes, &sin.sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		a->family = AF_INET6;
		memcpy(a->bytes, &sin6.sin6_addr, 16);
		unmap(a);
	} else
		return -1;
	return 0;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* True when A and B agree in their first PREFIX bits. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b,
			 unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

static void mask_host_bits(unsigned char *bytes, unsigned nbytes,
			   unsigned prefix)
{
	unsigned i;

	for (i = 0; i < nbytes; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		if (prefix <= 8 * i)
			bytes[i] = 0;
		else
			bytes[i] &= (unsigned char)(0xffu << (8 - (prefix - 8 * i)));
	}
}

int cidr_parse(const char *s, struct cidr *c, char *err, size_t errsize)
{
	const char *slash;
	size_t alen, len;
	unsigned long plen = 0;
	bool mapped;
	struct cidr_addr masked;
	char shown[CIDR_STRLEN];

	memset(c, 0, sizeof(*c));
	if (errsize > 0)
		err[0] = '\0';
	if (s == NULL || *s == '\0') {
		snprintf(err, errsize, "empty address");
		return -1;
	}
	len = strnlen(s, CIDR_STRLEN + 1);
	if (len > CIDR_STRLEN) {
		snprintf(err, errsize, "bad address");
		return -1;
	}
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (addr_parse_raw(s, alen, &c->net) < 0) {
		snprintf(err, errsize, "bad address");
		return -1;
	}
	if (slash != NULL) {
		const char *p = slash + 1;

		/* Plain decimal, no sign, no blanks, no leading zero. */
		if (*p == '\0' || (p[0] == '0' && p[1] != '\0')) {
			snprintf(err, errsize, "bad prefix length");
			return -1;
		}
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9' || plen > 1000) {
				snprintf(err, errsize, "bad prefix length");
				return -1;
			}
			plen = plen * 10 + (unsigned long)(*p - '0');
		}
		if (plen > family_bits(c->net.family)) {
			snprintf(err, errsize, "prefix length over %u for %s",
				 family_bits(c->net.family),
				 c->net.family == AF_INET ? "IPv4" : "IPv6");
			return -1;
		}
	} else
		plen = family_bits(c->net.family);
	c->prefix = (unsigned)plen;

	mapped = c->net.family == AF_INET6 &&
		 memcmp(c->net.bytes, v4mapped_prefix, 12) == 0;
	if (mapped && c->prefix < 96) {
		/* ::ffff:0:0/80 and such: a plain IPv6 block, keep it. */
		mapped = false;
	}
	masked = c->net;
	mask_host_bits(masked.bytes, sizeof(masked.bytes), c->prefix);
	if (memcmp(masked.bytes, c->net.bytes, sizeof(masked.bytes)) != 0) {
		struct cidr hint = { masked, c->prefix };

		cidr_format(&hint, shown, sizeof(shown));
		snprintf(err, errsize, "host bits set (did you mean %s?)", shown);
		return -1;
	}
	if (mapped) {
		unmap(&c->net);
		c->prefix -= 96;
	}
	return 0;
}

bool cidr_match(const struct cidr *c, const struct cidr_addr *a)
{
	if (c == NULL || a == NULL || c->net.family != a->family)
		return false;
	return prefix_equal(c->net.bytes, a->bytes, c->prefix);
}

bool cidr_match_str(const struct cidr *c, const char *addr)
{
	struct cidr_addr a;

	if (cidr_addr_parse(addr, &a) < 0)
		return false;
	return cidr_match(c, &a);
}

bool cidr_match_sockaddr(const struct cidr *c, const struct sockaddr *sa)
{
	struct cidr_addr a;

	if (cidr_addr_from_sockaddr(sa, &a) < 0)
		return false;
	return cidr_match(c, &a);
}

bool cidr_list_match(const struct cidr *v, size_t n, const struct cidr_addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&v[i], a))
			return true;
	return false;
}

void cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (size == 0)
		return;
	if (inet_ntop(c->net.family, c->net.bytes, text, sizeof(text)) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, "%s/%u", text, c->prefix);
}
