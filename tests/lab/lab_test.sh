#!/usr/bin/env bash
# Runs one lab test: a command inside the emulated arm64 host (tools/lab run), then checks its exit status and that
# its output matches every --expect regex (extended grep) and no --reject regex.
# usage: lab_test.sh [--status N] [--expect RE]... [--reject RE]... -- LAB_RUN_ARGS...
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lab/lib.sh"
want_status=0
expects=()
rejects=()
while [ $# -gt 0 ]; do
	case "$1" in
	--status) want_status=$2; shift 2 ;;
	--expect) expects+=("$2"); shift 2 ;;
	--reject) rejects+=("$2"); shift 2 ;;
	--) shift; break ;;
	*) echo "lab_test: unknown option $1" >&2; exit 2 ;;
	esac
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
try_tee "$out" "$root/tools/lab" run "$@"
fail=0
if [ "$status" != "$want_status" ]; then
	echo "lab_test: exit status $status, expected $want_status" >&2
	fail=1
fi
for re in "${expects[@]}"; do
	if ! grep -Eq -- "$re" "$out"; then
		echo "lab_test: output does not match: $re" >&2
		fail=1
	fi
done
for re in "${rejects[@]}"; do
	if grep -Eq -- "$re" "$out"; then
		echo "lab_test: output matches what it must not: $re" >&2
		fail=1
	fi
done
[ $fail = 0 ] && echo "lab_test: passed"
exit $fail
