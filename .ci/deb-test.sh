#!/bin/bash
# SPDX-License-Identifier: ISC
#
# .ci/deb-test.sh - the Debian package, as an administrator gets it: build it
# from a clone of the committed tree with "dpkg-buildpackage -us -uc -b",
# lintian (no error, no warning), "dpkg -i" (+ "apt-get -f install"), the
# user, files and modes, the installed "smtpreply-milter -t",
# "systemd-analyze verify" of the unit, the daemon started as the unit
# starts it with mail through a private Postfix (.ci/deb_service.py), then
# "dpkg --purge" and nothing left behind. Root, Debian 12. Prints TAP
# lines ("ok N - ...", "not ok N - ..."); exit status 1 if one failed.
#
#   .ci/deb-test.sh [WORK_DIR]       (default: a new directory in /tmp)
#
# It installs what it needs (build dependencies, lintian, systemd for
# systemd-analyze, postfix unconfigured, python3) and removes none of it;
# the smtpreply packages it installs are purged at the end. Each step is
# bounded by a timeout.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/smtpreply-deb.XXXXXX)}
mkdir -p "$work"
chmod 0755 "$work"
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=900 -y -q"
PKGS="smtpreply-milter smtpreply libsmtpreply0 libsmtpreply-dev"
n=0
failed=0

