#!/bin/sh
# Runs in the emulated host (tests/lab/virtio.sh snap): a Linux guest doing disk and entropy I/O (guest script
# virtio-snap) is snapshotted mid-run with --stop, then restored - without device options, so with the devices the
# snapshot recorded - and must carry on; restores with other devices are refused.
# shellcheck source=SCRIPTDIR/lib.sh # tests/lab/lib.sh, which virtio.sh put next to this script in /share
. ./lib.sh
TEST=l1
cd /tmp
dd if=/dev/zero of=disk.img bs=1M count=16 2>/dev/null
roam run --api /tmp/api -m 256 -k "$ROAM_KERNEL" -i "$ROAM_GUESTS/linux-initrd.cpio.gz" --disk disk.img --rng \
  -p 'console=ttyS0 quiet roam.run=virtio-snap' >before.log 2>&1 &
pid=$!
# The whole of round 3's line: a snapshot taken while the guest prints it cuts the line in two logs.
wait_line -p $pid before.log 'roam-guest: snap round 3 md5=.* rng=16' 180
roam ctl /tmp/api snapshot /tmp/snap --stop
wait $pid
echo "l1: first roam exit status $?"
sed 's/^/before: /' before.log
echo "== l1: restore with other devices (refused)"
roam restore /tmp/snap --disk disk.img,ro --rng 2>&1 | grep -v '^roam: restoring'
roam restore /tmp/snap --rng 2>&1 | grep -v '^roam: restoring'
echo "== l1: restore without device options: the snapshot's own devices"
timeout 300 roam restore /tmp/snap >after.log 2>&1
echo "l1: restored roam exit status $?"
sed 's/^/after: /' after.log
