#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""audit_report.py - the reports of "smtpreply audit" besides text and JSON, TAP.

  - Prometheus (--format prometheus): the exposition format checked by a parser
    here and by promtool ("promtool check metrics"; promtool from PATH, or
    Debian's prometheus package fetched with apt-get download and unpacked into
    the build tree: nothing installed, no daemon started); bounded label sets;
    --output written atomically.
  - --merge: the halves of a generated log merged give the report of the whole
    log; with more peers than the Space-Saving table holds, every peer's count
    stays within its error bound, on the whole log and after a merge.
  - --html: the page is self-contained, and headless Chromium (Debian package
    chromium) renders it: the DOM has the three charts, a screenshot has the
    charts' colours; a year of log gives weekly bars, not thousands.
  - progress on a terminal (a pty): shown with --progress and taken away at the
    end; never when standard error is a pipe; not for a short read.
  - --success and the Postfix reply filter pairing on the sample log forms.log.

Environment (set by "make check"): SMTPREPLY, top_srcdir, top_builddir,
SR_TEST_DATA. Under CI=true a missing promtool or Chromium is a failure.
"""

import json
import os
import pty
import random
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

TOP = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
BUILD = os.environ.get("top_builddir") or "."
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from mta import Tap  # noqa: E402

SMTPREPLY = os.environ.get("SMTPREPLY") or os.path.join(BUILD, "smtpreply")
DATA = os.environ.get("SR_TEST_DATA") or os.path.join(TOP, "tests", "data")
FORMS = os.path.join(DATA, "audit", "forms.log")
CI = os.environ.get("CI") == "true"
tap = Tap()
tmp = tempfile.mkdtemp(prefix="smtpreply-report.")


def audit(*args, stdin=None):
    """Run smtpreply audit --year 2026 ARGS: (status, stdout, stderr)."""
    p = subprocess.run([SMTPREPLY, "audit", "--year", "2026"] + list(args),
                       stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def missing(what, why):
    """A component the test needs is missing: fail under CI, else skip."""
    if CI:
        tap.ok(False, "%s available" % what, diag=why)
    else:
        tap.skip("%s" % what, why)


# ---- logs the tests generate ------------------------------------------------------------
def postfix_log(path, lines=30000, seed=5):
    gen = os.path.join(TOP, "bench", "gen_maillog.py")
    subprocess.run([sys.executable, gen, "--lines", str(lines), "--seed", str(seed),
                    "--output", path, "--quiet"], check=True, stdout=subprocess.DEVNULL)


def peers_log(path, npeers=3000, seed=9):
    """More distinct peers with non-conforming replies than the table's 1024
    counters, a few of them heavy: returns the true count per peer."""
    r = random.Random(seed)
    truth = {}
    with open(path, "w") as f:
        for i in range(20000):
            if r.random() < 0.3:
                p = r.randrange(20)           # heavy hitters
            else:
                p = r.randrange(npeers)
            name = "mx%d.example.net[192.0.%d.%d]" % (p, p // 250, p % 250)
            truth[name] = truth.get(name, 0) + 1
            f.write("Dec  7 10:%02d:%02d mx postfix/smtp[%d]: A%dB: to=<u@x%d.example>, "
                    "relay=%s:25, delay=1, dsn=5.0.0, status=bounced (host %s said: "
                    "572 5.7.1 Relay not permitted (in reply to RCPT TO command))\n"
                    % (i // 60 % 60, i % 60, 3000 + i % 7, i, p, name, name))
    return truth


def year_log(path):
    """One reject every 6 hours for a year (classic stamps, --year 2026)."""
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    with open(path, "w") as f:
        for m, nd in enumerate(days):
            for d in range(1, nd + 1):
                for h in (0, 6, 12, 18):
                    code = "550 5.1.1" if h else "450 4.7.1"
                    f.write("%s %2d %02d:00:00 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from "
                            "c[192.0.2.1]: %s <u@example.org>: Recipient address rejected: x; "
                            "from=<a@example.net> to=<u@example.org> proto=ESMTP helo=<c>\n"
                            % (months[m], d, h, code))


def split_halves(path, a, b):
    with open(path) as f:
        lines = f.readlines()
    half = len(lines) // 2
    with open(a, "w") as f:
        f.writelines(lines[:half])
    with open(b, "w") as f:
        f.writelines(lines[half:])


# ---- Prometheus -------------------------------------------------------------------------
METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([0-9]+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_prometheus(text):
    """The text exposition format 0.0.4, strictly: returns {family: type} and the
    samples [(name, {labels}, value)]; raises ValueError on anything else."""
    types, helps, samples, seen = {}, set(), [], set()
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4 or parts[3] not in ("counter", "gauge"):
                raise ValueError("line %d: bad TYPE" % n)
            if parts[2] in types:
                raise ValueError("line %d: TYPE twice" % n)
            types[parts[2]] = parts[3]
            continue
        m = METRIC.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name, labels = m.group(1), {}
        if name not in types or name not in helps:
            raise ValueError("line %d: %s without TYPE/HELP before it" % (n, name))
        if types[name] == "counter" and not name.endswith("_total"):
            raise ValueError("line %d: counter %s does not end in _total" % (n, name))
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = LABEL.match(body, pos)
            if not lm:
                raise ValueError("line %d: bad labels %r" % (n, body))
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise ValueError("line %d: the same series twice" % n)
        seen.add(key)
        samples.append((name, labels, int(m.group(4))))
    return types, samples


def promtool():
    """promtool from PATH, or from Debian's prometheus package unpacked into the
    build tree (apt-get download, dpkg -x; cached). None when neither works."""
    path = shutil.which("promtool")
    if path:
        return path
    root = os.path.join(BUILD, "tests", "cache", "prometheus-root")
    tool = os.path.join(root, "usr", "bin", "promtool")
    if os.access(tool, os.X_OK):
        return tool
    debs = tempfile.mkdtemp(prefix="prometheus-deb.", dir=tmp)
    try:
        subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root",
                        "prometheus"], cwd=debs, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=600)
        deb = [f for f in os.listdir(debs) if f.startswith("prometheus_")][0]
        os.makedirs(root, exist_ok=True)
        subprocess.run(["dpkg", "-x", os.path.join(debs, deb), root], check=True,
                       timeout=300)
    except (OSError, subprocess.SubprocessError, IndexError):
        return None
    return tool if os.access(tool, os.X_OK) else None


def test_prometheus():
    rc, out, err = audit("--format", "prometheus", FORMS)
    tap.is_(rc, 1, "prometheus: exit status as for the text report")
    try:
        types, samples = parse_prometheus(out)
        tap.ok(True, "prometheus: the exposition format parses strictly")
    except ValueError as e:
        tap.ok(False, "prometheus: the exposition format parses strictly", diag=str(e))
        return
    series = {(n, tuple(sorted(lab.items()))): v for n, lab, v in samples}
    tap.is_(series.get(("smtpreply_audit_lines_read_total", ())), 13,
            "prometheus: lines read")
    tap.is_(series.get(("smtpreply_audit_replies_total",
                        (("code", "550"), ("direction", "local"), ("enhanced_code", "5.7.1"),
                         ("phase", "RCPT")))), 1,
            "prometheus: the reply a filter sent, under its reject's phase")
    tap.is_(series.get(("smtpreply_audit_filter_changed_total", ())), 1,
            "prometheus: replies the Postfix reply filter changed")
    tap.is_(series.get(("smtpreply_audit_malformed_codes_total", ())), 2,
            "prometheus: malformed codes")
    tap.is_(series.get(("smtpreply_audit_diagnostics_total",
                        (("id", "code-syntax"), ("severity", "error")))), 2,
            "prometheus: diagnostics by id and severity")
    tap.ok(all(lab.get("direction") in (None, "local", "remote") for _, lab, _ in samples),
           "prometheus: direction takes two values")
    tool = promtool()
    if tool is None:
        missing("promtool", "neither on PATH nor from apt-get download prometheus")
    else:
        p = subprocess.run([tool, "check", "metrics"], input=out.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        tap.ok(p.returncode == 0, "promtool check metrics: no error, no lint warning",
               diag=p.stdout.decode())
    # bounded cardinality: 3000 made-up enhanced codes and every 3-digit code
    path = os.path.join(tmp, "many.log")
    with open(path, "w") as f:
        for i in range(3000):
            f.write("Dec  7 10:00:00 mx postfix/smtp[1]: Q%d: to=<u@x>, relay=m[192.0.2.1]:25, "
                    "dsn=5.0.0, status=bounced (host m[192.0.2.1] said: %d 5.%d.%d x "
                    "(in reply to RCPT TO command))\n" % (i, 200 + i % 400, i % 8, i % 999))
    rc, out, err = audit("--format", "prometheus", path)
    _, samples = parse_prometheus(out)
    rep = [lab for n, lab, v in samples if n == "smtpreply_audit_replies_total"]
    tap.ok(len(rep) <= 1024 + 14, "prometheus: at most 1024 series (+14 folded)",
           diag="%d series" % len(rep))
    tap.ok(all(lab["enhanced_code"] in ("unregistered", "invalid", "none", "other")
               or re.match(r"^[245]\.\d{1,3}\.\d{1,3}$", lab["enhanced_code"]) for lab in rep),
           "prometheus: enhanced codes are registered ones or a fixed word")
    tap.is_(sum(v for n, lab, v in samples if n == "smtpreply_audit_replies_total"), 3000,
            "prometheus: folding loses no reply")
    # --output: atomic, replaces, mode 0644, no temporary file left
    out_dir = os.path.join(tmp, "textfile")
    os.makedirs(out_dir)
    target = os.path.join(out_dir, "smtpreply.prom")
    with open(target, "w") as f:
        f.write("old\n")
    rc, out, err = audit("--format", "prometheus", "--output", target, FORMS)
    tap.is_(out, "", "--output: nothing on standard output")
    with open(target) as f:
        tap.ok(f.read().startswith("# HELP smtpreply_audit_lines_read_total"),
               "--output: the file replaced with the metrics")
    tap.is_(os.listdir(out_dir), ["smtpreply.prom"], "--output: no temporary file left")
    tap.is_(os.stat(target).st_mode & 0o777, 0o644, "--output: mode 0644")
    rc, out, err = audit("--output", os.path.join(tmp, "no", "such", "dir", "x.prom"), FORMS)
    tap.is_(rc, 2, "--output into a missing directory: exit 2")
    tap.ok("no/such/dir" in err, "--output into a missing directory: the message names it",
           diag=err)


# ---- merging ------------------------------------------------------------------------------
def report(*args):
    rc, out, err = audit("--json", "--fail-on", "never", *args)
    if rc != 0:
        raise RuntimeError("audit %s: %d %s" % (args, rc, err))
    return json.loads(out)


def test_merge():
    whole = os.path.join(tmp, "whole.log")
    postfix_log(whole)
    a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
    split_halves(whole, a, b)
    ja, jb = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    for log, js in ((a, ja), (b, jb)):
        rc, out, err = audit("--json", "--fail-on", "never", "--output", js, log)
        tap.is_(rc, 0, "merge: the report of %s written" % os.path.basename(log))
    w = report(whole)
    m = report("--merge", ja, jb)
    tap.ok(w["replies"] > 1000, "merge: a log with many replies", diag=w["replies"])
    diff = [k for k in w if k not in ("files", "examples", "peer_table") and w[k] != m.get(k)]
    tap.is_(diff, [], "merge: the halves merged give the report of the whole log")
    key = lambda t: sorted((p["peer"], p["nonconforming"], p["overestimate"])
                           for p in t["peer_table"])
    tap.is_(key(m), key(w), "merge: the same peer table (fewer peers than counters: exact)")
    # examples: the same ones in the same order; a count is exact unless a
    # half had its 10 examples of that diagnostic before it met this one
    ex_ok = all([e["reply"] for e in w["examples"][d]] == [e["reply"] for e in m["examples"][d]]
                and all(x["count"] <= y["count"] for x, y in zip(m["examples"][d],
                                                                  w["examples"][d]))
                for d in w["examples"])
    exact = all(m["examples"][d] == w["examples"][d] for d in w["examples"]
                if len(w["examples"][d]) < 10)
    tap.ok(ex_ok and exact, "merge: the same examples, counts exact below 10 per diagnostic")
    tap.is_([f["name"] for f in m["files"]], [ja + ": " + a, jb + ": " + b],
            "merge: the files named with the report they came from")
    # text and HTML from a merge
    rc, out, err = audit("--merge", "--fail-on", "never", ja, jb)
    tap.ok(out.startswith("smtpreply audit: %d lines read from 2 files" % w["lines"]),
           "merge: the text report", diag=out[:200])
    # the peers: more than the table holds
    plog = os.path.join(tmp, "peers.log")
    truth = peers_log(plog)
    tap.ok(len(truth) > 1024, "peers: more distinct peers than counters", diag=len(truth))

    def within(rep, label):
        bad = []
        for p in rep["peer_table"]:
            t = truth.get(p["peer"], 0)
            if not (p["nonconforming"] - p["overestimate"] <= t <= p["nonconforming"]):
                bad.append((p, t))
        tap.is_(bad, [], "peers, %s: every count within its error bound" % label)
        top = sorted(truth.items(), key=lambda kv: -kv[1])[:10]
        got = {p["peer"] for p in rep["peer_table"]}
        tap.ok(all(name in got for name, _ in top), "peers, %s: the 10 heaviest kept" % label)

    within(report(plog), "whole log")
    pa, pb = os.path.join(tmp, "pa.log"), os.path.join(tmp, "pb.log")
    split_halves(plog, pa, pb)
    jpa, jpb = os.path.join(tmp, "pa.json"), os.path.join(tmp, "pb.json")
    audit("--json", "--output", jpa, pa)
    audit("--json", "--output", jpb, pb)
    within(report("--merge", jpa, jpb), "halves merged")
    # refusals
    notours = os.path.join(tmp, "other.json")
    with open(notours, "w") as f:
        f.write('{"lines": 3}\n')
    rc, out, err = audit("--merge", ja, notours)
    tap.is_(rc, 2, "merge: a JSON file that is no report: exit 2")
    tap.ok("not a report" in err, "merge: ... and says why", diag=err)
    with open(notours, "w") as f:
        f.write('{"lines": ')
    rc, out, err = audit("--merge", notours)
    tap.ok(rc == 2 and "not JSON" in err, "merge: broken JSON: exit 2, said", diag=err)
    rc, out, err = audit("--merge")
    tap.is_(rc, 2, "merge without a report: usage error")


# ---- HTML in Chromium ---------------------------------------------------------------------
def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chrome(args, html):
    prof = tempfile.mkdtemp(prefix="chromium.", dir=tmp)
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=" + prof, "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--hide-scrollbars"] + args + ["file://" + html]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       cwd=tmp, env=dict(os.environ, HOME=prof))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG: (width, height, rows of
    (r, g, b) tuples)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("PNG kind not handled")
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def test_html():
    html = os.path.join(tmp, "report.html")
    rc, out, err = audit("--html", html, FORMS)
    tap.is_(rc, 1, "html: written beside the text report (same exit status)")
    with open(html, encoding="utf-8") as f:
        page = f.read()
    tap.ok(not re.search(r"<script|<link|<img|<iframe|\bsrc=|url\(", page, re.I),
           "html: self-contained (no script, link, image or url)")
    tap.ok(not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page),
           "html: no address to fetch")
    tap.ok("&lt;22&gt;Dec  7" in page and "<22>" not in page, "html: log text escaped")
    for sec in ("summary", "timeline", "codes", "diagnostics", "nonstandard", "malformed",
                "peers"):
        tap.ok(('id="%s"' % sec) in page, "html: section %s" % sec)
    if chromium() is None:
        missing("chromium", "Debian package chromium not installed")
        return
    rc, dom, err = chrome(["--dump-dom"], html)
    tap.is_(rc, 0, "chromium: the page renders (--dump-dom)")
    for chart in ("chart-timeline", "chart-codes", "chart-diagnostics"):
        m = re.search(r'<svg id="%s".*?</svg>' % chart, dom, re.S)
        tap.ok(m is not None and m.group(0).count("<rect") >= 2,
               "chromium DOM: %s has its bars" % chart)
    shot = os.path.join(tmp, "shot.png")
    rc, out, err = chrome(["--screenshot=" + shot, "--window-size=1200,1400"], html)
    tap.ok(rc == 0 and os.path.exists(shot), "chromium: a screenshot", diag=err[-500:])
    if not os.path.exists(shot):
        return
    w, h, rows = png_pixels(shot)
    painted = sum(1 for r in rows for px in r if px != (255, 255, 255))
    tap.ok(painted > w * h // 50, "screenshot: not blank",
           diag="%d of %d pixels painted" % (painted, w * h))
    colours = {px for r in rows for px in r}

    def near(c):
        return any(abs(px[0] - c[0]) + abs(px[1] - c[1]) + abs(px[2] - c[2]) < 30
                   for px in colours)
    tap.ok(near((0xc6, 0x28, 0x28)), "screenshot: the 5xx bars are drawn (red)")
    tap.ok(near((0xef, 0x6c, 0x00)), "screenshot: the warning bars are drawn (orange)")
    # a year of log: readable bars
    ylog, yhtml = os.path.join(tmp, "year.log"), os.path.join(tmp, "year.html")
    year_log(ylog)
    audit("--html", yhtml, ylog)
    rc, dom, err = chrome(["--dump-dom"], yhtml)
    m = re.search(r'<svg id="chart-timeline".*?</svg>', dom, re.S)
    xs = set(re.findall(r'<rect [^>]*x="([0-9.]+)"', m.group(0))) if m else set()
    tap.ok(20 <= len(xs) <= 160, "html: a year of log in at most 160 bars",
           diag="%d bars" % len(xs))
    tap.ok("one bar per 1 week" in dom or "one bar per 4 weeks" in dom,
           "html: a year of log in weekly bars")


# ---- progress on a terminal ---------------------------------------------------------------
def run_pty(args):
    """Run smtpreply with standard error on a pty: what it wrote there."""
    pid, fd = pty.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(SMTPREPLY, [SMTPREPLY, "audit", "--year", "2026"] + args)
    got = b""
    while True:
        r, _, _ = select.select([fd], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    os.waitpid(pid, 0)
    return got.decode("utf-8", "replace")


def test_progress():
    big = os.path.join(tmp, "progress.log")
    postfix_log(big, lines=300000, seed=2)
    err = run_pty(["--progress", "--fail-on", "never", big])
    tap.ok("lines/s" in err and "ETA" in err and "%" in err,
           "progress: on a terminal with --progress: bytes, lines/s, ETA",
           diag=repr(err[:300]))
    tap.ok(err.endswith("\r\x1b[K"), "progress: the line is taken away at the end",
           diag=repr(err[-80:]))
    rc, out, err = audit("--progress", "--fail-on", "never", big)
    tap.is_(err, "", "progress: never when standard error is not a terminal")
    err = run_pty(["--fail-on", "never", FORMS])
    tap.is_(err, "", "progress: not for a short read")
    err = run_pty(["--progress", "--no-progress", "--fail-on", "never", big])
    tap.is_(err, "", "progress: --no-progress after --progress: none")


# ---- success replies, reply filters ---------------------------------------------------------
def test_forms():
    rep = report(FORMS)
    tap.is_(rep["success"], 0, "success replies: not counted by default")
    tap.is_(rep["filter_changed"], 1, "reply filter: one reply changed")
    tap.is_(rep["replies"], 8, "reply filter: the reject it repeats is not counted")
    tap.is_(rep["by_code"].get("557"), None, "reply filter: the 557 before the filter is gone")
    tap.is_(rep["malformed"], 2, "malformed codes counted")
    tap.ok(all("line" in m and m["line"] for m in rep["malformed_codes"]),
           "malformed codes reported with their lines")
    rep = report("--success", FORMS)
    tap.is_(rep["success"], 2, "--success: the 250s of Postfix and Exim counted")
    tap.is_(rep["by_code"].get("250"), 2, "--success: under their code")


for fn in (test_prometheus, test_merge, test_html, test_progress, test_forms):
    tap.run(fn)
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(tap.done())
