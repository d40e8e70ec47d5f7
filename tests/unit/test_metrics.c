/*
 * SPDX-License-Identifier: ISC
 * test_metrics.c - the Prometheus side of the milter: the text exposition
 * writer (escaping, names, bounds), the collector registry, the listen
 * address of the endpoint, the "metrics" setting, the lock-free table of
 * replies sent (exact under threads, bounded) and the families the
 * milter's counters and the proxy's children write.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "counters.h"
#include "metrics.h"
#include "proxy_metrics.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- exposition -------------------------------------------------------- */

struct one_sample {
	const char *label_value;
	const char *help;
};

static void collect_one(struct metrics_out *o, void *arg)
{
	const struct one_sample *s = arg;
	struct metrics_label l = { "reason", s->label_value };

	metrics_family(o, "x_total", METRICS_COUNTER, s->help);
	metrics_sample(o, "x_total", &l, 1, 42);
}

struct erow {
	const char *value;
	const char *help;
	const char *want;
};

static const struct erow erows[] = {
	{ "plain", "Help.", "# HELP x_total Help.\n# TYPE x_total counter\n"
	  "x_total{reason=\"plain\"} 42\n" },
	{ "a\"b", "H", "# HELP x_total H\n# TYPE x_total counter\n"
	  "x_total{reason=\"a\\\"b\"} 42\n" },
	{ "a\\b", "back\\slash", "# HELP x_total back\\\\slash\n# TYPE x_total counter\n"
	  "x_total{reason=\"a\\\\b\"} 42\n" },
	{ "two\nlines", "two\nlines", "# HELP x_total two\\nlines\n# TYPE x_total counter\n"
	  "x_total{reason=\"two\\nlines\"} 42\n" },
	{ "", "", "# HELP x_total \n# TYPE x_total counter\nx_total{reason=\"\"} 42\n" },
};

START_TEST(test_escaping)
{
	const struct erow *r = &erows[_i];
	struct one_sample s = { r->value, r->help };
	struct metrics_registry reg;
	char *buf;
	size_t len;

	metrics_registry_init(&reg);
	ck_assert_int_eq(metrics_register(&reg, collect_one, &s), 0);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), 0);
	ck_assert_str_eq(buf, r->want);
	ck_assert_uint_eq(len, strlen(r->want));
	free(buf);
}
END_TEST

struct nrow {
	const char *metric;
	const char *label;
	int ok;
};

static const struct nrow nrows[] = {
	{ "smtpreply_milter_x_total", "phase", 1 },
	{ "ns:x_total", "phase", 1 },
	{ "_x", "_y", 1 },
	{ "1x", "phase", 0 },
	{ "x-total", "phase", 0 },
	{ "", "phase", 0 },
	{ "x_total", "1phase", 0 },
	{ "x_total", "a:b", 0 },
	{ "x_total", "__reserved", 0 },
	{ "x_total", "a b", 0 },
};

static void collect_named(struct metrics_out *o, void *arg)
{
	const struct nrow *r = arg;
	struct metrics_label l = { r->label, "v" };

	metrics_family(o, r->metric, METRICS_GAUGE, "h");
	metrics_sample_double(o, r->metric, &l, 1, 1.5);
}

START_TEST(test_names)
{
	const struct nrow *r = &nrows[_i];
	struct metrics_registry reg;
	char *buf = NULL;
	size_t len;
	int rc;

	metrics_registry_init(&reg);
	metrics_register(&reg, collect_named, (void *)r);
	rc = metrics_render(&reg, &buf, &len);
	ck_assert_msg((rc == 0) == r->ok, "%s{%s}: render %d", r->metric,
	    r->label, rc);
	if (rc == 0)
		ck_assert_ptr_nonnull(strstr(buf, "{" ));
	free(buf);
}
END_TEST

static void collect_a(struct metrics_out *o, void *arg)
{
	(void)arg;
	metrics_family(o, "a", METRICS_GAUGE, "A.");
	metrics_sample(o, "a", NULL, 0, 1);
}

