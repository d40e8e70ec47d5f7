/*
 * SPDX-License-Identifier: ISC
 * report_merge.c - read a JSON report of "smtpreply audit" back into
 * statistics, for --merge.
 *
 * The report is outside input (made on another server, copied here): it
 * is parsed by jansson (Debian's libjansson, fuzzed upstream by OSS-Fuzz)
 * with a size limit, every value is checked for its type and range, and
 * strings are cut to the sizes the statistics keep. A report that is not
 * one of ours ("report": "smtpreply-audit", report_version 1) is refused.
 * What is exact after a merge: every count, the label series, the
 * timeline (at the wider of the two steps); the examples are those of the
 * first report, then the new ones of the next while there is room; the
 * peers are merged as Space-Saving summaries with their error bounds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

#define MERGE_MAX_BYTES (64 * 1024 * 1024)

static unsigned long long u(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (unsigned long long)json_integer_value(v) : 0;
}

static void copy_str(char *dst, size_t size, size_t *len, const json_t *v)
{
	size_t n = 0;

	if (json_is_string(v)) {
		n = json_string_length(v);
		if (n > size - (len == NULL))
			n = size - (len == NULL);
		memcpy(dst, json_string_value(v), n);
	}
	if (len != NULL)
		*len = n;
	else
		dst[n] = '\0';
}

static int dir_of(const json_t *v)
{
	return json_is_string(v) && strcmp(json_string_value(v), "remote") == 0 ?
	    MAILLOG_DIR_REMOTE : MAILLOG_DIR_LOCAL;
}

static int phase_of(const json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	int p;

	for (p = 1; p < MAILLOG_PHASE__COUNT; p++)
		if (strcmp(s, maillog_phase_name((enum maillog_phase)p)) == 0)
			return p;
	return MAILLOG_PHASE_NONE;
}

static int code_index(const char *k)
{
	if (strlen(k) != 3 || k[0] < '0' || k[0] > '9' || k[1] < '0' ||
	    k[1] > '9' || k[2] < '0' || k[2] > '9')
		return -1;
	return (k[0] - '0') * 100 + (k[1] - '0') * 10 + (k[2] - '0');
}

static int diag_index(const char *name)
{
	int d;

	for (d = 0; d < SR_D__COUNT; d++)
		if (strcmp(name, sr_diag_name((enum sr_diag_id)d)) == 0)
			return d;
	return -1;
}

static void read_examples(struct stats *st, const json_t *ex)
{
	const char *name;
	json_t *arr, *e;
	size_t i;
	int d;

	json_object_foreach((json_t *)ex, name, arr) {
		if ((d = diag_index(name)) < 0 || !json_is_array(arr))
			continue;
		json_array_foreach(arr, i, e) {
			struct stats_example *x;

			if (st->nex[d] >= STATS_EXAMPLES_MAX || !json_is_object(e))
				break;
			x = &st->ex[d][st->nex[d]++];
			copy_str(x->reply, sizeof(x->reply), &x->len,
			    json_object_get(e, "reply"));
			copy_str(x->suggestion, sizeof(x->suggestion), &x->sugg_len,
			    json_object_get(e, "normalized"));
			x->has_code = !json_is_false(json_object_get(e, "has_code"));
			x->dir = (enum maillog_direction)dir_of(json_object_get(e,
			    "direction"));
			x->phase = (enum maillog_phase)phase_of(json_object_get(e,
			    "phase"));
			copy_str(x->peer, sizeof(x->peer), NULL,
			    json_object_get(e, "peer"));
			x->count = u(e, "count");
		}
	}
}

static void read_malformed(struct stats *st, const json_t *arr)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		struct stats_malformed *m;

		if (st->nmal >= STATS_EXAMPLES_MAX || !json_is_object(e))
			break;
		m = &st->mal[st->nmal++];
		copy_str(m->reply, sizeof(m->reply), &m->len,
		    json_object_get(e, "reply"));
		copy_str(m->line, sizeof(m->line), &m->line_len,
		    json_object_get(e, "line"));
		m->dir = (enum maillog_direction)dir_of(json_object_get(e, "direction"));
		m->phase = (enum maillog_phase)phase_of(json_object_get(e, "phase"));
		copy_str(m->peer, sizeof(m->peer), NULL, json_object_get(e, "peer"));
		m->count = u(e, "count");
	}
}

static void read_series(struct stats *st, const json_t *arr)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const json_t *cv = json_object_get(e, "code");
		const char *c = json_is_string(cv) ? json_string_value(cv) : "";
		char enh[STATS_ENH_LABEL];
		int code = code_index(c);

		if (code < 0)
			code = strcmp(c, "none") == 0 ? STATS_CODE_NONE :
			    strcmp(c, "invalid") == 0 ? STATS_CODE_INVALID :
			    STATS_CODE_OTHER;
		copy_str(enh, sizeof(enh), NULL, json_object_get(e,
		    "enhanced_code"));
		stats_series_add(st, (enum maillog_direction)dir_of(json_object_get(e,
		    "direction")), (enum maillog_phase)phase_of(json_object_get(e,
		    "phase")), code, enh, u(e, "count"));
	}
}

static int read_timeline(struct stats *st, const json_t *tl)
{
	const json_t *counts = json_object_get(tl, "counts"), *o;
	unsigned long long step = u(tl, "step");
	json_t *row;
	size_t i, k;

	if (!json_is_array(counts) || json_array_size(counts) == 0)
		return 0;
	o = json_object_get(tl, "origin");
	if (!json_is_integer(o) || step == 0 || step > 0xffffffffULL ||
	    json_array_size(counts) > STATS_TL_BUCKETS)
		return -1;
	stats_timeline_widen_to(&st->tl, (uint32_t)step);
	json_array_foreach(counts, i, row) {
		for (k = 0; k < STATS_CLASS__COUNT; k++) {
			const json_t *v = json_array_get(row, k);

			if (json_is_integer(v) && json_integer_value(v) > 0)
				stats_timeline_add(&st->tl, json_integer_value(o) +
				    (int64_t)(i * step), (enum stats_class)k,
				    (unsigned long long)json_integer_value(v));
		}
	}
	return 0;
}

static void read_peers(struct stats *st, const json_t *arr)
{
	char name[MAILLOG_PEER_MAX];
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (!json_is_object(e))
			continue;
		copy_str(name, sizeof(name), NULL, json_object_get(e, "peer"));
		stats_peer_set(st, name, u(e, "nonconforming"),
		    u(e, "overestimate"));
	}
}

int report_merge_json(const char *path, struct stats *st,
		      unsigned long long *filtered, unsigned long long *undated,
		      struct report_file *files, size_t *nfiles, size_t cap,
		      bool *success, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *o, *v;
	const char *key;
	FILE *fp;
	size_t i;
	int c;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) > MERGE_MAX_BYTES) {
		fclose(fp);
		snprintf(err, errlen, "larger than %d MiB: not a report",
		    MERGE_MAX_BYTES >> 20);
		return -1;
	}
	rewind(fp);
	root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
	fclose(fp);
	if (root == NULL) {
		snprintf(err, errlen, "not JSON (line %d: %s)", jerr.line, jerr.text);
		return -1;
	}
	v = json_object_get(root, "report");
	if (!json_is_object(root) || !json_is_string(v) ||
	    strcmp(json_string_value(v), "smtpreply-audit") != 0 ||
	    u(root, "report_version") != 1) {
		json_decref(root);
		snprintf(err, errlen, "not a report of \"smtpreply audit --json\" "
		    "(version 1)");
		return -1;
	}
	st->lines = u(root, "lines");
	st->recognized = u(root, "recognized");
	st->replies = u(root, "replies");
	st->long_lines = u(root, "long_lines");
	st->check_failed = u(root, "check_failed");
	st->with_error = u(root, "with_error");
	st->with_warning = u(root, "with_warning");
	st->no_code = u(root, "no_code");
	st->success = u(root, "success");
	st->malformed = u(root, "malformed");
	st->filter_changed = u(root, "filter_changed");
	st->undated = u(root, "undated_replies");
	*filtered += u(root, "filtered");
	*undated += u(root, "undated");
	*success |= json_is_true(json_object_get(root, "success_counted"));
	o = json_object_get(root, "by_direction");
	for (i = 0; i < MAILLOG_DIR__COUNT; i++)
		st->by_dir[i] = u(o, maillog_direction_name((enum maillog_direction)i));
	o = json_object_get(root, "by_phase");
	for (i = 1; i < MAILLOG_PHASE__COUNT; i++)
		st->by_phase[i] = u(o, maillog_phase_name((enum maillog_phase)i));
	st->by_phase[MAILLOG_PHASE_NONE] = u(o, "none");
	json_object_foreach(json_object_get(root, "by_code"), key, v)
		if ((c = code_index(key)) >= 0)
			st->by_code[c] = u(json_object_get(root, "by_code"), key);
	json_object_foreach(json_object_get(root, "nonstandard"), key, v)
		if ((c = code_index(key)) >= 0)
			st->nonstandard[c] = u(json_object_get(root, "nonstandard"),
			    key);
	json_object_foreach(json_object_get(root, "diagnostics"), key, v)
		if ((c = diag_index(key)) >= 0)
			st->diag[c] = u(json_object_get(root, "diagnostics"), key);
	read_examples(st, json_object_get(root, "examples"));
	read_malformed(st, json_object_get(root, "malformed_codes"));
	read_series(st, json_object_get(root, "replies_by_label"));
	if (read_timeline(st, json_object_get(root, "timeline")) != 0) {
		json_decref(root);
		snprintf(err, errlen, "a timeline that is not one of ours");
		return -1;
	}
	read_peers(st, json_object_get(root, "peer_table"));
	json_array_foreach(json_object_get(root, "files"), i, v) {
		struct report_file *f;
		const json_t *name = json_object_get(v, "name");

		if (*nfiles >= cap)
			break;
		f = &files[(*nfiles)++];
		memset(f, 0, sizeof(*f));
		snprintf(f->namebuf, sizeof(f->namebuf), "%s: %s", path,
		    json_is_string(name) ? json_string_value(name) : "?");
		f->name = f->namebuf;
		f->lines = u(v, "lines");
		f->gzip = json_is_true(json_object_get(v, "gzip"));
		if (json_is_string(json_object_get(v, "error"))) {
			snprintf(f->errbuf, sizeof(f->errbuf), "%s",
			    json_string_value(json_object_get(v, "error")));
			f->error = f->errbuf;
		}
	}
	json_decref(root);
	return 0;
}
