#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_smtp_reply_filter.py - smtpreply-milter as Postfix's smtp_reply_filter, end to end.

Debian's Postfix 3.7 (smtp_reply_filter exists since 2.7) runs privately on
loopback and relays to a scripted SMTP server (tests/e2e/fakesmtp.py) that
answers RCPT with "572 relay denied", "550 4.7.1 no" and "451 Greylisted 50%
off". Two transports lead there: "smtp", whose smtp_reply_filter is
socketmap:inet:127.0.0.1:PORT:reply served by smtpreply-milter (filter only:
socket "none"), and "nofilter", the same without the filter, for comparison.
Asserted for each reply: what Postfix logs (the reply, dsn=, bounced or
deferred), the "replacing server reply" line, and the Status: of the DSN
Postfix sends back (the sender's domain is delivered to the scripted server
too, so the bounce is read there). Then the daemon stopped: Postfix defers.
Needs root and Debian's postfix package; under CI=true a missing one is a
failure.

Prints TAP.
"""

import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402
from fakesmtp import FakeSmtp  # noqa: E402
from mta import Milter  # noqa: E402
from test_reply_filter import contrib_value  # noqa: E402

SENDER = "sender@filtered.test"

# What the scripted server answers RCPT TO with, by recipient.
REPLIES = {
    "RCPT TO:<relay@": b"572 relay denied\r\n",
    "RCPT TO:<mismatch@": b"550 4.7.1 no\r\n",
    "RCPT TO:<grey@": b"451 Greylisted 50% off\r\n",
    "RCPT TO:<multi@": b"550-4.1.1 first line\r\n550 5.1.1 no such user\r\n",
}

# (local part, with the filter: (status, dsn, reply as logged),
#  without: (status, dsn, reply as logged))
CASES = [
    ("relay", ("bounced", "5.7.1", "550 5.7.1 relay denied"),
              ("bounced", "5.0.0", "572 relay denied")),
    ("mismatch", ("bounced", "5.7.1", "550 5.7.1 no"),
                 ("bounced", "5.0.0", "550 4.7.1 no")),
    ("grey", ("deferred", "4.0.0", "451 Greylisted 50% off"),
             ("deferred", "4.0.0", "451 Greylisted 50% off")),
    ("multi", ("bounced", "5.1.1", "550-5.1.1 first line 550 5.1.1 no such user"),
              ("bounced", "5.1.1", "550-4.1.1 first line 550 5.1.1 no such user")),
]


def submit(port, rcpt):
    c = mta.SmtpClient("127.0.0.1", port)
    try:
        c.connect()
        c.cmd("EHLO client.test.invalid")
        c.cmd("MAIL FROM:<%s>" % SENDER)
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        if not r or not r[-1].startswith("250"):
            return r
        return c.data(mta.message(sender=SENDER, rcpt=rcpt))
    finally:
        c.quit()


def delivery_line(pf, rcpt, timeout=20.0):
    """The smtp client's status line for rcpt (the first one)."""
    m = pf.wait_log(r"postfix/(nofilter/)?smtp\[\d+\]: \w+: to=<%s>, .*status=" % re.escape(rcpt),
                    timeout)
    return m.string if m else None


