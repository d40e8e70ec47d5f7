/*
 * counters.c - snapshot of the milter's counters, for the log.
 */
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "log.h"

void counters_init(struct counters *c)
{
	size_t i;

	atomic_init(&c->sessions, 0);
	atomic_init(&c->messages, 0);
	atomic_init(&c->audited, 0);
	atomic_init(&c->audited_bad, 0);
	atomic_init(&c->internal_errors, 0);
	for (i = 0; i < RULE_ACTION__COUNT; i++)
		atomic_init(&c->verdicts[i], 0);
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
