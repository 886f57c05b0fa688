#!/usr/bin/env bash
# Snapshots on real KVM.
#  1. Same host: the `count` guest is snapshotted mid-run and restored five times in a row; the console output of
#     all six roams, concatenated, must count 1, 2, 3, ... with nothing lost or repeated, its virtual counter
#     never going backwards.
#  2. With a targets config, `count` is snapshotted to a pipe (roam ctl snapshot -) and restored from one
#     (roam restore -); MIDR keeps reading the configured value.
#  3. The control socket answers during a restore whose stream stalls before the memory: status "restoring" with
#     the bytes read, "vm-restoring" for a command that needs a running VM; then the guest runs.
#  4. Restoring on cortex-a57 (not a target) is refused with the reason; a damaged file is refused naming the
#     section (and the damaged 64 KiB chunk, when the lazy restore meets it while the guest runs), lazily and with
#     --eager.
# Moving guests between CPU models is tests/lab/migrate.sh.
# usage: snapshot.sh EMULATOR ROAM   (the arm64 roam, for merge on the build machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
roam=("$@")
. "$root/tests/lab/lib.sh"
lab_init "snapshot test" 400

# check_count FILE...: the concatenated guest output counts 1..150 without gaps or repeats, time moving forward.
check_count() { python3 "$root/tests/lab/check_count.py" "$@"; }

step "1: five snapshot/restore cycles on one host"
# Each roam is snapshotted once its guest has counted on (a new line) and its socket answers.
lab -- sh -c '
. ./lib.sh
roam run --api /tmp/s -m 64 -k /opt/roam/guests/count.bin >/share/same0.txt 2>&1 &
p=$!
wait_line -p $p /share/same0.txt "^count: " && wait_api /tmp/s || exit 1
roam ctl /tmp/s snapshot /tmp/snap1 --stop || exit 1
wait $p; [ $? = 6 ] || { echo "a roam stopped by snapshot --stop did not exit 6"; exit 1; }
for i in 1 2 3 4 5; do
	roam restore --api /tmp/s /tmp/snap$i >/share/same$i.txt 2>&1 &
	p=$!
	wait_line -p $p /share/same$i.txt "^count: " && wait_api /tmp/s || exit 1
	roam ctl /tmp/s snapshot /tmp/snap$((i + 1)) --stop || exit 1
	wait $p; [ $? = 6 ] || exit 1
done
roam restore /tmp/snap6 >/share/same6.txt 2>&1'
check_count "$share"/same{0,1,2,3,4,5,6}.txt

step "2: a targets config, a snapshot streamed through a pipe (snapshot - | restore -)"
lab -- roam cpu-profile --name max -o /share/max.json >/dev/null
"${roam[@]}" targets merge "$share/max.json" -o "$share/targets.json"
lab -- sh -c '
. ./lib.sh
roam run --targets /share/targets.json --api /tmp/s -m 64 -k /opt/roam/guests/count.bin >/share/cross0.txt 2>&1 &
p=$!
wait_line -p $p /share/cross0.txt "^count: " && wait_api /tmp/s || exit 1
roam ctl /tmp/s snapshot - --stop >/share/cross.snap || exit 1
wait
cat /share/cross.snap | roam restore - >/share/cross1.txt 2>&1'
guest_midr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["guest"]["midr"])' "$share/targets.json")
EXPECT_MIDR=$guest_midr check_count "$share/cross0.txt" "$share/cross1.txt"

step "3: the control socket answers during a restore"
# The state arrives, then the stream stalls for 3 s before the memory: status says "restoring" with the bytes read
# (exactly the state's), a command that needs a running VM gets "vm-restoring", and the guest then runs on.
python3 - "$share/cross.snap" "$share/state.part" "$share/memory.part" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 72  # the file header; then sections: id u32, instance u32, version u32, flags u32, length u64, ..., trailer u32
while struct.unpack_from("<I", data, off)[0] != 10:  # the first memory section
    off += 32 + struct.unpack_from("<Q", data, off + 16)[0] + 4
