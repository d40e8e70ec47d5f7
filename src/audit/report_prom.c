/*
 * SPDX-License-Identifier: ISC
 * report_prom.c - the counts of "smtpreply audit" as Prometheus metrics.
 *
 * Text exposition format 0.0.4, for node_exporter's textfile collector
 * (cmd_audit.c writes the file atomically). Every metric is a counter
 * over the logs read: a cron job that audits today's log sees it grow
 * and fall back at rotation, which rate() and increase() read as a
 * counter reset.
 *
 * Cardinality is bounded by construction: direction (2) x phase (7) x
 * code (the 240 codes of the RFC 5321 grammar, "invalid", "none") x
 * enhanced code (the IANA registry's rows in three classes, "none",
 * "unregistered", "invalid"), and at most STATS_SERIES_MAX series, the
 * rest folded into code="other"; diagnostics by their fixed ids; non-
 * standard codes by the 3-digit code (at most 1000). Peers, reply texts
 * and anything else taken from the log are never label values.
 */
#include <string.h>

#include "report.h"

/* Label values here come from fixed sets, but are escaped all the same. */
static void label_value(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void head(FILE *fp, const char *name, const char *type,
		 const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *fp, const char *name, const char *help,
		unsigned long long v)
{
	head(fp, name, "counter", help);
	fprintf(fp, "%s %llu\n", name, v);
}

static const char *phase_label(unsigned p)
{
	return p == MAILLOG_PHASE_NONE ? "none" : maillog_phase_name((enum maillog_phase)p);
}

int report_prom_write(FILE *fp, const struct report *rep)
{
	const struct stats *st = rep->st;
	char code[8];
	size_t i;
	int c, d;

	one(fp, "smtpreply_audit_lines_read_total", "Log lines read.",
	    st->lines);
	one(fp, "smtpreply_audit_lines_recognized_total",
	    "Log lines that record an SMTP reply.", st->recognized);
	one(fp, "smtpreply_audit_lines_cut_total",
	    "Log lines over 64 KiB, read cut.", st->long_lines);
	one(fp, "smtpreply_audit_lines_filtered_total",
	    "Reply lines left out by --direction, --since, --until.",
	    rep->filtered);

	head(fp, "smtpreply_audit_replies_total", "counter",
	    "Replies audited, by direction (local: this server's, remote: its "
	    "peers'), SMTP phase, basic code and enhanced status code.");
	for (i = 0; i < st->nseries; i++) {
		const struct stats_series *s = &st->series[i];

		if (s->count == 0)	/* all taken back by a reply filter */
			continue;
		fputs("smtpreply_audit_replies_total{direction=\"", fp);
		label_value(fp, maillog_direction_name((enum maillog_direction)s->dir));
		fputs("\",phase=\"", fp);
		label_value(fp, phase_label(s->phase));
		fputs("\",code=\"", fp);
		label_value(fp, stats_code_label(s->code, code));
		fputs("\",enhanced_code=\"", fp);
		label_value(fp, s->enh);
		fprintf(fp, "\"} %llu\n", s->count);
	}

	head(fp, "smtpreply_audit_nonconforming_replies_total", "counter",
	    "Replies with an error-level diagnostic, or (severity warning) "
	    "with warnings only.");
	fprintf(fp, "smtpreply_audit_nonconforming_replies_total"
	    "{severity=\"error\"} %llu\n", st->with_error);
	fprintf(fp, "smtpreply_audit_nonconforming_replies_total"
	    "{severity=\"warning\"} %llu\n", st->with_warning);

	head(fp, "smtpreply_audit_diagnostics_total", "counter",
	    "Replies with each diagnostic of the engine, by id and severity.");
	for (d = 0; d < SR_D__COUNT; d++) {
		enum sr_diag_id id = (enum sr_diag_id)d;

		if (st->diag[d] == 0)
			continue;
		fputs("smtpreply_audit_diagnostics_total{id=\"", fp);
		label_value(fp, sr_diag_name(id));
		fputs("\",severity=\"", fp);
		label_value(fp, sr_severity_name(sr_diag_severity(id)));
		fprintf(fp, "\"} %llu\n", st->diag[d]);
	}

	head(fp, "smtpreply_audit_nonstandard_codes_total", "counter",
	    "Replies whose basic code no RFC defines or the grammar forbids, "
	    "by code.");
	for (c = 0; c < 1000; c++) {
		if (st->nonstandard[c] == 0)
			continue;
		fprintf(fp, "smtpreply_audit_nonstandard_codes_total{code=\"%03d\"}"
		    " %llu\n", c, st->nonstandard[c]);
	}
	one(fp, "smtpreply_audit_malformed_codes_total",
	    "Replies that start with a code that is none (9999, 55, 55O).",
	    st->malformed);
	one(fp, "smtpreply_audit_filter_changed_total",
	    "Replies a Postfix reply filter (smtpd_reject_filter_maps) changed.",
	    st->filter_changed);
	one(fp, "smtpreply_audit_check_failed_total",
	    "Replies that could not be checked (out of memory).",
	    st->check_failed);
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}
