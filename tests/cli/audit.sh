#!/bin/sh
# SPDX-License-Identifier: ISC
# audit.sh - what "smtpreply audit" shows the user: the text and JSON
# reports of small real-format logs (golden files), plain, gzip and
# standard input, truncated, binary, empty and over-long input, the
# filters, and the exit statuses. TAP on standard output.
#
# Environment (set by "make check"): SMTPREPLY, the program to test;
# top_srcdir; SR_TEST_DATA, the directory of shared test data.
# SR_BLESS=1 rewrites the golden files from the program's output (check
# the diff before committing it).

top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
SMTPREPLY=${SMTPREPLY:-${top_builddir:-.}/smtpreply}
SR_TEST_DATA=${SR_TEST_DATA:-$top_srcdir/tests/data}
data=$SR_TEST_DATA/audit

. "$top_srcdir/tests/cli/tap.sh" || { echo "Bail out! cannot read tap.sh"; exit 1; }

[ -x "$SMTPREPLY" ] || bail_out "no program to test: SMTPREPLY=$SMTPREPLY"
command -v gzip >/dev/null 2>&1 || bail_out "gzip not found (Debian package: gzip)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpreply-audit.XXXXXX") ||
	bail_out "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# audit ARGS...: run "smtpreply audit --year 2026 ARGS" in the data
