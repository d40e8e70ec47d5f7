#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_replay.py - the replies Postfix 3.7, sendmail 8.17, Exim 4.96 and
OpenSMTPD 6.8 gave to the probes (tests/data/probe/MTA-VERSION.json, captured
by the test_probe_MTA.py tests with SR_PROBE_CAPTURE), played back by a fake
server (fakesmtp.ReplaySmtp): "smtpreply probe" must read each reply exactly
as captured and report the same findings (probelib.EXPECTED, the table of the
closing note). Needs no root and no MTA: always runs.
"""

import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import probelib  # noqa: E402
from fakesmtp import ReplaySmtp  # noqa: E402


def scripts_of(capture):
    """One script per session: the replies of each probe that ran, in order."""
    scripts = []
    for p in capture["probes"]:
        if not p["exchanges"]:
            continue
        s = []
        for e in p["exchanges"]:
            if e["problem"] in ("timeout",):
                s.append(None)
                break
            s.append(e["reply"].encode("utf-8", "surrogateescape") + b"\r\n")
        scripts.append(s)
    return scripts


def main():
    tap = mta.Tap()
    if not os.access(probelib.SMTPREPLY, os.X_OK):
        tap.bail_out("no program to test: SMTPREPLY=%s" % probelib.SMTPREPLY)
    files = sorted(glob.glob(os.path.join(probelib.DATA_DIR, "*.json")))
    names = sorted({os.path.basename(f).split("-")[0] for f in files})
    tap.is_(names, ["exim", "opensmtpd", "postfix", "sendmail"],
            "a capture for each MTA in tests/data/probe/")
    for path in files:
        with open(path) as f:
            cap = json.load(f)
        who = "%s %s" % (cap["captured"]["mta"], cap["captured"]["version"])
        with ReplaySmtp(scripts_of(cap)) as fake:
            rc, j, out, err = probelib.run_probe(probelib.probe_args(cap["domain"])
                                                 + ["127.0.0.1:%d" % fake.port])
        tap.ok(j is not None, "%s replayed: the probe ran" % who, diag=(out[-500:], err))
        if j is None:
            continue
        same = all(a["reply"] == b["reply"]
                   for pa, pb in zip(cap["probes"], j["probes"])
                   for a, b in zip(pa["exchanges"], pb["exchanges"]))
        tap.ok(same and [p["id"] for p in cap["probes"]] == [p["id"] for p in j["probes"]],
               "%s: every reply read exactly as captured" % who)
        probelib.check_findings(tap, who, probelib.findings(j),
                                probelib.EXPECTED[cap["captured"]["mta"]])
        tap.is_(rc, probelib.EXPECTED_STATUS[cap["captured"]["mta"]], "%s: exit status" % who)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
