/*
 * SPDX-License-Identifier: ISC
 * test_proxy.c - the proxy (children behind smtpreply-milter) without an
 * MTA: the "milters" configuration with every error, durations, '%%' as
 * the MTA reads it, and proxy_step() against scripted children.
 *
 * A scripted child is a thread on a unix socket in a private directory:
 * it answers the negotiation with the actions and steps given, then for
 * every packet that expects an answer sends the next reply of its script
 * (raw packets, as libmilter would write them), and records the commands
 * it received. The tests assert the verdict of each step, the reply as
 * normalized, the order the children were asked in, the modifications in
 * the order they were made, evaluate mode and on_error.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "proxy.h"
#include "proxy_conf.h"
#include "testutil.h"


static char tmpdir[64];

static void setup(void)
{
	tu_tmpdir_make(tmpdir, sizeof(tmpdir), "/tmp/test_proxy.XXXXXX");
}

static void teardown(void)
{
	tu_tmpdir_remove(tmpdir);
}

/* ---- configuration ---------------------------------------------------- */

static const struct {
	const char *text;
	const char *err;		/* substring of the errors, NULL: ok */
} conf_rows[] = {
	{ "milters = ( { name = \"a\"; socket = \"inet:8892@127.0.0.1\"; } );", NULL },
	{ "milters = ( { name = \"a\"; socket = \"unix:/run/a.sock\"; timeouts = "
	  "{ connect = \"250ms\"; command = 10; eom = \"5m\"; }; on_error = "
	  "\"reject\"; evaluate = true; } );", NULL },
	{ "milters = ( { socket = \"inet:1@h\"; } );", "needs a 'name'" },
	{ "milters = ( { name = \"a b\"; socket = \"inet:1@h\"; } );",
	  "needs a 'name'" },
	{ "milters = ( { name = \"a\"; } );", "milter 'a' needs a 'socket'" },
	{ "milters = ( { name = \"a\"; socket = \"tcp:1\"; } );",
	  "must start with unix:" },
	{ "milters = ( { name = \"a\"; socket = \"inet:0@h\"; } );", "port 1-65535" },
	{ "milters = ( { name = \"a\"; socket = \"inet:70000@h\"; } );",
	  "port 1-65535" },
	{ "milters = ( { name = \"a\"; socket = \"unix:rel\"; } );",
	  "absolute path" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; }, { name = \"a\"; "
	  "socket = \"inet:2@h\"; } );", "milter 'a' is defined twice" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; on_error = "
	  "\"ignore\"; } );", "'on_error' must be 'tempfail', 'accept' or "
	  "'reject', not 'ignore'" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; timeouts = { "
	  "command = \"3 s\"; }; } );", "bad timeout '3 s'" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; timeouts = { "
	  "command = \"2h\"; }; } );", "bad timeout '2h'" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; timeouts = { "
	  "read = 1; }; } );", "unknown setting 'read' in timeouts" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; colour = 1; } );",
	  "unknown setting 'colour' in a milter" },
	{ "milters = ( { name = \"a\"; socket = \"inet:1@h\"; evaluate = 1; } );",
	  "'evaluate' must be true or false" },
	{ "milters = { name = \"a\"; };", "'milters' must be a list" },
};

START_TEST(test_conf)
{
	char path[128];
	struct conf *cfg = NULL;
	struct conf_errors errs;
	FILE *f;
	size_t i;
	bool found = false;

	snprintf(path, sizeof(path), "%s/c.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(conf_rows[_i].text, f);
	fclose(f);
	conf_errors_init(&errs);
	if (conf_rows[_i].err == NULL) {
		ck_assert_msg(conf_load(path, &cfg, &errs) == 0, "%s: %s",
		    conf_rows[_i].text, errs.n ? errs.lines[0] : "");
		ck_assert_uint_ge(cfg->proxy.n, 1);
		conf_unref(cfg);
	} else {
		ck_assert_int_eq(conf_load(path, &cfg, &errs), -1);
		for (i = 0; i < errs.n; i++)
			found = found || strstr(errs.lines[i],
			    conf_rows[_i].err) != NULL;
		ck_assert_msg(found, "%s: expected '%s', got '%s'",
		    conf_rows[_i].text, conf_rows[_i].err,
		    errs.n ? errs.lines[0] : "(none)");
		/* Every error names the file and a line. */
		ck_assert_msg(strncmp(errs.lines[0], path, strlen(path)) == 0 &&
		    errs.lines[0][strlen(path)] == ':', "%s", errs.lines[0]);
	}
	conf_errors_free(&errs);
}
END_TEST

START_TEST(test_conf_values)
{
	char path[128];
	struct conf *cfg = NULL;
	struct conf_errors errs;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c.conf", tmpdir);
	f = fopen(path, "w");
	fputs(conf_rows[1].text, f);
	fputs("\n", f);
	fclose(f);
	conf_errors_init(&errs);
	ck_assert_int_eq(conf_load(path, &cfg, &errs), 0);
	ck_assert_str_eq(cfg->proxy.child[0].name, "a");
	ck_assert_str_eq(cfg->proxy.child[0].socket, "unix:/run/a.sock");
	ck_assert_int_eq(cfg->proxy.child[0].connect_ms, 250);
	ck_assert_int_eq(cfg->proxy.child[0].command_ms, 10000);
	ck_assert_int_eq(cfg->proxy.child[0].eom_ms, 300000);
	ck_assert_int_eq(cfg->proxy.child[0].on_error, PROXY_ON_ERROR_REJECT);
	ck_assert(cfg->proxy.child[0].evaluate);
	conf_unref(cfg);
	conf_errors_free(&errs);
}
END_TEST

static const struct {
	const char *in;
	int ms;				/* -1: refused */
} dur_rows[] = {
	{ "1ms", 1 }, { "250ms", 250 }, { "30s", 30000 }, { "30", 30000 },
	{ "5m", 300000 }, { "60m", 3600000 }, { "61m", -1 }, { "0", -1 },
	{ "0ms", -1 }, { "-1", -1 }, { "1h", -1 }, { "", -1 }, { "s", -1 },
	{ " 5", -1 }, { "+5", -1 }, { "99999999999999999999", -1 },
};

START_TEST(test_duration)
{
	int ms = -1;
	int rc = proxy_duration_ms(dur_rows[_i].in, &ms);

	if (dur_rows[_i].ms < 0)
		ck_assert_msg(rc == -1, "'%s' accepted", dur_rows[_i].in);
	else
		ck_assert_msg(rc == 0 && ms == dur_rows[_i].ms, "'%s': %d %d",
		    dur_rows[_i].in, rc, ms);
}
END_TEST

START_TEST(test_percent)
{
	static const char *const rows[][2] = {
		{ "100%% sure", "100% sure" }, { "100% sure", "100% sure" },
		{ "%%%", "%%" }, { "%%%%", "%%" }, { "%", "%" }, { "", "" },
	};
	size_t i;

	for (i = 0; i < NROWS(rows); i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", rows[i][0]);
		ck_assert_str_eq(proxy_unescape_percent(buf), rows[i][1]);
	}
}
END_TEST

/* ---- scripted children ------------------------------------------------ */

struct script {
	char path[108];
	uint32_t actions, protocol;
	const char *replies[16];	/* packets: "<cmd><data>", lengths below */
	size_t lens[16];
	size_t nreplies;
	char got[64];			/* commands received, in order */
	size_t ngot;
	int listen_fd;
	pthread_t th;
	bool close_at_eom;		/* crash mid-message */
	int nconn;			/* connections served; 0: one */
	/* From the second connection on, negotiate these instead. */
	bool renegotiate;
	uint32_t actions2, protocol2;
	/* SMFIR_SETSYMLIST: the list for SMFIM_ENVFROM (needs the action). */
	const char *mail_macros;
	char macros[512];		/* "M:name=value;..." per macro packet */
	size_t nmacros;
};

/* Note the macro packet BUF[0..N) ('D', the step's command, pairs). */
static void record_macros(struct script *sc, const unsigned char *buf,
			  size_t n)
{
	size_t i = 2;

	if (n < 2)
		return;
	sc->nmacros += (size_t)snprintf(sc->macros + sc->nmacros,
	    sizeof(sc->macros) - sc->nmacros, "%c:", buf[1]);
	while (i < n && sc->nmacros < sizeof(sc->macros) - 1) {
		const char *name = (const char *)buf + i;
		size_t ln = strnlen(name, n - i);
		const char *val = name + ln + 1;

		if (i + ln + 1 >= n)
			break;
		i += ln + 1 + strnlen(val, n - i - ln - 1) + 1;
		sc->nmacros += (size_t)snprintf(sc->macros + sc->nmacros,
		    sizeof(sc->macros) - sc->nmacros, "%s=%s;", name, val);
	}
	if (sc->nmacros >= sizeof(sc->macros))
		sc->nmacros = sizeof(sc->macros) - 1;
}

static void send_packet(int fd, const char *p, size_t len)
{
	unsigned char h[4] = { (unsigned char)(len >> 24),
	    (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	    (unsigned char)len };

	/* The proxy may have closed (a child it failed): no SIGPIPE. */
	if (send(fd, h, 4, MSG_NOSIGNAL) == 4)
		(void)send(fd, p, len, MSG_NOSIGNAL);
}

/* Serve one connection of the script, from reply NEXT on. */
static void serve(struct script *sc, int fd, int conn, size_t *pnext)
{
	uint32_t actions = conn > 0 && sc->renegotiate ? sc->actions2 :
	    sc->actions;
	uint32_t protocol = conn > 0 && sc->renegotiate ? sc->protocol2 :
	    sc->protocol;
	size_t next = *pnext;

	for (;;) {
		unsigned char h[4], buf[70000];
		uint32_t n;

		if (tu_read_full(fd, h, 4) != 0)
			break;
		n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		if (n == 0 || n > sizeof(buf) || tu_read_full(fd, buf, n) != 0)
			break;
		if (buf[0] != 'D' && sc->ngot < sizeof(sc->got) - 1)
			sc->got[sc->ngot++] = (char)buf[0];
		if (buf[0] == 'D')
			record_macros(sc, buf, n);
		if (buf[0] == 'O') {
			unsigned char o[13 + 4 + 256] = { 'O', 0, 0, 0, 6 };
			size_t olen = 13;

			o[5] = (unsigned char)(actions >> 24);
			o[6] = (unsigned char)(actions >> 16);
			o[7] = (unsigned char)(actions >> 8);
			o[8] = (unsigned char)actions;
			o[9] = (unsigned char)(protocol >> 24);
			o[10] = (unsigned char)(protocol >> 16);
			o[11] = (unsigned char)(protocol >> 8);
			o[12] = (unsigned char)protocol;
			if (sc->mail_macros != NULL) {
				o[16] = SMFIM_ENVFROM;
				snprintf((char *)o + 17, 256, "%s",
				    sc->mail_macros);
				olen = 17 + strlen((char *)o + 17) + 1;
			}
			send_packet(fd, (const char *)o, olen);
			continue;
		}
		if (buf[0] == 'D' || buf[0] == 'A')
			continue;
		if (buf[0] == 'Q')
			break;
		if (buf[0] == 'E' && sc->close_at_eom)
			break;
		/* Replies up to and including the first verdict. */
		for (;;) {
			char k;

			if (next >= sc->nreplies) {
				send_packet(fd, "c", 1);
				break;
			}
			k = sc->replies[next][0];
			send_packet(fd, sc->replies[next], sc->lens[next]);
			next++;
			if (strchr("+-2behimpq", k) == NULL)
				break;
		}
	}
	*pnext = next;
}

static void *child_main(void *arg)
{
	struct script *sc = arg;
	size_t next = 0;
	int conn;

	for (conn = 0; conn < (sc->nconn > 0 ? sc->nconn : 1); conn++) {
		int fd = accept(sc->listen_fd, NULL, NULL);

		if (fd < 0)
			break;
		if (conn > 0 && sc->ngot < sizeof(sc->got) - 1)
			sc->got[sc->ngot++] = '|';
		serve(sc, fd, conn, &next);
		close(fd);
	}
	return NULL;
}

#define R(lit) lit, sizeof(lit) - 1

static void script_start(struct script *sc, const char *name)
{
	struct sockaddr_un sun;

	snprintf(sc->path, sizeof(sc->path), "%s/%s.sock", tmpdir, name);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sc->path);
	sc->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(sc->listen_fd, 0);
	ck_assert_int_eq(bind(sc->listen_fd, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	ck_assert_int_eq(listen(sc->listen_fd, 4), 0);
	ck_assert_int_eq(pthread_create(&sc->th, NULL, child_main, sc), 0);
}

static void script_add(struct script *sc, const char *p, size_t len)
{
	sc->replies[sc->nreplies] = p;
	sc->lens[sc->nreplies++] = len;
}

static void script_join(struct script *sc)
{
	pthread_join(sc->th, NULL);
	close(sc->listen_fd);
}

/* A configuration of N children on the scripts' sockets. */
static void make_conf(struct proxy_conf *pc, struct script **sc,
		      const bool *evaluate, const enum proxy_on_error *oe,
		      size_t n)
{
	size_t i;

	pc->n = n;
	pc->child = calloc(n, sizeof(*pc->child));
	for (i = 0; i < n; i++) {
		char spec[160], name[16];

		snprintf(spec, sizeof(spec), "unix:%s", sc[i]->path);
		snprintf(name, sizeof(name), "c%zu", i + 1);
		pc->child[i].name = strdup(name);
		pc->child[i].socket = strdup(spec);
		pc->child[i].connect_ms = 1000;
		pc->child[i].command_ms = 1000;
		pc->child[i].eom_ms = 1000;
		pc->child[i].on_error = oe != NULL ? oe[i] :
		    PROXY_ON_ERROR_TEMPFAIL;
		pc->child[i].evaluate = evaluate != NULL && evaluate[i];
		pc->child[i].ctr = calloc(1, sizeof(*pc->child[i].ctr));
	}
}

/* End a test's session: close the proxy, wait for its N children, free
 * the configuration (the scripts keep what they received). */
static void finish(struct proxy *p, struct proxy_conf *pc, struct script **sc,
		   size_t n)
{
	size_t i;

	proxy_close(p);
	for (i = 0; i < n; i++)
		script_join(sc[i]);
	proxy_conf_free(pc);
}

/* The MTA's macros, for every step (a NULL value: the MTA has none). */
static const char *mta_macro(void *ctx, const char *name)
{
	static const char *const known[][2] = {
		{ "j", "mx.example" }, { "{daemon_name}", "smtpd" },
		{ "{if_addr}", "192.0.2.25" }, { "i", "QID1" },
		{ "{mail_addr}", "a@example.org" },
		{ "{client_ptr}", "ptr.example" },
	};
	size_t i;

	(void)ctx;
	for (i = 0; i < NROWS(known); i++)
		if (strcmp(known[i][0], name) == 0)
			return known[i][1];
	return NULL;
}

static void step(struct proxy *p, enum mclient_step st, enum sr_phase ph,
		 struct proxy_verdict *v)
{
	static const char *const argv[] = { "<a@example.org>" };
	struct proxy_event ev;
	struct sr_options o;

	memset(&ev, 0, sizeof(ev));
	ev.step = st;
	ev.hostname = "client.example";
	ev.family = SMFIA_INET;
	ev.port = 2525;
	ev.addr = "192.0.2.1";
	ev.str = "client.example";
	ev.argv = argv;
	ev.argc = 1;
	ev.name = "Subject";
	ev.value = "hi";
	ev.body = "body\r\n";
	ev.body_len = 6;
	memset(&o, 0, sizeof(o));
	o.phase = ph;
	o.context = SR_CONTEXT_MILTER;
	proxy_step(p, &ev, mta_macro, NULL, &o, NULL, v);
}

START_TEST(test_chain_order_and_normalize)
{
	struct script a = { .actions = 0 }, b = { .actions = 0 };
	struct script *all[2] = { &a, &b };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* c1 continues at RCPT then rejects the second RCPT with a class
	 * mismatch; c2 must not see that second RCPT. */
	script_add(&a, R("c"));		/* connect */
	script_add(&a, R("c"));		/* mail */
	script_add(&a, R("c"));		/* rcpt 1 */
	script_add(&a, R("y550 4.7.1 Access denied 100%% sure\0"));
	script_add(&a, R("y451 4.7.1\0"));	/* rcpt 3: no text */
	script_start(&a, "a");
	script_start(&b, "b");
	make_conf(&pc, all, NULL, NULL, 2);
	p = proxy_open(&pc);
	ck_assert_ptr_nonnull(p);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
	ck_assert_int_eq(v.result, PROXY_REJECT);
	ck_assert_str_eq(v.child, "c1");
	ck_assert(v.has_reply);
	ck_assert_str_eq(v.norm.wire, "550 5.7.1 Access denied 100% sure");
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->normalized[
	    SR_D_ENHANCED_CLASS_MISMATCH]), 1);
	ck_assert_uint_eq(v.norm.nchanges, 1);	/* nothing else changed */
	proxy_verdict_release(&v);
	/* A reply without text gets the default text of its code. */
	step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
	ck_assert_int_eq(v.result, PROXY_TEMPFAIL);
	ck_assert(v.has_reply);
	ck_assert_msg(strncmp(v.norm.wire, "451 4.7.1 ", 10) == 0 &&
	    strlen(v.norm.wire) > 10, "%s", v.norm.wire);
	proxy_verdict_release(&v);
	finish(p, &pc, all, 2);
	ck_assert_str_eq(a.got, "OCMRRRQ");
	ck_assert_str_eq(b.got, "OCMRQ");
}
END_TEST

START_TEST(test_mods_evaluate_and_precedence)
{
	struct script a = { .actions = SMFIF_ADDHDRS | SMFIF_ADDRCPT },
	    b = { .actions = SMFIF_ADDHDRS }, c = { .actions = SMFIF_CHGHDRS };
	struct script *all[3] = { &a, &b, &c };
	bool evaluate[3] = { false, true, false };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;
	const struct proxy_mod *m;

	/* Everyone continues until the end of message. */
	script_add(&a, R("h" "X-A\0one\0"));
	script_add(&a, R("+" "<new@example.org>\0"));
	script_add(&a, R("p"));
	script_add(&a, R("c"));
	script_add(&b, R("h" "X-B\0evaluated\0"));
	script_add(&b, R("y550 5.7.1 would reject\0"));
	script_add(&c, R("m" "\0\0\0\x01" "Subject\0new\0"));
	script_add(&c, R("a"));
	a.protocol = b.protocol = c.protocol = SMFIP_NOCONNECT | SMFIP_NOMAIL |
	    SMFIP_NORCPT | SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY;
	script_start(&a, "a");
	script_start(&b, "b");
	script_start(&c, "c");
	make_conf(&pc, all, evaluate, NULL, 3);
	p = proxy_open(&pc);
	ck_assert_uint_eq(proxy_actions(p), SMFIF_ADDHDRS | SMFIF_ADDRCPT |
	    SMFIF_CHGHDRS);		/* the evaluated child's left out */
	ck_assert(!proxy_wants(p, MCLIENT_STEP_BODY));
	proxy_new_message(p);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	/* c1 continued, c2 is evaluated, c3 accepted: continue wins. */
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	ck_assert_uint_eq(proxy_nmods(p), 3);
	m = proxy_mod_at(p, 0);
	ck_assert(m->kind == MCLIENT_R_ADDHEADER && strcmp(m->a, "X-A") == 0);
	m = proxy_mod_at(p, 1);
	ck_assert(m->kind == MCLIENT_R_ADDRCPT &&
	    strcmp(m->a, "<new@example.org>") == 0 && m->b == NULL);
	m = proxy_mod_at(p, 2);
	ck_assert(m->kind == MCLIENT_R_CHGHEADER && m->index == 1 &&
	    strcmp(m->b, "new") == 0 && strcmp(m->child, "c3") == 0);
	finish(p, &pc, all, 3);
}
END_TEST

START_TEST(test_on_error)
{
	struct script a = { .actions = SMFIF_ADDHDRS, .close_at_eom = true },
	    b = { .actions = 0 };
	struct script *all[2] = { &a, &b };
	enum proxy_on_error oe[2] = { PROXY_ON_ERROR_ACCEPT,
	    PROXY_ON_ERROR_TEMPFAIL };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* c1 dies at end of message (on_error accept: c2 goes on, its
	 * quarantine reason cleaned); then both are down for the next
	 * connection: c1 is skipped, c2 (tempfail) decides at connect. */
	script_add(&b, R("c"));		/* connect */
	script_add(&b, R("c"));		/* mail */
	script_add(&b, R("q" "bad\x01stuff\0"));
	script_add(&b, R("c"));
	b.actions = SMFIF_QUARANTINE;
	script_start(&a, "a");
	script_start(&b, "b");
	make_conf(&pc, all, NULL, oe, 2);
	p = proxy_open(&pc);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_MAIL, &v);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	ck_assert_uint_eq(proxy_nmods(p), 1);
	ck_assert_str_eq(proxy_mod_at(p, 0)->a, "bad stuff");	/* cleaned */
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->errors), 1);
	proxy_close(p);
	script_join(&a);
	script_join(&b);
	/* Both down now: c1 accept is skipped, c2 tempfails at connect. */
	unlink(a.path);
	unlink(b.path);
	p = proxy_open(&pc);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_TEMPFAIL);
	ck_assert(v.from_error && !v.has_reply);
	ck_assert_str_eq(v.child, "c2");
	proxy_close(p);
	proxy_conf_free(&pc);
}
END_TEST

