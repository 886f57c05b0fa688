#!/usr/bin/env bash
# Moving guests between lab hosts of different CPU models through snapshot files, with the merged targets config
# of cortex-a57 and cortex-a72 (guest MIDR 0x411fd070 on both). The files travel through the --share directory,
# i.e. shared storage between the two hosts.
#  1. The `count` guest starts on cortex-a72, is snapshotted mid-run, and is restored on cortex-a57 (a host with Arm
#     erratum 834220, so the restore prefault runs): it continues where it stopped - nothing lost or repeated -, its
#     `mrs midr_el1` still reads the configured value, and its virtual counter never goes backwards.
#  2. The `pgtable` guest, whose page tables link a table page that is all zero (so not in the snapshot), moves the
#     same way and keeps running: the cortex-a57 restore prefault maps holes too, where it once hung.
#  3. A Linux guest with 2 vCPUs, busy in userspace on both, with an ext4 disk (on the shared storage) mounted and
#     being written, is snapshotted on cortex-a72 and restored on cortex-a57. It keeps running, answers a command on
#     its console, and every file it wrote before and after the move has its recorded checksum. The restore gets
#     no device options: it recreates the disk the snapshot recorded.
# usage: migrate.sh EMULATOR ROAM   (the arm64 roam, for `targets merge` on the build machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
roam=("$@")
. "$root/tests/lab/lib.sh"
lab_init "migrate test" 500
guest_midr=0x411fd070

step "profiles of cortex-a57 and cortex-a72, merged"
lab --cpu cortex-a57 -- roam cpu-profile --name cortex-a57 -o /share/a57.json >/dev/null
lab --cpu cortex-a72 -- roam cpu-profile --name cortex-a72 -o /share/a72.json >/dev/null
"${roam[@]}" targets merge "$share/a57.json" "$share/a72.json" -o "$share/targets.json"
python3 - "$share/targets.json" "$guest_midr" <<'PY'
import json, sys
midr = json.load(open(sys.argv[1]))["guest"]["midr"]
if int(str(midr), 0) != int(sys.argv[2], 0):
    sys.exit(f"migrate test: the merged guest MIDR is {midr}, expected {sys.argv[2]}")
PY

# snapshot_on_a72 GUEST PATTERN: runs guest-images' GUEST (64 MiB, the merged targets) on cortex-a72 with its console
# in $share/GUEST0.txt until a line matches PATTERN, then snapshots it to $share/GUEST.snap and stops it.
snapshot_on_a72() {
	lab --cpu cortex-a72 -- sh -c "
. ./lib.sh
roam run --targets /share/targets.json --api /tmp/s -m 64 -k /opt/roam/guests/$1.bin >/share/${1}0.txt 2>&1 &
p=\$!
wait_line -p \$p /share/${1}0.txt '$2' && wait_api /tmp/s || exit 1
roam ctl /tmp/s snapshot /share/$1.snap --stop || exit 1
wait \$p; [ \$? = 6 ]"
}

step "1: count guest, cortex-a72 -> cortex-a57"
snapshot_on_a72 count "^count: "
lab --cpu cortex-a57 -- sh -c 'roam restore /share/count.snap >/share/count1.txt 2>&1'
cat "$share/count1.txt" | grep '^roam:' || true
EXPECT_MIDR=$guest_midr python3 "$root/tests/lab/check_count.py" "$share/count0.txt" "$share/count1.txt"
grep -q '^roam: restore: mapped all [0-9]* pages of guest RAM .*(this host has Arm erratum 834220)' "$share/count1.txt" ||
	fail "the restore on cortex-a57 did not prefault the guest's memory"

step "2: a guest with an empty page table, cortex-a72 -> cortex-a57"
snapshot_on_a72 pgtable "^pgtable: 5 "
# Before the prefault mapped holes, this restore never printed another line: the vCPU sat in KVM_RUN.
try lab --cpu cortex-a57 -- sh -c 'timeout 120 roam restore /share/pgtable.snap >/share/pgtable1.txt 2>&1'
[ $status = 0 ] || { cat "$share/pgtable1.txt"; fail "the pgtable guest's restore on cortex-a57 exited $status"; }
python3 - "$share/pgtable0.txt" "$share/pgtable1.txt" <<'PY'
import re, sys
# Each roam's own lines are whole lines; a guest line cut by the snapshot continues in the next file.
texts = [re.sub(r"(?m)^roam:.*\n", "", open(p).read().replace("\r", "")) for p in sys.argv[1:]]
rows = re.findall(r"pgtable: (\d+) faults=(\d+)", "".join(texts))
before = re.findall(r"pgtable: (\d+) faults=(\d+)\n", texts[0])
after = rows[len(before):]
seen = [int(n) for n, _ in rows]
if seen != list(range(1, 81)) or any(n != f for n, f in rows):
    sys.exit(f"migrate test: the pgtable guest printed {seen[:3]}...{seen[-3:]} ({len(seen)} lines), not 1..80 "
             "with one fault each")
