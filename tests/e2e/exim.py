# SPDX-License-Identifier: ISC
"""exim.py - Debian 12's Exim 4.96 (exim4-daemon-light), unpacked into the build
tree and run with a private configuration, for end-to-end tests (Python 3
standard library only). Used by test_probe_exim.py; meant to be reused (an
Exim log for the audit tests, say).

Exim conflicts with postfix, so it is never installed: fetch() downloads
exim4-daemon-light and exim4-base (and the libraries they need that are
missing: libidn12 on a machine with postfix) with apt-get download and
unpacks them into $top_builddir/tests/e2e/exim-root (debfetch.py; kept for
the next run).

    root = exim.fetch()                             # or raises exim.FetchError
    ex = exim.PrivateExim("/tmp/x", root, acl_rcpt=[...])
    ex.setup()
    with ex.session() as c:                         # one exim -bs process
        c.connect()                                 # ['220 mx.test.invalid ESMTP Exim 4.96 ...']
        c.cmd("EHLO client.test.invalid")
        c.quit()
    ex.start_daemon(port)                           # or: exim -bdf on 127.0.0.1:port
    ...
    ex.stop_daemon()
    ex.mainlog()                                    # the private log/mainlog text

How it runs (Exim 4.96, Debian 12):

- Debian's binary is built with EXIM_USER=Debian-exim, looked up when it
  starts ("exim: failed to find uid for user name "Debian-exim"" without it),
  and that user comes with exim4-base's postinst, which is not run. Each run
  is wrapped in "unshare --mount" with a private passwd and group file bound
  over /etc/passwd and /etc/group: the machine's entries plus Debian-exim with
  an id no one uses. Nothing outside the namespace changes.
- -C FILE as root: Exim keeps root (the file need not be in
  TRUSTED_CONFIG_LIST for root). The configuration puts the spool, the logs
  (log_file_path) and the pid file in the private directory, sets
  keep_environment (no warning), tls_advertise_hosts empty (no certificate),
  and routes only the local domain: postmaster and the names in `aliases`
  go to :blackhole:, other local parts are unrouteable, nothing is ever
  delivered anywhere.
- -bs: SMTP on standard input and output, as a local caller (the log says
  U=root); -bdf -oX PORT: a daemon in the foreground on 127.0.0.1:PORT, the
  log then names H=[127.0.0.1], stopped with SIGTERM by PID.
"""

import atexit
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import debfetch  # noqa: E402
import mta  # noqa: E402
from sendmail import Session  # noqa: E402  (a -bs process as an SMTP dialogue)

PACKAGES = ("exim4-daemon-light", "exim4-base")
EXIM = "usr/sbin/exim4"
REQUIRED = (EXIM,)
HOSTNAME = "mx.test.invalid"
EXIM_USER = "Debian-exim"

FetchError = debfetch.FetchError


# Instances with a daemon running: stopped at exit.
_running = set()


@atexit.register
def _stop_all():
    for ex in list(_running):
        ex.stop_daemon()


class EximError(RuntimeError):
    """The private Exim could not be configured or run."""


def default_root():
    return debfetch.build_root("exim-root")


def fetch(root=None, log=None):
    """Make root (default: default_root()) hold Debian's Exim unpacked; return
    root. Raises FetchError."""
    return debfetch.fetch(root or default_root(), PACKAGES, "exim4-daemon-light", REQUIRED,
                          log)


def version(root):
    """The packaged version ("4.96")."""
    return debfetch.fetched_version(root, "exim4-daemon-light")


def _free_id(taken):
    for i in range(64990, 60000, -1):
        if i not in taken:
            return i
    raise EximError("no free id for %s" % EXIM_USER)


