# SPDX-License-Identifier: ISC
"""sendmail.py - Debian 12's sendmail 8.17, unpacked into the build tree and run
in -bs mode, for end-to-end tests.

Python 3 standard library only. Used by tests/e2e/test_sendmail.py.

Debian's sendmail-bin conflicts with postfix, so it is never installed: its
packages are fetched with "apt-get download" and unpacked with "dpkg -x" into a
folder of the build tree (fetch(); kept there, fetched again only when
incomplete). A PrivateSendmail builds a .cf from an .mc with the unpacked
cf/m4 files and runs the unpacked binary with -C that file, as root, in -bs
mode: SMTP on its standard input and output, no daemon, no port. Every file
sendmail reads or writes is in one private directory (queue, aliases, access
map, help file, statistics, host status, pid file, service switch); the
machine's /etc/mail is never read, nothing outside is written (outside it,
sendmail reads /etc/passwd, /etc/nsswitch.conf, /etc/resolv.conf,
/etc/localtime and its libraries).

    root = sendmail.fetch()                       # or raises FetchError
    sm = sendmail.PrivateSendmail("/tmp/x", root, milter="inet:18025@127.0.0.1",
                                  access="To:odd@\\tERROR:5.7.1:557 Too many ...\\n")
    sm.setup()
    with sm.session() as c:                       # one sendmail -bs process
        c.connect()                               # ['220 mx.test.invalid ESMTP ...']
        c.cmd("EHLO client.test.invalid")         # ['250-...', ..., '250 HELP']
        c.cmd("MAIL FROM:<a@client.test.invalid>")
        ...
        c.quit()                                  # ['221 2.0.0 ... closing connection']
    sm.close()

How it works (sendmail 8.17.1.9, Debian 12, checked on a machine whose host
name is "vm"):

- The unpacked sendmail binary is setgid mail: the dynamic loader would then
  ignore LD_LIBRARY_PATH, which the unpacked libraries (libwrap0 ...) need.
  fetch() clears the set-id bits of the unpacked copy (run as root, it needs
  none).
- Before it reads its configuration sendmail qualifies the host name; a name
  without a dot and without a dotted alias (Debian's "127.0.0.1 vm") makes it
  log "My unqualified host name (vm) unknown; sleeping for retry" and sleep
  60 s. So each run is wrapped in "unshare --mount --uts": a private UTS
  namespace with the host name mx.test.invalid and a private mount namespace
  where a private hosts file is bound over /etc/hosts (mx.test.invalid ->
  127.0.0.1; no DNS query), an empty directory over /etc/mail when there is
  one (before it reads -C's file, sendmail reads its compiled-in
  /etc/mail/service.switch if it exists) and a datagram socket of this
  object over /dev/log: sendmail's syslog lines land in
  PrivateSendmail.log_file instead of the machine's log. On a machine with
  no /dev/log (no syslog daemon: a fresh container), the namespace gets a
  /dev of its own first (a tmpfs holding the host's null, zero, random,
  urandom, tty, pts and shm bound in, and the fd links) with the socket as
  its /dev/log, so the log checks run everywhere. Nothing outside the
  namespaces changes.
- sendmail refuses files in a directory path with a world-writable directory
  (/tmp); DontBlameSendmail=TrustStickyBit accepts a sticky one.
- DeliveryMode=queueonly: an accepted message stays in the private queue,
  nothing is delivered.
- A client that sends anything after EHLO before EHLO's reply gets "554
  5.5.0 SMTP protocol error" for EHLO and "550 5.0.0 Command rejected" for
  every later command (sendmail logs "rejecting server EHLO from localhost
  [0] due to traffic before response"): Session.cmd() writes one command and
  reads its reply.
- sendmail -bs exits when its standard input closes (after QUIT it exits by
  itself). Session.close() closes it and waits; a process still there after
  10 s gets SIGTERM, then SIGKILL, by PID, and so does any process left in
  its process group (it runs in a session of its own).
"""

