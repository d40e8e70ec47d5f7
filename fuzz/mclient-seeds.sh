#!/bin/sh
# SPDX-License-Identifier: ISC
# mclient-seeds.sh DIR - seed inputs for fuzz_mclient: an options byte, a
# cut byte, then packets a child sends (negotiation answers, verdicts,
# replies, modifications), as libmilter writes them.
set -eu
dir=$1
n=0
seed() {
	n=$((n + 1))
	printf "$1" > "$dir/seed-$n"
}
seed '\200\003\0\0\0\015O\0\0\0\006\0\0\001\377\0\0\004\0\0\0\0\001c'
seed '\002\010\0\0\0\001c\0\0\0\032y550 4.7.23 SPF fail 100%%\0'
seed '\011\000\0\0\0\017hX-Checked\0yes\0\0\0\0\001p\0\0\0\025i\0\0\0\001X-A\0b\0\0\0\0\001a'
seed '\011\005\0\0\0\020+<c@example.org>\0\0\0\0\020-<b@example.org>\0\0\0\0\010e<x@y>\0\0\0\0\0\007bhello\n\0\0\0\001r'
seed '\010\001\0\0\0\001s\0\0\0\001c\0\0\0\012qvirus\0\0\0\0\0\001d'
seed '\200\000\0\0\0\025O\0\0\0\006\0\0\001\000\0\0\0\0\0\0\0\002i j\0'