START_TEST(test_pipelined_headers)
{
	struct script a = { .actions = SMFIF_ADDHDRS }, b = { .actions = 0 };
	struct script *all[2] = { &a, &b };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;
	int i;

	/* c1 rejects at the second header: the step answers continue (the
	 * answer is read later), the verdict comes at the end of message;
	 * c1 never gets the end of message, c2 gets nothing after it. */
	a.protocol = b.protocol = SMFIP_NOCONNECT | SMFIP_NOHELO |
	    SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOBODY |
	    SMFIP_NOUNKNOWN;
	script_add(&a, R("c"));
	script_add(&a, R("y550 4.7.1 bad header\0"));
	script_add(&a, R("c"));
	script_add(&a, R("c"));		/* eoh */
	script_start(&a, "a");
	script_start(&b, "b");
	make_conf(&pc, all, NULL, NULL, 2);
	p = proxy_open(&pc);
	proxy_new_message(p);
	for (i = 0; i < 3; i++) {
		step(p, MCLIENT_STEP_HEADER, SR_PHASE_EOM, &v);
		ck_assert_int_eq(v.result, PROXY_CONTINUE);
	}
	step(p, MCLIENT_STEP_EOH, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_REJECT);
	ck_assert_str_eq(v.child, "c1");
	ck_assert(v.has_reply);
	ck_assert_str_eq(v.norm.wire, "550 5.7.1 bad header");
	proxy_verdict_release(&v);
	finish(p, &pc, all, 2);
	ck_assert_str_eq(a.got, "OLLLNQ");
	ck_assert_str_eq(b.got, "OLLLNQ");
}
END_TEST

