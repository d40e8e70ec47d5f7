#!/bin/sh
# SPDX-License-Identifier: ISC
# check.sh - what "smtpreply check" shows the user: exit statuses, human and
# JSON output, reading replies from standard input. TAP on standard output.
#
# Environment (set by "make check"): SMTPREPLY, the program to test;
# top_srcdir; SR_TEST_DATA, the directory of shared test data.

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
SMTPREPLY=${SMTPREPLY:-${top_builddir:-.}/smtpreply}
SR_TEST_DATA=${SR_TEST_DATA:-$top_srcdir/tests/data}

. "$top_srcdir/tests/cli/tap.sh" || { echo "Bail out! cannot read tap.sh"; exit 1; }

[ -x "$SMTPREPLY" ] || bail_out "no program to test: SMTPREPLY=$SMTPREPLY"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpreply-check.XXXXXX") ||
	bail_out "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# run_in FILE ARGS...: run smtpreply with ARGS, standard input from FILE.
# Sets rc, out (standard output) and err (standard error).
run_in() {
	run_input=$1
	shift
	"$SMTPREPLY" "$@" <"$run_input" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# run ARGS...: the same with nothing on standard input.
run() {
	run_in /dev/null "$@"
}

# nlines TEXT: how many lines TEXT has.
nlines() {
	if [ -z "$1" ]; then
		echo 0
	else
		printf '%s\n' "$1" | wc -l | tr -d ' '
	fi
}

# line N TEXT: line N of TEXT.
line() {
	printf '%s\n' "$2" | sed -n "$1p"
}

# How JSON is validated: python3, else jq, else only its shape by grep.
if python3 -c 'import json' >/dev/null 2>&1; then
	json_tool=python3
elif jq --version >/dev/null 2>&1; then
	json_tool=jq
else
	json_tool=grep
	diag "neither python3 nor jq found: JSON output is checked with grep only"
fi

# json_lines TEXT: status 0 when every line of TEXT is one valid JSON object.
json_lines() {
	case $json_tool in
	python3)
		printf '%s\n' "$1" | python3 -c '
import json, sys
for l in sys.stdin:
    assert isinstance(json.loads(l), dict)
' 2>/dev/null ;;
	jq)
		printf '%s\n' "$1" | jq -e -s 'all(type == "object")' >/dev/null 2>&1 ;;
	*)
		! printf '%s\n' "$1" | grep -Ev '^\{"input": .*\}$' >/dev/null ;;
	esac
}

# --- exit statuses --------------------------------------------------------
# want|arguments (shell words)|what
while IFS='|' read -r want args what; do
	[ -n "$want" ] || continue
	eval "run $args"
	is "$rc" "$want" "exit $want: $what"
	if [ "$want" = 2 ]; then
		isnt "$err" "" "exit 2 says why on stderr: $what"
	fi
done <<'EOF'
0|check --phase rcpt '250 2.1.5 Ok'|clean reply
0|check --phase helo '250 mx.example.com'|clean HELO reply
1|check --phase rcpt '550 4.7.1 Recipient address rejected'|class mismatch is an error
1|check --phase rcpt '572 relay denied'|code outside the ABNF is an error
1|check '101 fail'|class 1 code is an error
0|check --phase rcpt '550 Recipient address rejected'|a missing enhanced code is a warning
1|check --strict --phase rcpt '550 Recipient address rejected'|--strict counts warnings
0|check --phase rcpt '557 5.7.1 too many'|a non-standard code is a warning
1|check --phase rcpt --strict '557 5.7.1 too many'|--strict: non-standard code
1|check --milter --phase rcpt '250 2.1.5 ok'|milter context: 2xx is an error
1|check --phase rcpt '250 2.1.5 ok' '550 4.7.1 no' '250 2.1.5 ok'|one bad reply among good ones
2|check --phase nope '250 ok'|unknown phase
2|check --bogus '250 ok'|unknown long option
2|check -x '250 ok'|unknown short option
2|check --phase|--phase without its argument
2|check --json=yes '250 ok'|argument to an option that takes none
2|frobnicate|unknown command
2|--frobnicate|unknown option before the command
2||no command at all
0|--version|--version
0|-V|-V
0|--help|--help
0|-h|-h
0|help|help
0|check --help|check --help
0|help check|help check
EOF

