/*
 * SPDX-License-Identifier: ISC
 * report_html.c - the report of "smtpreply audit" as one HTML page.
 *
 * Self-contained: inline CSS and plain SVG written here, no script, no
 * font, no image, nothing fetched; it opens from a file without network
 * access. Charts: replies over time by class (stacked bars, at most
 * STATS_TL_BUCKETS of them, so a year of log stays a readable chart of
 * weekly bars), the top basic codes and the diagnostics (horizontal
 * bars). Tables: the summary, examples with their normalized replies,
 * non-standard codes with their meanings, malformed codes with their
 * lines, the peers. Every byte from a log is escaped: markup characters
 * as entities, control bytes and invalid UTF-8 as \xHH.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smtpreply/text.h>

#include "report.h"

#define CHART_W 900
#define TOP_CODES 15

static const char *const class_color[STATS_CLASS__COUNT] = {
	"#2e7d32", "#ef6c00", "#c62828", "#757575"
};

/* LEN bytes of S as HTML text. */
static void esc(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = p[i];

		if (c == '&')
			fputs("&amp;", fp);
		else if (c == '<')
			fputs("&lt;", fp);
		else if (c == '>')
			fputs("&gt;", fp);
		else if (c == '"')
			fputs("&quot;", fp);
		else if (c == '\'')
			fputs("&#39;", fp);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, fp);
		else if (c >= 0x80 && (n = sr_utf8_len(p + i, len - i)) > 0) {
			fwrite(p + i, 1, n, fp);
			i += n;
			continue;
		} else
			fprintf(fp, "\\x%02X", c);
		i++;
	}
}

static void escs(FILE *fp, const char *s)
{
	esc(fp, s, strlen(s));
}

static void when(char *buf, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "?");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

static void step_name(char *buf, size_t size, uint32_t step)
{
	if (step % 604800 == 0)
		snprintf(buf, size, "%u week%s", step / 604800,
		    step == 604800 ? "" : "s");
	else if (step % 86400 == 0)
		snprintf(buf, size, "%u day%s", step / 86400,
		    step == 86400 ? "" : "s");
	else if (step % 3600 == 0)
		snprintf(buf, size, "%u hour%s", step / 3600,
		    step == 3600 ? "" : "s");
	else
		snprintf(buf, size, "%u minute%s", step / 60, step == 60 ? "" : "s");
}

/* At most this many bars: wider ones read better than 512 slivers. */
#define BARS_MAX 160

