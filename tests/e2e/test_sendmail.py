#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_sendmail.py - smtpreply-milter behind a real sendmail 8.17, end to end.

Debian 12's sendmail packages are fetched with apt-get download and unpacked
into the build tree (tests/e2e/sendmail.py; kept there for the next run), never
installed: sendmail-bin conflicts with postfix. A private sendmail
configuration (its own .cf built with m4 from an .mc that includes
contrib/sendmail/smtpreply.mc, queue, aliases, access map and log, all under a
temporary directory) runs in -bs mode, SMTP on its standard input and output:
no daemon, no port. smtpreply-milter runs in the foreground on a loopback port
(18000-18999). The test plays SMTP sessions and asserts the exact reply lines
sendmail writes, what sendmail logs (its syslog lines are captured in a private
mount namespace) and what the milter logs. Every process is stopped by PID.

Needs root, m4, unshare and mount (util-linux, mount), Debian's apt-get and a
package index (apt-get update) for the first run; under CI=true a missing one is
a failure, elsewhere a skip. strace, when present, checks which files sendmail
opens.

Environment: SMTPREPLY_MILTER, SMTPREPLY (the binaries; default
../../_build/...), top_srcdir, top_builddir (as make check sets them),
SR_E2E_KEEP=1 keeps the temporary directory. Prints TAP.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import sendmail  # noqa: E402

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")
SMTPREPLY = os.environ.get("SMTPREPLY") or os.path.join(HERE, "..", "..", "_build", "smtpreply")
CONTRIB_MC = os.path.join(TOP_SRCDIR, "contrib", "sendmail", "smtpreply.mc")
PORTS = (18000, 19000)
HOST = sendmail.HOSTNAME

# The Postfix test's rules where sendmail can play them, and a few for what
# only sendmail shows. In -bs mode sendmail passes the milter the client name
# "localhost" and no address: the connect rule matches a macro the session
# sets on sendmail's command line (-M{smtpreply_test}connect-reject), added to
# the connect macros in the .mc.
RULES = mta.NORMALIZE + r'''
log = { level = "debug"; };
rules = (
	{ name = "connect-reject"; phase = "connect";
	  macro = { name = "{smtpreply_test}"; value = "/^connect-reject$/"; };
	  action = "reject"; reply = "550 5.7.1 No connections from ${client_name}"; },
''' + mta.COMMON_RULES + r'''
	{ name = "rcpt-noenh"; phase = "rcpt"; rcpt = "/^<busy@/"; action = "tempfail";
	  reply = "450 Mailbox busy"; },
	{ name = "header-tempfail"; phase = "header"; header = { name = "Subject"; value = "/try later/i"; };
	  action = "tempfail"; reply = "451 4.7.1 Message ${queue_id} deferred: 100% busy"; },
	{ name = "header-hold"; phase = "header"; header = { name = "X-Mailer"; value = "/^MassMailer/"; };
	  action = "quarantine"; reply = "mass mailer from ${client_name}"; }
);
'''

# Local recipients without a passwd entry: aliases, so that sendmail accepts
# them and the milter decides. Any other local name is "User unknown".
ALIASES = {n: "root" for n in ("mismatch relay grey multi busy catch blackhole held "
                               "nb blanks ok1 ok2 spf c557 pct nocode").split()}
# sendmail's own rejects with a non-standard code: the access map (check_rcpt)
# and ruleset 5 (Local_localaddr, run by recipient() for local names).
ACCESS = "To:odd@\tERROR:5.7.1:557 Too many duplicate messages\n"
MC_EXTRA = [
    "LOCAL_RULESETS",
    "SLocal_localaddr",
    'Rodd5\t$#error $@ 5.7.1 $: "557 Too many duplicate messages"',
]

# (scenario, [(command, reply lines)]) for the closing notes.
TRANSCRIPTS = []


def filter_mc():
    """contrib/sendmail/smtpreply.mc with its socket replaced by "{socket}"."""
    with open(CONTRIB_MC) as f:
        text = f.read()
    want = "S=inet:8891@localhost"
    if want not in text:
        raise RuntimeError("%s has no %s to replace" % (CONTRIB_MC, want))
    return text.replace(want, "S={socket}")


