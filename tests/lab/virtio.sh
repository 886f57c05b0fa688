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
# usage: virtio.sh blk|net|snap
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: virtio.sh blk|net|snap}
share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
cp "$root/tests/lab/virtio_l1_$mode.sh" "$share/"
out=$share/out.txt
set +e
"$root/tools/lab" run --share "$share" --timeout 500 -- sh "/share/virtio_l1_$mode.sh" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
failed=0
fail() {
	echo "virtio.sh $mode: $*" >&2
	failed=1
}
expect() {
	grep -Fq -- "$1" "$out" || fail "missing: $1"
}
# value KEY: the word after "KEY" in the output (e.g. an md5 after "md5=")
value() {
	grep -o -- "$1[^ )']*" "$out" | head -1 | cut -c$((${#1} + 1))-
}
[ "$status" = 0 ] || fail "tools/lab exited $status"
if grep -q 'needs a reset' "$out"; then
	fail "a device went to NEEDS_RESET"
fi
case $mode in
blk)
	expect "roam-guest: vda serial=disk.img sectors=131072 ro=0"
	expect "roam-guest: vdb sectors=2048 ro=1"
	expect "roam-guest: disk write and flush ok"
	written=$(value "roam-guest: disk written md5=")
	[ -n "$written" ] || fail "the guest did not report what it wrote"
	[ "$(value "roam-guest: disk readback md5=")" = "$written" ] || fail "the guest read back other data"
	[ "$(value "l1: disk.img data md5=")" = "$written" ] ||
		fail "after kill -9 of roam the image does not hold what the guest flushed"
	expect "l1: roam exit status 137"
	expect "roam-guest: discard ok (fcd6bcb56c1689fcef28b57c22475bad)" # md5 of 64 KiB of zeros
	[ "$(value "roam-guest: ro disk md5=")" = "$(value "l1: ro.img md5=")" ] || fail "the read-only disk reads wrong"
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
	[ -n "$written" ] || fail "the guest did not report what it wrote"
	expect "l1: first roam exit status 0"
	expect "before: roam-guest: snap round 3 md5=$written rng=16"
	expect "virtio-blk0: the snapshot's device differs from this VM's"
	expect "this VM's device 2 is virtio-rng, the snapshot's is virtio-blk; restore with the snapshot's devices"
	expect "l1: restored roam exit status 0"
	expect "after: roam: restore: the snapshot's devices: --disk disk.img --rng"
	for n in 4 5 6 7 8 9 10 11 12; do
		grep -Eq "^(before|after): roam-guest: snap round $n md5=$written rng=16" "$out" ||
			fail "round $n is missing or read other data"
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
[ $failed = 0 ] && echo "virtio.sh $mode: passed"
exit $failed
