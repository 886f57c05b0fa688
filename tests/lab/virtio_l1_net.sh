#!/bin/sh
# Runs in the emulated host (tests/lab/virtio.sh net). (1) A guest on TAP tap0, which roam creates, and the host:
# ping and TCP both ways. (2) Two guests on persistent TAPs (tunctl) in bridge br0: ping and TCP between them.
# shellcheck source=SCRIPTDIR/lib.sh # tests/lab/lib.sh, which virtio.sh put next to this script in /share
. ./lib.sh
TEST=l1
modprobe tun
modprobe bridge
cd /tmp
kernel="-k $ROAM_KERNEL -i $ROAM_GUESTS/linux-initrd.cpio.gz"
# send_to_guest: the host's TCP message, once the guest takes the connection.
send_to_guest() { echo "hello over tcp from the host" | nc 10.0.2.15 5555; }
both_exited() { exited $pida && exited $pidb; }

echo "== l1: guest <-> host over tap0"
nc -l -p 5555 >from_guest.txt &
roam run -m 192 $kernel --net tap=tap0 \
  -p 'console=ttyS0 quiet roam.run=virtio-net roam.ip=10.0.2.15/24 roam.peer=10.0.2.2 roam.do=ping,send,recv' \
  >guest0.log 2>&1 &
pid=$!
wait_for -p $pid 10 "roam to create tap0" test -e /sys/class/net/tap0
ip addr add 10.0.2.2/24 dev tap0
ip link set tap0 up
if wait_line guest0.log 'roam-guest: listening on 5555' 200; then
  ping -c 3 -w 20 10.0.2.15 >ping.txt 2>&1 && echo "l1: ping guest ok: $(grep -c 'bytes from' ping.txt) replies"
  wait_for 10 "the guest to take the host's TCP connection" send_to_guest
fi
wait_line guest0.log 'roam-guest: tcp got' 60
wait_for 60 "the guest to power off" exited $pid
kill $pid 2>/dev/null
wait $pid
echo "l1: roam exit status $?"
cat guest0.log
echo "l1: host got '$(cat from_guest.txt)'"

echo "== l1: two guests on bridge br0"
brctl addbr br0
ip link set br0 up
for t in tapa tapb; do
  tunctl -t $t >/dev/null
  brctl addif br0 $t
  ip link set $t up
done
roam run -m 192 $kernel --net tap=tapb \
  -p 'console=ttyS0 quiet roam.run=virtio-net roam.ip=10.0.3.2/24 roam.do=recv' >guestb.log 2>&1 &
pidb=$!
roam run -m 192 $kernel --net tap=tapa,mac=52:54:00:00:00:0a \
  -p 'console=ttyS0 quiet roam.run=virtio-net roam.ip=10.0.3.1/24 roam.peer=10.0.3.2 roam.do=ping,send' \
  >guesta.log 2>&1 &
pida=$!
wait_for 180 "both guests to power off" both_exited
kill $pida $pidb 2>/dev/null
wait $pida
echo "l1: roam (guest a) exit status $?"
wait $pidb
echo "l1: roam (guest b) exit status $?"
cat guesta.log guestb.log
