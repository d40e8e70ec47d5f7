#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_reply_filter.py - smtpreply-milter as Postfix 3.11's reject filter, end to end.

Postfix 3.11.6, built from the vendored source once (tests/e2e/postfix311.py),
runs privately on loopback with

    smtpd_reject_filter_maps = socketmap:inet:127.0.0.1:PORT:reject

served by smtpreply-milter (its "filter" socket), which is also the first of
two milters; the second is a scripted milter (tests/e2e/fake_milter.py) that
sends a multi-line reply smtpreply-milter never would. Access-map rejects
with 557, 572, 550 4.7.1, a bare 5.7.1, a '%', a correct reply, an RBL-style
554 at connect, a reject of smtpreply-milter's own rule, a reload of the
normalization settings and the daemon stopped: for each, the exact reply the
client reads, and what Postfix and smtpreply-milter log. Then the filter on
its own (socket "none") and over a unix socket inside the chroot of a
chrooted smtpd, as smtpreply-milter(8) documents it. Needs root; under
CI=true a missing component (Postfix 3.11 cannot be built) is a failure.

Prints TAP.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta  # noqa: E402
import postfix311  # noqa: E402
from fake_milter import FakeMilter  # noqa: E402
from mta import Milter  # noqa: E402

ACCESS = """\
odd@localhost 557 Too many duplicate messages
relay@localhost 572 Relay not authorized
mismatch@localhost 550 4.7.1 Access denied
bare@localhost 5.7.1 Go away
pct@localhost 557 Over 50% of your quota
ok@localhost 550 5.7.1 Mailbox unavailable
sender@localhost 550 5.1.1 No such sender here
"""

CONF = r'''
filter = { socket = "inet:%(filter_port)d@127.0.0.1"; };
%(extra)s
rules = (
	{ name = "own-572"; phase = "rcpt"; rcpt = "/^<milt@/";
	  action = "reject"; reply = "572 Milter relay denied"; }
);
'''

RELOADED = '''
normalize = { nonstandard = ( { code = 557; replace = "554 5.7.1"; } ); };
'''


CONTRIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "contrib", "postfix", "reply-filter.cf")


def contrib_value(param, contains, port):
    """The value of the line "param = ..." (commented or not) of the shipped
    contrib/postfix/reply-filter.cf that contains `contains`, with its port
    10026 replaced by port: the tests use the documented lines."""
    with open(CONTRIB) as f:
        for line in f:
            m = re.match(r"^#?%s = (.*)$" % re.escape(param), line.strip())
            if m and contains in m.group(1):
                return m.group(1).replace(":10026:", ":%d:" % port)
    raise AssertionError("%s: no %s line with %s" % (CONTRIB, param, contains))


def ns(data):
    return str(len(data)).encode() + b":" + data + b","


