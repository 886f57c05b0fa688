#!/usr/bin/env bash
# virtio devices with a Linux guest on real KVM in the emulated host. Runs tests/lab/virtio_l1_MODE.sh there and
# checks what it and the guests printed:
#   blk  a disk written, flushed and read back with matching checksums, also in the image after roam was killed
#        with SIGKILL; get-id, discard, a read-only disk (readable, writes refused); /dev/hwrng from virtio-rng;
#        a line out of and a line into hvc0 (--console virtio)
#   net  ping and TCP both ways between a guest and the host over a TAP roam creates, then between two guests on
#        a bridge (persistent TAPs)
#   snap a guest doing disk and entropy I/O is snapshotted mid-run and restored: it carries on with the same data;
#        a restore with other devices is refused
# usage: virtio.sh blk|net|snap [--check OUTPUT]   (--check: only check the saved output of such a run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: virtio.sh blk|net|snap [--check OUTPUT]}
. "$root/tests/lab/lib.sh"
lab_init "virtio.sh $mode" 500
out=$share/out.txt
if [ "${2:-}" = --check ]; then
	cp "${3:?--check needs the output of a run}" "$out"
	status=0
else
	cp "$root/tests/lab/virtio_l1_$mode.sh" "$share/"
	try_tee "$out" lab -- sh "/share/virtio_l1_$mode.sh"
fi
failed=0
# problem MESSAGE: the test fails, after every check has run.
problem() {
	echo "$TEST: $*" >&2
	failed=1
}
expect() {
	grep -Fq -- "$1" "$out" || problem "missing: $1"
}
# value KEY: the word after "KEY" in the output (e.g. an md5 after "md5="), or nothing
value() {
	{ grep -o -- "$1[^ )']*" "$out" || true; } | head -1 | cut -c$((${#1} + 1))-
}
# same WHAT KEY1 KEY2: the values after KEY1 and after KEY2 are both there, and equal; else "WHAT" fails the test.
same() {
	local a b
	a=$(value "$2") b=$(value "$3")
	[ -n "$a" ] || problem "$1: the output has no \"$2\""
	[ -n "$b" ] || problem "$1: the output has no \"$3\""
	[ -z "$a" ] || [ -z "$b" ] || [ "$a" = "$b" ] || problem "$1: \"$2$a\" but \"$3$b\""
}
[ "$status" = 0 ] || problem "tools/lab exited $status"
if grep -q 'needs a reset' "$out"; then
	problem "a device went to NEEDS_RESET"
fi
case $mode in
blk)
	expect "roam-guest: vda serial=disk.img sectors=131072 ro=0"
	expect "roam-guest: vdb sectors=2048 ro=1"
	expect "roam-guest: disk write and flush ok"
	same "the guest read back other data" "roam-guest: disk written md5=" "roam-guest: disk readback md5="
	same "after kill -9 of roam the image does not hold what the guest flushed" \
		"roam-guest: disk written md5=" "l1: disk.img data md5="
	expect "l1: roam exit status 137"
	expect "roam-guest: discard ok (fcd6bcb56c1689fcef28b57c22475bad)" # md5 of 64 KiB of zeros
	same "the read-only disk reads wrong" "roam-guest: ro disk md5=" "l1: ro.img md5="
	expect "roam-guest: ro disk write refused"
	expect "roam-guest: hwrng virtio_rng.0 gave 1024 bytes"
	expect "roam-guest: hello through hvc0"
	expect "roam-guest: hvc0 got 'hello-from-the-host'"
	;;
net)
	expect "roam-guest: ping 10.0.2.2 ok: 3 replies"
	expect "l1: ping guest ok: 3 replies"
	expect "l1: host got 'hello over tcp from 10.0.2.15/24'"
	expect "roam-guest: tcp got 'hello over tcp from the host'"
	expect "l1: roam exit status 0"
	expect "roam-guest: eth0 mac=52:54:00:00:00:0a"
	expect "roam-guest: ping 10.0.3.2 ok: 3 replies"
	expect "roam-guest: tcp got 'hello over tcp from 10.0.3.1/24'"
	expect "l1: roam (guest a) exit status 0"
	expect "l1: roam (guest b) exit status 0"
	;;
snap)
	written=$(value "roam-guest: snap written md5=")
	[ -n "$written" ] || problem "the guest did not report what it wrote"
	expect "l1: first roam exit status 6"
	expect "before: roam-guest: snap round 3 md5=$written rng=16"
	expect "virtio-blk0: the snapshot's device differs from this VM's"
	expect "this VM's device 2 is virtio-rng, the snapshot's is virtio-blk; restore with the snapshot's devices"
	expect "l1: restored roam exit status 0"
	expect "after: roam: restore: the snapshot's devices: --disk disk.img --rng"
	for n in 4 5 6 7 8 9 10 11 12; do
		grep -Eq "^(before|after): roam-guest: snap round $n md5=$written rng=16" "$out" ||
			problem "round $n is missing or read other data"
	done
	expect "after: roam-guest: snap round 12 md5=$written rng=16"
	expect "after: roam-guest: snap copies md5=$written"
	expect "after: roam-guest: snap done"
	;;
*)
	echo "usage: virtio.sh blk|net|snap" >&2
	exit 2
	;;
esac
[ $failed = 0 ] && echo "$TEST: passed"
exit $failed
