#!/usr/bin/env bash
# The lab tests' helpers (tests/lab/lib.sh) in every shell that runs them: bash (the scripts on the build machine,
# with set -e), dash (a strict POSIX sh) and, when the cache has it, the emulated host's busybox sh (under
# qemu-aarch64). Each check runs in seconds: try and try_tee keep a status without ending a set -e script; the
# waits succeed when their line, count or socket answer comes, and otherwise fail in time, naming what they waited
# for (and with -p, as soon as the process they watch has exited).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# A fake roam whose `ctl SOCK status` succeeds once the file SOCK exists (a socket that answers).
mkdir -p "$tmp/bin"
printf '#!/bin/sh\n[ "$1" = ctl ] && [ "$3" = status ] && [ -e "$2" ]\n' >"$tmp/bin/roam"
chmod +x "$tmp/bin/roam"

# The checks, in POSIX sh; they print "ok: ..." or "FAIL: ..." lines.
read -r -d '' checks <<'EOF' || true
set -e
. "$ROOT/tests/lab/lib.sh"
TEST=lab_lib
cd "$TMP"
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; }
not() { ! "$@"; }
check() { # WHAT CMD...: CMD succeeds
	what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

try false
check "try: the status of a failing command, and the script goes on under set -e" [ "$status" = 1 ]
try sh -c 'exit 7'
check "try: any status" [ "$status" = 7 ]
try true
check "try: 0" [ "$status" = 0 ]

try_tee tee.out sh -c 'echo to-stdout; echo to-stderr >&2; exit 3' >shown.out
check "try_tee: the status" [ "$status" = 3 ]
check "try_tee: both streams in the file" grep -q to-stderr tee.out
check "try_tee: and on stdout" grep -q to-stdout shown.out
check "try_tee: no status file left" [ ! -e tee.out.status ]

(sleep 0.3; echo "roam-guest: ready") >late.log &
check "wait_line: a line that comes later" wait_line late.log 'guest: ready' 10
: >never.log
start=$(date +%s)
try wait_line never.log 'never there' 1
check "wait_line: fails when the line does not come" [ "$status" = 1 ]
check "wait_line: in time" [ $(($(date +%s) - start)) -le 3 ]
wait_line never.log 'never there' 1 2>err.out || true
check "wait_line: says what it waited for" grep -q "^lab_lib: timed out after 1 s waiting for 1 line(s) matching 'never there' in never.log" err.out
wait_line missing.log 'x' 1 2>err.out || true
check "wait_line: a file that does not exist is no line" grep -q "timed out after 1 s" err.out

sleep 0.2 &
pid=$!
start=$(date +%s)
wait_line -p "$pid" never.log 'never there' 30 2>err.out || true
check "wait_line -p: gives up once the process has exited" grep -q "^lab_lib: process $pid exited while waiting for 1 line(s) matching 'never there' in never.log" err.out
check "wait_line -p: at once" [ $(($(date +%s) - start)) -le 3 ]
sleep 30 &
pid=$!
(sleep 0.3; echo found) >>never.log &
check "wait_line -p: a running process does not stop the wait" wait_line -p "$pid" never.log found 10
kill "$pid"

(for i in 1 2 3; do echo "tick $i end"; sleep 0.1; done) >ticks.log &
check "wait_lines: a count of lines" wait_lines ticks.log ' end$' 3 10
try wait_lines ticks.log ' end$' 4 1
check "wait_lines: not more than there are" [ "$status" = 1 ]
check "count_at_least" count_at_least ticks.log 'tick' 3
check "count_at_least: false past the count" not count_at_least ticks.log tick 4

(sleep 0.3; : >api.sock) &
check "wait_api: once roam answers" wait_api api.sock 10
try wait_api none.sock 1
check "wait_api: fails when nothing answers" [ "$status" = 1 ]
wait_api none.sock 1 2>err.out || true
check "wait_api: says so" grep -q "^lab_lib: timed out after 1 s waiting for roam to answer on none.sock" err.out

sleep 0.2 &
pid=$!
check "exited: not while it runs" not exited "$pid"
check "wait_for exited: once it is gone" wait_for 10 "the process to exit" exited "$pid"
echo done
EOF

shells=("bash" "dash")
busybox=${ROAM_CACHE:-$HOME/.cache/roam}/busybox/busybox
if [[ -x $busybox ]] && command -v qemu-aarch64 >/dev/null; then
	shells+=("qemu-aarch64 $busybox sh")
fi
for sh in "${shells[@]}"; do
	rm -rf "$tmp/run" && mkdir "$tmp/run"
	# shellcheck disable=SC2086 # $sh is a command with arguments
	out=$(PATH="$tmp/bin:$PATH" ROOT=$root TMP=$tmp/run timeout 120 $sh -c "$checks" 2>&1)
	echo "== $sh"
	echo "$out" | sed 's/^/  /'
	if ! grep -qx 'done' <<<"$out" || grep -q '^FAIL' <<<"$out"; then
		echo "lab_lib: failed under $sh" >&2
		failed=1
	fi
done
[[ $failed = 0 ]] && echo "lab_lib: passed"
exit $failed