def dsn_for(fake, rcpt, timeout=20.0):
    """The Status: and Diagnostic-Code: of the DSN Postfix sent about rcpt
    to the scripted server (None if none came)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fake.lock:
            sessions = [list(lines) for lines in fake.received]
        for lines in sessions:
            text = "\n".join(l.decode("utf-8", "replace") for l in lines)
            for part in text.split("\nDATA\n")[1:]:
                if re.search(r"^Final-Recipient: rfc822; ?%s$" % re.escape(rcpt), part, re.M):
                    m = re.search(r"^Status: (\S+)", part, re.M)
                    d = re.search(r"^Diagnostic-Code: (.*)", part, re.M)
                    return (m.group(1) if m else None, d.group(1).strip() if d else None)
        time.sleep(0.1)
    return None


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    mta.need_milter()
    base = tempfile.mkdtemp(prefix="smtpreply-replyfilter-e2e-")
    os.chmod(base, 0o755)
    fake = FakeSmtp(REPLIES)
    smtp_port, filter_port = mta.free_port(), mta.free_port()
    daemon = Milter(base, "none", 'socket = "none";\nfilter = { socket = "inet:%d@127.0.0.1"; };\n'
                    % filter_port)
    transport = ("filtered.test smtp:[127.0.0.1]:%d\nplain.test nofilter:[127.0.0.1]:%d\n"
                 % (fake.port, fake.port))
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), smtp_port, params={
        # the line of contrib/postfix/reply-filter.cf, with this port
        "smtp_reply_filter": contrib_value("smtp_reply_filter", "inet:", filter_port),
        "transport_maps": "texthash:{conf_dir}/transport",
        "smtpd_recipient_restrictions": "permit_mynetworks, reject",
        "bounce_queue_lifetime": "0",
    }, maps={"transport": transport},
        master_extra=["nofilter unix - - n - - smtp -o smtp_reply_filter= "
                      "-o syslog_name=postfix/nofilter"])
    try:
        daemon.start()
        pf.start()
        tap.run(deliveries, tap, pf, daemon, fake, smtp_port)
        tap.run(daemon_stopped, tap, pf, daemon, smtp_port)
    finally:
        daemon.stop()
        pf.stop()
        fake.close()
    tap.ok(not mta.leftover_postfix_processes(pf.conf_dir), "no Postfix process left")
    if tap.failed:
        tap.diag("smtpreply-milter log:\n" + daemon.log())
        tap.diag("postfix log:\n" + pf.maillog())
    return tap.done()


def deliveries(tap, pf, daemon, fake, port):
    for local, _, _ in CASES:
        for domain in ("filtered.test", "plain.test"):
            r = submit(port, "%s@%s" % (local, domain))
            tap.ok(r and r[-1].startswith("250"), "%s@%s: accepted for delivery" % (local, domain),
                   diag=r)
    for local, with_filter, without in CASES:
        for domain, (status, dsn, said) in (("filtered.test", with_filter),
                                            ("plain.test", without)):
            rcpt = "%s@%s" % (local, domain)
            line = delivery_line(pf, rcpt)
            want = "dsn=%s, status=%s (host 127.0.0.1[127.0.0.1] said: %s (in reply to RCPT TO command))" \
                % (dsn, status, said)
            tap.ok(line is not None and want in line,
                   "%s: Postfix logs %s" % (rcpt, want), diag=line)
            if status == "bounced":
                got = dsn_for(fake, rcpt)
                tap.ok(got is not None and got[0] == dsn,
                       "%s: the DSN's Status: is %s" % (rcpt, dsn), diag=repr(got))
    log = pf.maillog()
    tap.ok('replacing server reply "572 relay denied" with "550 5.7.1 relay denied"' in log,
           "Postfix logs the replacement of 572")
    tap.ok('replacing server reply "550 4.7.1 no" with "550 5.7.1 no"' in log,
           "Postfix logs the replacement of 550 4.7.1")
    tap.ok('replacing server reply "550-4.1.1 first line" with "550-5.1.1 first line"' in log,
           "a line of a multi-line reply keeps its '-'")
    tap.ok("replacing server reply \"451" not in log and
           "replacing server reply \"220" not in log and
           "replacing server reply \"250" not in log,
           "the greeting, EHLO, 250 replies and the 451 without enhanced code are left alone")
    dlog = daemon.log()
    tap.ok('filter: map=reply phase=unknown in="572 relay denied" out="550 5.7.1 relay denied" '
           'normalized="code-syntax 572 -> 550, enhanced-missing 550 -> 550 5.7.1"' in dlog,
           "smtpreply-milter logs the rewrite with before and after", diag=dlog)


def daemon_stopped(tap, pf, daemon, port):
    daemon.stop()
    since = pf.log_offset()
    r = submit(port, "relay2@filtered.test")
    tap.ok(r and r[-1].startswith("250"), "daemon stopped: mail still accepted", diag=r)
    m = pf.wait_log(r"to=<relay2@filtered\.test>, .*dsn=4\.3\.0, status=deferred \(local data "
                    r"error while talking to 127\.0\.0\.1\[127\.0\.0\.1\]\)", 20, since)
    tap.ok(m is not None, "daemon stopped: the lookup of the greeting fails, Postfix defers "
           "(dsn=4.3.0, local data error)",
           diag=mta.read_log(pf.log_file, since))
    tap.ok(pf.wait_log(r"table socketmap:inet:127\.0\.0\.1:\d+:reply lookup error", 5, since)
           is not None, "daemon stopped: Postfix logs the lookup error")


if __name__ == "__main__":
    sys.exit(main())
