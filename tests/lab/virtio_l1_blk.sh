#!/bin/sh
# Runs in the emulated host (tests/lab/virtio.sh blk): one Linux guest with a read-write disk, a read-only disk,
# virtio-rng and the virtio console (a line of input on roam's stdin), running guest script `virtio`. Once the guest
# has flushed its data and finished its checks, roam is killed with SIGKILL and the image's checksum is taken.
# shellcheck source=SCRIPTDIR/lib.sh # tests/lab/lib.sh, which virtio.sh put next to this script in /share
. ./lib.sh
TEST=l1
cd /tmp
dd if=/dev/zero of=disk.img bs=1M count=64 2>/dev/null
dd if=/dev/urandom of=ro.img bs=65536 count=16 2>/dev/null
echo "l1: ro.img md5=$(md5sum <ro.img | cut -d' ' -f1)"
echo "hello-from-the-host" | roam run -m 256 -k "$ROAM_KERNEL" -i "$ROAM_GUESTS/linux-initrd.cpio.gz" \
  --disk disk.img --disk ro.img,ro --rng --console virtio -p 'console=ttyS0 quiet roam.run=virtio' \
  >guest.log 2>roam.err &
pid=$!
wait_line -p $pid guest.log 'roam-guest: virtio done' 180
kill -9 $pid
wait $pid
echo "l1: roam exit status $?"
cat guest.log roam.err
echo "l1: disk.img data md5=$(dd if=disk.img bs=4096 skip=16 count=256 2>/dev/null | md5sum | cut -d' ' -f1)"
