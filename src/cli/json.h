/*
 * SPDX-License-Identifier: ISC
 * json.h - a small streaming JSON writer for stdio.
 *
 * Output only: smtpreply prints JSON (one object per line) and never
 * reads it. Writing JSON takes little code: string escaping plus commas
 * and nesting. It is written here by hand rather than taken from a
 * library because what is needed is this small part only, streamed
 * straight to a FILE with no allocation and no tree built in memory, and
 * strings come with a length (replies may hold NUL bytes and invalid
 * UTF-8, which must still come out as valid JSON); a library would add
 * a dependency for no gain.
 *
 * A struct json_writer keeps the nesting state of one output; there is
 * no global state, so writers for different streams are independent.
 *
 *   struct json_writer w;
 *   json_init(&w, stdout);
 *   json_begin_object(&w);
 *   json_key(&w, "input");
 *   json_string(&w, buf, len);
 *   json_end_object(&w);
 */
#ifndef SMTPREPLY_CLI_JSON_H
#define SMTPREPLY_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting of objects and arrays a writer keeps track of. */
#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *fp;
	unsigned depth;		/* open objects and arrays */
	uint32_t has_member;	/* bit N: the container at depth N+1 has one */
	bool after_key;		/* a key was written, its value comes next */
	bool overflow;		/* nested deeper than JSON_MAX_DEPTH */
};

void json_init(struct json_writer *w, FILE *fp);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);

/* The key of the next object member; KEY is NUL-terminated. */
void json_key(struct json_writer *w, const char *key);

/* Values. */
void json_string(struct json_writer *w, const char *s, size_t len);
void json_cstring(struct json_writer *w, const char *s);	/* NULL: null */
void json_uint(struct json_writer *w, unsigned long long v);
void json_int(struct json_writer *w, long long v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/*
 * True when everything opened was closed, nesting stayed within
 * JSON_MAX_DEPTH and the stream reports no error.
 */
bool json_ok(const struct json_writer *w);

/*
 * Write the LEN bytes at S to FP as one JSON string, quotes included:
 * '"' and '\\' escaped, control characters as \b \f \n \r \t or \uXXXX,
 * DEL as \u007f, valid UTF-8 (sr_utf8_len()) passed through, and every
 * byte that is not part of valid UTF-8 as \ufffd. Needs no writer.
 */
void json_write_string(FILE *fp, const char *s, size_t len);

#endif /* SMTPREPLY_CLI_JSON_H */