START_TEST(test_pipelined_violation)
{
	struct script a = { .actions = SMFIF_ADDHDRS };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* A header added in answer to a header: broken, found at the end of
	 * message, on_error tempfail. */
	a.protocol = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
	    SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
	    SMFIP_NOEOH;
	script_add(&a, R("h" "X-Early\0v\0"));
	script_add(&a, R("c"));
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	p = proxy_open(&pc);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_HEADER, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_TEMPFAIL);
	ck_assert(v.from_error);
	ck_assert_uint_eq(proxy_nmods(p), 0);
	finish(p, &pc, all, 1);
}
END_TEST


/* Steps a child of these tests does not want: all but MAIL, BODY, EOM. */
#define ONLY_MAIL_BODY_EOM (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | \
	SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NOHDRS | SMFIP_NOEOH)

START_TEST(test_pipelined_body_skip)
{
	struct script a = { .actions = 0 };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* Body chunks are pipelined: the skip answering the first arrives
	 * after the second was sent; that one's answer is taken, and the
	 * child's accept at the end of message is the verdict. */
	a.protocol = ONLY_MAIL_BODY_EOM | SMFIP_SKIP;
	script_add(&a, R("c"));		/* mail */
	script_add(&a, R("s"));		/* body 1: skip */
	script_add(&a, R("c"));		/* body 2, already sent */
	script_add(&a, R("a"));		/* eom */
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	p = proxy_open(&pc);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_BODY, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_BODY, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_ACCEPT);
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->errors), 0);
	finish(p, &pc, all, 1);
	ck_assert_str_eq(a.got, "OMBBEQ");
}
END_TEST

