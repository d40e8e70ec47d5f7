#!/bin/sh
# SPDX-License-Identifier: ISC
# quickstart.sh - set up a fresh Debian 12 machine (as root), build smtpreply
# and either run it or run its whole test suite.
#
#   ./quickstart.sh run     install, build, check a few sample replies, start
#                           smtpreply-milter on the built-in defaults and print
#                           the Postfix and sendmail lines that use it
#   ./quickstart.sh test    install (Postfix too, unconfigured: the tests run
#                           private instances), build (warnings are errors),
#                           make check
#
# The build goes to ./_build (out of tree). Packages come from Debian only.
set -eu

cd "$(dirname "$0")"
top=$(pwd)
build="$top/_build"

# What the build and the tests need, by Debian package name.
BUILD_DEPS="build-essential autoconf automake libtool pkg-config \
libmilter-dev libconfig-dev libpcre2-dev zlib1g-dev libmicrohttpd-dev libjansson-dev \
check python3"
# The end-to-end tests run a private Postfix (never the system's: with
# "No configuration" Debian creates no main.cf and starts no service), and
# a private Prometheus that scrapes the milter's metrics (its own
# configuration and storage; the package's service is not used).
# The proxy tests run children written with pymilter (python3-milter),
# Debian's OpenDKIM (a private instance; keys made by opendkim-genkey) and
# rspamd in milter mode (a private, offline instance on a free port).
# libdb-dev and m4 build Postfix 3.11 from ../shared/vendor for the reply
# filter tests (tests/e2e/postfix311.py), once, into the build tree.
# The HTML report of "smtpreply audit" is checked in headless Chromium, its
# Prometheus output with promtool (from the prometheus package).
TEST_DEPS="postfix prometheus python3-milter opendkim opendkim-tools rspamd libdb-dev m4 chromium"

# The milter started by "run": built-in defaults, this user, this pid file.
MILTER_USER=smtpreply
MILTER_PIDFILE=/run/smtpreply-milter.pid
MILTER_SOCKET=inet:8891@localhost

usage() {
	echo "usage: $0 run|test" >&2
	exit 2
}

install_deps() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: missing Debian packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "quickstart: installing$missing"
	# Postfix without a configuration of its own: nothing listens on 25.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	# No package installed here starts a service: the tests run their own
	# private instances (OpenDKIM, rspamd, Prometheus), and this machine's mail
	# setup is never touched. policy-rc.d makes invoke-rc.d start nothing
	# during the install (unless the machine already has one of its own).
	own_policy=
	if ! [ -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=yes
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
	    install -y -q --no-install-recommends $missing || {
		[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
		exit 1
	}
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
	# ... nor at the next boot, for the services this install brought.
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		for svc in opendkim rspamd prometheus; do
			case " $missing " in
			*" $svc "*) systemctl disable --now "$svc" >/dev/null 2>&1 || true ;;
			esac
		done
	fi
}

build() {
	echo "quickstart: building in $build"
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
	mkdir -p "$build"
	cd "$build"
	[ -f Makefile ] || "$top/configure" "$@"
	make -j"$(nproc 2>/dev/null || echo 2)"
}

run_samples() {
	echo
	echo "== smtpreply check: a few replies seen in the field, at RCPT =="
	"$build/smtpreply" check --phase rcpt \
	    '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown' \
	    '550 4.7.1 Recipient address rejected: Access denied' \
	    '572 Relay not permitted' \
	    '557 5.7.1 Too many duplicate messages' \
	    '451 Greylisted, please try again in 300 seconds (100% sure)' || true
	echo
	echo "== the same as a milter would hand them to libmilter, as JSON =="
	"$build/smtpreply" check --phase rcpt --milter --json \
	    '550 4.7.1 Recipient address rejected: Access denied' \
	    '572 Relay not permitted' || true
}

# Start smtpreply-milter as a daemon on the built-in defaults.
start_milter() {
	echo
	echo "== smtpreply-milter on the built-in defaults =="
	if [ -f "$MILTER_PIDFILE" ] && kill -0 "$(cat "$MILTER_PIDFILE")" 2>/dev/null; then
		echo "quickstart: stopping the running smtpreply-milter (pid $(cat "$MILTER_PIDFILE"))"
		kill "$(cat "$MILTER_PIDFILE")"
		sleep 2
	fi
	rm -f "$MILTER_PIDFILE"
	if ! id "$MILTER_USER" >/dev/null 2>&1; then
		echo "quickstart: creating system user $MILTER_USER"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$MILTER_USER"
	fi
	"$build/smtpreply-milter" -t -u "$MILTER_USER" -p "$MILTER_SOCKET" | head -n 2
	"$build/smtpreply-milter" -u "$MILTER_USER" -p "$MILTER_SOCKET"
	i=0
	while [ $i -lt 50 ] && ! [ -s "$MILTER_PIDFILE" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! [ -s "$MILTER_PIDFILE" ] || ! kill -0 "$(cat "$MILTER_PIDFILE")" 2>/dev/null; then
		echo "quickstart: smtpreply-milter did not start (see the mail log or the journal)" >&2
		exit 1
	fi
	cat <<EOF

smtpreply-milter is running (pid $(cat "$MILTER_PIDFILE"), user $MILTER_USER,
socket $MILTER_SOCKET), logging to syslog (facility mail).

Postfix, in /etc/postfix/main.cf, then "postfix reload":
    smtpd_milters = inet:localhost:8891
    milter_default_action = tempfail

Sendmail, in sendmail.mc, then rebuild sendmail.cf and restart sendmail:
    INPUT_MAIL_FILTER(\`smtpreply', \`S=inet:8891@localhost, F=T, T=S:10s;R:10s;E:5m')

Rules: write a configuration (commented sample: etc/smtpreply.conf),
check it with "$build/smtpreply-milter -t -c FILE", then start the
milter with -c FILE, or reload a running one with kill -HUP.
Stop:  kill \$(cat $MILTER_PIDFILE)
EOF
}

[ $# -eq 1 ] || usage
case "$1" in
run)
	# shellcheck disable=SC2086
	install_deps $BUILD_DEPS
	build
	run_samples
	start_milter
	;;
test)
	# shellcheck disable=SC2086
	install_deps $BUILD_DEPS $TEST_DEPS
	build --enable-werror
	# make check prints the automake summary; the last line counts the tests.
	set +e
	make check
	status=$?
	set -e
	pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -n1)
	fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -n1)
	error=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -n1)
	[ -n "$pass" ] || pass=0
	echo "${pass} passed, $(( ${fail:-0} + ${error:-0} )) failed"
	exit $status
	;;
*)
	usage
	;;
esac
