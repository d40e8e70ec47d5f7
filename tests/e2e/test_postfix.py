#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_postfix.py - smtpreply-milter behind a real Postfix, end to end.

Starts a private Postfix (tests/e2e/mta.py: its own configuration, queue and
log under a temporary directory, smtpd on 127.0.0.1:PORT, nothing delivered)
and smtpreply-milter in the foreground on a loopback port, plays SMTP sessions
with a raw client and asserts the exact reply lines the client receives, what
Postfix logs (never "malformed reply", never "451 4.3.5") and what the milter
logs. Both are stopped by PID at the end. Needs root (Postfix's master) and
Debian's postfix package; under CI=true a missing one is a failure.

Environment: SMTPREPLY_MILTER (the binary; default ../../_build/smtpreply-milter).
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

class SourcedClient(mta.SmtpClient):
    """An SMTP client whose connection comes from a chosen loopback address."""

    def __init__(self, source, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout,
                                             source_address=(self.source, 0))
        self.sock.settimeout(self.timeout)
        self.closed = False
        self.buf = b""
        return self.reply()


RULES = mta.NORMALIZE + r'''
socket_mode = "0660";
group = "postfix";
rules = (
	{ name = "connect-reject"; phase = "connect"; client = "127.0.0.2";
	  action = "reject"; reply = "550 5.7.1 No connections from ${client_addr}"; },
''' + mta.COMMON_RULES + r'''
	{ name = "rcpt-probe"; phase = "rcpt"; rcpt = "/^<probe@/"; action = "reject";
	  reply = "550 5.7.1 configuration one"; },
	{ name = "header-hold"; phase = "header"; header = { name = "X-Mailer"; value = "/^MassMailer/"; };
	  action = "quarantine"; reply = "mass mailer from ${client_addr}"; }
);
'''


def ehlo_mail(c, sender, helo="client.test.invalid"):
    c.connect()
    c.cmd("EHLO " + helo)
    return c.cmd("MAIL FROM:<%s>" % sender)


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    mta.need_milter()
    base = tempfile.mkdtemp(prefix="smtpreply-e2e-")
    os.chmod(base, 0o755)
    smtp_port = mta.free_port()
    milter_port = mta.free_port()
    access = ("denied@localhost 550 5.1.1 User unknown here\n"
              "odd@localhost 557 5.7.1 Too many duplicate messages\n")
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), smtp_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
        "milter_default_action": "tempfail",
        "mydestination": "localhost",
        "smtpd_recipient_restrictions":
            "check_recipient_access texthash:{conf_dir}/access, "
            "permit_mynetworks, reject_unauth_destination",
    }, maps={"access": access})
    milter = mta.Milter(base, "inet:%d@127.0.0.1" % milter_port, RULES)
    try:
        milter.start()
        pf.start()
        tap.run(scenarios, tap, pf, milter, smtp_port)
        tap.run(reload_scenarios, tap, pf, milter, smtp_port)
        tap.run(signals_and_stop, tap, pf, milter)
        tap.run(unix_socket, tap, pf, base)
        tap.run(inet6_socket, tap, pf, base)
        tap.run(config_test, tap, base)
        tap.run(daemon_mode, tap, base)
    finally:
        milter.stop()
        pf.stop()
    log = pf.maillog()
    tap.ok("malformed reply" not in log, "Postfix never logged 'malformed reply'",
           diag=[l for l in log.splitlines() if "malformed" in l])
    tap.ok("4.3.5" not in log, "Postfix never answered 451 4.3.5 (milter dropped)",
           diag=[l for l in log.splitlines() if "4.3.5" in l])
    tap.ok(not mta.leftover_postfix_processes(pf.conf_dir), "no Postfix process left")
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("postfix log:\n" + log)
    return tap.done()


