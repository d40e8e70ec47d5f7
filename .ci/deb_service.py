#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""deb_service.py - run the installed smtpreply-milter the way its unit does.

No systemd runs in CI, so this does what systemd would: it reads ExecStart=,
User= and Group= from the installed unit, starts that exact command line as
that user and group (setpriv) with $NOTIFY_SOCKET pointing at a datagram
socket of its own, and checks the Type=notify protocol (READY=1 before mail,
RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM). In between a
private Postfix (tests/e2e/mta.py) sends mail through the milter on the
packaged configuration's socket, inet:8891@localhost, which must listen on
loopback only. Prints TAP.

    deb_service.py UNIT_FILE WORK_DIR
"""

import os
import pwd
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import mta  # noqa: E402

PACKAGED_PORT = 8891  # the default "socket" of the conffile


def unit_settings(path):
    """{key: value} of the [Service] section (last assignment wins)."""
    section, out = None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def listening(port):
    """[(family, address hex)] of the TCP sockets in LISTEN on PORT."""
    res = []
    for fam, path in (("tcp", "/proc/net/tcp"), ("tcp6", "/proc/net/tcp6")):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for l in lines:
            f = l.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A":
                res.append((fam, addr))
    return res


def is_loopback(fam, addr):
    if fam == "tcp":
        return addr[-2:] == "7F"  # little-endian 127.x.y.z
    return addr == "00000000000000000000000001000000"  # ::1


class Notify:
    """The $NOTIFY_SOCKET end: collects the datagrams the milter sends."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(path):
            os.unlink(path)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.got = []

    def wait(self, word, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(word in m.split("\n") for m in self.got):
                return True
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                self.got.append(self.sock.recv(4096).decode(errors="replace"))
            except socket.timeout:
                pass
        return any(word in m.split("\n") for m in self.got)

    def clear(self):
        self.got = []


def main():
    unit, work = sys.argv[1], sys.argv[2]
    tap = mta.Tap()
    mta.need_root_and_postfix()
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    svc = unit_settings(unit)
    tap.is_(svc.get("Type"), "notify", "the unit is Type=notify")
    user, group = svc.get("User"), svc.get("Group")
    tap.ok(user and group, "the unit sets User= and Group=", diag=svc)
    argv = shlex.split(svc.get("ExecStart", ""))
    tap.ok(argv and os.access(argv[0], os.X_OK), "ExecStart names an installed program",
           diag=argv)
    busy = listening(PACKAGED_PORT)
    if busy:
        tap.bail_out("port %d is in use: cannot start the packaged configuration" % PACKAGED_PORT)
    notify = Notify(os.path.join(work, "notify.sock"))
    log_path = os.path.join(work, "milter.log")
    logf = open(log_path, "ab")
    # What systemd does for User=/Group=: those ids, no supplementary groups
    # but the user's, the unit's command line, standard input from /dev/null.
    cmd = ["setpriv", "--reuid", user, "--regid", group, "--init-groups",
           "--inh-caps=-all", "--"] + argv
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": notify.path}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT, env=env, cwd="/")
    smtp_port = mta.free_port()
    pf = mta.PrivatePostfix(os.path.join(work, "postfix"), smtp_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % PACKAGED_PORT,
        "milter_default_action": "reject",
    })
    try:
        tap.ok(notify.wait("READY=1"), "the daemon told $NOTIFY_SOCKET READY=1",
               diag=notify.got + [mta.read_log(log_path)])
        uid = pwd.getpwnam(user).pw_uid
        status = open("/proc/%d/status" % proc.pid).read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        tap.ok(all(int(u) == uid for u in uids), "it runs as %s (uid %d) only" % (user, uid),
               diag=uids)
        socks = listening(PACKAGED_PORT)
        tap.ok(socks and all(is_loopback(f, a) for f, a in socks),
               "the packaged configuration listens on loopback only (port %d)"
               % PACKAGED_PORT, diag=socks)
        pf.start()
        c = mta.SmtpClient("127.0.0.1", smtp_port)
        c.connect()
        c.cmd("EHLO client.test.invalid")
        c.cmd("MAIL FROM:<a@client.test.invalid>")
        c.cmd("RCPT TO:<b@localhost>")
        r = c.data(mta.message(subject="through the packaged milter", rcpt="b@localhost"))
        c.quit()
        tap.ok(r and r[-1].startswith("250"), "mail through Postfix and the milter "
               "(milter_default_action = reject) is accepted", diag=r)
        off = mta.log_size(log_path)
        proc.send_signal(signal.SIGUSR1)
        tap.ok(mta.wait_for_line(log_path, r"counters: sessions=[1-9][0-9]* messages=1 ", 10, off),
               "the milter counted the session and the message",
               diag=mta.read_log(log_path))
        notify.clear()
        proc.send_signal(signal.SIGHUP)
        tap.ok(notify.wait("RELOADING=1") and notify.wait("READY=1"),
               "SIGHUP: RELOADING=1 then READY=1", diag=notify.got)
        tap.ok(mta.wait_for_line(log_path, r"reloaded: configuration /etc/smtpreply/smtpreply.conf, 0 rules", 10),
               "reload of the packaged configuration (no rules)", diag=mta.read_log(log_path))
        notify.clear()
        proc.send_signal(signal.SIGTERM)
        tap.ok(notify.wait("STOPPING=1"), "SIGTERM: STOPPING=1", diag=notify.got)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        tap.is_(rc, 0, "the daemon stopped with status 0")
        tap.ok(not listening(PACKAGED_PORT), "nothing listens on port %d any more"
               % PACKAGED_PORT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        pf.stop()
        log = pf.maillog()
    tap.ok(not re.search(r"warning: .*milter", log), "Postfix logged no milter warning",
           diag=[l for l in log.splitlines() if "milter" in l])
    if tap.failed:
        tap.diag("milter log:\n" + mta.read_log(log_path))
        tap.diag("postfix log:\n" + log)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
