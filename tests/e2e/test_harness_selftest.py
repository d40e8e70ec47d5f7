#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Self-test of tests/e2e/mta.py: a private Postfix, the raw SMTP client and TAP.

Runs as root with Debian's postfix package installed (otherwise: skipped, or
failed under CI=true). Prints TAP. Uses loopback ports only (12500-12599 by
default; SR_E2E_PORTS=LOW-HIGH to change) and a temporary directory that is
removed at the end (kept with SR_E2E_KEEP=1).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def port_range():
    lo, hi = os.environ.get("SR_E2E_PORTS", "12500-12599").split("-")
    return int(lo), int(hi) + 1


def expect_250(tap, c, line, what):
    r = c.cmd(line)
    tap.ok(r and r[-1].startswith("250"), "%s answered 250" % what, diag=r)
    return r


def test_plain_session(tap, pf):
    """EHLO/MAIL/RCPT/DATA/QUIT without milter; the queue id is in the log."""
    c = mta.SmtpClient("127.0.0.1", pf.port)
    g = c.connect()
    tap.ok(len(g) == 1 and g[0].startswith("220 "), "greeting 220", diag=g)
    r = expect_250(tap, c, "EHLO client.test.invalid", "EHLO")
    tap.ok(len(r) > 1 and all(l.startswith("250-") for l in r[:-1]),
           "EHLO reply is multi-line with 250- continuations", diag=r)
    expect_250(tap, c, "MAIL FROM:<sender@client.test.invalid>", "MAIL")
    expect_250(tap, c, "RCPT TO:<rcpt@example.test>", "RCPT")
    r = c.data(mta.message(subject="selftest", body="line 1\n.leading dot\n..two dots\n"))
    m = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$", r[-1] if r else "")
    tap.ok(m is not None, "DATA answered 250 with a queue id", diag=r)
    r = c.quit()
    tap.is_(r, ["221 2.0.0 Bye"], "QUIT answered 221")
    if m:
        qid = m.group(1)
        hit = pf.wait_log(r"\b%s: removed\b" % qid, timeout=10)
        tap.ok(hit is not None, "queue id %s in the maillog (message discarded and removed)" % qid,
               diag=pf.maillog().splitlines()[-10:])
        hit = pf.wait_log(r"\b%s: to=<rcpt@example\.test>, relay=none.*status=sent" % qid, timeout=5)
        tap.ok(hit is not None, "delivered to the discard transport, nothing sent out",
               diag=pf.maillog().splitlines()[-10:])
    else:
        tap.skip("queue id in the maillog", "no queue id", count=2)


def test_server_close(tap, pf):
    """The client returns what it got when the server closes the connection."""
    c = mta.SmtpClient("127.0.0.1", pf.port)
    c.connect()
    r = c.cmd("QUIT")
    tap.is_(r, ["221 2.0.0 Bye"], "QUIT")
    r = c.cmd("NOOP")
    tap.ok(r == [] and c.closed, "a command after the server closed returns [] and sets closed",
           diag=r)
    c.close()


def test_access_map(tap, pf):
    """check_recipient_access with texthash: (no postmap) and hash: (postmap)."""
    c = mta.SmtpClient("127.0.0.1", pf.port)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    expect_250(tap, c, "MAIL FROM:<sender@client.test.invalid>", "MAIL (access map)")
    r = c.cmd("RCPT TO:<unknown@example.test>")
    tap.is_(r, ["550 5.1.1 <unknown@example.test>: Recipient address rejected: User unknown here"],
            "texthash: access map rejects with the exact line")
    r = c.cmd("RCPT TO:<gone@example.test>")
    tap.is_(r, ["550 5.1.1 <gone@example.test>: Recipient address rejected: User gone"],
            "hash: access map (compiled by postmap) rejects with the exact line")
    expect_250(tap, c, "RCPT TO:<rcpt@example.test>", "other recipient accepted")
    c.quit()
    tap.ok(pf.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.1 "
                       r"<unknown@example\.test>: Recipient address rejected: User unknown here")
           is not None, "the reject is in the maillog")


def test_milter_unreachable(tap, pf, closed_port):
    """smtpd_milters on a closed port with milter_default_action = tempfail."""
    left = pf.reload({"smtpd_milters": "inet:127.0.0.1:%d" % closed_port,
                      "milter_default_action": "tempfail"})
    tap.is_(left, [], "reload (SIGHUP): every old process exited")
    c = mta.SmtpClient("127.0.0.1", pf.port)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    r = c.cmd("MAIL FROM:<sender@client.test.invalid>")
    tap.is_(r, ["451 4.7.1 Service unavailable - try again later"],
            "milter unreachable, tempfail: MAIL answered 451 4.7.1")
    c.quit()
    tap.ok(pf.wait_log(r"warning: connect to Milter service inet:127\.0\.0\.1:%d: Connection refused"
                       % closed_port) is not None, "the milter connect failure is in the maillog")
    tap.ok(pf.wait_log(r"milter-reject: MAIL from .*: 451 4\.7\.1 ") is not None,
           "milter-reject line in the maillog")
    pf.reload({"smtpd_milters": "", "milter_default_action": "tempfail"})
    c = mta.SmtpClient("127.0.0.1", pf.port)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    r = c.cmd("MAIL FROM:<sender@client.test.invalid>")
    tap.is_(r, ["250 2.1.0 Ok"], "after reload without milter, MAIL is accepted again")
    c.quit()


