#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""milter_bench.py - what a milter costs Postfix: "make bench-milter".

Drives a private Postfix (tests/e2e/mta.py: loopback only, its own queue and
log, everything delivered to "discard") with smtp-source, and prints for each
configuration the messages per second and milliseconds per message, median of
R rounds, with 1 SMTP session (smtp-source -s 1) and with N sessions (-s N):

  (a) no milter
  (b) null milter (bench/null_milter) over TCP
  (c) null milter over a unix socket
  (d) null milter with -n (no DATA callback, SMFIP_NODATA) over TCP: the
      known loopback stall (some 40 ms more per message)
  (e) smtpreply-milter over TCP
  (f) smtpreply-milter over a unix socket
  (g) null milter with -n over a unix socket (only with --configs ...g)
  (h) smtpreply-milter as a proxy (no rules) in front of a null milter, TCP
      on both hops: Postfix -> smtpreply-milter -> the child
  (i) the same over unix sockets

smtpreply-milter runs as "SMTPREPLY_MILTER -f -u nobody -c CONF -p SOCKET",
where CONF is the sample etc/smtpreply.conf (without its socket and pidfile
settings) plus 100 generated rules that never match, over the phases mail,
rcpt and header. If the program is not built yet, (e) and (f) are skipped.

Postfix answers milter trouble with a temporary failure (milter_default_action
= tempfail), so a broken milter shows as failed rounds: smtp-source stops at
the first reply that is not 2xx/3xx; the benchmark prints that reply, the
rejects from Postfix's log and how many messages were accepted.

One Postfix serves every configuration, each on an smtpd of its own
(master.cf "-o smtpd_milters=..."), and every milter runs from the start; the
rounds are interleaved (round r of every configuration, in a rotating order,
before round r + 1 of any), so that the drift of a noisy machine affects all
configurations alike and the ratios compare like with like. Each round is
timed with time.monotonic() around the smtp-source process; the queue is let
drain between rounds. Figures, not assertions: the final PASS/MISS
lines compare smtpreply-milter with the null milter over the same socket type
(throughput >= 0.9 x, and at -s 1 at most 0.5 ms/msg more), and the proxy (h,
i) with the null milter alone over the same socket type (throughput >= 0.9 x,
at -s 1 at most 0.3 ms/msg more). Exit status: 0, or
1 if something could not run at all (not root, no Postfix, a milter or Postfix
that does not start, a series without one good round), 2 on bad usage. Rounds
with failures are left out of the medians and reported.

Every process started is stopped at the end (also on an exception or Ctrl-C).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import mta  # noqa: E402

NEVER_RULES = 100


