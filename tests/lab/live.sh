#!/usr/bin/env bash
# Live migration (roam ctl SOCK migrate DEST -> roam restore --incoming SPEC): the guest runs while its memory is
# copied, and stops only for the last dirty pages and its state.
#   live.sh local   two roams in one emulated host, over unix:, with a busy 2-vCPU Linux guest whose ext4 disk
#                   (shared by both) is mounted and being written:
#                   1. the destination is killed (SIGKILL) mid-copy: roam ctl migrate fails with one line, the
#                      source guest never stopped running and writes on;
#                   2. a new destination: the guest moves with its pages compressed (--compress lz: fewer bytes
#                      than pages), the source exits 7, the destination takes the disk's lock only when the guest
#                      arrives, the guest writes on there, and every file it wrote before and after the move has
#                      its recorded checksum.
#   live.sh pair    two emulated hosts of different CPU models (cortex-a72 -> cortex-a57) linked by a byte stream
#                   (tools/lab pair, dev:/dev/roam-peer), the merged targets config of both: the `count` guest moves
#                   mid-count, nothing lost or repeated, its MIDR the configured one on both hosts, its counter never
#                   going backwards.
#   live.sh pair-linux   the same two hosts with the busy 2-vCPU Linux guest of `local` on an ext4 disk in the
#                   share: its ticks go on across the move with none lost or repeated, every file it wrote before
#                   and after keeps its checksum, the a57 destination prefaults early, the downtime is printed.
# usage: live.sh local|pair|pair-linux
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-}
. "$root/tests/lab/lib.sh"

# The figures of "migrate: the guest moved: ..." in FILE, for the log.
report() {
	grep -h "^migrate: the guest moved" "$@" || true
}

# check_moved_linux DST-CONSOLE BEFORE SRC-CONSOLE: the busy Linux guest's ticks ("wrote fN", one a second) run
# 1, 2, 3, ... across both consoles, and the moved guest's check found every file it wrote intact.
check_moved_linux() {
	python3 - "$1" "$2" "$3" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\r", "")
# The guest's ticks ("wrote fN", one a second) across both consoles: none lost or repeated (a line cut by the move
# continues on the destination).
ticks = [int(n) for n in re.findall(r"roam-guest: wrote f(\d+)", open(sys.argv[3]).read().replace("\r", "") + text)]
if not ticks or ticks != list(range(1, len(ticks) + 1)):
    sys.exit(f"live test: the guest's ticks are not 1, 2, 3, ... across the move: {ticks}")
m = re.search(r"roam-guest: check ok=(\d+) bad=(\d+) answer=42", text)
if not m:
    print(text[-3000:])
    sys.exit("live test: the moved guest did not answer its console")
ok, bad, before = int(m.group(1)), int(m.group(2)), int(sys.argv[2])
if bad or ok < before + 1:
    sys.exit(f"live test: {ok} files intact, {bad} damaged; {before} were written before the move")
print(f"live test: ticks 1 to {len(ticks)} in order across the move; {before} files written before it, all {ok} "
      "checksums intact after it")
PY
}

# linux_guest_files: the busy Linux guest's ext4 disk ($share/disk.img) and $share/command, the line sent to the
# moved guest's console (a FIFO the shell keeps open) once it has written another file there: it checks every
# recorded checksum, reports, waits until the report has left the UART (stty) and powers off (roam exits 0).
linux_guest_files() {
	truncate -s 64M "$share/disk.img"
	PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F "$share/disk.img"
	cat >"$share/command" <<'CMD'
md5sum -c /mnt/sums >/tmp/check 2>&1; echo "roam-guest: check ok=$(grep -c ': OK$' /tmp/check) bad=$(grep -vc ': OK$' /tmp/check) answer=$((6 * 7))"; stty "$(stty -g)"; poweroff -f
CMD
}

