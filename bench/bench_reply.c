/*
 * SPDX-License-Identifier: ISC
 * bench_reply.c - how many replies per second the engine handles.
 *
 * Usage: bench_reply [-r ROUNDS] [-n REPLIES_PER_ROUND] CORPUS_FILE
 *
 * Loads the reply corpus and times, on one thread, parse + check +
 * normalize (+ release) of N replies per round. The workload cycles
 * through every corpus reply in every phase, in wire and milter context,
 * UTF-8 off and on. Prints each round's rate and the median, e.g.
 *   median: 1234567 replies/s (810 ns/reply) over 7 rounds, corpus 160 replies
 * A checksum of the results is printed so that no work can be optimized
 * away. Run by "make bench"; not part of "make check".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smtpreply/smtpreply.h>

#include "../tests/corpus.h"

#define DEFAULT_ROUNDS	7
#define DEFAULT_N	2000000UL
#define MAX_ROUNDS	1000

static void usage(void)
{
	fprintf(stderr, "usage: bench_reply [-r ROUNDS] [-n REPLIES_PER_ROUND] "
		"CORPUS_FILE\n");
	exit(2);
}

static unsigned long number(const char *arg, const char *what,
			    unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "bench_reply: bad %s: %s (1-%lu)\n", what, arg,
			max);
		exit(2);
	}
	return v;
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("bench_reply: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * One round: N replies from the cycle reply x phase x context x UTF-8.
 * Returns a checksum of what the engine produced; *NOK counts
 * normalized replies.
 */
static uint64_t round_run(const struct sr_corpus *c, unsigned long n,
			  unsigned long *nok)
{
	const struct sr_corpus_reply *cr;
	struct sr_normalized norm;
	struct sr_options o;
	struct sr_reply r;
	struct sr_check chk;
	uint64_t sum = 0;
	unsigned long i;
	size_t k = 0;
	unsigned combo = 0;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < n; i++) {
		cr = &c->replies[k];
		o.phase = (enum sr_phase)(combo % SR_PHASE__COUNT);
		o.context = combo / SR_PHASE__COUNT % 2 ? SR_CONTEXT_MILTER
		    : SR_CONTEXT_WIRE;
		o.utf8 = combo / (SR_PHASE__COUNT * 2) % 2;
		if (sr_reply_parse(&r, cr->bytes, cr->len) != 0) {
			fprintf(stderr, "bench_reply: out of memory\n");
			exit(1);
		}
		sr_check(&r, &o, &chk);
		sr_normalize(&r, &o, &norm);
		sum = sum * 31 + chk.errors * 7 + chk.warnings * 3 + chk.ndiags;
		if (norm.status == SR_NORM_OK) {
			(*nok)++;
			sum += norm.wire_len + (unsigned char)norm.wire[0]
			    + (unsigned char)norm.wire[norm.wire_len / 2]
			    + norm.nchanges;
		} else {
			sum += (unsigned)norm.status;
		}
		sr_normalized_release(&norm);
		sr_reply_release(&r);
		if (++k == c->n) {
			k = 0;
			if (++combo == SR_PHASE__COUNT * 4)
				combo = 0;
		}
	}
	return sum;
}

int main(int argc, char **argv)
{
	unsigned long rounds = DEFAULT_ROUNDS, n = DEFAULT_N, nok, i;
	struct sr_corpus c;
	double *rates, t0, t1, med;
	uint64_t sum = 0;
	char err[512];
	int ch;

	while ((ch = getopt(argc, argv, "r:n:")) != -1) {
		switch (ch) {
		case 'r':
			rounds = number(optarg, "rounds", MAX_ROUNDS);
			break;
		case 'n':
			n = number(optarg, "replies per round", 1000000000UL);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (sr_corpus_load(&c, argv[optind], err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_reply: %s\n", err);
		return 2;
	}
	if ((rates = calloc(rounds, sizeof(*rates))) == NULL) {
		fprintf(stderr, "bench_reply: out of memory\n");
		sr_corpus_free(&c);
		return 1;
	}

	/* Warm up: one pass over the whole cycle, not timed. */
	nok = 0;
	sum = round_run(&c, (unsigned long)c.n * SR_PHASE__COUNT * 4, &nok);

	for (i = 0; i < rounds; i++) {
		nok = 0;
		t0 = now();
		sum ^= round_run(&c, n, &nok) + i;
		t1 = now();
		rates[i] = (double)n / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9);
		printf("round %lu: %.0f replies/s (%.0f ns/reply), %lu of %lu "
		       "normalized\n", i + 1, rates[i], 1e9 / rates[i], nok, n);
		fflush(stdout);
	}
	qsort(rates, rounds, sizeof(*rates), cmp_double);
	med = rounds % 2 ? rates[rounds / 2]
	    : (rates[rounds / 2 - 1] + rates[rounds / 2]) / 2;
	printf("median: %.0f replies/s (%.0f ns/reply) over %lu rounds, "
	       "corpus %zu replies\n", med, 1e9 / med, rounds, c.n);
	printf("checksum: %016llx\n", (unsigned long long)sum);
	free(rates);
	sr_corpus_free(&c);
	return 0;
}
