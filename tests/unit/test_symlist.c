/*
 * SPDX-License-Identifier: ISC
 * test_symlist.c - the macro lists smtpreply-milter asks the MTA for on
 * behalf of its proxy children (symlist.c), and proxy_each_symlist().
 *
 * Table-driven: each row gives the children's SMFIR_SETSYMLIST lists and
 * the rules' macros, and the list expected per stage (none, the exact
 * union, or nothing because it is over a bound). Then the name
 * normalization, and the lists of real (scripted) children through
 * proxy_open(): only the children that are up count.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "proxy.h"
#include "rules.h"
#include "symlist.h"
#include "testutil.h"

/* The defaults of each stage after symlist_init: Postfix's, sendmail's
 * additions, session.c's own (already among them). */
#define D_CONNECT "j {daemon_name} {daemon_addr} v _ {if_name} {if_addr}"
#define D_HELO "{tls_version} {cipher} {cipher_bits} {cert_subject} " \
	"{cert_issuer}"
#define D_ENVFROM "i {auth_type} {auth_authen} {auth_author} {mail_addr} " \
	"{mail_host} {mail_mailer} {auth_ssf}"
#define D_ENVRCPT "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"
#define D_DATA "i"
#define D_EOM "i {msg_id}"
#define D_EOH "i"

enum { CONNECT, HELO, ENVFROM, ENVRCPT, DATA, EOM, EOH };

#define OVER "!"		/* SYMLIST_OVERFLOW */

struct kid {
	int stage;
	/* The list as sent; "#N:L" stands for N distinct names of L bytes. */
	const char *list;
};

struct rrule {
	enum rule_phase phase;
	const char *macro;
	bool auth;
};

