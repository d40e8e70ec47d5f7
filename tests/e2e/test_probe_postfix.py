#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_postfix.py - "smtpreply probe" against Debian's Postfix 3.7 (a private
instance on loopback, tests/e2e/mta.py) with restrictions that produce the
typical rejects and access maps that answer 557 (to the null sender) and
550 4.7.1 (to the relay domain; Postfix itself turns it into 550 5.7.1).

Asserts the probe's findings (probelib.EXPECTED["postfix"], the same table the
replay of tests/data/probe/postfix-*.json asserts), the text report, and that
nothing was delivered (Postfix logs no queue file for any session). Needs root
and the postfix package; under CI=true a missing one is a failure. With
SR_PROBE_CAPTURE=DIR the JSON is saved there (how tests/data/probe/ was made).
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import probelib  # noqa: E402

HOST = "mx.test.invalid"


def postfix_version():
    r = subprocess.run(["/usr/sbin/postconf", "-d", "-h", "mail_version"], capture_output=True,
                       text=True)
    return r.stdout.strip() or "unknown"


def start_postfix(base):
    port = mta.free_port()
    pf = mta.PrivatePostfix(base, port, maps={
        "users": "postmaster ok\n",
        "sender_access": "<> 557 Too many duplicate messages\n",
        "rcpt_access": "relay-test.smtpreply.invalid 550 4.7.1 Relaying denied\n",
    }, hostname=HOST)
    pf.params.update({
        "mydestination": "$myhostname, localhost",
        "mynetworks": "192.0.2.0/24",      # loopback is not trusted: relaying is refused
        "local_recipient_maps": pf.map_ref("users"),
        "smtpd_delay_reject": "no",
        "smtpd_helo_required": "yes",
        "smtpd_helo_restrictions": "reject_invalid_helo_hostname",
        "smtpd_sender_restrictions": "check_sender_access " + pf.map_ref("sender_access"),
        "smtpd_relay_restrictions": "check_recipient_access %s, reject_unauth_destination"
                                    % pf.map_ref("rcpt_access"),
        "smtpd_recipient_restrictions": "permit",
        "smtpd_recipient_limit": "3",
    })
    return pf.start()


def main():
    tap = mta.Tap()
    mta.need_root_and_postfix()
    if not os.access(probelib.SMTPREPLY, os.X_OK):
        tap.bail_out("no program to test: SMTPREPLY=%s" % probelib.SMTPREPLY)
    keep = os.environ.get("SR_E2E_KEEP") == "1"
    base = tempfile.mkdtemp(prefix="smtpreply-probe-postfix.")
    version = postfix_version()
    pf = None
    try:
        pf = start_postfix(base)
        target = "127.0.0.1:%d" % pf.port
        rc, j, out, err = probelib.run_probe(probelib.probe_args(HOST) + [target])
        tap.ok(j is not None, "Postfix %s: the probe ran and printed JSON" % version,
               diag=(out[-500:], err))
        if j is None:
            return tap.done()
        probelib.save_capture(j, "postfix", version, "smtpreply probe %s" % target)
        got = probelib.findings(j)
        probelib.check_findings(tap, "postfix", got, probelib.EXPECTED["postfix"])
        tap.is_(rc, probelib.EXPECTED_STATUS["postfix"], "exit status")
        tap.ok(all(not p["delivered"] for p in j["probes"]), "no probe delivered a message")
        log = pf.maillog()
        tap.ok(not re.search(r"postfix/cleanup\[\d+\]: [0-9A-F]+: message-id", log)
               and not re.search(r"postfix/qmgr\[\d+\]: [0-9A-F]+: from=", log),
               "Postfix queued nothing", diag=log[-2000:])
        tap.ok(re.search(r"lost connection after DATA", log) is not None,
               "the data-empty session ended after DATA, before any text (Postfix's log)",
               diag=log[-1500:])

        # The text report: the notice, a probed reply, its diagnostic, the summary.
        p = subprocess.run([probelib.SMTPREPLY, "probe", "--delay", "0", "--helo",
                            probelib.HELO, "--only", "null-sender,rcpt-relay", target],
                           capture_output=True, text=True, timeout=120)
        txt = p.stdout
        tap.ok(txt.splitlines()[1:2] == ["Only probe servers you run or are allowed to test."]
               and "  < 557 5.7.1 <>: Sender address rejected: Too many duplicate messages" in txt
               and "code-nonstandard" in txt
               and "normalized: 550 5.7.1 <>: Sender address rejected: Too many duplicate "
                   "messages" in txt
               and re.search(r"  < 550 5\.7\.1 <smtpreply-probe@relay-test\.smtpreply\.invalid>:"
                             r" Recipient address rejected: Relaying denied", txt)
               and "Summary: 2 probes, 2 run, 0 skipped; 2 probed replies: 0 with an error, "
                   "1 more with a warning; 0 stream problems" in txt,
               "text report against Postfix", diag=txt)
        tap.is_(p.returncode, 0, "warnings only: exit 0 (default --fail-on error)")
    finally:
        if pf is not None:
            pf.stop()
        if not keep:
            import shutil
            shutil.rmtree(base, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
