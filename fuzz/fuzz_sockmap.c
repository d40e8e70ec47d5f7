/*
 * SPDX-License-Identifier: ISC
 * fuzz_sockmap.c - libFuzzer target for the socketmap filter.
 *
 * Input: the bytes a socketmap client sends on one connection, fed to
 * sockmap_serve() in two pieces (split where the first byte says, so that
 * truncated and pipelined requests are both exercised), each request
 * answered by filtermap_answer(): the netstring decoder, the request
 * split, the phase table and both maps over the engine. Asserted: the
 * output is a sequence of whole netstrings of at most SOCKMAP_REPLY_MAX
 * bytes, one per request answered, each "OK ", "NOTFOUND ", "TEMP " or
 * "PERM "; an OK answer to "reject" or "reply" is a reply Postfix takes
 * ([45]DD[ -], same class as the key, enhanced class as the code). Memory
 * errors and undefined behaviour are caught by ASan and UBSan.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filtermap.h"
#include "log.h"
#include "netstring.h"
#include "sockmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct filtermap_counters counters;

struct ctx {
	size_t answered;
};

static void handler(void *arg, const struct sockmap_request *req,
		    struct sockmap_out *out)
{
	struct ctx *c = arg;
	size_t before = out->len;
	const char *d;
	size_t dlen, used;

	filtermap_answer(req, NULL, &counters, out);
	c->answered++;
	if (netstring_decode(out->p + before, out->len - before,
	    SOCKMAP_REPLY_MAX, &d, &dlen, &used) != NETSTRING_OK ||
	    before + used != out->len)
		abort();
	if (dlen > 3 && memcmp(d, "OK ", 3) == 0) {
		d += 3;
		dlen -= 3;
		if (dlen < 4 || (d[0] != '4' && d[0] != '5') || d[0] != req->key[0] ||
		    (d[3] != ' ' && d[3] != '-') ||
		    (dlen > 4 && d[4] >= '0' && d[4] <= '9' && d[4] != d[0]))
			abort();
	}
}

static void check_output(const struct sockmap_out *out, size_t want)
{
	size_t off = 0, n = 0, dlen, used;
	const char *d;

	while (off < out->len) {
		if (netstring_decode(out->p + off, out->len - off,
		    SOCKMAP_REPLY_MAX, &d, &dlen, &used) != NETSTRING_OK)
			abort();
		if (!(dlen >= 3 && memcmp(d, "OK ", 3) == 0) &&
		    !(dlen >= 9 && memcmp(d, "NOTFOUND ", 9) == 0) &&
		    !(dlen >= 5 && memcmp(d, "TEMP ", 5) == 0) &&
		    !(dlen >= 5 && memcmp(d, "PERM ", 5) == 0))
			abort();
		off += used;
		n++;
	}
	if (n != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct sockmap_out out;
	struct sockmap_served sv;
	struct ctx c = { 0 };
	size_t split, done = 0, replies = 0;
	char *buf;

	if (!init) {
		log_reconfigure(LOG_MAIL, -1);	/* quiet */
		filtermap_counters_init(&counters);
		init = 1;
	}
	if (size == 0)
		return 0;
	split = data[0] % (size + 1);
	/* a private copy of exactly SIZE - 1 bytes: nothing past it is read */
	if ((buf = malloc(size)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	sockmap_out_init(&out);
	if (split > size - 1)
		split = size - 1;
	sv = sockmap_serve(buf, split, &out, 1 << 22, handler, &c);
	replies = sv.requests + (sv.error != NETSTRING_OK &&
	    sv.error != NETSTRING_INCOMPLETE);
	if (sv.error == NETSTRING_OK || sv.error == NETSTRING_INCOMPLETE) {
		done = sv.used;
		sv = sockmap_serve(buf + done, size - 1 - done, &out, 1 << 22,
		    handler, &c);
		replies += sv.requests + (sv.error != NETSTRING_OK &&
		    sv.error != NETSTRING_INCOMPLETE);
	}
	check_output(&out, replies);
	sockmap_out_free(&out);
	free(buf);
	return 0;
}