def session(sm, name, commands, args=()):
    """Run one sendmail -bs session (with more sendmail args): commands are
    lines or ("DATA", message); QUIT is added. Returns [greeting, reply, ...]
    and keeps the transcript for the closing notes."""
    c = sm.session(args)
    replies = [c.connect()]
    log = [("(greeting)", replies[0])]
    try:
        for cmd in commands:
            if isinstance(cmd, tuple):
                r = c.data(cmd[1])
                log.append(("DATA + message", r))
            else:
                r = c.cmd(cmd)
                log.append((cmd, r))
            replies.append(r)
        log.append(("QUIT", c.quit()))
    finally:
        c.close()
    TRANSCRIPTS.append((name, log))
    sm.sessions.append(c)
    return replies


def msg(subject, rcpt="ok1@localhost", headers=None):
    return mta.message(subject=subject, sender="sender@client.test.invalid", rcpt=rcpt,
                       headers=headers)


def main():
    tap = mta.Tap()
    if os.geteuid() != 0:
        mta.cannot_run("needs root (sendmail -bs with a private configuration runs as root)")
    mta.need_milter()
    for prog, pkg in (("m4", "m4"), ("unshare", "util-linux"), ("mount", "mount"),
                      ("hostname", "hostname")):
        if shutil.which(prog) is None:
            mta.cannot_run("%s not found (Debian package: %s)" % (prog, pkg))
    why = sendmail.namespaces_work()
    if why:
        mta.cannot_run("sendmail runs in private mount and UTS namespaces: %s" % why)
    t0 = time.monotonic()
    try:
        root = sendmail.fetch(log=tap.diag)
    except sendmail.FetchError as e:
        mta.cannot_run("cannot fetch Debian's sendmail: %s" % e)
    tap.diag("sendmail unpacked in %s (%s; fetch %.1f s)"
             % (root, ", ".join(sendmail.fetched_info(root)), time.monotonic() - t0))

    base = tempfile.mkdtemp(prefix="smtpreply-e2e-sendmail-")
    os.chmod(base, 0o755)
    port = mta.free_port(*PORTS)
    milter = mta.Milter(base, "inet:%d@127.0.0.1" % port, RULES)
    sm = sendmail.PrivateSendmail(
        os.path.join(base, "sendmail"), root, milter="inet:%d@127.0.0.1" % port,
        access=ACCESS, aliases=ALIASES, mc_extra=MC_EXTRA,
        milter_macros={"CONNECT": "{smtpreply_test}"})
    sm.sessions = []
    try:
        if tap.run(start, tap, milter, sm, port, description="starting the milter and "
                   "building the sendmail configuration"):
            tap.run(connect_and_helo, tap, sm, milter)
            tap.run(mail_rcpt_eom, tap, sm, milter)
            tap.run(own_rejects, tap, sm, milter)
            tap.run(accept_discard_quarantine, tap, sm, milter)
            tap.run(files_touched, tap, sm)
            tap.run(log_audit, tap, sm)
            tap.run(proxy_children, tap, sm, milter, root, base)
            tap.run(milter_down, tap, sm, milter)
    finally:
        milter.stop()
        sm.close()
    left = [(c.pid, c.leftovers) for c in sm.sessions if c.leftovers or sendmail.alive(c.pid)]
    tap.ok(not left, "every sendmail process exited; none was left in its process group",
           diag=left)
    for name, log in TRANSCRIPTS:
        tap.diag("%s:" % name)
        for cmd, reply in log:
            tap.diag("  %-40s -> %s" % (cmd, " | ".join(reply)))
    tap.diag("total %.1f s" % (time.monotonic() - t0))
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("sendmail log:\n" + sm.log())
        tap.diag("kept %s" % base)
    elif os.environ.get("SR_E2E_KEEP") != "1":
        shutil.rmtree(base, ignore_errors=True)
    return tap.done()


