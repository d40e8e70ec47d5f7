/*
 * SPDX-License-Identifier: ISC
 * testutil.h - helpers shared by the unit tests.
 *
 * Every unit test program (engine, audit, milter) runs its Check suite
 * with tu_run() and sizes its tables with NROWS(). The rest is for the
 * tests of libsmtpreply:
 *
 * A test parses (or builds from parts) one reply, checks it, normalizes
 * it and asserts on the result. Every assertion helper comes in two
 * halves: a function that returns NULL when all is well or a malloc'd
 * message that explains the failure (the input, the options, every
 * diagnostic with its message, the normalized reply and its changes), and
 * a TU_* macro that aborts the running Check test with that message, so
 * that the file and line reported are the test's own.
 *
 * Every line of an explanation after the first starts with "# " so that
 * the TAP stream stays well-formed.
 */
#ifndef SMTPREPLY_TESTUTIL_H
#define SMTPREPLY_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <check.h>

#include <smtpreply/smtpreply.h>

#if defined(__GNUC__)
#define TU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TU_PRINTF(f, a)
#endif

/* Rows of a table (an array, not a pointer). */
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Run every test of suite S (output as CK_ENV and the environment say:
 * TAP for "make check"), free it, and return the exit status for main():
 * 0 when all passed, 1 otherwise.
 */
int tu_run(Suite *s);

/* ---- files and sockets (the milter's tests) --------------------------- */

/*
 * A fresh private directory made from TEMPLATE ("/tmp/test_x.XXXXXX")
 * into DIR (SIZE bytes); the running test fails when it cannot be made.
 */
void tu_tmpdir_make(char *dir, size_t size, const char *tmpl);
/* Remove DIR and everything below it (the test fails if that fails). */
void tu_tmpdir_remove(const char *dir);
/* Read exactly N bytes from FD into BUF: 0, or -1 at end of file or on
 * an error. */
int tu_read_full(int fd, void *buf, size_t n);

/* Length of a string literal, NUL bytes inside included. */
#define TU_LEN(lit) (sizeof(lit) - 1)

/* ---- growing strings -------------------------------------------------- */

struct tu_str {
	char *p;		/* NUL-terminated, or NULL when empty */
	size_t len;
	size_t cap;
};

void tu_str_add(struct tu_str *s, const char *p, size_t len);
void tu_str_printf(struct tu_str *s, const char *fmt, ...) TU_PRINTF(2, 3);
void tu_str_vprintf(struct tu_str *s, const char *fmt, va_list ap)
	TU_PRINTF(2, 0);
/*
 * Append P[0..LEN) as a C string literal ("...", with \r \n \t \0 \xNN
 * escapes), showing at most MAX input bytes (0: no limit) and saying how
 * many more there are.
 */
void tu_str_quoted(struct tu_str *s, const char *p, size_t len, size_t max);
/* Hand over the string (never NULL) and reset S. */
char *tu_str_take(struct tu_str *s);

/*
 * Expand the repetitions in SPEC[0..LEN): "{UNIT*N}" stands for N copies
 * of UNIT, which may itself contain repetitions ("{550-5.7.1 {x*500}\r\n*3}").
 * Everything else is copied as is. Returns a malloc'd buffer of exactly
 * *OUTLEN bytes plus a NUL.
 */
char *tu_expand(const char *spec, size_t len, size_t *outlen);

/* A malloc'd copy of P[0..LEN) of exactly that size (1 byte when empty),
 * so that the sanitizers catch any read past LEN. */
char *tu_dup(const char *p, size_t len);

/* ---- a reply under test ----------------------------------------------- */

/*
 * Holds inline storage (struct sr_reply): never copy it by value. Fill it
 * with tu_wire() or tu_parts(), release it with tu_release().
 */
struct tu_reply {
	char *buf;			/* owned copy of the wire input */
	size_t len;
	bool parts;			/* built with sr_reply_from_parts */
	const char *pcode;
	const char *penh;
	const char *const *ptext;
	size_t ntext;
	struct sr_options opt;
	struct sr_reply r;
	struct sr_check chk;
};

void tu_options(struct sr_options *o, enum sr_phase phase,
		enum sr_context ctx, bool utf8, const struct sr_policy *policy);

