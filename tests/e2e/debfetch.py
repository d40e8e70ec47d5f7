# SPDX-License-Identifier: ISC
"""debfetch.py - Debian packages fetched with "apt-get download" and unpacked
with "dpkg -x" into a folder of the build tree, never installed (Python 3
standard library only). Used by sendmail.py and exim.py: both MTAs conflict
with postfix, which the tests need installed.

    root = debfetch.fetch("/x/_build/tests/e2e/exim-root",
                          ("exim4-daemon-light", "exim4-base"), "exim4-daemon-light",
                          ("usr/sbin/exim4",))

The tree is complete when the marker file fetch() writes last is there and
the required paths exist; otherwise it is fetched again, into a temporary
folder renamed into place at the end (a run killed halfway leaves no
half-tree behind). The dependencies of the main package that are not
installed on this machine (dpkg-query) are fetched and unpacked too; the
set-id bits of every unpacked file are cleared (run as root, the copies need
none, and the dynamic loader ignores LD_LIBRARY_PATH for set-id programs).
"""

import glob
import os
import shutil
import stat
import subprocess

# Written last by fetch(): the unpacked tree is complete when it is there.
MARKER = ".smtpreply-fetched"


class FetchError(RuntimeError):
    """The packages could not be fetched or unpacked (no package index, no
    network, not a Debian system)."""


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, **kw)


def tail(text, n=6):
    return " | ".join(l for l in (text or "").strip().splitlines()[-n:])


def build_root(name):
    """$top_builddir/tests/e2e/NAME (top_builddir from the environment, as make
    check sets it; else ../../_build)."""
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.environ.get("top_builddir") or os.path.join(here, "..", "..", "_build")
    return os.path.join(os.path.abspath(top), "tests", "e2e", name)


def complete(root, required):
    """True if root holds a complete unpacked tree with every required path."""
    return (os.path.isfile(os.path.join(root, MARKER))
            and all(os.path.exists(os.path.join(root, p)) for p in required))


def fetched_info(root):
    """The marker's lines: "package version size" per .deb, then "bytes N"."""
    try:
        with open(os.path.join(root, MARKER)) as f:
            return f.read().splitlines()
    except OSError:
        return []


def fetched_version(root, package):
    """The version of package in root (from the marker), epoch and Debian
    revision removed ("4.96"), or "unknown"."""
    for line in fetched_info(root):
        f = line.split()
        if len(f) >= 2 and f[0] == package:
            return f[1].split("%3a")[-1].split(":")[-1].split("-")[0]
    return "unknown"


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", pkg])
    return r.returncode == 0 and r.stdout.strip() == "installed"


def missing_depends(deb, exclude):
    """The packages deb's Depends names (first of each alternative, without
    versions) that are not installed and not in exclude."""
    r = run(["dpkg-deb", "-f", deb, "Depends"])
    if r.returncode != 0:
        raise FetchError("dpkg-deb -f %s Depends: %s" % (deb, tail(r.stderr)))
    missing = []
    for dep in r.stdout.replace("\n", " ").split(","):
        name = dep.split("|")[0].strip().split(" ")[0].split("(")[0].split(":")[0]
        if name and name not in exclude and not installed(name):
            missing.append(name)
    return missing


def download(pkgs, cwd):
    # Run as root, apt would download as _apt into a folder _apt cannot write
    # and warn; the folder is ours, so download as root.
    r = run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root"] + list(pkgs),
            cwd=cwd)
    if r.returncode != 0:
        raise FetchError("apt-get download %s failed (no package index? run apt-get "
                         "update): %s" % (" ".join(pkgs), tail(r.stderr or r.stdout)))


def fetch(root, packages, main_package, required, log=None):
    """Make root hold packages unpacked (with main_package's dependencies that
    are not installed), and return root. Does nothing when root is complete
    (required: paths that must exist in it). log(str), if given, is told what
    is fetched. Raises FetchError."""
    root = os.path.abspath(root)
    if complete(root, required):
        return root
    for tool in ("apt-get", "dpkg", "dpkg-deb", "dpkg-query"):
        if shutil.which(tool) is None:
            raise FetchError("%s not found: the MTA is fetched from Debian's packages" % tool)
    work = "%s.tmp-%d" % (root, os.getpid())
    shutil.rmtree(work, ignore_errors=True)
    debs, tree = os.path.join(work, "debs"), os.path.join(work, "root")
    os.makedirs(debs)
    os.makedirs(tree)
    try:
        download(packages, debs)
        main_deb = glob.glob(os.path.join(debs, "%s_*.deb" % main_package))
        if not main_deb:
            raise FetchError("apt-get download left no %s_*.deb in %s" % (main_package, debs))
        extra = missing_depends(main_deb[0], packages)
        if extra:
            download(extra, debs)
        info, total = [], 0
        for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
            r = run(["dpkg", "-x", deb, tree])
            if r.returncode != 0:
                raise FetchError("dpkg -x %s: %s" % (deb, tail(r.stderr)))
            size = os.path.getsize(deb)
            total += size
            name = os.path.basename(deb)[:-len(".deb")].split("_")
            info.append("%s %s %d" % (name[0], name[1] if len(name) > 1 else "?", size))
        for dirpath, _dirs, files in os.walk(tree):
            for f in files:
                p = os.path.join(dirpath, f)
                st = os.lstat(p)
                if st.st_mode & 0o6000 and not os.path.islink(p):
                    os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o6000)
        info.append("bytes %d" % total)
        with open(os.path.join(tree, MARKER), "w") as f:
            f.write("\n".join(info) + "\n")
        if not complete(tree, required):
            raise FetchError("the unpacked packages lack one of %s" % ", ".join(required))
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.dirname(root), exist_ok=True)
        os.rename(tree, root)
        if log:
            log("fetched %s (%d bytes) into %s" % (", ".join(i.split()[0] for i in info[:-1]),
                                                   total, root))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return root


def lib_path(root):
    """LD_LIBRARY_PATH for the unpacked libraries."""
    dirs = [d for d in glob.glob(os.path.join(root, "usr", "lib", "*-linux-gnu"))
            + glob.glob(os.path.join(root, "lib", "*-linux-gnu")) if os.path.isdir(d)]
    return ":".join(dirs)


def private_mounts_work():
    """Why a private mount namespace (unshare --mount, mount --bind) cannot be
    made here, or "" when it can: sendmail, Exim and OpenSMTPD run in one."""
    for prog in ("unshare", "mount"):
        if shutil.which(prog) is None:
            return "%s not found" % prog
    try:
        r = run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                 "mount --bind /dev/null /dev/null"], timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unshare: %s" % e
    if r.returncode != 0:
        return "unshare --mount failed: %s" % tail(r.stderr or r.stdout)
    return ""
