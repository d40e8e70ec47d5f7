#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_proxy.py - smtpreply-milter as a milter proxy behind a real Postfix.

A private Postfix (tests/e2e/mta.py) runs two smtpd services on loopback:
"proxy" uses smtpreply-milter alone, which runs the children of
tests/e2e/children.py behind it (pymilter children and a raw one); "direct"
uses the misbehaving pymilter child itself, so that each test shows what the
client saw without the proxy and with it. Asserted: the exact reply lines the
client receives, what Postfix queued (messages that carry "X-Hold-Me" are put
on hold by a header check and read back with postcat: headers, envelope
sender and recipients, body), and the log lines of Postfix, the milter and the
children. Then the failure cases: a slow child (timeout), a child that crashes
mid-message and comes back, a child that is down (reload), a child breaking
the protocol, and evaluation mode. And the macros: a child that names, with
SMFIR_SETSYMLIST, macros Postfix does not send by default gets their values
through the proxy, because smtpreply-milter asks Postfix for them
(smfi_setsymlist); a child without a list gets Postfix's defaults, as when
Postfix runs it itself (service "plain").

Needs root, Debian's postfix and python3-milter; under CI=true a missing one is
a failure. Prints TAP.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHILDREN = os.path.join(HERE, "children.py")
# pymilter is a Debian package: run the children with Debian's python3.
CHILD_PYTHON = "/usr/bin/python3"
POSTCAT = "/usr/sbin/postcat"