# --- program-level output -------------------------------------------------
run --version
like "$out" '^smtpreply [0-9]+\.[0-9]+' "--version prints 'smtpreply VERSION'"
run --help
like "$out" '^ +check +' "--help lists the check command"
is "$err" "" "--help writes nothing to stderr"
run
is "$out" "" "no command: nothing on stdout"
like "$err" '^usage: smtpreply' "no command: usage on stderr"
run frobnicate
like "$err" "unknown command 'frobnicate'" "unknown command is named"
run check --help
like "$out" '--phase' "check --help documents --phase"
like "$out" '--json' "check --help documents --json"
run check --phase nope '250 ok'
like "$err" "nope" "bad phase: the name is repeated"
like "$err" 'connect, helo, mail, rcpt, data, eom, other' "bad phase: valid phases listed"
is "$out" "" "bad phase: nothing checked"

# --- human output -----------------------------------------------------------
run check --phase rcpt '550 4.7.1 x'
is "$(line 1 "$out")" '550 4.7.1 x' "human: the input comes first"
like "$out" '^  error   enhanced-class-mismatch \(line 1\): .' \
	"human: diagnostic line with severity, id, line and message"
like "$out" '^  normalized: 550 5\.7\.1 x$' "human: 550 4.7.1 x -> 550 5.7.1 x"
like "$out" '^  changed: enhanced-class-mismatch: 550 4\.7\.1 -> 550 5\.7\.1$' \
	"human: the change is listed"

# reply | phase | normalized (ERE)
while IFS='|' read -r reply phase want; do
	[ -n "$reply" ] || continue
	run check --phase "$phase" "$reply"
	like "$out" "^  normalized: $want\$" "human: '$reply' at $phase normalizes"
done <<'EOF'
572 relay denied|rcpt|550 5\.7\.1 relay denied
557 too many|rcpt|550 5\.7\.1 too many
550 5.01.1 no such user|rcpt|550 5\.1\.1 no such user
451 5.7.1 try later|rcpt|451 4\.7\.1 try later
550 5.7.1 100% sure|rcpt|550 5\.7\.1 100% sure
EOF

# Near misses (issue #9): the reply as meant, or "not fixable"; never a
# remnant of a code in the text. reply | phase | normalized (ERE) or -
while IFS='|' read -r reply phase want; do
	[ -n "$reply" ] || continue
	run check --phase "$phase" "$reply"
	if [ "$want" = - ]; then
		like "$out" '^  not fixable: ' "near miss: '$reply' at $phase is not fixable"
		unlike "$out" '^  normalized:' "near miss: '$reply': nothing normalized"
	else
		like "$out" "^  normalized: $want\$" "near miss: '$reply' at $phase normalizes"
	fi
done <<'EOF'
5.7.1 Access denied|rcpt|550 5\.7\.1 Access denied
4.2.0 try later|rcpt|451 4\.2\.0 try later
5.1.1 <nb@localhost>... User unknown|rcpt|550 5\.1\.1 <nb@localhost>\.\.\. User unknown
2.1.5 Ok|rcpt|250 2\.1\.5 Ok
5.01.1 no code, leading zero|rcpt|550 5\.1\.1 no code, leading zero
550  5.7.1 two spaces|rcpt|550 5\.7\.1 two spaces
550	5.7.1 tab after the code|rcpt|550 5\.7\.1 tab after the code
550 5.7.1  two spaces after|rcpt|550 5\.7\.1 two spaces after
550 5.7.1		tabs after|rcpt|550 5\.7\.1 tabs after
55O 5.7.1 letter O|rcpt|-
5 5 0 spaced out|rcpt|-
5O0 letter O|rcpt|-
5501 four digits|rcpt|-
550x glued|rcpt|-
55 two digits|rcpt|-
5.7 cut enhanced code|rcpt|-
450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found|rcpt|450 4\.1\.8 <x@no-such\.example>: Sender address rejected: Domain not found
550 5.1.1 <x@example.org>... User unknown|other|550 5\.1\.1 <x@example\.org>\.\.\. User unknown
EOF

run check --phase rcpt '5.7.1 Access denied'
is "$rc" 1 "near miss: a missing basic code is an error (exit 1)"
like "$out" '^  error   code-missing \(line 1\): .*recovered .* as 550 5\.7\.1' \
	"near miss: code-missing says what was recovered"
like "$out" '^  changed: code-missing: 5\.7\.1 -> 550 5\.7\.1$' \
	"near miss: the recovery is listed as a change"