def start(tap, milter, sm, port):
    """The milter, then the .cf from an .mc that includes
    contrib/sendmail/smtpreply.mc (its socket replaced), the maps, the aliases."""
    milter.start()
    sm.filter_mc = filter_mc()
    sm.setup()
    with open(sm.cf) as f:
        cf = f.read()
    return tap.ok("S=inet:%d@127.0.0.1, F=T, T=S:10s;R:10s;E:5m" % port in cf
                  and "O InputMailFilters=smtpreply" in cf,
                  "the .cf built from contrib/sendmail/smtpreply.mc has the milter")


def connect_and_helo(tap, sm, milter):
    # connect reject: sendmail greets 554 and answers every command with its
    # own 550 5.0.0 Command rejected; the milter's text is not used (Debian's
    # 8.17 is built without _FFR_MILTER_CONNECT_REPLYCODE)
    r = session(sm, "connect reject (-M{smtpreply_test}connect-reject)",
                ["EHLO client.test.invalid", "MAIL FROM:<a@client.test.invalid>",
                 "RCPT TO:<ok1@localhost>"], ["-M{smtpreply_test}connect-reject"])
    tap.is_(r[0], ["554 %s ESMTP not accepting messages" % HOST],
            "connect reject: sendmail greets with 554")
    tap.is_(r[1], ["250-%s Hello root@localhost, pleased to meet you" % HOST,
                   "250 ENHANCEDSTATUSCODES"],
            "connect reject: EHLO is answered 250, no extensions")
    tap.is_(r[2], ["550 5.0.0 Command rejected"],
            "connect reject: MAIL gets sendmail's own reply, not the milter's")
    tap.is_(r[3], ["550 5.0.0 Command rejected"], "connect reject: so does RCPT")
    tap.ok(milter.wait_log(r"NOQUEUE: phase=connect client=localhost\[unknown\] "
                           r"rule=connect-reject action=reject "
                           r"reply=\"550 5\.7\.1 No connections from localhost\""),
           "connect reject: the milter logged the verdict (client localhost, no address)")
    if sm.have_log():
        tap.ok(sm.wait_log(r"Milter: connect: host=localhost, addr=0, rejecting commands"),
               "connect reject: sendmail logged 'rejecting commands'")
    else:
        tap.skip("connect reject: sendmail's log", "no /dev/log to replace")

    # HELO reject: EHLO answered 250, every later command gets the reply
    r = session(sm, "HELO reject", ["EHLO bad.helo.example", "MAIL FROM:<a@client.test.invalid>",
                                    "RCPT TO:<ok1@localhost>"])
    tap.is_(r[0][0][:4], "220 ", "HELO reject: greeting 220")
    tap.is_(r[1], ["250-%s Hello root@localhost, pleased to meet you" % HOST,
                   "250 ENHANCEDSTATUSCODES"], "HELO reject: EHLO itself is answered 250")
    tap.is_(r[2], ["550 5.7.1 HELO bad.helo.example refused"],
            "HELO reject: applied at MAIL, with the enhanced code it lacked")
    tap.is_(r[3], ["550 5.7.1 HELO bad.helo.example refused"], "HELO reject: and at RCPT")
    tap.ok(milter.wait_log(r"phase=helo client=localhost\[unknown\] helo=<bad\.helo\.example> "
                           r"rule=helo-reject action=reject reply=\"550 5\.7\.1 HELO "
                           r"bad\.helo\.example refused\" normalized=\"enhanced-missing 550 -> "
                           r"550 5\.7\.1\""), "HELO reject: the milter logged the verdict")


