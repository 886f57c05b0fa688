#!/usr/bin/env bash
# tests/lab/virtio.sh's checks (virtio.sh MODE --check OUTPUT), on made-up outputs of the blk run: a complete one
# passes; values compared between two lines fail the test when they differ, and when one or both lines are missing
# (two missing md5 lines once compared equal, as two empty strings).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "virtio_check: $*" >&2; failed=1; }

cat >"$tmp/good.txt" <<'OUT'
l1: ro.img md5=0123456789abcdef0123456789abcdef
roam-guest: vda serial=disk.img sectors=131072 ro=0
roam-guest: vdb sectors=2048 ro=1
roam-guest: disk written md5=aaaabbbbccccddddeeeeffff00001111
roam-guest: disk write and flush ok
roam-guest: disk readback md5=aaaabbbbccccddddeeeeffff00001111
roam-guest: discard ok (fcd6bcb56c1689fcef28b57c22475bad)
roam-guest: ro disk md5=0123456789abcdef0123456789abcdef
roam-guest: ro disk write refused
roam-guest: hwrng virtio_rng.0 gave 1024 bytes
roam-guest: hello through hvc0
roam-guest: hvc0 got 'hello-from-the-host'
l1: roam exit status 137
l1: disk.img data md5=aaaabbbbccccddddeeeeffff00001111
OUT

# check NAME STATUS MESSAGE...: virtio.sh blk --check $tmp/NAME.txt exits STATUS and says each MESSAGE.
check() {
	local name=$1 want=$2 got
	shift 2
	"$root/tests/lab/virtio.sh" blk --check "$tmp/$name.txt" >"$tmp/$name.out" 2>&1
	got=$?
	[ "$got" = "$want" ] || fail "$name: exit status $got, expected $want: $(cat "$tmp/$name.out")"
	for msg in "$@"; do
		grep -qF -- "$msg" "$tmp/$name.out" || fail "$name: does not say: $msg (it said: $(cat "$tmp/$name.out"))"
	done
}

check good 0 "virtio.sh blk: passed"
grep -v 'md5=0123' "$tmp/good.txt" >"$tmp/ro-both-missing.txt"
check ro-both-missing 1 \
	'virtio.sh blk: the read-only disk reads wrong: the output has no "roam-guest: ro disk md5="' \
	'virtio.sh blk: the read-only disk reads wrong: the output has no "l1: ro.img md5="'
grep -v '^l1: ro.img' "$tmp/good.txt" >"$tmp/ro-one-missing.txt"
check ro-one-missing 1 'the read-only disk reads wrong: the output has no "l1: ro.img md5="'
sed 's/^roam-guest: ro disk md5=0/roam-guest: ro disk md5=9/' "$tmp/good.txt" >"$tmp/ro-differs.txt"
check ro-differs 1 'the read-only disk reads wrong: "roam-guest: ro disk md5=9123'
grep -v 'disk written' "$tmp/good.txt" >"$tmp/written-missing.txt"
check written-missing 1 'the guest read back other data: the output has no "roam-guest: disk written md5="' \
	'does not hold what the guest flushed: the output has no "roam-guest: disk written md5="'
[ $failed = 0 ] && echo "virtio_check: passed"
exit $failed