def _q(s):
    """s as an Exim string (double quotes, backslash-escaped)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class PrivateExim:
    """An Exim configuration of its own under base_dir.

    root        the unpacked tree (fetch())
    acl_mail    ACL lines for MAIL (list of str) before "accept"
    acl_rcpt    ACL lines for RCPT before those of Debian's default
                configuration: other domains "relay not permitted", then
                "require verify = recipient" (an unknown local user is
                "Unrouteable address")
    aliases     {local part: target} routed to :blackhole: as well
    main_extra  more main-section lines (e.g. "recipients_max = 3")
    hostname    primary_hostname (the only local domain, with "localhost")

    Exim writes its log and spool as Debian-exim (a private id): the folders
    above base_dir must be searchable by others (mode 755, not mkdtemp's 700).

    Attributes: conf (the configuration file), log_dir, spool_dir, env.
    """

    def __init__(self, base_dir, root, acl_mail=(), acl_rcpt=(), aliases=None, main_extra=(),
                 hostname=HOSTNAME):
        self.base = os.path.abspath(base_dir)
        self.root = os.path.abspath(root)
        self.acl_mail = list(acl_mail)
        self.acl_rcpt = list(acl_rcpt)
        self.aliases = dict(aliases or {})
        self.main_extra = list(main_extra)
        self.hostname = hostname
        self.conf = os.path.join(self.base, "exim.conf")
        self.log_dir = os.path.join(self.base, "log")
        self.spool_dir = os.path.join(self.base, "spool")
        self.passwd = os.path.join(self.base, "passwd")
        self.group = os.path.join(self.base, "group")
        self.stderr_file = os.path.join(self.base, "exim.stderr")
        self.pid_file = os.path.join(self.base, "exim.pid")
        self.env = dict(os.environ)
        self.env["LD_LIBRARY_PATH"] = debfetch.lib_path(self.root)
        self.daemon = None

    def path(self, rel):
        return os.path.join(self.root, rel)

    def conf_text(self):
        b = self.base
        lines = [
            "# a private Exim for tests/e2e (generated by exim.py)",
            "primary_hostname = %s" % self.hostname,
            "qualify_domain = %s" % self.hostname,
            "domainlist local_domains = @ : localhost",
            "spool_directory = %s" % self.spool_dir,
            "log_file_path = %s/%%slog" % self.log_dir,
            "pid_file_path = %s" % self.pid_file,
            "keep_environment =",
            "tls_advertise_hosts =",
            "local_interfaces = 127.0.0.1",
            "host_lookup =",
            "rfc1413_hosts =",
            "acl_smtp_mail = acl_check_mail",
            "acl_smtp_rcpt = acl_check_rcpt",
        ] + self.main_extra + [
            "",
            "begin acl",
            "acl_check_mail:",
        ] + ["  " + l for l in self.acl_mail] + [
            "  accept",
            "acl_check_rcpt:",
        ] + ["  " + l for l in self.acl_rcpt] + [
            "  require message = relay not permitted",
            "          domains = +local_domains",
            "  require verify = recipient",
            "  accept",
            "",
            "begin routers",
            "local_names:",
            "  driver = redirect",
            "  domains = +local_domains",
            "  data = ${lookup{$local_part}lsearch{%s/aliases}}" % b,
            "",
            "begin transports",
            "",
        ]
        return "\n".join(lines) + "\n"

    def setup(self):
        """Write the configuration, the aliases, the private passwd and group
        files; make the spool and log directories."""
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o755)
        for d in (self.log_dir, self.spool_dir):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        with open(self.conf, "w") as f:
            f.write(self.conf_text())
        os.chmod(self.conf, 0o644)
        with open(os.path.join(self.base, "aliases"), "w") as f:
            f.write("postmaster: :blackhole:\n")
            for name in self.aliases:
                f.write("%s: :blackhole:\n" % name)
        uids = {p.pw_uid for p in pwd.getpwall()}
        gids = {g.gr_gid for g in grp.getgrall()}
        uid, gid = _free_id(uids), _free_id(gids)
        with open("/etc/passwd") as src, open(self.passwd, "w") as dst:
            dst.write(src.read().rstrip("\n") + "\n")
            dst.write("%s:x:%d:%d:Exim (private, tests):/nonexistent:/usr/sbin/nologin\n"
                      % (EXIM_USER, uid, gid))
        with open("/etc/group") as src, open(self.group, "w") as dst:
            dst.write(src.read().rstrip("\n") + "\n")
            dst.write("%s:x:%d:\n" % (EXIM_USER, gid))
        os.chmod(self.passwd, 0o644)
        os.chmod(self.group, 0o644)
        # Exim writes its logs and spool as Debian-exim.
        for d in (self.log_dir, self.spool_dir):
            os.chown(d, uid, gid)
            os.chmod(d, 0o750)
        with open(self.stderr_file, "wb"):
            pass
        r = self.run(["-bV"])
        if r.returncode != 0:
            raise EximError("exim -bV: status %d: %s" % (r.returncode,
                                                         (r.stdout + r.stderr).strip()[-800:]))
        return self

    def argv(self, args):
        """The command line that runs the unpacked Exim with -C the private
        configuration and args in a private mount namespace."""
        script = ('mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group || exit 71; '
                  'shift 2; exec "$@"')
        return (["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
                 "sh", self.passwd, self.group, self.path(EXIM), "-C", self.conf] + list(args))

    def command(self, args=("-bs",)):
        """argv() as one shell command line (for smtpreply probe --exec)."""
        return shlex.join(self.argv(args))

    def run(self, args, timeout=60, input=None):
        return subprocess.run(self.argv(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def session(self, timeout=10.0):
        """A Session (not connected yet) of exim -bs."""
        return Session(self.argv(["-bs"]), self.env, self.stderr_file, timeout)

    def start_daemon(self, port, timeout=10.0):
        """exim -bdf -oX PORT: a daemon in the foreground on 127.0.0.1:PORT."""
        self.daemon = subprocess.Popen(self.argv(["-bdf", "-oX", str(port)]), env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=open(self.stderr_file, "ab"),
                                       start_new_session=True)
        _running.add(self)
        deadline = time.monotonic() + timeout
        while not mta.port_open("127.0.0.1", port):
            if self.daemon.poll() is not None or time.monotonic() >= deadline:
                self.stop_daemon()
                raise EximError("exim -bdf did not listen on port %d: %s" % (
                    port, mta.read_log(self.stderr_file)[-500:]))
            time.sleep(0.05)
        return self

    def stop_daemon(self):
        """SIGTERM to the daemon (by PID), SIGKILL after 10 s."""
        if self.daemon is not None:
            mta.stop_process(self.daemon)
            self.daemon = None
        _running.discard(self)

    def mainlog(self):
        return mta.read_log(os.path.join(self.log_dir, "mainlog"))

    def rejectlog(self):
        return mta.read_log(os.path.join(self.log_dir, "rejectlog"))

    def spooled(self):
        """Names of the message files in the spool (input/): [] when nothing
        was accepted."""
        d = os.path.join(self.spool_dir, "input")
        out = []
        for dirpath, _dirs, files in os.walk(d):
            out.extend(f for f in files if f.endswith("-H") or f.endswith("-D"))
        return sorted(out)

    def close(self):
        self.stop_daemon()


namespaces_work = debfetch.private_mounts_work
