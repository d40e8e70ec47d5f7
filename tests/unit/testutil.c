/*
 * SPDX-License-Identifier: ISC
 * testutil.c - helpers shared by the unit tests.
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TU_STR_LIT(s, lit) tu_str_add((s), (lit), sizeof(lit) - 1)

/* ---- the runner ------------------------------------------------------- */

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* ---- growing strings -------------------------------------------------- */

static void tu_str_reserve(struct tu_str *s, size_t more)
{
	size_t need = s->len + more + 1;
	size_t cap;
	char *p;

	if (need <= s->cap)
		return;
	cap = s->cap ? s->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(s->p, cap);
	if (p == NULL) {
		fprintf(stderr, "testutil: out of memory\n");
		abort();
	}
	s->p = p;
	s->cap = cap;
}

void tu_str_add(struct tu_str *s, const char *p, size_t len)
{
	tu_str_reserve(s, len);
	if (len > 0)
		memcpy(s->p + s->len, p, len);
	s->len += len;
	s->p[s->len] = '\0';
}

void tu_str_vprintf(struct tu_str *s, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	tu_str_reserve(s, (size_t)n);
	vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
	s->len += (size_t)n;
}

void tu_str_printf(struct tu_str *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tu_str_vprintf(s, fmt, ap);
	va_end(ap);
}

void tu_str_quoted(struct tu_str *s, const char *p, size_t len, size_t max)
{
	size_t shown = (max > 0 && len > max) ? max : len;
	size_t i;

	TU_STR_LIT(s, "\"");
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '\r': TU_STR_LIT(s, "\\r"); break;
		case '\n': TU_STR_LIT(s, "\\n"); break;
		case '\t': TU_STR_LIT(s, "\\t"); break;
		case '\\': TU_STR_LIT(s, "\\\\"); break;
		case '"': TU_STR_LIT(s, "\\\""); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				tu_str_printf(s, "\\x%02x", c);
			else
				tu_str_add(s, (const char *)&p[i], 1);
		}
	}
	TU_STR_LIT(s, "\"");
	if (shown < len)
		tu_str_printf(s, " (+%zu more bytes, %zu in all)", len - shown,
			      len);
}

char *tu_str_take(struct tu_str *s)
{
	char *p;

	if (s->p == NULL)
		tu_str_reserve(s, 0), s->p[0] = '\0';
	p = s->p;
	s->p = NULL;
	s->len = s->cap = 0;
	return p;
}

/* ---- expansion of "{UNIT*N}" ------------------------------------------ */

static void tu_expand_into(struct tu_str *out, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j, close = 0, star = 0;
		int depth = 0;
		bool found = false;

		if (p[i] != '{') {
			tu_str_add(out, &p[i], 1);
			i++;
			continue;
		}
		/* find the matching '}' and the last '*' at depth 1 */
		for (j = i; j < len; j++) {
			if (p[j] == '{')
				depth++;
			else if (p[j] == '}') {
				if (--depth == 0) {
					close = j;
					found = true;
					break;
				}
			} else if (p[j] == '*' && depth == 1)
				star = j;
		}
		if (!found || star == 0) {
			/* not a repetition: a literal '{' */
			tu_str_add(out, &p[i], 1);
			i++;
			continue;
		}
		{
			unsigned long n = strtoul(&p[star + 1], NULL, 10);
			unsigned long k;
			struct tu_str unit = { 0 };

			tu_expand_into(&unit, &p[i + 1], star - i - 1);
			for (k = 0; k < n; k++)
				tu_str_add(out, unit.p ? unit.p : "", unit.len);
			free(unit.p);
		}
		i = close + 1;
	}
}

char *tu_expand(const char *spec, size_t len, size_t *outlen)
{
	struct tu_str out = { 0 };

	tu_expand_into(&out, spec, len);
	*outlen = out.len;
	return tu_str_take(&out);
}

char *tu_dup(const char *p, size_t len)
{
	char *d = malloc(len ? len : 1);

	if (d == NULL)
		abort();
	if (len > 0)
		memcpy(d, p, len);
	else
		d[0] = '\0';
	return d;
}