# directory (file names in reports stay short). Sets rc, out, err.
audit() {
	(cd "$data" && "$SMTPREPLY" audit --year 2026 "$@") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# audit_in FILE ARGS...: the same with standard input from FILE.
audit_in() {
	audit_input=$1
	shift
	(cd "$data" && "$SMTPREPLY" audit --year 2026 "$@") <"$audit_input" \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# golden NAME DESC: standard output must equal $data/NAME.
golden() {
	if [ "${SR_BLESS:-0}" = 1 ]; then
		cp "$tmp/out" "$data/$1"
	fi
	if cmp -s "$tmp/out" "$data/$1"; then
		pass "$2"
	else
		fail "$2"
		diag "$(diff -u "$data/$1" "$tmp/out" | head -n 40)"
	fi
}

# json_get KEY.PATH: a value of the JSON report in $tmp/out (python3).
json_get() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    if isinstance(v, list):
        v = v[int(k)] if int(k) < len(v) else None
    elif isinstance(v, dict):
        v = v.get(k)
print(json.dumps(v) if not isinstance(v, (int, str)) or isinstance(v, bool) else v)' \
	    "$tmp/out" "$1"
}

# ---- golden reports -----------------------------------------------------
audit postfix.log
is "$rc" 1 "postfix.log: an error-level diagnostic: exit 1"
golden postfix.txt "postfix.log: text report"
is "$err" "" "postfix.log: nothing on standard error"

audit --json postfix.log
is "$rc" 1 "postfix.log --json: exit 1"
golden postfix.json "postfix.log: JSON report"
python3 -m json.tool "$tmp/out" >/dev/null 2>&1
ok $? "postfix.log: the JSON report is valid JSON"
is "$(json_get lines)" 23 "JSON: lines"
is "$(json_get recognized)" 14 "JSON: recognized"
is "$(json_get by_direction.remote)" 6 "JSON: by_direction.remote"
is "$(json_get nonstandard.557)" 1 "JSON: nonstandard 557"
is "$(json_get nonstandard.572)" 1 "JSON: nonstandard 572"
is "$(json_get diagnostics.enhanced-class-mismatch)" 2 "JSON: diagnostics by id"
is "$(json_get examples.enhanced-class-mismatch.0.normalized)" \
    "550 5.7.1 Recipient address rejected: Access denied" \
    "JSON: an example carries the normalized reply"
is "$(json_get peers.0.peer)" "mx.peer.example[198.51.100.80]" \
    "JSON: the peer with the most non-conforming replies"

audit sendmail.log exim.log
is "$rc" 1 "sendmail and exim logs: exit 1"
golden mixed.txt "sendmail.log exim.log: text report"
audit --json sendmail.log exim.log
golden mixed.json "sendmail.log exim.log: JSON report"

# The forms issue 14 added: Postfix reply filter (3.11), proxy-reject, one-blank
# day, <PRI>, ISO rsyslog header, malformed codes, Exim AUTH, callout with the
# host called, millisecond stamps, success replies (counted with --success).
audit forms.log
is "$rc" 1 "forms.log: exit 1"
golden forms.txt "forms.log: text report"
audit --format prometheus forms.log
golden forms.prom "forms.log: Prometheus metrics"
audit --json --success forms.log
is "$(json_get success)" 2 "forms.log --success: two 250 replies counted"
is "$(json_get filter_changed)" 1 "forms.log: one reply changed by the reply filter"
is "$(json_get malformed_codes.0.reply)" "9999 what" "forms.log: a malformed code with its reply"
like "$(json_get malformed_codes.0.line)" "said: 9999 what" "forms.log: ... and its line"

# A main log of a real Exim 4.96 (exim-4.96.README): a connection error logged
# on the host's line and repeated on each address's line counts once.
audit exim-4.96.log
golden exim-4.96.txt "exim-4.96.log (captured): text report"
audit --json --success exim-4.96.log
is "$(json_get recognized)" 29 "exim-4.96.log --success: reply lines recognized (3 success lines)"
is "$(json_get replies)" 25 "exim-4.96.log --success: the repeats of a connection error not counted"
is "$(json_get malformed)" 2 "exim-4.96.log: the malformed 9999, once per delivery attempt"
is "$(json_get success)" 3 "exim-4.96.log --success: the peers' 250s"

# ---- gzip, standard input -------------------------------------------------
gzip -c "$data/postfix.log" >"$tmp/postfix.log.gz"
audit postfix.log
cp "$tmp/out" "$tmp/plain.txt"
audit "$tmp/postfix.log.gz"
cmp -s "$tmp/out" "$tmp/plain.txt"
ok $? "gzip input: the same report as the plain file"
audit --json "$tmp/postfix.log.gz"
is "$(json_get files.0.gzip)" true "gzip input: detected by content"
audit_in "$tmp/postfix.log.gz"
cmp -s "$tmp/out" "$tmp/plain.txt"
ok $? "gzip on standard input: the same report"
audit_in "$data/postfix.log" -
cmp -s "$tmp/out" "$tmp/plain.txt"
ok $? "'-' reads standard input"
cat "$tmp/postfix.log.gz" "$tmp/postfix.log.gz" >"$tmp/twice.gz"
audit --json "$tmp/twice.gz"
is "$(json_get lines)" 46 "two concatenated gzip members: both read"
head -c 700 "$tmp/postfix.log.gz" >"$tmp/cut.gz"
audit --json "$tmp/cut.gz"
is "$rc" 2 "truncated gzip data: exit 2"
like "$err" "cut\.gz: gzip data truncated" "truncated gzip data: the message says so"

# ---- truncated, binary, empty, over-long input ----------------------------
# The last line without its LF: still read.
printf '%s' "$(cat "$data/postfix.log")" >"$tmp/nolf.log"
audit --json "$tmp/nolf.log"
is "$(json_get lines)" 23 "last line without LF: counted"
is "$(json_get recognized)" 14 "last line without LF: the same replies"
# Cut in the middle of the last reply line's marker.
{ cat "$data/postfix.log"; printf 'Dec  1 06:40:00 mx postfix/smtpd[812]: NOQUEUE: rej'; } >"$tmp/cut.log"
audit --json "$tmp/cut.log"
is "$(json_get lines)" 24 "a line cut in its marker: counted as a line"
is "$(json_get recognized)" 14 "a line cut in its marker: not a reply"
is "$rc" 1 "a line cut in its marker: no error of its own"
python3 -c 'import random, sys
r = random.Random(7)
sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(200000)))' >"$tmp/binary"
audit --json "$tmp/binary"
is "$rc" 0 "binary file: exit 0"
is "$(json_get recognized)" 0 "binary file: nothing recognized"
: >"$tmp/empty"
audit --json "$tmp/empty"
is "$rc" 0 "empty file: exit 0"
is "$(json_get lines)" 0 "empty file: 0 lines"
audit "$tmp/empty"
like "$out" "^smtpreply audit: 0 lines read, 0 reply lines recognized" \
    "empty file: the text report says so"
