#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""audit_bench.py - how fast and how small "smtpreply audit" is on big Postfix logs.

    audit_bench.py --build-dir BUILD [--cache-dir DIR] [--runs R] [--pflogsumm-runs N]
                   [--sizes 1000000,5000000] [--seed S] [--format syslog|rfc3339]
                   [--no-gzip] [--no-pflogsumm]

Generates with bench/gen_maillog.py (or reuses from the cache directory, default
BUILD/bench/data/, one file per lines+seed+format and generator version) a
1,000,000- and a 5,000,000-line Postfix log, then for each times

    smtpreply audit --json FILE > /dev/null     the program under test
    pflogsumm FILE > /dev/null                  the usual Postfix log summarizer
    wc -l FILE > /dev/null                      the floor: reading the file

R times each (default 3; pflogsumm, which takes about a minute on the 5M log, runs
once on logs of 5M lines and more unless --pflogsumm-runs says otherwise), rounds
interleaved, and prints the median time, lines/s, MB/s and the peak RSS of each
program, the ratios smtpreply : pflogsumm and smtpreply : wc -l, and PASS/MISS for
the targets on the largest log: at least 20x pflogsumm's speed and a peak RSS
under 32 MiB. Then once on the gzip-compressed 1M log (smtpreply, and gzip -dc as
the floor).

The smtpreply binary: $SMTPREPLY, or BUILD/smtpreply. When that is a libtool
wrapper script (a shell script that sets LD_LIBRARY_PATH and execs
BUILD/.libs/smtpreply), the real program BUILD/.libs/smtpreply is run directly with
LD_LIBRARY_PATH=BUILD/.libs, so that neither the time nor the peak RSS includes
the shell. Peak RSS is the child's own ru_maxrss (os.wait4), one fresh process
per run. Nothing is installed: a missing pflogsumm is reported with the apt-get
line and skipped; a missing smtpreply or "audit" command is reported and the
table still shows pflogsumm and wc -l. The cache is never cleaned automatically
except for older generator versions of the same log; remove it with
"rm -rf BUILD/bench/data".

Exit status: 0 (also when a target is missed: this is a measurement), 2 on bad
usage or when a log cannot be generated.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen_maillog.py")
SPEED_TARGET = 20.0          # smtpreply at least 20x pflogsumm's speed
RSS_TARGET_MIB = 32.0        # peak RSS under 32 MiB on the largest log


def say(*a):
    print(*a, flush=True)


# ---- running one program ------------------------------------------------------------------
class Result:
    stderr = ""

    def __init__(self, seconds, maxrss_kib, status):
        self.seconds = seconds
        self.maxrss_kib = maxrss_kib
        self.status = status


TIME = None                  # GNU time (Debian package "time"), found in main()


def run_once(argv, env=None):
    """Run argv once with stdout to /dev/null in a fresh child: wall time, peak RSS
    (KiB) and exit status.

    The peak RSS comes from GNU time's %M: the ru_maxrss of a process that time
    forked. A child forked by this Python process directly would report at least
    this process's own RSS (Linux keeps the high-water mark of the forked image
    across exec), 10-30 MiB that are not the program's. Without /usr/bin/time the
    wait4 figure is used and marked as an upper bound."""
    tmp = None
    cmd = argv
    if TIME:
        fd, tmp = tempfile.mkstemp(prefix="audit_bench.", suffix=".rss")
        os.close(fd)
        cmd = [TIME, "-f", "%M", "-o", tmp] + list(argv)
    try:
        with open(os.devnull, "wb") as null:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.PIPE, env=env)
            err = p.stderr.read()
            _, status, ru = os.wait4(p.pid, 0)
            t1 = time.perf_counter()
        p.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        p.returncode = code                    # reaped here: tell Popen
        rss = ru.ru_maxrss
        if tmp:
            with open(tmp) as f:
                last = [x for x in f.read().split("\n") if x.strip()]
            try:
                rss = int(last[-1])
            except (IndexError, ValueError):
                rss = ru.ru_maxrss
    finally:
        if tmp:
            os.unlink(tmp)
    r = Result(t1 - t0, rss, code)
    r.stderr = err.decode("utf-8", "replace")
    return r


