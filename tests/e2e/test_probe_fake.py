#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_fake.py - "smtpreply probe" against a fake SMTP server on loopback
that answers with known bad replies (tests/e2e/fakesmtp.py): a class mismatch,
572, a multi-line reply without '-', a reply split across TCP segments, a
server that stalls, one that trickles a byte at a time, one that closes in the
middle of a reply, one that sends a 10 MB line. The probe must report each,
never wait past its timeouts and stay within bounded memory. Also: the
options, the exit statuses, --exec, and that no message is ever delivered
without --deliver-to.

Needs no root and no mail server: always runs. Environment: SMTPREPLY (the
program; default ../../_build/smtpreply). Prints TAP.
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
from fakesmtp import (FakeSmtp, close_after, endless_line, split,  # noqa: E402
                      stall_after, trickle)

SMTPREPLY = os.environ.get("SMTPREPLY") or os.path.join(HERE, "..", "..", "_build", "smtpreply")
TIMEOUT = 1.0       # --timeout of the runs that test timeouts (seconds)


class Run:
    def __init__(self, rc, out, err, elapsed, maxrss_kb):
        self.rc, self.out, self.err = rc, out, err
        self.elapsed, self.maxrss_kb = elapsed, maxrss_kb
        self.json = None
        if out.startswith("{"):
            try:
                self.json = json.loads(out)
            except ValueError:
                pass

    def probe(self, pid):
        for p in (self.json or {}).get("probes", []):
            if p["id"] == pid:
                return p
        return None

    def target(self, pid, n=0):
        p = self.probe(pid)
        if p is None:
            return None
        t = [e for e in p["exchanges"] if e["role"] == "target"]
        return t[n] if len(t) > n else None


def probe(args, port=None, timeout=60):
    """Run smtpreply probe with args (and 127.0.0.1:port); a Run with the exit
    status, output, the wall time and the peak resident memory (KiB)."""
    argv = [SMTPREPLY, "probe", "--delay", "0"] + list(args)
    if port is not None:
        argv.append("127.0.0.1:%d" % port)
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=timeout)
    return Run(p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
               time.monotonic() - start, None)


def probe_rss(args, port):
    """Like probe() but with the peak RSS of the child (os.wait4)."""
    argv = [SMTPREPLY, "probe", "--delay", "0"] + list(args) + ["127.0.0.1:%d" % port]
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return Run(p.returncode, out.decode("utf-8", "replace"), "", time.monotonic() - start,
               ru.ru_maxrss)


def diag_ids(ex):
    return [d["id"] for d in (ex or {}).get("diagnostics", [])]


