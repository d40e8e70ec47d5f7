#!/bin/sh
# quickstart.sh - set up a fresh Debian 12 machine (as root), build smtpreply
# and either run it or run its whole test suite.
#
#   ./quickstart.sh run     install, build, check a few sample replies
#   ./quickstart.sh test    install, build (warnings are errors), make check
#
# The build goes to ./_build (out of tree). Packages come from Debian only.
set -eu

cd "$(dirname "$0")"
top=$(pwd)
build="$top/_build"

# What the build and the tests need, by Debian package name.
BUILD_DEPS="build-essential autoconf automake libtool pkg-config \
libmilter-dev libconfig-dev libpcre2-dev zlib1g-dev check python3"

usage() {
	echo "usage: $0 run|test" >&2
	exit 2
}

install_deps() {
	missing=
	for p in $BUILD_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: missing Debian packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "quickstart: installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
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

[ $# -eq 1 ] || usage
case "$1" in
run)
	install_deps
	build
	run_samples
	;;
test)
	install_deps
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