# ---- smtpreply-milter configuration -------------------------------------------
def _scan_libconfig(text, start):
    """Index of the ')' closing the '(' at text[start], skipping strings and
    comments (#, //, /* */) in libconfig syntax."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            i = text.index("*/", i + 2) + 1
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses in the rules list")


def never_rules(n=NEVER_RULES):
    """n libconfig rule groups that never match, spread over mail, rcpt, header."""
    headers = ["From", "To", "Subject", "Message-Id", "Date"]
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            cond = 'sender = "/^<nobody-%d@nowhere\\\\.invalid>$/";' % i
            phase = "mail"
        elif kind == 1:
            cond = 'rcpt = "/^<nobody-%d@nowhere\\\\.invalid>$/";' % i
            phase = "rcpt"
        else:
            cond = ('header = { name = "%s"; value = "/^never-%d\\\\.invalid$/"; };'
                    % (headers[i % len(headers)], i))
            phase = "header"
        out.append('\t{ name = "bench-never-%d"; phase = "%s"; %s action = "reject"; }'
                   % (i, phase, cond))
    return out


def smtpreply_config(sample_path, unix_socket):
    """The sample configuration without socket/pidfile, with the generated rules
    appended to its rules list (or a new list if it has none)."""
    with open(sample_path) as f:
        text = f.read()
    # Top-level settings only: a line that starts with the name.
    text = re.sub(r"(?m)^(socket|pidfile|socket_mode)\s*[=:][^;]*;[^\n]*\n", "", text)
    gen = never_rules()
    m = re.search(r"(?m)^rules\s*[=:]\s*\(", text)
    if m:
        close = _scan_libconfig(text, m.end() - 1)
        inner = text[m.end():close]
        sep = ",\n" if inner.strip() else "\n"
        text = text[:close].rstrip() + sep + ",\n".join(gen) + "\n" + text[close:]
    else:
        text += "\nrules = (\n" + ",\n".join(gen) + "\n);\n"
    if unix_socket:
        # smtpd runs as user postfix: it must be able to connect.
        text += '\n# benchmark: Postfix (user postfix) connects to the socket\nsocket_mode = "0666";\n'
    return "# generated by bench/milter_bench.py from %s\n%s" % (sample_path, text)


# ---- milters ---------------------------------------------------------------------
class Milter:
    """A milter process: argv with {SOCKET} replaced, started with umask 0."""

    def __init__(self, name, argv, libmilter_socket, postfix_socket, log_path):
        self.name = name
        self.argv = [a.replace("{SOCKET}", libmilter_socket) for a in argv]
        self.lsock = libmilter_socket
        self.psock = postfix_socket
        self.log_path = log_path
        self.proc = None

    def start(self, timeout=10.0):
        if self.lsock.startswith("unix:"):
            try:
                os.unlink(self.lsock[5:])
            except FileNotFoundError:
                pass
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, umask=0, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s at start: %s\n%s"
                                   % (self.name, self.proc.returncode, " ".join(self.argv),
                                      self.log_tail()))
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s does not listen on %s after %.0f s\n%s"
                           % (self.name, self.lsock, timeout, self.log_tail()))

    def ready(self):
        if self.lsock.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(0.5)
                s.connect(self.lsock[5:])
                return True
            except OSError:
                return False
            finally:
                s.close()
        port = int(self.lsock.split(":", 1)[1].split("@", 1)[0])
        return mta.port_open("127.0.0.1", port, 0.5)

    def stop(self, timeout=10.0):
        mta.stop_process(self.proc, timeout)
        self.proc = None

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


# ---- Postfix queue and log ----------------------------------------------------------
def queue_files(pf):
    n = 0
    for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
        for _, _, files in os.walk(os.path.join(pf.queue_dir, sub)):
            n += len(files)
    return n


def drain(pf, timeout=60.0):
    """Wait until the queue is empty (every message discarded)."""
    deadline = time.monotonic() + timeout
    while queue_files(pf) and time.monotonic() < deadline:
        time.sleep(0.05)
    return queue_files(pf) == 0


def log_since(pf, offset):
    with open(pf.log_file, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


# ---- rounds ----------------------------------------------------------------------------
class Result:
    def __init__(self):
        self.times = []           # seconds per good round
        self.failed_rounds = 0
        self.failures = 0         # messages not accepted
        self.errors = []          # distinct error lines

    def add_error(self, line):
        line = line.strip()
        if line and line not in self.errors and len(self.errors) < 10:
            self.errors.append(line)


def run_round(args, pf, port, sessions, msgs, res, timed=True):
    offset = pf.log_offset()
    cmd = [args.smtp_source, "-s", str(sessions), "-m", str(msgs), "-l", str(args.length),
           "-f", "from@bench.example", "-t", "to@bench.example", "-M", "client.bench.example"]
    if args.reuse:
        cmd.append("-d")
    cmd.append("127.0.0.1:%d" % port)
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=args.round_timeout)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = -1, "smtp-source: timed out after %d s\n%s" % (
            args.round_timeout, (e.stderr or b"").decode("utf-8", "replace")
            if isinstance(e.stderr, bytes) else (e.stderr or ""))
    elapsed = time.monotonic() - t0
    drained = drain(pf)
    time.sleep(0.1)  # postlogd writes asynchronously
    log = log_since(pf, offset)
    accepted = len(re.findall(r"status=sent", log))
    rejects, warnings = [], []
    for l in log.splitlines():
        text = re.sub(r"^.*?postfix/[a-z-]+\[\d+\]: (?:[0-9A-F]+: |NOQUEUE: )?", "", l)
        if re.search(r"\breject: ", l):
            rejects.append(text)
        elif re.search(r"\b(warning|error|fatal|panic): ", l):
            warnings.append(text)
    if not timed:
        return rc == 0
    for l in warnings:
        res.add_error(l)
    if rc != 0 or accepted != msgs or rejects or not drained:
        res.failed_rounds += 1
        res.failures += max(0, msgs - accepted)
        for l in err.splitlines():
            res.add_error(l)
        for l in rejects:
            res.add_error(l)
        if not drained:
            res.add_error("queue did not drain: %d files left" % queue_files(pf))
        return False
    res.times.append(elapsed)
    return True


# ---- configurations ----------------------------------------------------------------
CONFIGS = {
    "a": "(a) no milter",
    "b": "(b) null milter, TCP",
    "c": "(c) null milter, unix",
    "d": "(d) null milter -n (no DATA), TCP",
    "e": "(e) smtpreply-milter, TCP",
    "f": "(f) smtpreply-milter, unix",
    "g": "(g) null milter -n (no DATA), unix",
    "h": "(h) smtpreply-milter proxy -> null milter, TCP",
    "i": "(i) smtpreply-milter proxy -> null milter, unix",
}

# What each configuration is compared with: (e, f) and the proxies (h, i)
# with the null milter alone over the same socket type.
REFERENCE = {"e": "b", "f": "c", "h": "b", "i": "c"}


def proxy_config(child_socket, unix_socket):
    """smtpreply-milter with no rules and one child, the null milter."""
    text = ('# generated by bench/milter_bench.py: the proxy alone\n'
            'milters = ( { name = "null"; socket = "%s"; } );\n' % child_socket)
    if unix_socket:
        text += 'socket_mode = "0666";\n'
    return text


def make_child(key, args, work, port):
    """The null milter behind the proxy of (h) or (i), or None."""
    if key not in "hi":
        return None
    if key == "i":
        sock = "unix:" + os.path.join(work, "child-%s.sock" % key)
    else:
        sock = "inet:%d@127.0.0.1" % port
    return Milter("null_milter (child)", [args.null_milter, "-p", "{SOCKET}"], sock, sock,
                  os.path.join(work, "child-%s.log" % key))


def make_milter(key, args, work, port, child=None):
    """(Milter or None, Postfix smtpd_milters value)."""
    if key == "a":
        return None, ""
    unix = key in "cfgi"
    if unix:
        path = os.path.join(work, "milter-%s.sock" % key)
        lsock, psock = "unix:" + path, "unix:" + path
    else:
        lsock, psock = "inet:%d@127.0.0.1" % port, "inet:127.0.0.1:%d" % port
    log = os.path.join(work, "milter-%s.log" % key)
    if key in "bcdg":
        argv = [args.null_milter, "-p", "{SOCKET}"] + (["-n"] if key in "dg" else [])
        return Milter("null_milter", argv, lsock, psock, log), psock
    conf = os.path.join(work, "smtpreply-%s.conf" % key)
    with open(conf, "w") as f:
        if child is not None:
            f.write(proxy_config(child.lsock, unix))
        else:
            f.write(smtpreply_config(args.sample_conf, unix))
    os.chmod(conf, 0o644)
    argv = [args.smtpreply_milter, "-f", "-u", "nobody", "-c", conf, "-p", "{SOCKET}"]
    return Milter("smtpreply-milter", argv, lsock, psock, log), psock


def postfix_params(smtpd_milters):
    return {
        "smtpd_milters": smtpd_milters,
        "milter_default_action": "tempfail",
        "smtpd_client_connection_count_limit": "0",
        "smtpd_client_connection_rate_limit": "0",
        "smtpd_client_message_rate_limit": "0",
        "smtpd_client_recipient_rate_limit": "0",
        "smtpd_client_new_tls_session_rate_limit": "0",
        "smtpd_client_auth_rate_limit": "0",
        "smtpd_client_event_limit_exceptions": "",
        # Measure the milter, not Postfix's flow control or error delays.
        "in_flow_delay": "0",
        "smtpd_error_sleep_time": "0",
        # to@bench.example is relayed (permit_mynetworks) to default_transport,
        # which is discard: nothing ever leaves.
        "mydestination": "localhost",
    }


def postfix_globals():
    """main.cf settings of the benchmark Postfix; each configuration has an
    smtpd of its own (master.cf -o smtpd_milters=...)."""
    return postfix_params("")


def run_all(keys, args, pf, smtpd_ports, milters, results):
    """Every series with the configurations interleaved: round r of each
    configuration runs before round r + 1 of any, in an order that rotates,
    so that drift of the machine affects all of them alike."""
    for sessions, msgs in ((1, args.messages_1), (args.sessions, args.messages_n)):
        for key in keys:
            results[(key, sessions)] = Result()
            if args.warmup:
                run_round(args, pf, smtpd_ports[key], min(sessions, args.warmup),
                          args.warmup, results[(key, sessions)], timed=False)
        for r in range(args.rounds):
            order = keys[r % len(keys):] + keys[:r % len(keys)]
            for key in order:
                res = results[(key, sessions)]
                if res.failed_rounds >= 2 and not res.times:
                    continue  # a broken configuration: do not insist
                run_round(args, pf, smtpd_ports[key], sessions, msgs, res)
        for key in keys:
            res = results[(key, sessions)]
            m = milters.get(key)
            if m is not None and m.proc is not None and m.proc.poll() is not None:
                res.add_error("%s died (status %s): %s" % (m.name, m.proc.returncode,
                                                         m.log_tail(3)))
            print("  %-38s -s %-3d %s" % (CONFIGS[key], sessions, fmt_progress(res, msgs)),
                  flush=True)


def fmt_progress(res, msgs):
    if res.times:
        t = statistics.median(res.times)
        s = "%8.1f msgs/s %8.3f ms/msg (rounds: %s s)" % (
            msgs / t, t * 1000 / msgs, " ".join("%.2f" % x for x in res.times))
    else:
        s = "no good round"
    if res.failed_rounds:
        s += "  [%d failed rounds, %d messages not accepted]" % (res.failed_rounds, res.failures)
    return s


def median_stats(res, msgs):
    if not res or not res.times:
        return None
    t = statistics.median(res.times)
    return msgs / t, t * 1000 / msgs


# ---- main --------------------------------------------------------------------------
def parse_args(argv):
    ap = argparse.ArgumentParser(description="Postfix + milter throughput (smtp-source)")
    ap.add_argument("--build-dir", default=os.getcwd(),
                    help="build directory (default: the current directory)")
    ap.add_argument("--top-srcdir", default=os.path.dirname(HERE),
                    help="source directory (default: this script's parent)")
    ap.add_argument("-r", "--rounds", type=int, default=5, help="rounds per figure (median)")
    ap.add_argument("-s", "--sessions", type=int, default=10,
                    help="parallel sessions of the second series (default 10)")
    ap.add_argument("--messages-1", type=int, default=200, help="messages per round at -s 1")
    ap.add_argument("--messages-n", type=int, default=500,
                    help="messages per round at -s SESSIONS")
    ap.add_argument("-l", "--length", type=int, default=1000, help="message length (smtp-source -l)")
    ap.add_argument("--warmup", type=int, default=20,
                    help="untimed messages before the rounds of a series (0: none)")
    ap.add_argument("--reuse", action="store_true",
                    help="several messages per SMTP session (smtp-source -d)")
    ap.add_argument("--configs", default="abcdefhi",
                    help="which configurations, e.g. abd (default abcdefhi; g: -n over "
                         "unix)")
    ap.add_argument("--ports", default=None,
                    help="LOW-HIGH: take the Postfix and milter ports from this range "
                         "(default: ports the kernel picks)")
    ap.add_argument("--round-timeout", type=int, default=300, help="seconds per smtp-source run")
    ap.add_argument("--null-milter", default=None,
                    help="null milter program (default: BUILD_DIR/bench/null_milter)")
    ap.add_argument("--smtp-source", default=mta.SMTP_SOURCE)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    args.build_dir = os.path.abspath(args.build_dir)
    args.top_srcdir = os.path.abspath(args.top_srcdir)
    if args.null_milter is None:
        args.null_milter = os.path.join(args.build_dir, "bench", "null_milter")
    args.smtpreply_milter = os.environ.get("SMTPREPLY_MILTER") or os.path.join(
        args.build_dir, "smtpreply-milter")
    args.sample_conf = os.path.join(args.top_srcdir, "etc", "smtpreply.conf")
    bad = [c for c in args.configs if c not in CONFIGS]
    if bad or args.rounds < 1 or args.sessions < 1 or args.messages_1 < 1 or args.messages_n < 1:
        ap.error("bad --configs %r or counts" % args.configs)
    return args


def pick_ports(args, n):
    """N distinct free loopback ports (from --ports LOW-HIGH if given)."""
    ports = []
    lo, hi = (int(x) for x in args.ports.split("-")) if args.ports else (None, None)
    while len(ports) < n:
        p = mta.free_port(lo, hi + 1) if lo is not None else mta.free_port()
        if p not in ports:
            ports.append(p)
        if lo is not None:
            lo = p + 1
    return ports


def report(args, results, ran):
    rows = []
    hdr = ("configuration", "sessions", "msgs/s", "ms/msg", "x null", "+ms -s1", "failed")
    for key in ran:
        for sessions in (1, args.sessions):
            res = results.get((key, sessions))
            msgs = args.messages_1 if sessions == 1 else args.messages_n
            st = median_stats(res, msgs)
            ratio = diff = "-"
            ref = REFERENCE.get(key)
            if ref and st:
                rst = median_stats(results.get((ref, sessions)), msgs)
                if rst:
                    ratio = "%.2f" % (st[0] / rst[0])
                    if sessions == 1:
                        diff = "%+.3f" % (st[1] - rst[1])
            failed = "-" if res is None else (
                "%d/%d rounds" % (res.failed_rounds, res.failed_rounds + len(res.times))
                if res.failed_rounds else "0")
            rows.append((CONFIGS[key], str(sessions),
                         "%.1f" % st[0] if st else "-", "%.3f" % st[1] if st else "-",
                         ratio, diff, failed))
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    line = lambda r: "  ".join(  # noqa: E731
        r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r)))
    print()
    print("median of %d rounds; %d messages per round at -s 1, %d at -s %d; "
          "message length %d; %s"
          % (args.rounds, args.messages_1, args.messages_n, args.sessions, args.length,
             "several messages per session (-d)" if args.reuse else "one session per message"))
    print(line(hdr))
    print(line(tuple("-" * w for w in widths)))
    for r in rows:
        print(line(r))
    errs = [(k, s, results[(k, s)]) for k in ran for s in (1, args.sessions)
            if (k, s) in results and results[(k, s)].errors]
    if errs:
        print("\nerrors:")
        for k, s, res in errs:
            for e in res.errors:
                print("  %s -s %d: %s" % (CONFIGS[k], s, e))


def target(args, results, what, key, ref, label, ms_limit, ms_text):
    """The PASS/MISS lines of WHAT (configuration KEY) against REF: throughput
    >= 0.9 x at -s 1 and -s N, and at most MS_LIMIT ms/msg more at -s 1."""
    ratios = []
    for sessions in (1, args.sessions):
        msgs = args.messages_1 if sessions == 1 else args.messages_n
        st = median_stats(results.get((key, sessions)), msgs)
        rst = median_stats(results.get((ref, sessions)), msgs)
        if st and rst:
            ratios.append((sessions, st[0] / rst[0]))
    if len(ratios) < 2:
        print("  n/a   %s throughput, %s: not measured" % (what, label))
    else:
        ok = all(r >= 0.9 for _, r in ratios)
        print("  %-5s %s throughput, %s: %s"
              % ("PASS" if ok else "MISS", what, label,
                 ", ".join("%.2f x at -s %d" % (r, s) for s, r in ratios)))
    st = median_stats(results.get((key, 1)), args.messages_1)
    rst = median_stats(results.get((ref, 1)), args.messages_1)
    if st and rst:
        d = st[1] - rst[1]
        print("  %-5s %s, %s: %+.3f ms/msg (%.3f vs %.3f)"
              % ("PASS" if d <= ms_limit else "MISS", ms_text, label, d, st[1], rst[1]))
    else:
        print("  n/a   %s, %s: not measured" % (ms_text, label))


def summary(args, results):
    print("\ntargets (figures, not assertions):")
    for label, key, ref in (("TCP", "e", "b"), ("unix", "f", "c")):
        target(args, results, "smtpreply-milter >= 0.9 x null milter", key, ref, label, 0.5,
               "-s 1 within 0.5 ms/msg of null milter")
    for label, key, ref in (("TCP", "h", "b"), ("unix", "i", "c")):
        target(args, results, "proxy >= 0.9 x direct null milter", key, ref, label, 0.3,
               "proxy -s 1 within +0.3 ms/msg of the direct null milter")
    st_d = median_stats(results.get(("d", 1)), args.messages_1)
    st_b = median_stats(results.get(("b", 1)), args.messages_1)
    if st_d and st_b:
        print("  note  no DATA callback over TCP (d) vs null milter (b) at -s 1: %+.3f ms/msg"
              % (st_d[1] - st_b[1]))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("milter_bench: needs root (it runs a private Postfix)", file=sys.stderr)
        return 1
    for prog in (mta.POSTFIX_MASTER, args.smtp_source):
        if not os.access(prog, os.X_OK):
            print("milter_bench: %s not found (Debian package: postfix)" % prog, file=sys.stderr)
            return 1
    configs = list(dict.fromkeys(args.configs))
    if any(c in "bcdghi" for c in configs) and not os.access(args.null_milter, os.X_OK):
        print("milter_bench: %s not found (make bench/null_milter)" % args.null_milter,
              file=sys.stderr)
        return 1
    if any(c in "efhi" for c in configs):
        if not os.access(args.smtpreply_milter, os.X_OK):
            print("smtpreply-milter: %s not found (not built yet?): skipping (e), (f), "
                  "(h), (i)" % args.smtpreply_milter, flush=True)
            configs = [c for c in configs if c not in "efhi"]
        elif not os.path.exists(args.sample_conf):
            print("milter_bench: %s not found: skipping (e) and (f)" % args.sample_conf)
            configs = [c for c in configs if c not in "ef"]

    work = tempfile.mkdtemp(prefix="smtpreply-bench-")
    os.chmod(work, 0o755)
    status = 0
    results, ran = {}, []
    pf = None
    milters = {}
    try:
        ports = pick_ports(args, 3 * len(configs) + 1)
        smtpd_ports, extra = {}, []
        for key in configs:
            smtpd_ports[key] = ports.pop()
            child = make_child(key, args, work, ports.pop())
            milter, smtpd_milters = make_milter(key, args, work, ports.pop(), child)
            try:
                if child is not None:
                    child.start()
                    milters[key + "-child"] = child
                if milter is not None:
                    milter.start()
                    milters[key] = milter
            except RuntimeError as e:
                print("  %s: could not run: %s" % (CONFIGS[key], e), flush=True)
                status = 1
                continue
            extra.append("127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=%s"
                         % (smtpd_ports[key], smtpd_milters))
            ran.append(key)
        # The instance's own smtpd (no milter) is not measured; every
        # configuration has an smtpd of its own.
        pf = mta.PrivatePostfix(os.path.join(work, "postfix"), ports.pop(),
                                params=postfix_globals(), hostname="mx.bench.example",
                                master_extra=extra)
        pf.start()
        print("milter_bench: one Postfix, an smtpd per configuration (%s), in %s; "
              "%d round(s), configurations interleaved" % (
                  ", ".join("%s:%d" % (k, smtpd_ports[k]) for k in ran), work, args.rounds),
              flush=True)
        if not ran:
            print("milter_bench: no configuration could run", file=sys.stderr)
            return 1
        run_all(ran, args, pf, smtpd_ports, milters, results)
        if any(not r.times for r in results.values()):
            status = 1  # a series without one good round: nothing measured
        report(args, results, ran)
        summary(args, results)
    except KeyboardInterrupt:
        print("milter_bench: interrupted", file=sys.stderr)
        status = 1
    finally:
        if pf is not None:
            pf.stop()
        for m in milters.values():
            m.stop()
        if args.keep:
            print("milter_bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