def socketmap_lookup(port, name, key, timeout=5.0):
    """One socketmap request over a fresh connection; the reply's data."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(ns(name.encode() + b" " + key.encode()))
        buf = b""
        while not re.match(rb"^\d+:", buf) or len(buf) < int(buf.split(b":")[0]) + len(buf.split(b":")[0]) + 2:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    head, rest = buf.split(b":", 1)
    return rest[:int(head)].decode("utf-8", "replace")


def rcpt(port, addr, sender="sender@client.test.invalid"):
    """EHLO, MAIL, RCPT TO:<addr>; the RCPT reply lines."""
    c = mta.SmtpClient("127.0.0.1", port)
    try:
        c.connect()
        c.cmd("EHLO client.test.invalid")
        c.cmd("MAIL FROM:<%s>" % sender)
        return c.cmd("RCPT TO:<%s>" % addr)
    finally:
        c.quit()


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    mta.need_milter()
    try:
        root = postfix311.ensure_built(log=tap.diag)
    except postfix311.BuildError as e:
        mta.cannot_run("Postfix 3.11: %s" % e, "reply filter tests")
    base = tempfile.mkdtemp(prefix="smtpreply-filter-e2e-")
    os.chmod(base, 0o755)
    smtp_port, connect_port = mta.free_port(), mta.free_port()
    milter_port, filter_port = mta.free_port(), mta.free_port()
    conf_dir = os.path.join(base, "postfix", "conf")
    fake = FakeMilter({"multi@": "557-5.7.1 line one\r\n557 4.7.1 line two"}).start()
    daemon = Milter(base, "inet:%d@127.0.0.1" % milter_port,
                    CONF % {"filter_port": filter_port, "extra": ""})
    pf = postfix311.Postfix311(root, os.path.join(base, "postfix"), smtp_port, params={
        "smtpd_reject_filter_maps": contrib_value("smtpd_reject_filter_maps", "inet:",
                                                  filter_port),
        "smtpd_milters": "inet:127.0.0.1:%d, inet:127.0.0.1:%d" % (milter_port, fake.port),
        # the daemon stopped must not hide what the filter does
        "milter_default_action": "accept",
        "smtpd_sender_restrictions": "check_sender_access texthash:{conf_dir}/access",
        "smtpd_recipient_restrictions":
            "check_recipient_access texthash:{conf_dir}/access, "
            "permit_mynetworks, reject_unauth_destination",
    }, maps={
        "access": ACCESS,
        "rbl": "127.0.0.1 554 Service unavailable; Client host [127.0.0.1] "
               "blocked using zen.example.invalid\n",
    }, master_extra=[
        # an RBL-style reject at connect: no delayed rejects on this port
        "127.0.0.1:%d inet n - n - - smtpd -o smtpd_delay_reject=no "
        "-o smtpd_client_restrictions=check_client_access,texthash:%s/rbl"
        % (connect_port, conf_dir)])
    try:
        daemon.start()
        pf.start()
        tap.run(rejects, tap, pf, daemon, smtp_port, connect_port)
        tap.run(reload_settings, tap, pf, daemon, smtp_port)
        tap.run(daemon_stopped, tap, pf, daemon, smtp_port)
        tap.run(filter_only, tap, base)
        tap.run(chrooted, tap, base, root, filter_port)
    finally:
        daemon.stop()
        pf.stop()
        fake.stop()
    log = pf.maillog()
    tap.ok("ignoring invalid reject filter result" not in log,
           "Postfix never refused a filter result",
           diag=[l for l in log.splitlines() if "invalid reject filter" in l])
    tap.ok(not mta.leftover_postfix_processes(pf.conf_dir), "no Postfix process left")
    if tap.failed:
        tap.diag("smtpreply-milter log:\n" + daemon.log())
        tap.diag("postfix log:\n" + log)
    return tap.done()


def filter_pair(pf, since, queue_id="NOQUEUE"):
    """The (in, out) texts of the first reply filter pair Postfix logged after since."""
    text = mta.read_log(pf.log_file, since)
    m_in = re.search(r"%s: reply filter in: (.*)" % queue_id, text)
    m_out = re.search(r"%s: reply filter out: (.*)" % queue_id, text)
    return (m_in.group(1) if m_in else None, m_out.group(1) if m_out else None)


def rejects(tap, pf, daemon, port, connect_port):
    cases = [
        # (address, what the client must read, what the filter got)
        ("odd@localhost",
         ["550 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"],
         "557 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"),
        ("relay@localhost",
         ["550 5.7.1 <relay@localhost>: Recipient address rejected: Relay not authorized"],
         "572 5.7.1 <relay@localhost>: Recipient address rejected: Relay not authorized"),
        ("pct@localhost",
         ["550 5.7.1 <pct@localhost>: Recipient address rejected: Over 50% of your quota"],
         "557 5.7.1 <pct@localhost>: Recipient address rejected: Over 50% of your quota"),
        ("multi@localhost", ["550-5.7.1 line one", "550 5.7.1 line two"],
         "557-5.7.1 line one\r\n557 4.7.1 line two"),
    ]
    for addr, want, key in cases:
        since = pf.log_offset()
        dsince = daemon.log_offset()
        got = rcpt(port, addr)
        tap.is_(got, want, "%s: the client reads the normalized reply" % addr)
        pf.wait_log(r"reply filter out:", 5, since)
        pin, pout = filter_pair(pf, since)
        tap.ok(pin is not None and pout is not None and pout.startswith(want[0]),
               "%s: Postfix logs the reply filter pair" % addr, diag=repr((pin, pout)))
        m = daemon.wait_log(r"filter: map=reject phase=\S+ in=", 5, dsince)
        tap.ok(m is not None and key.replace("\r\n", "\\r\\n") in m.string,
               "%s: smtpreply-milter logs before and after" % addr,
               diag=m.string if m else mta.read_log(daemon.log_file, dsince))
    # the phase told by the text, and the non-standard code by name
    log = daemon.log()
    tap.ok(re.search(r'filter: map=reject phase=rcpt in="557 5\.7\.1 <odd@localhost>: .*'
                     r'normalized="code-nonstandard 557 -> 550"', log),
           "the phase comes from 'Recipient address rejected'", diag=log)
    tap.ok("filter: map=reject reply code 557: Too many duplicate messages (anti-spam) "
           "(not an RFC 5321 code), sent as 550 5.7.1" in log,
           "a non-standard code is logged by name")
    tap.ok(re.search(r'filter: map=reject phase=unknown in="557-5\.7\.1 line one\\r\\n557 '
                     r'4\.7\.1 line two" out="550-5\.7\.1 line one\\r\\n550 5\.7\.1 line two"'
                     r' normalized="code-nonstandard 557 -> 550, multiline-enhanced-mismatch',
                     log), "a third-party milter's multi-line reply, made consistent", diag=log)
    # 550 4.7.1 in an access map: Postfix forces the class itself
    since = pf.log_offset()
    got = rcpt(port, "mismatch@localhost")
    tap.is_(got, ["550 5.7.1 <mismatch@localhost>: Recipient address rejected: Access denied"],
            "550 4.7.1 in an access map: the client reads 550 5.7.1")
    time.sleep(0.3)
    tap.ok(filter_pair(pf, since) == (None, None),
           "550 4.7.1 in an access map: Postfix fixed the class before the filter (NOTFOUND)")
    # a sender reject at RCPT (delayed): the sender's status code
    # (Postfix fits access-map codes to the sender itself: 5.1.1 -> 5.1.7;
    # the phase table agrees, so the filter leaves it)
    since = pf.log_offset()
    got = rcpt(port, "any@localhost", sender="sender@localhost")
    tap.is_(got, ["550 5.1.7 <sender@localhost>: Sender address rejected: No such sender here"],
            "a sender reject sent at RCPT keeps its sender's code")
    time.sleep(0.3)
    tap.ok(filter_pair(pf, since) == (None, None),
           "... which the phase table recognizes as a sender's (NOTFOUND)")
    # what Postfix does with an access value that is only an enhanced code
    since = pf.log_offset()
    got = rcpt(port, "bare@localhost")
    tap.is_(got, ["451 4.3.5 Server configuration error"],
            "'5.7.1 Go away' in an access map: Postfix's own 451 4.3.5, left alone")
    tap.ok(filter_pair(pf, since) == (None, None),
           "Postfix's 451 4.3.5 passes the filter unchanged (NOTFOUND)")
    # a correct reply: NOTFOUND, no filter lines
    since, dsince = pf.log_offset(), daemon.log_offset()
    got = rcpt(port, "ok@localhost")
    tap.is_(got, ["550 5.7.1 <ok@localhost>: Recipient address rejected: Mailbox unavailable"],
            "a correct reply reaches the client unchanged")
    time.sleep(0.3)
    tap.ok(filter_pair(pf, since) == (None, None) and
           "filter: map=" not in mta.read_log(daemon.log_file, dsince),
           "a correct reply: NOTFOUND, nothing logged by either")
    # smtpreply-milter's own rule: normalized by the milter, unchanged by the filter
    since, dsince = pf.log_offset(), daemon.log_offset()
    got = rcpt(port, "milt@localhost")
    tap.is_(got, ["550 5.7.1 Milter relay denied"],
            "the milter's own 572 arrives as 550 5.7.1")
    time.sleep(0.3)
    tap.ok(filter_pair(pf, since) == (None, None) and
           "filter: map=" not in mta.read_log(daemon.log_file, dsince),
           "the milter's own reply passes the filter unchanged")
    # RBL-style 554 at connect (smtpd_delay_reject = no)
    c = mta.SmtpClient("127.0.0.1", connect_port)
    counters_at = daemon.log_offset()
    greeting = c.connect()
    r = c.cmd("EHLO client.test.invalid")
    c.quit()
    want = ("554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Service unavailable; "
            "Client host [127.0.0.1] blocked using zen.example.invalid")
    tap.is_(greeting, [want], "RBL-style 554 at connect: the greeting, unchanged")
    tap.is_(r, ["503 5.7.0 Error: access denied for localhost[127.0.0.1]"],
            "... then Postfix's own 503 to EHLO, unchanged")
    m = daemon.wait_log(r'filter: map=reject', 0.5, counters_at)
    tap.ok(m is None, "the connect-time 554 and the 503: NOTFOUND (already right)",
           diag=m.string if m else None)
    counters = daemon.log_offset()
    daemon.signal(signal.SIGUSR1)
    m = daemon.wait_log(r"counters: filter map=reject lookups=", 5, counters)
    tap.ok(m is not None and re.search(r"changed=\d+", m.string) and "557=" in m.string,
           "SIGUSR1 logs the filter's counters", diag=m.string if m else daemon.log())


def reload_settings(tap, pf, daemon, port):
    since = daemon.log_offset()
    daemon.write_conf(CONF % {"filter_port": daemon_filter_port(daemon), "extra": RELOADED})
    daemon.signal(signal.SIGHUP)
    tap.ok(daemon.wait_log(r"reloaded: configuration", 10, since) is not None,
           "reload: the new settings are taken")
    got = rcpt(port, "odd@localhost")
    tap.is_(got, ["554 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"],
            "reload: 557 is now replaced as the new 'normalize' block says (554)")


def daemon_filter_port(daemon):
    with open(daemon.conf) as f:
        return int(re.search(r'filter = \{ socket = "inet:(\d+)@', f.read()).group(1))


def daemon_stopped(tap, pf, daemon, port):
    daemon.stop()
    since = pf.log_offset()
    got = rcpt(port, "odd@localhost")
    tap.is_(got, ["557 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"],
            "daemon stopped: Postfix sends its own reply, unfiltered")
    m = pf.wait_log(r"warning: socketmap:inet:127\.0\.0\.1:\d+:reject lookup error", 5, since)
    tap.ok(m is not None, "daemon stopped: Postfix logs a lookup error",
           diag=mta.read_log(pf.log_file, since))
    tap.ok(filter_pair(pf, since) == (None, None), "daemon stopped: no reply filter lines")
    # and it comes back (Milter.start() may see the first start's line)
    off = daemon.log_offset()
    daemon.start()
    daemon.wait_log(r"serving as uid", 10, off)
    got = rcpt(port, "relay@localhost")
    tap.is_(got, ["550 5.7.1 <relay@localhost>: Recipient address rejected: Relay not authorized"],
            "daemon back: the filter works again (Postfix reconnects)")


def filter_only(tap, base):
    """socket = "none": the filter without a milter socket."""
    port = mta.free_port()
    sub = os.path.join(base, "filter-only")
    os.makedirs(sub)
    d = Milter(sub, "none", 'socket = "none";\nfilter = { socket = "inet:%d@127.0.0.1"; '
               'max_connections = 2; };\n' % port)
    r = subprocess.run([mta.MILTER, "-t", "-c", d.conf], capture_output=True, text=True)
    tap.ok(r.returncode == 0 and ("reply filter: socket inet:%d@127.0.0.1, maps reject and reply, "
                                  "max_connections 2" % port) in r.stdout,
           "-t shows the filter socket", diag=r.stdout + r.stderr)
    nothing = os.path.join(sub, "nothing.conf")
    with open(nothing, "w") as f:
        f.write('socket = "none";\n')
    r = subprocess.run([mta.MILTER, "-t", "-c", nothing], capture_output=True, text=True)
    tap.ok(r.returncode == 1 and 'socket "none" and no filter socket: nothing to serve' in r.stderr,
           "socket none without a filter: refused", diag=r.stderr)
    try:
        d.start()
        tap.ok(re.search(r"started: .*socket none, .*filter socket inet:%d@127\.0\.0\.1" % port,
                         d.log()), "filter only: started without a milter socket", diag=d.log())
        tap.is_(socketmap_lookup(port, "reject", "572 5.7.1 <a@b>: Recipient address rejected: x"),
                "OK 550 5.7.1 <a@b>: Recipient address rejected: x", "filter only: map reject")
        tap.is_(socketmap_lookup(port, "reply", "550 4.7.1 no"), "OK 550 5.7.1 no",
                "filter only: map reply")
        tap.is_(socketmap_lookup(port, "reply", "250-PIPELINING"), "NOTFOUND ",
                "filter only: a 2xx line is left alone")
        tap.is_(socketmap_lookup(port, "nosuch", "x"), "PERM unknown map", "unknown map: PERM")
        # a framing error: one PERM, then the connection is closed
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"12:reject 550 x;")
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        tap.is_(got, b"31:PERM bad request: missing comma,",
                "a missing comma: PERM, then the daemon closes the connection")
        # max_connections = 2: a third connection is closed at once, the
        # first two are served
        a = socket.create_connection(("127.0.0.1", port), timeout=5)
        b = socket.create_connection(("127.0.0.1", port), timeout=5)
        time.sleep(0.3)
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            c.sendall(ns(b"reply 550 4.7.1 no"))
            third = c.recv(4096)
        except OSError:
            third = b""
        for s in (a, b):
            s.sendall(ns(b"reply 550 4.7.1 no"))
        tap.ok(third == b"" and a.recv(4096) == b"15:OK 550 5.7.1 no," and
               b.recv(4096) == b"15:OK 550 5.7.1 no,",
               "max_connections: the third connection is closed, the first two served",
               diag=repr(third))
        for s in (a, b, c):
            s.close()
        tap.ok(d.wait_log(r"warning: filter: 2 connections already \(max_connections\)", 5),
               "max_connections: logged")
    finally:
        d.stop()


def chrooted(tap, base, root, filter_port):
    """The documented set-ups for a chrooted smtpd: the inet socket as it is,
    and the filter's unix socket in the queue directory, named by a path
    relative to it (contrib/postfix/reply-filter.cf)."""
    port, inet_port = mta.free_port(), mta.free_port()
    pf = postfix311.Postfix311(root, os.path.join(base, "chroot-postfix"), port, params={
        "smtpd_reject_filter_maps": contrib_value("smtpd_reject_filter_maps", "unix:", 0),
        "smtpd_recipient_restrictions": "check_recipient_access texthash:{conf_dir}/access, "
                                        "permit_mynetworks, reject_unauth_destination",
    }, maps={"access": ACCESS}, master_extra=[
        "127.0.0.1:%d inet n - y - - smtpd -o smtpd_reject_filter_maps=%s"
        % (inet_port, contrib_value("smtpd_reject_filter_maps", "inet:", filter_port))])
    # the first smtpd of this instance runs chrooted in its queue directory too
    plain_master_cf = pf.master_cf
    pf.master_cf = lambda: plain_master_cf().replace(
        "127.0.0.1:%d inet n - n - - smtpd" % port, "127.0.0.1:%d inet n - y - - smtpd" % port)
    sockdir = os.path.join(pf.queue_dir, "smtpreply")
    d = None
    try:
        pf.start()
        os.makedirs(sockdir, exist_ok=True)
        sub = os.path.join(base, "chroot-filter")
        os.makedirs(sub)
        d = Milter(sub, "none", 'socket = "none";\ngroup = "postfix";\nfilter = { socket = '
                   '"unix:%s/filter.sock"; socket_mode = "0660"; };\n' % sockdir)
        d.start()
        st = os.stat(os.path.join(sockdir, "filter.sock"))
        tap.is_(oct(st.st_mode & 0o777), oct(0o660), "unix socket: mode as configured")
        want = ["550 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"]
        tap.is_(rcpt(port, "odd@localhost"), want,
                "chrooted smtpd: the filter's unix socket inside the chroot works")
        # (the main daemon, which still has the reloaded settings: 557 -> 554)
        tap.is_(rcpt(inet_port, "odd@localhost"),
                ["554 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages"],
                "chrooted smtpd: the filter's inet socket works")
        with open(os.path.join(pf.conf_dir, "master.cf")) as f:
            chrooted_smtpds = [l for l in f if re.search(r" inet n - y - - smtpd", l)]
        tap.is_(len(chrooted_smtpds), 2, "both smtpd services really were chrooted")
    finally:
        if d is not None:
            d.stop()
        pf.stop()


if __name__ == "__main__":
    sys.exit(main())