python3 -c 'import sys
sys.stdout.write("Dec  1 06:25:10 mx postfix/smtpd[812]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.7.1 " + "x" * 100000 + "\n")' >"$tmp/long.log"
cat "$data/postfix.log" >>"$tmp/long.log"
audit --json "$tmp/long.log"
is "$(json_get long_lines)" 1 "a line over 64 KiB: counted as cut"
is "$(json_get lines)" 24 "a line over 64 KiB: the lines after it are read"
is "$(json_get recognized)" 15 "a line over 64 KiB: its reply is still audited"

# ---- filters --------------------------------------------------------------
audit --json --direction remote postfix.log
is "$(json_get replies)" 6 "--direction remote: only the remote replies"
is "$(json_get filtered)" 8 "--direction remote: the local ones left out"
audit --json --direction local postfix.log
is "$(json_get by_direction.remote)" 0 "--direction local: no remote reply"
audit --json --since "2026-12-01 06:30" postfix.log
is "$(json_get replies)" 6 "--since: from 06:30 on"
audit --json --until "2026-12-01 06:25:12" postfix.log
is "$(json_get replies)" 4 "--until: up to 06:25:12, inclusive"
audit --json --since 2026-12-02 sendmail.log exim.log
is "$(json_get replies)" 6 "--since a date: RFC 3339-less sendmail and Exim stamps compared"
audit --json --until 2026-12-02 sendmail.log exim.log
is "$(json_get replies)" 4 "--until a date: to the end of that day"
audit --top 1 postfix.log
is "$(printf '%s\n' "$out" | grep -c '^      550 4\.')" 1 "--top 1: one example per id in the text report"
audit --json --top 0 postfix.log
is "$(json_get peers.0)" null "--top 0: no peer in the JSON top list"
is "$(json_get examples.enhanced-class-mismatch.1.reply)" "550 4.2.2 Mailbox full" \
    "--json: every kept example (what --merge needs), whatever --top says"
is "$(json_get peer_table.0.peer)" "mx.peer.example[198.51.100.80]" \
    "--json: the whole peer table with error bounds"

# ---- exit statuses ----------------------------------------------------------
# ---- default MTA behaviour is not reported as wrong (issue #9) -------------
# sendmail logs the first line of a multi-line reply: cut, not broken.
cat >"$tmp/cut.log" <<'EOF'
Dec  2 10:00:04 mail sm-mta[4110]: 4B2A02cD004110: to=<z@peer.example>, delay=00:00:03, xdelay=00:00:03, mailer=esmtp, pri=120321, relay=mx.peer.example. [198.51.100.80], dsn=4.3.0, stat=Deferred: 451-4.3.0 Temporary local problem, please try again later
Dec  2 10:00:05 mail sm-mta[4111]: 4B2A02cD004111: to=<y@peer.example>, delay=00:00:03, xdelay=00:00:03, mailer=esmtp, pri=120321, relay=mx.peer.example. [198.51.100.80], dsn=5.1.1, stat=User unknown
EOF
audit --json "$tmp/cut.log"
is "$rc" 0 "a log-cut multi-line reply: no error, exit 0"
is "$(json_get diagnostics.multiline-cut)" 1 "a log-cut reply: multiline-cut"
is "$(json_get severities.multiline-cut)" info "a log-cut reply: multiline-cut is info"
is "$(json_get diagnostics.multiline-separator)" null "a log-cut reply: no multiline-separator"
is "$(json_get examples.multiline-cut.0.normalized)" \
    "451 4.3.0 Temporary local problem, please try again later" \
    "a log-cut reply: the lines shown are checked as they are"
is "$(json_get diagnostics.enhanced-phase)" null \
    "an unknown phase (sendmail's dsn=5.1.1, stat=User unknown): no enhanced-phase"