run check --milter --phase rcpt '2.1.5 Ok'
like "$out" '^  not fixable: .*libmilter' "near miss: --milter: a recovered 2xx is not fixable"
run check --phase rcpt '550  5.7.1 two spaces'
is "$rc" 0 "near miss: two blanks after the code is a warning (exit 0)"
like "$out" '^  warning separator-blanks \(line 1\): ' "near miss: separator-blanks"
unlike "$out" 'enhanced-missing' "near miss: the enhanced code after two blanks is seen"
run check --phase rcpt '55O 5.7.1 letter O'
like "$out" '^  error   code-syntax \(line 1\): "55O" ' "near miss: the unreadable code is shown whole"
like "$out" '^  not fixable: line 1: reply code "55O" cannot be read$' \
	"near miss: not fixable says why"
run check --json --phase rcpt '55O 5.7.1 letter O' '5.7.1 Access denied'
like "$(line 1 "$out")" '"fixable": false' "near miss JSON: 55O is not fixable"
like "$(line 2 "$out")" '"id": "code-missing"' "near miss JSON: code-missing"
like "$(line 2 "$out")" '"normalized": "550 5\.7\.1 Access denied"' "near miss JSON: normalized"

# Never weaker: a reject among accept lines is not turned into an accept.
nlc='
'
run check --phase rcpt "250-2.1.5 ok${nlc}550 5.1.1 no such user"
like "$out" '^  normalized: 550-5\.1\.1 ok$' "never weaker: line 1 takes the 550"
like "$out" '^ +550 5\.1\.1 no such user$' "never weaker: line 2 keeps its 550"
run check --phase other "250-a${nlc}354 b"
like "$out" '^  not fixable: .*class 2 and 3' "never weaker: 2xx and 3xx lines: not fixable"

# Phases as MTAs use them: delayed sender rejects at RCPT, unknown phase.
run check --phase rcpt '450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found'
is "$rc" 0 "phase: a delayed sender reject at RCPT is fine (exit 0)"
unlike "$out" 'enhanced-phase' "phase: no enhanced-phase for 4.1.8 at RCPT"
run check --strict --phase other '550 5.1.1 User unknown'
is "$rc" 0 "phase: an unknown phase changes no code (--strict exit 0)"
run check --strict --phase rcpt '554 5.7.1 <x@example.net>: Relay access denied'
is "$rc" 0 "phase: Postfix's 554 at RCPT is information only (--strict exit 0)"
like "$out" '^  info    phase-unexpected-code ' "phase: phase-unexpected-code is info"

run check --phase rcpt '572 relay denied'
like "$out" '^  error   code-syntax \(line 1\): ' "human: 572 is a code-syntax error"
run check --phase rcpt '557 too many'
like "$out" '^  warning code-nonstandard \(line 1\): ' \
	"human: 557 is a code-nonstandard warning, severity column aligned"

run check --phase helo '250 mx.example.com'
like "$out" '^  ok$' "human: a reply with no diagnostic says ok"

run check --milter --phase rcpt '250 ok'
like "$out" '^  not fixable: .' "human: --milter 250 is not fixable, with why"
unlike "$out" '^  normalized:' "human: nothing normalized when not fixable"

run check --milter --phase rcpt '550 5.7.1 100% sure'
like "$out" '^  normalized: 550 5\.7\.1 100% sure$' "human: --milter keeps a single %"

nl='
'
run check --phase rcpt "550-5.1.1 first${nl}550 5.1.1 second"
is "$(line 1 "$out")" '550-5.1.1 first' "human: multi-line input, line 1"
is "$(line 2 "$out")" '550 5.1.1 second' "human: multi-line input, line 2"
like "$out" '^  normalized: 550-5\.1\.1 first$' "human: normalized line 1"
like "$out" '^              550 5\.1\.1 second$' "human: normalized line 2 indented under it"

cr=$(printf '\r')
run check "550 5.7.1 a${cr}b" '550 5.7.1 back\slash'
like "$out" '^550 5\.7\.1 a\\rb$' "human: a CR in the input is shown as \\r"
like "$out" '^550 5\.7\.1 back\\\\slash$' "human: a backslash in the input is shown doubled"

run check '250 2.0.0 a' '250 2.0.0 b'
is "$(nlines "$out")" 7 "human: two reports separated by one blank line"

# --- JSON output --------------------------------------------------------------
run check --json --phase rcpt '550 4.7.1 x' '572 relay denied' '101 fail'
is "$rc" 1 "json: exit status as without --json"
is "$(nlines "$out")" 3 "json: one line per reply"
json_lines "$out"
ok $? "json: every line is a valid JSON object ($json_tool)"
j1=$(line 1 "$out")
j2=$(line 2 "$out")
j3=$(line 3 "$out")
for key in input phase context diagnostics normalized fixable changes; do
	like "$j1" "\"$key\": " "json: key $key present"
