#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_proxy_rspamd.py - Debian's rspamd (3.4, milter mode) behind smtpreply-milter.

A private rspamd, offline: Debian's /etc/rspamd/rspamd.conf with LOCAL_CONFDIR,
DBDIR, RUNDIR and LOGDIR in a temporary directory; its proxy worker speaks the
milter protocol on a loopback port (self_scan: it scans in-process), its
normal and controller workers are disabled (their fixed ports 11333/11334 are
never bound), DNS goes to 127.0.0.1:1 (every lookup fails at once). It runs
in the foreground in a session of its own and is stopped by PID; no process
of its group may be left. rspamd needs some 10-20 s to start (it compiles
the public suffix list and its regular expressions): the test waits up to 60 s.

Postfix (private) names smtpreply-milter alone; smtpreply-milter has one child,
"rspamd". A second smtpd of the same Postfix names rspamd directly, for the
comparison. rspamd negotiates SMFIP_NR_* for every step (it answers nothing
before the end of the message), so the proxy's no-reply steps carry the
whole session. What is checked:

1. GTUBE: rspamd rejects at the end of the message with "554 5.7.1 Gtube
   pattern"; the client sees exactly that through the proxy, the milter logs
   the child's verdict, nothing is queued.
2. A clean message is accepted and queued (held by a header check, read back
   with postcat) with the headers rspamd's milter_headers module added
   (X-Spamd-Result, X-Rspamd-Server) and the DKIM-Signature its dkim_signing
   module inserted (a key made with rspamadm dkim_keygen at its default
   path, DBDIR/dkim/example.test.dkim.key); OpenDKIM in verify mode
   (opendkim -t, the public key given with TestPublicKeys: no DNS) accepts
   the signature, and fails the same message with its body changed: rspamd's
   modifications pass through, and the message reached rspamd unchanged.
3. A soft reject (a multimap rule with action "soft reject" and its own
   message): the client sees rspamd's "451 4.7.1 TEXT" at the end of the message.
