#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""quarantine_bench.py - the cost of a quarantine through Postfix, over TCP and unix.

libmilter answers a quarantine with two small packets (the quarantine, then
the final reply); without TCP_NODELAY the second waits for the MTA's delayed
ACK (about 40 ms). smtpreply-milter sets TCP_NODELAY on its listening
socket. This benchmark measures milliseconds per message through one
private Postfix (smtp-source, one session, N messages) for:

  quarantine, TCP    a rule quarantines every message at end of message
  quarantine, unix   the same over a unix socket
  plain, TCP         the same milter and messages, no rule (reference)

for each smtpreply-milter binary given (--milter LABEL=PATH, e.g. the build
before and after the fix), rounds interleaved, medians printed. Run as root
(a private Postfix on loopback, ports chosen by the kernel). Quarantined
messages land in the private hold queue, which is removed with the rest.

    python3 bench/quarantine_bench.py --milter after=_build/smtpreply-milter \
        [--milter before=/path/to/old/smtpreply-milter] [--messages 50] [--rounds 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import mta  # noqa: E402

RULES = {
    "quarantine": 'rules = ( { name = "hold"; phase = "eom"; action = "quarantine"; '
                  'reply = "held by the benchmark"; } );\n',
    "plain": "",
}


def start_milter(path, conf_text, work, name, socket_spec):
    conf = os.path.join(work, name + ".conf")
    with open(conf, "w") as f:
        f.write("audit_mta_rejects = false;\n" + conf_text)
        if socket_spec.startswith("unix:"):
            f.write('socket_mode = "0666";\n')     # Postfix's smtpd connects
    os.chmod(conf, 0o644)
    log = open(os.path.join(work, name + ".log"), "wb")
    argv = [path, "-f", "-c", conf, "-p", socket_spec]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    p = subprocess.Popen(argv, stdout=log, stderr=log)
    log.close()
    time.sleep(0.5)
    if p.poll() is not None:
        raise RuntimeError("%s did not start" % name)
    return p


def one_round(pf, port, n):
    cmd = [mta.SMTP_SOURCE, "-s", "1", "-m", str(n), "-l", "500", "-f", "from@bench.example",
           "-t", "to@bench.example", "-M", "client.bench.example", "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("smtp-source: %s" % r.stderr.strip())
    return 1000.0 * dt / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--milter", action="append", required=True, help="LABEL=PATH")
    ap.add_argument("--messages", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("quarantine_bench: needs root (a private Postfix)")
    milters = [tuple(m.split("=", 1)) for m in args.milter]
    work = tempfile.mkdtemp(prefix="sr-qbench.")
    os.chmod(work, 0o755)
    procs, smtpd, series = [], [], []
    try:
        for label, path in milters:
            for kind in ("quarantine", "plain"):
                for transport in (("tcp", "unix") if kind == "quarantine" else ("tcp",)):
                    name = "%s-%s-%s" % (label, kind, transport)
                    if transport == "tcp":
                        mport = mta.free_port()
                        lsock, psock = "inet:%d@127.0.0.1" % mport, "inet:127.0.0.1:%d" % mport
                    else:
                        spath = os.path.join(work, name + ".sock")
                        lsock = psock = "unix:" + spath
                    procs.append(start_milter(path, RULES[kind], work, name, lsock))
                    sport = mta.free_port()
                    smtpd.append("127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=%s "
                                 "-o milter_default_action=tempfail" % (sport, psock))
                    series.append((name, sport))
        pf = mta.PrivatePostfix(os.path.join(work, "postfix"), mta.free_port(),
                                params={"in_flow_delay": "0", "smtpd_error_sleep_time": "0",
                                        "smtpd_client_connection_rate_limit": "0"},
                                master_extra=smtpd)
        pf.start()
        try:
            times = {name: [] for name, _ in series}
            for name, port in series:
                one_round(pf, port, 5)      # warm up
            for r in range(args.rounds):
                order = series[r % len(series):] + series[:r % len(series)]
                for name, port in order:
                    times[name].append(one_round(pf, port, args.messages))
            print("ms per message through Postfix (smtp-source -s 1 -m %d), median of %d rounds"
                  % (args.messages, args.rounds))
            for name, _ in series:
                print("  %-34s %8.2f   (rounds: %s)" % (name, statistics.median(times[name]),
                                                        " ".join("%.2f" % t for t in times[name])))
        finally:
            pf.stop()
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("SR_BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
