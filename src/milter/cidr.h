/*
 * SPDX-License-Identifier: ISC
 * cidr.h - IPv4/IPv6 addresses and CIDR blocks for the milter's rules.
 *
 * A rule's "client" condition lists addresses and blocks such as
 * "192.0.2.0/24", "2001:db8::/32" or a bare "192.0.2.7". Parsing is
 * strict: a prefix length must be a plain decimal number within the
 * family's range, and a block may not have host bits set beyond its
 * prefix (that is almost always a typo). An IPv4-mapped IPv6 address
 * ("::ffff:192.0.2.1") is treated as the IPv4 address it maps, both as a
 * client and in a block ("::ffff:192.0.2.0/120" is "192.0.2.0/24"), so a
 * dual-stack listener matches IPv4 blocks as expected.
 *
 * Reentrant, no allocation.
 */
#ifndef SMTPREPLY_MILTER_CIDR_H
#define SMTPREPLY_MILTER_CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

/* An address: AF_INET uses bytes[0..4), AF_INET6 bytes[0..16). */
struct cidr_addr {
	int family;
	unsigned char bytes[16];
};

/* A block: NET with the first PREFIX bits significant. */
struct cidr {
	struct cidr_addr net;
	unsigned prefix;
};

/* Longest text a block formats to: IPv6 text, "/128", NUL. */
#define CIDR_STRLEN 52

/*
 * Parse an address: dotted IPv4, IPv6 text (no zone), optionally written
 * "[...]" or "IPv6:..." as MTAs hand it to milters. Mapped IPv6 becomes
 * IPv4. Returns 0, or -1 when S is not an address.
 */
int cidr_addr_parse(const char *s, struct cidr_addr *a);

/* Address of an AF_INET/AF_INET6 socket address. Returns 0, or -1. */
int cidr_addr_from_sockaddr(const struct sockaddr *sa, struct cidr_addr *a);

/*
 * Parse a block "ADDR/LEN" or a bare "ADDR" (a host: /32 or /128). On
 * error returns -1 and writes a message into ERR (always NUL-terminated
 * when ERRSIZE > 0): "bad address", "bad prefix length", "prefix length
 * over 32 for IPv4", "host bits set (did you mean 192.0.2.0/24?)".
 */
int cidr_parse(const char *s, struct cidr *c, char *err, size_t errsize);

/* True when A lies in C (same family after mapping). */
bool cidr_match(const struct cidr *c, const struct cidr_addr *a);

/* Same for an address string (false when it is not an address). */
bool cidr_match_str(const struct cidr *c, const char *addr);

/* Same for a socket address (false when not AF_INET/AF_INET6). */
bool cidr_match_sockaddr(const struct cidr *c, const struct sockaddr *sa);

/* True when A lies in any of the N blocks of V. */
bool cidr_list_match(const struct cidr *v, size_t n, const struct cidr_addr *a);

/* "192.0.2.0/24", "2001:db8::/32" into BUF (CIDR_STRLEN is enough). */
void cidr_format(const struct cidr *c, char *buf, size_t size);

#endif /* SMTPREPLY_MILTER_CIDR_H */