live_local() {
	lab_init "live test (local)" 700
	linux_guest_files
	try lab --cpu cortex-a72 -- sh -c '
. ./lib.sh
roam run --api /tmp/s -c 2 -m 256 -k /opt/roam/kernel/Image -i /opt/roam/guests/linux-initrd.cpio.gz \
	--disk /share/disk.img -p "console=ttyS0 quiet roam.run=migrate" >/share/src.txt 2>/share/src.err &
src=$!
wait_lines -p $src /share/src.txt "roam-guest: wrote" 2 450 && wait_api /tmp/s || exit 1

echo "== 1: the destination is killed mid-copy"
roam restore --incoming unix:/tmp/m1 >/share/dst1.txt 2>&1 &
dst=$!
# 1 MB/s: the first copy takes a minute, so the destination dies during it.
roam ctl /tmp/s migrate unix:/tmp/m1 --max-bandwidth 1 >/share/mig1.txt 2>&1 &
ctl=$!
wait_line -p $dst /share/dst1.txt "^roam: restoring a VM" 120 || exit 1
kill -9 $dst
try wait $ctl
echo "ctl exit $status" >>/share/mig1.txt
before=$(grep -c "roam-guest: wrote" /share/src.txt)
wait_lines -p $src /share/src.txt "roam-guest: wrote" $((before + 1)) 60 || exit 1
roam ctl /tmp/s status >/share/status1.txt || exit 1

echo "== 2: the guest moves"
mkfifo /tmp/in
roam restore --incoming unix:/tmp/m2 </tmp/in >/share/dst2.txt 2>/share/dst2.err &
dst=$!
exec 3>/tmp/in
wait_for 30 "the destination socket" test -S /tmp/m2 || exit 1
grep -c "roam-guest: wrote" /share/src.txt >/share/before
roam ctl /tmp/s wait exited >/share/exited.txt 2>&1 &
waiter=$!
try roam ctl /tmp/s migrate unix:/tmp/m2 --compress lz >/share/mig2.txt 2>&1
echo "ctl exit $status" >>/share/mig2.txt
try wait $src
echo "source exit $status" >>/share/mig2.txt
try wait $waiter
echo "waiter exit $status" >>/share/exited.txt
wait_line -p $dst /share/dst2.txt "roam-guest: wrote" 120 || { kill $dst; exit 1; }
cat /share/command >&3
try wait $dst
echo "destination exit $status" >>/share/mig2.txt'
	[ "$status" = 0 ] || {
		tail -n 20 "$share"/src.err "$share"/dst*.txt "$share"/mig*.txt 2>/dev/null || true
		fail "the lab commands failed (exit $status)"
	}
	cat "$share/mig1.txt"
	grep -q "^ctl exit 1$" "$share/mig1.txt" || fail "roam ctl migrate did not fail when the destination was killed"
	[ "$(grep -c '^roam: ctl: migrate: ' "$share/mig1.txt")" = 1 ] ||
		fail "roam ctl migrate did not fail with one line"
	grep -q "^roam: migrate: .*the guest runs on here" "$share/src.err" ||
		fail "the source did not say that its guest runs on"
	grep -q "^VM running, 2 vCPUs" "$share/status1.txt" || fail "the source guest is not running after the failure"

	cat "$share/mig2.txt"
	grep -q "^ctl exit 0$" "$share/mig2.txt" || fail "the migration failed"
	grep -q "^source exit 7$" "$share/mig2.txt" || fail "the source did not exit 7 (migrated)"
	# Compressed: the stream is well under the pages it carried (4 KiB each; the guest's kernel and files pack).
	python3 - "$share/mig2.txt" <<'PY' || fail "the compressed migration sent no fewer bytes than its pages"
import re, sys
m = re.search(r"^migrate: the guest moved: .*?([\d.]+) MiB, (\d+) pages", open(sys.argv[1]).read(), re.M)
sys.exit(m is None or float(m.group(1)) * 1048576 > 0.9 * int(m.group(2)) * 4096)
PY
	grep -q "^destination exit 0$" "$share/mig2.txt" || fail "the destination's roam did not exit 0"
	grep -q '^{"event":"exited","status":7}$' "$share/exited.txt" && grep -q "^waiter exit 0$" "$share/exited.txt" || {
		cat "$share/exited.txt"
		fail "roam ctl wait exited did not see the source's exit (status 7)"
	}
	grep -q "^roam: disk /share/disk.img: in use (by the migration's source" "$share/dst2.err" ||
		fail "the destination did not wait for the source's disk lock"
	grep -q "^roam: migration from unix:/tmp/m2: the guest runs here " "$share/dst2.err" ||
		fail "the destination did not report the guest running"
	check_moved_linux "$share/dst2.txt" "$(cat "$share/before")" "$share/src.txt"
	echo "live test (local): passed"
}

# The two-host modes: host a (cortex-a72) profiles itself and merges its profile with b's (cortex-a57) into the
# targets config the guest runs with; a_move moves the guest (pid $src) over the link and records both statuses.
a_profile() {
	cat <<'EOF'
. ./lib.sh
roam cpu-profile --name cortex-a72 -o /share/a72.json >/dev/null || exit 1
wait_for 300 "host b's profile" test -e /share/a57.json || exit 1
roam targets merge /share/a57.json /share/a72.json -o /share/targets.json >/dev/null || exit 1
EOF
}
a_move() {
	cat <<'EOF'
try roam ctl /tmp/s migrate dev:/dev/roam-peer >/share/mig.txt 2>&1
echo "ctl exit $status" >>/share/mig.txt
try wait $src
echo "source exit $status" >>/share/mig.txt
EOF
}
b_profile() {
	cat <<'EOF'
. ./lib.sh
roam cpu-profile --name cortex-a57 -o /share/a57.tmp >/dev/null && mv /share/a57.tmp /share/a57.json || exit 1
EOF
}

