#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_metrics.py - a real Prometheus scrapes smtpreply-milter's /metrics.

A private Postfix (mta.py) sends mail through smtpreply-milter, whose
"metrics" setting serves /metrics on a loopback port; Debian's prometheus,
started here on loopback with a configuration and a storage directory of its
own (scrape interval 1 s), scrapes it. The test then asks Prometheus's HTTP
API (/api/v1/query) for the counters it stored and asserts them: rejects at
RCPT by code and enhanced code, verdicts by phase and action, normalizations
by diagnostic, non-standard codes, audited MTA rejects, reloads. It also
lints the exposition with "promtool check metrics", checks the HTTP side
(404, 405, HEAD) and the -m option on IPv6 loopback. A proxy child
(tests/e2e/children.py "rejectall", evaluate = true: its verdicts are only
logged) gives the per-child families. Prometheus, the child and the milter
are stopped by PID. Needs root, Postfix, prometheus and python3-milter
(Debian packages); under CI=true a missing one is a failure. Prints TAP.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
from mta import COMMON_RULES, MILTER, Milter  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NS = "smtpreply_milter_"
TOP = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")
CHILDREN = os.path.join(HERE, "children.py")
CHILD_PYTHON = "/usr/bin/python3"  # with Debian's python3-milter
RULES_FILE = os.path.abspath(os.path.join(TOP, "contrib", "prometheus", "smtpreply.rules.yml"))