class Child:
    """One child of children.py, in the background, its output in a file."""

    def __init__(self, base, kind, port):
        self.kind, self.port = kind, port
        self.socket = "inet:%d@127.0.0.1" % port
        self.log_file = os.path.join(base, "child-%s-%d.log" % (kind, port))
        self.proc = None

    def start(self):
        self.logf = open(self.log_file, "ab")
        self.proc = subprocess.Popen([CHILD_PYTHON, CHILDREN, self.kind, self.socket],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if mta.port_open("127.0.0.1", self.port):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("child %s did not start:\n%s" % (self.kind, self.log()))

    def log(self):
        return mta.read_log(self.log_file)

    def stop(self):
        if self.proc is not None:
            mta.stop_process(self.proc, 5)
            self.proc = None
            self.logf.close()


def conf(children):
    """A smtpreply.conf with no rules and CHILDREN (list of libconfig groups);
    logs at debug level (what is asked of the MTA at negotiation)."""
    return ('log = { level = "debug"; };\nmilters = (\n\t' + ",\n\t".join(children)
            + "\n);\n")


def child_conf(name, port, extra=""):
    return ('{ name = "%s"; socket = "inet:%d@127.0.0.1"; '
            'timeouts = { connect = "2s"; command = "2s"; eom = "5s"; }; %s }'
            % (name, port, extra))


def rcpt_reply(port, rcpt, then=None):
    """One session: EHLO, MAIL, RCPT RCPT; returns the RCPT reply (and, with
    THEN, the reply to a second RCPT THEN in the same session)."""
    c = mta.SmtpClient("127.0.0.1", port, timeout=20)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    c.cmd("MAIL FROM:<sender@client.test.invalid>")
    r = c.cmd("RCPT TO:<%s>" % rcpt)
    r2 = c.cmd("RCPT TO:<%s>" % then) if then else None
    c.quit()
    return (r, r2) if then else r


def mail_reply(port):
    """One session up to MAIL; returns the MAIL reply."""
    c = mta.SmtpClient("127.0.0.1", port, timeout=20)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    r = c.cmd("MAIL FROM:<a@client.test.invalid>")
    c.quit()
    return r


def send_message(port, rcpts, subject, headers=None, sender="sender@client.test.invalid"):
    """A whole message; returns (RCPT replies, reply after the dot)."""
    c = mta.SmtpClient("127.0.0.1", port, timeout=20)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    c.cmd("MAIL FROM:<%s>" % sender)
    rr = [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    r = c.data(mta.message(subject=subject, sender=sender, rcpt=rcpts[0],
                           headers=headers, body="Original body.\n"))
    c.quit()
    return rr, r


def queue_id(reply):
    m = re.search(r"queued as ([0-9A-Za-z]+)", " ".join(reply))
    return m.group(1) if m else None


def postcat(pf, qid):
    r = subprocess.run([POSTCAT, "-c", pf.conf_dir, "-q", qid], capture_output=True,
                       text=True)
    return r.stdout + r.stderr


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    mta.need_milter()
    if subprocess.run([CHILD_PYTHON, "-c", "import Milter"], capture_output=True).returncode:
        mta.cannot_run("python3-milter (pymilter) missing (Debian package: python3-milter)")
    base = tempfile.mkdtemp(prefix="smtpreply-proxy-")
    os.chmod(base, 0o755)
    proxy_port, direct_port, milter_port = mta.free_port(), mta.free_port(), mta.free_port()
    plain_port = mta.free_port()
    bad = Child(base, "bad", mta.free_port())
    raw = Child(base, "raw", mta.free_port())
    judge = Child(base, "rejectall", mta.free_port())
    macros = Child(base, "macros", mta.free_port())
    nolist = Child(base, "nolist", mta.free_port())
    rcptrej = Child(base, "rcptrej", mta.free_port())
    children = (bad, raw, judge, macros, nolist, rcptrej)
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), proxy_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
        "milter_default_action": "tempfail",
        "header_checks": "regexp:{conf_dir}/hold",
        "smtpd_recipient_restrictions": "check_recipient_access regexp:{conf_dir}/rcpt, "
                                        "permit_mynetworks, reject_unauth_destination",
    }, maps={"hold": "/^X-Hold-Me:/ HOLD\n",
             "rcpt": "/^mtareject@/ REJECT No such user here\n"}, master_extra=[
        "127.0.0.1:%d inet n - n - - smtpd -o syslog_name=postfix/direct "
        "-o smtpd_milters=inet:127.0.0.1:%d" % (direct_port, bad.port),
        "127.0.0.1:%d inet n - n - - smtpd -o syslog_name=postfix/plain "
        "-o smtpd_milters=inet:127.0.0.1:%d,inet:127.0.0.1:%d"
        % (plain_port, nolist.port, macros.port)])
    milter = mta.Milter(base, "inet:%d@127.0.0.1" % milter_port, conf([
        child_conf("bad", bad.port, 'on_error = "tempfail";'),
        child_conf("raw", raw.port, 'on_error = "tempfail";'),
        child_conf("judge", judge.port, "evaluate = true;"),
        child_conf("nolist", nolist.port), child_conf("macros", macros.port),
        child_conf("rcptrej", rcptrej.port)]))
    try:
        for ch in children:
            ch.start()
        milter.start()
        pf.start()
        # start() waits for the main smtpd; the second one may lag.
        deadline = time.monotonic() + 10
        for port in (direct_port, plain_port):
            while not mta.port_open("127.0.0.1", port) and time.monotonic() < deadline:
                time.sleep(0.1)
        tap.run(replies, tap, pf, milter, proxy_port, direct_port)
        tap.run(macro_lists, tap, milter, proxy_port, plain_port)
        tap.run(rejected_recipients, tap, milter, proxy_port, rcptrej)
        tap.run(modifications, tap, pf, milter, proxy_port)
        tap.run(evaluation, tap, milter, proxy_port)
        tap.run(protocol_violation, tap, milter, proxy_port)
        tap.run(slow_child, tap, milter, proxy_port)
        tap.run(crash_and_back, tap, pf, milter, proxy_port, bad)
        tap.run(child_counters, tap, milter)
        tap.run(down_child_reload, tap, milter, proxy_port, bad, raw, judge)
    finally:
        milter.stop()
        pf.stop()
        for ch in children:
            ch.stop()
    log = pf.maillog()
    proxied = [l for l in log.splitlines() if "postfix/direct" not in l]
    tap.ok(not any("malformed reply" in l for l in proxied),
           "behind the proxy Postfix never logged 'malformed reply'",
           diag=[l for l in proxied if "malformed" in l])
    tap.ok(not any("4.3.5" in l for l in proxied),
           "behind the proxy Postfix never answered 451 4.3.5",
           diag=[l for l in proxied if "4.3.5" in l])
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("postfix log:\n" + log)
        for ch in children:
            tap.diag("child %s:\n%s" % (ch.kind, ch.log()))
    return tap.done()