/* ---- a reply under test ----------------------------------------------- */

void tu_options(struct sr_options *o, enum sr_phase phase,
		enum sr_context ctx, bool utf8, const struct sr_policy *policy)
{
	memset(o, 0, sizeof *o);
	o->phase = phase;
	o->context = ctx;
	o->utf8 = utf8;
	o->policy = policy;
}

static void tu_init(struct tu_reply *t, const struct sr_options *o)
{
	memset(t, 0, sizeof *t);
	if (o != NULL)
		t->opt = *o;
	else
		tu_options(&t->opt, SR_PHASE_OTHER, SR_CONTEXT_WIRE, false, NULL);
}

void tu_wire(struct tu_reply *t, const char *in, size_t len,
	     const struct sr_options *o)
{
	int rc;

	tu_init(t, o);
	t->buf = tu_dup(in, len);
	t->len = len;
	rc = sr_reply_parse(&t->r, t->buf, t->len);
	ck_assert_msg(rc == 0, "sr_reply_parse failed (%d) on %zu bytes", rc,
		      len);
	sr_check(&t->r, &t->opt, &t->chk);
}

void tu_wire_str(struct tu_reply *t, const char *in,
		 const struct sr_options *o)
{
	tu_wire(t, in, strlen(in), o);
}

void tu_parts(struct tu_reply *t, const char *code, const char *enh,
	      const char *const *text, size_t ntext,
	      const struct sr_options *o)
{
	int rc;

	tu_init(t, o);
	t->parts = true;
	t->pcode = code;
	t->penh = enh;
	t->ptext = text;
	t->ntext = ntext;
	rc = sr_reply_from_parts(&t->r, code, enh, text, ntext);
	ck_assert_msg(rc == 0, "sr_reply_from_parts failed (%d)", rc);
	sr_check(&t->r, &t->opt, &t->chk);
}

void tu_release(struct tu_reply *t)
{
	sr_reply_release(&t->r);
	free(t->buf);
	t->buf = NULL;
}

void tu_normalize(const struct tu_reply *t, struct sr_normalized *n)
{
	sr_normalize(&t->r, &t->opt, n);
}

/* ---- explanations ----------------------------------------------------- */

static const char *tu_name_or(const char *name, const char *dflt)
{
	return name != NULL ? name : dflt;
}

static void tu_explain_diags(struct tu_str *s, const struct sr_check *c,
			     const char *indent)
{
	size_t i;

	tu_str_printf(s, "# %sdiagnostics: %zu (%u errors, %u warnings, %u infos)\n",
		      indent, c->ndiags, c->errors, c->warnings, c->infos);
	for (i = 0; i < c->ndiags && i < SR_D__COUNT; i++) {
		const struct sr_diag *d = &c->diags[i];
		char msg[512];

		msg[0] = '\0';
		sr_diag_format(d, msg, sizeof msg);
		tu_str_printf(s, "# %s  %s [%s] line %u count %u code %u token ",
			      indent,
			      tu_name_or(sr_diag_name(d->id), "(bad id)"),
			      tu_name_or(sr_severity_name(sr_diag_severity(d->id)),
					 "?"),
			      d->line, d->count, d->code);
		tu_str_quoted(s, d->token, strnlen(d->token, sizeof d->token), 0);
		TU_STR_LIT(s, " want ");
		tu_str_quoted(s, d->want, strnlen(d->want, sizeof d->want), 0);
		TU_STR_LIT(s, ": ");
		tu_str_add(s, msg, strnlen(msg, sizeof msg));
		TU_STR_LIT(s, "\n");
	}
}