def test_tap_helpers(tap):
    """Tap: an exception is a "not ok" with the traceback, and the plan follows;
    need_root_and_postfix skips, or fails under CI=true."""
    prog = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        import mta
        tap = mta.Tap()
        tap.ok(True, "first")
        def boom():
            raise ValueError("boom")
        tap.run(boom)
        tap.skip("skipped", "why not")
        sys.exit(tap.done())
    """ % HERE)
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=30)
    out = r.stdout.splitlines()
    tap.ok(r.returncode == 1 and out[:2] == ["ok 1 - first", "not ok 2 - boom raised ValueError"]
           and any(l.startswith("# ") and "ValueError: boom" in l for l in out)
           and out[-2:] == ["ok 3 - skipped # SKIP why not", "1..3"],
           "Tap.run reports an exception as not ok with the traceback, then the plan",
           diag=[r.stdout, r.stderr, "status %d" % r.returncode])
    prog = "import sys; sys.path.insert(0, %r); import mta; " \
           "mta.POSTFIX_MASTER = '/nonexistent/master'; mta.need_root_and_postfix(); " \
           "print('not reached')" % HERE
    env = dict(os.environ)
    env.pop("CI", None)
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                       timeout=30, env=env)
    tap.ok(r.returncode == 0 and r.stdout.startswith("1..0 # SKIP /nonexistent/master not found"),
           "need_root_and_postfix: skip outside CI", diag=[r.stdout, r.stderr])
    env["CI"] = "true"
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                       timeout=30, env=env)
    tap.ok(r.returncode == 1 and r.stdout.splitlines()[:2] ==
           ["1..1", "not ok 1 - end-to-end tests cannot run: /nonexistent/master not found "
            "(Debian package: postfix)"],
           "need_root_and_postfix: failure under CI=true", diag=[r.stdout, r.stderr])


def main():
    mta.need_root_and_postfix()
    tap = mta.Tap()
    lo, hi = port_range()
    base = tempfile.mkdtemp(prefix="smtpreply-e2e-")
    os.chmod(base, 0o755)
    pf = None
    try:
        tap.run(test_tap_helpers, tap)
        port = mta.free_port(lo, hi)
        tap.ok(lo <= port < hi, "free_port picked %d in %d..%d" % (port, lo, hi - 1))
        pf = mta.PrivatePostfix(
            os.path.join(base, "pf"), port,
            params={"smtpd_recipient_restrictions":
                    "check_recipient_access texthash:{conf_dir}/rcpt_access, "
                    "check_recipient_access hash:{conf_dir}/rcpt_access_db, "
                    "permit_mynetworks, reject_unauth_destination"},
            maps={"rcpt_access": "unknown@example.test 550 5.1.1 User unknown here\n",
                  "rcpt_access_db": "gone@example.test 550 5.1.1 User gone\n"})
        started = tap.run(pf.start, description="start a private Postfix")
        tap.ok(started is not None and pf.pid is not None,
               "private Postfix on 127.0.0.1:%d (master pid %s)" % (port, pf.pid))
        if started is None:
            tap.bail_out("Postfix did not start")
        # master starts its services a moment after it listens: give them 5 s
        deadline = time.monotonic() + 5
        while True:
            names = sorted(set(cmd.split()[0].rsplit("/", 1)[-1]
                               for _, cmd in pf.processes()))
            if ("master" in names and "postlogd" in names) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        tap.ok("master" in names and "postlogd" in names,
               "its processes are found by MAIL_CONFIG in /proc/PID/environ", diag=names)
        tap.ok(os.path.exists(os.path.join(pf.conf_dir, "rcpt_access_db.db")),
               "hash: map compiled by postmap")
        tap.run(test_plain_session, tap, pf)
        tap.run(test_server_close, tap, pf)
        tap.run(test_access_map, tap, pf)
        closed = mta.free_port(lo, hi)
        tap.run(test_milter_unreachable, tap, pf, closed)
        conf_dir = pf.conf_dir
        stragglers = pf.stop()
        tap.is_(stragglers, [], "stop(): master exited on SIGTERM, no child had to be killed")
        left = mta.leftover_postfix_processes(conf_dir)
        tap.is_(left, [], "no process of the instance is left")
        tap.ok(not mta.port_open("127.0.0.1", port), "port %d is closed again" % port)
        with mta.PrivatePostfix(os.path.join(base, "pf2"), mta.free_port(lo, hi)) as pf2:
            c = mta.SmtpClient("127.0.0.1", pf2.port)
            tap.ok(c.connect()[0].startswith("220 "), "context manager: started")
            c.quit()
            conf2 = pf2.conf_dir
        tap.is_(mta.leftover_postfix_processes(conf2), [], "context manager: stopped, nothing left")
    except mta.Bailout:
        pass
    finally:
        if pf is not None:
            pf.stop()
        if os.environ.get("SR_E2E_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
        else:
            tap.diag("kept %s" % base)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
