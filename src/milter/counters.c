/*
 * SPDX-License-Identifier: ISC
 * counters.c - the milter's counters: the replies table, a snapshot for
 * the log, and the Prometheus families (counters_collect()).
 */
#include "config.h"	/* autoconf: PACKAGE_VERSION */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "log.h"

void counters_init(struct counters *c)
{
	size_t i, j;

	atomic_init(&c->sessions, 0);
	atomic_init(&c->messages, 0);
	atomic_init(&c->audited, 0);
	atomic_init(&c->audited_bad, 0);
	atomic_init(&c->internal_errors, 0);
	for (i = 0; i < RULE_ACTION__COUNT; i++)
		atomic_init(&c->verdicts[i], 0);
	for (i = 0; i < RULE_PHASE__COUNT; i++)
		for (j = 0; j < RULE_ACTION__COUNT; j++)
			atomic_init(&c->verdicts_by_phase[i][j], 0);
	for (i = 0; i < COUNTERS_REPLY_SLOTS; i++) {
		atomic_init(&c->replies[i].key, 0);
		atomic_init(&c->replies[i].n, 0);
	}
	atomic_init(&c->replies_overflow, 0);
	atomic_init(&c->reloads_ok, 0);
	atomic_init(&c->reloads_failed, 0);
	atomic_init(&c->config_loaded_at, (long long)time(NULL));
	atomic_init(&c->last_reload_ok, true);
	atomic_init(&c->started_at, (long long)time(NULL));
	for (i = 0; i < SR_D__COUNT; i++) {
		atomic_init(&c->normalized[i], 0);
		atomic_init(&c->audited_diag[i], 0);
	}
	for (i = 0; i < 1000; i++) {
		atomic_init(&c->nonstandard[i], 0);
		atomic_init(&c->audited_nonstandard[i], 0);
	}
}

static unsigned long get(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* ---- replies sent, by phase and code ---------------------------------- */

/*
 * Key: bit 63 set (never 0), phase << 40, basic code << 30, then the
 * enhanced code: present << 29, class << 25, subject << 15, detail << 5.
 */
static int digits(const char *s, size_t max, unsigned *v, const char **end)
{
	size_t n = 0;

	*v = 0;
	while (n < max && s[n] >= '0' && s[n] <= '9')
		*v = *v * 10 + (unsigned)(s[n++] - '0');
	*end = s + n;
	return n > 0 ? 0 : -1;
}

static uint64_t reply_key(enum rule_phase phase, const char *code,
			  const char *enhanced)
{
	unsigned basic, cls, subj, det;
	const char *e;
	uint64_t key;

	if (strlen(code) != 3 || digits(code, 3, &basic, &e) != 0 || *e != '\0')
		return 0;
	key = (uint64_t)1 << 63 | (uint64_t)phase << 40 | (uint64_t)basic << 30;
	if (enhanced != NULL && digits(enhanced, 1, &cls, &e) == 0 &&
	    *e == '.' && digits(e + 1, 3, &subj, &e) == 0 && *e == '.' &&
	    digits(e + 1, 3, &det, &e) == 0 && *e == '\0')
		key |= (uint64_t)1 << 29 | (uint64_t)cls << 25 |
		    (uint64_t)subj << 15 | (uint64_t)det << 5;
	return key;
}

void counters_reply(struct counters *c, enum rule_phase phase,
		    const char *code, const char *enhanced)
{
	uint64_t key = reply_key(phase, code, enhanced), cur;
	size_t i, slot;

	if (key == 0 || (unsigned)phase >= RULE_PHASE__COUNT) {
		counters_inc(&c->replies_overflow);
		return;
	}
	slot = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 56) %
	    COUNTERS_REPLY_SLOTS;
	for (i = 0; i < COUNTERS_REPLY_SLOTS; i++) {
		struct counters_reply_slot *s =
		    &c->replies[(slot + i) % COUNTERS_REPLY_SLOTS];

		cur = atomic_load_explicit(&s->key, memory_order_acquire);
		if (cur == 0) {
			/* Claim it; on a lost race CUR is the winner's key. */
			if (atomic_compare_exchange_strong_explicit(&s->key, &cur,
			    key, memory_order_acq_rel, memory_order_acquire))
				cur = key;
		}
		if (cur == key) {
			counters_inc(&s->n);
			return;
		}
	}
	counters_inc(&c->replies_overflow);
}

void counters_reload(struct counters *c, bool ok)
{
	if (ok) {
		atomic_store(&c->config_loaded_at, (long long)time(NULL));
		counters_inc(&c->reloads_ok);
	} else {
		counters_inc(&c->reloads_failed);
	}
	atomic_store(&c->last_reload_ok, ok);
}