# pair_run; pair_check DST-ERR: runs a.sh and b.sh on the two hosts; checks that the guest moved (ctl 0, source 7,
# destination 0 and its report) and that the cortex-a57 destination prefaulted the moved memory.
pair_run() {
	try "$root/tools/lab" pair --share "$share" --timeout "$LAB_TIMEOUT" --cpu cortex-a72 --peer-cpu cortex-a57 -- \
		'sh ./a.sh' 'sh ./b.sh'
}
pair_check() {
	grep -q "^ctl exit 0$" "$share/mig.txt" || fail "the migration failed"
	grep -q "^source exit 7$" "$share/mig.txt" || fail "the source did not exit 7 (migrated)"
	grep -q "^destination exit 0$" "$1" || fail "the destination's roam did not exit 0"
	grep -q "^roam: migration from dev:/dev/roam-peer: the guest runs here " "$1" ||
		fail "the destination did not report the guest running"
	grep -q "this host has Arm erratum 834220" "$1" ||
		fail "the destination (cortex-a57) did not prefault the moved memory"
}

live_pair() {
	lab_init "live test (pair)" 500
	local guest_midr=0x411fd070
	# Host a profiles itself, merges with b's profile, starts the guest once b's destination listens, and moves it.
	{
		a_profile
		cat <<'EOF'
wait_for 120 "host b's destination" test -e /share/b-ready || exit 1
roam run --targets /share/targets.json --api /tmp/s -m 64 -k /opt/roam/guests/count.bin >/share/c0.txt \
	2>/share/c0.err &
src=$!
wait_line -p $src /share/c0.txt "^count: 10 " && wait_api /tmp/s || exit 1
EOF
		a_move
	} >"$share/a.sh"
	{
		b_profile
		cat <<'EOF'
roam restore --incoming dev:/dev/roam-peer >/share/c1.txt 2>/share/c1.err &
dst=$!
sleep 1
touch /share/b-ready
try wait $dst
echo "destination exit $status" >>/share/c1.err
EOF
	} >"$share/b.sh"
	pair_run
	cat "$share/mig.txt" 2>/dev/null || true
	cat "$share/c1.err" 2>/dev/null || true
	[ "$status" = 0 ] || fail "the lab commands failed (exit $status)"
	pair_check "$share/c1.err"
	EXPECT_MIDR=$guest_midr python3 "$root/tests/lab/check_count.py" "$share/c0.txt" "$share/c1.txt"
	echo "live test (pair): passed"
}

live_pair_linux() {
	lab_init "live test (pair, Linux)" 800
	linux_guest_files
	# Host a runs the guest; once b listens, it moves it.
	{
		a_profile
		cat <<'EOF'
roam run --targets /share/targets.json --api /tmp/s -c 2 -m 256 -k /opt/roam/kernel/Image \
	-i /opt/roam/guests/linux-initrd.cpio.gz --disk /share/disk.img -p "console=ttyS0 quiet roam.run=migrate" \
	>/share/src.txt 2>/share/src.err &
src=$!
wait_lines -p $src /share/src.txt "roam-guest: wrote" 2 600 && wait_api /tmp/s || exit 1
wait_for 120 "host b's destination" test -e /share/b-ready || exit 1
grep -c "roam-guest: wrote" /share/src.txt >/share/before
EOF
		a_move
	} >"$share/a.sh"
	# Host b (cortex-a57) waits for the guest; once it writes there, the checking command goes to its console.
	{
		b_profile
		cat <<'EOF'
mkfifo /tmp/in
roam restore --incoming dev:/dev/roam-peer </tmp/in >/share/dst.txt 2>/share/dst.err &
dst=$!
exec 3>/tmp/in
sleep 1
touch /share/b-ready
wait_line -p $dst /share/dst.txt "roam-guest: wrote" 900 || { kill $dst; exit 1; }
cat /share/command >&3
try wait $dst
echo "destination exit $status" >>/share/dst.err
EOF
	} >"$share/b.sh"
	pair_run
	cat "$share/mig.txt" 2>/dev/null || true
	grep -h "^roam: migrat" "$share/src.err" "$share/dst.err" 2>/dev/null || true
	[ "$status" = 0 ] || {
		tail -n 20 "$share"/src.err "$share"/dst.err "$share"/dst.txt 2>/dev/null || true
		fail "the lab commands failed (exit $status)"
	}
	pair_check "$share/dst.err"
	check_moved_linux "$share/dst.txt" "$(cat "$share/before")" "$share/src.txt"
	echo "live test (pair, Linux): passed"
}

case "$mode" in
local) live_local ;;
pair) live_pair ;;
pair-linux) live_pair_linux ;;
*)
	echo "usage: live.sh local|pair|pair-linux" >&2
	exit 2
	;;
esac