static void timeline(FILE *fp, const struct stats *st)
{
	struct stats_timeline *fit = malloc(sizeof(*fit));
	const struct stats_timeline *tl = fit != NULL ? fit : &st->tl;
	unsigned long long max = 0, sum;
	double bw, y;
	char a[40], b[40], st_name[40];
	uint32_t i;
	int k;

	if (fit != NULL) {
		*fit = st->tl;
		stats_timeline_fit(fit, BARS_MAX);
	}
	fputs("<section id=\"timeline\"><h2>Replies over time, by class</h2>\n", fp);
	if (tl->n == 0) {
		fputs("<p>No reply with a usable timestamp.</p></section>\n", fp);
		free(fit);
		return;
	}
	for (i = 0; i < tl->n; i++) {
		for (sum = 0, k = 0; k < STATS_CLASS__COUNT; k++)
			sum += tl->c[i][k];
		if (sum > max)
			max = sum;
	}
	bw = (double)CHART_W / tl->n;
	when(a, sizeof(a), tl->origin);
	when(b, sizeof(b), tl->origin + (int64_t)tl->n * tl->step);
	step_name(st_name, sizeof(st_name), tl->step);
	fprintf(fp, "<p>From %s to %s, one bar per %s (the log's own clock); "
	    "the tallest bar: %llu replies.</p>\n", a, b, st_name, max);
	fprintf(fp, "<svg id=\"chart-timeline\" class=\"chart\" role=\"img\" "
	    "aria-label=\"replies over time by class\" viewBox=\"0 0 %d 240\" "
	    "width=\"%d\" height=\"240\" xmlns=\"http://www.w3.org/2000/svg\">\n",
	    CHART_W, CHART_W);
	fprintf(fp, "<line x1=\"0\" y1=\"220\" x2=\"%d\" y2=\"220\" "
	    "stroke=\"#999\"/>\n", CHART_W);
	for (i = 0; i < tl->n; i++) {
		y = 220;
		for (k = 0; k < STATS_CLASS__COUNT; k++) {
			double h;

			if (tl->c[i][k] == 0 || max == 0)
				continue;
			h = 210.0 * (double)tl->c[i][k] / (double)max;
			if (h < 1)
				h = 1;
			y -= h;
			when(a, sizeof(a), tl->origin + (int64_t)i * tl->step);
			fprintf(fp, "<rect class=\"c%s\" x=\"%.2f\" y=\"%.2f\" "
			    "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>%s: "
			    "%llu %s</title></rect>\n", stats_class_name(
			    (enum stats_class)k), i * bw, y, bw > 2 ? bw - 0.5 : bw,
			    h, class_color[k], a, tl->c[i][k],
			    stats_class_name((enum stats_class)k));
		}
	}
	when(a, sizeof(a), tl->origin);
	fprintf(fp, "<text x=\"0\" y=\"236\" font-size=\"12\">%s</text>\n", a);
	fprintf(fp, "<text x=\"%d\" y=\"236\" font-size=\"12\" "
	    "text-anchor=\"end\">%s</text>\n", CHART_W, b);
	fputs("</svg>\n<p class=\"legend\">", fp);
	for (k = 0; k < STATS_CLASS__COUNT; k++)
		fprintf(fp, "<span style=\"background:%s\"></span>%s ",
		    class_color[k], stats_class_name((enum stats_class)k));
	fputs("</p></section>\n", fp);
	free(fit);
}

/* Horizontal bars: LABELS[i] with VALUES[i], COLORS[i]. */
static void bars(FILE *fp, const char *id, const char *const *labels,
		 const unsigned long long *values, const char *const *colors,
		 size_t n)
{
	unsigned long long max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (values[i] > max)
			max = values[i];
	fprintf(fp, "<svg id=\"%s\" class=\"chart\" role=\"img\" viewBox=\"0 0 %d "
	    "%zu\" width=\"%d\" height=\"%zu\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n", id, CHART_W, n * 22 + 4,
	    CHART_W, n * 22 + 4);
	for (i = 0; i < n; i++) {
		double w = max > 0 ? 520.0 * (double)values[i] / (double)max : 0;

		size_t ln = strlen(labels[i]);

		/* the label in the 300 pixels left of the bars: cut, and
		 * whole in the tooltip */
		fprintf(fp, "<g><title>");
		escs(fp, labels[i]);
		fprintf(fp, "</title><text x=\"0\" y=\"%zu\" font-size=\"13\">",
		    i * 22 + 16);
		esc(fp, labels[i], ln > 40 ? 38 : ln);
		fprintf(fp, "%s</text><rect x=\"310\" y=\"%zu\" width=\"%.2f\" "
		    "height=\"16\" fill=\"%s\"/><text x=\"%.2f\" y=\"%zu\" "
		    "font-size=\"12\">%llu</text></g>\n", ln > 40 ? "..." : "",
		    i * 22 + 3, w < 1 ? 1 : w, colors[i], 316 + w, i * 22 + 16,
		    values[i]);
	}
	fputs("</svg>\n", fp);
}