static void collect_b(struct metrics_out *o, void *arg)
{
	(void)arg;
	metrics_family(o, "b", METRICS_GAUGE, "B.");
	metrics_sample_double(o, "b", NULL, 0, 0.25);
}

START_TEST(test_registry_order_and_limit)
{
	struct metrics_registry reg;
	char *buf;
	size_t len;
	int i;

	metrics_registry_init(&reg);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), 0);
	ck_assert_str_eq(buf, "");
	free(buf);
	metrics_register(&reg, collect_a, NULL);
	metrics_register(&reg, collect_b, NULL);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), 0);
	ck_assert_str_eq(buf, "# HELP a A.\n# TYPE a gauge\na 1\n"
	    "# HELP b B.\n# TYPE b gauge\nb 0.25\n");
	free(buf);
	for (i = 2; i < METRICS_MAX_COLLECTORS; i++)
		ck_assert_int_eq(metrics_register(&reg, collect_a, NULL), 0);
	ck_assert_int_eq(metrics_register(&reg, collect_a, NULL), -1);
}
END_TEST

static void collect_huge(struct metrics_out *o, void *arg)
{
	unsigned long i;

	(void)arg;
	metrics_family(o, "huge", METRICS_COUNTER, "Too much.");
	for (i = 0; i < METRICS_OUT_MAX / 8; i++)
		metrics_sample(o, "huge", NULL, 0, i);
}

START_TEST(test_bounded)
{
	struct metrics_registry reg;
	char *buf = NULL;
	size_t len;

	metrics_registry_init(&reg);
	metrics_register(&reg, collect_huge, NULL);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), -1);
	ck_assert_ptr_null(buf);
}
END_TEST

/* ---- listen address ---------------------------------------------------- */

struct lrow {
	const char *spec;
	const char *addr;	/* NULL: an error */
	unsigned port;
	int loopback;
	const char *err;	/* part of the message */
};

static const struct lrow lrows[] = {
	{ "inet:9163", "127.0.0.1", 9163, 1, NULL },
	{ "inet6:9163", "::1", 9163, 1, NULL },
	{ "inet:1@127.0.0.2", "127.0.0.2", 1, 1, NULL },
	{ "inet:65535@localhost", "127.0.0.1", 65535, 1, NULL },
	{ "inet:9163@0.0.0.0", "0.0.0.0", 9163, 0, NULL },
	{ "inet:9163@192.0.2.1", "192.0.2.1", 9163, 0, NULL },
	{ "inet6:9163@[::1]", "::1", 9163, 1, NULL },
	{ "inet6:9163@::", "::", 9163, 0, NULL },
	{ "tcp:9163", NULL, 0, 0, "inet:PORT@HOST" },
	{ "unix:/run/x.sock", NULL, 0, 0, "inet:PORT@HOST" },
	{ "inet:", NULL, 0, 0, "port" },
	{ "inet:0", NULL, 0, 0, "port" },
	{ "inet:65536", NULL, 0, 0, "port" },
	{ "inet:123456", NULL, 0, 0, "port" },
	{ "inet:91a3", NULL, 0, 0, "port" },
	{ "inet:@127.0.0.1", NULL, 0, 0, "port" },
	{ "inet:9163@", NULL, 0, 0, "host" },
	{ "inet:9163@::1", NULL, 0, 0, "IPv4" },
	{ "inet6:9163@127.0.0.1", NULL, 0, 0, "IPv6" },
};

START_TEST(test_listen)
{
	const struct lrow *r = &lrows[_i];
	struct sockaddr_storage ss;
	char err[256] = "", shown[64] = "";
	unsigned sslen = 0, port = 0;
	int rc;

	rc = metrics_listen_parse(r->spec, &ss, &sslen, err, sizeof(err));
	if (r->addr == NULL) {
		ck_assert_msg(rc == -1, "%s: accepted", r->spec);
		ck_assert_msg(strstr(err, r->err) != NULL, "%s: '%s' lacks '%s'",
		    r->spec, err, r->err);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", r->spec, err);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, shown, sizeof(shown));
		port = ntohs(in->sin_port);
		ck_assert_uint_eq(sslen, sizeof(*in));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, shown, sizeof(shown));
		port = ntohs(in6->sin6_port);
		ck_assert_uint_eq(sslen, sizeof(*in6));
	}
	ck_assert_str_eq(shown, r->addr);
	ck_assert_uint_eq(port, r->port);
	ck_assert_int_eq(metrics_listen_is_loopback(&ss), r->loopback);
}
END_TEST

