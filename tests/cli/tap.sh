# SPDX-License-Identifier: ISC
# tap.sh - a tiny TAP producer for shell tests; source it, do not run it.
#
#   . "$top_srcdir/tests/cli/tap.sh"
#   ok 0 "a passing test"            # first argument: a status, 0 = pass
#   is "$got" "want" "exact match"
#   like "$text" '^ERE$' "a line of the text matches the ERE"
#   done_testing                      # prints the plan, exits 0 or 1
#
# POSIX sh (dash, busybox sh, bash). Every function prints one TAP line
# (or a comment) and counts it; done_testing prints the plan at the end.

tap_run=0
tap_failed=0
tap_planned=

# plan N: announce N tests up front (optional; done_testing works without).
plan() {
	tap_planned=$1
	echo "1..$1"
}

# diag LINE...: each LINE (and each line inside it) as a TAP comment.
diag() {
	for tap_line in "$@"; do
		printf '%s\n' "$tap_line"
	done | sed 's/^/# /'
}

# pass DESC / fail DESC: record a result.
pass() {
	tap_run=$((tap_run + 1))
	printf 'ok %d - %s\n' "$tap_run" "$1"
}

fail() {
	tap_run=$((tap_run + 1))
	tap_failed=$((tap_failed + 1))
	printf 'not ok %d - %s\n' "$tap_run" "$1"
}

# ok STATUS DESC: pass when STATUS is 0 (e.g. "test -s f; ok $? 'f not empty'").
ok() {
	if [ "$1" -eq 0 ] 2>/dev/null; then
		pass "$2"
	else
		fail "$2"
	fi
}

# not_ok STATUS DESC: pass when STATUS is not 0.
not_ok() {
	if [ "$1" -eq 0 ] 2>/dev/null; then
		fail "$2"
	else
		pass "$2"
	fi
}

# is GOT WANT DESC: exact string equality.
is() {
	if [ "x$1" = "x$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "     got: '$1'" "    want: '$2'"
	fi
}

# isnt GOT UNWANTED DESC
isnt() {
	if [ "x$1" != "x$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "     got: '$1'" "    want anything else"
	fi
}

# like TEXT ERE DESC: some line of TEXT matches the extended regex ERE.
like() {
	if printf '%s\n' "$1" | grep -E -e "$2" >/dev/null 2>&1; then
		pass "$3"
	else
		fail "$3"
		diag "    text: '$1'" "    want a line matching: $2"
	fi
}

# unlike TEXT ERE DESC: no line of TEXT matches ERE.
unlike() {
	if printf '%s\n' "$1" | grep -E -e "$2" >/dev/null 2>&1; then
		fail "$3"
		diag "    text: '$1'" "    want no line matching: $2"
	else
		pass "$3"
	fi
}

# skip DESC REASON: a test that cannot run here.
skip() {
	tap_run=$((tap_run + 1))
	printf 'ok %d - %s # SKIP %s\n' "$tap_run" "$1" "$2"
}

# bail_out REASON: stop everything.
bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# done_testing: print the plan (unless given up front) and exit,
# 1 when a test failed or the plan was not kept, else 0.
done_testing() {
	if [ -z "$tap_planned" ]; then
		echo "1..$tap_run"
	elif [ "$tap_planned" -ne "$tap_run" ]; then
		diag "planned $tap_planned tests but ran $tap_run"
		exit 1
	fi
	if [ "$tap_failed" -gt 0 ]; then
		diag "failed $tap_failed of $tap_run tests"
		exit 1
	fi
	exit 0
}