# (recipient, what the client saw without the proxy, with it)
REPLY_CASES = [
    ("mismatch@example.test",
     ["451 4.3.5 Server configuration problem"],
     ["550 5.7.1 Recipient address rejected: Access denied"]),
    ("spf@example.test",
     ["451 4.3.5 Server configuration problem"],
     ["550 5.7.23 SPF fail: sender not permitted"]),
    ("c557@example.test",
     ["557 5.7.1 Too many duplicate messages"],
     ["550 5.7.1 Too many duplicate messages"]),
    ("grey@example.test",
     ["451 4.7.1 Greylisted, 100 sure, come back later"],
     ["451 4.7.1 Greylisted, 100% sure, come back later"]),
    ("nocode@example.test",
     ["550 5.7.1 Command rejected"],
     ["550 5.7.1 Command rejected"]),
    ("nodash@example.test", None,
     ["550-5.7.1 This relay was retired.",
      "550 5.7.1 Please use mx.example.org instead."]),
]


def replies(tap, pf, milter, proxy_port, direct_port):
    for rcpt, direct, proxied in REPLY_CASES:
        if direct is not None:
            got, after = rcpt_reply(direct_port, rcpt, then="ok@example.test")
            tap.diag("without the proxy, RCPT %s: %r, then %r" % (rcpt, got, after))
            tap.ok(got and got[0].startswith(direct[0]),
                   "without the proxy: %s gets %s" % (rcpt, direct[0]),
                   diag="got %r" % got)
        got, after = rcpt_reply(proxy_port, rcpt, then="ok@example.test")
        tap.is_(got, proxied, "through the proxy: %s" % rcpt)
        tap.ok(after and after[0].startswith("250"),
               "through the proxy: the next recipient after %s is accepted" % rcpt,
               diag="got %r" % after)
    # Without the proxy the class mismatch drops the milter for the session.
    tap.ok(pf.wait_log(r"postfix/direct/smtpd.*milter inet:127\.0\.0\.1:\d+: malformed reply"),
           "without the proxy Postfix logged 'malformed reply'")
    # The milter's log: the original, what was sent, and the non-standard code.
    tap.ok(milter.wait_log(r"child=bad step=rcpt verdict=reject reply=\"550 5\.7\.1 Recipient "
                           r"address rejected: Access denied\" normalized=\"enhanced-class-"
                           r"mismatch 550 4\.7\.1 -> 550 5\.7\.1\" original=\"550 4\.7\.1 "),
           "the milter logged the class mismatch it fixed, with the child's name")
    tap.ok(milter.wait_log(r"child=bad reply code 557: .*sent as 550 5\.7\.1"),
           "the milter logged the non-standard code 557 by name")
    tap.ok(milter.wait_log(r"child=bad step=rcpt verdict=reject \(no reply: the default"),
           "a reject without a reply gets the configured default")
    tap.ok(milter.wait_log(r"child=raw step=rcpt verdict=reject reply=\"550-5\.7\.1 This relay"
                           r".*normalized=\"multiline-separator"),
           "the multi-line reply without '-' was repaired (logged)")


MACROS_SEEN = r"client_connections=\d+ client_addr=127\.0\.0\.1"
MACROS_NONE = "client_connections=none client_addr=none"


def macro_lists(tap, milter, proxy_port, plain_port):
    # Postfix alone: a child without a list gets Postfix's defaults, which
    # have neither macro (so without smtpreply-milter asking for them they
    # would not reach it through the proxy either); a child that names them
    # gets them.
    r = rcpt_reply(plain_port, "nolist@example.test")
    tap.is_(r, ["550 5.7.1 nolist " + MACROS_NONE],
            "Postfix alone: neither macro is in its default lists")
    r = rcpt_reply(plain_port, "macros@example.test")
    tap.ok(r and re.fullmatch("550 5.7.1 macros " + MACROS_SEEN, r[0]),
           "Postfix alone: the child that names them gets them", diag=r)
    off = milter.log_offset()
    r = rcpt_reply(proxy_port, "macros@example.test")
    tap.ok(r and re.fullmatch("550 5.7.1 macros " + MACROS_SEEN, r[0]),
           "through the proxy: the child gets the macros it named "
           "({client_connections} at connect, {client_addr} at MAIL)", diag=r)
    tap.ok(milter.wait_log(r"negotiation: asked the MTA for the macros at connect: \"j "
                           r"\{daemon_name\} .*\{client_connections\}\"", since=off),
           "smtpreply-milter asked Postfix for the union at connect (logged)")
    tap.ok(milter.wait_log(r"negotiation: asked the MTA for the macros at envfrom: \"i "
                           r".*\{auth_authen\}.*\{client_addr\}\"", since=off),
           "... and at MAIL, Postfix's defaults kept")
    tap.ok(not re.search(r"asked the MTA for the macros at (helo|envrcpt|data|eoh|eom)",
                         milter.log()[off:]),
           "no list asked for where no child named one")
    r = rcpt_reply(proxy_port, "nolist@example.test")
    tap.is_(r, ["550 5.7.1 nolist " + MACROS_NONE],
            "through the proxy: a child without a list still gets only the defaults")


