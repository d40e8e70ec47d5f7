/*
 * SPDX-License-Identifier: ISC
 * tests/corpus.h - load the shared corpus of SMTP replies.
 *
 * tests/data/replies.txt holds one reply per line in escaped form (\r, \n,
 * \t, \\, \xHH); lines starting with '#' and blank lines are ignored. The
 * property tests and the benchmark use this loader; fuzz/make-seeds.sh
 * reads the same format. Lines longer than SR_CORPUS_LINE_MAX bytes, raw
 * control bytes other than TAB, and bad escapes are errors reported as
 * "FILE:LINE: what". No static state: one corpus per structure.
 */
#ifndef SR_TESTS_CORPUS_H
#define SR_TESTS_CORPUS_H

#include <stddef.h>

/* Longest line of the corpus file, escaped, without its newline. */
#define SR_CORPUS_LINE_MAX	(64 * 1024)

struct sr_corpus_reply {
	char *bytes;		/* the reply, unescaped; NUL-terminated for
				 * convenience, but may hold NUL bytes */
	size_t len;		/* length, without that terminating NUL */
	unsigned line;		/* line number in the corpus file */
};

struct sr_corpus {
	struct sr_corpus_reply *replies;
	size_t n;
	size_t cap;		/* private */
};

/* Initialize an empty corpus (sr_corpus_load() does this itself). */
void sr_corpus_init(struct sr_corpus *c);

/*
 * Load PATH into C. Returns 0, or -1 with a message "PATH:LINE: why" (or
 * "PATH: why") in ERR[ERRSIZE]; C is then empty and need not be freed.
 */
int sr_corpus_load(struct sr_corpus *c, const char *path, char *err,
		   size_t errsize);

/* Release everything C holds and leave it empty. */
void sr_corpus_free(struct sr_corpus *c);

/*
 * Unescape the LEN bytes at IN into OUT (at least LEN bytes: the result
 * is never longer). Returns the result's length, or -1 when the input has
 * a bad escape or a raw control byte; *ERRPOS (when not NULL) then says
 * at which input offset.
 */
long sr_corpus_unescape(const char *in, size_t len, char *out,
			size_t *errpos);

/*
 * Write LEN bytes at IN in the corpus's escaped form into OUT[SIZE],
 * NUL-terminated; at most SIZE - 1 bytes, cut with "..." when they do not
 * fit. For messages about a failing reply. Returns OUT.
 */
char *sr_corpus_escape(const char *in, size_t len, char *out, size_t size);

#endif /* SR_TESTS_CORPUS_H */