def scenarios(tap, pf, milter, port):
    # connect reject: Postfix turns a 5xx at CONNECT into its own 554
    # greeting, and rejects every command with the milter's reply
    c = SourcedClient("127.0.0.2", "127.0.0.1", port)
    tap.is_(c.connect(), ["554 mx.test.invalid ESMTP not accepting connections"],
            "connect reject: Postfix greets with 554")
    r = c.cmd("EHLO client.test.invalid")
    r = c.cmd("MAIL FROM:<a@client.test.invalid>")
    tap.is_(r, ["550 5.7.1 No connections from 127.0.0.2"],
            "connect reject: later commands get the milter's reply")
    tap.ok(milter.wait_log(r"phase=connect client=unknown\[127\.0\.0\.2\] rule=connect-reject "
                           r"action=reject reply=\"550 5\.7\.1 No connections from 127\.0\.0\.2\""),
           "connect reject: the milter logged the verdict")
    c.close()

    # HELO reject: answered 250, applied at MAIL
    c = mta.SmtpClient("127.0.0.1", port)
    c.connect()
    r = c.cmd("EHLO bad.helo.example")
    tap.ok(r and r[-1].startswith("250"), "HELO reject: EHLO itself is answered 250", diag=r)
    r = c.cmd("MAIL FROM:<a@client.test.invalid>")
    tap.is_(r, ["550 5.7.1 HELO bad.helo.example refused"],
            "HELO reject: applied at MAIL, with the enhanced code it lacked")
    c.quit()

    # MAIL reject: an address code fitted to the sender (X.1.1 -> X.1.0)
    c = mta.SmtpClient("127.0.0.1", port)
    r = ehlo_mail(c, "spammer@client.test.invalid")
    tap.is_(r, ["550 5.1.0 Sender <spammer@client.test.invalid> unknown"],
            "MAIL reject: 5.1.1 fitted to a sender as 5.1.0")
    c.quit()

    # RCPT: class mismatch fixed, 572 replaced, 100% intact, multi-line,
    # and the milter still active for the later recipients of the session
    c = mta.SmtpClient("127.0.0.1", port)
    r = ehlo_mail(c, "sender@client.test.invalid")
    tap.is_(r, ["250 2.1.0 Ok"], "MAIL accepted")
    tap.is_(c.cmd("RCPT TO:<mismatch@localhost>"),
            ["550 5.7.1 Recipient address rejected: Access denied"],
            "RCPT reject configured 550 4.7.1 arrives as 550 5.7.1")
    tap.is_(c.cmd("RCPT TO:<ok1@localhost>"), ["250 2.1.5 Ok"],
            "a later recipient of the same session is accepted")
    tap.is_(c.cmd("RCPT TO:<relay@localhost>"), ["550 5.7.1 Relay not permitted"],
            "572 arrives as 550 5.7.1: the milter is still active in the session")
    tap.is_(c.cmd("RCPT TO:<grey@localhost>"),
            ["451 4.7.1 Greylisted, 100% sure, come back later"],
            "tempfail text with 100% arrives intact")
    tap.is_(c.cmd("RCPT TO:<multi@localhost>"),
            ["550-5.7.1 This relay was retired.",
             "550 5.7.1 Please use mx.example.org instead."], "multi-line reply")
    tap.is_(c.cmd("RCPT TO:<denied@localhost>"),
            ["550 5.1.1 <denied@localhost>: Recipient address rejected: User unknown here"],
            "Postfix's own reject (access map)")
    tap.is_(c.cmd("RCPT TO:<ok2@localhost>"), ["250 2.1.5 Ok"], "another good recipient")
    tap.is_(c.cmd("RCPT TO:<nb@localhost>"), ["550 5.7.1 Access denied"],
            "a reply configured without its basic code arrives with the one recovered, "
            "no remnant of the enhanced code in the text")
    tap.is_(c.cmd("RCPT TO:<blanks@localhost>"), ["550 5.7.1 two spaces"],
            "a reply configured with two blanks after the code: its enhanced code is seen, "
            "none is added")
    tap.is_(c.cmd("RCPT TO:<ok3@localhost>"), ["250 2.1.5 Ok"],
            "the milter is still active after the recovered replies")
    r = c.data(mta.message(subject="Cheap PILLS today", rcpt="ok1@localhost"))
    tap.ok(len(r) == 1 and re.fullmatch(r"550 5\.7\.1 Message [0-9A-F]+ rejected: "
                                        r"content not accepted", r[0]) is not None,
           "end-of-message reject from a header rule, queue id filled in", diag=r)
    c.quit()
    mta.common_rules_logged(tap, milter)
    tap.ok(milter.wait_log(r"[0-9A-F]+: audit: mta rejected to=<denied@localhost> "
                           r"reply=\"5\.1\.1 Recipient address rejected: User unknown here\" "
                           r"\(basic code not exposed by the MTA\) diagnostics: none"),
           "Postfix's own recipient reject audited in the milter's log")
    tap.ok(pf.wait_log(r"milter-reject: END-OF-MESSAGE .*5\.7\.1 Message"),
           "Postfix logged the end-of-message milter reject")

    # accept skips later rules; without it the later rule rejects
    c = mta.SmtpClient("127.0.0.1", port)
    ehlo_mail(c, "vip@client.test.invalid")
    tap.is_(c.cmd("RCPT TO:<catch@localhost>"), ["250 2.1.5 Ok"],
            "accept at MAIL: later rules of the message do not run")
    c.cmd("RSET")
    c.cmd("MAIL FROM:<plain@client.test.invalid>")
    tap.is_(c.cmd("RCPT TO:<catch@localhost>"), ["550 5.7.1 Caught by a later rule"],
            "the next message of the session is checked again")
    c.quit()

    # discard: the client sees success, Postfix drops the message
    c = mta.SmtpClient("127.0.0.1", port)
    ehlo_mail(c, "sender@client.test.invalid")
    tap.is_(c.cmd("RCPT TO:<blackhole@localhost>"), ["250 2.1.5 Ok"], "discard: RCPT accepted")
    r = c.data(mta.message(subject="into the void", rcpt="blackhole@localhost"))
    tap.ok(r and r[0].startswith("250 2.0.0 Ok: queued as"), "discard: message accepted", diag=r)
    c.quit()
    tap.ok(pf.wait_log(r"milter-discard: RCPT"), "discard: Postfix logged milter-discard")

    # quarantine: the message is put on hold
    c = mta.SmtpClient("127.0.0.1", port)
    ehlo_mail(c, "sender@client.test.invalid")
    c.cmd("RCPT TO:<held@localhost>")
    r = c.data(mta.message(subject="newsletter", rcpt="held@localhost",
                           headers=["X-Mailer: MassMailer 3.1"]))
    tap.ok(r and r[0].startswith("250 2.0.0 Ok: queued as"), "quarantine: message accepted", diag=r)
    qid = r[0].rsplit(" ", 1)[-1] if r else "?"
    c.quit()
    tap.ok(pf.wait_log(r"%s: milter-hold: END-OF-MESSAGE " % qid),
           "quarantine: Postfix logged milter-hold")
    tap.ok(milter.wait_log(r"%s: phase=header .* rule=header-hold action=quarantine "
                           r"reason=\"mass mailer from 127\.0\.0\.1\"" % qid),
           "quarantine: the milter logged the reason")
    held = os.listdir(os.path.join(pf.queue_dir, "hold"))
    tap.ok(qid in held, "quarantine: the message is in the hold queue", diag=held)


