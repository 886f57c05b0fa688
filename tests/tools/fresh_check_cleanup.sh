#!/usr/bin/env bash
# tools/fresh-check cleans up on every exit path without ever reaching the host: a run interrupted with SIGINT,
# one that times out, one whose step fails and one that passes each leave no root, no mount and no process
# behind. A live bind mount of a host directory inside the root (the way an rm -rf once wiped a machine's /dev)
# is unmounted first, and the host directory keeps its file. Uses a tiny root (bash and a few tools with their
# libraries) instead of debootstrap, through --base-tar and --run. Needs root and unshare (exit 77 otherwise).
set -uo pipefail
set -m # job control: a background job keeps SIGINT, as a fresh-check started from a terminal does
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "fresh_check_cleanup: needs root (chroot and mounts)"; exit 77; }
unshare --mount --propagation private true 2>/dev/null || { echo "fresh_check_cleanup: no private mount namespaces here"; exit 77; }
tmp=$(mktemp -d /var/tmp/roam-fresh-test.XXXXXX)
trap 'umount -R "$tmp"/*/root/mnt 2>/dev/null; rm -rf --one-file-system "$tmp"' EXIT
failed=0
fail() { echo "fresh_check_cleanup: $*" >&2; failed=1; }

# A minimal root: bash, env, sleep, touch, ls, test and their shared libraries.
mini=$tmp/mini
mkdir -p "$mini"/{proc,sys,dev,tmp,mnt,usr/bin,bin}
for b in bash env sleep touch ls; do
  p=$(command -v "$b")
  mkdir -p "$mini$(dirname "$p")"
  cp -L "$p" "$mini$p"
  for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
    mkdir -p "$mini$(dirname "$lib")"
    cp -L "$lib" "$mini$lib"
  done
done
[[ -e $mini/bin/bash ]] || ln -s /usr/bin/bash "$mini/bin/bash"
tar -c -C "$mini" -f "$tmp/mini.tar" .
parent=$tmp/roots
mkdir -p "$parent"
devs_before=$(ls /dev | wc -l)

# check NAME: nothing of the run is left.
check_clean() {
  local n=$1
  compgen -G "$parent/roam-fresh.*" >/dev/null && fail "$n: a root is left: $(ls "$parent")"
  [[ -z $(findmnt -rn -o TARGET | grep -F "$parent" || true) ]] || fail "$n: still mounted below $parent"
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null || true)
    [[ $r != "$parent"/* ]] || fail "$n: process ${p#/proc/} still runs in the root ($r)"
  done
  [[ -c /dev/null && $(ls /dev | wc -l) -ge $devs_before ]] || fail "$n: the host's /dev was touched"
}
fresh() { "$root/tools/fresh-check" --dir "$parent" --base-tar "$tmp/mini.tar" --keep-logs "$tmp/logs" "$@"; }

# 1. SIGINT while a step runs, with a host directory bind-mounted into the root from outside.
mkdir -p "$tmp/canary"
echo keep >"$tmp/canary/file"
"$root/tools/fresh-check" --dir "$parent" --base-tar "$tmp/mini.tar" --keep-logs "$tmp/logs" \
  --run 'test -r /proc/self/mounts && test -c /dev/null && touch /ready && exec sleep 300' >"$tmp/int.out" 2>&1 &
pid=$!
ready=
for _ in $(seq 100); do
  ready=$(compgen -G "$parent/roam-fresh.*/root/ready" || true)
  [[ -z $ready ]] || break
  sleep 0.1
done
if [[ -z $ready ]]; then
  fail "interrupt: the step never started: $(cat "$tmp/int.out")"
  kill -KILL "$pid" 2>/dev/null
else
  mount --bind "$tmp/canary" "$(dirname "$ready")/mnt"
  kill -INT "$pid"
fi
wait "$pid"
rc=$?
[[ $rc == 130 ]] || fail "interrupt: exit $rc, expected 130: $(cat "$tmp/int.out")"
grep -q 'fresh-check: interrupted' "$tmp/int.out" || fail "interrupt: no 'interrupted' line"
[[ $(cat "$tmp/canary/file" 2>/dev/null) == keep ]] || fail "interrupt: the bind-mounted host directory lost its file"
check_clean interrupt

# 2. A time limit.
fresh --timeout 3 --run 'exec sleep 300' >"$tmp/timeout.out" 2>&1
rc=$?
[[ $rc == 124 ]] || fail "timeout: exit $rc, expected 124: $(cat "$tmp/timeout.out")"
grep -q 'timed out after 3 s' "$tmp/timeout.out" || fail "timeout: no 'timed out' line"
check_clean timeout

# 3. A failing step: exit 1, its last lines shown, its log kept.
fresh --run 'echo first line; echo the last words; exit 7' >"$tmp/fail.out" 2>&1
rc=$?
[[ $rc == 1 ]] || fail "failure: exit $rc, expected 1"
grep -q 'FAILED (exit 7)' "$tmp/fail.out" || fail "failure: no FAILED line: $(cat "$tmp/fail.out")"
grep -q 'the last words' "$tmp/fail.out" || fail "failure: the step's last lines are not shown"
grep -q 'the last words' "$tmp/logs/run.log" || fail "failure: the step's log was not kept"
check_clean failure

# 4. Success.
fresh --run 'true' >"$tmp/ok.out" 2>&1
rc=$?
[[ $rc == 0 ]] || fail "success: exit $rc: $(cat "$tmp/ok.out")"
grep -q 'all steps passed' "$tmp/ok.out" || fail "success: no 'all steps passed' line"
check_clean success

((failed == 0)) && echo "fresh_check_cleanup: interrupt, timeout, failure and success all clean"
exit $failed
