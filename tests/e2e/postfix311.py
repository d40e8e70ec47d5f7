# SPDX-License-Identifier: ISC
"""postfix311.py - Postfix 3.11.6 built from source once, and private instances of it.

Python 3 standard library only. Used by tests/e2e/test_reply_filter.py and
bench/filter_bench.py.

Debian 12 ships Postfix 3.7; smtpd_reject_filter_maps came with 3.11. The
source is the vendored tarball postfix-3.11.6.tar.gz, found (in this order)
at $SMTPREPLY_POSTFIX311_TARBALL, or in shared/vendor/ beside the source tree
or beside one of its parent directories (CI keeps a copy of shared/ beside the
clone). It is built the way ../shared/vendor/README.md says (make makefiles
with PCRE2, make, make non-interactive-package) into the build tree,
BUILD/tests/e2e/postfix-3.11.6/root, and reused by every later run: a file
"built" there records the tarball's SHA-256. Building takes some 5 minutes on
a busy 2-core machine; a lock file makes concurrent tests wait for one build.
It needs gcc, make, m4, libdb-dev and libpcre2-dev (quickstart.sh installs
them). $SMTPREPLY_POSTFIX311_ROOT names an install root to use instead.

Postfix311 is a mta.PrivatePostfix whose programs come from that tree:
main.cf points command_directory, daemon_directory and meta_directory into
it, with shlib_directory = no; everything else (private queue, log, loopback
smtpd, nothing delivered) is as for Debian's Postfix.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile

import mta

VERSION = "3.11.6"
TARBALL_NAME = "postfix-%s.tar.gz" % VERSION
SHA256 = "e928954deb906711a69ebefd7817616cb877c263052ee6598f3753f65a7ddc7e"
HERE = os.path.dirname(os.path.abspath(__file__))


class BuildError(RuntimeError):
    """Postfix 3.11 cannot be found or built."""


def find_tarball(top_srcdir=None):
    """The path of the vendored tarball, or None."""
    env = os.environ.get("SMTPREPLY_POSTFIX311_TARBALL")
    if env:
        return env if os.path.isfile(env) else None
    d = os.path.abspath(top_srcdir or os.environ.get("top_srcdir")
                        or os.path.join(HERE, "..", ".."))
    while True:
        for cand in (os.path.join(d, "shared", "vendor", TARBALL_NAME),
                     os.path.join(os.path.dirname(d), "shared", "vendor", TARBALL_NAME)):
            if os.path.isfile(cand):
                return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir(top_builddir=None):
    top = os.path.abspath(top_builddir or os.environ.get("top_builddir")
                          or os.path.join(HERE, "..", "..", "_build"))
    return os.path.join(top, "tests", "e2e", "postfix-%s" % VERSION)


def ensure_built(top_builddir=None, top_srcdir=None, log=None):
    """The install root of Postfix 3.11 (built first if needed). Raises
    BuildError with the reason (no tarball, a wrong checksum, a failed step
    with the tail of its output)."""
    env_root = os.environ.get("SMTPREPLY_POSTFIX311_ROOT")
    if env_root:
        if not os.access(os.path.join(env_root, "usr/libexec/postfix/master"), os.X_OK):
            raise BuildError("SMTPREPLY_POSTFIX311_ROOT=%s has no usr/libexec/postfix/master"
                             % env_root)
        return env_root
    base = cache_dir(top_builddir)
    root = os.path.join(base, "root")
    stamp = os.path.join(base, "built")
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, "lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                if f.read().strip() == SHA256 and os.access(
                        os.path.join(root, "usr/libexec/postfix/master"), os.X_OK):
                    return root
        except OSError:
            pass
        tarball = find_tarball(top_srcdir)
        if tarball is None:
            raise BuildError("%s not found (shared/vendor/ beside the source tree, or "
                             "SMTPREPLY_POSTFIX311_TARBALL)" % TARBALL_NAME)
        if _sha256(tarball) != SHA256:
            raise BuildError("%s: unexpected SHA-256" % tarball)
        for prog, pkg in (("gcc", "build-essential"), ("make", "build-essential"),
                          ("m4", "m4")):
            if shutil.which(prog) is None:
                raise BuildError("%s not found (Debian package: %s)" % (prog, pkg))
        if not os.path.exists("/usr/include/db.h"):
            raise BuildError("/usr/include/db.h not found (Debian package: libdb-dev)")
        if log:
            log("building Postfix %s from %s into %s (once; some minutes)"
                % (VERSION, tarball, base))
        src = tempfile.mkdtemp(prefix="src.", dir=base)
        try:
            subprocess.run(["tar", "xzf", tarball, "-C", src], check=True)
            tree = os.path.join(src, "postfix-%s" % VERSION)
            env = dict(os.environ)
            for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "CFLAGS", "LDFLAGS", "CC"):
                env.pop(k, None)
            steps = [["make", "makefiles", "CCARGS=-DHAS_PCRE=2", "AUXLIBS_PCRE=-lpcre2-8"],
                     ["make", "-j2"]]
            shutil.rmtree(root, ignore_errors=True)
            steps.append(["make", "non-interactive-package", "install_root=" + root])
            for step in steps:
                r = subprocess.run(step, cwd=tree, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
                if r.returncode != 0:
                    raise BuildError("%s failed:\n%s" % (" ".join(step),
                                                         "\n".join(r.stdout.splitlines()[-30:])))
        finally:
            shutil.rmtree(src, ignore_errors=True)
        with open(stamp, "w") as f:
            f.write(SHA256 + "\n")
        return root


class Postfix311(mta.PrivatePostfix):
    """A private Postfix 3.11 instance (see mta.PrivatePostfix) whose programs
    are those of install root `root`."""

    def __init__(self, root, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = root
        self.master_program = os.path.join(root, "usr/libexec/postfix/master")
        self.postmap_program = os.path.join(root, "usr/sbin/postmap")

    def main_cf(self):
        p = super().main_cf()
        p.setdefault("command_directory", os.path.join(self.root, "usr/sbin"))
        p.setdefault("daemon_directory", os.path.join(self.root, "usr/libexec/postfix"))
        p.setdefault("meta_directory", os.path.join(self.root, "etc/postfix"))
        p.setdefault("shlib_directory", "no")
        return p