import atexit
import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debfetch  # noqa: E402  (apt-get download, dpkg -x)
import mta  # noqa: E402  (the shared SMTP dialogue)

HERE = os.path.dirname(os.path.abspath(__file__))

# Debian's packages; their Depends that are not installed are fetched too.
PACKAGES = ("sendmail-bin", "sendmail-cf", "sendmail-base")
SENDMAIL = "usr/libexec/sendmail/sendmail"
MAKEMAP = "usr/libexec/sendmail/makemap"
CF_DIR = "usr/share/sendmail/cf"
HELPFILE = "etc/mail/helpfile"
MARKER = debfetch.MARKER

HOSTNAME = "mx.test.invalid"


FetchError = debfetch.FetchError


class SendmailError(RuntimeError):
    """The private sendmail could not be configured or run."""


def default_root():
    """$top_builddir/tests/e2e/sendmail-root (top_builddir from the
    environment, as make check sets it; else ../../_build)."""
    return debfetch.build_root("sendmail-root")


_run = debfetch.run
_tail = debfetch.tail
REQUIRED = (SENDMAIL, MAKEMAP, os.path.join(CF_DIR, "m4", "cf.m4"), HELPFILE)


def complete(root):
    """True if root holds a complete unpacked tree (fetch() finished there)."""
    return debfetch.complete(root, REQUIRED)


fetched_info = debfetch.fetched_info


def fetch(root=None, log=None):
    """Make root (default: default_root()) hold Debian's sendmail unpacked, and
    return root (debfetch.fetch: PACKAGES and those of sendmail-bin's
    dependencies that are not installed). Raises FetchError."""
    return debfetch.fetch(root or default_root(), PACKAGES, "sendmail-bin", REQUIRED, log)