ok() {			# ok CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# Everything named smtpreply outside this clone and the work directory.
leftovers() {
	find /etc /usr /lib /var /run /opt -xdev -name '*smtpreply*' \
	    -not -path "$top/*" -not -path "$work/*" \
	    -not -path '/var/lib/dpkg/*' -not -path '/var/cache/*' \
	    -not -path '/var/tmp/*' -not -path '/run/user/*' 2>/dev/null | sort
	getent passwd smtpreply
	getent group smtpreply
	dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null |
	    grep -v ' not-installed$'
}

# One run at a time on a machine: the packages, the user and port 8891 are
# the machine's (several developers may run CI checks at once).
mkdir -p /run/lock
exec 9>/run/lock/smtpreply-deb-test.lock
flock 9
echo "# deb-test: work directory $work"
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
		echo "# deb-test: $p is installed already: purging it first"
		dpkg --purge $PKGS >/dev/null 2>&1
		break
	fi
done
leftovers > "$work/before.txt"

# ---- build ------------------------------------------------------------------
# Every library quickstart.sh builds with is a Build-Depends of the package
# (a dependency added to one and not the other fails here, not on a user).
missing=
for p in $(sed -n '/^BUILD_DEPS="/,/"$/p' "$top/quickstart.sh" | tr -d '"\\' |
    sed 's/^BUILD_DEPS=//' | tr ' ' '\n' | grep -e '-dev$'); do
	grep -Eq "^ *$p([ ,]|$)" "$top/debian/control" || missing="$missing $p"
done
[ -z "$missing" ]
ok $? "debian/control Build-Depends has quickstart.sh's libraries${missing:+ (missing:$missing)}"
rm -rf "$work/src"
git clone -q "$top" "$work/src/smtpreply"
ok $? "clone of the committed tree ($(git -C "$top" rev-parse --short HEAD))"
# Postfix for the mail test, unconfigured as quickstart.sh installs it (no
# main.cf, no service: the test runs a private instance).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
timeout 900 $APT install --no-install-recommends lintian systemd dpkg-dev postfix python3 \
    >"$work/apt.log" 2>&1
ok $? "lintian, systemd (systemd-analyze), dpkg-dev, postfix and python3 installed"
(cd "$work/src/smtpreply" && timeout 900 $APT build-dep ./) >>"$work/apt.log" 2>&1
ok $? "build dependencies of debian/control installed (apt-get build-dep)"
(cd "$work/src/smtpreply" && timeout 1200 dpkg-buildpackage -us -uc -b) \
    >"$work/build.log" 2>&1
rc=$?
ok $rc "dpkg-buildpackage -us -uc -b"
[ $rc -eq 0 ] || tail -n 40 "$work/build.log" | sed 's/^/# /'
debs=()
for p in $PKGS; do
	debs+=("$work/src/${p}_"*.deb)
done
ls "${debs[@]}" >/dev/null 2>&1
ok $? "the four packages were built: $PKGS"

# ---- lintian ----------------------------------------------------------------
timeout 600 lintian --fail-on error,warning "$work/src/"smtpreply_*.changes \
    >"$work/lintian.txt" 2>&1
rc=$?
sed 's/^/# lintian: /' "$work/lintian.txt"
ok $rc "lintian: no error, no warning"

# ---- install ----------------------------------------------------------------
dpkg -i "${debs[@]}" >"$work/install.log" 2>&1 ||
    timeout 900 $APT -f install >>"$work/install.log" 2>&1
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'
	ok $? "dpkg -i: $p installed"
done
dpkg -L smtpreply-milter smtpreply libsmtpreply0 libsmtpreply-dev \
    >"$work/files.txt" 2>&1

pw=$(getent passwd smtpreply)
uid=$(echo "$pw" | cut -d: -f3)
[ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$(echo "$pw" | cut -d: -f6)" = /nonexistent ] &&
    [ "$(echo "$pw" | cut -d: -f7)" = /usr/sbin/nologin ]
ok $? "system user smtpreply: uid $uid < 1000, home /nonexistent, shell nologin ($pw)"
[ "$(id -gn smtpreply 2>/dev/null)" = smtpreply ]
ok $? "group smtpreply, the user's primary group"

mode() { stat -c '%a %U:%G' "$1" 2>/dev/null; }
check_mode() {		# check_mode PATH "MODE OWNER:GROUP"
	[ "$(mode "$1")" = "$2" ]
	ok $? "$1: $2 ($(mode "$1"))"
}
check_mode /usr/sbin/smtpreply-milter "755 root:root"
check_mode /usr/bin/smtpreply "755 root:root"
check_mode /etc/smtpreply "755 root:root"
check_mode /etc/smtpreply/smtpreply.conf "644 root:root"
check_mode /lib/systemd/system/smtpreply-milter.service "644 root:root"
check_mode /usr/lib/tmpfiles.d/smtpreply-milter.conf "644 root:root"
check_mode /run/smtpreply "750 smtpreply:smtpreply"
dpkg-query -W -f='${Conffiles}\n' smtpreply-milter | grep -q '^ /etc/smtpreply/smtpreply.conf '
ok $? "/etc/smtpreply/smtpreply.conf is a conffile"
grep -q '^usr/share/man/man8/smtpreply-milter.8.gz$' <(dpkg-deb -c "$work/src/"smtpreply-milter_*.deb | awk '{print $6}' | sed 's|^\./||')
ok $? "the package ships smtpreply-milter(8)"
ls /usr/lib/*/libsmtpreply.so.0 >/dev/null 2>&1 && [ -f /usr/include/smtpreply/smtpreply.h ]
ok $? "libsmtpreply.so.0 and the headers are installed"

out=$(/usr/sbin/smtpreply-milter -t 2>&1)
rc=$?
echo "$out" | head -n 3 | sed 's/^/# /'
[ $rc -eq 0 ] && echo "$out" | grep -q '^/etc/smtpreply/smtpreply.conf: configuration ok: 0 rules$'
ok $? "installed smtpreply-milter -t: the packaged configuration is ok and has no rules"
echo "$out" | grep -q '^socket inet:8891@localhost, '
ok $? "the packaged configuration's socket is inet:8891@localhost (loopback)"
out=$(/usr/bin/smtpreply check --phase rcpt '550 4.7.1 Access denied')
echo "$out" | grep -q 'normalized: 550 5.7.1 Access denied'
ok $? "installed smtpreply check normalizes 550 4.7.1"

out=$(timeout 120 systemd-analyze verify --man=no /lib/systemd/system/smtpreply-milter.service 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | sed 's/^/# systemd-analyze: /'
[ $rc -eq 0 ] && [ -z "$out" ]
ok $? "systemd-analyze verify: the unit has no problem"

# ---- run it as the unit does, mail through Postfix ----------------------------
timeout 300 python3 "$top/.ci/deb_service.py" /lib/systemd/system/smtpreply-milter.service \
    "$work/service" >"$work/service.tap" 2>&1
rc=$?
sed 's/^/    /' "$work/service.tap"		# a subtest: indented
grep -q '^1\.\.[1-9]' "$work/service.tap" && [ $rc -eq 0 ]
ok $? "the installed daemon, started as its unit starts it, served mail (above)"

# ---- purge ------------------------------------------------------------------
timeout 300 dpkg --purge $PKGS >"$work/purge.log" 2>&1
ok $? "dpkg --purge $PKGS"
leftovers > "$work/after.txt"
diff -u "$work/before.txt" "$work/after.txt" | sed 's/^/# /'
cmp -s "$work/before.txt" "$work/after.txt"
ok $? "nothing is left: no file, user, group or package named smtpreply"

echo "1..$n"
echo "# deb-test: $((n - failed)) passed, $failed failed (logs in $work)"
[ "$failed" -eq 0 ]
