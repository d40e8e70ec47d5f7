/*
 * SPDX-License-Identifier: ISC
 * sockmap_load.c - a socketmap load generator for "make bench-filter".
 *
 * Usage: sockmap_load HOST PORT TOTAL BATCH KEY...
 *
 * Opens one TCP connection, builds one batch of BATCH requests cycling
 * through the KEYs ("reject 557 5.7.1 ..."), sends it, reads the replies
 * (a count of whole netstrings), measures how many bytes one batch's
 * replies take, then sends TOTAL/BATCH batches back to back, each written
 * whole and its replies read whole, and prints "LOOKUPS SECONDS" on
 * standard output: the wall time of the timed part. A load generator in C
 * so that the client, not the daemon, is not what the figure measures.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read until COUNT whole netstrings are in; returns their bytes or -1. */
static long read_replies(int fd, char *buf, size_t cap, size_t count)
{
	size_t len = 0, off = 0, seen = 0;

	while (seen < count) {
		ssize_t k = read(fd, buf + len, cap - len);
		size_t n;
		char *colon;

		if (k <= 0)
			return -1;
		len += (size_t)k;
		for (;;) {
			colon = memchr(buf + off, ':', len - off);
			if (colon == NULL)
				break;
			n = strtoul(buf + off, NULL, 10);
			if ((size_t)(colon - buf) + 1 + n + 1 > len)
				break;
			off = (size_t)(colon - buf) + 1 + n + 1;
			seen++;
		}
		if (len == cap)
			return -1;
	}
	return (long)len;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	unsigned long total, batch, i, b;
	size_t reqlen = 0, cap;
	char *req, *buf;
	long want, got;
	double t0;
	int fd, one = 1, nkeys;

	if (argc < 6) {
		fprintf(stderr, "usage: sockmap_load HOST PORT TOTAL BATCH KEY...\n");
		return 2;
	}
	total = strtoul(argv[3], NULL, 10);
	batch = strtoul(argv[4], NULL, 10);
	nkeys = argc - 5;
	if (batch == 0 || total < batch)
		return 2;
	cap = batch * 12000;
	if ((req = malloc(cap)) == NULL || (buf = malloc(cap)) == NULL)
		return 1;
	for (i = 0; i < batch; i++) {
		const char *k = argv[5 + i % (unsigned long)nkeys];

		reqlen += (size_t)sprintf(req + reqlen, "%zu:%s,", strlen(k), k);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("connect");
		return 1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (write_all(fd, req, reqlen) != 0 ||
	    (want = read_replies(fd, buf, cap, batch)) < 0) {
		fprintf(stderr, "sockmap_load: the first batch failed\n");
		return 1;
	}
	t0 = now();
	for (b = 0; b < total / batch; b++) {
		if (write_all(fd, req, reqlen) != 0)
			return 1;
		for (got = 0; got < want;) {
			ssize_t k = read(fd, buf, (size_t)(want - got));

			if (k <= 0)
				return 1;
			got += k;
		}
	}
	printf("%lu %.6f\n", (total / batch) * batch, now() - t0);
	close(fd);
	free(req);
	free(buf);
	return 0;
}
