#!/bin/sh
# Runs in the emulated host (tests/lab/virtio.sh net). (1) A guest on TAP tap0, which roam creates, and the host:
# ping and TCP both ways. (2) Two guests on persistent TAPs (tunctl) in bridge br0: ping and TCP between them.
modprobe tun
modprobe bridge
cd /tmp
kernel="-k $ROAM_KERNEL -i $ROAM_GUESTS/linux-initrd.cpio.gz"
wait_line() { # FILE TEXT SECONDS
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt $(($3 * 5)) ]; do sleep 0.2; i=$((i + 1)); done
  grep -q "$2" "$1" 2>/dev/null
}

echo "== l1: guest <-> host over tap0"
nc -l -p 5555 >from_guest.txt &
roam run -m 192 $kernel --net tap=tap0 \
  -p 'console=ttyS0 quiet roam.run=virtio-net roam.ip=10.0.2.15/24 roam.peer=10.0.2.2 roam.do=ping,send,recv' \
  >guest0.log 2>&1 &
pid=$!
i=0
while [ ! -e /sys/class/net/tap0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip addr add 10.0.2.2/24 dev tap0
ip link set tap0 up
if wait_line guest0.log 'roam-guest: listening on 5555' 200; then
  ping -c 3 -w 20 10.0.2.15 >ping.txt 2>&1 && echo "l1: ping guest ok: $(grep -c 'bytes from' ping.txt) replies"
  for try in 1 2 3 4 5 6 7 8 9 10; do
    echo "hello over tcp from the host" | nc 10.0.2.15 5555 && break
    sleep 1
  done
fi
wait_line guest0.log 'roam-guest: tcp got' 60
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
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
i=0
while { kill -0 $pida || kill -0 $pidb; } 2>/dev/null && [ $i -lt 900 ]; do sleep 0.2; i=$((i + 1)); done
kill $pida $pidb 2>/dev/null
wait $pida
echo "l1: roam (guest a) exit status $?"
wait $pidb
echo "l1: roam (guest b) exit status $?"
cat guesta.log guestb.log