def probe(port):
    c = mta.SmtpClient("127.0.0.1", port)
    ehlo_mail(c, "sender@client.test.invalid")
    r = c.cmd("RCPT TO:<probe@localhost>")
    c.quit()
    return r


def reload_scenarios(tap, pf, milter, port):
    tap.is_(probe(port), ["550 5.7.1 configuration one"], "before reload: configuration one")
    # a session in flight keeps the configuration it started with
    inflight = mta.SmtpClient("127.0.0.1", port)
    ehlo_mail(inflight, "sender@client.test.invalid")
    since = milter.log_offset()
    milter.write_conf(RULES.replace("configuration one", "configuration two"))
    milter.signal(signal.SIGHUP)
    tap.ok(milter.wait_log(r"reloaded: configuration .*smtpreply\.conf, 15 rules", since=since),
           "SIGHUP with a good file: reloaded")
    tap.is_(probe(port), ["550 5.7.1 configuration two"], "a new session uses the new file")
    tap.is_(inflight.cmd("RCPT TO:<probe@localhost>"), ["550 5.7.1 configuration one"],
            "the session in flight finishes on the configuration it started with")
    inflight.quit()
    since = milter.log_offset()
    milter.write_conf(RULES.replace("configuration one", "configuration three")
                      .replace('action = "discard";', 'action = "explode";'))
    milter.signal(signal.SIGHUP)
    m = milter.wait_log(r"smtpreply\.conf:\d+: rule 'rcpt-discard': unknown action 'explode'",
                        since=since)
    tap.ok(m, "SIGHUP with a broken file: the error is logged with file and line")
    tap.ok(milter.wait_log(r"reload: .* has errors; keeping the running configuration",
                           since=since), "SIGHUP with a broken file: the old one stays")
    tap.is_(probe(port), ["550 5.7.1 configuration two"], "still configuration two")
    tap.ok(milter.proc.poll() is None, "the milter is still running after two reloads")


