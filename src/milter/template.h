/*
 * SPDX-License-Identifier: ISC
 * template.h - reply templates with cleaned variable values.
 *
 * A configured reply may name session values: "550 5.7.1 Rejected
 * ${client_addr} by ${rule}". A template is compiled once at load time
 * (an unknown variable or an unterminated "${" is a configuration error)
 * and expanded per verdict into a caller buffer. The values come from the
 * client and are untrusted: each one is cleaned before it is copied, so
 * that no sender, recipient, header or client name can put line breaks,
 * '%' (which Postfix eats and sendmail rejects), control bytes or
 * unbounded length into a reply. A "$" not followed by "{" is literal.
 *
 * A compiled template is read-only and may be expanded by many threads.
 */
#ifndef SMTPREPLY_MILTER_TEMPLATE_H
#define SMTPREPLY_MILTER_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

enum template_var {
	TEMPLATE_CLIENT_ADDR,
	TEMPLATE_CLIENT_NAME,
	TEMPLATE_HELO,
	TEMPLATE_SENDER,
	TEMPLATE_RCPT,
	TEMPLATE_QUEUE_ID,
	TEMPLATE_RULE,
	TEMPLATE__COUNT
};

/* Longest cleaned value; a longer one is cut and ends with "...". */
#define TEMPLATE_VALUE_MAX 256

/* "client_addr" ... "rule". */
const char *template_var_name(enum template_var v);

/* The variable named NAME[0..LEN), or -1. */
int template_var_lookup(const char *name, size_t len);

struct template_part {
	bool is_var;
	enum template_var var;		/* when is_var */
	size_t off, len;		/* literal: range of text */
};

struct template {
	char *text;			/* the source, NUL-terminated */
	size_t len;
	struct template_part *parts;
	size_t nparts;
	unsigned vars;			/* bit (1u << var) per variable used */
	size_t nvarrefs;		/* variable references */
	size_t literal_len;		/* bytes of literal text */
};

/* The values of one expansion; NULL stands for an empty value. */
struct template_values {
	const char *v[TEMPLATE__COUNT];
};

/*
 * Compile SRC[0..LEN) into T. Returns 0, or -1 with a message in ERR
 * ("unknown variable ${foo}", "unterminated ${", "empty variable ${}",
 * "out of memory"); T is then empty and safe to free.
 */
int template_compile(struct template *t, const char *src, size_t len,
		     char *err, size_t errsize);

void template_free(struct template *t);

/* True when T references at least one variable. */
bool template_has_vars(const struct template *t);

/* Upper bound of an expansion's length (NUL not included). */
size_t template_max_len(const struct template *t);

/*
 * Clean VALUE (NULL: empty) into BUF: at most TEMPLATE_VALUE_MAX bytes,
 * a longer value cut to TEMPLATE_VALUE_MAX - 3 bytes plus "..."; CR, LF,
 * NUL... every byte below 0x20, DEL, '%' and bytes over 126 become '?'.
 * VALUE is read as a C string but never past TEMPLATE_VALUE_MAX + 1
 * bytes. BUF must hold TEMPLATE_VALUE_MAX + 1 bytes. Returns the length.
 */
size_t template_clean_value(const char *value,
			    char buf[TEMPLATE_VALUE_MAX + 1]);

/*
 * Expand T with VALS into BUF of SIZE bytes, always NUL-terminated when
 * SIZE > 0, never written past SIZE. Returns the length of the full
 * expansion (like snprintf); *TRUNCATED (may be NULL) tells whether it
 * did not fit.
 */
size_t template_expand(const struct template *t,
		       const struct template_values *vals, char *buf,
		       size_t size, bool *truncated);

#endif /* SMTPREPLY_MILTER_TEMPLATE_H */
