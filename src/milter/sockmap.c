/*
 * SPDX-License-Identifier: ISC
 * sockmap.c - socketmap requests and replies (see sockmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sockmap.h"

const char *sockmap_status_word(enum sockmap_status st)
{
	switch (st) {
	case SOCKMAP_OK:	return "OK";
	case SOCKMAP_NOTFOUND:	return "NOTFOUND";
	case SOCKMAP_TEMP:	return "TEMP";
	case SOCKMAP_PERM:	return "PERM";
	}
	return "PERM";
}

int sockmap_request_split(const char *data, size_t len,
			  struct sockmap_request *req)
{
	const char *sp = memchr(data, ' ', len);

	if (sp == NULL || sp == data)
		return -1;
	req->name = data;
	req->name_len = (size_t)(sp - data);
	req->key = sp + 1;
	req->key_len = len - req->name_len - 1;
	return 0;
}

void sockmap_out_init(struct sockmap_out *o)
{
	memset(o, 0, sizeof(*o));
}

void sockmap_out_free(struct sockmap_out *o)
{
	free(o->p);
	sockmap_out_init(o);
}

void sockmap_out_consume(struct sockmap_out *o, size_t n)
{
	if (n >= o->len) {
		o->len = 0;
		return;
	}
	memmove(o->p, o->p + n, o->len - n);
	o->len -= n;
}

static int reserve(struct sockmap_out *o, size_t more)
{
	size_t cap;
	char *p;

	if (o->cap - o->len >= more)
		return 0;
	cap = o->cap ? o->cap : 4096;
	while (cap - o->len < more)
		cap *= 2;
	if ((p = realloc(o->p, cap)) == NULL)
		return -1;
	o->p = p;
	o->cap = cap;
	return 0;
}

int sockmap_out_reply(struct sockmap_out *o, enum sockmap_status st,
		      const char *text, size_t len)
{
	static const char too_long[] = "reply too long";
	const char *word = sockmap_status_word(st);
	const char *parts[3];
	size_t lens[3];

	if (strlen(word) + 1 + len > SOCKMAP_REPLY_MAX) {
		word = "PERM";
		text = too_long;
		len = sizeof(too_long) - 1;
	}
	parts[0] = word;
	lens[0] = strlen(word);
	parts[1] = " ";
	lens[1] = 1;
	parts[2] = text;
	lens[2] = len;
	if (reserve(o, netstring_encoded_len(lens[0] + 1 + len)) != 0)
		return -1;
	o->len += netstring_encode(o->p + o->len, parts, lens, 3);
	return 0;
}

struct sockmap_served sockmap_serve(const char *in, size_t len,
				    struct sockmap_out *out, size_t out_limit,
				    sockmap_handler handler, void *ctx)
{
	struct sockmap_served s = { 0, 0, NETSTRING_INCOMPLETE, false };
	struct sockmap_request req;
	const char *data;
	size_t dlen, used, before;
	char why[64];

	while (s.used < len && out->len < out_limit) {
		s.error = netstring_decode(in + s.used, len - s.used,
		    SOCKMAP_QUERY_MAX, &data, &dlen, &used);
		if (s.error == NETSTRING_INCOMPLETE)
			break;
		if (s.error != NETSTRING_OK) {
			size_t n = strlen(netstring_status_name(s.error));

			memcpy(why, "bad request: ", 13);
			memcpy(why + 13, netstring_status_name(s.error), n + 1);
			if (sockmap_out_reply(out, SOCKMAP_PERM, why, 13 + n) != 0)
				s.nomem = true;
			return s;
		}
		before = out->len;
		if (sockmap_request_split(data, dlen, &req) != 0) {
			static const char bad[] = "bad request: no map name";

			if (sockmap_out_reply(out, SOCKMAP_PERM, bad,
			    sizeof(bad) - 1) != 0) {
				s.nomem = true;
				return s;
			}
		} else {
			handler(ctx, &req, out);
			if (out->len == before &&
			    sockmap_out_reply(out, SOCKMAP_TEMP,
			    "internal error", 14) != 0) {
				s.nomem = true;
				return s;
			}
		}
		s.used += used;
		s.requests++;
		s.error = NETSTRING_OK;
	}
	if (s.used == len)
		s.error = NETSTRING_OK;
	return s;
}