/* Parse IN[0..LEN) (copied) and check it under O (NULL: wire, other). */
void tu_wire(struct tu_reply *t, const char *in, size_t len,
	     const struct sr_options *o);
/* Same for a C string. */
void tu_wire_str(struct tu_reply *t, const char *in,
		 const struct sr_options *o);
/* Build from parts (strings referenced, not copied) and check. */
void tu_parts(struct tu_reply *t, const char *code, const char *enh,
	      const char *const *text, size_t ntext,
	      const struct sr_options *o);
void tu_release(struct tu_reply *t);

/* Normalize T's reply under T's options into N (release N afterwards). */
void tu_normalize(const struct tu_reply *t, struct sr_normalized *n);

/*
 * Everything known about T, for a failure message: input, options,
 * parsed lines, diagnostics with their messages, normalized output and
 * its changes. Malloc'd; every line starts with "# ".
 */
char *tu_explain(const struct tu_reply *t);

/* FMT, a newline, then tu_explain(T). Malloc'd. */
char *tu_msg(const struct tu_reply *t, const char *fmt, ...) TU_PRINTF(2, 3);

/* Abort the test with tu_msg() unless COND holds. */
#define TU_ASSERT(t, cond, ...)                                         \
	do {                                                            \
		if (!(cond)) {                                          \
			char *tu_m_ = tu_msg((t), __VA_ARGS__);          \
			ck_abort_msg("%s", tu_m_);                      \
			free(tu_m_);                                    \
		}                                                       \
	} while (0)

/* Abort the test with PROBLEM (a malloc'd string) unless it is NULL. */
#define TU_NO_PROBLEM(problem)                                          \
	do {                                                            \
		char *tu_p_ = (problem);                                \
		if (tu_p_ != NULL) {                                    \
			ck_abort_msg("%s", tu_p_);                      \
			free(tu_p_);                                    \
		}                                                       \
	} while (0)

/* ---- diagnostics ------------------------------------------------------ */

/*
 * PRESENT: ID is reported; when SEV >= 0 with that severity, when LINE > 0
 * at that line. !PRESENT: ID is not reported. PREFIX starts the message
 * (e.g. "row 12"). NULL or a malloc'd explanation.
 */
char *tu_diag_problem(const struct tu_reply *t, const char *prefix,
		      enum sr_diag_id id, bool present, int sev,
		      unsigned line);

#define TU_ASSERT_DIAG(t, id, sev, line)                                \
	TU_NO_PROBLEM(tu_diag_problem((t), "", (id), true, (int)(sev), (line)))
#define TU_ASSERT_NO_DIAG(t, id)                                        \
	TU_NO_PROBLEM(tu_diag_problem((t), "", (id), false, -1, 0))

/*
 * Invariants of every check result: each id at most once, severities as
 * sr_diag_severity() says, counters equal to the diagnostics, lines within
 * the reply, counts >= 1, a non-empty message for each.
 */
char *tu_check_problem(const struct tu_reply *t, const char *prefix);

/* True when a change with ID is in N. */
const struct sr_change *tu_find_change(const struct sr_normalized *n,
				       enum sr_diag_id id);

/* ---- normalization ---------------------------------------------------- */

/*
 * N, the normalization of T, has status ST and (when EXP is not NULL)
 * wire form EXP[0..EXPLEN) exactly. When ST is SR_NORM_UNFIXABLE, WHY must
 * not be empty.
 */
char *tu_norm_problem(const struct tu_reply *t, const char *prefix,
		      const struct sr_normalized *n, enum sr_norm_status st,
		      const char *exp, size_t explen);

/*
 * The properties of a normalized reply (N, status OK, from T): wire is
 * NUL-terminated at wire_len and has no final line ending; code, enhanced
 * and nlines agree with the wire form; parsing it and checking it under
 * T's options gives no error; normalizing it again gives the same wire
 * form, status OK and no change.
 */
char *tu_props_problem(const struct tu_reply *t, const char *prefix,
		       const struct sr_normalized *n);

/* Case-insensitive substring search. */
bool tu_contains_ci(const char *hay, const char *needle);

/* The lines of a wire form: number of CRLF-separated lines. */
size_t tu_count_lines(const char *wire, size_t len);

#endif /* SMTPREPLY_TESTUTIL_H */
