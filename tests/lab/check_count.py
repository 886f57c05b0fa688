#!/usr/bin/env python3
"""Checks the console output of the `count` guest (guest-images/count.c) across snapshots and restores.

usage: check_count.py FILE...   (the outputs of every roam that ran the guest, in order)
The concatenated guest lines must count 1, 2, 3, ... with none lost or repeated and end with "count: done"; the
virtual counter must never go backwards; with EXPECT_MIDR set, every line must show that MIDR.
"""
import os
import re
import sys

# Each roam's own lines are whole lines; a guest line cut by a snapshot continues in the next file.
text = "".join(re.sub(r"(?m)^roam:.*\n", "", open(f).read().replace("\r", "")) for f in sys.argv[1:])
rows = re.findall(r"count: (\d+) t=(\d+) midr=(0x[0-9a-f]+)", text)
ns = [int(n) for n, _, _ in rows]
if not ns or ns != list(range(1, len(ns) + 1)) or "count: done" not in text:
    sys.exit(f"count sequence broken: {ns[:3]}...{ns[-3:]} ({len(ns)} lines, done={'count: done' in text})")
ts = [int(t) for _, t, _ in rows]
if any(b < a for a, b in zip(ts, ts[1:])):
    sys.exit("the virtual counter went backwards")
midrs = sorted(set(int(m, 16) for _, _, m in rows))
want = os.environ.get("EXPECT_MIDR")
if want and midrs != [int(want, 0)]:
    sys.exit(f"the guest's MIDR is {[hex(m) for m in midrs]}, not the configured {want}")
print(f"count check: {len(ns)} counts in order across {len(sys.argv) - 1} runs; MIDR {[hex(m) for m in midrs]}")