def mail_rcpt_eom(tap, sm, milter):
    since = sm.log_offset()
    r = session(sm, "MAIL reject", ["EHLO client.test.invalid",
                                    "MAIL FROM:<spammer@client.test.invalid>"])
    tap.is_(r[2], ["550 5.1.0 <spammer@client.test.invalid>... Sender "
                   "<spammer@client.test.invalid> unknown"],
            "MAIL reject: 5.1.1 fitted to a sender as 5.1.0 (sendmail puts the address first)")

    # RCPT: class mismatch fixed, 572 replaced, 100% intact, multi-line; the
    # milter stays in the session; then end-of-message reject and tempfail
    cmds = ["EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
            "RCPT TO:<mismatch@localhost>", "RCPT TO:<ok1@localhost>",
            "RCPT TO:<relay@localhost>", "RCPT TO:<grey@localhost>",
            "RCPT TO:<multi@localhost>", "RCPT TO:<busy@localhost>", "RCPT TO:<ok2@localhost>",
            ("DATA", msg("Cheap PILLS today")),
            "MAIL FROM:<sender@client.test.invalid>", "RCPT TO:<ok1@localhost>",
            ("DATA", msg("please try later"))]
    r = session(sm, "MAIL, RCPT and end-of-message verdicts", cmds)
    tap.is_(r[2], ["250 2.1.0 <sender@client.test.invalid>... Sender ok"], "MAIL accepted")
    tap.is_(r[3], ["550 5.7.1 <mismatch@localhost>... Recipient address rejected: Access denied"],
            "RCPT reject configured 550 4.7.1 arrives as 550 5.7.1")
    tap.is_(r[4], ["250 2.1.5 <ok1@localhost>... Recipient ok"],
            "a later recipient of the same session is accepted")
    tap.is_(r[5], ["550 5.7.1 <relay@localhost>... Relay not permitted"],
            "572 arrives as 550 5.7.1: the milter is still active in the session")
    tap.is_(r[6], ["451 4.7.1 Greylisted, 100% sure, come back later"],
            "tempfail text with 100% arrives intact, as a 4xx (not 550 5.7.1 Command rejected)")
    tap.is_(r[7], ["550-5.7.1 <multi@localhost>... This relay was retired.",
                   "550 5.7.1 Please use mx.example.org instead."], "multi-line reply")
    tap.is_(r[8], ["450 4.7.1 <busy@localhost>... Mailbox busy"],
            "a 4xx without enhanced code gets 4.7.1 from the milter (sendmail would add 4.0.0)")
    tap.is_(r[9], ["250 2.1.5 <ok2@localhost>... Recipient ok"], "another good recipient")
    # near misses in the configuration: what the client sees
    r2 = session(sm, "replies configured without a code, with two blanks",
                 ["EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
                  "RCPT TO:<nb@localhost>", "RCPT TO:<blanks@localhost>",
                  "RCPT TO:<ok1@localhost>"])
    tap.is_(r2[3], ["550 5.7.1 <nb@localhost>... Access denied"],
            "a reply configured as 5.7.1 (no basic code) arrives as 550 5.7.1, "
            "no remnant of the enhanced code in the text")
    tap.is_(r2[4], ["550 5.7.1 <blanks@localhost>... two spaces"],
            "a reply configured with two blanks after the code arrives with its own "
            "enhanced code, none added")
    tap.is_(r2[5], ["250 2.1.5 <ok1@localhost>... Recipient ok"],
            "the milter is still active after them")
    m = re.fullmatch(r"550 5\.7\.1 Message ([0-9A-Za-z]+) rejected: content not accepted",
                     r[10][0] if len(r[10]) == 1 else "")
    tap.ok(m, "end-of-message reject from a header rule, queue id filled in", diag=r[10])
    tap.is_(r[11], ["250 2.1.0 <sender@client.test.invalid>... Sender ok"],
            "the next message of the session")
    m2 = re.fullmatch(r"451 4\.7\.1 Message ([0-9A-Za-z]+) deferred: 100% busy",
                      r[13][0] if len(r[13]) == 1 else "")
    tap.ok(m2, "end-of-message tempfail with 100% arrives intact, queue id filled in", diag=r[13])
    mta.common_rules_logged(tap, milter)
    if m:
        tap.ok(milter.wait_log(r"%s: phase=header .* rule=header-reject action=reject"
                               % m.group(1)),
               "the milter logged the header reject with its queue id")
    else:
        tap.skip("the milter logged the header reject with its queue id", "no queue id")
    if sm.have_log():
        tap.ok(sm.wait_log(r"Milter: to=<grey@localhost>, reject=451 4\.7\.1 Greylisted, "
                           r"100%% sure, come back later$", since=since),
               "sendmail logs the reply as libmilter handed it (% doubled)")
        tap.ok(sm.wait_log(r"Milter: to=<multi@localhost>, reject=550-5\.7\.1 This relay was "
                           r"retired\.\\r\\n550 5\.7\.1 Please use mx\.example\.org instead\.$",
                           since=since), "sendmail logs a multi-line reply with \\r\\n in it")
        tap.ok(sm.wait_log(r"Milter: data, reject=550 5\.7\.1 Message \w+ rejected: content not "
                           r"accepted", since=since), "sendmail logged the end-of-message reject")
    else:
        tap.skip("sendmail's log of the milter's replies", "no /dev/log to replace", count=3)


