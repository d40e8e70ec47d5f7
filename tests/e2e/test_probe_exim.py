#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""test_probe_exim.py - "smtpreply probe" against Debian 12's Exim 4.96 with a
private configuration (tests/e2e/exim.py: exim4-daemon-light unpacked into the
build tree, never installed), through --exec 'exim -bs' and over TCP to
exim -bdf on a loopback port.

The ACLs answer what the Postfix test's access maps answer: 557 to the null
sender, 550 4.7.1 to the relay domain (Exim sends both as written). Asserts
the probe's findings (probelib.EXPECTED["exim"], also asserted by the replay
of tests/data/probe/exim-*.json) and that the spool stays empty. Needs root,
unshare, mount and a package index for the first fetch; under CI=true a
missing one is a failure, else a skip. With SR_PROBE_CAPTURE=DIR the JSON of
the -bs run is saved there.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import exim  # noqa: E402
import mta  # noqa: E402
import probelib  # noqa: E402

HOST = exim.HOSTNAME
ACL_MAIL = ["deny    senders = :", "        message = 557 Too many duplicate messages"]
ACL_RCPT = ["deny    domains = relay-test.smtpreply.invalid",
            "        message = 550 4.7.1 Relaying denied"]


def main():
    tap = mta.Tap()
    root, version = probelib.unpacked_mta(tap, exim, "Exim",
                                          "Exim with a private configuration runs as root")

    base = tempfile.mkdtemp(prefix="smtpreply-probe-exim.")
    os.chmod(base, 0o755)
    ex = exim.PrivateExim(os.path.join(base, "exim"), root, acl_mail=ACL_MAIL,
                          acl_rcpt=ACL_RCPT, main_extra=["recipients_max = 3"])
    try:
        ex.setup()
        rc, j, out, err = probelib.run_probe(probelib.probe_args(HOST) + ["--exec", ex.command()],
                                             timeout=600, env=ex.env)
        tap.ok(j is not None, "Exim %s via --exec 'exim -bs': the probe ran" % version,
               diag=(out[-800:], err[-800:]))
        if j is None:
            return tap.done()
        probelib.save_capture(j, "exim", version, "smtpreply probe --exec 'exim4 -C "
                              "PRIVATE.conf -bs'")
        probelib.check_findings(tap, "exim", probelib.findings(j), probelib.EXPECTED["exim"])
        tap.is_(rc, probelib.EXPECTED_STATUS["exim"], "exit status")
        tap.ok(j["probes"][0]["exchanges"][0]["reply"].startswith(
            "220 %s ESMTP Exim %s " % (HOST, version)), "the greeting names Exim %s" % version)
        tap.is_(ex.spooled(), [], "Exim spooled nothing")
        log = ex.mainlog()
        tap.ok("rejected MAIL <>: 557 Too many duplicate messages" in log,
               "Exim's own log records the 557", diag=log[-1500:])

        # the same Exim as a daemon on a loopback port
        port = mta.free_port()
        ex.start_daemon(port)
        rc, j, out, err = probelib.run_probe(
            ["--json", "--delay", "0", "--timeout", "10", "--helo", probelib.HELO, "--domain",
             HOST, "--only", "greeting,null-sender,rcpt-relay,rcpt-unknown",
             "127.0.0.1:%d" % port], timeout=600, env=ex.env)
        got = probelib.findings(j) if j else {}
        want = {k: probelib.EXPECTED["exim"][k]
                for k in ("greeting", "null-sender", "rcpt-relay", "rcpt-unknown")}
        tap.is_(got, want, "Exim over TCP (exim -bdf on 127.0.0.1): the same findings")
        ex.stop_daemon()
        tap.ok(ex.daemon is None and not mta.port_open("127.0.0.1", port),
               "the daemon is stopped by PID")
    finally:
        ex.close()
        if os.environ.get("SR_E2E_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
