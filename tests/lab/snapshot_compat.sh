#!/usr/bin/env bash
# Old snapshots still restore: tests/data/snapshots/ holds snapshots written by earlier roams (see the README
# there). Each is restored on the lab host it was taken on (max) with today's roam: the count guest must go on from
# where it was snapshotted, with nothing lost or repeated, its counter never going backwards, and the devices the
# snapshot recorded (--rng) recreated.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lab/lib.sh"
lab_init "snapshot_compat test" 300
data=$root/tests/data/snapshots
cp "$data/main-11cfa4c-count-rng.snap" "$share/old.snap"
step "restore a snapshot written by main 11cfa4c (before the component table)"
try_tee "$share/lab.txt" lab -- sh -c 'roam restore /share/old.snap >/share/after.txt 2>&1; echo "restore exit $?"'
[ "$status" = 0 ] || fail "tools/lab exited $status"
cat "$share/after.txt"
grep -q 'restore exit 0' "$share/lab.txt" || fail "roam restore of the old snapshot failed"
grep -q 'roam: restore: the snapshot.s devices: --rng' "$share/after.txt" || fail "the recorded --rng was not recreated"
python3 "$root/tests/lab/check_count.py" "$data/main-11cfa4c-count-rng.before.txt" "$share/after.txt"
echo "snapshot_compat test: passed"
