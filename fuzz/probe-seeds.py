#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""probe-seeds.py CAPTURE.json... OUTDIR - seeds for fuzz/fuzz_probe: for each
probe of each capture (tests/data/probe/), one file: the probe's index, a
piece size, then every reply the real server sent in that session."""

import json
import os
import sys

out = sys.argv[-1]
for path in sys.argv[1:-1]:
    with open(path) as f:
        cap = json.load(f)
    name = os.path.basename(path)[:-len(".json")]
    for i, p in enumerate(cap["probes"]):
        data = b"".join(e["reply"].encode("utf-8", "surrogateescape") + b"\r\n"
                        for e in p["exchanges"])
        if data:
            with open(os.path.join(out, "%s-%s" % (name, p["id"])), "wb") as f:
                f.write(bytes([i, 7 * (i + 1) % 256]) + data)