/* ---- the "metrics" setting --------------------------------------------- */

struct crow {
	const char *text;
	const char *metrics;	/* the loaded value; NULL: unset */
	const char *err;	/* NULL: loads */
};

static const struct crow crows[] = {
	{ "", NULL, NULL },
	{ "metrics = \"\";", NULL, "must not be empty" },
	{ "metrics = \"inet:9163\";", "inet:9163", NULL },
	{ "metrics = \"inet6:9163@::1\";", "inet6:9163@::1", NULL },
	{ "metrics = \"inet:99999\";", NULL, "'metrics' \"inet:99999\": port" },
	{ "metrics = \"http://localhost:9163\";", NULL, "'metrics'" },
	{ "metrics = 9163;", NULL, "metrics" },
};

START_TEST(test_setting)
{
	const struct crow *r = &crows[_i];
	char path[] = "/tmp/test_metrics.XXXXXX";
	struct conf_errors errs;
	struct conf *cfg = NULL;
	int fd, rc;
	size_t i;
	bool found = false;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, r->text, strlen(r->text)), (int)strlen(r->text));
	close(fd);
	conf_errors_init(&errs);
	rc = conf_load(path, &cfg, &errs);
	unlink(path);
	if (r->err == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", r->text, errs.n > 0 ?
		    errs.lines[0] : "?");
		if (r->metrics == NULL)
			ck_assert_ptr_null(cfg->metrics);
		else
			ck_assert_str_eq(cfg->metrics, r->metrics);
		conf_unref(cfg);
	} else {
		ck_assert_int_eq(rc, -1);
		for (i = 0; i < errs.n; i++)
			found = found || strstr(errs.lines[i], r->err) != NULL;
		ck_assert_msg(found, "%s: no error with '%s' (%s)", r->text,
		    r->err, errs.n > 0 ? errs.lines[0] : "none");
	}
	conf_errors_free(&errs);
}
END_TEST

/* ---- replies table and the milter's families ------------------------------ */

static struct counters ctr;

static char *render_counters(void)
{
	struct metrics_registry reg;
	char *buf;
	size_t len;

	metrics_registry_init(&reg);
	metrics_register(&reg, counters_collect, &ctr);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), 0);
	return buf;
}

#define ASSERT_LINE(buf, line) \
	ck_assert_msg(strstr((buf), "\n" line "\n") != NULL, \
	    "missing line: %s", line)

