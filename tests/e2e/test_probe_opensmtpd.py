#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_opensmtpd.py - "smtpreply probe" against Debian 12's OpenSMTPD 6.8
(tests/e2e/opensmtpd.py: unpacked into the build tree, never installed; smtpd
-d on a loopback port in a private mount namespace).

Built-in filters answer what the Postfix test's access maps answer: 557 to the
null sender and 550 4.7.1 to the relay domain (smtpd.conf strings keep a
backslash as it is, so the regex matches its dots with [.]). Asserts the probe's findings
(probelib.EXPECTED["opensmtpd"], also asserted by the replay of
tests/data/probe/opensmtpd-*.json) and that the queue stays empty. Needs root,
unshare, mount and a package index for the first fetch; under CI=true a
missing one is a failure, else a skip. With SR_PROBE_CAPTURE=DIR the JSON is
saved there.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402
import opensmtpd  # noqa: E402
import probelib  # noqa: E402

HOST = opensmtpd.HOSTNAME
CONF = [
    "smtp limit max-rcpt 3",
    'filter "nullsender" phase mail-from match mail-from regex "^$" '
    'reject "557 Too many duplicate messages"',
    'filter "relay" phase rcpt-to match rcpt-to regex "@relay-test[.]smtpreply[.]invalid$" '
    'reject "550 4.7.1 Relaying denied"',
]


def main():
    tap = mta.Tap()
    root, version = probelib.unpacked_mta(tap, opensmtpd, "OpenSMTPD", "smtpd runs as root, privilege-separated")

    base = tempfile.mkdtemp(prefix="smtpreply-probe-opensmtpd.")
    os.chmod(base, 0o755)
    sd = opensmtpd.PrivateSmtpd(os.path.join(base, "smtpd"), root, mta.free_port(),
                                conf_extra=CONF, filters=["nullsender", "relay"])
    try:
        sd.setup()
        sd.start()
        target = "127.0.0.1:%d" % sd.port
        # A pause between sessions, as an administrator would use. With the
        # filters and --delay 0, smtpd sometimes logged a connection and sent
        # no greeting within 5 s (the probe reports "broken greeting: timeout").
        rc, j, out, err = probelib.run_probe(probelib.probe_args(HOST, ["--delay", "1"])
                                             + [target])
        tap.ok(j is not None, "OpenSMTPD %s: the probe ran" % version,
               diag=(out[-800:], err[-800:]))
        if j is None:
            return tap.done()
        probelib.save_capture(j, "opensmtpd", version, "smtpreply probe %s" % target)
        probelib.check_findings(tap, "opensmtpd", probelib.findings(j),
                                probelib.EXPECTED["opensmtpd"])
        tap.is_(rc, probelib.EXPECTED_STATUS["opensmtpd"], "exit status")
        tap.is_(j["probes"][0]["exchanges"][0]["reply"], "220 %s ESMTP OpenSMTPD" % HOST,
                "the greeting names OpenSMTPD")
        tap.is_(sd.queued(), [], "OpenSMTPD queued nothing")
        sd.stop()
        tap.ok(sd.proc is None and not mta.port_open("127.0.0.1", sd.port),
               "smtpd is stopped by PID")
    finally:
        sd.stop()
        if os.environ.get("SR_E2E_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