def rejected_recipients(tap, milter, port, rcptrej):
    """A child that negotiated SMFIP_RCPT_REJ gets the recipients Postfix
    rejected itself, as Postfix would have given them to it."""
    r, r2 = rcpt_reply(port, "mtareject@example.test", then="taken@example.test")
    tap.ok(r and r[0].startswith("554 5.7.1 <mtareject@example.test>: Recipient address "
                                 "rejected: No such user here"),
           "Postfix's own reject reaches the client unchanged", diag=r)
    tap.ok(r2 and r2[0].startswith("250"), "the next recipient is taken", diag=r2)
    deadline = time.monotonic() + 5
    while "rcptrej saw <taken@" not in rcptrej.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    tap.ok("rcptrej saw <mtareject@example.test> mailer=error" in rcptrej.log(),
           "the child that asked for rejected recipients got Postfix's reject "
           "({rcpt_mailer} error)", diag=rcptrej.log())
    tap.ok("rcptrej saw <taken@example.test> mailer=" in rcptrej.log(),
           "... and the recipient Postfix took", diag=rcptrej.log())
    tap.ok(milter.wait_log(r"audit: mta rejected to=<mtareject@example\.test>"),
           "the proxy audited the reject as before")


def modifications(tap, pf, milter, port):
    rr, r = send_message(port, ["keep@example.test", "removed@example.test"],
                         "please modify", headers=["X-Hold-Me: yes"])
    tap.ok(all(x and x[0].startswith("250") for x in rr), "modify: recipients accepted",
           diag=rr)
    qid = queue_id(r)
    tap.ok(qid is not None, "modify: message queued", diag=r)
    if qid is None:
        return
    tap.ok(pf.wait_log(qid + r": hold: header X-Hold-Me"), "modify: held for inspection")
    time.sleep(0.5)
    q = postcat(pf, qid)
    tap.ok("X-Child: added by child" in q, "modify: the child's header was added", diag=q)
    tap.ok(re.search(r"^Subject: changed by child$", q, re.M) is not None,
           "modify: Subject changed by the child", diag=q)
    tap.ok("please modify" not in q, "modify: the old Subject is gone", diag=q)
    tap.ok(re.search(r"sender: newsender@example\.test", q) is not None,
           "modify: envelope sender changed", diag=q)
    rcpts = re.findall(r"^recipient: (\S+)", q, re.M)
    tap.ok("added@example.test" in rcpts and "keep@example.test" in rcpts
           and "removed@example.test" not in rcpts,
           "modify: recipient added and deleted", diag=rcpts)
    tap.ok("Body replaced by the child." in q and "Original body." not in q,
           "modify: body replaced", diag=q)
    # Quarantine by a child: Postfix holds the message.
    rr, r = send_message(port, ["keep@example.test"], "quarantine me")
    qid = queue_id(r)
    tap.ok(qid is not None and pf.wait_log(qid + r": milter-hold: END-OF-MESSAGE.*"
                                           r"milter triggers HOLD action"),
           "quarantine: Postfix held the message", diag=r)


def evaluation(tap, milter, port):
    off = milter.log_offset()
    r = rcpt_reply(port, "anyone@example.test")
    tap.ok(r and r[0].startswith("250"), "evaluate: the judge's reject does not reach the "
           "client", diag=r)
    tap.ok(milter.wait_log(r"child=judge step=rcpt verdict=reject evaluate=yes reply=\"550 "
                           r"5\.7\.1 Rejected by rejectall\"", since=off),
           "evaluate: its verdict and normalized reply are logged")


