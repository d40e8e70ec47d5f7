#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_sendmail.py - "smtpreply probe --exec" against Debian 12's sendmail
8.17 run -bs with a private configuration (tests/e2e/sendmail.py: unpacked into
the build tree, never installed; private mount and UTS namespaces; queue-only).

The access map answers 550 4.7.1 to the relay domain, as the Postfix test's
does: sendmail sends it as written (Postfix fixes the class). No 557 for the null
sender as in the Postfix test: sendmail's check_mail ruleset accepts <> before
any access-map lookup ("we MUST accept <> (RFC 1123)"). Asserts the probe's findings (probelib.EXPECTED["sendmail"],
also asserted by the replay of tests/data/probe/sendmail-*.json) and that the
queue stays empty. Needs root, m4, unshare, mount and a package index for the
first fetch; under CI=true a missing one is a failure, else a skip. With
SR_PROBE_CAPTURE=DIR the JSON is saved there.
"""

import os
import shlex
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import probelib  # noqa: E402
import sendmail  # noqa: E402

HOST = sendmail.HOSTNAME
ACCESS = "To:relay-test.smtpreply.invalid\tERROR:4.7.1:550 Relaying denied\n"
MC_EXTRA = ["define(`confMAX_RCPTS_PER_MESSAGE', `3')dnl"]


def main():
    tap = mta.Tap()
    if os.geteuid() != 0:
        mta.cannot_run("needs root (sendmail -bs with a private configuration runs as root)")
    for prog, pkg in (("m4", "m4"), ("unshare", "util-linux"), ("mount", "mount"),
                      ("hostname", "hostname")):
        if shutil.which(prog) is None:
            mta.cannot_run("%s not found (Debian package: %s)" % (prog, pkg))
    why = sendmail.namespaces_work()
    if why:
        mta.cannot_run("sendmail runs in private mount and UTS namespaces: %s" % why)
    if not os.access(probelib.SMTPREPLY, os.X_OK):
        tap.bail_out("no program to test: SMTPREPLY=%s" % probelib.SMTPREPLY)
    try:
        root = sendmail.fetch(log=tap.diag)
    except sendmail.FetchError as e:
        mta.cannot_run("cannot fetch Debian's sendmail: %s" % e)
    version = next((l.split()[1] for l in sendmail.fetched_info(root)
                    if l.startswith("sendmail-bin ")), "unknown").split("-")[0]
    version = version.split(":")[-1]

    base = tempfile.mkdtemp(prefix="smtpreply-probe-sendmail.")
    os.chmod(base, 0o755)
    sm = sendmail.PrivateSendmail(os.path.join(base, "sendmail"), root, access=ACCESS,
                                  mc_extra=MC_EXTRA)
    try:
        sm.setup()
        command = shlex.join(sm.argv(["-bs"]))
        t0 = time.monotonic()
        import subprocess
        p = subprocess.run([probelib.SMTPREPLY, "probe"] + probelib.probe_args(HOST)
                           + ["--exec", command], capture_output=True, env=sm.env, timeout=600)
        took = time.monotonic() - t0
        out = p.stdout.decode("utf-8", "replace")
        try:
            import json
            j = json.loads(out)
        except ValueError:
            j = None
        tap.ok(j is not None, "sendmail %s via --exec: the probe ran and printed JSON (%.1f s)"
               % (version, took), diag=(out[-800:], p.stderr.decode("utf-8", "replace")[-800:]))
        if j is None:
            return tap.done()
        probelib.save_capture(j, "sendmail", version, "smtpreply probe --exec 'sendmail -C "
                              "PRIVATE.cf -bs'")
        got = probelib.findings(j)
        probelib.check_findings(tap, "sendmail", got, probelib.EXPECTED["sendmail"])
        tap.is_(p.returncode, probelib.EXPECTED_STATUS["sendmail"], "exit status")
        tap.ok(j["probes"][0]["exchanges"][0]["reply"].startswith("220 %s ESMTP Sendmail 8.17"
                                                                   % HOST),
               "the greeting names sendmail 8.17", diag=j["probes"][0]["exchanges"][0])
        tap.is_(sm.queue_files(), {}, "sendmail queued nothing")
        tap.is_(mta.read_log(sm.stderr_file).strip(), "", "sendmail wrote nothing on stderr")
    finally:
        sm.close()
        if os.environ.get("SR_E2E_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