def main():
    tap = mta.Tap()
    if not os.access(SMTPREPLY, os.X_OK):
        tap.bail_out("no program to test: SMTPREPLY=%s" % SMTPREPLY)
    common = ["--json", "--domain", "fake.test", "--helo", "client.test.invalid"]

    # --- a well-behaved fake: every probe clean, exit 0 ---------------------------
    def clean():
        with FakeSmtp() as f:
            r = probe(common + ["--max-rcpt", "2"], f.port)
            tap.is_(r.rc, 0, "a well-behaved server: exit 0")
            tap.ok(r.json is not None, "--json prints one JSON object", diag=r.out[:400])
            s = r.json["summary"]
            tap.is_((s["probes"], s["skipped"], s["with_error"], s["with_warning"],
                     s["stream_problems"]), (25, 0, 0, 0, 0),
                    "25 probes, none skipped, nothing found", )
            tap.ok("Only probe servers you run" in r.json["notice"], "the JSON says whose servers")
            t = r.target("rcpt-unknown")
            tap.is_((t["sent"], t["reply"], t["phase"]),
                    ("RCPT TO:<smtpreply-no-such-user@fake.test>", "250 2.1.5 Ok", "rcpt"),
                    "each exchange: what was sent, the exact reply, the phase")
            tap.is_(len([e for e in r.probe("rcpt-too-many")["exchanges"]
                         if e["role"] == "target"]), 3, "--max-rcpt 2 sends 3 recipients")
            # no message delivered: DATA answered 354, then nothing but the end
            data_sessions = [s for s in f.received if b"DATA" in s and
                             any(l.startswith(b"RCPT") for l in s)]
            tap.ok(data_sessions and all(s[-1] == b"DATA" for s in data_sessions),
                   "no final dot without --deliver-to: the session ends after DATA",
                   diag=repr(data_sessions))
            p = r.probe("data-empty")
            tap.is_((p["status"], p["delivered"], p["why"]),
                    ("done", False, "ended before the final dot: no message delivered"),
                    "data-empty says no message was delivered")
            tap.is_(r.probe("ehlo")["exchanges"][0]["reply"], "220 fake.test ESMTP fakesmtp",
                    "the greeting is recorded in each session")
    tap.run(clean)

    def deliver():
        with FakeSmtp() as f:
            r = probe(common + ["--only", "data-empty", "--deliver-to", "rcpt@fake.test"], f.port)
            sess = [s for s in f.received if b"DATA" in s]
            tap.ok(sess and sess[0][-3:] == [b"DATA", b".", b"QUIT"] and
                   b"RCPT TO:<rcpt@fake.test>" in sess[0],
                   "--deliver-to: the empty message (the dot alone) goes to that recipient",
                   diag=repr(sess))
            t = r.target("data-empty", 1)
            tap.is_((t and t["sent"], t and t["phase"], t and t["reply"]),
                    (".", "eom", "250 2.0.0 Ok: queued"), "the reply after the dot, judged at eom")
            tap.ok(r.probe("data-empty")["delivered"], "the report says one was delivered")
    tap.run(deliver)

    # --- the bad replies ------------------------------------------------------------
    def bad_replies():
        replies = {
            "RCPT TO:<smtpreply-no-such-user": b"550 4.7.1 Recipient address rejected\r\n",
            "RCPT TO:<smtpreply-probe@relay": b"572 Relay not permitted\r\n",
            "NOOP": b"250 2.0.0 first line\r\n250 2.0.0 second line\r\n",
            "VRFY": b"557 5.01.1 odd\r\n",
        }
        with FakeSmtp(replies) as f:
            r = probe(common + ["--only", "rcpt-unknown,rcpt-relay,noop,vrfy,quit"], f.port)
            tap.is_(r.rc, 1, "errors found: exit 1")
            t = r.target("rcpt-unknown")
            tap.ok("enhanced-class-mismatch" in diag_ids(t), "550 4.7.1: class mismatch",
                   diag=t)
            tap.is_(t["normalized"], "550 5.7.1 Recipient address rejected",
                    "550 4.7.1: the normalized reply")
            t = r.target("rcpt-relay")
            tap.ok("code-syntax" in diag_ids(t), "572: code-syntax", diag=t)
            tap.is_(t["normalized"], "550 5.7.1 Relay not permitted", "572: normalized")
            t = r.target("noop")
            tap.is_((t["problem"], t["lines"]), ("unsolicited", 2),
                    "multi-line without '-': the second line is read with the reply")
            tap.ok("multiline-separator" in diag_ids(t),
                   "multi-line without '-': multiline-separator", diag=t)
            tap.is_(r.probe("noop")["status"], "done", "... and the dialogue goes on")
            t = r.target("vrfy")
            tap.ok({"code-nonstandard", "enhanced-leading-zero"} <= set(diag_ids(t)),
                   "557 5.01.1: non-standard code and leading zero", diag=t)
            q = r.target("quit")
            tap.is_((q["reply"], diag_ids(q)), ("221 2.0.0 Bye", []), "QUIT: clean")

            rt = probe(["--domain", "fake.test", "--only", "rcpt-unknown"], f.port)
            tap.ok(rt.rc == 1 and "  < 550 4.7.1 Recipient address rejected" in rt.out
                   and "enhanced-class-mismatch" in rt.out
                   and "normalized: 550 5.7.1 Recipient address rejected" in rt.out,
                   "text report: the reply, the diagnostic, the normalized reply", diag=rt.out)
            tap.ok(rt.out.splitlines()[1] == "Only probe servers you run or are allowed to test.",
                   "text report: the notice comes first", diag=rt.out[:300])
            rn = probe(["--domain", "fake.test", "--only", "vrfy", "--fail-on", "never"], f.port)
            tap.is_(rn.rc, 0, "--fail-on never: exit 0")
    tap.run(bad_replies)

    def warnings_only():
        with FakeSmtp({"NOOP": b"250 Ok\r\n"}) as f:
            r = probe(common + ["--only", "noop"], f.port)
            tap.is_((r.rc, diag_ids(r.target("noop"))), (0, ["enhanced-missing"]),
                    "a warning only: exit 0 by default")
            r = probe(common + ["--only", "noop", "--fail-on", "warning"], f.port)
            tap.is_(r.rc, 1, "--fail-on warning: exit 1")
    tap.run(warnings_only)

    def split_segments():
        replies = {"EHLO ": split(b"250-fake.test\r", b"\n250-PIPE", b"LINING\r\n25",
                                  b"0 8BITMIME\r\n"),
                   "RCPT TO:<smtpreply-no-such-user": split(b"5", b"50 5.1.1 No such ",
                                                            b"user\r\n")}
        greeting = lambda c: [c.sendall(b"22"), time.sleep(0.2),  # noqa: E731
                              c.sendall(b"0 fake.test ESMTP\r\n")] and True
        with FakeSmtp(replies, greeting=greeting) as f:
            r = probe(common + ["--only", "ehlo,rcpt-unknown"], f.port)
            t = r.target("ehlo")
            tap.is_((t["reply"], t["problem"], diag_ids(t)),
                    ("250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME", None, []),
                    "a reply split across TCP segments is read whole")
            t = r.target("rcpt-unknown")
            tap.is_((t["reply"], diag_ids(t)), ("550 5.1.1 No such user", []),
                    "a reply split inside its code is read whole")
            tap.is_(r.probe("ehlo")["exchanges"][0]["reply"], "220 fake.test ESMTP",
                    "a greeting split inside its code is read whole")
    tap.run(split_segments)

    # --- stalls, trickles, closes: bounded by the timeouts --------------------------
    def stalls():
        cases = [
            ("a server that never greets", None, lambda c: stall_after()(c, b"") and False,
             "greeting", 0, "timeout", ""),
            ("a server that stalls mid-reply", {"EHLO ": stall_after(b"250-fake.test\r\n")},
             None, "ehlo", 0, "timeout", "250-fake.test"),
            ("a server that sends one byte every 0.3 s", {"NOOP": trickle(b"250-x\r\n")},
             None, "noop", 0, "timeout", None),
        ]
        for what, replies, greeting, pid, n, problem, reply in cases:
            kw = {"greeting": greeting} if greeting else {}
            with FakeSmtp(replies, **kw) as f:
                r = probe(common + ["--only", pid, "--timeout", str(TIMEOUT)], f.port)
                p = r.probe(pid)
                ex = [e for e in (p or {}).get("exchanges", []) if e["problem"]]
                tap.ok(p is not None and p["status"] == "broken" and ex
                       and ex[0]["problem"] == problem
                       and (reply is None or ex[0]["reply"] == reply),
                       "%s: reported as %s" % (what, problem), diag=r.out[:600])
                tap.ok(r.elapsed < TIMEOUT + 3.0,
                       "%s: the probe ends within its timeout (%.1f s)" % (what, r.elapsed))
                tap.is_(r.rc, 1, "%s: exit 1" % what)
    tap.run(stalls)

    def closes():
        with FakeSmtp({"EHLO ": close_after(b"250-fake.test\r\n250-PIPE")}) as f:
            r = probe(common + ["--only", "ehlo,noop"], f.port)
            t = r.target("ehlo")
            tap.is_((t["problem"], t["reply"], r.probe("ehlo")["status"]),
                    ("closed", "250-fake.test\r\n250-PIPE", "broken"),
                    "a server that closes mid-reply: closed, with what came")
            p = r.probe("noop")
            tap.is_((p["status"], p["exchanges"][1]["problem"]), ("broken", "closed"),
                    "a closed setup step breaks the probe")
            tap.ok(not any(e["role"] == "target" for e in p["exchanges"]),
                   "... and the target is not sent")
            tap.is_(r.rc, 1, "closed mid-reply: exit 1")
    tap.run(closes)

    def ten_megabytes():
        with FakeSmtp() as f:
            base = probe_rss(common + ["--only", "ehlo"], f.port)
        with FakeSmtp({"EHLO ": endless_line(10 * 1024 * 1024)}) as f:
            r = probe_rss(common + ["--only", "ehlo", "--timeout", "10"], f.port)
            t = r.target("ehlo")
            tap.ok(t is not None and t["problem"] == "overflow" and t["lines"] == 1,
                   "a 10 MB line: overflow after 1 MiB, the rest not read", diag=r.out[:500])
            tap.ok(t is not None and len(t["reply"]) == 1024 and t["bytes_dropped"] > 1000000,
                   "a 10 MB line: 1024 bytes kept, the rest counted and dropped",
                   diag=t and (len(t["reply"]), t["bytes_dropped"]))
            tap.ok(t is not None and "line-too-long" in diag_ids(t),
                   "the bound does not hide the finding: line-too-long", diag=t)
            grew = r.maxrss_kb - base.maxrss_kb
            tap.ok(grew < 4096, "memory bounded: %d KiB more than a clean run (%d KiB)"
                   % (grew, base.maxrss_kb))
            tap.ok(r.elapsed < 10, "the 10 MB line takes %.1f s" % r.elapsed)
    tap.run(ten_megabytes)

    # --- skips, options, --exec ------------------------------------------------------
    def skips():
        ehlo = (b"250-fake.test\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n"
                            b"250 8BITMIME\r\n")
        with FakeSmtp({"EHLO ": ehlo}) as f:
            r = probe(common + ["--only", "auth-not-offered,starttls-not-offered,rcpt-too-many"],
                      f.port)
            for pid, what in (("auth-not-offered", "AUTH"), ("starttls-not-offered", "STARTTLS")):
                p = r.probe(pid)
                tap.ok(p["status"] == "skipped" and what in p["why"]
                       and all(e["sent"] != "AUTH PLAIN" and e["sent"] != "STARTTLS"
                               for e in p["exchanges"]),
                       "%s offered: %s not sent" % (what, pid), diag=p)
            p = r.probe("rcpt-too-many")
            tap.is_((p["status"], p["why"], p["exchanges"]),
                    ("skipped", "needs --max-rcpt N", []), "rcpt-too-many needs --max-rcpt")
        with FakeSmtp({"STARTTLS": b"220 2.0.0 Ready to start TLS\r\n"}) as f:
            r = probe(common + ["--only", "starttls-not-offered"], f.port)
            p = r.probe("starttls-not-offered")
            tap.ok(p["why"].startswith("220 to STARTTLS") and f.received[0][-1] == b"STARTTLS",
                   "220 to STARTTLS: the session ends there", diag=(p, f.received))
        with FakeSmtp({"MAIL FROM:<smtpreply-probe": b"550 5.7.1 Go away\r\n"}) as f:
            r = probe(common + ["--only", "rcpt-unknown"], f.port)
            p = r.probe("rcpt-unknown")
            tap.ok(p["status"] == "stopped" and f.received[0][-1] == b"QUIT"
                   and not any(l.startswith(b"RCPT") for l in f.received[0]),
                   "a refused setup step stops the probe before its target", diag=p)
    tap.run(skips)

    def discovery():
        with FakeSmtp() as f:
            r = probe(["--json", "--only", "rcpt-unknown", "--helo", "c.test.invalid"], f.port)
            t = r.target("rcpt-unknown")
            tap.ok(t and t["sent"] == "RCPT TO:<smtpreply-no-such-user@fake.test>"
                   and r.json["rcpt"] == "postmaster@fake.test" and len(f.received) == 2,
                   "the domain comes from the greeting (one extra session)", diag=r.out[:400])
    tap.run(discovery)

    def ipv6():
        try:
            f = FakeSmtp({"RCPT TO:<smtpreply-no-such-user": b"550 4.7.1 No\r\n"}, host="::1")
        except OSError as e:
            if os.environ.get("CI", "").lower() == "true":
                tap.ok(False, "IPv6 loopback: %s" % e)
            else:
                tap.skip("[::1]:PORT", "no IPv6 loopback here: %s" % e)
            return
        with f:
            r = probe(common + ["--only", "rcpt-unknown", "[::1]:%d" % f.port])
            tap.ok(r.rc == 1 and diag_ids(r.target("rcpt-unknown")) ==
                   ["enhanced-class-mismatch"] and r.json["target"] == "[::1]:%d" % f.port,
                   "[::1]:PORT: the probe over IPv6 loopback", diag=(r.out[:300], r.err))
    tap.run(ipv6)

    def usage():
        cases = [
            ([], "no target"),
            (["--only", "nonesuch", "127.0.0.1:1"], "unknown probe"),
            (["--helo", "a b", "127.0.0.1:1"], "a space in --helo"),
            (["--sender", "a>b", "127.0.0.1:1"], "a '>' in --sender"),
            (["--max-rcpt", "0", "127.0.0.1:1"], "--max-rcpt 0"),
            (["--timeout", "0", "127.0.0.1:1"], "--timeout 0"),
            (["--exec", "true", "127.0.0.1:1"], "both a target and --exec"),
            (["[::1", ], "a broken [v6] target"),
            (["host:port"], "a port that is not a number"),
        ]
        for args, what in cases:
            r = probe(args)
            tap.is_(r.rc, 2, "usage error: %s: exit 2" % what)
        port = mta.free_port()
        r = probe(["--connect-timeout", "2", "127.0.0.1:%d" % port])
        tap.ok(r.rc == 2 and "cannot connect" in r.err, "nothing listening: exit 2",
               diag=r.err)
        r = probe(["--list"])
        tap.ok(r.rc == 0 and len(r.out.splitlines()) == 50, "--list: 25 probes, two lines each")
    tap.run(usage)

    def exec_mode():
        fake = ("printf '220 exec.test ESMTP\\r\\n'; while read l; do case \"$l\" in "
                "QUIT*) printf '221 2.0.0 Bye\\r\\n'; exit 0;; "
                "EHLO*) printf '250-exec.test\\r\\n250 8BITMIME\\r\\n';; "
                "*) printf '550 4.7.1 no\\r\\n';; esac; done")
        r = probe(["--json", "--exec", fake, "--only", "ehlo,noop"])
        tap.is_((r.rc, r.target("ehlo")["reply"], diag_ids(r.target("noop"))),
                (1, "250-exec.test\r\n250 8BITMIME", ["enhanced-class-mismatch"]),
                "--exec: a command's standard input and output, judged the same")
        start = time.monotonic()
        r = probe(["--json", "--exec", "sleep 30", "--only", "greeting", "--timeout", "1"])
        took = time.monotonic() - start
        tap.ok(r.json and r.target("greeting")["problem"] == "timeout" and took < 10,
               "--exec: a command that never greets times out and is stopped (%.1f s)" % took,
               diag=r.out[:300])
    tap.run(exec_mode)

    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
