/*
 * SPDX-License-Identifier: ISC
 * proxy_metrics.h - Prometheus families of the proxy's children.
 */
#ifndef SMTPREPLY_MILTER_PROXY_METRICS_H
#define SMTPREPLY_MILTER_PROXY_METRICS_H

#include "metrics.h"
#include "proxy.h"

/*
 * Write the counters of PC's children (struct proxy_child_counters),
 * labelled child="NAME": calls, replies by kind, normalizations by
 * diagnostic, unfixable replies, errors, time spent and the slowest call.
 * The names come from the configuration, at most PROXY_CHILDREN_MAX of
 * them, so the label is bounded. The counters belong to the configuration:
 * a reload starts them again from zero, which Prometheus's rate() and
 * increase() take as a counter reset.
 */
void proxy_metrics_write(struct metrics_out *o, const struct proxy_conf *pc);

#endif /* SMTPREPLY_MILTER_PROXY_METRICS_H */