START_TEST(test_counters_families)
{
	char *buf;

	counters_init(&ctr);
	counters_inc(&ctr.sessions);
	counters_inc(&ctr.verdicts_by_phase[RULE_PHASE_RCPT][RULE_REJECT]);
	counters_inc(&ctr.verdicts_by_phase[RULE_PHASE_RCPT][RULE_REJECT]);
	counters_reply(&ctr, RULE_PHASE_RCPT, "550", "5.7.1");
	counters_reply(&ctr, RULE_PHASE_RCPT, "550", "5.7.1");
	counters_reply(&ctr, RULE_PHASE_HEADER, "554", "5.7.1");
	counters_reply(&ctr, RULE_PHASE_MAIL, "451", "");
	counters_reply(&ctr, RULE_PHASE_MAIL, "451", "4.100.999");
	counters_inc(&ctr.normalized[SR_D_ENHANCED_CLASS_MISMATCH]);
	counters_inc(&ctr.nonstandard[572]);
	counters_inc(&ctr.audited_nonstandard[7]);
	counters_reload(&ctr, true);
	counters_reload(&ctr, false);
	buf = render_counters();
	ASSERT_LINE(buf, "smtpreply_milter_sessions_total 1");
	ASSERT_LINE(buf, "smtpreply_milter_verdicts_total{phase=\"rcpt\",action=\"reject\"} 2");
	ASSERT_LINE(buf, "smtpreply_milter_verdicts_total{phase=\"eom\",action=\"continue\"} 0");
	ASSERT_LINE(buf, "smtpreply_milter_replies_total{phase=\"rcpt\",code=\"550\",enhanced_code=\"5.7.1\"} 2");
	ASSERT_LINE(buf, "smtpreply_milter_replies_total{phase=\"header\",code=\"554\",enhanced_code=\"5.7.1\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_replies_total{phase=\"mail\",code=\"451\",enhanced_code=\"\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_replies_total{phase=\"mail\",code=\"451\",enhanced_code=\"4.100.999\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_replies_normalized_total{diagnostic=\"enhanced-class-mismatch\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_replies_normalized_total{diagnostic=\"code-syntax\"} 0");
	ASSERT_LINE(buf, "smtpreply_milter_nonstandard_codes_total{code=\"572\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_mta_reject_nonstandard_codes_total{code=\"007\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_config_reloads_total{result=\"success\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_config_reloads_total{result=\"failure\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_config_last_reload_successful 0");
	ck_assert_ptr_null(strstr(buf, "nonstandard_codes_total{code=\"557\"}"));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE smtpreply_milter_replies_total counter\n"));
	ck_assert_ptr_nonnull(strstr(buf, "smtpreply_milter_build_info{version=\""));
	free(buf);
}
END_TEST

START_TEST(test_replies_bounded)
{
	char code[4], *buf;
	unsigned i;
	unsigned long total = 0;

	counters_init(&ctr);
	/* 300 distinct replies: 256 get a series, the rest "unlabelled". */
	for (i = 0; i < 300; i++) {
		char enh[16];

		snprintf(code, sizeof(code), "%03u", 400 + i % 200);
		snprintf(enh, sizeof(enh), "%u.%u.%u", 4 + i / 200, i % 8, i);
		counters_reply(&ctr, RULE_PHASE_RCPT, code, enh);
	}
	for (i = 0; i < COUNTERS_REPLY_SLOTS; i++)
		total += atomic_load(&ctr.replies[i].n);
	ck_assert_uint_eq(total, COUNTERS_REPLY_SLOTS);
	ck_assert_uint_eq(atomic_load(&ctr.replies_overflow),
	    300 - COUNTERS_REPLY_SLOTS);
	/* Codes that are not three digits are not labels. */
	counters_reply(&ctr, RULE_PHASE_RCPT, "55", "5.7.1");
	counters_reply(&ctr, RULE_PHASE_RCPT, "5500", "5.7.1");
	ck_assert_uint_eq(atomic_load(&ctr.replies_overflow),
	    300 - COUNTERS_REPLY_SLOTS + 2);
	buf = render_counters();
	ASSERT_LINE(buf, "smtpreply_milter_replies_unlabelled_total 46");
	free(buf);
}
END_TEST

/* Threads count the same few replies at once: no count is lost. */
#define THREADS 4
#define ROUNDS 20000

static void *count_replies(void *arg)
{
	static const char *const codes[] = { "550", "451", "554", "421" };
	int i, t = (int)(long)arg;

	for (i = 0; i < ROUNDS; i++)
		counters_reply(&ctr, (enum rule_phase)((i + t) % RULE_PHASE__COUNT),
		    codes[(i / 7 + t) % 4], (i & 1) ? "5.7.1" : "");
	return NULL;
}