static const struct {
	const char *what;
	struct kid kids[4];
	struct rrule rules[4];
	/* per stage: NULL none, OVER, "=N" a list of N names, else the list */
	const char *want[SYMLIST_STAGES];
	unsigned invalid[SYMLIST_STAGES];
	const char *first_invalid;
} rows[] = {
	{ "no child list: nothing asked, rules or not",
	  { { -1, NULL } },
	  { { RULE_PHASE_MAIL, "{client_ptr}", true }, { 0, NULL, false } },
	  { NULL, NULL, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
	{ "one child at connect: the defaults and its macro",
	  { { CONNECT, "{client_connections}" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { D_CONNECT " {client_connections}", NULL, NULL, NULL, NULL, NULL,
	    NULL }, { 0 }, NULL },
	{ "duplicates and braces: one name once, as the MTA writes it",
	  { { ENVRCPT, "i,{i} rcpt_addr {rcpt_addr}\t{x_y}  x {x}" },
	    { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, NULL, NULL, D_ENVRCPT " {x_y} x", NULL, NULL, NULL }, { 0 },
	  NULL },
	{ "two children at one stage: the union",
	  { { ENVFROM, "{client_addr} {auth_ssf}" },
	    { ENVFROM, "client_addr {client_port}" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, NULL, D_ENVFROM " {client_addr} {client_port}", NULL, NULL,
	    NULL, NULL }, { 0 }, NULL },
	{ "an empty list still asks (for the defaults)",
	  { { HELO, "" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, D_HELO, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
	{ "the rules' macros: at their phase's stage and every earlier one",
	  { { CONNECT, "{client_connections}" }, { ENVRCPT, "{rx}" },
	    { DATA, "{dz}" }, { EOH, "{ey}" } },
	  { { RULE_PHASE_MAIL, "client_ptr", true },
	    { RULE_PHASE_HEADER, "{hdr_macro}", false },
	    { RULE_PHASE_EOM, "{eom_macro}", false }, { 0, NULL, false } },
	  { D_CONNECT " {client_connections} {auth_authen} {client_ptr} "
	    "{hdr_macro} {eom_macro}", NULL, NULL,
	    D_ENVRCPT " {rx} {hdr_macro} {eom_macro}",
	    D_DATA " {dz} {hdr_macro} {eom_macro}", NULL,
	    D_EOH " {ey} {eom_macro}" }, { 0 }, NULL },
	{ "names no MTA can have are left out and counted",
	  { { HELO, "{bad\x01} a}b {ok} {} {{x}}" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, D_HELO " {ok}", NULL, NULL, NULL, NULL, NULL },
	  { 0, 4, 0, 0, 0, 0, 0 }, "{bad\x01}" },
	{ "a name longer than any MTA's is left out",
	  { { DATA, "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"
	      " {short}" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, NULL, NULL, NULL, D_DATA " {short}", NULL, NULL },
	  { 0, 0, 0, 0, 1, 0, 0 }, "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "50 names: asked for",
	  { { CONNECT, "#43:10" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { "=50", NULL, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
	{ "51 names: nothing asked at that stage, the others go on",
	  { { CONNECT, "#44:10" }, { EOM, "{spam}" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { OVER, NULL, NULL, NULL, NULL, D_EOM " {spam}", NULL }, { 0 },
	  NULL },
	{ "over the byte bound with few names: nothing asked",
	  { { HELO, "#20:60" }, { -1, NULL } },
	  { { 0, NULL, false } },
	  { NULL, OVER, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
	{ "a duplicate does not count against the bound",
	  { { CONNECT, "#43:10" }, { CONNECT, "#43:10" }, { CONNECT, "j _" },
	    { -1, NULL } },
	  { { 0, NULL, false } },
	  { "=50", NULL, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
	{ "the rules' macros count against the bound too",
	  { { CONNECT, "#43:10" }, { -1, NULL } },
	  { { RULE_PHASE_RCPT, "{one_more}", false }, { 0, NULL, false } },
	  { OVER, NULL, NULL, NULL, NULL, NULL, NULL }, { 0 }, NULL },
};

/* "#N:L": N names "{gNN...}" of L bytes each, space-separated. */
static char *expand(const char *spec)
{
	unsigned n, len, i;
	char *out, *p;

	if (spec[0] != '#')
		return strdup(spec);
	ck_assert_int_eq(sscanf(spec, "#%u:%u", &n, &len), 2);
	ck_assert_uint_ge(len, 6);
	out = calloc(n, len + 1);
	ck_assert_ptr_nonnull(out);
	for (p = out, i = 0; i < n; i++) {
		char name[128];

		ck_assert_uint_lt(len, sizeof(name));
		memset(name, 'x', len);
		name[len] = '\0';
		name[0] = '{';
		name[1] = 'g';
		name[2] = (char)('0' + i / 10 % 10);
		name[3] = (char)('0' + i % 10);
		name[len - 1] = '}';
		p += sprintf(p, "%s%s", i ? " " : "", name);
	}
	return out;
}

static unsigned count_names(const char *list)
{
	unsigned n = 1;

	for (; *list != '\0'; list++)
		n += *list == ' ';
	return n;
}

START_TEST(test_rows)
{
	struct symlist *sl = malloc(sizeof(*sl));
	struct rule_set rs;
	size_t i;
	int st;

	ck_assert_ptr_nonnull(sl);
	rule_set_init(&rs);
	for (i = 0; i < NROWS(rows[_i].rules) && rows[_i].rules[i].macro; i++) {
		struct rule *r = rule_new("r");

		ck_assert_ptr_nonnull(r);
		r->phase = rows[_i].rules[i].phase;
		r->macro_name = strdup(rows[_i].rules[i].macro);
		r->authenticated = rows[_i].rules[i].auth ? 1 : -1;
		ck_assert_int_eq(rule_set_add(&rs, r), 0);
	}
	ck_assert_int_eq(rule_set_finish(&rs), 0);
	symlist_init(sl);
	for (i = 0; i < NROWS(rows[_i].kids) && rows[_i].kids[i].list; i++) {
		char *l = expand(rows[_i].kids[i].list);

		symlist_add_child(sl, rows[_i].kids[i].stage, l);
		free(l);
	}
	symlist_add_rules(sl, &rs);
	for (st = 0; st < SYMLIST_STAGES; st++) {
		const char *want = rows[_i].want[st];
		const char *got = symlist_list(sl, st);

		if (want == NULL) {
			ck_assert_msg(symlist_status(sl, st) == SYMLIST_NONE &&
			    got == NULL, "%s: %s: asked for \"%s\"", rows[_i].what,
			    symlist_stage_name(st), got ? got : "(overflow)");
		} else if (strcmp(want, OVER) == 0) {
			ck_assert_msg(symlist_status(sl, st) == SYMLIST_OVERFLOW &&
			    got == NULL, "%s: %s: not over the bound: \"%s\"",
			    rows[_i].what, symlist_stage_name(st), got ? got : "");
		} else if (want[0] == '=') {
			ck_assert_msg(got != NULL, "%s: %s: nothing asked",
			    rows[_i].what, symlist_stage_name(st));
			ck_assert_uint_eq(count_names(got), (unsigned)atoi(want + 1));
			ck_assert_uint_le(strlen(got), SYMLIST_BYTES_MAX);
		} else {
			ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			    "%s: %s: asked for \"%s\", want \"%s\"", rows[_i].what,
			    symlist_stage_name(st), got ? got : "(nothing)", want);
		}
		ck_assert_uint_eq(sl->st[st].invalid, rows[_i].invalid[st]);
		if (rows[_i].invalid[st] > 0)
			ck_assert_str_eq(sl->st[st].first_invalid,
			    rows[_i].first_invalid);
	}
	rule_set_free(&rs);
	free(sl);
}
END_TEST

static const struct {
	const char *in;
	const char *out;		/* NULL: no MTA can have it */
} norm_rows[] = {
	{ "i", "i" },
	{ "{i}", "i" },
	{ "_", "_" },
	{ "rcpt_addr", "{rcpt_addr}" },
	{ "{rcpt_addr}", "{rcpt_addr}" },
	{ "{client-name.x}", "{client-name.x}" },
	{ "", NULL },
	{ "{}", NULL },
	{ "{", NULL },
	{ "}", NULL },
	{ "{{x}}", NULL },
	{ "{a", NULL },
	{ "a}", NULL },
	{ "a,b", NULL },
	{ "a b", NULL },
	{ "a\tb", NULL },
	{ "\x01", NULL },
	{ "caf\xc3\xa9", NULL },
	/* 62 bytes inside the braces: 64 in all, the longest kept */
	{ "{12345678901234567890123456789012345678901234567890123456789012}",
	  "{12345678901234567890123456789012345678901234567890123456789012}" },
	{ "{123456789012345678901234567890123456789012345678901234567890123}",
	  NULL },
};

START_TEST(test_normalize)
{
	char out[SYMLIST_NAME_MAX + 1];
	int n = symlist_normalize(norm_rows[_i].in, strlen(norm_rows[_i].in),
	    out, sizeof(out));

	if (norm_rows[_i].out == NULL) {
		ck_assert_msg(n == -1, "\"%s\" gave \"%s\"", norm_rows[_i].in,
		    n >= 0 ? out : "");
	} else {
		ck_assert_msg(n >= 0, "\"%s\" refused", norm_rows[_i].in);
		ck_assert_str_eq(out, norm_rows[_i].out);
		ck_assert_int_eq(n, (int)strlen(norm_rows[_i].out));
	}
}
END_TEST

START_TEST(test_normalize_small_buffer)
{
	char out[6];

	ck_assert_int_eq(symlist_normalize("abcd", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(symlist_normalize("abc", 3, out, sizeof(out)), 5);
	ck_assert_str_eq(out, "{abc}");
}
END_TEST

START_TEST(test_defaults_documented)
{
	/* The tables the module copies from the MTAs' documentation. */
	ck_assert_str_eq(symlist_postfix_default(CONNECT),
	    "j {daemon_name} {daemon_addr} v _");
	ck_assert_str_eq(symlist_postfix_default(EOM), "i");
	ck_assert_str_eq(symlist_sendmail_default(EOM), "{msg_id}");
	ck_assert_ptr_null(symlist_sendmail_default(DATA));
	ck_assert_ptr_null(symlist_postfix_default(SYMLIST_STAGES));
	ck_assert_str_eq(symlist_stage_name(EOH), "eoh");
	ck_assert_str_eq(symlist_stage_name(-1), "?");
}
END_TEST

/* ---- children through proxy_open -------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
	tu_tmpdir_make(tmpdir, sizeof(tmpdir), "/tmp/test_symlist.XXXXXX");
}

static void teardown(void)
{
	tu_tmpdir_remove(tmpdir);
}

/* A child that answers the negotiation with OPT (LEN bytes after the
 * command byte: version, actions, steps, macro lists) and continues. */
struct kidproc {
	char path[108];
	const char *opt;
	size_t len;
	int fd;
	pthread_t th;
};

static void put(int fd, char cmd, const char *data, size_t len)
{
	unsigned char h[5] = { (unsigned char)((len + 1) >> 24),
	    (unsigned char)((len + 1) >> 16), (unsigned char)((len + 1) >> 8),
	    (unsigned char)(len + 1), (unsigned char)cmd };

	if (send(fd, h, 5, MSG_NOSIGNAL) == 5 && len > 0)
		(void)send(fd, data, len, MSG_NOSIGNAL);
}

static void *kid_main(void *arg)
{
	struct kidproc *k = arg;
	int fd = accept(k->fd, NULL, NULL);
	unsigned char h[4], buf[4096];

	while (fd >= 0 && tu_read_full(fd, h, 4) == 0) {
		uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];

		if (n == 0 || n > sizeof(buf) || tu_read_full(fd, buf, n) != 0 ||
		    buf[0] == 'Q')
			break;
		if (buf[0] == 'O')
			put(fd, 'O', k->opt, k->len);
		else if (buf[0] != 'D')
			put(fd, 'c', NULL, 0);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void kid_start(struct kidproc *k, const char *name, bool listen_too)
{
	struct sockaddr_un sun;

	snprintf(k->path, sizeof(k->path), "%s/%s.sock", tmpdir, name);
	if (!listen_too)
		return;			/* nobody there: the child is down */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, k->path);
	k->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(k->fd, 0);
	ck_assert_int_eq(bind(k->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(k->fd, 4), 0);
	ck_assert_int_eq(pthread_create(&k->th, NULL, kid_main, k), 0);
}

#define OPT(lists) "\0\0\0\x06" "\0\0\x01\0" "\0\0\0\0" lists
#define L(lit) lit, sizeof(lit) - 1

struct seen {
	char text[512];
	size_t len;
};

static void note(void *ctx, int stage, const char *names)
{
	struct seen *s = ctx;

	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
	    "%d=%s;", stage, names);
}

static void add(void *ctx, int stage, const char *names)
{
	symlist_add_child(ctx, stage, names);
}

START_TEST(test_children_up)
{
	/* c1: lists at connect and envfrom; c2: none; c3: down; c4: a list,
	 * then a broken one (negotiation fails: not up). */
	struct kidproc k[4] = {
		{ .opt = OPT("\0\0\0\0" "{client_connections}\0"
		    "\0\0\0\x02" "{client_addr} i\0") },
		{ .opt = OPT("") },
		{ .opt = NULL },
		{ .opt = OPT("\0\0\0\x01" "{from_broken}\0" "\0\0\0\x09" "x\0") },
	};
	static const size_t lens[4] = {
		sizeof(OPT("\0\0\0\0" "{client_connections}\0"
		    "\0\0\0\x02" "{client_addr} i\0")) - 1,
		sizeof(OPT("")) - 1, 0,
		sizeof(OPT("\0\0\0\x01" "{from_broken}\0" "\0\0\0\x09" "x\0")) - 1
	};
	struct proxy_conf pc;
	struct proxy *p;
	struct seen seen = { "", 0 };
	struct symlist *sl = malloc(sizeof(*sl));
	size_t i;

	ck_assert_ptr_nonnull(sl);
	pc.n = 4;
	pc.child = calloc(4, sizeof(*pc.child));
	ck_assert_ptr_nonnull(pc.child);
	for (i = 0; i < 4; i++) {
		char name[8], spec[sizeof(k[i].path) + 8];

		k[i].len = lens[i];
		snprintf(name, sizeof(name), "c%zu", i + 1);
		kid_start(&k[i], name, k[i].opt != NULL);
		snprintf(spec, sizeof(spec), "unix:%.*s",
		    (int)sizeof(k[i].path) - 1, k[i].path);
		pc.child[i].name = strdup(name);
		pc.child[i].socket = strdup(spec);
		pc.child[i].connect_ms = pc.child[i].command_ms =
		    pc.child[i].eom_ms = 1000;
		pc.child[i].ctr = calloc(1, sizeof(*pc.child[i].ctr));
	}
	p = proxy_open(&pc);
	ck_assert_ptr_nonnull(p);
	proxy_each_symlist(p, note, &seen);
	ck_assert_str_eq(seen.text, "0={client_connections};2={client_addr} i;");
	symlist_init(sl);
	proxy_each_symlist(p, add, sl);
	ck_assert_str_eq(symlist_list(sl, CONNECT), D_CONNECT
	    " {client_connections}");
	ck_assert_str_eq(symlist_list(sl, ENVFROM), D_ENVFROM " {client_addr}");
	ck_assert_ptr_null(symlist_list(sl, HELO));	/* c4's is not used */
	proxy_close(p);
	proxy_each_symlist(NULL, note, &seen);		/* no proxy: no call */
	for (i = 0; i < 4; i++)
		if (k[i].opt != NULL) {
			pthread_join(k[i].th, NULL);
			close(k[i].fd);
		}
	proxy_conf_free(&pc);
	free(sl);
}
END_TEST

static Suite *symlist_suite(void)
{
	Suite *s = suite_create("symlist");
	TCase *tc = tcase_create("union");

	tcase_add_loop_test(tc, test_rows, 0, (int)NROWS(rows));
	tcase_add_loop_test(tc, test_normalize, 0, (int)NROWS(norm_rows));
	tcase_add_test(tc, test_normalize_small_buffer);
	tcase_add_test(tc, test_defaults_documented);
	suite_add_tcase(s, tc);
	tc = tcase_create("children");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_children_up);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(symlist_suite());
}