static void codes(FILE *fp, const struct stats *st)
{
	const char *labels[TOP_CODES + 1], *colors[TOP_CODES + 1];
	unsigned long long values[TOP_CODES + 1];
	char names[TOP_CODES + 1][64];
	int used[1000] = { 0 }, c, best;
	size_t n = 0;

	fputs("<section id=\"codes\"><h2>Top basic codes</h2>\n", fp);
	while (n < TOP_CODES) {
		for (best = -1, c = 0; c < 1000; c++)
			if (!used[c] && st->by_code[c] > 0 && (best < 0 ||
			    st->by_code[c] > st->by_code[best]))
				best = c;
		if (best < 0)
			break;
		used[best] = 1;
		{
			const struct sr_basic_info *b = sr_registry_basic(
			    (unsigned)best);

			snprintf(names[n], sizeof(names[n]), "%03d %.50s", best,
			    b != NULL ? b->meaning : "");
		}
		labels[n] = names[n];
		values[n] = st->by_code[best];
		colors[n] = best / 100 == 2 ? class_color[0] : best / 100 == 4 ?
		    class_color[1] : best / 100 == 5 ? class_color[2] :
		    class_color[3];
		n++;
	}
	if (st->no_code > 0 && n < TOP_CODES + 1) {
		labels[n] = "(no basic code in the log)";
		values[n] = st->no_code;
		colors[n++] = class_color[3];
	}
	if (n == 0)
		fputs("<p>No reply.</p>\n", fp);
	else
		bars(fp, "chart-codes", labels, values, colors, n);
	fputs("</section>\n", fp);
}

static void diagnostics(FILE *fp, const struct report *rep)
{
	const struct stats *st = rep->st;
	const char *labels[SR_D__COUNT], *colors[SR_D__COUNT];
	unsigned long long values[SR_D__COUNT];
	size_t n = 0, i;
	int d;

	fputs("<section id=\"diagnostics\"><h2>Diagnostics</h2>\n", fp);
	for (d = 0; d < SR_D__COUNT; d++) {
		enum sr_severity sev = sr_diag_severity((enum sr_diag_id)d);

		if (st->diag[d] == 0)
			continue;
		labels[n] = sr_diag_name((enum sr_diag_id)d);
		values[n] = st->diag[d];
		colors[n++] = sev == SR_SEV_ERROR ? "#c62828" :
		    sev == SR_SEV_WARNING ? "#ef6c00" : "#1565c0";
	}
	if (n == 0) {
		fputs("<p>None: every reply conforms.</p></section>\n", fp);
		return;
	}
	bars(fp, "chart-diagnostics", labels, values, colors, n);
	fputs("<h3>Examples and their normalized replies</h3>\n<table class=\"ex\">"
	    "<tr><th>diagnostic</th><th>reply as logged</th><th>normalized</th>"
	    "<th>direction, phase, peer</th><th>times</th></tr>\n", fp);
	for (d = 0; d < SR_D__COUNT; d++)
		for (i = 0; i < st->nex[d] && i < rep->top; i++) {
			const struct stats_example *e = &st->ex[d][i];

			fputs("<tr><td>", fp);
			escs(fp, sr_diag_name((enum sr_diag_id)d));
			fputs("</td><td><code>", fp);
			esc(fp, e->reply, e->len);
			fputs("</code></td><td><code>", fp);
			if (e->sugg_len > 0)
				esc(fp, e->suggestion, e->sugg_len);
			else
				fputs("(not fixable)", fp);
			fprintf(fp, "</code></td><td>%s, %s", maillog_direction_name(e->dir),
			    maillog_phase_name(e->phase));
			if (e->peer[0] != '\0') {
				fputs(", ", fp);
				escs(fp, e->peer);
			}
			fprintf(fp, "</td><td>%llu</td></tr>\n", e->count);
		}
	fputs("</table></section>\n", fp);
}