static void tu_explain_norm(struct tu_str *s, const struct sr_normalized *n)
{
	size_t i;

	switch (n->status) {
	case SR_NORM_OK:
		tu_str_printf(s, "# normalized: ok, %zu lines, code \"%.4s\" enhanced \"%.*s\"\n",
			      n->nlines, n->code, (int)SR_ENH_STRLEN, n->enhanced);
		TU_STR_LIT(s, "#   wire: ");
		if (n->wire != NULL)
			tu_str_quoted(s, n->wire, n->wire_len, 1200);
		else
			TU_STR_LIT(s, "NULL");
		TU_STR_LIT(s, "\n");
		break;
	case SR_NORM_UNFIXABLE:
		tu_str_printf(s, "# normalized: unfixable: %.*s\n",
			      (int)sizeof n->why, n->why);
		break;
	case SR_NORM_NOMEM:
		TU_STR_LIT(s, "# normalized: out of memory\n");
		break;
	default:
		tu_str_printf(s, "# normalized: bad status %d\n", (int)n->status);
	}
	for (i = 0; i < n->nchanges && i < SR_D__COUNT; i++) {
		const struct sr_change *c = &n->changes[i];

		tu_str_printf(s, "#   change %s line %u: ",
			      tu_name_or(sr_diag_name(c->id), "(bad id)"), c->line);
		tu_str_quoted(s, c->before, strnlen(c->before, sizeof c->before), 0);
		TU_STR_LIT(s, " -> ");
		tu_str_quoted(s, c->after, strnlen(c->after, sizeof c->after), 0);
		TU_STR_LIT(s, "\n");
	}
}

static void tu_explain_into(struct tu_str *s, const struct tu_reply *t)
{
	struct sr_normalized n;
	size_t i;

	if (t->parts) {
		TU_STR_LIT(s, "# input from parts: code ");
		if (t->pcode)
			tu_str_quoted(s, t->pcode, strlen(t->pcode), 200);
		else
			TU_STR_LIT(s, "NULL");
		TU_STR_LIT(s, " enhanced ");
		if (t->penh)
			tu_str_quoted(s, t->penh, strlen(t->penh), 200);
		else
			TU_STR_LIT(s, "NULL");
		tu_str_printf(s, " ntext %zu\n", t->ntext);
		for (i = 0; t->ptext != NULL && i < t->ntext && i < 8; i++) {
			tu_str_printf(s, "#   text[%zu] ", i);
			tu_str_quoted(s, t->ptext[i], strlen(t->ptext[i]), 400);
			TU_STR_LIT(s, "\n");
		}
	} else {
		tu_str_printf(s, "# input (%zu bytes): ", t->len);
		tu_str_quoted(s, t->buf, t->len, 600);
		TU_STR_LIT(s, "\n");
	}
	tu_str_printf(s, "# options: phase %s, context %s, utf8 %s, policy %s\n",
		      tu_name_or(sr_phase_name(t->opt.phase), "?"),
		      tu_name_or(sr_context_name(t->opt.context), "?"),
		      t->opt.utf8 ? "on" : "off",
		      t->opt.policy ? "custom" : "shipped");
	tu_str_printf(s, "# parsed: %zu lines\n", t->r.nlines);
	for (i = 0; i < t->r.nlines && i < 4; i++) {
		const struct sr_line *l = &t->r.lines[i];

		tu_str_printf(s, "#   line %zu: code ", i + 1);
		tu_str_quoted(s, l->code.p, l->code.len, 40);
		if (l->sep == '\0')
			TU_STR_LIT(s, " sep NUL");
		else
			tu_str_printf(s, " sep '%c'", l->sep);
		TU_STR_LIT(s, " enh ");
		tu_str_quoted(s, l->enh.p, l->enh.len, 40);
		TU_STR_LIT(s, " text ");
		tu_str_quoted(s, l->text.p, l->text.len, 200);
		TU_STR_LIT(s, "\n");
	}
	tu_explain_diags(s, &t->chk, "");
	memset(&n, 0, sizeof n);
	tu_normalize(t, &n);
	tu_explain_norm(s, &n);
	sr_normalized_release(&n);
}

char *tu_explain(const struct tu_reply *t)
{
	struct tu_str s = { 0 };

	tu_explain_into(&s, t);
	return tu_str_take(&s);
}

