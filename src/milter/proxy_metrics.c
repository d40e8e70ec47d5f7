/*
 * SPDX-License-Identifier: ISC
 * proxy_metrics.c - the proxy's per-child counters for Prometheus, see
 * proxy_metrics.h. Pure: reads the atomics of a proxy_conf.
 */
#include <stdatomic.h>

#include "proxy_metrics.h"

#define NS "smtpreply_milter_child_"

static unsigned long get(const atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* One sample per child of the counter FIELD picks out of its counters. */
static void per_child(struct metrics_out *o, const struct proxy_conf *pc,
		      const char *name, const char *help,
		      const atomic_ulong *(*field)(const struct proxy_child_counters *))
{
	struct metrics_label l = { "child", NULL };
	size_t i;

	metrics_family(o, name, METRICS_COUNTER, help);
	for (i = 0; i < pc->n; i++) {
		l.value = pc->child[i].name;
		metrics_sample(o, name, &l, 1, get(field(pc->child[i].ctr)));
	}
}

static const atomic_ulong *f_calls(const struct proxy_child_counters *c)
{
	return &c->calls;
}

static const atomic_ulong *f_unfixable(const struct proxy_child_counters *c)
{
	return &c->unfixable;
}

static const atomic_ulong *f_errors(const struct proxy_child_counters *c)
{
	return &c->errors;
}

void proxy_metrics_write(struct metrics_out *o, const struct proxy_conf *pc)
{
	struct metrics_label l[2] = { { "child", NULL }, { NULL, NULL } };
	size_t i;
	int k;

	if (pc == NULL || pc->n == 0)
		return;
	per_child(o, pc, NS "calls_total", "Protocol steps the child "
	    "answered.", f_calls);

	metrics_family(o, NS "replies_total", METRICS_COUNTER, "The child's "
	    "final replies, by kind (continue, accept, reject, tempfail, "
	    "replycode ...); kinds never seen are left out.");
	l[1].name = "kind";
	for (i = 0; i < pc->n; i++)
		for (k = 0; k < MCLIENT_R__COUNT; k++) {
			unsigned long n = get(&pc->child[i].ctr->verdicts[k]);

			if (n == 0)
				continue;
			l[0].value = pc->child[i].name;
			l[1].value = mclient_reply_name((enum mclient_reply_kind)k);
			metrics_sample(o, NS "replies_total", l, 2, n);
		}

	metrics_family(o, NS "replies_normalized_total", METRICS_COUNTER,
	    "Changes the engine made to the child's replies, by diagnostic "
	    "id; ids never seen are left out.");
	l[1].name = "diagnostic";
	for (i = 0; i < pc->n; i++)
		for (k = 0; k < SR_D__COUNT; k++) {
			unsigned long n = get(&pc->child[i].ctr->normalized[k]);

			if (n == 0)
				continue;
			l[0].value = pc->child[i].name;
			l[1].value = sr_diag_name((enum sr_diag_id)k);
			metrics_sample(o, NS "replies_normalized_total", l, 2, n);
		}

	per_child(o, pc, NS "unfixable_replies_total", "The child's replies "
	    "that could not be fixed and were replaced by the default reply.",
	    f_unfixable);
	per_child(o, pc, NS "errors_total", "Failures talking to the child "
	    "(its on_error applied).", f_errors);

	metrics_family(o, NS "call_seconds_total", METRICS_COUNTER, "Time "
	    "spent waiting for the child's answers.");
	l[0].name = "child";
	for (i = 0; i < pc->n; i++) {
		l[0].value = pc->child[i].name;
		metrics_sample_double(o, NS "call_seconds_total", l, 1,
		    (double)get(&pc->child[i].ctr->latency_us_total) / 1e6);
	}
	metrics_family(o, NS "call_max_seconds", METRICS_GAUGE, "The "
	    "slowest answer of the child since the configuration was loaded.");
	for (i = 0; i < pc->n; i++) {
		l[0].value = pc->child[i].name;
		metrics_sample_double(o, NS "call_max_seconds", l, 1,
		    (double)get(&pc->child[i].ctr->latency_us_max) / 1e6);
	}
}