def own_rejects(tap, sm, milter):
    """sendmail's own recipient rejects: which ones reach the milter
    (SMFIP_RCPT_REJ) and what it audits."""
    since = milter.log_offset()
    r = session(sm, "sendmail's own recipient rejects",
                ["EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
                 "RCPT TO:<nosuchuser@localhost>", "RCPT TO:<odd@localhost>",
                 "RCPT TO:<odd5@localhost>", "RCPT TO:<ok1@localhost>"])
    tap.is_(r[3], ["550 5.1.1 <nosuchuser@localhost>... User unknown"],
            "sendmail's own reject: a local user not in the passwd file")
    tap.is_(r[4], ["557 5.7.1 Too many duplicate messages"],
            "sendmail's own reject: access map To:odd@ ERROR:5.7.1:557")
    tap.is_(r[5], ["557 5.7.1 Too many duplicate messages"],
            "sendmail's own reject: ruleset 5 (Local_localaddr) $#error 557")
    tap.is_(r[6], ["250 2.1.5 <ok1@localhost>... Recipient ok"], "a good recipient after them")
    tap.ok(milter.wait_log(r"negotiation: MTA offers actions 0x1ff, steps 0x1fffff; asked for "
                           r"actions 0x20, steps 0x950"),
           "negotiation: sendmail offers SMFIP_RCPT_REJ (0x800) and the milter takes it")
    tap.ok(milter.wait_log(r"\w+: audit: mta rejected to=<nosuchuser@localhost> "
                           r"reply=\"550 5\.1\.1 User unknown\" diagnostics: none$", since=since),
           "User unknown audited with basic code, enhanced code and text ({rcpt_addr})")
    # Wait for the good recipient after them: everything before it is logged.
    milter.wait_log(r"phase=rcpt: no rule decides", since=since)
    log = milter.log()[since:]
    tap.ok("to=<odd@localhost>" not in log,
           "an access-map reject (check_rcpt) never reaches the milter: sendmail 8.17 passes "
           "only recipient()-stage rejects", diag=[l for l in log.splitlines() if "odd@" in l])
    tap.ok(not re.search(r"audit: mta reply code 557", log),
           "so the milter cannot flag sendmail's own 557 (smtpreply audit on the log does)")
    bad = [l for l in log.splitlines() if re.search(r'to=<odd5@localhost> reply="odd5"', l)]
    tap.ok(not bad, "a ruleset-5 reject is audited without taking {rcpt_addr} (the local "
           "part) for the reply", diag=bad)