def http(url, method="GET", timeout=5.0):
    """(status, headers, body) of one request; errors give their status."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class Prometheus:
    """A private prometheus: its own configuration, storage and port."""

    def __init__(self, base, target, port):
        self.base = base
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.conf = os.path.join(base, "prometheus.yml")
        self.data = os.path.join(base, "tsdb")
        self.log_file = os.path.join(base, "prometheus.log")
        os.makedirs(self.data, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("global:\n"
                    "  scrape_interval: 1s\n"
                    "  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n"
                    "  - %s\n"
                    "scrape_configs:\n"
                    "  - job_name: smtpreply\n"
                    "    static_configs:\n"
                    "      - targets: ['%s']\n" % (RULES_FILE, target))
        self.proc = None

    def start(self, timeout=30.0):
        self.logf = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.conf,
             "--storage.tsdb.path=" + self.data,
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--web.console.templates=" + self.base,
             "--web.console.libraries=" + self.base],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
            cwd=self.base)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited:\n" + mta.read_log(self.log_file))
            try:
                if http(self.url + "/-/ready", timeout=1)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus not ready:\n" + mta.read_log(self.log_file))

    def query(self, expr):
        """The instant vector of EXPR: [(labels, float value)]."""
        status, _, body = http(self.url + "/api/v1/query?" +
                               urllib.parse.urlencode({"query": expr}))
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise RuntimeError("query %s: %s %s" % (expr, status, body))
        return [(r["metric"], float(r["value"][1])) for r in data["data"]["result"]]

    def api(self, path):
        status, _, body = http(self.url + path)
        return json.loads(body) if status == 200 else None

    def value(self, expr):
        """The value of a query with one result, or None."""
        r = self.query(expr)
        return r[0][1] if len(r) == 1 else None

    def wait_value(self, expr, want, timeout=20.0):
        """Wait until EXPR has value WANT (new scrapes come every second)."""
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            got = self.value(expr)
            if got == want:
                return got
            time.sleep(0.3)
        return got

    def stop(self):
        rc = mta.stop_process(self.proc, 15)
        self.proc = None
        self.logf.close()
        return rc


RULES = r'''
rules = (
''' + COMMON_RULES + r'''
	{ name = "rcpt-greylist"; phase = "rcpt"; rcpt = "/^<later@/"; action = "tempfail";
	  reply = "451 4.7.1 Try again later"; }
);
'''


def start_child(base, port):
    """children.py rejectall on PORT, in the background."""
    logf = open(os.path.join(base, "child.log"), "ab")
    proc = subprocess.Popen([CHILD_PYTHON, CHILDREN, "rejectall", "inet:%d@127.0.0.1" % port],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline and proc.poll() is None:
        if mta.port_open("127.0.0.1", port):
            return proc
        time.sleep(0.05)
    raise RuntimeError("children.py rejectall did not start")


def send(port, rcpts, subject="metrics"):
    """One message, one RCPT per address; returns the RCPT replies."""
    c = mta.SmtpClient("127.0.0.1", port)
    c.connect()
    c.cmd("EHLO client.test.invalid")
    c.cmd("MAIL FROM:<sender@client.test.invalid>")
    replies = [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    c.cmd("RSET")
    c.quit()
    return replies


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    for prog, pkg in ((PROMETHEUS, "prometheus"), (PROMTOOL, "prometheus")):
        if not os.access(prog, os.X_OK):
            mta.cannot_run("%s not found (Debian package: %s)" % (prog, pkg),
                           "metrics tests")
    if not os.access(MILTER, os.X_OK):
        mta.cannot_run("smtpreply-milter not built: %s" % MILTER, "metrics tests")
    if subprocess.run([CHILD_PYTHON, "-c", "import Milter"], capture_output=True).returncode:
        mta.cannot_run("pymilter missing (Debian package: python3-milter)", "metrics tests")
    base = tempfile.mkdtemp(prefix="smtpreply-metrics-")
    os.chmod(base, 0o755)
    smtp_port, milter_port = mta.free_port(), mta.free_port()
    metrics_port, prom_port = mta.free_port(), mta.free_port()
    access = "unknown@localhost 550 5.1.1 User unknown here\n"
    pf = mta.PrivatePostfix(os.path.join(base, "postfix"), smtp_port, params={
        "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
        "milter_default_action": "tempfail",
        "smtpd_recipient_restrictions":
            "check_recipient_access texthash:{conf_dir}/access, "
            "permit_mynetworks, reject_unauth_destination",
    }, maps={"access": access})
    # The setting, without a host: loopback.
    child_port = mta.free_port()
    conf = ('metrics = "inet:%d";\n' % metrics_port +
            'milters = ( { name = "judge"; socket = "inet:%d@127.0.0.1"; evaluate = true; } );\n'
            % child_port + RULES)
    child = None
    milter = Milter(base, "inet:%d@127.0.0.1" % milter_port, conf)
    prom = Prometheus(os.path.join(base, "prometheus"), "127.0.0.1:%d" % metrics_port,
                      prom_port)
    try:
        child = start_child(base, child_port)
        milter.start()
        tap.ok(milter.wait_log(r"metrics: serving /metrics on inet:%d" % metrics_port),
               "the milter logs where /metrics is served")
        pf.start()
        prom.start()
        tap.run(endpoint, tap, metrics_port)
        tap.run(scraped, tap, prom, milter, smtp_port, metrics_port)
    finally:
        if prom.proc is not None:
            prom.stop()
        milter.stop()
        pf.stop()
        if child is not None:
            mta.stop_process(child, 5)
    tap.run(option_inet6, tap, base)
    if tap.failed:
        tap.diag("milter log:\n" + milter.log())
        tap.diag("prometheus log:\n" + mta.read_log(prom.log_file))
    else:
        shutil.rmtree(base, ignore_errors=True)
    return tap.done()


def endpoint(tap, port):
    url = "http://127.0.0.1:%d" % port
    status, headers, body = http(url + "/metrics")
    tap.is_(status, 200, "GET /metrics: 200")
    tap.ok(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
           "Content-Type is the text exposition format 0.0.4", diag=headers)
    tap.ok("# TYPE %sverdicts_total counter" % NS in body, "verdicts_total is a counter")
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, text=True,
                       capture_output=True, timeout=60)
    tap.ok(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
           "promtool check metrics: no problem with the exposition",
           diag=r.stdout + r.stderr)
    tap.is_(http(url + "/")[0], 404, "GET /: 404")
    tap.is_(http(url + "/metrics", method="POST")[0], 405, "POST /metrics: 405")
    status, _, body = http(url + "/metrics", method="HEAD")
    tap.ok(status == 200 and body == "", "HEAD /metrics: 200, no body")


def scraped(tap, prom, milter, smtp_port, metrics_port):
    tap.is_(prom.wait_value('up{job="smtpreply"}', 1.0), 1.0,
            "Prometheus scrapes the milter (up == 1)")
    r = subprocess.run([PROMTOOL, "check", "rules", RULES_FILE], capture_output=True,
                       text=True, timeout=60)
    tap.ok(r.returncode == 0, "promtool check rules contrib/prometheus/smtpreply.rules.yml",
           diag=r.stdout + r.stderr)
    groups = (prom.api("/api/v1/rules") or {}).get("data", {}).get("groups", [])
    rules = [(x["name"], x.get("health")) for g in groups for x in g["rules"]]
    tap.ok(len(rules) == 4 and all(h in ("ok", "unknown") for _, h in rules),
           "Prometheus loaded the 4 contrib alerting rules", diag=rules)
    # Rejects at RCPT: 550 4.7.1 is sent as 550 5.7.1, 572 as 550 5.7.1, a
    # tempfail as 451 4.7.1; Postfix rejects unknown@ itself (audited).
    replies = []
    for _ in range(3):
        replies += send(smtp_port, ["mismatch@localhost", "relay@localhost",
                                    "later@localhost", "unknown@localhost",
                                    "ok@localhost"])
    tap.ok(sum(1 for r in replies if r and r[-1].startswith("550 5.7.1")) == 6,
           "the clients got six 550 5.7.1 replies", diag=replies)
    q = NS + 'replies_total{phase="rcpt",code="550",enhanced_code="5.7.1"}'
    got = prom.wait_value(q, 6.0)
    tap.is_(got, 6.0, "Prometheus stored 6 rejects at RCPT with enhanced_code=\"5.7.1\"")
    tap.diag("GET /api/v1/query?query=%s\n%s" % (q, http(
        prom.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))[2]))
    tap.is_(prom.value(NS + 'replies_total{phase="rcpt",code="451",enhanced_code="4.7.1"}'),
            3.0, "... and 3 tempfails at RCPT with 451 4.7.1")
    tap.is_(prom.value(NS + 'verdicts_total{phase="rcpt",action="reject"}'), 6.0,
            "verdicts_total{phase=rcpt,action=reject} = 6")
    tap.is_(prom.value(NS + 'verdicts_total{phase="rcpt",action="tempfail"}'), 3.0,
            "verdicts_total{phase=rcpt,action=tempfail} = 3")
    tap.is_(prom.value(NS + 'verdicts_total{phase="mail",action="reject"}'), 0.0,
            "verdicts_total{phase=mail,action=reject} = 0 (exported as zero)")
    tap.is_(prom.value(NS + 'replies_normalized_total{diagnostic="enhanced-class-mismatch"}'),
            3.0, "replies_normalized_total{diagnostic=enhanced-class-mismatch} = 3")
    tap.is_(prom.value(NS + 'nonstandard_codes_total{code="572"}'), 3.0,
            "nonstandard_codes_total{code=572} = 3")
    tap.is_(prom.value(NS + 'mta_rejects_audited_total'), 3.0,
            "mta_rejects_audited_total = 3 (Postfix's own 550 5.1.1)")
    tap.ok((prom.value(NS + 'sessions_total') or 0) >= 3.0, "sessions_total >= 3")
    tap.is_(prom.value(NS + 'messages_total'), 3.0, "messages_total = 3")
    tap.is_(prom.value(NS + 'internal_errors_total'), 0.0, "internal_errors_total = 0")
    # The proxy child, in evaluation: it rejected what it was shown.
    calls = prom.value(NS + 'child_calls_total{child="judge"}')
    tap.ok(calls is not None and calls > 0, "child_calls_total{child=judge} > 0", diag=calls)
    # setreply + REJECT goes over the wire as a reply code (SMFIR_REPLYCODE).
    rej = prom.value('sum(%schild_replies_total{child="judge",kind=~"reject|replycode"})' % NS)
    tap.ok(rej is not None and rej >= 3, "child_replies_total{child=judge,kind=replycode} >= 3 "
           "(its rejects)", diag=str(prom.query(NS + "child_replies_total")))
    tap.is_(prom.value(NS + 'child_errors_total{child="judge"}'), 0.0,
            "child_errors_total{child=judge} = 0")
    # Reloads: a good one, then a broken file (kept out), counted by result.
    before = prom.value(NS + "config_last_reload_success_timestamp_seconds")
    time.sleep(1.1)
    off = milter.log_offset()
    milter.signal(signal.SIGHUP)
    milter.wait_log(r"reloaded: ", since=off)
    tap.is_(prom.wait_value(NS + 'config_reloads_total{result="success"}', 1.0), 1.0,
            "config_reloads_total{result=success} = 1")
    after = prom.value(NS + "config_last_reload_success_timestamp_seconds")
    tap.ok(before is not None and after is not None and after > before,
           "the time of the last good reload moved on", diag=(before, after))
    good = open(milter.conf).read()
    milter.write_conf(good + "\nthis is not libconfig\n")
    off = milter.log_offset()
    milter.signal(signal.SIGHUP)
    milter.wait_log(r"keeping the running configuration", since=off)
    tap.is_(prom.wait_value(NS + 'config_reloads_total{result="failure"}', 1.0), 1.0,
            "config_reloads_total{result=failure} = 1")
    tap.is_(prom.wait_value(NS + 'config_last_reload_successful', 0.0), 0.0,
            "config_last_reload_successful = 0 after the refused file")
    alert = ('ALERTS{alertname="SmtpreplyConfigReloadFailed",alertstate="pending"}')
    tap.is_(prom.wait_value(alert, 1.0), 1.0, "contrib rule SmtpreplyConfigReloadFailed "
            "is pending after the refused file")
    alert = ('ALERTS{alertname="SmtpreplyNormalizedRepliesRising",'
             'diagnostic="enhanced-class-mismatch",alertstate="pending"}')
    tap.is_(prom.wait_value(alert, 1.0), 1.0, "contrib rule SmtpreplyNormalizedRepliesRising "
            "is pending for enhanced-class-mismatch")
    milter.write_conf(good)


def option_inet6(tap, base):
    """-m overrides the setting; inet6 without a host is ::1."""
    port, milter_port, unused = mta.free_port(), mta.free_port(), mta.free_port()
    d = os.path.join(base, "m6")
    os.makedirs(d, exist_ok=True)
    m = Milter(d, "inet:%d@127.0.0.1" % milter_port, 'metrics = "inet:%d";\n' % unused,
               extra_args=["-m", "inet6:%d" % port])
    m.start()
    try:
        status, _, body = http("http://[::1]:%d/metrics" % port)
        tap.ok(status == 200 and NS + "sessions_total 0" in body,
               "-m inet6:PORT serves /metrics on [::1]:PORT", diag=status)
        tap.ok(not mta.port_open("127.0.0.1", unused),
               "-m overrides the 'metrics' setting (its port is not open)")
    finally:
        m.stop()
    empty = os.path.join(base, "empty.conf")
    open(empty, "w").close()
    r = subprocess.run([MILTER, "-t", "-c", empty, "-m", "inet:99999"],
                       capture_output=True, text=True, timeout=30)
    tap.ok(r.returncode == 2 and "port must be a number" in r.stderr,
           "-m with a bad port: exit status 2 and why", diag="%d %s" % (r.returncode, r.stderr))


if __name__ == "__main__":
    sys.exit(main())
