#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_proxy_opendkim.py - a real third-party milter behind smtpreply-milter.

Debian's OpenDKIM signs behind the proxy: a key made in the test with
opendkim-genkey, OpenDKIM in signing mode on a loopback port (its own
configuration, pid file and key in a temporary directory, foreground, stopped
by PID), smtpreply-milter in front of it with "milters = ( ... )", a private
Postfix in front of that. The message Postfix queued (held by a header check,
read back with postcat) must carry a DKIM-Signature that OpenDKIM in verify
mode accepts (opendkim -t, the public key given with TestPublicKeys: no DNS);
the same message with its body changed must fail. Needs root, postfix,
opendkim and opendkim-tools; under CI=true a missing one is a failure.
Prints TAP.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402
from test_proxy import postcat, queue_id  # noqa: E402

OPENDKIM = "/usr/sbin/opendkim"
GENKEY = "/usr/sbin/opendkim-genkey"


def public_key_line(txt):
    """The TestPublicKeys line for opendkim-genkey's zone file: the TXT
    strings joined (without h=, so that any hash is accepted)."""
    value = "".join(re.findall(r'"([^"]*)"', txt)).replace("h=sha256; ", "")
    return "sel._domainkey.example.test %s\n" % value


def verify(keydir, text):
    """opendkim -t on TEXT (CRLF); returns its output."""
    path = os.path.join(keydir, "verify-%d.eml" % time.monotonic_ns())
    with open(path, "w", newline="") as f:
        f.write(text)
    r = subprocess.run([OPENDKIM, "-x", os.path.join(keydir, "verify.conf"), "-t", path],
                       capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def queued_message(pf, qid):
    """Headers and body of queued message QID as they would leave, CRLF."""
    r = subprocess.run(["/usr/sbin/postcat", "-c", pf.conf_dir, "-h", "-b", "-q", qid],
                       capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if not l.startswith("*** ")]
    return "\r\n".join(lines) + "\r\n"


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    for prog, pkg in ((OPENDKIM, "opendkim"), (GENKEY, "opendkim-tools")):
        if not os.access(prog, os.X_OK):
            mta.cannot_run("%s missing (Debian package: %s)" % (prog, pkg))
    if not os.access(mta.MILTER, os.X_OK):
        mta.cannot_run("smtpreply-milter not built: %s" % mta.MILTER)
    base = tempfile.mkdtemp(prefix="smtpreply-dkim-")
    os.chmod(base, 0o755)
    # OpenDKIM refuses a key under a directory others may write (/tmp), and
    # the build tree may well be under /tmp (CI's clone can be): the key lives
    # in a private directory (0700) of the build tree, removed at the end, and
    # RequireSafeKeys is off for this test key.
    keydir = tempfile.mkdtemp(prefix="dkim-keys-", dir=os.environ.get("top_builddir")
                              or os.getcwd())
    os.chmod(keydir, 0o700)
    r = subprocess.run([GENKEY, "-D", keydir, "-d", "example.test", "-s", "sel"],
                       capture_output=True, text=True)
    tap.ok(r.returncode == 0 and os.path.exists(os.path.join(keydir, "sel.private")),
           "opendkim-genkey made a key", diag=r.stderr)
    with open(os.path.join(keydir, "sel.txt")) as f:
        keys = public_key_line(f.read())
    with open(os.path.join(keydir, "keys.txt"), "w") as f:
        f.write(keys)
    dkim_port, smtp_port, milter_port = mta.free_port(), mta.free_port(), mta.free_port()
    with open(os.path.join(keydir, "sign.conf"), "w") as f:
        f.write("Mode s\nDomain example.test\nSelector sel\nKeyFile %s\n"
                "Socket inet:%d@127.0.0.1\nPidFile %s\nSyslog no\n"
                "InternalHosts 127.0.0.1\nCanonicalization relaxed/simple\n"
                "UMask 022\nRequireSafeKeys false\n" % (os.path.join(keydir, "sel.private"), dkim_port,
                                 os.path.join(keydir, "opendkim.pid")))
    with open(os.path.join(keydir, "verify.conf"), "w") as f:
        f.write("Mode v\nTestPublicKeys %s\nSyslog no\n" % os.path.join(keydir, "keys.txt"))
    dkim_log = open(os.path.join(base, "opendkim.log"), "ab")
    dkim = subprocess.Popen([OPENDKIM, "-f", "-x", os.path.join(keydir, "sign.conf")],
                            stdin=subprocess.DEVNULL, stdout=dkim_log, stderr=subprocess.STDOUT)
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), smtp_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
        "milter_default_action": "tempfail",
        "header_checks": "regexp:{conf_dir}/hold",
    }, maps={"hold": "/^X-Hold-Me:/ HOLD\n"})
    milter = mta.Milter(base, "inet:%d@127.0.0.1" % milter_port,
                    'milters = ( { name = "opendkim"; socket = "inet:%d@127.0.0.1"; } );\n'
                    % dkim_port)
    try:
        deadline = time.monotonic() + 10
        while not mta.port_open("127.0.0.1", dkim_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        tap.ok(mta.port_open("127.0.0.1", dkim_port), "OpenDKIM listens")
        milter.start()
        pf.start()
        c = mta.SmtpClient("127.0.0.1", smtp_port, timeout=20)
        c.connect()
        c.cmd("EHLO client.example.test")
        c.cmd("MAIL FROM:<alice@example.test>")
        c.cmd("RCPT TO:<bob@example.test>")
        r = c.data(mta.message(subject="signed behind the proxy", sender="alice@example.test",
                               rcpt="bob@example.test", headers=["X-Hold-Me: yes"],
                               body="Hello from behind the proxy.\n"))
        c.quit()
        qid = queue_id(r)
        tap.ok(qid is not None, "the message was queued", diag=r)
        if qid is not None:
            tap.ok(pf.wait_log(qid + r": hold: header X-Hold-Me"), "held for inspection")
            time.sleep(0.5)
            msg = queued_message(pf, qid)
            tap.ok(msg.startswith("DKIM-Signature:") or "\r\nDKIM-Signature:" in msg,
                   "the queued message carries a DKIM-Signature",
                   diag=postcat(pf, qid))
            out = verify(keydir, msg)
            tap.ok(re.search(r"verification \(s=sel,? d=example\.test.*\) succeeded", out),
                   "OpenDKIM in verify mode: the signature verifies", diag=out + msg)
            out = verify(keydir, msg.replace("Hello from behind", "Hello from outside"))
            tap.ok("failed" in out and "succeeded" not in out,
                   "... and a changed body fails (the check can fail)", diag=out)
        tap.ok(milter.wait_log(r"serving as"), "the proxy ran")
        log = pf.maillog()
        tap.ok("malformed" not in log and "4.3.5" not in log,
               "Postfix logged no milter trouble")
    finally:
        milter.stop()
        pf.stop()
        mta.stop_process(dkim, 10)
        dkim_log.close()
        shutil.rmtree(keydir, ignore_errors=True)
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("opendkim log:\n" + mta.read_log(os.path.join(base, "opendkim.log")))
        tap.diag("postfix log:\n" + pf.maillog())
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