def accept_discard_quarantine(tap, sm, milter):
    r = session(sm, "accept, then a later message", [
        "EHLO client.test.invalid", "MAIL FROM:<vip@client.test.invalid>",
        "RCPT TO:<catch@localhost>", "RSET", "MAIL FROM:<plain@client.test.invalid>",
        "RCPT TO:<catch@localhost>"])
    tap.is_(r[3], ["250 2.1.5 <catch@localhost>... Recipient ok"],
            "accept at MAIL: later rules of the message do not run")
    tap.is_(r[6], ["550 5.7.1 <catch@localhost>... Caught by a later rule"],
            "the next message of the session is checked again")

    since = sm.log_offset()
    r = session(sm, "discard", ["EHLO client.test.invalid",
                                "MAIL FROM:<sender@client.test.invalid>",
                                "RCPT TO:<blackhole@localhost>",
                                ("DATA", msg("into the void", rcpt="blackhole@localhost"))])
    tap.is_(r[3], ["250 2.1.5 <blackhole@localhost>... Recipient ok"], "discard: RCPT accepted")
    m = re.fullmatch(r"250 2\.0\.0 (\w+) Message accepted for delivery", r[4][0] if r[4] else "")
    tap.ok(m, "discard: message accepted", diag=r[4])
    if m:
        tap.ok(m.group(1) not in sm.queue_files(), "discard: the message is not in the queue",
               diag=sm.queue_files())
    if sm.have_log():
        tap.ok(sm.wait_log(r"Milter: to=<blackhole@localhost>, discard", since=since)
               and sm.wait_log(r"to=<blackhole@localhost>, .*stat=discarded", since=since),
               "discard: sendmail logged the milter's discard and stat=discarded")
    else:
        tap.skip("discard: sendmail's log", "no /dev/log to replace")

    since = sm.log_offset()
    r = session(sm, "quarantine", ["EHLO client.test.invalid",
                                   "MAIL FROM:<sender@client.test.invalid>",
                                   "RCPT TO:<held@localhost>",
                                   ("DATA", msg("newsletter", rcpt="held@localhost",
                                                headers=["X-Mailer: MassMailer 3.1"]))])
    m = re.fullmatch(r"250 2\.0\.0 (\w+) Message accepted for delivery", r[4][0] if r[4] else "")
    tap.ok(m, "quarantine: message accepted", diag=r[4])
    qid = m.group(1) if m else "?"
    tap.ok(milter.wait_log(r"%s: phase=header .* rule=header-hold action=quarantine "
                           r"reason=\"mass mailer from localhost\"" % qid),
           "quarantine: the milter logged the reason")
    qf = sm.queue_files().get(qid)
    tap.ok(qf is not None and qf["file"] == "hf" + qid
           and "qmass mailer from localhost" in qf["lines"],
           "quarantine: the queue file is hf%s (quarantined) with the reason on its q line" % qid,
           diag=qf)
    held = sm.mailq(quarantined=True)
    tap.ok(re.search(r"^%s .*\n\s+QUARANTINE: mass mailer from localhost$" % qid, held, re.M),
           "quarantine: sendmail -bp -qQ lists it with the reason", diag=held)
    plain = sm.mailq()
    tap.ok(qid not in plain, "quarantine: plain sendmail -bp does not list it", diag=plain)
    if sm.have_log():
        tap.ok(sm.wait_log(r"%s: milter=smtpreply, quarantine=mass mailer from localhost" % qid,
                           since=since), "quarantine: sendmail logged it")
    else:
        tap.skip("quarantine: sendmail's log", "no /dev/log to replace")


def _trace_files(trace):
    """[(syscall, path, flags, ok)] of the file system calls in an strace -f
    -e trace=%file output, relative paths resolved against each process's last
    chdir."""
    cwd = {}
    res = []
    rx = re.compile(r'^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)')
    with open(trace, errors="replace") as f:
        for line in f:
            m = rx.match(line)
            if not m:
                continue
            pid, call, args, rc = m.group(1), m.group(2), m.group(3), int(m.group(4))
            paths = re.findall(r'"([^"]*)"', args)
            if not paths:
                continue
            if call == "chdir" and rc == 0:
                cwd[pid] = paths[0]
            if "O_PATH" in args:
                continue        # a path walk (glibc, safefile checks): nothing read
            at_fd = call.endswith("at") and not args.startswith("AT_FDCWD")
            for p in paths[:2] if call in ("rename", "renameat", "renameat2", "link",
                                           "linkat", "symlink") else paths[:1]:
                if not p.startswith("/"):
                    if at_fd:
                        continue    # relative to a directory descriptor
                    p = os.path.normpath(os.path.join(cwd.get(pid, "/"), p))
                res.append((call, p, args, rc >= 0))
    return res