done
like "$j1" '^\{"input": "550 4\.7\.1 x", ' "json: input comes first, as given"
like "$j1" '"phase": "rcpt", "context": "wire", ' "json: phase and context"
like "$j1" '\{"id": "enhanced-class-mismatch", "severity": "error", "line": 1, "count": [0-9]+, "message": "[^"]+"\}' \
	"json: a diagnostic has id, severity, line, count and message"
like "$j1" '"normalized": "550 5\.7\.1 x", "fixable": true, ' "json: normalized and fixable"
like "$j1" '\{"id": "enhanced-class-mismatch", "line": 1, "before": "550 4\.7\.1", "after": "550 5\.7\.1"\}' \
	"json: the change, with before and after"
unlike "$j1" '"why": ' "json: no why when fixable"
like "$j2" '"normalized": "550 5\.7\.1 relay denied"' "json: 572 -> 550 5.7.1"
like "$j2" '"id": "code-syntax", "severity": "error"' "json: 572 is code-syntax"
like "$j3" '"normalized": null, "fixable": false, "why": "[^"]+"' \
	"json: 101 fail has normalized null, fixable false and a why"

run check --json --milter --phase rcpt '250 ok'
like "$out" '"context": "milter"' "json: --milter gives context milter"
like "$out" '"normalized": null, "fixable": false' "json: --milter 250 ok is not fixable"
is "$rc" 1 "json: --milter 250 ok exits 1"

run check --json --phase rcpt "550-5.1.1 first${nl}550 5.1.1 second"
like "$out" '"input": "550-5\.1\.1 first\\n550 5\.1\.1 second"' "json: input keeps its LF"
like "$out" '"normalized": "550-5\.1\.1 first\\r\\n550 5\.1\.1 second"' \
	"json: normalized lines joined by \\r\\n"
if [ "$json_tool" = python3 ]; then
	printf '%s\n' "$out" | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
assert o["normalized"].split("\r\n") == ["550-5.1.1 first", "550 5.1.1 second"], o
assert o["fixable"] is True and o["diagnostics"] == [] and o["changes"] == [], o
' 2>/dev/null
	ok $? "json: multi-line reply parses back to its two lines"
else
	skip "json: multi-line reply parses back to its two lines" "no python3"
fi

run check --json --phase rcpt '550 5.7.1 100% sure'
like "$out" '"normalized": "550 5\.7\.1 100% sure"' "json: % text kept"
run check --json --milter --phase rcpt '550 5.7.1 100% sure'
like "$out" '"normalized": "550 5\.7\.1 100% sure"' "json: --milter: % text kept single"

run check --json --phase rcpt '550 5.7.1 "quoted" back\slash'
like "$out" '"input": "550 5\.7\.1 \\"quoted\\" back\\\\slash"' "json: quotes and backslashes escaped"
json_lines "$out"
ok $? "json: escaped output is valid"

# --- standard input -----------------------------------------------------------
printf '250-a\n250 b\n550 5.1.1 c\n' >"$tmp/in"
run_in "$tmp/in" check --json --phase rcpt
is "$(nlines "$out")" 2 "stdin: 250-a / 250 b / 550 5.1.1 c is two replies"
like "$(line 1 "$out")" '^\{"input": "250-a\\n250 b", ' "stdin: first reply has both lines"
like "$(line 2 "$out")" '^\{"input": "550 5\.1\.1 c", ' "stdin: second reply"

printf '\r\n250-a\r\n250 b\r\n\r\n \t\n\n550 5.1.1 c' >"$tmp/in"
run_in "$tmp/in" check --json --phase rcpt
is "$(nlines "$out")" 2 "stdin: CRLF, blank lines skipped, no final newline"
like "$(line 1 "$out")" '^\{"input": "250-a\\r\\n250 b", ' "stdin: CRLF kept inside a reply"
like "$(line 2 "$out")" '^\{"input": "550 5\.1\.1 c", ' "stdin: last line without newline"

printf '250-a\n' >"$tmp/in"
run_in "$tmp/in" check --json
is "$(nlines "$out")" 1 "stdin: input ending inside a reply still checks it"
is "$rc" 1 "stdin: an unfinished multi-line reply is an error"

