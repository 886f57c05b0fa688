#!/usr/bin/env bash
# The PV lock on real KVM, with the `pvlock` test guest on two vCPUs in one lab host: the guest checks the
# hypercalls and the FEATURES bitmap; the host pauses vCPU1 through the control socket and the guest must see
# vCPU1's flag at 1, then 0 after resume; the guest's writes to the region are reported and have no effect; with
# CPU hogs competing on the host, the guest must see vCPU1 preempted while it spins in the guest; --no-pvlock
# removes the calls.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lab/lib.sh"
lab_init "pvlock test" 400
out=$share/out.txt

try lab -- sh -c '
. ./lib.sh
TEST=l1
log=/tmp/guest.log
roam run --api /tmp/api.sock -c 2 -k /opt/roam/guests/pvlock.bin >$log 2>&1 &
pid=$!
# guest_says TEXT: waits (300 s at most) for the guest to print TEXT; else shows its output and ends the test.
guest_says() {
	wait_line -p $pid $log "$1" 300 || { cat $log; kill $pid 2>/dev/null; exit 1; }
}
guest_says "ready for pause"
roam ctl /tmp/api.sock pause 1 || exit 1
echo "STATUS-JSON: $(roam ctl /tmp/api.sock status --json)"
guest_says "saw vCPU1 preempted=1 while paused"
roam ctl /tmp/api.sock resume 1 || exit 1
guest_says "ready for hogs"
(while :; do :; done) & h1=$!
(while :; do :; done) & h2=$!
(while :; do :; done) & h3=$!
wait $pid
rc=$?
kill $h1 $h2 $h3
cat $log
echo "pvlock guest exit status $rc"
roam run --no-pvlock -c 2 -k /opt/roam/guests/pvlock.bin
echo "no-pvlock exit status $?"
exit $rc' >"$out" 2>&1
cat "$out"
[ $status = 0 ] || fail "the lab run exited $status"
for want in "pvlock-guest: vendor features 0x3 0x0 0x0 0x3" \
	"saw vCPU1 preempted=1 while paused" "saw vCPU1 preempted=0 after resume" \
	"roam: the guest wrote 8 bytes at offset 0 of the PV-lock region (vCPU 0's struct); ignored" \
	"roam: the guest wrote 8 bytes at offset 0x40 of the PV-lock region (vCPU 1's struct); ignored" \
	"pvlock-guest: guest writes had no effect" "pvlock guest exit status 0" "no-pvlock exit status 1"; do
	grep -qF "$want" "$out" || fail "missing: $want"
done
grep -qE "roam: guest abort at pvlock.c:[0-9]+: assertion failed: .*0xffffffffffffffff != 0x0" "$out" ||
	fail "with --no-pvlock PV_LOCK_FEATURES must answer NOT_SUPPORTED"
python3 - "$out" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
status = json.loads(re.search(r"STATUS-JSON: (\{.*\})", text).group(1))
pv = status["pvlock"]
assert status["vcpus"][1]["state"] == "paused", status
assert pv["preempted"][1] == 1, f"vCPU1 is paused but its flag is {pv['preempted'][1]}"
assert int(pv["base"], 16) == 0x9100000, pv
m = re.search(r"hogs: vCPU1 preempted in (\d+) of (\d+) samples", text)
assert m and int(m.group(1)) > 0, "the hogs never made vCPU1's flag visible"
print(f"pvlock test: paused flag ok, tracking={pv['tracking']}, hogs: preempted in {m.group(1)} of {m.group(2)} samples")
PY
echo "pvlock test: passed"
