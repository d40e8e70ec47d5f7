#!/bin/sh
# SPDX-License-Identifier: ISC
# style.sh - build-aux/check-style.py, the checker of CONTRIBUTING.md's
# rules: it passes code written by the rules and names the rule, file and
# line of code that breaks one. TAP on standard output.
#
# Environment (set by "make check"): top_srcdir.

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
CHECKER=$top_srcdir/build-aux/check-style.py

. "$top_srcdir/tests/cli/tap.sh" || { echo "Bail out! cannot read tap.sh"; exit 1; }

command -v python3 >/dev/null 2>&1 || bail_out "python3 not found (Debian package: python3)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpreply-style.XXXXXX") ||
	bail_out "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# check NAME: run the checker on $tmp/NAME (written by the caller).
check() {
	out=$(cd "$tmp" && python3 "$CHECKER" "$1" 2>&1)
	rc=$?
}

printf '%s\n' '/*' ' * good.c - a module written by the rules.' ' */' \
	'static int add(int a,' '	       int b)' '{' '	return a + b;' '}' \
	'static const char *name(void)' '{' '	return "x(";' '}' >"$tmp/good.c"
check good.c
is "$rc:$out" "0:1 files, 0 problems" "code written by the rules passes"

printf '%s\n' '/*' ' * SPDX-License-Identifier: ISC' ' * spdx.h - an SPDX line first.' ' */' \
	'int f(void);' >"$tmp/spdx.h"
check spdx.h
is "$rc" 0 "an SPDX line before the NAME line"

printf '%s\n' '/*' ' * split.c - the return type apart.' ' */' \
	'static int' 'add(int a, int b)' '{' '	return a + b;' '}' >"$tmp/split.c"
check split.c
is "$rc" 1 "a return type on the line before the name fails"
like "$out" '^split\.c:5: deftype: the return type of add\(\)' "  named: file, line, rule"

printf '%s\n' '/*' ' * align.c - parameters not under the parenthesis.' ' */' \
	'int add(int a,' '    int b);' >"$tmp/align.c"
check align.c
is "$rc" 1 "a parameter list continued by 4 columns fails"
like "$out" '^align\.c:5: defalign: .*column 4, not under its parenthesis \(column 8\)' \
	"  named with both columns"

printf '%s\n' '/* nothing about the file */' 'int x;' >"$tmp/nohead.c"
check nohead.c
is "$rc" 1 "a file without a \"NAME - what it is for\" line fails"
like "$out" '^nohead\.c:1: header: ' "  named as a header problem"

printf '%s\n' '/*' ' * other.c - names another file.' ' */' >"$tmp/wrong.c"
check wrong.c
like "$out" '^wrong\.c:1: header: the comment names other\.c, not wrong\.c' \
	"a header naming another file fails"

if [ -d "$top_srcdir/.git" ] || [ -f "$top_srcdir/.git" ]; then
	out=$(cd "$top_srcdir" && python3 build-aux/check-style.py 2>&1)
	rc=$?
	is "$rc" 0 "the tree follows the rules"
	[ "$rc" -eq 0 ] || diag "$out"
else
	skip "the tree follows the rules" "not a git checkout"
fi

done_testing