# Postfix's defaults: delayed sender rejects at RCPT, 554 for relaying.
cat >"$tmp/delay.log" <<'EOF'
Dec  1 06:25:14 mx postfix/smtpd[812]: NOQUEUE: reject: RCPT from c.example[192.0.2.1]: 450 4.1.8 <x@no-such.example>: Sender address rejected: Domain not found; from=<x@no-such.example> to=<u@example.org> proto=ESMTP helo=<c.example>
Dec  1 06:25:15 mx postfix/smtpd[812]: NOQUEUE: reject: RCPT from c.example[192.0.2.1]: 554 5.7.1 <u@example.net>: Relay access denied; from=<a@c.example> to=<u@example.net> proto=ESMTP helo=<c.example>
EOF
audit --json --fail-on warning "$tmp/delay.log"
is "$rc" 0 "Postfix's default rejects: not even a warning (--fail-on warning: exit 0)"
is "$(json_get diagnostics.enhanced-phase)" null "4.1.8 at RCPT (smtpd_delay_reject): no enhanced-phase"
is "$(json_get diagnostics.phase-unexpected-code)" 1 "554 at RCPT: phase-unexpected-code..."
is "$(json_get severities.phase-unexpected-code)" info "...at info level"

audit --fail-on never postfix.log
is "$rc" 0 "--fail-on never: exit 0"
grep -v 'milter-reject: RCPT.*4\.7\.1\|4\.2\.2\|572\|557' "$data/postfix.log" >"$tmp/warn.log"
audit --json "$tmp/warn.log"
is "$(json_get with_error)" 0 "a log without errors"
is "$rc" 0 "no error: exit 0"
printf '%s\n' 'Dec  1 06:25:14 mx postfix/smtpd[812]: NOQUEUE: reject: RCPT from c[192.0.2.1]: 550 No enhanced code here; proto=ESMTP' >"$tmp/w.log"
audit "$tmp/w.log"
is "$rc" 0 "a warning only: exit 0 by default"
audit --fail-on warning "$tmp/w.log"
is "$rc" 1 "a warning only, --fail-on warning: exit 1"
audit postfix.log "$tmp/no-such-file"
is "$rc" 2 "a missing file: exit 2"
like "$err" "no-such-file: No such file or directory" "a missing file: named in the message"
like "$out" "^smtpreply audit: 23 lines read from 2 files" "a missing file: the others are still read"
audit "$tmp"
is "$rc" 2 "a directory: exit 2"
like "$err" "read error: Is a directory" "a directory: the message says so"
audit --fail-on sometimes postfix.log
is "$rc" 2 "a bad --fail-on: exit 2"
audit --since yesterday postfix.log
is "$rc" 2 "a bad --since: exit 2"
like "$err" "--since: a time such as" "a bad --since: the message says what is expected"
audit --direction sideways postfix.log
is "$rc" 2 "a bad --direction: exit 2"
audit --bogus
is "$rc" 2 "an unknown option: exit 2"
audit --help
is "$rc" 0 "--help: exit 0"
like "$out" "^usage: smtpreply audit" "--help: the usage"

# Peer names from a log reach the text report escaped, as replies do
# (issue 10): no ESC, no 8-bit byte, nothing that moves the cursor.
printf 'Dec  1 06:30:02 mx postfix/smtp[820]: 4Q1x2y3zABF: to=<ann@peer.example>, relay=e\033[2Jvil\351.example[198.51.100.9]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=5.7.1, status=bounced (host e\033[2Jvil\351.example[198.51.100.9] said: 572 Relay not permitted (in reply to RCPT TO command))\n' >"$tmp/peer.log"
audit "$tmp/peer.log"
LC_ALL=C grep -q "$(printf '\033')" "$tmp/out"
not_ok $? "a peer with ESC: no raw ESC in the text report"
LC_ALL=C grep -q "$(printf '\351')" "$tmp/out"
not_ok $? "a peer with an 8-bit byte: no raw byte in the text report"
like "$out" '^  e\\x1B\[2Jvil\\xE9\.example\[198\.51\.100\.9\] +1$' "the peer is shown escaped in the peer table"
like "$out" 'from e\\x1B\[2Jvil\\xE9\.example\[198\.51\.100\.9\]' "the peer is shown escaped with the examples"

done_testing