def namespaces_work():
    """Why the private mount and UTS namespaces each run needs cannot be made
    here (unshare, mount and hostname), or "" when they can."""
    for prog in ("unshare", "mount", "hostname"):
        if shutil.which(prog) is None:
            return "%s not found" % prog
    try:
        r = _run(["unshare", "--mount", "--uts", "--propagation", "private", "--", "/bin/sh",
                  "-c", "hostname %s && mount --bind /dev/null /dev/null" % HOSTNAME],
                 timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unshare: %s" % e
    if r.returncode != 0:
        return "unshare --mount --uts failed: %s" % _tail(r.stderr or r.stdout)
    return ""


lib_path = debfetch.lib_path


# Sessions started and not closed yet: closed at exit.
_sessions = set()


@atexit.register
def _close_all():
    for s in list(_sessions):
        try:
            s.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def alive(pid):
    """True if process pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _group_members(pgid):
    res = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            res.append(int(d))
    return res


class Session(mta.SmtpDialogue):
    """One sendmail -bs process, driven like mta.SmtpClient (mta.SmtpDialogue:
    replies as lists of lines exactly as sendmail wrote them). A reply not complete within timeout seconds raises
    TimeoutError. What sendmail writes on its standard error is appended to
    stderr_file. Attributes: pid, returncode (after close), leftovers (PIDs
    left in its process group and killed at close; [] normally), transcript
    ([("C", command) or ("S", reply line)], in order)."""

    def __init__(self, argv, env, stderr_file, timeout=10.0):
        super().__init__(timeout)
        self.argv, self.env, self.stderr_file = argv, env, stderr_file
        self.proc = None
        self.pid = None
        self.leftovers = []         # PIDs of its process group killed at close
        self.returncode = None
        self.transcript = []        # ("C", line) and ("S", line), in order

    def connect(self):
        """Start sendmail -bs; return its greeting."""
        self._err = open(self.stderr_file, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, env=self.env, start_new_session=True)
        self.pid = self.proc.pid
        _sessions.add(self)
        self.closed = False
        return self.reply()

    def _note(self, who, text):
        self.transcript.append((who, text))

    def _recv(self, deadline):
        """sendmail's next output, waiting until DEADLINE at most."""
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("no complete reply from sendmail -bs (pid %s) within "
                               "%.0f s; got %r" % (self.pid, self.timeout, self.buf))
        return os.read(fd, 65536)

    def send(self, data):
        """Write raw bytes to sendmail's standard input (no reply read)."""
        if self.proc is None or self.proc.stdin is None or self.proc.stdin.closed:
            self.closed = True
            return
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            self.closed = True

    def close(self, timeout=10.0):
        """Close sendmail's standard input and wait for it to exit; SIGTERM then
        SIGKILL (by PID) after timeout seconds, to it and to any process left in
        its process group. Returns its exit status. Idempotent."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        # Children it left behind (none expected in queue-only mode).
        self.leftovers = _group_members(self.pid)
        for pid in self.leftovers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while any(alive(p) for p in self.leftovers) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in self.leftovers:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            proc.stdout.close()
        except OSError:
            pass
        self._err.close()
        self.closed = True
        self.returncode = proc.returncode
        _sessions.discard(self)
        return proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _SyslogSink:
    """A unix datagram socket that sendmail's syslog(3) writes to (bound over
    /dev/log in its mount namespace); a thread appends each message to a file
    as one line, the "<PRI>" prefix removed and the host name added, as a
    syslog daemon writes it ("Dec  1 21:40:15 mx sendmail[6024]: ...")."""

    def __init__(self, sock_path, log_file, hostname):
        self.path, self.log_file = sock_path, log_file
        self.hostname = hostname.encode()
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(sock_path)
        os.chmod(sock_path, 0o666)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        with open(self.log_file, "ab") as out:
            while not self.stopping:
                try:
                    msg = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                msg = re.sub(rb"^<\d+>", b"", msg).rstrip(b"\n").replace(b"\n", b" ")
                # "Mmm dd hh:mm:ss tag[pid]: text": put the host name after the
                # time stamp, as a syslog daemon writes it to a file.
                if re.match(rb"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", msg):
                    msg = msg[:16] + self.hostname + b" " + msg[16:]
                out.write(msg + b"\n")
                out.flush()

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _q(s):
    """A value for an m4 argument: `s' (no quotes inside)."""
    if "`" in s or "'" in s:
        raise SendmailError("m4 value with a quote: %r" % s)
    return "`" + s + "'"