static char *tu_vmsg(const struct tu_reply *t, const char *fmt, va_list ap)
	TU_PRINTF(2, 0);

static char *tu_vmsg(const struct tu_reply *t, const char *fmt, va_list ap)
{
	struct tu_str s = { 0 };

	tu_str_vprintf(&s, fmt, ap);
	TU_STR_LIT(&s, "\n");
	tu_explain_into(&s, t);
	return tu_str_take(&s);
}

char *tu_msg(const struct tu_reply *t, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = tu_vmsg(t, fmt, ap);
	va_end(ap);
	return m;
}

/* ---- diagnostics ------------------------------------------------------ */

char *tu_diag_problem(const struct tu_reply *t, const char *prefix,
		      enum sr_diag_id id, bool present, int sev,
		      unsigned line)
{
	const struct sr_diag *d = sr_check_find(&t->chk, id);
	const char *name = tu_name_or(sr_diag_name(id), "(bad id)");

	if (!present) {
		if (d != NULL)
			return tu_msg(t, "%s: %s reported, but it must not be",
				      prefix, name);
		return NULL;
	}
	if (d == NULL)
		return tu_msg(t, "%s: %s not reported, but it must be", prefix,
			      name);
	if (d->id != id)
		return tu_msg(t, "%s: sr_check_find(%s) returned id %d", prefix,
			      name, (int)d->id);
	if (sev >= 0 && (int)sr_diag_severity(id) != sev)
		return tu_msg(t, "%s: %s has severity %s, expected %s", prefix,
			      name,
			      tu_name_or(sr_severity_name(sr_diag_severity(id)), "?"),
			      tu_name_or(sr_severity_name((enum sr_severity)sev), "?"));
	if (line > 0 && d->line != line)
		return tu_msg(t, "%s: %s reported at line %u, expected line %u",
			      prefix, name, d->line, line);
	return NULL;
}

char *tu_check_problem(const struct tu_reply *t, const char *prefix)
{
	const struct sr_check *c = &t->chk;
	unsigned seen[SR_D__COUNT] = { 0 };
	unsigned nsev[3] = { 0 };
	size_t i;

	if (c->ndiags > SR_D__COUNT)
		return tu_msg(t, "%s: ndiags %zu > %d", prefix, c->ndiags,
			      (int)SR_D__COUNT);
	for (i = 0; i < c->ndiags; i++) {
		const struct sr_diag *d = &c->diags[i];
		enum sr_severity sev;
		char msg[8];
		size_t mlen;

		if ((int)d->id < 0 || d->id >= SR_D__COUNT)
			return tu_msg(t, "%s: diagnostic %zu has bad id %d",
				      prefix, i, (int)d->id);
		if (seen[d->id]++)
			return tu_msg(t, "%s: %s reported twice", prefix,
				      sr_diag_name(d->id));
		if (sr_check_find(c, d->id) != d)
			return tu_msg(t, "%s: sr_check_find(%s) does not return it",
				      prefix, sr_diag_name(d->id));
		sev = sr_diag_severity(d->id);
		if ((int)sev < 0 || sev > SR_SEV_ERROR)
			return tu_msg(t, "%s: %s has bad severity %d", prefix,
				      sr_diag_name(d->id), (int)sev);
		nsev[sev]++;
		if (d->line < 1 || d->line > t->r.nlines)
			return tu_msg(t, "%s: %s at line %u, reply has %zu lines",
				      prefix, sr_diag_name(d->id), d->line,
				      t->r.nlines);
		if (d->count < 1)
			return tu_msg(t, "%s: %s has count %u", prefix,
				      sr_diag_name(d->id), d->count);
		if (memchr(d->token, '\0', sizeof d->token) == NULL ||
		    memchr(d->want, '\0', sizeof d->want) == NULL)
			return tu_msg(t, "%s: %s token/want not NUL-terminated",
				      prefix, sr_diag_name(d->id));
		mlen = sr_diag_format(d, msg, sizeof msg);
		if (mlen == 0 || msg[0] == '\0' || strnlen(msg, sizeof msg) == sizeof msg)
			return tu_msg(t, "%s: %s has an empty or unterminated message",
				      prefix, sr_diag_name(d->id));
	}
	for (i = 0; i < SR_D__COUNT; i++)
		if (!seen[i] && sr_check_find(c, (enum sr_diag_id)i) != NULL)
			return tu_msg(t, "%s: sr_check_find(%s) finds an unreported id",
				      prefix, sr_diag_name((enum sr_diag_id)i));
	if (c->errors != nsev[SR_SEV_ERROR] || c->warnings != nsev[SR_SEV_WARNING] ||
	    c->infos != nsev[SR_SEV_INFO])
		return tu_msg(t, "%s: counters %u/%u/%u, diagnostics say %u/%u/%u",
			      prefix, c->errors, c->warnings, c->infos,
			      nsev[SR_SEV_ERROR], nsev[SR_SEV_WARNING],
			      nsev[SR_SEV_INFO]);
	return NULL;
}

