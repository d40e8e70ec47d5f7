#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""config_bench.py - how long smtpreply-milter takes to load large configurations.

Generates configurations of N rules (each a recipient regular expression and
a reply of its own, as a large generated block list would be), and times
"smtpreply-milter -t" on each (load, check, normalize every reply, print the
report to /dev/null), with peak RSS from /proc. Prints one line per size;
the median of 3 runs. The largest configuration file accepted is 16 MiB.

    python3 bench/config_bench.py [--milter _build/smtpreply-milter] [--sizes 1000,10000,40000,100000]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def write_conf(path, n):
    with open(path, "w") as f:
        f.write("rules = (\n")
        for i in range(n):
            f.write('%s{ name = "r%d"; phase = "rcpt"; rcpt = "/^<u%d@example\\\\.org>$/"; '
                    'action = "reject"; reply = "550 5.7.1 no %d"; }\n' % ("," if i else " ", i, i, i))
        f.write(");\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--milter", default="smtpreply-milter")
    ap.add_argument("--sizes", default="1000,10000,40000,100000")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sr-cbench.") as tmp:
        print("rules      file MiB   load+check (-t) s   peak RSS MiB")
        for n in [int(x) for x in args.sizes.split(",")]:
            path = os.path.join(tmp, "c%d.conf" % n)
            write_conf(path, n)
            times, rss = [], 0
            for _ in range(3):
                t0 = time.monotonic()
                p = subprocess.Popen([args.milter, "-t", "-c", path], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                _, err = p.communicate()
                times.append(time.monotonic() - t0)
                ru = resource.getrusage(resource.RUSAGE_CHILDREN)
                rss = max(rss, ru.ru_maxrss)
                if p.returncode != 0:
                    sys.exit("config_bench: %d rules refused: %s" % (n, err.decode()[-300:]))
            print("%7d   %8.1f   %17.2f   %12.0f" % (n, os.path.getsize(path) / 2**20,
                                                     statistics.median(times), rss / 1024))


if __name__ == "__main__":
    main()