class PrivateSendmail:
    """A sendmail configuration of its own under base_dir, run by session().

    base_dir   directory for everything (created; a previous run's files in it
               are replaced)
    root       the unpacked tree (fetch())
    milter     the milter's socket, "inet:PORT@127.0.0.1" (None: no milter)
    access     access map text ("To:user@<TAB>ERROR:5.7.1:557 text" lines: the
               enhanced code first), compiled with the unpacked makemap as a
               hash map, with FEATURE(blocklist_recipients) for To: entries of
               local users; None: no access map
    mc_extra   more .mc lines (list of str), put after the milter's and before
               the MAILER lines (LOCAL_RULESETS ... works there)
    filter_mc  the .mc text with the INPUT_MAIL_FILTER line (default: the line of
               the issue); "{socket}" in it is replaced by milter
    milter_macros  {phase: "extra macros"} appended to confMILTER_MACROS_<PHASE>
               (e.g. {"CONNECT": "{smtpreply_test}"})
    aliases    {local part: target} for the aliases file: local recipients
               without a passwd entry ("mismatch: root"); any other local
               recipient not in the passwd file is "550 5.1.1 User unknown"

    Attributes: conf_dir (etc/), queue_dir, cf (the .cf), mc, log_file (sendmail's
    syslog lines, when /dev/log could be replaced), stderr_file.
    """

    FILTER_MC = "INPUT_MAIL_FILTER(`smtpreply', `S={socket}, F=T, T=S:10s;R:10s;E:5m')dnl\n"

    def __init__(self, base_dir, root, milter=None, access=None, mc_extra=(), filter_mc=None,
                 milter_macros=None, aliases=None, hostname=HOSTNAME):
        self.base = os.path.abspath(base_dir)
        self.root = os.path.abspath(root)
        self.milter = milter
        self.access = access
        self.mc_extra = list(mc_extra)
        self.filter_mc = filter_mc if filter_mc is not None else self.FILTER_MC
        self.milter_macros = dict(milter_macros or {})
        self.aliases = dict(aliases or {})
        self.hostname = hostname
        self.conf_dir = os.path.join(self.base, "etc")
        self.queue_dir = os.path.join(self.base, "queue")
        self.mc = os.path.join(self.base, "sendmail.mc")
        self.cf = os.path.join(self.base, "sendmail.cf")
        self.hosts = os.path.join(self.base, "hosts")
        self.log_file = os.path.join(self.base, "maillog")
        self.stderr_file = os.path.join(self.base, "sendmail.stderr")
        self.devlog = os.path.join(self.base, "dev-log")
        self.empty_dir = os.path.join(self.base, "empty")
        # Where the host's /dev stays reachable when the namespace gets a
        # /dev of its own (no /dev/log on the host).
        self.host_dev = os.path.join(self.base, "host-dev")
        self.sink = None
        self.env = dict(os.environ)
        self.env["LD_LIBRARY_PATH"] = lib_path(self.root)
        self.env.pop("HOSTALIASES", None)

    def path(self, rel):
        """A path inside the unpacked tree."""
        return os.path.join(self.root, rel)

    # ---- configuration -------------------------------------------------------
    def mc_text(self):
        cf_dir = self.path(CF_DIR)
        d = self.base
        lines = [
            "divert(-1)",
            "dnl sendmail.mc - a private sendmail for tests/e2e (generated by sendmail.py)",
            "define(`_CF_DIR_', %s)" % _q(cf_dir + "/"),
            "divert(0)dnl",
            "include(%s)dnl" % _q(os.path.join(cf_dir, "m4", "cf.m4")),
            "VERSIONID(`smtpreply tests/e2e')dnl",
            "OSTYPE(`linux')dnl",
            "dnl every file sendmail reads or writes, in %s" % d,
            "define(`MAIL_SETTINGS_DIR', %s)dnl" % _q(self.conf_dir + "/"),
            "define(`ALIAS_FILE', %s)dnl" % _q(os.path.join(self.conf_dir, "aliases")),
            "define(`HELP_FILE', %s)dnl" % _q(os.path.join(self.conf_dir, "helpfile")),
            "define(`QUEUE_DIR', %s)dnl" % _q(self.queue_dir),
            "define(`STATUS_FILE', %s)dnl" % _q(os.path.join(d, "statistics")),
            "define(`confHOST_STATUS_DIRECTORY', %s)dnl" % _q(os.path.join(d, "hoststat")),
            "define(`confPID_FILE', %s)dnl" % _q(os.path.join(d, "sendmail.pid")),
            "define(`confDEAD_LETTER_DROP', %s)dnl" % _q(os.path.join(d, "dead.letter")),
            "define(`confSERVICE_SWITCH_FILE', %s)dnl"
            % _q(os.path.join(self.conf_dir, "service.switch")),
            "define(`confCW_FILE', %s)dnl" % _q(os.path.join(self.conf_dir, "local-host-names")),
            "define(`confCT_FILE', %s)dnl" % _q(os.path.join(self.conf_dir, "trusted-users")),
            "define(`confERROR_MESSAGE', %s)dnl" % _q(os.path.join(self.conf_dir, "error-header")),
            "define(`confUSERDB_SPEC', %s)dnl" % _q(os.path.join(self.conf_dir, "userdb")),
            "define(`confHOSTS_FILE', %s)dnl" % _q(self.hosts),
            "dnl /tmp is world-writable: trust its sticky bit",
            "define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl",
            "define(`confDOMAIN_NAME', %s)dnl" % _q(self.hostname),
            "define(`confDELIVERY_MODE', `queueonly')dnl",
            "define(`confLOG_LEVEL', `14')dnl",
            "define(`confMILTER_LOG_LEVEL', `14')dnl",
            "define(`confTO_IDENT', `0')dnl",
            "dnl the senders' domains (client.test.invalid) resolve nowhere",
            "FEATURE(`accept_unresolvable_domains')dnl",
        ]
        if self.access is not None:
            lines.append("FEATURE(`access_db', %s)dnl"
                         % _q("hash -T<TMPF> " + os.path.join(self.conf_dir, "access")))
            lines.append("dnl To: entries for local recipients too")
            lines.append("FEATURE(`blocklist_recipients')dnl")
        if self.milter is not None:
            lines.append(self.filter_mc.replace("{socket}", self.milter).rstrip("\n"))
        for phase, extra in self.milter_macros.items():
            name = "confMILTER_MACROS_" + phase.upper()
            # the form contrib/sendmail/smtpreply.mc documents
            lines.append("define(`%s', %s`, %s')dnl" % (name, name, extra))
        lines.extend(self.mc_extra)
        lines += ["MAILER(`local')dnl", "MAILER(`smtp')dnl"]
        return "\n".join(lines) + "\n"

    def setup(self):
        """Create the private directory, build the .cf with m4, compile the
        access map with makemap and the aliases with sendmail -bi."""
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o755)
        for f in (self.log_file, self.stderr_file):
            with open(f, "wb"):
                pass
        for sub in ("etc", "queue", "hoststat", "empty"):
            p = os.path.join(self.base, sub)
            shutil.rmtree(p, ignore_errors=True)
            os.makedirs(p)
        os.chmod(self.queue_dir, 0o700)
        with open(self.mc, "w") as f:
            f.write(self.mc_text())
        with open(self.cf, "w") as out:
            r = subprocess.run(["m4", self.mc], stdout=out, stderr=subprocess.PIPE, text=True,
                               cwd=self.base)
        if r.returncode != 0 or "ERROR" in r.stderr or "WARNING" in r.stderr:
            raise SendmailError("m4 %s: status %d: %s" % (self.mc, r.returncode, r.stderr.strip()))
        os.chmod(self.cf, 0o644)
        shutil.copy(self.path(HELPFILE), os.path.join(self.conf_dir, "helpfile"))
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1\tlocalhost %s\n" % self.hostname)
        with open(os.path.join(self.conf_dir, "service.switch"), "w") as f:
            f.write("hosts\tfiles\naliases\tfiles\n")
        for name in ("local-host-names", "trusted-users", "../statistics"):
            with open(os.path.join(self.conf_dir, name), "w") as f:
                f.write("")
        with open(os.path.join(self.conf_dir, "aliases"), "w") as f:
            f.write("postmaster:\troot\nMAILER-DAEMON:\tpostmaster\n")
            for name, target in self.aliases.items():
                f.write("%s:\t%s\n" % (name, target))
        if self.access is not None:
            path = os.path.join(self.conf_dir, "access")
            with open(path, "w") as f:
                f.write(self.access)
            with open(path) as f:
                r = subprocess.run([self.path(MAKEMAP), "-C", self.cf, "hash", path], stdin=f,
                                   capture_output=True, text=True, env=self.env)
            if r.returncode != 0:
                raise SendmailError("makemap hash %s: %s" % (path, (r.stderr or r.stdout).strip()))
        r = self.run(["-bi"])
        if r.returncode != 0:
            raise SendmailError("sendmail -bi: status %d: %s"
                                % (r.returncode, (r.stdout + r.stderr).strip()))
        return self

    # ---- running -------------------------------------------------------------
    def _start_sink(self):
        if self.sink is None:
            self.sink = _SyslogSink(self.devlog, self.log_file, self.hostname.split(".")[0])

    def argv(self, args, wrapper=()):
        """The command line that runs the unpacked sendmail with -C the .cf and
        args, inside private mount and UTS namespaces (see the module's
        docstring); wrapper (e.g. strace ...) goes right before sendmail."""
        self._start_sink()
        os.makedirs(self.host_dev, exist_ok=True)
        # No /dev/log to bind over: a private /dev (tmpfs) with the host's
        # devices bound in, and an empty file for the socket to cover.
        own_dev = ('if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then '
                   'mount --bind /dev "$5" || exit 71; '
                   'mount -t tmpfs -o mode=0755,nosuid tmpfs /dev || exit 71; '
                   'for n in null zero full random urandom tty; do '
                   '[ -e "$5/$n" ] || continue; : > "/dev/$n"; '
                   'mount --bind "$5/$n" "/dev/$n" || exit 71; done; '
                   'for d in pts shm; do [ -d "$5/$d" ] || continue; '
                   'mkdir "/dev/$d"; mount --bind "$5/$d" "/dev/$d" || exit 71; done; '
                   'ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; '
                   'ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr; '
                   ': > /dev/log; fi; ')
        script = ('mount --bind "$1" /etc/hosts || exit 71; '
                  + own_dev +
                  'mount --bind "$2" /dev/log || exit 71; '
                  'if [ -d /etc/mail ]; then mount --bind "$3" /etc/mail || exit 71; fi; '
                  'hostname "$4" || exit 71; shift 5; exec "$@"')
        return (["unshare", "--mount", "--uts", "--propagation", "private", "--",
                 "/bin/sh", "-c", script, "sh", self.hosts,
                 self.devlog, self.empty_dir, self.hostname, self.host_dev]
                + list(wrapper) + [self.path(SENDMAIL), "-C", self.cf] + list(args))

    def run(self, args, wrapper=(), timeout=60, input=None):
        """Run sendmail with args to completion (e.g. ["-bp"]); the
        CompletedProcess (text)."""
        return subprocess.run(self.argv(args, wrapper), capture_output=True, text=True,
                              env=self.env, timeout=timeout, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def session(self, args=(), wrapper=(), timeout=10.0):
        """A Session (not connected yet) of sendmail -bs with more args (e.g.
        ["-M{smtpreply_test}connect"])."""
        return Session(self.argv(["-bs"] + list(args), wrapper), self.env, self.stderr_file,
                       timeout)

    def mailq(self, quarantined=False):
        """The text of sendmail -bp (with -qQ: the quarantined messages)."""
        r = self.run(["-bp"] + (["-qQ"] if quarantined else []))
        return r.stdout + r.stderr

    def queue_files(self):
        """{queue id: {"qf": path, "lines": [...]}} of the control files in the
        queue (qf..., or hf... for a quarantined one when sendmail renames it)."""
        res = {}
        for p in sorted(glob.glob(os.path.join(self.queue_dir, "*f*"))):
            name = os.path.basename(p)
            if name[:2] not in ("qf", "hf", "Qf"):
                continue
            with open(p, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            res[name[2:]] = {"file": name, "lines": lines}
        return res

    # ---- log -----------------------------------------------------------------
    def log(self, since=0):
        """sendmail's syslog lines from byte offset since ("" if none, or no
        /dev/log to replace)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def have_log(self):
        """True if sendmail's syslog lines are captured (see log_file)."""
        return self.sink is not None

    def log_offset(self):
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

    def wait_log(self, regex, timeout=5.0, since=0):
        """Wait until a line of sendmail's log (from byte offset since) matches
        regex; the re.Match, or None after timeout seconds."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log(since).splitlines():
                m = rx.search(line)
                if m:
                    return m
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def close(self):
        """Stop the syslog socket (sessions are closed by their own close())."""
        if self.sink is not None:
            self.sink.close()
            self.sink = None