const struct sr_change *tu_find_change(const struct sr_normalized *n,
				       enum sr_diag_id id)
{
	size_t i;

	for (i = 0; i < n->nchanges && i < SR_D__COUNT; i++)
		if (n->changes[i].id == id)
			return &n->changes[i];
	return NULL;
}

/* ---- normalization ---------------------------------------------------- */

static const char *tu_status_name(enum sr_norm_status st)
{
	switch (st) {
	case SR_NORM_OK: return "ok";
	case SR_NORM_UNFIXABLE: return "unfixable";
	case SR_NORM_NOMEM: return "nomem";
	}
	return "?";
}

char *tu_norm_problem(const struct tu_reply *t, const char *prefix,
		      const struct sr_normalized *n, enum sr_norm_status st,
		      const char *exp, size_t explen)
{
	struct tu_str s = { 0 };
	size_t i;

	if (n->status != st)
		return tu_msg(t, "%s: status %s, expected %s", prefix,
			      tu_status_name(n->status), tu_status_name(st));
	if (st == SR_NORM_UNFIXABLE) {
		if (memchr(n->why, '\0', sizeof n->why) == NULL || n->why[0] == '\0')
			return tu_msg(t, "%s: unfixable with an empty or unterminated why",
				      prefix);
		return NULL;
	}
	if (st != SR_NORM_OK || exp == NULL)
		return NULL;
	if (n->wire != NULL && n->wire_len == explen &&
	    memcmp(n->wire, exp, explen) == 0)
		return NULL;
	tu_str_printf(&s, "%s: normalized wire form differs\n# expected: ", prefix);
	tu_str_quoted(&s, exp, explen, 1200);
	TU_STR_LIT(&s, "\n#   actual: ");
	if (n->wire == NULL) {
		TU_STR_LIT(&s, "NULL");
	} else {
		tu_str_quoted(&s, n->wire, n->wire_len, 1200);
		for (i = 0; i < explen && i < n->wire_len; i++)
			if (exp[i] != n->wire[i])
				break;
		tu_str_printf(&s, "\n# first difference at byte %zu", i);
	}
	{
		char *m = tu_msg(t, "%s", s.p);

		free(s.p);
		return m;
	}
}

/* WHAT, then the original reply T explained, then the normalized one T2. */
static char *tu_pair_msg(const struct tu_reply *t, const struct tu_reply *t2,
			 const char *prefix, const char *what)
{
	struct tu_str s = { 0 };

	tu_str_printf(&s, "%s: %s\n# ---- the original reply:\n", prefix, what);
	tu_explain_into(&s, t);
	TU_STR_LIT(&s, "# ---- its normalization, parsed again:\n");
	tu_explain_into(&s, t2);
	return tu_str_take(&s);
}

