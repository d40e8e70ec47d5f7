/*
 * SPDX-License-Identifier: ISC
 * fuzz_mclient.c - libFuzzer target for what a proxy child sends.
 *
 * Input: one byte of options (the step the child is in, bit 7: answer
 * the negotiation first), one byte saying where to cut the stream in two
 * feeds, then the bytes a child sent. The stream is cut into packets by
 * the reader (bounded at 4 KiB for speed); the first packet is decoded as
 * a negotiation answer when asked, the others as replies and judged by
 * the per-child state machine, moving through the steps as an MTA would
 * (a final verdict advances to the next step, EOM wraps to MAIL).
 * Asserted: every string a decoded reply points to lies inside the
 * packet and ends with a NUL there; a REPLYCODE starts with 4 or 5; a
 * modification is only ever accepted at end of message and only when
 * negotiated; a state that ended the connection sends nothing more. The
 * macro lists of a negotiation answer go through symlist.c as the
 * children's lists would: each list asked for is within the bounds, every
 * name in it is already normalized and appears once.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mclient.h"
#include "symlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* symlist.c's rules input is not fuzzed here: no rules (rules.c not
 * linked). */
size_t rules_macros_needed(const struct rule_set *rs, enum rule_phase phase,
			   const char **names, size_t max)
{
	(void)rs;
	(void)phase;
	(void)names;
	(void)max;
	return 0;
}

/* What symlist.c asks for from the lists of NEG must be well-formed. */
static void check_symlists(const struct mclient_neg *neg)
{
	static struct symlist sl;	/* libFuzzer runs one input at a time */
	const char *name[SYMLIST_NAMES_MAX + 1];
	size_t len[SYMLIST_NAMES_MAX + 1];
	int i;

	symlist_init(&sl);
	for (i = 0; i < MCLIENT_MACRO_LISTS; i++)
		if (neg->has_symlist[i])
			symlist_add_child(&sl, i, neg->symlist[i]);
	for (i = 0; i < SYMLIST_STAGES; i++) {
		const char *p = symlist_list(&sl, i);
		size_t n = 0, a, b;

		if (p == NULL)
			continue;
		if (strlen(p) > SYMLIST_BYTES_MAX)
			abort();
		for (; *p != '\0'; p += *p == ' ') {
			char norm[SYMLIST_NAME_MAX + 1];

			if (n > SYMLIST_NAMES_MAX)
				abort();	/* too many names */
			name[n] = p;
			len[n] = strcspn(p, " ");
			if (symlist_normalize(p, len[n], norm, sizeof(norm)) !=
			    (int)len[n] || memcmp(norm, p, len[n]) != 0)
				abort();	/* not as the MTA writes it */
			p += len[n++];
		}
		for (a = 0; a < n; a++)
			for (b = a + 1; b < n; b++)
				if (len[a] == len[b] &&
				    memcmp(name[a], name[b], len[a]) == 0)
					abort();	/* twice */
	}
}

static void inside(const char *s, const unsigned char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (s == NULL)
		return;
	if (u < p || u >= p + len || memchr(u, '\0', (size_t)(p + len - u)) == NULL) {
		fprintf(stderr, "string outside its packet\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mclient_reader rd;
	struct mclient_state st;
	struct mclient_neg neg;
	enum mclient_step step;
	const unsigned char *pd;
	size_t plen, cut;
	char cmd, err[160];
	bool want_neg;

	if (size < 2)
		return 0;
	step = (enum mclient_step)((data[0] & 0x7f) % MCLIENT_STEP__COUNT);
	want_neg = (data[0] & 0x80) != 0;
	cut = data[1];
	data += 2;
	size -= 2;
	if (cut > size)
		cut = size;
	memset(&neg, 0, sizeof(neg));
	neg.version = 6;
	neg.actions = MCLIENT_ACTIONS_ALL;
	neg.protocol = SMFIP_SKIP;
	mclient_state_init(&st, &neg);
	mclient_reader_init(&rd, 4096);
	if (mclient_reader_feed(&rd, data, cut) != 0 ||
	    mclient_reader_feed(&rd, data + cut, size - cut) != 0)
		goto out;
	while (mclient_reader_take(&rd, &cmd, &pd, &plen) ==
	    MCLIENT_TAKE_PACKET) {
		struct mclient_reply r;
		enum mclient_verdict_use use;

		if (want_neg) {
			want_neg = false;
			if (cmd != SMFIC_OPTNEG || mclient_decode_optneg(pd, plen,
			    MCLIENT_ACTIONS_ALL, MCLIENT_PROTOCOL_ALL, &neg, err,
			    sizeof(err)) != 0)
				break;
			if ((neg.actions & ~(uint32_t)MCLIENT_ACTIONS_ALL) != 0)
				abort();
			check_symlists(&neg);
			mclient_state_init(&st, &neg);
			continue;
		}
		if (mclient_decode_reply(cmd, pd, plen, &r, err, sizeof(err)) != 0)
			continue;
		inside(r.text, pd, plen);
		inside(r.args, pd, plen);
		inside(r.name, pd, plen);
		inside(r.value, pd, plen);
		if (r.kind == MCLIENT_R_REPLYCODE && r.text[0] != '4' &&
		    r.text[0] != '5')
			abort();
		if (!mclient_state_sends(&st, step)) {
			/* The MTA would not send this step: go to the next. */
			step = step == MCLIENT_STEP_EOM ? MCLIENT_STEP_MAIL :
			    (enum mclient_step)(step + 1);
			if (st.conn_done) {
				if (mclient_state_sends(&st, MCLIENT_STEP_MAIL))
					abort();
				break;
			}
			if (step == MCLIENT_STEP_MAIL)
				mclient_state_new_message(&st);
			continue;
		}
		use = mclient_state_reply(&st, step, &r, err, sizeof(err));
		if (use == MCLIENT_USE_MORE && mclient_reply_is_modification(r.kind)
		    && step != MCLIENT_STEP_EOM)
			abort();
		if (use == MCLIENT_USE_VIOLATION)
			break;
		if (use == MCLIENT_USE_FINAL) {
			step = step == MCLIENT_STEP_EOM ? MCLIENT_STEP_MAIL :
			    (enum mclient_step)(step + 1);
			if (step == MCLIENT_STEP_MAIL)
				mclient_state_new_message(&st);
		}
	}
out:
	mclient_reader_free(&rd);
	return 0;
}