START_TEST(test_pipelined_body_reject)
{
	struct script a = { .actions = 0 };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* A reject at the first chunk is the verdict at the end of message;
	 * the answer to the second chunk is read and dropped, and the child
	 * is not sent the end of message. */
	a.protocol = ONLY_MAIL_BODY_EOM;
	script_add(&a, R("c"));
	script_add(&a, R("y550 4.7.1 body refused\0"));
	script_add(&a, R("c"));
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	p = proxy_open(&pc);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	step(p, MCLIENT_STEP_BODY, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_BODY, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_REJECT);
	ck_assert(v.has_reply);
	ck_assert_str_eq(v.norm.wire, "550 5.7.1 body refused");
	proxy_verdict_release(&v);
	finish(p, &pc, all, 1);
	ck_assert_str_eq(a.got, "OMBBQ");
}
END_TEST

START_TEST(test_memo_same)
{
	struct script a = { .actions = SMFIF_ADDHDRS, .nconn = 2 };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* The first connection reads the negotiation and keeps it; the
	 * second answers from it and reads the child's answer at the first
	 * step, which goes on as usual. */
	a.protocol = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN;
	script_add(&a, R("c"));		/* connect, 1st connection */
	script_add(&a, R("c"));		/* connect, 2nd */
	script_add(&a, R("y550 5.7.1 no\0"));	/* mail, 2nd */
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	pc.child[0].memo = proxy_child_memo_new();
	ck_assert_ptr_nonnull(pc.child[0].memo);
	ck_assert(!pc.child[0].memo->valid);
	p = proxy_open(&pc);
	ck_assert(pc.child[0].memo->valid);
	ck_assert_uint_eq(pc.child[0].memo->neg.actions, SMFIF_ADDHDRS);
	ck_assert_uint_eq(pc.child[0].memo->neg.protocol, a.protocol);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_close(p);

	p = proxy_open(&pc);
	ck_assert_uint_eq(proxy_actions(p), SMFIF_ADDHDRS);
	ck_assert(!proxy_wants(p, MCLIENT_STEP_HELO));
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_REJECT);
	ck_assert_str_eq(v.norm.wire, "550 5.7.1 no");
	proxy_verdict_release(&v);
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->errors), 0);
	finish(p, &pc, all, 1);
	ck_assert_str_eq(a.got, "OCQ|OCMQ");
}
END_TEST

