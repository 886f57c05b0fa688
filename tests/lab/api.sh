#!/usr/bin/env bash
# The control API on real KVM, in one emulated arm64 host: `roam run --api` with the spin guest (2 vCPUs counting
# forever, vCPU 0 printing every vCPU's count now and then) driven by `roam ctl`: the socket's mode and its refusal
# when in use, status, pausing one vCPU (its count stands still, vCPU 0's goes on) and the whole VM (no output),
# resume, bad requests and a 70000-byte one (an error each; the VM runs on and the connection stays usable), two
# clients at once, error codes and a failed snapshot (the client gets the line roam logged; the VM runs on), quit
# (roam exits 5 and removes its socket), a stale socket after kill -9, and --paused (no guest progress until resume).
# usage: api.sh [TOOLS_LAB_RUN_OPTIONS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lab/lib.sh"
lab_init lab_api 500
out=$share/out.txt

# Runs in L1 under busybox sh. Counts failures and goes on, so one run reports every problem.
read -r -d '' inner <<'EOF' || true
. ./lib.sh
TEST=api-test
S=/tmp/api.sock
G=/opt/roam/guests/spin.bin
fails=0
fail() { echo "api-test: FAIL: $*"; fails=$((fails + 1)); }
step() { echo "== api-test: $*"; }
ctl() { roam ctl "$S" "$@"; }
# expect STATUS REGEX CMD...: runs CMD; checks its exit status, and that its output (stdout and stderr) matches REGEX.
expect() {
	want=$1 re=$2
	shift 2
	"$@" >/tmp/out 2>&1
	got=$?
	sed 's/^/    /' /tmp/out
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want"
	[ -z "$re" ] || grep -Eq -- "$re" /tmp/out || fail "$*: the output does not match $re"
}
ticks() { grep -c ' end$' "$1"; }
# wait_ticks FILE N: waits (60 s at most) for N more complete tick lines of the guest on FILE.
wait_ticks() {
	wait_lines "$1" ' end$' $(($(ticks "$1") + $2)) 60 || fail "the guest made no progress on $1 in 60 s"
}
# count FILE CPU: the count of vCPU CPU in the last complete tick line.
count() { grep ' end$' "$1" | tail -n 1 | sed "s/.* cpu$2 \([0-9]*\).*/\1/"; }
# started PID: waits until the roam started as PID answers on $S.
started() { wait_api -p "$1" $S || fail "roam does not answer on $S: $(cat /tmp/roam.err)"; }

step "--paused needs --api"
expect 2 '^roam: run: --paused needs --api SOCKET' roam run --paused -k $G

step "roam run --api $S -c 2"
roam run --api $S -c 2 -k $G >/tmp/console 2>/tmp/roam.err &
pid=$!
started $pid
[ "$(stat -c %a $S)" = 600 ] || fail "the socket has mode $(stat -c %a $S), expected 600"
expect 1 "^roam: api socket $S is in use" roam run --api $S -k $G
[ -S $S ] || fail "the refused roam removed the socket"
wait_ticks /tmp/console 1
expect 0 '^VM running, 2 vCPUs$' ctl status
grep -Eq '^ +0  running' /tmp/out && grep -Eq '^ +1  running' /tmp/out || fail "status does not show 2 vCPUs running"
expect 0 '^\{"ok":true,"state":"running","vcpus":\[\{"id":0,"state":"running","exits":[0-9]+,' ctl status --json

step "pause vCPU 1: its count stands still, vCPU 0 runs on"
expect 0 '^vCPU 1 paused$' ctl pause 1
expect 0 '^VM mixed, 2 vCPUs$' ctl status
grep -Eq '^ +0  running' /tmp/out && grep -Eq '^ +1  paused' /tmp/out || fail "status does not show vCPU 0 running, 1 paused"
wait_ticks /tmp/console 1
c0=$(count /tmp/console 0) c1=$(count /tmp/console 1)
wait_ticks /tmp/console 2
[ "$(count /tmp/console 1)" = "$c1" ] || fail "paused vCPU 1 counted on: $c1 -> $(count /tmp/console 1)"
[ "$(count /tmp/console 0)" != "$c0" ] || fail "vCPU 0 stopped counting while vCPU 1 was paused"
echo "    vCPU 1 stood at $c1 while vCPU 0 went from $c0 to $(count /tmp/console 0)"

step "resume vCPU 1"
expect 0 '^vCPU 1 resumed$' ctl resume 1
expect 0 '^VM running, 2 vCPUs$' ctl status
wait_ticks /tmp/console 2
[ "$(count /tmp/console 1)" != "$c1" ] || fail "vCPU 1 does not count after resume"

step "pause the VM: no output until resume"
expect 0 '^VM paused \(every vCPU\)$' ctl pause
expect 0 '^VM paused, 2 vCPUs$' ctl status
size=$(wc -c </tmp/console)
sleep 3
[ "$(wc -c </tmp/console)" = "$size" ] || fail "the guest printed while the VM was paused"
expect 0 '^VM resumed \(every vCPU\)$' ctl resume
wait_ticks /tmp/console 1

step "bad requests: an error each, the VM runs on"
expect 1 '^roam: ctl: malformed JSON: ' ctl raw 'not json'
expect 1 '^roam: ctl: a request must be a JSON object' ctl raw '[1]'
expect 1 '^roam: ctl: unknown command "reboot" \(commands: pause, resume, status, quit, snapshot, migrate\)$' ctl raw '{"cmd":"reboot"}'
expect 1 '^roam: ctl: pause: no vCPU 7: this VM has vCPUs 0 to 1$' ctl pause 7
expect 1 '^roam: ctl: pause: "vcpu" must be a vCPU number \(an integer\), not a string$' \
	ctl raw '{"cmd":"pause","vcpu":"1"}'
