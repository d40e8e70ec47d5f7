/*
 * SPDX-License-Identifier: ISC
 * fuzz_merge.c - libFuzzer target for "smtpreply audit --merge": a JSON
 * report from another server read back into statistics.
 *
 * Input: the bytes of a report file (written to a memfd, read through
 * /proc/self/fd like any path). report_merge_json() parses it with
 * jansson and maps every value into bounded statistics; the result is
 * merged twice into a running total (the Space-Saving merge of full and
 * partial peer tables, the timeline re-bucketed), and the label series
 * and the peers are checked against their bounds. Memory errors and
 * undefined behaviour are caught by ASan and UBSan.
 *
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined; jansson).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stats *one, *total;
static struct report_file files[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long filtered = 0, undated = 0;
	size_t nfiles = 0;
	bool success = false;
	char path[64], err[300];
	int fd;

	if (one == NULL && (one = malloc(sizeof(*one))) == NULL)
		abort();
	if (total == NULL && (total = malloc(sizeof(*total))) == NULL)
		abort();
	stats_init(one, false);
	stats_init(total, false);
	fd = memfd_create("report", 0);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (report_merge_json(path, one, &filtered, &undated, files, &nfiles,
	    sizeof(files) / sizeof(files[0]), &success, err, sizeof(err)) == 0) {
		stats_merge(total, one);
		stats_merge(total, one);
		if (total->nseries > STATS_SERIES_MAX + 2 * MAILLOG_PHASE__COUNT ||
		    total->npeers > STATS_PEERS_MAX || total->tl.n > STATS_TL_BUCKETS ||
		    nfiles > sizeof(files) / sizeof(files[0]))
			abort();
	} else if (err[0] == '\0')
		abort();	/* a refusal says why */
	close(fd);
	return 0;
}
