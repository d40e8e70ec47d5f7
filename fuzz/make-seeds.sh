#!/bin/sh
# SPDX-License-Identifier: ISC
# make-seeds.sh - turn the reply corpus into libFuzzer seed files.
#
# Usage: make-seeds.sh CORPUS_FILE OUTDIR
#
# CORPUS_FILE is tests/data/replies.txt: one reply per line, escaped with
# \r \n \t \\ \xHH; '#' lines and blank lines are skipped. Each reply
# becomes OUTDIR/seed-NNNN: one options byte for fuzz_reply (bit 0 milter,
# bit 1 UTF-8, the rest the phase; the seeds cycle through all 28
# combinations) followed by the unescaped reply. awk turns each reply into
# a printf format made only of octal escapes, so that any byte (NUL
# included) comes out right with the printf of dash, bash or coreutils.
# POSIX sh and awk (mawk, gawk, busybox).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 CORPUS_FILE OUTDIR" >&2
	exit 2
fi
corpus=$1
outdir=$2
[ -r "$corpus" ] || { echo "$0: cannot read $corpus" >&2; exit 2; }
mkdir -p "$outdir"

# Bytes, not characters, whatever the locale.
LC_ALL=C
export LC_ALL

formats=$(awk '
BEGIN {
	for (i = 1; i < 256; i++)
		ord[sprintf("%c", i)] = i
	hex = "0123456789abcdef"
	n = 0
	bad = 0
}
function oct(v) {
	return sprintf("\\%03o", v)
}
function hexval(c,   v) {
	v = index(hex, tolower(c))
	return v - 1
}
/^#/ { next }
/^[ \t]*$/ { next }
{
	line = $0
	len = length(line)
	out = oct((n % 7) * 4 + int(n / 7) % 4)
	for (i = 1; i <= len; i++) {
		c = substr(line, i, 1)
		if (c != "\\") {
			out = out oct(ord[c])
			continue
		}
		e = substr(line, i + 1, 1)
		if (e == "r") { out = out oct(13); i++ }
		else if (e == "n") { out = out oct(10); i++ }
		else if (e == "t") { out = out oct(9); i++ }
		else if (e == "\\") { out = out oct(92); i++ }
		else if (e == "x" && i + 3 <= len \
		    && hexval(substr(line, i + 2, 1)) >= 0 \
		    && hexval(substr(line, i + 3, 1)) >= 0) {
			out = out oct(hexval(substr(line, i + 2, 1)) * 16 \
			    + hexval(substr(line, i + 3, 1)))
			i += 3
		} else {
			printf "%s:%d: bad escape\n", FILENAME, NR \
			    > "/dev/stderr"
			bad = 1
			exit 1
		}
	}
	printf "%04d %s\n", n, out
	n++
}
END {
	if (!bad && n == 0) {
		printf "%s: no replies\n", FILENAME > "/dev/stderr"
		exit 1
	}
}' "$corpus")

printf '%s\n' "$formats" | while read -r num fmt; do
	# shellcheck disable=SC2059 # the format is octal escapes only
	printf "$fmt" > "$outdir/seed-$num"
done
count=$(printf '%s\n' "$formats" | wc -l)
echo "make-seeds.sh: $count seeds in $outdir"