START_TEST(test_memo_changed)
{
	struct script a = { .actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	    .nconn = 2, .renegotiate = true,
	    .actions2 = SMFIF_ADDHDRS | SMFIF_ADDRCPT };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* The child negotiates otherwise on its second connection. That
	 * connection's MTA was asked for what the memo said (proxy_actions
	 * right after proxy_open); the new steps apply from the first step,
	 * the new actions only within the memo's: an added recipient, which
	 * the MTA was not asked to allow, makes the child fail. The memo
	 * then holds the new negotiation. */
	a.protocol = SMFIP_NORCPT | SMFIP_NOUNKNOWN;
	a.protocol2 = SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NOHELO;
	script_add(&a, R("c"));		/* connect, 1st connection */
	script_add(&a, R("c"));		/* connect, 2nd */
	script_add(&a, R("c"));		/* mail */
	script_add(&a, R("+" "<x@example.org>\0"));	/* eom */
	script_add(&a, R("c"));
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	pc.child[0].memo = proxy_child_memo_new();
	p = proxy_open(&pc);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	proxy_close(p);

	p = proxy_open(&pc);
	ck_assert_uint_eq(proxy_actions(p), SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	ck_assert(proxy_wants(p, MCLIENT_STEP_HELO));
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	ck_assert(!proxy_wants(p, MCLIENT_STEP_HELO));
	ck_assert_uint_eq(proxy_actions(p), SMFIF_ADDHDRS);
	step(p, MCLIENT_STEP_HELO, SR_PHASE_HELO, &v);	/* not sent */
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_TEMPFAIL);
	ck_assert(v.from_error);
	ck_assert_uint_eq(proxy_nmods(p), 0);
	ck_assert_uint_eq(pc.child[0].memo->neg.actions,
	    SMFIF_ADDHDRS | SMFIF_ADDRCPT);
	finish(p, &pc, all, 1);
	ck_assert_msg(strncmp(a.got, "OCQ|OCME", 8) == 0, "%s", a.got);
}
END_TEST