4. A reply that needs normalizing: rspamd writes its replies as "554 5.7.1
   TEXT" (reject) or "451 4.7.1 TEXT" (soft reject) with fixed codes
   (src/libserver/milter.c, rspamd_milter_set_reply), so only the text can be
   wrong. A multimap rule (action "reject" with its own "message", a
   documented option of rspamd's multimap module) rejects one sender with a
   text that has a "%": rspamd sends the "%" raw, Postfix takes it for a
   format character and drops it when rspamd is named directly; through the
   proxy the client gets the text whole.

Needs root, postfix, rspamd and opendkim; under CI=true a missing one is a
failure.
Prints TAP.
"""

import atexit
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402
from test_proxy import postcat, queue_id  # noqa: E402
from test_proxy_opendkim import queued_message, verify  # noqa: E402

RSPAMD = "/usr/bin/rspamd"
RSPAMADM = "/usr/bin/rspamadm"
OPENDKIM = "/usr/sbin/opendkim"
RSPAMD_CONF = "/etc/rspamd/rspamd.conf"
RSPAMD_USER = "_rspamd"
POSTQUEUE = "/usr/sbin/postqueue"
# rspamd's start on a loaded 2-core machine: 10-20 s (compiling the TLD list).
START_DEADLINE = 60.0

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
PERCENT_SENDER = "percent@example.test"
PERCENT_TEXT = "Rejected: 100% sure this is spam"
SOFT_SENDER = "soft@example.test"
SOFT_TEXT = "Greylisted, come back in 5 minutes"


class Rspamd:
    """A private rspamd with only its proxy worker (milter mode) on PORT."""

    def __init__(self, base, port):
        self.dir = os.path.join(base, "rspamd")
        self.port = port
        self.log_file = os.path.join(self.dir, "log", "rspamd.log")
        self.out_file = os.path.join(self.dir, "rspamd.out")
        self.proc = None
        self.pgid = None
        self.started_in = None
        self._write_config()

    def _write_config(self):
        local_d = os.path.join(self.dir, "local", "local.d")
        os.makedirs(local_d)
        pw = pwd.getpwnam(RSPAMD_USER)
        for sub in ("db", "run", "log"):
            path = os.path.join(self.dir, sub)
            os.mkdir(path)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        percent_map = os.path.join(self.dir, "local", "percent.map")
        soft_map = os.path.join(self.dir, "local", "soft.map")
        files = {
            # Only the proxy worker, on our port; it scans in-process.
            "worker-proxy.inc": 'bind_socket = "127.0.0.1:%d";\nmilter = yes;\n'
                                'timeout = 120s;\nupstream "local" { default = yes; '
                                'self_scan = yes; }\ncount = 1;\n' % self.port,
            "worker-normal.inc": "enabled = false;\n",
            "worker-controller.inc": "enabled = false;\n",
            # No network: every DNS lookup fails at once.
            "options.inc": 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; '
                           'retransmits = 1; }\n',
            "logging.inc": 'type = "file";\nfilename = "%s";\nlevel = "info";\n'
                           % self.log_file,
            # Headers on every message, the client (127.0.0.1) being local.
            "milter_headers.conf": 'use = ["x-spamd-result", "x-rspamd-server"];\n'
                                   'skip_local = false;\nskip_authenticated = false;\n',
            "multimap.conf": 'SMTPREPLY_PERCENT {\n  type = "from";\n  filter = "email:addr";\n'
                             '  map = "%s";\n  prefilter = true;\n  action = "reject";\n'
                             '  message = "%s";\n}\n' % (percent_map, PERCENT_TEXT)
                             + 'SMTPREPLY_SOFT {\n  type = "from";\n  filter = "email:addr";\n'
                             '  map = "%s";\n  prefilter = true;\n  action = "soft reject";\n'
                             '  message = "%s";\n}\n' % (soft_map, SOFT_TEXT),
        }
        for name, text in files.items():
            with open(os.path.join(local_d, name), "w") as f:
                f.write(text)
        for path, sender in ((percent_map, PERCENT_SENDER), (soft_map, SOFT_SENDER)):
            with open(path, "w") as f:
                f.write(sender + "\n")
        for root, dirs, names in os.walk(os.path.join(self.dir, "local")):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
            for n in names:
                os.chmod(os.path.join(root, n), 0o644)
        os.chmod(self.dir, 0o755)
        self._make_dkim_key(pw)

    def _make_dkim_key(self, pw):
        """rspamd's dkim_signing module signs mail from local networks with
        DBDIR/dkim/$domain.$selector.key (selector "dkim") by default: a key
        made here with rspamadm, and the public half for opendkim -t
        (verify.conf and keys.txt in the rspamd directory, no DNS)."""
        keydir = os.path.join(self.dir, "db", "dkim")
        os.mkdir(keydir, 0o700)
        key = os.path.join(keydir, "example.test.dkim.key")
        r = subprocess.run([RSPAMADM, "dkim_keygen", "-d", "example.test", "-s", "dkim",
                            "-k", key], capture_output=True, text=True, timeout=60)
        self.dkim_record = "".join(re.findall(r'"([^"]*)"', r.stdout))
        for path in (keydir, key):
            if os.path.exists(path):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.dir, "keys.txt"), "w") as f:
            f.write("dkim._domainkey.example.test %s\n" % self.dkim_record)
        with open(os.path.join(self.dir, "verify.conf"), "w") as f:
            f.write("Mode v\nTestPublicKeys %s\nSyslog no\n" % os.path.join(self.dir, "keys.txt"))

    def start(self):
        """Start rspamd; True once its proxy worker listens (within START_DEADLINE)."""
        var = []
        for name, sub in (("LOCAL_CONFDIR", "local"), ("DBDIR", "db"), ("RUNDIR", "run"),
                          ("LOGDIR", "log")):
            var += ["--var", "%s=%s" % (name, os.path.join(self.dir, sub))]
        self.out = open(self.out_file, "ab")
        t0 = time.monotonic()
        # A session of its own: its workers are found by process group.
        atexit.register(self.stop)     # the test dies: rspamd does not stay
        self.proc = subprocess.Popen(
            [RSPAMD, "-f", "-u", RSPAMD_USER, "-g", RSPAMD_USER, "-c", RSPAMD_CONF] + var,
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.pgid = self.proc.pid
        deadline = t0 + START_DEADLINE
        while time.monotonic() < deadline and self.proc.poll() is None:
            if mta.port_open("127.0.0.1", self.port):
                self.started_in = time.monotonic() - t0
                return True
            time.sleep(0.1)
        return False

    def group(self):
        """[(pid, command line)] of the live processes of rspamd's group."""
        if self.pgid is None:
            return []
        return [(pid, " ".join(mta._proc_cmdline(pid))) for pid in mta._pids()
                if mta._pgid(pid) == self.pgid and mta._alive(pid)]

    def stop(self, timeout=20.0):
        """SIGTERM to the main process (it stops its workers), SIGKILL to the
        group after timeout seconds. Returns the processes that were left
        after the main process exited and had to be killed."""
        if self.proc is None:
            return []
        mta.stop_process(self.proc, timeout)
        deadline = time.monotonic() + 5
        left = self.group()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self.group()
        if left:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except OSError:
                pass
        self.proc = None
        self.out.close()
        return left

    def log(self):
        return mta.read_log(self.log_file)

    def wait_log(self, regex, timeout=20.0):
        return mta.wait_for_line(self.log_file, regex, timeout)


# libmilter's SMFIP_NR_* bits: the steps a milter does not answer.
NO_REPLY_STEPS = {"connect": 0x1000, "helo": 0x2000, "mail": 0x4000, "rcpt": 0x8000,
                  "data": 0x10000, "unknown": 0x20000, "eoh": 0x40000, "body": 0x80000,
                  "header": 0x80}


def negotiate(port):
    """What rspamd answers to an MTA's SMFIC_OPTNEG (version 6, every action
    and protocol bit offered): (version, actions, protocol), or None."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack("!IcIII", 13, b"O", 6, 0x1ff, 0x1fffff))
        buf = b""
        while len(buf) < 17:
            chunk = s.recv(17 - len(buf))
            if not chunk:
                return None
            buf += chunk
        s.sendall(struct.pack("!Ic", 1, b"Q"))
    size, cmd, ver, actions, protocol = struct.unpack("!IcIII", buf)
    return (ver, actions, protocol) if cmd == b"O" and size == 13 else None


def no_reply_steps(tap, rspamd):
    neg = negotiate(rspamd.port)
    tap.diag("rspamd negotiates: %s" % (neg and "version %d, actions 0x%x, protocol 0x%08x" % neg))
    missing = [k for k, bit in NO_REPLY_STEPS.items() if not neg or not neg[2] & bit]
    tap.ok(neg is not None and not missing,
           "rspamd answers no step before the end of the message (SMFIP_NR_* for every step: "
           "the proxy's no-reply steps carry the session)", diag="missing: %r" % missing)


def send(port, sender, subject, body, headers=None):
    """One message from SENDER to bob@example.test; the reply after the dot."""
    c = mta.SmtpClient("127.0.0.1", port, timeout=60)
    c.connect()
    c.cmd("EHLO client.example.test")
    c.cmd("MAIL FROM:<%s>" % sender)
    c.cmd("RCPT TO:<bob@example.test>")
    r = c.data(mta.message(subject=subject, sender=sender, rcpt="bob@example.test",
                           headers=headers, body=body))
    c.quit()
    return r


def queued_senders(pf):
    """The senders of the messages in Postfix's queue (postqueue -j)."""
    r = subprocess.run([POSTQUEUE, "-c", pf.conf_dir, "-j"], capture_output=True, text=True,
                       timeout=30)
    return [json.loads(l).get("sender") for l in r.stdout.splitlines() if l.strip()]


def gtube(tap, pf, milter, rspamd, port):
    r = send(port, "gtube@example.test", "GTUBE behind the proxy",
             "This is the GTUBE, the\n%s\nGeneric Test for Unsolicited Bulk Email\n" % GTUBE)
    tap.is_(r, ["554 5.7.1 Gtube pattern"], "GTUBE: the client sees rspamd's reject")
    m = milter.wait_log(r'\]: (\w+): child=rspamd step=eom verdict=reject reply="554 5\.7\.1 '
                        r'Gtube pattern"$')
    tap.ok(m, "GTUBE: the milter logged rspamd's verdict at the end of the message")
    tap.ok(m and rspamd.wait_log(r"qid: <%s>, .*\(default: \w \(reject\).*\[GTUBE\(" % m.group(1)),
           "GTUBE: rspamd logged its reject of that message (symbol GTUBE)")
    tap.ok(pf.wait_log(r"milter-reject: END-OF-MESSAGE .*: 5\.7\.1 Gtube pattern; "
                       r"from=<gtube@example\.test>"),
           "GTUBE: Postfix logged the reject at the end of the message")


def clean(tap, pf, milter, rspamd, port):
    r = send(port, "alice@example.test", "clean behind the proxy",
             "Hello Bob,\n\nlunch on Friday at noon?\n\nAlice\n", headers=["X-Hold-Me: yes"])
    qid = queue_id(r)
    tap.ok(qid is not None and r[0].startswith("250"), "clean: accepted and queued", diag=r)
    tap.ok(milter.wait_log(r"child=rspamd step=eom verdict=accept"),
           "clean: the milter logged rspamd's accept")
    if qid is None:
        return
    tap.ok(pf.wait_log(qid + r": hold: header X-Hold-Me"), "clean: held for inspection")
    out = postcat(pf, qid)
    headers = out.split("*** MESSAGE CONTENTS", 1)[-1].split("\n\n", 1)[0]
    tap.ok(re.search(r"^X-Spamd-Result: default: False \[", headers, re.M),
           "clean: the queued message carries rspamd's X-Spamd-Result", diag=out)
    tap.ok(re.search(r"^X-Rspamd-Server: \S+", headers, re.M),
           "clean: ... and X-Rspamd-Server", diag=out)
    # rspamd's DKIM signature comes as SMFIR_INSHEADER (index 1): it must
    # verify on what Postfix queued, so the proxy passed the message to
    # rspamd and rspamd's header to Postfix unchanged.
    msg = queued_message(pf, qid)
    tap.ok(re.search(r"^DKIM-Signature: v=1; a=rsa-sha256;[^\n]* d=example\.test;\s+s=dkim;",
                     headers, re.M),
           "clean: the queued message carries rspamd's DKIM-Signature", diag=out)
    res = verify(rspamd.dir, msg)
    tap.ok(re.search(r"verification \(s=dkim,? d=example\.test.*\) succeeded", res),
           "clean: OpenDKIM (verify mode, offline) accepts rspamd's signature", diag=res + msg)
    res = verify(rspamd.dir, msg.replace("lunch on Friday", "lunch on Monday"))
    tap.ok("failed" in res and "succeeded" not in res,
           "clean: ... and a changed body fails (the check can fail)", diag=res)


def percent(tap, pf, milter, rspamd, port, direct_port):
    want = "554 5.7.1 " + PERCENT_TEXT
    r = send(direct_port, PERCENT_SENDER, "a percent, rspamd named in Postfix", "Hello.\n")
    tap.diag("rspamd named in Postfix: %r" % r)
    tap.ok(len(r) == 1 and r[0].startswith("554 5.7.1 ") and "%" not in r[0]
           and r[0] != want,
           "rspamd named in Postfix: the client gets the text without its '%'", diag=r)
    r = send(port, PERCENT_SENDER, "a percent behind the proxy", "Hello.\n")
    tap.is_(r, [want], "through the proxy: the client gets rspamd's text whole")
    m = milter.wait_log(r'\]: (\w+): child=rspamd step=eom verdict=reject reply="554 5\.7\.1 '
                        r'Rejected: 100% sure this is spam"$')
    tap.ok(m, "the milter logged rspamd's reply as it was sent")
    tap.ok(m and rspamd.wait_log(r"qid: <%s>, .*SMTPREPLY_PERCENT.*forced: reject "
                                 r"\"Rejected: 100%% sure this is spam\"" % m.group(1)),
           "rspamd logged the multimap rule that rejected that message")


def soft_reject(tap, milter, port):
    r = send(port, SOFT_SENDER, "a soft reject behind the proxy", "Hello.\n")
    tap.is_(r, ["451 4.7.1 " + SOFT_TEXT], "soft reject: the client sees rspamd's 451 4.7.1")
    tap.ok(milter.wait_log(r'child=rspamd step=eom verdict=tempfail reply="451 4\.7\.1 %s"$'
                           % re.escape(SOFT_TEXT)),
           "soft reject: the milter logged rspamd's tempfail")


def main():
    t_start = time.monotonic()
    tap = mta.Tap()
    mta.need_root_and_postfix()
    mta.need_milter()
    if not all(os.access(p, os.X_OK) for p in (RSPAMD, RSPAMADM)) \
            or not os.path.exists(RSPAMD_CONF):
        mta.cannot_run("%s, %s or %s missing (Debian package: rspamd)"
                       % (RSPAMD, RSPAMADM, RSPAMD_CONF))
    if not os.access(OPENDKIM, os.X_OK):
        mta.cannot_run("%s missing (Debian package: opendkim): it verifies rspamd's "
                       "DKIM signature" % OPENDKIM)
    try:
        pwd.getpwnam(RSPAMD_USER)
    except KeyError:
        mta.cannot_run("user %s missing (Debian package: rspamd)" % RSPAMD_USER)
    base = tempfile.mkdtemp(prefix="smtpreply-rspamd-")
    os.chmod(base, 0o755)
    smtp_port, direct_port, milter_port = mta.free_port(), mta.free_port(), mta.free_port()
    rspamd = Rspamd(base, mta.free_port())
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), smtp_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
        "milter_default_action": "tempfail",
        "header_checks": "regexp:{conf_dir}/hold",
    }, maps={"hold": "/^X-Hold-Me:/ HOLD\n"}, master_extra=[
        "127.0.0.1:%d inet n - n - - smtpd -o syslog_name=postfix/direct "
        "-o smtpd_milters=inet:127.0.0.1:%d" % (direct_port, rspamd.port)])
    milter = mta.Milter(base, "inet:%d@127.0.0.1" % milter_port,
                        'milters = ( { name = "rspamd"; socket = "inet:%d@127.0.0.1";\n'
                        '  timeouts = { connect = "5s"; command = "30s"; eom = "2m"; };\n'
                        '  on_error = "tempfail"; } );\n' % rspamd.port)
    left = []
    try:
        up = rspamd.start()
        tap.ok(up, "rspamd's proxy worker listens (milter mode)",
               diag=mta.read_log(rspamd.out_file) + rspamd.log()[-3000:])
        if up:
            tap.diag("rspamd listened after %.1f s" % rspamd.started_in)
            milter.start()
            pf.start()
            deadline = time.monotonic() + 10
            while not mta.port_open("127.0.0.1", direct_port) and time.monotonic() < deadline:
                time.sleep(0.1)
            tap.run(no_reply_steps, tap, rspamd)
            tap.run(gtube, tap, pf, milter, rspamd, smtp_port)
            tap.run(clean, tap, pf, milter, rspamd, smtp_port)
            tap.run(soft_reject, tap, milter, smtp_port)
            tap.run(percent, tap, pf, milter, rspamd, smtp_port, direct_port)
            # The clean message is held; nothing rspamd rejected was queued.
            senders = queued_senders(pf)
            tap.is_(senders, ["alice@example.test"],
                    "the queue holds the clean message only (postqueue -j)")
            log = pf.maillog()
            proxied = [l for l in log.splitlines() if "postfix/direct" not in l]
            tap.ok(not any("malformed" in l or "4.3.5" in l for l in proxied),
                   "behind the proxy Postfix logged no 'malformed' and no 4.3.5",
                   diag=[l for l in proxied if "malformed" in l or "4.3.5" in l])
    finally:
        milter.stop()
        pf.stop()
        main_pid = rspamd.proc.pid if rspamd.proc is not None else None
        left = rspamd.stop()
        # Its compiled regexps (some 45 MB) go whatever the outcome; logs stay on failure.
        shutil.rmtree(os.path.join(rspamd.dir, "db"), ignore_errors=True)
    tap.ok(main_pid is not None and not mta._alive(main_pid) and not left,
           "rspamd stopped by PID: its main process and its workers are gone",
           diag="left: %r" % left)
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("rspamd log (last 6000 characters):\n" + rspamd.log()[-6000:])
        tap.diag("rspamd output:\n" + mta.read_log(rspamd.out_file))
        tap.diag("postfix log:\n" + pf.maillog())
    else:
        shutil.rmtree(base, ignore_errors=True)
    tap.diag("the whole test took %.1f s" % (time.monotonic() - t_start))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
