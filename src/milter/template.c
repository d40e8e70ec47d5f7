/*
 * SPDX-License-Identifier: ISC
 * template.c - compile reply templates and expand them with clean values.
 *
 * Compilation splits the source into literal runs and variable
 * references. Expansion copies literal runs as they are (they come from
 * the administrator and are normalized by the engine afterwards) and
 * every value through template_clean_value(), which is the one place
 * that decides what client-controlled bytes may reach a reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smtpreply/text.h>

#include "template.h"

static const char *const var_names[TEMPLATE__COUNT] = {
	[TEMPLATE_CLIENT_ADDR] = "client_addr",
	[TEMPLATE_CLIENT_NAME] = "client_name",
	[TEMPLATE_HELO] = "helo",
	[TEMPLATE_SENDER] = "sender",
	[TEMPLATE_RCPT] = "rcpt",
	[TEMPLATE_QUEUE_ID] = "queue_id",
	[TEMPLATE_RULE] = "rule",
};

const char *template_var_name(enum template_var v)
{
	if ((unsigned)v >= TEMPLATE__COUNT)
		return NULL;
	return var_names[v];
}

int template_var_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < TEMPLATE__COUNT; i++)
		if (strlen(var_names[i]) == len &&
		    memcmp(var_names[i], name, len) == 0)
			return i;
	return -1;
}

void template_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->text);
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

/* Append a part; returns -1 when memory ran out. */
static int add_part(struct template *t, size_t *cap, struct template_part p)
{
	if (t->nparts == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct template_part *np;

		if (ncap > SIZE_MAX / sizeof(*np))
			return -1;
		np = realloc(t->parts, ncap * sizeof(*np));
		if (np == NULL)
			return -1;
		t->parts = np;
		*cap = ncap;
	}
	t->parts[t->nparts++] = p;
	return 0;
}

/* Printable form of NAME[0..LEN) for an error message, at most 32 bytes. */
static void show_name(const char *name, size_t len, char *buf, size_t size)
{
	if (size > 32 + 4)
		size = 32 + 4;
	(void)sr_quote(buf, size, name, len, SR_QUOTE_ELLIPSIS);
}

int template_compile(struct template *t, const char *src, size_t len,
		     char *err, size_t errsize)
{
	size_t cap = 0, i = 0, lit = 0;
	char shown[40];

	memset(t, 0, sizeof(*t));
	if (errsize > 0)
		err[0] = '\0';
	t->text = malloc(len + 1);
	if (t->text == NULL)
		goto nomem;
	memcpy(t->text, src, len);
	t->text[len] = '\0';
	t->len = len;

	while (i < len) {
		const char *end;
		size_t nlen;
		int v;

		if (!(t->text[i] == '$' && i + 1 < len && t->text[i + 1] == '{')) {
			i++;
			continue;
		}
		if (i > lit) {
			struct template_part p = { false, 0, lit, i - lit };

			if (add_part(t, &cap, p) < 0)
				goto nomem;
			t->literal_len += i - lit;
		}
		end = memchr(t->text + i + 2, '}', len - i - 2);
		if (end == NULL) {
			snprintf(err, errsize, "unterminated ${");
			goto fail;
		}
		nlen = (size_t)(end - (t->text + i + 2));
		if (nlen == 0) {
			snprintf(err, errsize, "empty variable ${}");
			goto fail;
		}
		v = template_var_lookup(t->text + i + 2, nlen);
		if (v < 0) {
			show_name(t->text + i + 2, nlen, shown, sizeof(shown));
			snprintf(err, errsize,
				 "unknown variable ${%s} (known: ${client_addr}, "
				 "${client_name}, ${helo}, ${sender}, ${rcpt}, "
				 "${queue_id}, ${rule})", shown);
			goto fail;
		}
		{
			struct template_part p = { true, (enum template_var)v, i, nlen + 3 };

			if (add_part(t, &cap, p) < 0)
				goto nomem;
		}
		t->vars |= 1u << v;
		t->nvarrefs++;
		i += nlen + 3;
		lit = i;
	}
	if (len > lit) {
		struct template_part p = { false, 0, lit, len - lit };

		if (add_part(t, &cap, p) < 0)
			goto nomem;
		t->literal_len += len - lit;
	}
	return 0;

nomem:
	snprintf(err, errsize, "out of memory");
fail:
	template_free(t);
	return -1;
}

bool template_has_vars(const struct template *t)
{
	return t->nvarrefs > 0;
}

size_t template_max_len(const struct template *t)
{
	return t->literal_len + t->nvarrefs * TEMPLATE_VALUE_MAX;
}

size_t template_clean_value(const char *value,
			    char buf[TEMPLATE_VALUE_MAX + 1])
{
	size_t len, i;

	if (value == NULL)
		value = "";
	len = strnlen(value, TEMPLATE_VALUE_MAX + 1);
	if (len > TEMPLATE_VALUE_MAX)
		len = TEMPLATE_VALUE_MAX - 3;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		buf[i] = (c < 0x20 || c >= 0x7f || c == '%') ? '?' : (char)c;
	}
	if (len == TEMPLATE_VALUE_MAX - 3 &&
	    strnlen(value, TEMPLATE_VALUE_MAX + 1) > TEMPLATE_VALUE_MAX) {
		memcpy(buf + len, "...", 3);
		len += 3;
	}
	buf[len] = '\0';
	return len;
}

/* Copy P[0..N) to BUF at *POS within SIZE - 1 bytes; *POS counts all. */
static void put(char *buf, size_t size, size_t *pos, const char *p, size_t n)
{
	if (size > 0 && *pos < size - 1) {
		size_t room = size - 1 - *pos;

		memcpy(buf + *pos, p, n < room ? n : room);
	}
	*pos += n;
}

size_t template_expand(const struct template *t,
		       const struct template_values *vals, char *buf,
		       size_t size, bool *truncated)
{
	char clean[TEMPLATE_VALUE_MAX + 1];
	size_t pos = 0, i;

	for (i = 0; i < t->nparts; i++) {
		const struct template_part *p = &t->parts[i];

		if (p->is_var) {
			size_t n = template_clean_value(
				vals != NULL ? vals->v[p->var] : NULL, clean);

			put(buf, size, &pos, clean, n);
		} else
			put(buf, size, &pos, t->text + p->off, p->len);
	}
	if (size > 0)
		buf[pos < size ? pos : size - 1] = '\0';
	if (truncated != NULL)
		*truncated = pos >= size;
	return pos;
}