open(sys.argv[2], "wb").write(data[:off])
open(sys.argv[3], "wb").write(data[off:])
print(off)
PY
cut=$(wc -c <"$share/state.part")
lab -- sh -c '
. ./lib.sh
{ cat /share/state.part; sleep 3; cat /share/memory.part; } | roam restore --api /tmp/r - >/share/stall.txt 2>&1 &
p=$!
wait_for -p $p 30 "the socket to answer during the restore" roam ctl /tmp/r status || exit 1
roam ctl /tmp/r status --json >/share/restoring.json 2>&1
roam ctl /tmp/r pause >/share/restoring_pause.txt 2>&1
wait_line -p $p /share/stall.txt "^count: " || exit 1
roam ctl /tmp/r status >/share/restored.txt 2>&1
roam ctl /tmp/r quit'
cat "$share/restoring.json" "$share/restoring_pause.txt"
grep -q '"state":"restoring"' "$share/restoring.json" && grep -q "\"bytes_read\":$cut," "$share/restoring.json" ||
	fail "status during the restore did not say restoring with the $cut bytes read"
grep -q '^roam: ctl: pause: the VM is being restored from standard input (.* MiB read so far); it answers this once it runs$' "$share/restoring_pause.txt" ||
	fail "pause during the restore did not get the vm-restoring answer"
grep -q "^VM running" "$share/restored.txt" || fail "the restored VM does not run"

step "4: refusals"
try lab --cpu cortex-a57 -- roam restore /share/cross.snap >"$share/n1.txt" 2>&1
cat "$share/n1.txt"
[ $status = 1 ] || fail "restore on cortex-a57 exited $status, expected 1"
# One report with every reason, before the VM exists: not a target, registers, IPA size, SVE, counter frequency.
grep -q "^roam: this host cannot present the CPU of /share/cross.snap: [0-9]* problems; the check says:$" "$share/n1.txt" ||
	fail "the refusal on cortex-a57 does not count its problems on one line naming the snapshot"
for line in "error host-not-in-targets   this host (MIDR 0x411fd070, REVIDR 0x0) is not one of the targets (max)" \
	"error cntfrq-differs        the counter here runs at 62500000 Hz, the targets' at 1000000000 Hz" \
	"error ipa-too-small " "error reg-not-writable "; do
	grep -qF "$line" "$share/n1.txt" || fail "the refusal on cortex-a57 does not list: $line"
done
python3 - "$share/cross.snap" "$share/damaged.snap" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x10  # a bit in the middle: inside the vCPU, GIC or memory payload
open(sys.argv[2], "wb").write(data)
PY
# Lazily (the default), a damaged memory chunk is met while the guest runs and stops it, naming the chunk; eagerly,
# the section's checksum refuses the file before anything runs. Either way: one line naming the section, status 1.
try lab -- roam restore /share/damaged.snap >"$share/damaged.txt" 2>&1
cat "$share/damaged.txt"
[ $status = 1 ] || fail "a damaged snapshot was not refused (lazy restore)"
grep -qE 'roam: /share/damaged.snap: section "[^"]+": (checksum mismatch|chunk [0-9]+ \(guest 0x[0-9a-f]+-0x[0-9a-f]+\) is damaged \(checksum stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the guest cannot go on with corrupt memory)' "$share/damaged.txt" ||
	fail "the damaged snapshot's refusal does not name the section (lazy restore)"
try lab -- roam restore --eager /share/damaged.snap >"$share/damaged_eager.txt" 2>&1
cat "$share/damaged_eager.txt"
[ $status = 1 ] || fail "a damaged snapshot was not refused (--eager)"
grep -qE 'roam: /share/damaged.snap: section "[^"]+": checksum mismatch' "$share/damaged_eager.txt" ||
	fail "the damaged snapshot's refusal does not name the section (--eager)"
echo "snapshot test: passed"