def signals_and_stop(tap, pf, milter):
    since = milter.log_offset()
    milter.signal(signal.SIGUSR1)
    tap.ok(milter.wait_log(r"counters: verdicts: .*reject=\d+", since=since),
           "SIGUSR1 logs the verdicts by action")
    tap.ok(milter.wait_log(r"counters: normalizations: .*enhanced-class-mismatch=\d+", since=since),
           "SIGUSR1 logs the normalizations by diagnostic id")
    tap.ok(milter.wait_log(r"counters: nonstandard codes replaced: .*572=\d+", since=since),
           "SIGUSR1 logs the non-standard codes by code")
    tap.ok(milter.wait_log(r"counters: mta rejects audited=[1-9]", since=since),
           "SIGUSR1 logs the audited MTA rejects")
    uid = None
    with open("/proc/%d/status" % milter.proc.pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
    import pwd
    tap.is_(uid, pwd.getpwnam(mta.MILTER_USER).pw_uid, "mail is served as the configured user")
    rc = milter.stop()
    tap.is_(rc, 0, "SIGTERM: the milter exits 0")
    tap.ok(re.search(r"stopping on signal 15", milter.log()) and
           re.search(r"\]: stopped$", milter.log(), re.M), "SIGTERM: stopped cleanly")


def unix_socket(tap, pf, base):
    """A unix socket with mode and group set, used by Postfix's smtpd (user postfix)."""
    path = os.path.join(base, "milter.sock")
    m = mta.Milter(base, "unix:" + path, RULES)
    m.log_file = os.path.join(base, "milter-unix.log")
    m.start()
    try:
        st = os.stat(path)
        import grp
        tap.is_(oct(st.st_mode & 0o777), oct(0o660), "unix socket: socket_mode 0660")
        tap.is_(st.st_gid, grp.getgrnam("postfix").gr_gid, "unix socket: group postfix")
        pf.reload({"smtpd_milters": "unix:" + path})
        c = mta.SmtpClient("127.0.0.1", pf.port)
        ehlo_mail(c, "sender@client.test.invalid")
        tap.is_(c.cmd("RCPT TO:<mismatch@localhost>"),
                ["550 5.7.1 Recipient address rejected: Access denied"],
                "unix socket: Postfix gets the normalized reply")
        c.quit()
    finally:
        tap.is_(m.stop(), 0, "unix socket: the milter exits 0")


def inet6_socket(tap, pf, base):
    """The milter on inet6:PORT@::1, Postfix connecting to inet:[::1]:PORT."""
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as e:
        tap.skip("inet6 socket", "no IPv6 loopback here: %s" % e, count=2)
        return
    port = mta.free_port()
    m = mta.Milter(base, "inet6:%d@::1" % port, RULES)
    m.log_file = os.path.join(base, "milter-inet6.log")
    m.start()
    try:
        pf.reload({"smtpd_milters": "inet:[::1]:%d" % port, "inet_protocols": "all"})
        c = mta.SmtpClient("127.0.0.1", pf.port)
        ehlo_mail(c, "sender@client.test.invalid")
        tap.is_(c.cmd("RCPT TO:<mismatch@localhost>"),
                ["550 5.7.1 Recipient address rejected: Access denied"],
                "inet6 socket: Postfix gets the normalized reply over ::1")
        c.quit()
    finally:
        pf.reload({"inet_protocols": "ipv4"})
        tap.is_(m.stop(), 0, "inet6 socket: the milter exits 0")


def config_test(tap, base):
    """-t on a broken file, and the refusal to serve mail as root."""
    bad = os.path.join(base, "broken.conf")
    with open(bad, "w") as f:
        f.write('socket = 8891;\nrules = (\n { name = "r"; phase = "rcpt"; action = "tempfail";\n'
                '   reply = "550 5.7.1 no"; },\n { name = "s"; phase = "lunch"; action = "reject"; }\n);\n')
    r = subprocess.run([mta.MILTER, "-t", "-c", bad], capture_output=True, text=True)
    tap.is_(r.returncode, 1, "-t on a broken file exits 1")
    lines = r.stderr.splitlines()
    tap.ok("%s:1: 'socket' must be a string, not an integer" % bad in lines,
           "-t: wrong type, with file and line", diag=lines)
    tap.ok("%s:4: rule 'r': action tempfail needs a 4xx reply, not 550" % bad in lines,
           "-t: class that does not fit the action, with file and line", diag=lines)
    tap.ok(any(l.startswith("%s:5: rule 's': unknown phase 'lunch'" % bad) for l in lines),
           "-t: unknown phase, with file and line", diag=lines)
    good = os.path.join(base, "smtpreply.conf")
    r = subprocess.run([mta.MILTER, "-t", "-c", good], capture_output=True, text=True)
    tap.is_(r.returncode, 0, "-t on a good file exits 0 (it opts in to replies without code)")
    tap.ok("sent as:    550 5.7.1 Access denied" in r.stdout,
           "-t shows the reply recovered from 5.7.1 as it will be sent", diag=r.stdout)
    strict = os.path.join(base, "strict.conf")
    with open(strict, "w") as f:
        f.write('rules = (\n { name = "nb"; phase = "rcpt"; rcpt = "/^<nb@/"; action = "reject";\n'
                '   reply = "5.7.1 Access denied"; }\n);\n')
    rs = subprocess.run([mta.MILTER, "-t", "-c", strict], capture_output=True, text=True)
    tap.is_(rs.returncode, 1, "-t: a reply without its basic code exits 1 without the opt-in")
    tap.ok("%s:3: rule 'nb': reply \"5.7.1 Access denied\" has no basic code; it would be "
           "sent as \"550 5.7.1 Access denied\"" % strict in rs.stderr,
           "-t: file:line and the reply as it would be sent", diag=rs.stderr)
    tap.ok("sent as:    550 5.7.1 Access denied" in rs.stdout,
           "-t: the report still shows the reply as sent", diag=rs.stdout)
    tap.ok("rule 'rcpt-mismatch'" in r.stdout and
           "changed:    enhanced-class-mismatch: 550 4.7.1 -> 550 5.7.1" in r.stdout and
           "sent as:    550 5.7.1 Recipient address rejected: Access denied" in r.stdout,
           "-t shows the reply as it will be sent and the change", diag=r.stdout)
    r = subprocess.run([mta.MILTER, "-f", "-c", good, "-p", "inet:%d@127.0.0.1" % mta.free_port()],
                       capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode != 0 and "running as root: set 'user'" in r.stderr,
           "as root without a user it refuses to serve mail", diag=r.stderr)


def daemon_mode(tap, base):
    """Without -f: detach, pid file, the starter's exit status tells the truth."""
    conf = os.path.join(base, "daemon.conf")
    pidfile = os.path.join(base, "milter.pid")
    with open(conf, "w") as f:
        f.write('pidfile = "%s";\nuser = "%s";\n' % (pidfile, mta.MILTER_USER))
    os.chmod(conf, 0o644)
    port = mta.free_port()
    r = subprocess.run([mta.MILTER, "-c", conf, "-p", "inet:%d@127.0.0.1" % port],
                       capture_output=True, text=True, timeout=20)
    tap.is_(r.returncode, 0, "daemon: the starter exits 0 once it serves mail")
    pid = None
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pass
    tap.ok(pid is not None and os.path.exists("/proc/%d" % pid),
           "daemon: the pid file names the running daemon", diag=r.stderr)
    tap.ok(mta.port_open("127.0.0.1", port), "daemon: it listens")
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        tap.ok(not os.path.exists("/proc/%d" % pid), "daemon: SIGTERM stops it")
    # a failure after detaching (the pid file cannot be written)
    with open(conf, "w") as f:
        f.write('pidfile = "%s/no/such/dir/x.pid";\nuser = "%s";\n' % (base, mta.MILTER_USER))
    r = subprocess.run([mta.MILTER, "-c", conf, "-p", "inet:%d@127.0.0.1" % mta.free_port()],
                       capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode == 1 and "not started" in r.stderr,
           "daemon: a failure after detaching makes the starter exit 1", diag=[r.returncode, r.stderr])


if __name__ == "__main__":
    sys.exit(main())