START_TEST(test_replies_threads)
{
	pthread_t tid[THREADS];
	unsigned long total = 0;
	size_t i, used = 0;

	counters_init(&ctr);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, count_replies,
		    (void *)(long)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < COUNTERS_REPLY_SLOTS; i++) {
		total += atomic_load(&ctr.replies[i].n);
		used += atomic_load(&ctr.replies[i].key) != 0;
	}
	ck_assert_uint_eq(total, (unsigned long)THREADS * ROUNDS);
	ck_assert_uint_eq(atomic_load(&ctr.replies_overflow), 0);
	/* 7 phases x 4 codes x with/without enhanced code at most. */
	ck_assert_uint_le(used, 7 * 4 * 2);
}
END_TEST

/* ---- the proxy's children ------------------------------------------------- */

static struct proxy_child_counters kid1, kid2;
static struct proxy_conf kids_pc;

static void collect_kids(struct metrics_out *o, void *arg)
{
	proxy_metrics_write(o, arg);
}

static char *render_kids(struct proxy_conf *pc)
{
	struct metrics_registry reg;
	char *buf;
	size_t len;

	metrics_registry_init(&reg);
	metrics_register(&reg, collect_kids, pc);
	ck_assert_int_eq(metrics_render(&reg, &buf, &len), 0);
	return buf;
}

START_TEST(test_children)
{
	struct proxy_child_conf ch[2];
	struct proxy_conf none = { NULL, 0 };
	char *buf;
	int i;

	memset(ch, 0, sizeof(ch));
	ch[0].name = "dkim";
	ch[0].ctr = &kid1;
	ch[1].name = "spf-check.v2";
	ch[1].ctr = &kid2;
	kids_pc.child = ch;
	kids_pc.n = 2;
	for (i = 0; i < 3; i++)
		counters_inc(&kid1.calls);
	counters_inc(&kid1.verdicts[MCLIENT_R_REJECT]);
	counters_inc(&kid1.verdicts[MCLIENT_R_REPLYCODE]);
	counters_inc(&kid1.normalized[SR_D_ENHANCED_CLASS_MISMATCH]);
	counters_inc(&kid2.errors);
	atomic_store(&kid1.latency_us_total, 1500000);
	atomic_store(&kid1.latency_us_max, 250000);
	buf = render_kids(&kids_pc);
	ASSERT_LINE(buf, "smtpreply_milter_child_calls_total{child=\"dkim\"} 3");
	ASSERT_LINE(buf, "smtpreply_milter_child_calls_total{child=\"spf-check.v2\"} 0");
	ASSERT_LINE(buf, "smtpreply_milter_child_replies_total{child=\"dkim\",kind=\"reject\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_child_replies_total{child=\"dkim\",kind=\"replycode\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_child_replies_normalized_total{child=\"dkim\",diagnostic=\"enhanced-class-mismatch\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_child_errors_total{child=\"spf-check.v2\"} 1");
	ASSERT_LINE(buf, "smtpreply_milter_child_unfixable_replies_total{child=\"dkim\"} 0");
	ASSERT_LINE(buf, "smtpreply_milter_child_call_seconds_total{child=\"dkim\"} 1.5");
	ASSERT_LINE(buf, "smtpreply_milter_child_call_max_seconds{child=\"dkim\"} 0.25");
	ck_assert_ptr_null(strstr(buf, "kind=\"accept\""));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE smtpreply_milter_child_call_max_seconds gauge\n"));
	free(buf);
	/* No children: no family at all. */
	buf = render_kids(&none);
	ck_assert_str_eq(buf, "");
	free(buf);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("exposition");

	tcase_add_loop_test(tc, test_escaping, 0, (int)NROWS(erows));
	tcase_add_loop_test(tc, test_names, 0, (int)NROWS(nrows));
	tcase_add_test(tc, test_registry_order_and_limit);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("listen");
	tcase_add_loop_test(tc, test_listen, 0, (int)NROWS(lrows));
	tcase_add_loop_test(tc, test_setting, 0, (int)NROWS(crows));
	suite_add_tcase(s, tc);
	tc = tcase_create("counters");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_counters_families);
	tcase_add_test(tc, test_replies_bounded);
	tcase_add_test(tc, test_replies_threads);
	tcase_add_test(tc, test_children);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