START_TEST(test_macros)
{
	struct script a = { .actions = 0 },
	    b = { .actions = SMFIF_SETSYMLIST,
	    .mail_macros = "i,\t{client_ptr} mail_addr i bad}name" };
	struct script *all[2] = { &a, &b };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* c1 names no macros: the defaults of both MTAs, those the MTA
	 * has. c2 names its own at MAIL, written loosely: read as the MTAs
	 * read them (commas, tabs, "mail_addr"), each once, the impossible
	 * name left out. */
	a.protocol = b.protocol = SMFIP_NOHELO | SMFIP_NORCPT |
	    SMFIP_NOUNKNOWN;
	script_start(&a, "a");
	script_start(&b, "b");
	make_conf(&pc, all, NULL, NULL, 2);
	p = proxy_open(&pc);
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	finish(p, &pc, all, 2);
	ck_assert_str_eq(a.macros, "C:j=mx.example;{daemon_name}=smtpd;"
	    "{if_addr}=192.0.2.25;M:i=QID1;{mail_addr}=a@example.org;");
	ck_assert_str_eq(b.macros, "C:j=mx.example;{daemon_name}=smtpd;"
	    "{if_addr}=192.0.2.25;M:i=QID1;{client_ptr}=ptr.example;"
	    "{mail_addr}=a@example.org;");
}
END_TEST

