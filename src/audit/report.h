/*
 * SPDX-License-Identifier: ISC
 * report.h - the reports of "smtpreply audit" besides text and JSON:
 * Prometheus text exposition (report_prom.c), one self-contained HTML page
 * (report_html.c), and reading JSON reports back to merge them
 * (report_merge.c).
 */
#ifndef SMTPREPLY_AUDIT_REPORT_H
#define SMTPREPLY_AUDIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "stats.h"

struct report_file {
	const char *name;
	unsigned long long lines;
	bool gzip;
	const char *error;	/* NULL, or what went wrong */
	char errbuf[200];
	char namebuf[300];	/* merged reports: "a.json: mail.log" */
};

/* What a report shows: the statistics and how they were made. */
struct report {
	const struct stats *st;
	const struct report_file *files;
	size_t nfiles;
	unsigned long long filtered;	/* left out by --direction/--since/--until */
	unsigned long long undated;	/* ... of them: no timestamp to judge */
	size_t top;			/* examples and peers shown */
	bool utf8;
	bool success;			/* 2xx success replies counted */
	size_t merged;			/* reports merged (0: read from logs) */
};

/*
 * Prometheus text exposition format 0.0.4 for node_exporter's textfile
 * collector. Returns 0, or -1 when FP reports an error.
 */
int report_prom_write(FILE *fp, const struct report *rep);

/* One HTML page, no external resource. Returns 0 or -1 (FP's error). */
int report_html_write(FILE *fp, const struct report *rep);

/*
 * Read the JSON report in file PATH (as "smtpreply audit --json" writes
 * it) and merge it into ST, its counters of filtered and undated lines
 * into *FILTERED, *UNDATED, and its files into FILES[*NFILES..CAP).
 * Returns 0, or -1 with a message in ERR.
 */
int report_merge_json(const char *path, struct stats *st,
		      unsigned long long *filtered, unsigned long long *undated,
		      struct report_file *files, size_t *nfiles, size_t cap,
		      bool *success, char *err, size_t errlen);

#endif /* SMTPREPLY_AUDIT_REPORT_H */