static void tables(FILE *fp, const struct report *rep)
{
	const struct stats *st = rep->st;
	const struct stats_peer *top[100];
	size_t i, n;
	int c;

	fputs("<section id=\"nonstandard\"><h2>Non-standard basic codes</h2>\n"
	    "<table><tr><th>code</th><th>replies</th><th>meaning</th></tr>\n", fp);
	for (c = 0, n = 0; c < 1000; c++) {
		const struct sr_basic_info *b;

		if (st->nonstandard[c] == 0)
			continue;
		b = sr_registry_basic((unsigned)c);
		fprintf(fp, "<tr><td>%03d</td><td>%llu</td><td>", c,
		    st->nonstandard[c]);
		escs(fp, b != NULL ? b->meaning : "no known meaning");
		fputs("</td></tr>\n", fp);
		n++;
	}
	fprintf(fp, "</table>%s</section>\n", n == 0 ? "<p>None.</p>" : "");

	if (st->malformed > 0) {
		fprintf(fp, "<section id=\"malformed\"><h2>Malformed codes (%llu "
		    "replies)</h2>\n<table><tr><th>reply</th><th>times</th>"
		    "<th>log line</th></tr>\n", st->malformed);
		for (i = 0; i < st->nmal; i++) {
			fputs("<tr><td><code>", fp);
			esc(fp, st->mal[i].reply, st->mal[i].len);
			fprintf(fp, "</code></td><td>%llu</td><td><code>",
			    st->mal[i].count);
			esc(fp, st->mal[i].line, st->mal[i].line_len);
			fputs("</code></td></tr>\n", fp);
		}
		fputs("</table></section>\n", fp);
	}

	fputs("<section id=\"peers\"><h2>Peers with the most non-conforming "
	    "replies</h2>\n<table><tr><th>peer</th><th>replies</th>"
	    "<th>overestimated by at most</th></tr>\n", fp);
	n = stats_top_peers(st, top, rep->top < 100 ? rep->top : 100);
	for (i = 0; i < n; i++) {
		fputs("<tr><td>", fp);
		escs(fp, top[i]->name);
		fprintf(fp, "</td><td>%llu</td><td>%llu</td></tr>\n", top[i]->bad,
		    top[i]->err);
	}
	fprintf(fp, "</table>%s</section>\n", n == 0 ? "<p>None.</p>" : "");
}

static void summary(FILE *fp, const struct report *rep)
{
	const struct stats *st = rep->st;
	size_t i;

	fputs("<section id=\"summary\"><h2>Summary</h2><table>\n", fp);
	fprintf(fp, "<tr><th>lines read</th><td>%llu</td></tr>\n"
	    "<tr><th>reply lines recognized</th><td>%llu</td></tr>\n"
	    "<tr><th>replies audited</th><td>%llu</td></tr>\n"
	    "<tr><th>with an error</th><td>%llu</td></tr>\n"
	    "<tr><th>with a warning only</th><td>%llu</td></tr>\n"
	    "<tr><th>local (this server's) / remote (its peers')</th>"
	    "<td>%llu / %llu</td></tr>\n"
	    "<tr><th>malformed codes</th><td>%llu</td></tr>\n"
	    "<tr><th>changed by a Postfix reply filter</th><td>%llu</td></tr>\n",
	    st->lines, st->recognized, st->replies, st->with_error,
	    st->with_warning, st->by_dir[MAILLOG_DIR_LOCAL],
	    st->by_dir[MAILLOG_DIR_REMOTE], st->malformed, st->filter_changed);
	if (rep->success)
		fprintf(fp, "<tr><th>2xx success replies counted</th><td>%llu"
		    "</td></tr>\n", st->success);
	if (rep->filtered > 0)
		fprintf(fp, "<tr><th>left out by --direction/--since/--until</th>"
		    "<td>%llu</td></tr>\n", rep->filtered);
	if (rep->merged > 0)
		fprintf(fp, "<tr><th>reports merged</th><td>%zu</td></tr>\n",
		    rep->merged);
	fputs("</table>\n<p>Files: ", fp);
	for (i = 0; i < rep->nfiles; i++) {
		if (i > 0)
			fputs(", ", fp);
		escs(fp, rep->files[i].name);
		fprintf(fp, " (%llu lines%s)", rep->files[i].lines,
		    rep->files[i].error != NULL ? ", not read to the end" : "");
	}
	fputs("</p></section>\n", fp);
}

int report_html_write(FILE *fp, const struct report *rep)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>smtpreply audit</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}\n"
	    "table{border-collapse:collapse;margin:.5em 0}\n"
	    "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
	    "vertical-align:top}\n"
	    "code{white-space:pre-wrap;word-break:break-all}\n"
	    ".legend span{display:inline-block;width:1em;height:1em;"
	    "margin:0 .3em 0 1em;vertical-align:middle}\n"
	    ".chart{display:block;max-width:100%;height:auto}\n"
	    "</style></head><body>\n<h1>smtpreply audit</h1>\n", fp);
	summary(fp, rep);
	timeline(fp, rep->st);
	codes(fp, rep->st);
	diagnostics(fp, rep);
	tables(fp, rep);
	fputs("</body></html>\n", fp);
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}
