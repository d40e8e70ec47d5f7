/*
 * SPDX-License-Identifier: ISC
 * fuzz_probe.c - libFuzzer target for what "smtpreply probe" reads from a
 * server: the bounded reply reader and the dialogue runner.
 *
 * Input: byte 0 picks a probe of the list, byte 1 the size of the pieces
 * the server's bytes arrive in (1-256), the rest is everything the server
 * sends, in order, whatever the commands; when they run out the stream
 * ends (a close). Asserted:
 * the runner finishes, every exchange's reply lies within the reader's
 * bounds (PROBE_LINE_KEEP per line, PROBE_REPLY_LINES lines), the sent
 * commands end with CRLF, and the engine's result for each judged reply
 * is consistent (normalized only when fixable). ASan and UBSan catch the
 * rest.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
	const uint8_t *p;
	size_t left, piece;
	long long clock;
};

static int f_send(void *ctx, const char *p, size_t len)
{
	(void)ctx;
	assert(len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n');
	return 0;
}

static ssize_t f_recv(void *ctx, char *buf, size_t size, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->piece;

	(void)timeout_ms;
	if (s->left == 0)
		return 0;
	if (n > s->left)
		n = s->left;
	if (n > size)
		n = size;
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	s->clock++;
	return (ssize_t)n;
}

static long long
f_now(void *ctx)
{
	return ((struct stream *)ctx)->clock;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct probe_params params = {
		.helo = "client.test", .sender = "a@client.test",
		.domain = "mx.test", .rcpt = "postmaster@mx.test",
		.relay_domain = "relay.invalid", .deliver_to = "me@mx.test",
		.max_rcpt = 3, .timeout_ms = 1000000,
	};
	const struct probe_def *defs;
	struct probe_result res;
	struct stream s;
	struct probe_transport t = { &s, f_send, f_recv, f_now };
	size_t n, i;

	if (size < 2)
		return 0;
	defs = probe_list(&n);
	s.p = data + 2;
	s.left = size - 2;
	s.piece = (size_t)data[1] + 1;
	s.clock = 0;
	if (probe_run(&defs[data[0] % n], &params, &t, &res) != 0)
		return 0;	/* out of memory */
	for (i = 0; i < res.nex; i++) {
		const struct probe_exchange *e = &res.ex[i];

		assert(e->reply_len <= PROBE_READER_SIZE);
		assert(e->reply_lines <= PROBE_REPLY_LINES + 1);
		if (e->judged && e->fixable)
			assert(e->normalized != NULL);
		if (!e->judged)
			assert(e->check.ndiags == 0);
	}
	probe_result_release(&res);
	return 0;
}