START_TEST(test_rejected_rcpt)
{
	static const char *const argv[] = { "<gone@example.org>" };
	struct script a = { .actions = 0 }, b = { .actions = 0 };
	struct script *all[2] = { &a, &b };
	struct proxy_event ev;
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* c1 asks for the recipients the MTA rejected (SMFIP_RCPT_REJ), c2
	 * does not. c1 gets them; its reject of one decides nothing; its
	 * accept of one ends the message for it, as Postfix's milter8.c
	 * would have it. */
	a.protocol = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_RCPT_REJ;
	b.protocol = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
	script_add(&a, R("c"));		/* connect */
	script_add(&a, R("c"));		/* mail */
	script_add(&a, R("y550 5.1.1 no such user here either\0"));
	script_add(&a, R("c"));		/* a recipient the MTA took */
	script_add(&a, R("a"));		/* the second rejected one */
	script_start(&a, "a");
	script_start(&b, "b");
	make_conf(&pc, all, NULL, NULL, 2);
	p = proxy_open(&pc);
	ck_assert(proxy_wants_rejected(p));
	step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
	memset(&ev, 0, sizeof(ev));
	ev.step = MCLIENT_STEP_RCPT;
	ev.argv = argv;
	ev.argc = 1;
	proxy_rejected_rcpt(p, &ev, mta_macro, NULL, NULL);
	step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	proxy_rejected_rcpt(p, &ev, mta_macro, NULL, NULL);
	step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->errors), 0);
	ck_assert_uint_eq(atomic_load(&pc.child[0].ctr->verdicts[
	    MCLIENT_R_REPLYCODE]), 1);
	finish(p, &pc, all, 2);
	ck_assert_str_eq(a.got, "OCMRRRQ");
	ck_assert_str_eq(b.got, "OCMRRQ");

	/* Nobody asks: nothing to send. */
	b.ngot = 0;
	memset(b.got, 0, sizeof(b.got));
	script_start(&b, "b2");
	make_conf(&pc, all + 1, NULL, NULL, 1);
	p = proxy_open(&pc);
	ck_assert(!proxy_wants_rejected(p));
	proxy_rejected_rcpt(p, &ev, mta_macro, NULL, NULL);
	finish(p, &pc, all + 1, 1);
	ck_assert_str_eq(b.got, "OQ");
}
END_TEST