/* Append " NAME=N" to BUF for each non-zero counter; "none" if none. */
struct list {
	char buf[1024];
	size_t len;
	int n;
};

static void list_add(struct list *l, const char *name, unsigned long v)
{
	int k;

	if (v == 0 || l->len >= sizeof(l->buf) - 1)
		return;
	k = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s%s=%lu",
	    l->n > 0 ? " " : "", name, v);
	if (k > 0)
		l->len += (size_t)k;
	if (l->len >= sizeof(l->buf))
		l->len = sizeof(l->buf) - 1;
	l->n++;
}

static const char *list_text(struct list *l)
{
	return l->n > 0 ? l->buf : "none";
}

static void list_codes(struct list *l, const atomic_ulong *v)
{
	char name[8];
	int code;

	for (code = 0; code < 1000; code++) {
		snprintf(name, sizeof(name), "%03d", code);
		list_add(l, name, get(&v[code]));
	}
}

void counters_log(const struct counters *c)
{
	struct list verdicts = { "", 0, 0 }, norm = { "", 0, 0 };
	struct list ns = { "", 0, 0 }, adiag = { "", 0, 0 };
	struct list ans = { "", 0, 0 };
	int i;

	for (i = 0; i < RULE_ACTION__COUNT; i++)
		list_add(&verdicts, rule_action_name((enum rule_action)i),
		    get(&c->verdicts[i]));
	for (i = 0; i < SR_D__COUNT; i++) {
		list_add(&norm, sr_diag_name((enum sr_diag_id)i),
		    get(&c->normalized[i]));
		list_add(&adiag, sr_diag_name((enum sr_diag_id)i),
		    get(&c->audited_diag[i]));
	}
	list_codes(&ns, c->nonstandard);
	list_codes(&ans, c->audited_nonstandard);
	log_msg(LOG_INFO, "counters: sessions=%lu messages=%lu internal_errors=%lu",
	    get(&c->sessions), get(&c->messages), get(&c->internal_errors));
	log_msg(LOG_INFO, "counters: verdicts: %s", list_text(&verdicts));
	log_msg(LOG_INFO, "counters: normalizations: %s", list_text(&norm));
	log_msg(LOG_INFO, "counters: nonstandard codes replaced: %s",
	    list_text(&ns));
	log_msg(LOG_INFO, "counters: mta rejects audited=%lu with_problems=%lu; "
	    "diagnostics: %s; nonstandard codes: %s", get(&c->audited),
	    get(&c->audited_bad), list_text(&adiag), list_text(&ans));
}

/* ---- Prometheus -------------------------------------------------------- */

#define NS "smtpreply_milter_"

static void family1(struct metrics_out *o, const char *name, const char *help,
		    unsigned long long v)
{
	metrics_family(o, name, METRICS_COUNTER, help);
	metrics_sample(o, name, NULL, 0, v);
}

/* Non-zero codes of a per-code array, labelled code="NNN". */
static void by_code(struct metrics_out *o, const char *name, const char *help,
		    const atomic_ulong *v)
{
	struct metrics_label l = { "code", NULL };
	char code[8];
	unsigned i;

	metrics_family(o, name, METRICS_COUNTER, help);
	for (i = 0; i < 1000; i++) {
		unsigned long n = get(&v[i]);

		if (n == 0)
			continue;
		snprintf(code, sizeof(code), "%03u", i);
		l.value = code;
		metrics_sample(o, name, &l, 1, n);
	}
}

/* Every diagnostic id, zeros too: rate() works from the first scrape. */
static void by_diag(struct metrics_out *o, const char *name, const char *help,
		    const atomic_ulong *v)
{
	struct metrics_label l = { "diagnostic", NULL };
	int i;

	metrics_family(o, name, METRICS_COUNTER, help);
	for (i = 0; i < SR_D__COUNT; i++) {
		l.value = sr_diag_name((enum sr_diag_id)i);
		metrics_sample(o, name, &l, 1, get(&v[i]));
	}
}