# ---- the programs ---------------------------------------------------------------------------
def is_libtool_wrapper(path):
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and (b"libtool" in head or b"This script is just a wrapper" in head)


def find_smtpreply(build_dir):
    """(argv0, env, note) of the smtpreply to measure, or (None, None, why)."""
    path = os.environ.get("SMTPREPLY") or os.path.join(build_dir, "smtpreply")
    if not os.path.exists(path):
        return None, None, "smtpreply not found: %s (build it: make -C %s smtpreply)" % (path, build_dir)
    env = dict(os.environ)
    note = path
    if is_libtool_wrapper(path):
        real = os.path.join(os.path.dirname(os.path.abspath(path)), ".libs", os.path.basename(path))
        if os.access(real, os.X_OK):
            libs = os.path.dirname(real)
            env["LD_LIBRARY_PATH"] = libs + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
            note = "%s (libtool wrapper %s bypassed; LD_LIBRARY_PATH=%s)" % (real, path, libs)
            path = real
        else:
            note = "%s (libtool wrapper; %s missing, so the wrapper is measured)" % (path, real)
    if not os.access(path, os.X_OK):
        return None, None, "smtpreply not executable: %s" % path
    return path, env, note


def audit_available(binary, env):
    """(True, "") if "smtpreply audit --json" works, else (False, why)."""
    try:
        r = subprocess.run([binary, "audit", "--json", os.devnull], env=env, capture_output=True,
                           timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "smtpreply audit could not be run: %s" % e
    if r.returncode in (0, 1):
        try:
            json.loads(r.stdout.decode("utf-8", "replace"))
            return True, ""
        except ValueError:
            return False, "smtpreply audit --json printed no JSON: %r" % r.stdout[:200]
    return False, ("smtpreply has no working 'audit' command yet (exit %d: %s)"
                   % (r.returncode, r.stderr.decode("utf-8", "replace").strip()[:300]))


def wrapper_overhead(wrapper, real, env):
    """Median time and peak RSS of "--version" through the libtool wrapper and directly."""
    if not (wrapper and real and wrapper != real):
        return None
    w = [run_once([wrapper, "--version"]) for _ in range(5)]
    d = [run_once([real, "--version"], env=env) for _ in range(5)]
    return (statistics.median(x.seconds for x in w), max(x.maxrss_kib for x in w),
            statistics.median(x.seconds for x in d), max(x.maxrss_kib for x in d))


# ---- the logs -------------------------------------------------------------------------------
def gen_version():
    with open(GEN, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()[:8]


def log_path(cache, lines, seed, fmt, gz):
    return os.path.join(cache, "maillog-%d-s%d-%s-g%s.log%s" % (lines, seed, fmt, gen_version(),
                                                               ".gz" if gz else ""))


def ensure_log(cache, lines, seed, fmt, gz, python):
    path = log_path(cache, lines, seed, fmt, gz)
    if os.path.exists(path):
        say("log: %s (cached)" % path)
        return path
    os.makedirs(cache, exist_ok=True)
    # older generator versions of this very log go
    stem = "maillog-%d-s%d-%s-g" % (lines, seed, fmt)
    for name in os.listdir(cache):
        if name.startswith(stem) and name.endswith(".log.gz" if gz else ".log") and \
                os.path.join(cache, name) != path:
            os.unlink(os.path.join(cache, name))
    say("log: generating %s ..." % path)
    argv = [python, GEN, "--lines", str(lines), "--seed", str(seed), "--format", fmt, "-o", path]
    if gz:
        argv.append("--gzip")
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0 or not os.path.exists(path):
        sys.stderr.write(err)
        raise SystemExit("audit_bench: could not generate %s" % path)
    # the generator's composition summary, first lines only
    summary = err.splitlines()
    say("  %s" % (summary[0] if summary else "generated in %.1f s" % (time.perf_counter() - t0)))
    for line in summary:
        if line.lstrip().startswith("="):
            say("  " + line.strip())
    return path


def count_lines(path):
    if path.endswith(".gz"):
        import gzip
        n = 0
        with gzip.open(path, "rb") as f:
            while True:
                b = f.read(1 << 22)
                if not b:
                    return n
                n += b.count(b"\n")
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return n
            n += b.count(b"\n")


def warm(path):
    """Read the file once so that every program finds it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


# ---- measuring --------------------------------------------------------------------------------
class Row:
    def __init__(self, file, lines, size, program, results, note=""):
        self.file = file
        self.lines = lines
        self.size = size
        self.program = program
        self.results = results
        self.note = note

    @property
    def ok(self):
        return bool(self.results)

    @property
    def seconds(self):
        return statistics.median(r.seconds for r in self.results)

    @property
    def rss_mib(self):
        return max(r.maxrss_kib for r in self.results) / 1024.0


def fmt_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.0fk" % (x / 1e3)
    return "%.0f" % x


def print_table(rows):
    hdr = ("file", "lines", "MB", "program", "runs", "seconds", "lines/s", "MB/s", "peak RSS MiB")
    out = []
    for r in rows:
        if r.ok:
            s = r.seconds
            out.append((r.file, "%d" % r.lines, "%.1f" % (r.size / 1e6), r.program, "%d" % len(r.results),
                        "%.3f" % s, fmt_rate(r.lines / s), "%.1f" % (r.size / 1e6 / s), "%.1f" % r.rss_mib))
        else:
            out.append((r.file, "%d" % r.lines, "%.1f" % (r.size / 1e6), r.program, "0", "-", "-", "-",
                        r.note or "skipped"))
    w = [max(len(hdr[i]), *(len(x[i]) for x in out)) if out else len(hdr[i]) for i in range(len(hdr))]
    right = {1, 2, 4, 5, 6, 7}
    line = lambda cells: "  ".join(c.rjust(w[i]) if i in right else c.ljust(w[i]) for i, c in enumerate(cells))
    say(line(hdr).rstrip())
    say("  ".join("-" * x for x in w))
    for x in out:
        say(line(x).rstrip())


def measure_log(path, lines, runs, pf_runs, smtpreply, env, have_audit, pflogsumm):
    """Interleaved rounds of wc -l, smtpreply audit, pflogsumm on one log."""
    size = os.path.getsize(path)
    name = os.path.basename(path)
    progs = [("wc -l", ["wc", "-l", path], None, runs)]
    if have_audit:
        progs.append(("smtpreply audit --json", [smtpreply, "audit", "--json", path], env, runs))
    if pflogsumm:
        progs.append(("pflogsumm", [pflogsumm, path], None, pf_runs))
    res = {p[0]: [] for p in progs}
    bad = {}
    warm(path)
    for rnd in range(max(p[3] for p in progs)):
        for label, argv, e, n in progs:
            if rnd >= n or label in bad:
                continue
            r = run_once(argv, env=e)
            if r.status not in (0, 1) or (label != "smtpreply audit --json" and r.status != 0):
                bad[label] = "exit %d: %s" % (r.status, r.stderr.strip()[:200])
                continue
            res[label].append(r)
            say("  %-24s round %d: %7.3f s  %6.1f MiB" % (label, rnd + 1, r.seconds, r.maxrss_kib / 1024.0))
    rows = []
    for label, argv, e, n in progs:
        rows.append(Row(name, lines, size, label, res[label], bad.get(label, "")))
    if not have_audit:
        rows.insert(1, Row(name, lines, size, "smtpreply audit --json", [], "MISSING (see above)"))
    return rows


def main():
    ap = argparse.ArgumentParser(description="Benchmark smtpreply audit against pflogsumm and wc -l.")
    ap.add_argument("--build-dir", required=True, help="the build directory (BUILD/smtpreply)")
    ap.add_argument("--cache-dir", help="where the logs are kept (default BUILD/bench/data)")
    ap.add_argument("--sizes", default="1000000,5000000", help="log sizes in lines (default 1000000,5000000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["syslog", "rfc3339"], default="syslog")
    ap.add_argument("--runs", type=int, default=3, help="runs per program and log (default 3)")
    ap.add_argument("--pflogsumm-runs", type=int, default=None,
                    help="pflogsumm runs per log (default: --runs below 5M lines, 1 from 5M lines)")
    ap.add_argument("--no-pflogsumm", action="store_true", help="do not run pflogsumm")
    ap.add_argument("--no-gzip", action="store_true", help="skip the gzip-compressed 1M log")
    ap.add_argument("--python", default=sys.executable, help="Python for the generator")
    a = ap.parse_args()
    try:
        sizes = sorted({int(x) for x in a.sizes.split(",") if x.strip()})
    except ValueError:
        ap.error("--sizes: comma-separated numbers of lines")
    if not sizes or min(sizes) < 1 or a.runs < 1 or (a.pflogsumm_runs is not None and a.pflogsumm_runs < 0):
        ap.error("--sizes, --runs and --pflogsumm-runs must be positive")
    global TIME
    TIME = shutil.which("time", path="/usr/bin:/bin")
    build = os.path.abspath(a.build_dir)
    cache = os.path.abspath(a.cache_dir or os.path.join(build, "bench", "data"))

    say("== smtpreply audit benchmark")
    smtpreply, env, note = find_smtpreply(build)
    have_audit = False
    if smtpreply is None:
        say("smtpreply: MISSING: %s" % note)
    else:
        say("smtpreply: %s" % note)
        have_audit, why = audit_available(smtpreply, env)
        if not have_audit:
            say("smtpreply: MISSING: %s" % why)
        wrapper = os.environ.get("SMTPREPLY") or os.path.join(build, "smtpreply")
        ov = wrapper_overhead(wrapper, smtpreply, env) if is_libtool_wrapper(wrapper) else None
        if ov:
            say("  (libtool wrapper for --version: %.1f ms and %.1f MiB peak; the program alone: "
                "%.1f ms and %.1f MiB)" % (ov[0] * 1e3, ov[1] / 1024.0, ov[2] * 1e3, ov[3] / 1024.0))
    pflogsumm = None
    if not a.no_pflogsumm:
        pflogsumm = shutil.which("pflogsumm") or shutil.which("pflogsumm", path="/usr/sbin:/usr/bin")
        if pflogsumm is None:
            say("pflogsumm: not installed, skipped (Debian: apt-get install pflogsumm)")
        else:
            v = subprocess.run([pflogsumm, "--version"], capture_output=True, text=True)
            say("pflogsumm: %s (%s)" % (pflogsumm, (v.stdout or v.stderr).strip().splitlines()[0]
                                        if (v.stdout or v.stderr).strip() else "version unknown"))
    say("wc: %s" % (shutil.which("wc") or "wc"))
    if TIME:
        say("peak RSS: GNU time %%M (%s), the measured process alone" % TIME)
    else:
        base = max(run_once(["true"]).maxrss_kib for _ in range(3)) / 1024.0
        say("peak RSS: /usr/bin/time missing (Debian: apt-get install time): wait4 of a child of this "
            "Python, an UPPER BOUND that includes %.1f MiB of the parent's image (that is what 'true' shows)" % base)
    say("cache: %s (remove with: rm -rf %s)" % (cache, cache))
    say("")

    rows = []
    by_size = {}
    for n in sizes:
        path = ensure_log(cache, n, a.seed, a.format, False, a.python)
        lines = count_lines(path)
        pf_runs = a.pflogsumm_runs if a.pflogsumm_runs is not None else (a.runs if n < 5000000 else 1)
        say("measuring %s (%d lines, %.1f MB): %d runs, pflogsumm %d" % (
            os.path.basename(path), lines, os.path.getsize(path) / 1e6, a.runs, pf_runs if pflogsumm else 0))
        r = measure_log(path, lines, a.runs, pf_runs, smtpreply, env, have_audit, pflogsumm)
        rows.extend(r)
        by_size[n] = {x.program: x for x in r}
        say("")

    gz_rows = []
    if not a.no_gzip:
        n = 1000000
        path = ensure_log(cache, n, a.seed, a.format, True, a.python)
        lines = count_lines(path)
        size = os.path.getsize(path)
        warm(path)
        say("measuring %s (%d lines, %.1f MB compressed): once" % (os.path.basename(path), lines, size / 1e6))
        r = run_once(["gzip", "-dc", path])
        gz_rows.append(Row(os.path.basename(path), lines, size, "gzip -dc", [r] if r.status == 0 else [],
                           "" if r.status == 0 else "exit %d" % r.status))
        if have_audit:
            r = run_once([smtpreply, "audit", "--json", path], env=env)
            gz_rows.append(Row(os.path.basename(path), lines, size, "smtpreply audit --json",
                               [r] if r.status in (0, 1) else [],
                               "" if r.status in (0, 1) else "exit %d: %s" % (r.status, r.stderr.strip()[:200])))
        say("")

    say("== results (median of the runs; MB = 10^6 bytes of the file as stored; RSS = peak "
        "resident set of the process)")
    print_table(rows + gz_rows)
    say("")
    say("== ratios")
    for n in sizes:
        d = by_size[n]
        sr, pf, wc = d.get("smtpreply audit --json"), d.get("pflogsumm"), d.get("wc -l")
        tag = "%dM" % (n // 1000000) if n % 1000000 == 0 else "%d" % n
        if sr and sr.ok and pf and pf.ok:
            say("  %s: smtpreply audit is %.1fx as fast as pflogsumm (%.3f s vs %.3f s); "
                "peak RSS %.1f MiB vs %.1f MiB" % (tag, pf.seconds / sr.seconds, sr.seconds, pf.seconds,
                                                   sr.rss_mib, pf.rss_mib))
        elif pf and pf.ok:
            say("  %s: pflogsumm %.3f s, peak RSS %.1f MiB; smtpreply audit not measured" % (tag, pf.seconds, pf.rss_mib))
        if sr and sr.ok and wc and wc.ok:
            say("  %s: smtpreply audit takes %.1fx the time of wc -l (%.3f s vs %.3f s)" % (
                tag, sr.seconds / wc.seconds, sr.seconds, wc.seconds))
    if len(gz_rows) == 2 and all(x.ok for x in gz_rows):
        g, s = gz_rows
        plain = by_size.get(1000000, {}).get("smtpreply audit --json")
        say("  1M gzip: smtpreply audit %.3f s (%s lines/s), gzip -dc alone %.3f s%s" % (
            s.seconds, fmt_rate(s.lines / s.seconds), g.seconds,
            ", plain 1M %.3f s" % plain.seconds if plain and plain.ok else ""))
    say("")
    big = max(sizes)
    d = by_size[big]
    sr, pf = d.get("smtpreply audit --json"), d.get("pflogsumm")
    tag = "%dM" % (big // 1000000) if big % 1000000 == 0 else "%d lines" % big
    say("== targets (%s log)" % tag)
    if sr and sr.ok and pf and pf.ok:
        x = pf.seconds / sr.seconds
        say("  %s  speed >= %.0fx pflogsumm: %.1fx" % ("PASS" if x >= SPEED_TARGET else "MISS", SPEED_TARGET, x))
    else:
        say("  n/a   speed >= %.0fx pflogsumm: %s" % (SPEED_TARGET, "smtpreply audit not measured"
                                                      if not (sr and sr.ok) else "pflogsumm not measured"))
    if sr and sr.ok:
        m = sr.rss_mib
        say("  %s  peak RSS < %.0f MiB: %.1f MiB (%.1f MB)" % ("PASS" if m < RSS_TARGET_MIB else "MISS",
                                                              RSS_TARGET_MIB, m, m * 1.048576))
    else:
        say("  n/a   peak RSS < %.0f MiB: smtpreply audit not measured" % RSS_TARGET_MIB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