printf '550 5.1.1 a\000b\n250 2.0.0 ok\n' >"$tmp/in"
run_in "$tmp/in" check --json
is "$rc" 1 "stdin: NUL byte: no crash, the reply has an error"
is "$(nlines "$out")" 2 "stdin: NUL byte: both replies reported"
like "$(line 1 "$out")" '"input": "550 5\.1\.1 a\\u0000b"' "json: NUL written as \\u0000"
like "$(line 1 "$out")" '"id": "text-bad-char"' "stdin: NUL byte is text-bad-char"
json_lines "$out"
ok $? "stdin: NUL byte: JSON valid"
run_in "$tmp/in" check
like "$out" '^550 5\.1\.1 a\\x00b$' "human: NUL shown as \\x00"

printf '550 5.7.1 caf\303\251 \377\n' >"$tmp/in"
run_in "$tmp/in" check --json
json_lines "$out"
ok $? "json: invalid UTF-8 still gives valid JSON"
like "$out" '"input": "550 5\.7\.1 caf.+ \\ufffd"' "json: a byte that is not UTF-8 becomes \\ufffd"
like "$out" '"id": "text-non-ascii"' "non-ASCII text is reported"
run_in "$tmp/in" check
like "$out" '^550 5\.7\.1 caf\\xC3\\xA9 \\xFF$' "human: non-ASCII bytes shown as \\xHH"
printf '550 5.7.1 caf\303\251\n' >"$tmp/in"
run_in "$tmp/in" check --json --utf8 --phase rcpt
unlike "$out" 'text-non-ascii' "--utf8: valid UTF-8 text is fine"

# Bounds: a reply over 1000 lines, and one over 64 KiB, are skipped.
awk 'BEGIN {
	print "250 2.0.0 before"
	for (i = 0; i < 1001; i++) print "250-2.0.0 line"
	print "250 2.0.0 end"
	print "550 5.1.1 after"
}' >"$tmp/in"
run_in "$tmp/in" check --json
is "$rc" 2 "stdin: a reply over 1000 lines exits 2"
like "$err" 'line 2' "stdin: the message names the line where the reply starts"
is "$(nlines "$out")" 2 "stdin: the replies around it are still checked"
like "$(line 2 "$out")" '"input": "550 5\.1\.1 after"' "stdin: reading goes on after the skipped reply"

awk 'BEGIN {
	s = "aaaaaaaaaaaaaaaa"
	while (length(s) < 70000) s = s s
	print "250 2.0.0 before"
	print "550 5.7.1 " s
	print "550 5.1.1 after"
}' >"$tmp/in"
run_in "$tmp/in" check --json
is "$rc" 2 "stdin: a reply over 64 KiB exits 2"
like "$err" '^smtpreply: .*line 2.*' "stdin: over 64 KiB: message names line 2"
is "$(nlines "$out")" 2 "stdin: over 64 KiB: the other replies are checked"

awk 'BEGIN { for (i = 0; i < 1000; i++) printf "250-%0500d\n", i; print "250 end" }' >"$tmp/in"
run_in "$tmp/in" check --json
is "$rc" 2 "stdin: 1001 lines of 505 bytes is over both bounds"

awk 'BEGIN { for (i = 0; i < 999; i++) print "250-2.0.0 x"; print "250 2.0.0 end" }' >"$tmp/in"
run_in "$tmp/in" check --json
is "$rc" 0 "stdin: a reply of 1000 lines is within bounds"
is "$(nlines "$out")" 1 "stdin: ...and is one reply"

if [ "$(uname -s 2>/dev/null)" = Linux ]; then
	run_in / check
	is "$rc" 2 "stdin: unreadable (a directory) exits 2"
	like "$err" '^smtpreply: standard input' "stdin: unreadable: the message says so"
else
	skip "stdin: unreadable (a directory) exits 2" "reading a directory only fails on Linux"
	skip "stdin: unreadable: the message says so" "reading a directory only fails on Linux"
fi

# The shared reply corpus, when there is one: no crash, valid JSON.
if [ -r "$SR_TEST_DATA/replies.txt" ]; then
	run_in "$SR_TEST_DATA/replies.txt" check --json --phase rcpt
	[ "$rc" -le 1 ]
	ok $? "corpus: replies.txt checks with exit 0 or 1 (got $rc)"
	json_lines "$out"
	ok $? "corpus: JSON valid for every reply"
else
	skip "corpus: replies.txt checks with exit 0 or 1" "no $SR_TEST_DATA/replies.txt"
	skip "corpus: JSON valid for every reply" "no $SR_TEST_DATA/replies.txt"
fi

done_testing
