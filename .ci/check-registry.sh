#!/bin/bash
# SPDX-License-Identifier: ISC
# check-registry.sh - CI helper: compare the enhanced status codes in
# data/smtp-codes.tsv with the IANA registry CSV kept next to the repository
# (../shared/reference/iana-enhanced-status-codes.csv).
#
# Prints TAP: one test for the row count, one per IANA code (present, same
# sample text), one each for associated codes and references over all rows,
# and one for codes the data file has but IANA does not. Exits 1 on any
# mismatch; prints "1..0 # SKIP no reference" and exits 0 when the CSV is
# absent. Only CI reads ../shared; the build never does.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
csv="$root/../shared/reference/iana-enhanced-status-codes.csv"
tsv="$root/data/smtp-codes.tsv"
awk=${AWK:-awk}

if [ ! -f "$csv" ]; then
	echo "1..0 # SKIP no reference"
	exit 0
fi
if [ ! -r "$tsv" ]; then
	echo "Bail out! cannot read data/smtp-codes.tsv"
	exit 1
fi

"$awk" '
BEGIN {
	FS = "\t"
}

# Split one CSV record into FIELDS (RFC 4180 quoting, no embedded newlines).
function split_csv(line, fields,	n, i, c, quoted, current)
{
	n = 0
	current = ""
	quoted = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (quoted) {
			if (c == "\"" && substr(line, i + 1, 1) == "\"") {
				current = current c
				i++
			} else if (c == "\"") {
				quoted = 0
			} else {
				current = current c
			}
		} else if (c == "\"") {
			quoted = 1
		} else if (c == ",") {
			fields[++n] = current
			current = ""
		} else {
			current = current c
		}
	}
	fields[++n] = current
	return n
}

# The machine form data/smtp-codes.tsv uses for an associated-codes cell.
function machine_assoc(s,	out)
{
	if (s == "Any")
		return "*"
	if (s == "Not given" || s == "." || s == "")
		return ""
	out = ""
	while (match(s, /[0-9]XX|[0-9][0-9][0-9]/)) {
		out = out (out == "" ? "" : ",") substr(s, RSTART, RLENGTH)
		s = substr(s, RSTART + RLENGTH)
	}
	return out
}

function tsv_field(s)
{
	return s == "-" ? "" : s
}

part == "csv" {
	sub(/\r$/, "")
	if (FNR == 1 || $0 == "")
		next
	split_csv($0, cell)
	if (cell[1] !~ /^X[.][0-9]+[.][0-9]+$/) {
		bad_csv = bad_csv " " cell[1]
		next
	}
	key = substr(cell[1], 3)
	ncsv++
	csv_key[ncsv] = key
	csv_sample[key] = cell[2]
	csv_assoc[key] = machine_assoc(cell[3])
	csv_refs[key] = cell[4]
	next
}

part == "tsv" {
	sub(/\r$/, "")
	if ($1 != "enhanced")
		next
	key = $2 "." $3
	ntsv++
	tsv_order[ntsv] = key
	tsv_count[key]++
	tsv_sample[key] = tsv_field($4)
	tsv_assoc[key] = tsv_field($5)
	tsv_refs[key] = tsv_field($6)
	next
}

function result(ok, description)
{
	ntests++
	if (!ok)
		failures++
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ntests, description)
}

END {
	printf("1..%d\n", ncsv + 4)
	result(ncsv == ntsv && bad_csv == "", sprintf("IANA has %d codes, " \
	    "data/smtp-codes.tsv has %d enhanced rows", ncsv, ntsv))
	if (bad_csv != "")
		printf("# unreadable codes in the CSV:%s\n", bad_csv)

	for (i = 1; i <= ncsv; i++) {
		key = csv_key[i]
		if (!(key in tsv_count)) {
			result(0, "X." key " is in data/smtp-codes.tsv")
			continue
		}
		ok = tsv_count[key] == 1 && tsv_sample[key] == csv_sample[key]
		result(ok, "X." key " has the IANA sample text")
		if (tsv_count[key] != 1)
			printf("#   X.%s appears %d times\n", key, tsv_count[key])
		if (tsv_sample[key] != csv_sample[key])
			printf("#   got  \"%s\"\n#   want \"%s\"\n", tsv_sample[key],
			    csv_sample[key])
	}

	mismatched = ""
	for (i = 1; i <= ncsv; i++) {
		key = csv_key[i]
		if ((key in tsv_count) && tsv_assoc[key] != csv_assoc[key]) {
			mismatched = mismatched " X." key
			printf("#   X.%s associated codes: got \"%s\", want \"%s\"\n",
			    key, tsv_assoc[key], csv_assoc[key])
		}
	}
	result(mismatched == "", "associated basic codes match IANA" \
	    (mismatched == "" ? "" : " (not:" mismatched ")"))

	mismatched = ""
	for (i = 1; i <= ncsv; i++) {
		key = csv_key[i]
		if ((key in tsv_count) && tsv_refs[key] != csv_refs[key]) {
			mismatched = mismatched " X." key
			printf("#   X.%s references: got \"%s\", want \"%s\"\n",
			    key, tsv_refs[key], csv_refs[key])
		}
	}
	result(mismatched == "", "references match IANA" \
	    (mismatched == "" ? "" : " (not:" mismatched ")"))

	extra = ""
	for (i = 1; i <= ntsv; i++)
		if (!(tsv_order[i] in csv_sample))
			extra = extra " X." tsv_order[i]
	result(extra == "", "data/smtp-codes.tsv has no code IANA lacks" \
	    (extra == "" ? "" : " (extra:" extra ")"))

	exit (failures > 0)
}
' part=csv "$csv" part=tsv "$tsv"