expect 1 '^roam: ctl: status: unknown argument "vcpu" \(it takes none\)$' ctl raw '{"cmd":"status","vcpu":0}'
expect 2 "^roam: ctl: pause: 'x' is not a vCPU number" ctl pause x
expect 0 '^VM running, 2 vCPUs$' ctl status
pad=$(head -c 70000 /dev/zero | tr '\0' ' ')
expect 1 '^roam: ctl: request too large \(max 65536 bytes\)$' ctl raw "{\"cmd\":\"status\",\"pad\":\"$pad\"}"
# One connection: a 140000-byte line, a malformed one and a good one get three replies, in order.
{ printf '%s\n' "$pad$pad"; printf 'not json\n{"cmd":"status"}\n'; } >/tmp/batch
roam ctl $S raw - </tmp/batch >/tmp/replies 2>/dev/null
sed 's/^/    /' /tmp/replies
[ "$(wc -l </tmp/replies)" = 3 ] || fail "3 requests on one connection got $(wc -l </tmp/replies) replies"
sed -n 1p /tmp/replies | grep -q '"request too large (max 65536 bytes)"' || fail "reply 1 is not the size error"
sed -n 2p /tmp/replies | grep -q '"ok":false,"error":"malformed JSON' || fail "reply 2 is not the JSON error"
sed -n 3p /tmp/replies | grep -q '"ok":true,"state":"running"' || fail "reply 3 is not a status"
wait_ticks /tmp/console 1

step "two clients at once"
# The first client connects, then waits for its request on stdin (a FIFO this shell holds open).
mkfifo /tmp/idle.in
roam ctl $S raw - </tmp/idle.in >/tmp/idle.out 2>&1 &
idle=$!
exec 3>/tmp/idle.in
# Connected: the listening socket and the one roam accepted for it carry the socket's path.
wait_for -p $idle 30 "the first client's connection" count_at_least /proc/net/unix " $S\$" 2 ||
	fail "the first client did not connect"
expect 0 '^VM running, 2 vCPUs$' ctl status
echo '{"cmd":"status"}' >&3
exec 3>&-
wait $idle || fail "the client that waited failed: $(cat /tmp/idle.out)"
grep -q '"ok":true,"state":"running"' /tmp/idle.out || fail "the client that waited got no status: $(cat /tmp/idle.out)"

step "error codes; a failed snapshot: the client gets the line roam logged, and the VM runs on"
expect 1 '"code":"no-such-vcpu"\}$' ctl pause 7 --json
expect 1 '"code":"bad-request"\}$' ctl raw 'not json'
expect 1 '"code":"unknown-command"\}$' ctl raw '{"cmd":"reboot"}'
expect 1 '"code":"bad-argument"\}$' ctl raw '{"cmd":"snapshot","path":"relative.snap"}'
why='/nonexistent/vm.snap: cannot create a temporary file next to it: No such file or directory'
expect 1 "^roam: ctl: snapshot: $why\$" ctl snapshot /nonexistent/vm.snap
grep -q "^roam: snapshot: $why\$" /tmp/roam.err || fail "roam did not log the failed snapshot as its client got it"
expect 1 '"code":"snapshot-failed"\}$' ctl snapshot /nonexistent/vm.snap --json
wait_ticks /tmp/console 1
expect 0 '^VM running, 2 vCPUs$' ctl status

step "quit: roam exits 5 and removes its socket"
expect 0 '^the VM is stopping$' ctl quit
wait $pid
st=$?
[ $st = 5 ] || fail "roam exited $st after quit, expected 5"
grep -q '^roam: stopping the VM (API quit)$' /tmp/roam.err || fail "roam did not say why it stopped: $(cat /tmp/roam.err)"
[ ! -e $S ] || fail "roam left its socket behind"
expect 1 "^roam: ctl: cannot connect to $S: No such file or directory" ctl status

step "a stale socket (roam killed with SIGKILL) is replaced"
roam run --api $S -k $G >/dev/null 2>/tmp/roam.err &
pid=$!
started $pid
kill -KILL $pid
wait $pid
[ -S $S ] || fail "no stale socket left to test with"
expect 1 "^roam: ctl: cannot connect to $S: Connection refused" ctl status

step "--paused: every vCPU paused, no progress until resume"
roam run --api $S --paused -c 2 -k $G >/tmp/console2 2>/tmp/roam.err &
pid=$!
started $pid
grep -q "^roam: api socket $S: removed a stale socket" /tmp/roam.err || fail "no word of the stale socket: $(cat /tmp/roam.err)"
expect 0 '^VM paused, 2 vCPUs$' ctl status
sleep 2
expect 0 '"vcpus":\[\{"id":0,"state":"paused","exits":0,.*\{"id":1,"state":"paused","exits":0,' ctl status --json
[ ! -s /tmp/console2 ] || fail "the guest printed before resume: $(cat /tmp/console2)"
expect 0 '^VM resumed \(every vCPU\)$' ctl resume
expect 0 '^VM running, 2 vCPUs$' ctl status
wait_ticks /tmp/console2 1
grep -q '^spin: 2 cpus spinning$' /tmp/console2 || fail "the guest did not start both vCPUs"
expect 0 '^the VM is stopping$' ctl quit
wait $pid
st=$?
[ $st = 5 ] || fail "roam --paused exited $st after quit, expected 5"

if [ $fails = 0 ]; then
	echo "api-test: passed"
else
	echo "api-test: $fails checks failed"
	exit 1
fi
EOF

try_tee "$out" lab "$@" -- sh -c "$inner"
if [ "$status" != 0 ] || ! grep -q '^api-test: passed' "$out"; then
	echo "lab_api: failed (tools/lab exit status $status)" >&2
	exit 1
fi
echo "lab_api: passed"