char *tu_props_problem(const struct tu_reply *t, const char *prefix,
		       const struct sr_normalized *n)
{
	struct tu_reply t2;
	struct sr_normalized n2;
	char *problem = NULL;
	const struct sr_line *l1;

	if (n->status != SR_NORM_OK)
		return tu_msg(t, "%s: properties of a normalization that failed",
			      prefix);
	if (n->wire == NULL)
		return tu_msg(t, "%s: status ok with a NULL wire", prefix);
	if (n->wire[n->wire_len] != '\0' || strlen(n->wire) != n->wire_len)
		return tu_msg(t, "%s: wire_len %zu, but the NUL is at %zu", prefix,
			      n->wire_len, strlen(n->wire));
	if (n->wire_len > 0 && (n->wire[n->wire_len - 1] == '\n' ||
				n->wire[n->wire_len - 1] == '\r'))
		return tu_msg(t, "%s: the wire form ends with a line ending",
			      prefix);
	if (n->nlines != tu_count_lines(n->wire, n->wire_len))
		return tu_msg(t, "%s: nlines %zu, the wire form has %zu lines",
			      prefix, n->nlines,
			      tu_count_lines(n->wire, n->wire_len));
	if (n->wire_len < 3 || memcmp(n->wire, n->code, 3) != 0 || n->code[3] != '\0')
		return tu_msg(t, "%s: code \"%.4s\" does not start the wire form",
			      prefix, n->code);

	tu_wire(&t2, n->wire, n->wire_len, &t->opt);
	l1 = &t2.r.lines[0];
	if (strnlen(n->enhanced, sizeof n->enhanced) != l1->enh.len ||
	    (l1->enh.len > 0 && memcmp(n->enhanced, l1->enh.p, l1->enh.len) != 0)) {
		problem = tu_pair_msg(t, &t2, prefix,
				      "field enhanced is not the enhanced code of the wire form");
		goto out;
	}
	if (t2.chk.errors != 0) {
		problem = tu_pair_msg(t, &t2, prefix,
				      "the normalized reply checks with errors");
		goto out;
	}
	problem = tu_check_problem(&t2, prefix);
	if (problem != NULL)
		goto out;

	memset(&n2, 0, sizeof n2);
	tu_normalize(&t2, &n2);
	if (n2.status != SR_NORM_OK || n2.wire == NULL ||
	    n2.wire_len != n->wire_len || memcmp(n2.wire, n->wire, n->wire_len) != 0) {
		struct tu_str s = { 0 };

		tu_str_printf(&s, "%s: not idempotent: normalizing the normalized reply gives status %s, wire ",
			      prefix, tu_status_name(n2.status));
		if (n2.wire && n2.status == SR_NORM_OK)
			tu_str_quoted(&s, n2.wire, n2.wire_len, 1200);
		else
			TU_STR_LIT(&s, "(none)");
		TU_STR_LIT(&s, "\n# first pass: ");
		tu_str_quoted(&s, n->wire, n->wire_len, 1200);
		problem = tu_msg(t, "%s", s.p);
		free(s.p);
	} else if (n2.nchanges != 0) {
		problem = tu_pair_msg(t, &t2, prefix,
				      "normalizing the normalized reply again reports changes");
	}
	sr_normalized_release(&n2);
out:
	tu_release(&t2);
	return problem;
}

bool tu_contains_ci(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	const char *p;

	for (p = hay; *p != '\0'; p++) {
		size_t i;

		for (i = 0; i < nl; i++)
			if (p[i] == '\0' ||
			    tolower((unsigned char)p[i]) != tolower((unsigned char)needle[i]))
				break;
		if (i == nl)
			return true;
	}
	return nl == 0;
}

size_t tu_count_lines(const char *wire, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i + 1 < len; i++)
		if (wire[i] == '\r' && wire[i + 1] == '\n')
			n++;
	return n;
}

void tu_tmpdir_make(char *dir, size_t size, const char *tmpl)
{
	ck_assert_uint_lt(strlen(tmpl), size);
	strcpy(dir, tmpl);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

void tu_tmpdir_remove(const char *dir)
{
	char cmd[256];

	ck_assert_uint_lt((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir),
	    sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
}

int tu_read_full(int fd, void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = read(fd, (char *)buf + off, n - off);

		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}