WRITES = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
MODIFY = ("unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
          "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "chown", "fchownat",
          "lchown", "truncate", "utimensat", "creat", "mknod", "mknodat")


def files_touched(tap, sm):
    """One session and one -bp under strace: sendmail writes in its private
    directory only and never opens /etc/mail."""
    if shutil.which("strace") is None:
        tap.skip("sendmail's file accesses", "strace not found (Debian package: strace)", count=3)
        return
    trace = os.path.join(sm.base, "strace.out")
    wrapper = ["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace]
    c = sm.session(wrapper=wrapper)
    c.connect()
    for cmd in ("EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
                "RCPT TO:<ok1@localhost>", "RCPT TO:<nosuchuser@localhost>"):
        c.cmd(cmd)
    c.data(msg("traced"))
    c.quit()
    sm.sessions.append(c)
    calls = _trace_files(trace)
    r = sm.run(["-bp"], wrapper=["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace + ".bp"])
    calls += _trace_files(trace + ".bp")
    private = sm.base + "/"
    etc_mail = [(call, p) for call, p, args, ok in calls
                if (p == "/etc/mail" or p.startswith("/etc/mail/"))
                and call in ("open", "openat", "creat") + MODIFY]
    tap.ok(not etc_mail, "sendmail opens nothing in /etc/mail", diag=etc_mail)
    outside = sorted({(call, p) for call, p, args, ok in calls
                      if not p.startswith(private) and p not in ("/dev/null",)
                      and (call in MODIFY or (call in ("open", "openat") and WRITES.search(args)))})
    tap.ok(not outside, "sendmail writes nothing outside its private directory (but /dev/null)",
           diag=outside)
    wrote = sorted({p[len(private):] for call, p, args, ok in calls if ok and p.startswith(private)
                    and (call in MODIFY or (call in ("open", "openat") and WRITES.search(args)))})
    tap.ok(any(w.startswith("queue/qf") for w in wrote) and r.returncode == 0,
           "sendmail wrote its queue files in the private queue", diag=wrote)
    read = sorted({p for call, p, args, ok in calls if ok and call in ("open", "openat")
                   and not p.startswith(private) and not p.startswith(sm.root + "/")
                   and not re.match(r"/(usr/)?lib/", p) and not WRITES.search(args)
                   and p not in ("/", ".")})
    looked = sorted({p for call, p, args, ok in calls if p.startswith("/etc/mail")})
    tap.diag("sendmail wrote (in %s): %s" % (sm.base, ", ".join(
        sorted({re.sub(r"(qf|df|tf|xf|hf)\w+", r"\1*", w) for w in wrote}))))
    tap.diag("sendmail read outside it (libraries aside; /etc/hosts is the private hosts "
             "file bound over it): %s" % ", ".join(read))
    tap.diag("sendmail looked for (compiled-in, before it reads -C's file; an empty "
             "directory is bound over /etc/mail when there is one): %s" % ", ".join(looked))


def log_audit(tap, sm):
    """smtpreply audit over sendmail's real log lines: its own 557, which the
    milter never sees, is flagged there."""
    if not sm.have_log():
        tap.skip("smtpreply audit on sendmail's log", "no /dev/log to replace", count=2)
        return
    if not os.access(SMTPREPLY, os.X_OK):
        tap.skip("smtpreply audit on sendmail's log", "smtpreply not built: %s" % SMTPREPLY,
                 count=2)
        return
    r = subprocess.run([SMTPREPLY, "audit", "--fail-on", "never", sm.log_file],
                       capture_output=True, text=True, timeout=60)
    section = r.stdout.split("Non-standard basic codes", 1)[-1].split("\n\n", 1)[0]
    tap.ok(r.returncode == 0 and re.search(r"^\s+557\s+\d+\s+Too many duplicate messages "
                                           r"\(anti-spam\)$", section, re.M),
           "smtpreply audit flags sendmail's own 557 in its log", diag=r.stdout + r.stderr)
    diags = r.stdout.split("Diagnostics", 1)[-1]
    tap.ok("multiline-separator" not in diags,
           "smtpreply audit reads sendmail's logged multi-line reply (\\r\\n inside) as one reply",
           diag=diags)


# (recipient, what sendmail answered with the child named directly, through
# the proxy): the pymilter child of tests/e2e/children.py.
PROXY_CASES = [
    ("spf", "550 4.7.23 <spf@localhost>... SPF fail: sender not permitted",
     "550 5.7.23 <spf@localhost>... SPF fail: sender not permitted"),
    ("c557", "557 5.7.1 Too many duplicate messages",
     "550 5.7.1 <c557@localhost>... Too many duplicate messages"),
    ("pct", "550 5.7.1 <pct@localhost>... Command rejected",
     "451 4.7.1 Greylisted, 100% sure, come back later"),
    ("nocode", "550 5.7.1 <nocode@localhost>... Command rejected",
     "550 5.7.1 <nocode@localhost>... Command rejected"),
]


def proxy_children(tap, sm, milter, root, base):
    """smtpreply-milter as a proxy under sendmail: the misbehaving pymilter
    child behind it (configuration reloaded with SIGHUP), and the same child
    named directly by a second private sendmail, to show the difference."""
    import signal
    from test_proxy import CHILD_PYTHON, Child
    if subprocess.run([CHILD_PYTHON, "-c", "import Milter"], capture_output=True).returncode:
        if os.environ.get("CI", "").lower() == "true":
            tap.ok(False, "proxy under sendmail: python3-milter missing")
        else:
            tap.skip("proxy under sendmail", "python3-milter missing", len(PROXY_CASES) * 2)
        return
    child = Child(base, "bad", mta.free_port(*PORTS)).start()
    direct = sendmail.PrivateSendmail(os.path.join(base, "sendmail-direct"), root,
                                      milter=child.socket, aliases=ALIASES)
    direct.sessions = []
    try:
        direct.setup()
        off = milter.log_offset()
        milter.write_conf(RULES + '\nmilters = ( { name = "bad"; socket = "%s"; } );\n'
                          % child.socket)
        milter.signal(signal.SIGHUP)
        tap.ok(milter.wait_log(r"reload", since=off), "proxy under sendmail: reloaded with a "
               "child")
        for local, without, through in PROXY_CASES:
            rcpt = "RCPT TO:<%s@localhost>" % local
            d = session(direct, "the child named directly: %s" % local,
                        ["EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
                         rcpt])
            tap.is_(d[3], [without], "sendmail, child named directly: %s" % local)
            r = session(sm, "the child behind the proxy: %s" % local,
                        ["EHLO client.test.invalid", "MAIL FROM:<sender@client.test.invalid>",
                         rcpt, "RCPT TO:<ok1@localhost>"])
            tap.is_(r[3], [through], "sendmail, child behind the proxy: %s" % local)
            tap.ok(r[4] and r[4][0].startswith("250"),
                   "sendmail, behind the proxy: the next recipient after %s is accepted"
                   % local, diag=r[4])
    finally:
        direct.close()
        child.stop()


def milter_down(tap, sm, milter):
    rc = milter.stop()
    tap.is_(rc, 0, "SIGTERM: the milter exits 0")
    r = session(sm, "milter down (F=T)", ["EHLO client.test.invalid",
                                          "MAIL FROM:<sender@client.test.invalid>"])
    tap.is_(r[2], ["451 4.3.2 Please try again later"],
            "milter down: F=T makes sendmail tempfail MAIL")
    if sm.have_log():
        tap.ok(sm.wait_log(r"Milter: initialization failed, temp failing commands"),
               "milter down: sendmail logged it")
    else:
        tap.skip("milter down: sendmail's log", "no /dev/log to replace")


if __name__ == "__main__":
    sys.exit(main())