START_TEST(test_shutdown)
{
	static const char kinds[] = { '4', 'f' };
	size_t k;

	/* A child's SMFIR_SHUTDOWN or SMFIR_CONN_FAIL: the 421 Postfix
	 * would send for it, so that the MTA closes the session. */
	for (k = 0; k < sizeof(kinds); k++) {
		struct script a = { .actions = 0 };
		struct script *all[1] = { &a };
		struct proxy_conf pc;
		struct proxy *p;
		struct proxy_verdict v;
		char name[8];

		a.protocol = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
		script_add(&a, R("c"));		/* connect */
		script_add(&a, R("c"));		/* mail */
		script_add(&a, &kinds[k], 1);	/* rcpt */
		snprintf(name, sizeof(name), "a%zu", k);
		script_start(&a, name);
		make_conf(&pc, all, NULL, NULL, 1);
		p = proxy_open(&pc);
		step(p, MCLIENT_STEP_CONNECT, SR_PHASE_CONNECT, &v);
		proxy_new_message(p);
		step(p, MCLIENT_STEP_MAIL, SR_PHASE_MAIL, &v);
		step(p, MCLIENT_STEP_RCPT, SR_PHASE_RCPT, &v);
		ck_assert_int_eq(v.result, PROXY_TEMPFAIL);
		ck_assert(v.has_reply);
		ck_assert_str_eq(v.norm.wire, "421 4.7.0 Server closing connection");
		proxy_verdict_release(&v);
		finish(p, &pc, all, 1);
	}
}
END_TEST

START_TEST(test_leading_space)
{
	struct script a = { .actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS };
	struct script *all[1] = { &a };
	struct proxy_conf pc;
	struct proxy *p;
	struct proxy_verdict v;

	/* A child with SMFIP_HDR_LEADSPC writes the space after the colon
	 * itself; the MTA adds one to what smtpreply-milter hands on. */
	a.protocol = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
	    SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
	    SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_HDR_LEADSPC;
	script_add(&a, R("h" "X-A\0 one\0"));
	script_add(&a, R("m" "\0\0\0\x01" "Subject\0two\0"));
	script_add(&a, R("c"));
	script_start(&a, "a");
	make_conf(&pc, all, NULL, NULL, 1);
	p = proxy_open(&pc);
	proxy_new_message(p);
	step(p, MCLIENT_STEP_EOM, SR_PHASE_EOM, &v);
	ck_assert_int_eq(v.result, PROXY_CONTINUE);
	ck_assert_uint_eq(proxy_nmods(p), 2);
	ck_assert_str_eq(proxy_mod_at(p, 0)->b, "one");
	ck_assert_str_eq(proxy_mod_at(p, 1)->b, "two");
	finish(p, &pc, all, 1);
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_conf, 0, (int)NROWS(conf_rows));
	tcase_add_test(tc, test_conf_values);
	tcase_add_loop_test(tc, test_duration, 0, (int)NROWS(dur_rows));
	tcase_add_test(tc, test_percent);
	suite_add_tcase(s, tc);
	tc = tcase_create("children");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_chain_order_and_normalize);
	tcase_add_test(tc, test_mods_evaluate_and_precedence);
	tcase_add_test(tc, test_on_error);
	tcase_add_test(tc, test_pipelined_headers);
	tcase_add_test(tc, test_pipelined_violation);
	tcase_add_test(tc, test_leading_space);
	tcase_add_test(tc, test_pipelined_body_skip);
	tcase_add_test(tc, test_pipelined_body_reject);
	tcase_add_test(tc, test_memo_same);
	tcase_add_test(tc, test_memo_changed);
	tcase_add_test(tc, test_macros);
	tcase_add_test(tc, test_rejected_rcpt);
	tcase_add_test(tc, test_shutdown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(proxy_suite());
}
