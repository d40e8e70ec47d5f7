#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""filter_bench.py - what the reply filter costs a reject: "make bench-filter".

One private Postfix 3.11.6 (tests/e2e/postfix311.py: built once from the
vendored source into the build tree; loopback only, nothing delivered) with
three smtpd services, identical but for smtpd_reject_filter_maps:

  (a) none
  (b) pcre: a table doing the same rewrites by hand, as an administrator would
      write today (557/572 -> 550, class fixed)
  (c) socketmap:inet:127.0.0.1:PORT:reject served by smtpreply-milter

A client plays SMTP sessions (EHLO, MAIL, then N rejected RCPTs: an access
map answers 557, 572 and 550 4.7.1 in turn) and times each RCPT round trip:
the reject latency the client sees. Rounds are interleaved (round r of every
configuration, in a rotating order, before round r + 1 of any), the figure of
a round is its median, and the table gives the median of the rounds and the
difference to (a) and (b). The goal: (c) within +0.2 ms of (b) per reject.

Then the socketmap service alone: one connection, Q lookups pipelined in
batches (the keys Postfix sends for the rejects above, a correct reply and a
remote server's line), sent by bench/sockmap_load (C; a Python client when it
is not built), timed from the first byte sent to the last reply byte;
lookups/s of wall time and of the daemon's own CPU time (utime + stime from
/proc, i.e. one core, since it serves lookups from one thread). Goal:
100,000 lookups/s or more.

Figures, not assertions: PASS/MISS lines compare them with the goals. Exit
status 0, or 1 when something could not run (not root, no Postfix 3.11, a
daemon that does not start), 2 on bad usage. Every process started is stopped.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import mta  # noqa: E402
import postfix311  # noqa: E402
from mta import Milter  # noqa: E402

ACCESS = """\
odd@localhost 557 Too many duplicate messages
relay@localhost 572 Relay not authorized
mismatch@localhost 550 4.7.1 Access denied
"""

# What an administrator writes today for the same three rewrites.
PCRE = r"""# replies are keys; $1 is the rest after the codes
/^55[7] ([245]\.[0-9]{1,3}\.[0-9]{1,3} )?(.*)$/ 550 5.7.1 $2
/^57[2] ([245]\.[0-9]{1,3}\.[0-9]{1,3} )?(.*)$/ 550 5.7.1 $2
/^(5[0-9][0-9]) 4\.([0-9]{1,3}\.[0-9]{1,3}) (.*)$/ $1 5.$2 $3
"""

RCPTS = ["odd@localhost", "relay@localhost", "mismatch@localhost"]

KEYS = [b"reject 557 5.7.1 <odd@localhost>: Recipient address rejected: Too many duplicate messages",
        b"reject 572 5.7.1 <relay@localhost>: Recipient address rejected: Relay not authorized",
        b"reject 550 5.7.1 <ok@localhost>: Recipient address rejected: Mailbox unavailable",
        b"reply 550 4.7.1 no"]


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def session(port, n):
    """One session with n rejected RCPTs; the round trip of each, in ms."""
    c = mta.SmtpClient("127.0.0.1", port, timeout=30)
    out = []
    try:
        c.connect()
        c.cmd("EHLO bench.test.invalid")
        c.cmd("MAIL FROM:<bench@client.test.invalid>")
        for i in range(n):
            cmd = ("RCPT TO:<%s>\r\n" % RCPTS[i % len(RCPTS)]).encode()
            t0 = time.perf_counter()
            c.send(cmd)
            r = c.reply()
            out.append((time.perf_counter() - t0) * 1000.0)
            if not r or not r[0].startswith("5"):
                raise RuntimeError("unexpected reply %r" % r)
    finally:
        c.quit()
    return out


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck


def lookups(port, total, batch, pid):
    """Pipelined lookups; (wall s, daemon cpu s)."""
    req = b"".join(ns(KEYS[i % len(KEYS)]) for i in range(batch))
    # the replies to one batch, measured once
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(req)
        want, got = 0, b""
        # read until every reply of the batch is in: count netstrings
        while True:
            got += s.recv(1 << 20)
            n, off = 0, 0
            while True:
                m = re.match(rb"(\d+):", got[off:])
                if not m or off + m.end() + int(m.group(1)) + 1 > len(got):
                    break
                off += m.end() + int(m.group(1)) + 1
                n += 1
            if n == batch:
                want = len(got)
                break
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        for _ in range(total // batch):
            s.sendall(req)
            left = want
            while left > 0:
                left -= len(s.recv(min(left, 1 << 20)))
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
    return wall, cpu


def lookups_c(client, port, total, batch, pid):
    """The same with the C load generator (bench/sockmap_load): the client
    costs far less than the daemon; (wall s, daemon cpu s)."""
    keys = [k.decode() for k in KEYS]
    cpu0 = cpu_seconds(pid)
    r = subprocess.run([client, "127.0.0.1", str(port), str(total), str(batch)] + keys,
                       capture_output=True, text=True, timeout=600)
    cpu = cpu_seconds(pid) - cpu0
    if r.returncode != 0:
        raise RuntimeError("sockmap_load failed: %s" % r.stderr.strip())
    n, wall = r.stdout.split()
    return float(wall), cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description="reject latency through Postfix 3.11's reject filter")
    ap.add_argument("--build-dir", default=os.getcwd())
    ap.add_argument("--top-srcdir", default=os.path.dirname(HERE))
    ap.add_argument("-r", "--rounds", type=int, default=7)
    ap.add_argument("-n", "--rejects", type=int, default=300, help="rejected RCPTs per round")
    ap.add_argument("--lookups", type=int, default=400000, help="socketmap lookups (alone)")
    ap.add_argument("--batch", type=int, default=2000, help="lookups pipelined per batch")
    ap.add_argument("--lookup-rounds", type=int, default=5)
    ap.add_argument("--load-client", default=None,
                    help="bench/sockmap_load (C); without it a Python client")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench-filter: needs root (a private Postfix runs as root)")
        return 1
    milter = os.environ.get("SMTPREPLY_MILTER") or os.path.join(args.build_dir, "smtpreply-milter")
    if not os.access(milter, os.X_OK):
        print("bench-filter: %s not built" % milter)
        return 1
    mta.MILTER = milter
    try:
        root = postfix311.ensure_built(args.build_dir, args.top_srcdir, log=print)
    except postfix311.BuildError as e:
        print("bench-filter: Postfix 3.11: %s" % e)
        return 1
    base = tempfile.mkdtemp(prefix="smtpreply-bench-filter-")
    os.chmod(base, 0o755)
    ports = {k: mta.free_port() for k in "abc"}
    fport = mta.free_port()
    conf_dir = os.path.join(base, "postfix", "conf")
    filters = {"a": "", "b": "pcre:%s/pcre" % conf_dir,
               "c": "socketmap:inet:127.0.0.1:%d:reject" % fport}
    master = []
    for k in "abc":
        master.append("127.0.0.1:%d inet n - n - - smtpd -o smtpd_reject_filter_maps=%s"
                      % (ports[k], filters[k]))
    pf = postfix311.Postfix311(root, os.path.join(base, "postfix"), mta.free_port(), params={
        "smtpd_recipient_restrictions": "check_recipient_access texthash:{conf_dir}/access, "
                                        "permit_mynetworks, reject",
        "smtpd_soft_error_limit": "100000", "smtpd_hard_error_limit": "100000",
        "smtpd_error_sleep_time": "0",
    }, maps={"access": ACCESS, "pcre": PCRE}, master_extra=master)
    daemon = Milter(base, "none", 'socket = "none";\nfilter = { socket = "inet:%d@127.0.0.1"; };\n'
                    % fport)
    try:
        daemon.start()
        pf.start()
        # check that each service rewrites as it should, and warm up
        for k in "abc":
            c = mta.SmtpClient("127.0.0.1", ports[k])
            c.connect()
            c.cmd("EHLO bench.test.invalid")
            c.cmd("MAIL FROM:<bench@client.test.invalid>")
            r = c.cmd("RCPT TO:<odd@localhost>")
            c.quit()
            print("(%s) RCPT TO:<odd@localhost> -> %s" % (k, r[0] if r else r))
            session(ports[k], 30)
        per = {k: [] for k in "abc"}
        order = list("abc")
        for rnd in range(args.rounds):
            for k in order:
                per[k].append(statistics.median(session(ports[k], args.rejects)))
            order = order[1:] + order[:1]
        med = {k: statistics.median(per[k]) for k in "abc"}
        print()
        print("Reject latency seen by the client, Postfix 3.11.6, %d rounds x %d rejects "
              "(median of round medians)" % (args.rounds, args.rejects))
        print()
        print("| configuration | ms per reject | vs (a) | vs (b) |")
        print("|---|---|---|---|")
        names = {"a": "(a) no filter", "b": "(b) pcre: table by hand",
                 "c": "(c) smtpreply socketmap"}
        for k in "abc":
            print("| %s | %.3f | %+.3f | %s |" % (names[k], med[k], med[k] - med["a"],
                                                 "%+.3f" % (med[k] - med["b"]) if k != "a" else "-"))
        print()
        # the service alone
        rates, cpurates = [], []
        client = args.load_client if args.load_client and os.access(args.load_client, os.X_OK) \
            else None
        for _ in range(args.lookup_rounds):
            if client:
                wall, cpu = lookups_c(client, fport, args.lookups, args.batch, daemon.proc.pid)
            else:
                wall, cpu = lookups(fport, args.lookups, args.batch, daemon.proc.pid)
            rates.append(args.lookups / wall)
            if cpu > 0:
                cpurates.append(args.lookups / cpu)
        print("Socketmap service alone: %d lookups pipelined in batches of %d, %d rounds (median), "
              "%s client" % (args.lookups, args.batch, args.lookup_rounds,
                             "C (bench/sockmap_load)" if client else "Python"))
        print()
        print("| measure | lookups/s |")
        print("|---|---|")
        print("| wall clock (client and daemon on one machine) | %.0f |" % statistics.median(rates))
        if cpurates:
            print("| daemon CPU time (one thread, one core) | %.0f |" % statistics.median(cpurates))
        print()
        diff = med["c"] - med["b"]
        print("%s: (c) within +0.2 ms of (b) per reject (%+.3f ms)"
              % ("PASS" if diff <= 0.2 else "MISS", diff))
        best = statistics.median(cpurates) if cpurates else statistics.median(rates)
        print("%s: socketmap service at 100,000 lookups/s or more on one core (%.0f)"
              % ("PASS" if best >= 100000 else "MISS", best))
        return 0
    finally:
        daemon.stop()
        pf.stop()


if __name__ == "__main__":
    sys.exit(main())
