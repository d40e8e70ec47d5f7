# SPDX-License-Identifier: ISC
"""mta.py - the end-to-end tests' shared helpers, in one place: a private Postfix,
a raw SMTP client, TAP output, and smtpreply-milter under test (Milter, the
rules both MTAs' tests play).

Python 3 standard library only. Used by the end-to-end tests in tests/e2e/ and by
bench/milter_bench.py. sendmail.py (a private sendmail) and children.py (the
milters the proxy tests run behind smtpreply-milter) build on it.

PrivatePostfix runs a complete Postfix of its own, as root, from the Debian
package's binaries but with nothing shared with the machine's mail setup: its
own configuration directory, queue directory, data directory and log file, all
under one base directory, and an smtpd listening on 127.0.0.1:PORT only. Nothing
is ever delivered: every transport is "discard". /etc/postfix is never read or
written; port 25 is never used; no system service is started.

    with PrivatePostfix("/tmp/x", 12500, {"smtpd_milters": "inet:127.0.0.1:12501"}) as pf:
        c = SmtpClient("127.0.0.1", 12500)
        greeting = c.connect()          # ['220 ...']
        c.cmd("EHLO client.example")    # ['250-...', ..., '250 CHUNKING']
        ...
        pf.wait_log(r"milter-reject: RCPT")

How it works (Postfix 3.7, checked on Debian 12):

- master runs in the foreground: "/usr/lib/postfix/sbin/master -c CONFDIR -d",
  in a session (process group) of its own. master puts MAIL_CONFIG=CONFDIR in
  its environment and every child inherits it (import_environment keeps
  MAIL_CONFIG), so the processes of one instance are found by that variable in
  /proc/PID/environ. The children's command lines do not name the configuration
  directory.
- Logging goes to a private file through postlogd (maillog_file); without it
  Postfix logs to /dev/log, which may not exist, and master dies silently.
- Postfix re-reads main.cf in 300 ms steps until the file is some 2 s old (it
  waits for an editor to finish); the generated files are dated 10 s back so
  that start() takes some 0.1 s, not 2 s.
- SIGTERM to master stops the instance: master signals its process group (it
  is a group leader here) and exits at once; the children exit a moment later
  (re-parented to init). stop() waits for them, found by MAIL_CONFIG or by
  process group: an exiting process has no readable /proc/PID/environ any more
  but can still hold the smtpd listen socket for a moment. Stragglers after
  5 s get SIGKILL. Instances not stopped are stopped at exit (atexit; SIGTERM
  to the test program exits through atexit too).
- SIGHUP to master re-reads main.cf and master.cf, as "postfix reload" does
  ("postfix reload" itself would want the directory listed in
  alternate_config_directories of the default /etc/postfix/main.cf, which must
  not be touched). master then restarts every service: idle processes exit at
  once, a process in an SMTP session finishes the session with the old
  settings. reload() waits for both.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"
POSTFIX_MASTER = os.path.join(POSTFIX_DAEMON_DIR, "master")
POSTMAP = "/usr/sbin/postmap"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"

# The unix services master.cf has besides smtpd, as in Debian's master.cf but
# never chrooted: (name, type, private, unpriv, wakeup, maxproc, command).
_UNIX_SERVICES = [
    ("pickup", "unix", "n", "-", "60", "1", "pickup"),
    ("cleanup", "unix", "n", "-", "-", "0", "cleanup"),
    ("qmgr", "unix", "n", "-", "300", "1", "qmgr"),
    ("rewrite", "unix", "-", "-", "-", "-", "trivial-rewrite"),
    ("bounce", "unix", "-", "-", "-", "0", "bounce"),
    ("defer", "unix", "-", "-", "-", "0", "bounce"),
    ("trace", "unix", "-", "-", "-", "0", "bounce"),
    ("verify", "unix", "-", "-", "-", "1", "verify"),
    ("flush", "unix", "n", "-", "1000?", "0", "flush"),
    ("proxymap", "unix", "-", "-", "-", "-", "proxymap"),
    ("proxywrite", "unix", "-", "-", "-", "1", "proxymap"),
    ("smtp", "unix", "-", "-", "-", "-", "smtp"),
    ("relay", "unix", "-", "-", "-", "-", "smtp"),
    ("showq", "unix", "n", "-", "-", "-", "showq"),
    ("error", "unix", "-", "-", "-", "-", "error"),
    ("retry", "unix", "-", "-", "-", "-", "error"),
    ("discard", "unix", "-", "-", "-", "-", "discard"),
    ("local", "unix", "-", "n", "-", "-", "local"),
    ("anvil", "unix", "-", "-", "-", "1", "anvil"),
    ("scache", "unix", "-", "-", "-", "1", "scache"),
    ("postlog", "unix-dgram", "n", "-", "-", "1", "postlogd"),
]

_QUEUE_SUBDIRS_POSTFIX = ["active", "bounce", "corrupt", "defer", "deferred", "flush",
                          "hold", "incoming", "private", "saved", "trace"]


# Instances started and not stopped yet: stopped at exit, so that a test that
# dies of an exception leaves no Postfix behind (SIGKILL of the test does).
_running = set()


@atexit.register
def _stop_all():
    for pf in list(_running):
        try:
            pf.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _exit_on_sigterm():
    """Make SIGTERM (e.g. a test harness's timeout) exit through atexit, so that
    _stop_all runs; only if nobody else handles SIGTERM."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def handler(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, handler)


class PostfixError(RuntimeError):
    """Postfix could not be configured, started or stopped."""


def _ids():
    import grp
    import pwd
    return pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postdrop").gr_gid


# Ports free_port() has handed out in this process.
_PORTS_GIVEN = set()


def free_port(start=None, end=None):
    """A TCP port on 127.0.0.1 that nothing listens on now.

    With start/end, the first free port in [start, end); otherwise one chosen by
    the kernel (an ephemeral, high port). The port is closed again before return,
    so there is a small race with other programs; use it at once. A port is
    never handed out twice in one test process (the kernel may choose the same
    ephemeral port again once it is closed, before its first user binds it)."""
    if start is None:
        for _ in range(1000):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _PORTS_GIVEN:
                _PORTS_GIVEN.add(port)
                return port
        raise PostfixError("the kernel gave no port not handed out before")
    for port in range(start, end if end is not None else start + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            if port in _PORTS_GIVEN:
                continue
            _PORTS_GIVEN.add(port)
            return port
    raise PostfixError("no free port in %d..%d" % (start, end - 1 if end else start + 99))


def port_open(host, port, timeout=0.5):
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _pgid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def _who_listens(port):
    """ ": PID (command), ..." of the processes listening on 127.0.0.1:port, or ""."""
    inodes = set()
    hexport = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(hexport) and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    except OSError:
        return ""
    who = []
    for pid in _pids():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                who.append("%d (%s)" % (pid, " ".join(_proc_cmdline(pid))))
                break
    return (": " + ", ".join(who)) if who else ""


def read_log(path, since=0):
    """The text of log file path from byte offset since ("" if none yet)."""
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def log_size(path):
    """The size of log file path (0 if none yet): an offset for wait_for_line."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def wait_for_line(path, regex, timeout=10.0, since=0, gave_up=None):
    """Wait until a line of log file path (from offset since) matches regex;
    return the re.Match, or None after timeout seconds or as soon as gave_up()
    (optional) is true and the log still has no such line."""
    rx = re.compile(regex)
    deadline = time.monotonic() + timeout
    while True:
        stop = gave_up is not None and gave_up()
        for line in read_log(path, since).splitlines():
            m = rx.search(line)
            if m:
                return m
        if stop or time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def stop_process(proc, timeout=10.0):
    """SIGTERM to a subprocess.Popen, SIGKILL after timeout seconds; returns
    its exit status (None if proc is None)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


class PrivatePostfix:
    """A private Postfix instance listening on 127.0.0.1:port.

    base_dir      directory for everything of this instance (created; emptied
                  of a previous instance's conf/queue/data/log first)
    port          smtpd port on 127.0.0.1
    params        extra main.cf parameters (dict); they override the defaults.
                  The text "{conf_dir}" in a value is replaced by the
                  configuration directory (handy for map paths).
    master_extra  extra master.cf lines (list of str), appended as they are
    maps          map files to create in the configuration directory: dict
                  name -> content (str). A map referred to in params as
                  hash:/lmdb:/cdb:{conf_dir}/NAME is compiled with postmap;
                  texthash: needs nothing (use pf.map_ref(name)).
    hostname      myhostname

    Attributes: conf_dir, queue_dir, data_dir, log_file, pid (of master, or
    None), port.
    """

    # The programs of this instance (a subclass may run another Postfix).
    master_program = POSTFIX_MASTER
    postmap_program = POSTMAP

    DEFAULTS = {
        "compatibility_level": "3.6",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "mydestination": "localhost",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "alias_maps": "",
        "alias_database": "",
        "local_recipient_maps": "",
        "default_transport": "discard",
        "local_transport": "discard",
        "relay_transport": "discard",
        "virtual_transport": "discard",
        "smtputf8_enable": "no",
        "biff": "no",
        "smtpd_tls_security_level": "none",
        "smtp_tls_security_level": "none",
        "smtp_dns_support_level": "disabled",
    }

    def __init__(self, base_dir, port, params=None, master_extra=None, maps=None,
                 hostname="mx.test.invalid"):
        self.base_dir = os.path.abspath(base_dir)
        self.port = int(port)
        self.params = dict(params or {})
        self.master_extra = list(master_extra or [])
        self.maps = dict(maps or {})
        self.hostname = hostname
        self.conf_dir = os.path.join(self.base_dir, "conf")
        self.queue_dir = os.path.join(self.base_dir, "queue")
        self.data_dir = os.path.join(self.base_dir, "data")
        self.log_file = os.path.join(self.base_dir, "maillog")
        self.master_out = os.path.join(self.base_dir, "master.out")
        self.proc = None
        self.pid = None

    # ---- configuration -------------------------------------------------------
    def map_ref(self, name, maptype="texthash"):
        """The map reference for main.cf, e.g. "texthash:/.../conf/NAME"."""
        return "%s:%s" % (maptype, os.path.join(self.conf_dir, name))

    def main_cf(self):
        """The main.cf parameters this instance uses (dict)."""
        p = dict(self.DEFAULTS)
        p.update({
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "maillog_file": self.log_file,
            "maillog_file_prefixes": self.base_dir,
            "myhostname": self.hostname,
        })
        for k, v in self.params.items():
            p[k] = str(v).replace("{conf_dir}", self.conf_dir)
        return p

    def master_cf(self):
        """The master.cf text."""
        lines = ["# private Postfix for tests (tests/e2e/mta.py)",
                 "127.0.0.1:%d inet n - n - - smtpd" % self.port]
        for name, typ, private, unpriv, wakeup, maxproc, cmd in _UNIX_SERVICES:
            lines.append("%-10s %-10s %s %s n %-5s %s %s"
                         % (name, typ, private, unpriv, wakeup, maxproc, cmd))
        lines.extend(self.master_extra)
        return "\n".join(lines) + "\n"

    def _write_config(self):
        os.makedirs(self.conf_dir, exist_ok=True)
        os.chmod(self.conf_dir, 0o755)
        text = "".join("%s = %s\n" % (k, v) for k, v in self.main_cf().items())
        with open(os.path.join(self.conf_dir, "main.cf.tmp"), "w") as f:
            f.write(text)
        os.replace(os.path.join(self.conf_dir, "main.cf.tmp"),
                   os.path.join(self.conf_dir, "main.cf"))
        with open(os.path.join(self.conf_dir, "master.cf"), "w") as f:
            f.write(self.master_cf())
        for name, content in self.maps.items():
            path = os.path.join(self.conf_dir, name)
            with open(path, "w") as f:
                f.write(content if content.endswith("\n") or not content else content + "\n")
            os.chmod(path, 0o644)
        # Postfix re-reads a configuration file in 300 ms steps until it is at
        # least 2 s old ("let it settle"); date the files back to save that.
        past = time.time() - 10
        for name in ["main.cf", "master.cf"] + list(self.maps):
            os.utime(os.path.join(self.conf_dir, name), (past, past))
        # Compile the maps main.cf names with a type that needs postmap.
        values = " ".join(self.main_cf().values())
        for name in self.maps:
            path = os.path.join(self.conf_dir, name)
            for m in re.finditer(r"\b(hash|btree|lmdb|cdb|dbm):" + re.escape(path) + r"\b", values):
                r = subprocess.run([self.postmap_program, "-c", self.conf_dir, "%s:%s" % (m.group(1), path)],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise PostfixError("postmap %s:%s failed: %s" % (m.group(1), path,
                                                                     r.stderr.strip()))

    def _make_dirs(self):
        uid, gid = _ids()
        os.makedirs(self.base_dir, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        for d in (self.queue_dir, self.data_dir):
            os.makedirs(d, exist_ok=True)
        os.chown(self.queue_dir, 0, 0)
        os.chmod(self.queue_dir, 0o755)
        os.chown(self.data_dir, uid, 0)
        os.chmod(self.data_dir, 0o700)
        for sub in _QUEUE_SUBDIRS_POSTFIX:
            p = os.path.join(self.queue_dir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, uid, -1)
            os.chmod(p, 0o700)
        for sub, mode in (("maildrop", 0o730), ("public", 0o710)):
            p = os.path.join(self.queue_dir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, uid, gid)
            os.chmod(p, mode)
        p = os.path.join(self.queue_dir, "pid")
        os.makedirs(p, exist_ok=True)
        os.chown(p, 0, 0)
        os.chmod(p, 0o755)

    # ---- life cycle ----------------------------------------------------------
    def start(self, timeout=20.0):
        """Write the configuration, create the queue, start master, and wait until
        the smtpd port accepts connections. Raises PostfixError (with the tail of
        the log) if it does not come up within timeout seconds."""
        if self.proc is not None:
            raise PostfixError("already started (pid %d)" % self.pid)
        # A previous instance's processes may take a moment to let go of it.
        deadline = time.monotonic() + 3.0
        while port_open("127.0.0.1", self.port, 0.2):
            if time.monotonic() >= deadline:
                raise PostfixError("port 127.0.0.1:%d is already in use%s"
                                   % (self.port, _who_listens(self.port)))
            time.sleep(0.05)
        self._kill_stale_master()
        for d in (self.conf_dir, self.queue_dir, self.data_dir):
            shutil.rmtree(d, ignore_errors=True)
        for f in (self.log_file, self.master_out):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        self._make_dirs()
        self._write_config()
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        out = open(self.master_out, "wb")
        try:
            self.proc = subprocess.Popen([self.master_program, "-c", self.conf_dir, "-d"],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         env=env, start_new_session=True)
        finally:
            out.close()
        self.pid = self.proc.pid
        _running.add(self)
        _exit_on_sigterm()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._cleanup_children(timeout=2.0)
                _running.discard(self)
                self.proc = self.pid = None
                raise PostfixError("Postfix master exited with status %s at start\n%s"
                                   % (rc, self._tail()))
            if port_open("127.0.0.1", self.port, 0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise PostfixError("Postfix did not accept connections on 127.0.0.1:%d within %.0f s\n%s"
                           % (self.port, timeout, self._tail()))

    def _kill_stale_master(self):
        """Stop a master left running from this base directory by a program that
        died without stop() (its pid file names it)."""
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        if not _alive(pid) or self.conf_dir not in _proc_cmdline(pid):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self._cleanup_children()

    def children(self):
        """PIDs of the live processes of this instance other than master: those
        with MAIL_CONFIG=conf_dir in their environment, and those in master's
        process group (a process that is exiting has no readable environment any
        more but may still hold the smtpd listen socket)."""
        key = ("MAIL_CONFIG=" + self.conf_dir).encode()
        me = os.getpid()
        res = []
        for pid in _pids():
            if pid in (self.pid, me) or not _alive(pid):
                continue
            if key in _proc_environ(pid) or (self.pid and _pgid(pid) == self.pid):
                res.append(pid)
        return res

    def processes(self):
        """[(pid, command line)] of every live process of this instance, master included."""
        pids = ([self.pid] if self.pid and _alive(self.pid) else []) + self.children()
        return [(pid, " ".join(_proc_cmdline(pid))) for pid in pids]

    def _cleanup_children(self, timeout=5.0):
        """Wait up to timeout seconds for the children to exit, then SIGKILL the
        rest. Returns (killed, survivors)."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.children()
            if not left:
                return [], []
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            survivors = [pid for pid in left if _alive(pid)]
            if not survivors:
                break
            time.sleep(0.05)
        return left, [pid for pid in left if _alive(pid)]

    def stop(self, timeout=10.0):
        """SIGTERM to master, wait, SIGKILL after timeout seconds; then wait for
        the children (master passes SIGTERM on to its process group) and SIGKILL
        any still there after 5 s. Returns the PIDs that had to be killed
        (normally []). Idempotent; a no-op if not started."""
        killed = []
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                killed.append(self.pid)
        k, survivors = self._cleanup_children(timeout=5.0)
        killed.extend(k)
        self.proc = None
        self.pid = None
        _running.discard(self)
        if survivors:
            raise PostfixError("processes of %s survived SIGKILL: %s" % (self.conf_dir, survivors))
        return killed

    def reload(self, params=None, timeout=10.0, settle=3.0):
        """Merge params into main.cf and make master re-read it with SIGHUP (what
        "postfix reload" does). Waits for master's "reload" log line, then up to
        settle seconds for every process started before the reload to exit
        (master restarts all its services on reload; a process in the middle of
        an SMTP session finishes the session first, with the old settings).
        Returns the PIDs of old processes still alive after settle (normally
        []). If the instance is not running, just starts it."""
        if params:
            self.params.update(params)
        if self.proc is None:
            self._write_config()
            self.start()
            return []
        old = self.children()
        n = len(re.findall(r"reload -- version", self.maillog()))
        self._write_config()
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while len(re.findall(r"reload -- version", self.maillog())) <= n:
            if time.monotonic() >= deadline:
                raise PostfixError("no reload line in the log after SIGHUP\n" + self._tail())
            time.sleep(0.02)
        deadline = time.monotonic() + settle
        while True:
            left = [pid for pid in old if _alive(pid)]
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.02)

    def restart(self, params=None):
        """stop() then start() with params merged in."""
        if params:
            self.params.update(params)
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- log -----------------------------------------------------------------
    def maillog(self):
        """The whole log of this instance (str; "" if none yet)."""
        return read_log(self.log_file)

    def log_offset(self):
        """Current size of the log; pass as since= to wait_log to look only at
        what is written afterwards."""
        return log_size(self.log_file)

    def wait_log(self, regex, timeout=10.0, since=0):
        """Wait until a log line (from byte offset since) matches regex; return
        the re.Match (its .string is the line), or None after timeout seconds."""
        return wait_for_line(self.log_file, regex, timeout, since)

    def _tail(self, n=30):
        parts = []
        lines = self.maillog().splitlines()[-n:]
        parts.append("--- tail of %s ---" % self.log_file)
        parts.extend(lines or ["(empty)"])
        try:
            with open(self.master_out, "rb") as f:
                out = f.read().decode("utf-8", "replace").splitlines()[-n:]
            if out:
                parts.append("--- master output ---")
                parts.extend(out)
        except OSError:
            pass
        return "\n".join(parts)


class SmtpDialogue:
    """What every SMTP client of these tests shares: reading replies line by
    line (a reply is complete at a line whose fourth character is not "-"),
    commands, DATA with dot-stuffing, QUIT. Every method returns the server's
    reply as a list of lines (str, CRLF stripped), exactly as sent. When the
    server closes, the lines received so far are returned (possibly []) and
    .closed is True. A subclass gives _recv() (bytes, b"" at the end of the
    stream), send(bytes) and close(), and may note the dialogue in _note()."""

    def __init__(self, timeout=10.0):
        self.timeout = timeout
        self.buf = b""
        self.closed = False

    def _recv(self, deadline):
        raise NotImplementedError

    def _note(self, who, text):
        """Called with ("C", command) and ("S", reply line); ignored here."""

    def reply(self):
        """Read one (possibly multi-line) reply."""
        lines = []
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\n" not in self.buf:
                if self.closed:
                    if self.buf:
                        lines.append(self.buf.rstrip(b"\r").decode("utf-8", "replace"))
                        self.buf = b""
                    for line in lines:
                        self._note("S", line)
                    return lines
                chunk = self._recv(deadline)
                if not chunk:
                    self.closed = True
                    continue
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                for line in lines:
                    self._note("S", line)
                return lines

    def cmd(self, line):
        """Send one command line (CRLF added); return its reply."""
        self._note("C", line if isinstance(line, str) else line.decode("utf-8", "replace"))
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply()

    def data(self, message):
        """DATA, then the message (bytes or str; LF or CRLF line ends) dot-stuffed
        with the final ".", and return the reply after the dot. If DATA itself is
        not answered 354, return that reply and send nothing more."""
        r = self.cmd("DATA")
        if not r or not r[-1].startswith("354"):
            return r
        if isinstance(message, str):
            message = message.encode("utf-8")
        lines = message.replace(b"\r\n", b"\n").split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        body = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
        self._note("C", "<message, %d lines>" % len(lines))
        self.send(body + b".\r\n")
        return self.reply()

    def quit(self):
        """QUIT and close; return the reply (or what there was)."""
        r = []
        if not self.closed:
            try:
                r = self.cmd("QUIT")
            except OSError:         # socket.timeout, TimeoutError, resets
                pass
        self.close()
        return r

    def close(self):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class SmtpClient(SmtpDialogue):
    """A raw SMTP client over TCP (see SmtpDialogue). A reply that does not come
    within timeout seconds raises socket.timeout."""

    def __init__(self, host="127.0.0.1", port=25, timeout=10.0):
        super().__init__(timeout)
        self.host, self.port = host, port
        self.sock = None

    def connect(self):
        """Connect; return the greeting."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.settimeout(self.timeout)
        self.closed = False
        self.buf = b""
        return self.reply()

    def _recv(self, deadline):
        if self.sock is None:
            return b""
        try:
            return self.sock.recv(65536)
        except ConnectionResetError:
            return b""

    def send(self, data):
        """Send raw bytes (no reply read). A closed connection sets .closed."""
        if self.sock is None:
            self.closed = True
            return
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.closed = True


def message(subject="test", sender="sender@client.test.invalid",
            rcpt="rcpt@example.test", body="Hello.\n", headers=None):
    """A small RFC 5322 message (str, LF line ends) for SmtpClient.data()."""
    h = ["From: <%s>" % sender, "To: <%s>" % rcpt, "Subject: %s" % subject,
         "Message-ID: <%d.%d@client.test.invalid>" % (os.getpid(), time.monotonic_ns())]
    h.extend(headers or [])
    return "\n".join(h) + "\n\n" + body


class Bailout(Exception):
    """Raised by Tap.bail_out after printing "Bail out!"."""


class Tap:
    """TAP producer. Tests are numbered as they are reported; done() prints the
    plan "1..N" at the end. run(fn, ...) runs one test function and reports an
    exception as "not ok" with the traceback as "# " lines, so one failing test
    never leaves the file without a plan.

        tap = Tap()
        tap.ok(reply == ["250 ok"], "RCPT accepted", diag=reply)
        tap.run(some_test, tap)      # some_test may call tap.ok itself
        sys.exit(tap.done())
    """

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.n = 0
        self.failed = 0
        self.finished = False

    def _print(self, s):
        self.out.write(s + "\n")
        self.out.flush()

    def diag(self, text):
        """Print text as "# " comment lines."""
        if text is None:
            return
        if not isinstance(text, str):
            text = "\n".join(text) if isinstance(text, (list, tuple)) else repr(text)
        for line in text.splitlines() or [""]:
            self._print("# " + line)

    @staticmethod
    def _desc(d):
        return str(d).replace("\n", " ").replace("#", "\\#")

    def ok(self, cond, description, diag=None, todo=None):
        """Report one test; diag (str, list of lines, or any object) is printed as
        comments when the test fails. With todo (a reason), the test is a TAP
        "# TODO" one: known to fail, a failure is not counted (the TAP driver
        reports XFAIL, or XPASS once it passes). Returns bool(cond)."""
        self.n += 1
        directive = " # TODO %s" % self._desc(todo) if todo else ""
        if cond:
            self._print("ok %d - %s%s" % (self.n, self._desc(description), directive))
        else:
            if not todo:
                self.failed += 1
            self._print("not ok %d - %s%s" % (self.n, self._desc(description), directive))
            self.diag(diag)
        return bool(cond)

    def is_(self, got, want, description):
        """ok(got == want), with both shown on failure."""
        return self.ok(got == want, description,
                       diag="got:  %r\nwant: %r" % (got, want))

    def skip(self, description, reason, count=1):
        """Report count skipped tests."""
        for _ in range(count):
            self.n += 1
            self._print("ok %d - %s # SKIP %s" % (self.n, self._desc(description), reason))

    def run(self, fn, *args, description=None, **kwargs):
        """Call fn(*args, **kwargs). If it raises, report one "not ok" test named
        description (default: the function's name) with the traceback. Bailout
        passes through. Returns fn's result, or None if it raised."""
        try:
            return fn(*args, **kwargs)
        except Bailout:
            raise
        except BaseException as e:  # noqa: B902 - a test must never crash the file
            if isinstance(e, KeyboardInterrupt):
                self.bail_out("interrupted")
            self.ok(False, (description or getattr(fn, "__name__", "test")) + " raised "
                    + type(e).__name__, diag=traceback.format_exc())
            return None

    def bail_out(self, reason):
        """Print "Bail out! reason" and raise Bailout."""
        self._print("Bail out! %s" % reason)
        self.finished = True
        raise Bailout(reason)

    def done(self):
        """Print the plan; return the exit status (0 if nothing failed)."""
        if not self.finished:
            self._print("1..%d" % self.n)
            self.finished = True
        return 1 if self.failed or self.n == 0 else 0


# ---- smtpreply-milter under test ------------------------------------------

# The binary under test: $SMTPREPLY_MILTER (make check sets it), else the
# usual build directory.
MILTER = os.environ.get("SMTPREPLY_MILTER") or os.path.join(
    HERE, "..", "..", "_build", "smtpreply-milter")
MILTER_USER = "nobody"


class Milter:
    """smtpreply-milter -f in the foreground, logs captured to a file."""

    def __init__(self, base, socket_spec, conf_text, extra_args=()):
        self.base = base
        self.socket_spec = socket_spec
        self.conf = os.path.join(base, "smtpreply.conf")
        self.log_file = os.path.join(base, "milter.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.write_conf(conf_text)

    def write_conf(self, text):
        # Written whole, then renamed: a reload never sees half a file.
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.conf)

    def start(self, timeout=10.0):
        self.logf = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            [MILTER, "-f", "-u", MILTER_USER, "-c", self.conf, "-p", self.socket_spec]
            + self.extra_args, stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT)
        if not self.wait_log(r"serving as uid", timeout):
            raise RuntimeError("smtpreply-milter did not start:\n" + self.log())
        return self

    def log(self):
        return read_log(self.log_file)

    def log_offset(self):
        return log_size(self.log_file)

    def wait_log(self, regex, timeout=10.0, since=0):
        return wait_for_line(self.log_file, regex, timeout, since,
                                 gave_up=lambda: self.proc is not None
                                 and self.proc.poll() is not None)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15.0):
        rc = stop_process(self.proc, timeout)
        if self.proc is not None:
            self.proc = None
            self.logf.close()
        return rc


# The rules both MTAs' tests play (test_postfix.py and test_sendmail.py
# compose their files from these): each is keyed on its own sender, recipient or header.
# rcpt-nocode has no basic code, so the files opt in to that (NORMALIZE);
# test_postfix.py's config_test shows that -t refuses it otherwise.
NORMALIZE = 'normalize = { accept_missing_code = true; };\n'
COMMON_RULES = r'''
	{ name = "helo-reject"; phase = "helo"; helo = "/^bad\\.helo\\.example$/";
	  action = "reject"; reply = "550 HELO ${helo} refused"; },
	{ name = "vip-accept"; phase = "mail"; sender = "/^<vip@/"; action = "accept"; },
	{ name = "mail-reject"; phase = "mail"; sender = "/^<spammer@/";
	  action = "reject"; reply = "550 5.1.1 Sender ${sender} unknown"; },
	{ name = "rcpt-mismatch"; phase = "rcpt"; rcpt = "/^<mismatch@/";
	  action = "reject"; reply = "550 4.7.1 Recipient address rejected: Access denied"; },
	{ name = "rcpt-572"; phase = "rcpt"; rcpt = "/^<relay@/";
	  action = "reject"; reply = "572 Relay not permitted"; },
	{ name = "rcpt-percent"; phase = "rcpt"; rcpt = "/^<grey@/";
	  action = "tempfail"; reply = "451 4.7.1 Greylisted, 100% sure, come back later"; },
	{ name = "rcpt-multi"; phase = "rcpt"; rcpt = "/^<multi@/"; action = "reject";
	  reply = ( "550 5.7.1 This relay was retired.", "550 5.7.1 Please use mx.example.org instead." ); },
	{ name = "rcpt-catch"; phase = "rcpt"; rcpt = "/^<catch@/"; action = "reject";
	  reply = "550 5.7.1 Caught by a later rule"; },
	{ name = "rcpt-discard"; phase = "rcpt"; rcpt = "/^<blackhole@/"; action = "discard"; },
	{ name = "rcpt-nocode"; phase = "rcpt"; rcpt = "/^<nb@/"; action = "reject";
	  reply = "5.7.1 Access denied"; },
	{ name = "rcpt-blanks"; phase = "rcpt"; rcpt = "/^<blanks@/"; action = "reject";
	  reply = "550  5.7.1 two spaces"; },
	{ name = "header-reject"; phase = "header"; header = { name = "Subject"; value = "/cheap pills/i"; };
	  action = "reject"; reply = "550 5.7.1 Message ${queue_id} rejected: content not accepted"; },
'''


def common_rules_logged(tap, milter):
    """What the milter logs for COMMON_RULES whichever MTA plays them: the
    notice for the non-standard 572, the verdict line naming the change."""
    tap.ok(milter.wait_log(r"rule=rcpt-572 reply code 572: .*\(not an RFC 5321 code\), "
                           r"sent as 550 5\.7\.1"),
           "the milter logged a notice for the non-standard 572")
    tap.ok(milter.wait_log(r"phase=rcpt .* to=<mismatch@localhost> rule=rcpt-mismatch "
                           r"action=reject reply=\"550 5\.7\.1 Recipient address rejected: "
                           r"Access denied\" normalized=\"enhanced-class-mismatch 550 4\.7\.1 "
                           r"-> 550 5\.7\.1\""),
           "the verdict line names the normalization")


def need_milter():
    """Return if smtpreply-milter is built (MILTER); else exit as cannot_run()
    says (a failure under CI=true, a skip elsewhere)."""
    if not os.access(MILTER, os.X_OK):
        cannot_run("smtpreply-milter not built: %s" % MILTER)


def need_root_and_postfix(extra_programs=()):
    """Return if the end-to-end tests can run (root, Postfix's master, postmap,
    smtp-source and any extra_programs present). Otherwise exit: under CI=true as a
    failure ("1..1", "not ok 1 - ...", status 1), elsewhere as a skip
    ("1..0 # SKIP reason", status 0)."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root (a private Postfix runs as root)"
    else:
        for prog in (POSTFIX_MASTER, POSTMAP, SMTP_SOURCE) + tuple(extra_programs):
            if not os.access(prog, os.X_OK):
                reason = "%s not found (Debian package: postfix)" % prog
                break
        else:
            try:
                _ids()
            except KeyError:
                reason = "user postfix or group postdrop missing (Debian package: postfix)"
    if reason is None:
        return
    cannot_run(reason)


def cannot_run(reason, what="end-to-end tests"):
    """Exit because something the tests need is missing (a program, a package,
    root, a package index to fetch from): under CI=true as a failure ("1..1",
    "not ok 1 - WHAT cannot run: REASON", status 1), elsewhere as a skip
    ("1..0 # SKIP REASON", status 0). Call it before any test is reported."""
    if os.environ.get("CI", "").lower() == "true":
        print("1..1")
        print("not ok 1 - %s cannot run: %s" % (what, reason))
        sys.stdout.flush()
        sys.exit(1)
    print("1..0 # SKIP %s" % reason)
    sys.stdout.flush()
    sys.exit(0)


def leftover_postfix_processes(conf_dir=None):
    """[(pid, command line)] of live processes whose MAIL_CONFIG is conf_dir (or,
    with conf_dir None, any process run from Postfix's daemon directory)."""
    res = []
    for pid in _pids():
        if pid == os.getpid() or not _alive(pid):
            continue
        if conf_dir is not None:
            if ("MAIL_CONFIG=" + conf_dir).encode() in _proc_environ(pid):
                res.append((pid, " ".join(_proc_cmdline(pid))))
        else:
            try:
                exe = os.readlink("/proc/%d/exe" % pid)
            except OSError:
                continue
            if exe.startswith(POSTFIX_DAEMON_DIR + "/"):
                res.append((pid, " ".join(_proc_cmdline(pid))))
    return res