if "pgtable: done" not in open(sys.argv[2]).read():
    sys.exit("migrate test: the pgtable guest did not finish after its restore on cortex-a57")
print(f"migrate test: pgtable guest: {len(before)} lines on cortex-a72, {len(after)} after the restore on cortex-a57")
PY

step "3: busy 2-vCPU Linux guest with a mounted, written disk, cortex-a72 -> cortex-a57"
truncate -s 64M "$share/disk.img"
PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F "$share/disk.img"
lab --cpu cortex-a72 -- sh -c '
. ./lib.sh
roam run --targets /share/targets.json --api /tmp/s -c 2 -m 256 -k /opt/roam/kernel/Image \
	-i /opt/roam/guests/linux-initrd.cpio.gz --disk /share/disk.img \
	-p "console=ttyS0 quiet roam.run=migrate" >/share/linux0.txt 2>&1 &
pid=$!
wait_lines -p $pid /share/linux0.txt "roam-guest: wrote" 3 450 || exit 1
roam ctl /tmp/s snapshot /share/linux.snap --stop || exit 1
wait $pid; [ $? = 6 ]'
grep -q "roam-guest: migrate running on 2 CPUs, CPU part 0xd07" "$share/linux0.txt" || {
	cat "$share/linux0.txt"
	fail "the Linux guest did not start its workload on 2 CPUs seeing the configured CPU part"
}
before=$(grep -c "roam-guest: wrote" "$share/linux0.txt")
# What is typed on the restored guest's console: check every recorded checksum, report, power off. Setting the
# console's modes again (stty) waits until the report has left the UART: `poweroff -f` alone can drop the tty's
# unsent output, which once lost the report line.
cat >"$share/command" <<'CMD'
md5sum -c /mnt/sums >/tmp/check 2>&1; echo "roam-guest: check ok=$(grep -c ': OK$' /tmp/check) bad=$(grep -vc ': OK$' /tmp/check) part=$(awk '/CPU part/ {print $4; exit}' /proc/cpuinfo) answer=$((6 * 7))"; stty "$(stty -g)"; poweroff -f
CMD
# On the destination the console is a FIFO kept open by the shell; the command goes in once the restored guest has
# written another file, and ends the VM (poweroff -f), so roam exits 0. No device options: the restore takes the
# disk the snapshot recorded.
try lab --cpu cortex-a57 -- sh -c '
. ./lib.sh
mkfifo /tmp/in
roam restore /share/linux.snap </tmp/in >/share/linux1.txt 2>&1 &
pid=$!
exec 3>/tmp/in
wait_line -p $pid /share/linux1.txt "roam-guest: wrote" 450 || { kill $pid; exit 1; }
cat /share/command >&3
wait $pid'
[ $status = 0 ] || {
	cat "$share/linux1.txt"
	fail "the restored Linux guest's roam exited $status"
}
python3 - "$share/linux1.txt" "$before" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\r", "")
m = re.search(r"roam-guest: check ok=(\d+) bad=(\d+) part=(\S+) answer=42", text)
if not m:
    print(text)
    sys.exit("migrate test: the restored guest did not answer its console")
ok, bad, part = int(m.group(1)), int(m.group(2)), m.group(3)
wrote = len(re.findall(r"roam-guest: wrote f\d+", text))
before = int(sys.argv[2])
if bad or ok < before + 1:
    print(text)
    sys.exit(f"migrate test: {ok} files intact, {bad} damaged; {before} were written before the move")
if part != "0xd07":
    sys.exit(f"migrate test: the restored guest sees CPU part {part}, not the configured 0xd07")
print(f"migrate test: Linux guest moved: {before} files written on cortex-a72, {wrote} more on cortex-a57, "
      f"all {ok} checksums intact; it answered on its console")
PY
grep '^roam:' "$share/linux1.txt" || true
grep -q "^roam: restore: the snapshot's devices: --disk /share/disk.img$" "$share/linux1.txt" ||
	fail "the restore did not take the disk recorded in the snapshot"
echo "migrate test: passed"