def protocol_violation(tap, milter, port):
    off = milter.log_offset()
    r, after = rcpt_reply(port, "violate@example.test", then="ok@example.test")
    tap.is_(r, ["451 4.7.1 Please try again later"],
            "a child breaking the protocol: on_error tempfail")
    tap.ok(after and after[0].startswith("451"),
           "... and for the rest of that connection", diag=after)
    tap.ok(milter.wait_log(r"child=raw failed at rcpt: \"modification before end of message "
                           r"at rcpt\"; on_error=tempfail", since=off),
           "the failure is logged with the child's name")
    tap.ok(len(re.findall(r"child=raw failed", milter.log()[off:])) == 1,
           "... once per session")
    r = rcpt_reply(port, "ok@example.test")
    tap.ok(r and r[0].startswith("250"), "the next connection uses the child again", diag=r)


def slow_child(tap, milter, port):
    off = milter.log_offset()
    t0 = time.monotonic()
    r = rcpt_reply(port, "slow@example.test")
    took = time.monotonic() - t0
    tap.is_(r, ["451 4.7.1 Please try again later"], "slow child: on_error tempfail")
    tap.ok(took < 4.5, "slow child: answered after the 2 s command timeout (%.1f s)" % took)
    tap.ok(milter.wait_log(r"child=bad failed at rcpt: \"read: timed out\"", since=off),
           "slow child: timeout logged")


def crash_and_back(tap, pf, milter, port, bad):
    off = milter.log_offset()
    rr, r = send_message(port, ["ok@example.test"], "crash now")
    tap.ok(r and r[0].startswith("451 4.7.1"), "crash mid-message: on_error tempfail at the "
           "end of message", diag=r)
    tap.ok(milter.wait_log(r"child=bad failed at eom: \"connection closed by the child\"",
                           since=off), "crash mid-message: logged")
    bad.proc.wait(5)
    bad.stop()
    tap.is_(mail_reply(port), ["451 4.7.1 Please try again later"],
            "child down: on_error tempfail from connect on")
    bad.start()
    r = rcpt_reply(port, "mismatch@example.test")
    tap.is_(r, ["550 5.7.1 Recipient address rejected: Access denied"],
            "the child came back: used again from the next connection")


def child_counters(tap, milter):
    off = milter.log_offset()
    milter.signal(signal.SIGUSR1)
    m = milter.wait_log(r"counters: child=bad calls=\d+ .*replycode=(\d+) changes=(\d+) "
                        r"unfixable=0 errors=(\d+) latency_avg_ms=", since=off)
    tap.ok(m, "SIGUSR1 logs the counters of each child")
    line = [l for l in milter.log()[off:].splitlines() if "counters: child=bad " in l]
    nums = re.search(r"replycode=(\d+) changes=(\d+) unfixable=0 errors=(\d+)",
                     line[0]) if line else None
    tap.ok(nums and int(nums.group(1)) >= 4 and int(nums.group(2)) >= 3
           and int(nums.group(3)) >= 2,
           "... replies, changes to them and failures counted", diag=line)
    tap.ok(milter.wait_log(r"counters: child=judge calls=\d+", since=off),
           "... the evaluated child's too")


def down_child_reload(tap, milter, port, bad, raw, judge):
    down = mta.free_port()
    off = milter.log_offset()
    milter.write_conf(conf([child_conf("gone", down, 'on_error = "accept";'),
                            child_conf("bad", bad.port)]))
    milter.signal(signal.SIGHUP)
    tap.ok(milter.wait_log(r"reload", since=off), "SIGHUP reloads the child list")
    time.sleep(0.3)
    r = rcpt_reply(port, "mismatch@example.test")
    tap.is_(r, ["550 5.7.1 Recipient address rejected: Access denied"],
            "a down child with on_error accept: the others go on")
    tap.ok(milter.wait_log(r"child=gone failed at connect: \"connect: Connection refused\"; "
                           r"on_error=accept", since=off), "the down child is logged")
    off = milter.log_offset()
    milter.write_conf(conf([child_conf("gone", down, 'on_error = "reject";')]))
    milter.signal(signal.SIGHUP)
    milter.wait_log(r"reload", since=off)
    time.sleep(0.3)
    tap.is_(mail_reply(port), ["550 5.7.1 Command rejected"],
            "a down child with on_error reject")


if __name__ == "__main__":
    sys.exit(main())
