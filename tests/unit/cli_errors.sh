#!/usr/bin/env bash
# The roam binary's answers to bad command lines and bad files: one line naming the thing and the reason, the
# documented exit status, and never a crash. Needs no KVM (runs under qemu-aarch64 on the build machine).
# usage: cli_errors.sh [EMULATOR] ROAM
set -uo pipefail
roam=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

# expect STATUS REGEX ARGS...: runs roam ARGS, checks the exit status and that stderr matches REGEX on one line.
expect() {
	local want=$1 re=$2
	shift 2
	"${roam[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" != "$want" ] || { [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/err"; }; then
		echo "FAIL: roam $* -> status $got (want $want), stderr:" >&2
		cat "$tmp/err" >&2
		fails=$((fails + 1))
	else
		passes=$((passes + 1))
	fi
}

printf 'not a kernel at all, just text\n%.0s' {1..10} >"$tmp/text"
printf '\037\213\010\000compressed' >"$tmp/Image.gz"
mkdir "$tmp/dir"

expect 2 '^roam: run: no kernel given; use -k/--kernel IMAGE$' run
expect 2 "^roam: unknown command 'frobnicate'; see roam --help$" frobnicate
expect 2 "^roam: run: --mem: 'lots' is not a size in MiB" run -k "$tmp/text" -m lots
expect 2 "^roam: run: --mem: '99999999' is not a size in MiB from 8 to 1047552$" run -k "$tmp/text" -m 99999999
expect 2 "^roam: run: --mem 1000000 MiB is more than this host's [0-9]+ MiB of RAM$" run -k "$tmp/text" -m 1000000
expect 2 "^roam: run: --cpus: '0' is not a vCPU count from 1 to 123$" run -k "$tmp/text" -c 0
expect 1 "^roam: kernel $tmp/missing: No such file or directory$" run -k "$tmp/missing"
expect 1 "^roam: kernel $tmp/dir: not a regular file$" run -k "$tmp/dir"
expect 1 "^roam: kernel $tmp/text: not an arm64 Image: no \"ARM\\\\x64\" magic at offset 56$" run -k "$tmp/text"
expect 1 "^roam: kernel $tmp/Image.gz: not an arm64 Image: it is gzip-compressed" run -k "$tmp/Image.gz"
expect 2 '^roam: run: --dump-dtb needs a file name' run -k "$tmp/text" --dump-dtb ''
expect 2 '^roam: run: --paused needs --api SOCKET: without the control API nothing could resume the vCPUs$' \
	run -k "$tmp/text" --paused
expect 2 '^roam: ctl: no SOCKET and COMMAND given; see roam ctl --help$' ctl
expect 2 "^roam: ctl: unknown command 'frob' \\(commands: status, pause, resume, quit, snapshot, migrate, events, wait, raw\\); see roam ctl --help$" \
	ctl "$tmp/api.sock" frob
expect 2 "^roam: ctl: pause: 'one' is not a vCPU number; see roam ctl --help$" ctl "$tmp/api.sock" pause one
expect 1 "^roam: ctl: cannot connect to $tmp/api.sock: No such file or directory \\(is roam run --api running" \
	ctl "$tmp/api.sock" status
expect 0 '' ctl --help
grep -q -- 'raw JSON' "$tmp/out" || { echo "FAIL: ctl --help lacks raw" >&2; fails=$((fails + 1)); }
expect 1 "^roam: ctl: $tmp/text is not a socket but a regular file; give the path of roam run --api SOCK$" \
	ctl "$tmp/text" status
# roam help COMMAND is COMMAND --help; targets merge and check take --help too.
expect 0 '' help run
grep -q -- '^usage: roam run ' "$tmp/out" || { echo "FAIL: roam help run does not print run's help" >&2; fails=$((fails + 1)); }
expect 2 "^roam: help: unknown command 'frob'; see roam --help$" help frob
expect 0 '' targets merge --help
grep -q -- '^usage: roam targets merge ' "$tmp/out" || { echo "FAIL: targets merge --help" >&2; fails=$((fails + 1)); }
expect 0 '' targets check --help
expect 2 '^roam: targets merge: no -o FILE given \(- for standard output\)$' targets merge "$tmp/text"
expect 2 '^roam: targets merge: no PROFILE given$' targets merge -o "$tmp/t.json"
expect 0 '' run --help
grep -q -- '--kernel IMAGE' "$tmp/out" || { echo "FAIL: run --help lacks --kernel" >&2; fails=$((fails + 1)); }
expect 0 '' --help
grep -q 'run ' "$tmp/out" || { echo "FAIL: --help lacks the run command" >&2; fails=$((fails + 1)); }

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