static void replies(struct metrics_out *o, const struct counters *c)
{
	static const char name[] = NS "replies_total";
	struct metrics_label l[3] = {
		{ "phase", NULL }, { "code", NULL }, { "enhanced_code", NULL }
	};
	char code[8], enh[16];
	size_t i;

	metrics_family(o, name, METRICS_COUNTER, "Reject and tempfail replies "
	    "the milter sent, as sent (normalized), by rule phase, basic code "
	    "and enhanced status code.");
	for (i = 0; i < COUNTERS_REPLY_SLOTS; i++) {
		uint64_t k = atomic_load_explicit(&c->replies[i].key,
		    memory_order_acquire);

		if (k == 0)
			continue;
		l[0].value = rule_phase_name((enum rule_phase)((k >> 40) & 7));
		snprintf(code, sizeof(code), "%03u", (unsigned)((k >> 30) & 1023));
		l[1].value = code;
		if (k & ((uint64_t)1 << 29))
			snprintf(enh, sizeof(enh), "%u.%u.%u",
			    (unsigned)((k >> 25) & 15), (unsigned)((k >> 15) & 1023),
			    (unsigned)((k >> 5) & 1023));
		else
			enh[0] = '\0';
		l[2].value = enh;
		metrics_sample(o, name, l, 3, get(&c->replies[i].n));
	}
	family1(o, NS "replies_unlabelled_total", "Replies sent that did not "
	    "fit the bounded table of replies_total (more distinct replies "
	    "than it has series).", get(&c->replies_overflow));
}

void counters_collect(struct metrics_out *o, void *arg)
{
	const struct counters *c = arg;
	struct metrics_label l[2];
	int ph, a;

	metrics_family(o, NS "build_info", METRICS_GAUGE,
	    "smtpreply-milter's version, as a label; the value is 1.");
	l[0].name = "version";
	l[0].value = PACKAGE_VERSION;
	metrics_sample(o, NS "build_info", l, 1, 1);
	metrics_family(o, NS "start_time_seconds", METRICS_GAUGE,
	    "When the milter started, in seconds since the Unix epoch.");
	metrics_sample(o, NS "start_time_seconds", NULL, 0,
	    (unsigned long long)atomic_load(&c->started_at));
	family1(o, NS "sessions_total", "Connections from the MTA (SMTP "
	    "sessions) the milter has seen.", get(&c->sessions));
	family1(o, NS "messages_total", "MAIL commands (messages begun) the "
	    "milter has seen.", get(&c->messages));

	metrics_family(o, NS "verdicts_total", METRICS_COUNTER, "Rules that "
	    "matched, by rule phase and action (continue: logged only).");
	l[0].name = "phase";
	l[1].name = "action";
	for (ph = 0; ph < RULE_PHASE__COUNT; ph++)
		for (a = 0; a < RULE_ACTION__COUNT; a++) {
			l[0].value = rule_phase_name((enum rule_phase)ph);
			l[1].value = rule_action_name((enum rule_action)a);
			metrics_sample(o, NS "verdicts_total", l, 2,
			    get(&c->verdicts_by_phase[ph][a]));
		}
	replies(o, c);
	by_diag(o, NS "replies_normalized_total", "Changes the engine made "
	    "to replies the milter sent, by diagnostic id.", c->normalized);
	by_code(o, NS "nonstandard_codes_total", "Configured replies whose "
	    "basic code is not an RFC 5321 code, by code, as configured "
	    "(they are sent replaced).", c->nonstandard);

	family1(o, NS "mta_rejects_audited_total", "Recipients the MTA "
	    "rejected itself whose reply the milter audited.",
	    get(&c->audited));
	family1(o, NS "mta_rejects_nonconforming_total", "Audited MTA "
	    "rejects whose reply has a warning or an error.",
	    get(&c->audited_bad));
	by_diag(o, NS "mta_reject_diagnostics_total", "Diagnostics of the "
	    "audited MTA rejects, by diagnostic id.", c->audited_diag);
	by_code(o, NS "mta_reject_nonstandard_codes_total", "Audited MTA "
	    "rejects with a non-standard basic code, by code.",
	    c->audited_nonstandard);

	family1(o, NS "internal_errors_total", "Internal failures answered "
	    "with the on_error verdict.", get(&c->internal_errors));

	metrics_family(o, NS "config_reloads_total", METRICS_COUNTER,
	    "Configuration reloads (SIGHUP), by result.");
	l[0].name = "result";
	l[0].value = "success";
	metrics_sample(o, NS "config_reloads_total", l, 1, get(&c->reloads_ok));
	l[0].value = "failure";
	metrics_sample(o, NS "config_reloads_total", l, 1,
	    get(&c->reloads_failed));
	metrics_family(o, NS "config_last_reload_successful", METRICS_GAUGE,
	    "1 if the last reload succeeded (or none was tried), 0 if the "
	    "file was refused and the previous configuration kept.");
	metrics_sample(o, NS "config_last_reload_successful", NULL, 0,
	    atomic_load(&c->last_reload_ok) ? 1 : 0);
	metrics_family(o, NS "config_last_reload_success_timestamp_seconds",
	    METRICS_GAUGE, "When the configuration in use was loaded (start "
	    "or last good reload), in seconds since the Unix epoch.");
	metrics_sample(o, NS "config_last_reload_success_timestamp_seconds",
	    NULL, 0, (unsigned long long)atomic_load(&c->config_loaded_at));
}
