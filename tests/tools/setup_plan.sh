#!/usr/bin/env bash
# tools/setup's host-package logic, driven with a fake dpkg-query and apt-get on PATH and a fake /etc
# (ROAM_SETUP_ETC): nothing installed, everything installed, only QEMU 7.2 installed, a removed package, several
# apt sources naming the codename, and none. `tools/setup --plan` must say what it would install, change nothing
# and never die in the ERR trap (on a fresh machine it once died before installing anything, in 0.2 s).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "setup_plan: $*" >&2; failed=1; }

mkdir -p "$tmp/bin" "$tmp/etc/apt/sources.list.d"
# dpkg-query -W -f=FORMAT PKG: answers from $FAKE_DB ("PKG STATUS VERSION" lines); like the real one, it exits 1
# for a package it has never heard of. Every query is logged.
cat >"$tmp/bin/dpkg-query" <<'SH'
#!/bin/bash
pkg=${@: -1}
echo "$pkg" >>"$FAKE_LOG.queries"
line=$(awk -v p="$pkg" '$1 == p || $1 == "*" { print; exit }' "$FAKE_DB")
if [[ -z $line ]]; then echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; fi
read -r _ status version <<<"$line"
printf '%s %s' "$status" "$version"
SH
# apt-get must never run in --plan mode.
printf '#!/bin/sh\necho "apt-get $*" >>"$FAKE_LOG.apt"\n' >"$tmp/bin/apt-get"
chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/apt-get"
printf 'ID=debian\nVERSION_CODENAME=bookworm\n' >"$tmp/etc/os-release"

# plan NAME: run setup --plan with the current fake state; output in $tmp/NAME.out, status in $tmp/NAME.rc.
plan() {
  rm -f "$tmp/log".*
  FAKE_DB=$tmp/db FAKE_LOG=$tmp/log ROAM_SETUP_ETC=$tmp/etc ROAM_CACHE=$tmp/cache PATH=$tmp/bin:$PATH \
    "$root/tools/setup" --plan >"$tmp/$1.out" 2>"$tmp/$1.err"
  echo $? >"$tmp/$1.rc"
  [[ ! -s $tmp/log.apt ]] || fail "$1: --plan ran apt-get: $(cat "$tmp/log.apt")"
}
expect_rc() { [[ $(cat "$tmp/$1.rc") == "$2" ]] || fail "$1: exit $(cat "$tmp/$1.rc"), expected $2 ($(cat "$tmp/$1.err"))"; }
expect_line() { grep -qxF -- "$2" "$tmp/$1.out" || fail "$1: no line '$2' in: $(cat "$tmp/$1.out")"; }
expect_no() { ! grep -q -- "$2" "$tmp/$1.out" "$tmp/$1.err" || fail "$1: unexpected '$2' in: $(cat "$tmp/$1.out" "$tmp/$1.err")"; }
# words_of NAME PREFIX: the words after PREFIX on NAME's plan line.
words_of() { grep -v "^plan: install from " "$tmp/$1.out" | sed -n "s/^$2 //p" | tr ' ' '\n' | sort; }

# Several sources name bookworm: the first deb822 one wins (no "| head" that could die of SIGPIPE).
printf 'Types: deb\nURIs: http://first.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n' \
  >"$tmp/etc/apt/sources.list.d/a.sources"
printf 'Types: deb\nURIs: http://second.example/debian\nSuites: bookworm\nComponents: main\n' \
  >"$tmp/etc/apt/sources.list.d/b.sources"
for i in $(seq 200); do echo "deb http://list$i.example/debian bookworm main"; done >"$tmp/etc/apt/sources.list"

# 1. Nothing installed, no backports source.
: >"$tmp/db"
plan nothing
expect_rc nothing 0
expect_no nothing 'error'
expect_line nothing "plan: add $tmp/etc/apt/sources.list.d/roam-backports.sources (http://first.example/debian bookworm-backports)"
expect_line nothing "plan: install from bookworm-backports qemu-system-arm qemu-user"
asked=$(grep -v "^qemu-" "$tmp/log.queries" | sort -u || true)
[[ -n $asked ]] || fail "nothing: dpkg-query was never asked"
[[ $(words_of nothing 'plan: install') == "$asked" ]] || fail "nothing: the install line is not every package asked about"
for p in cmake gcc-aarch64-linux-gnu clang-19 lld-19 libclang-rt-19-dev cpio xz-utils python3 e2fsprogs; do
  words_of nothing 'plan: install' | grep -qx "$p" || fail "nothing: $p is not installed on a fresh machine"
done
[[ ! -e $tmp/etc/apt/sources.list.d/roam-backports.sources ]] || fail "nothing: --plan wrote the backports source"

# 2. Everything installed (QEMU 10 from backports), backports source present.
printf 'Types: deb\nURIs: http://first.example/debian\nSuites: bookworm-backports\nComponents: main\n' \
  >"$tmp/etc/apt/sources.list.d/c.sources"
echo '* ii 1:10.0.2+ds-2~bpo12+1' >"$tmp/db"
plan everything
expect_rc everything 0
expect_line everything "plan: nothing to install"
expect_no everything 'plan: add'

# 3. Only QEMU 7.2 installed: every host package, and QEMU again from backports.
printf 'qemu-system-arm ii 1:7.2+dfsg-7+deb12u7\nqemu-user ii 1:7.2+dfsg-7+deb12u7\n' >"$tmp/db"
plan qemu72
expect_rc qemu72 0
expect_line qemu72 "plan: install from bookworm-backports qemu-system-arm qemu-user"
[[ $(words_of qemu72 'plan: install') == "$asked" ]] || fail "qemu72: the install line is not every host package"

# 4. A removed package ("rc": its configuration is left) counts as missing; QEMU 10 is kept.
printf 'cmake rc 3.25.1-1\nqemu-system-arm ii 1:10.0.2\nqemu-user ii 1:10.0.2\n* ii 1.0\n' >"$tmp/db"
plan removed
expect_rc removed 0
expect_line removed "plan: install cmake"

# 5. No source names the codename: one clear line, exit 1.
rm -f "$tmp"/etc/apt/sources.list.d/* "$tmp/etc/apt/sources.list"
plan nosource
expect_rc nosource 1
grep -q "setup: error: no apt source for 'bookworm'" "$tmp/nosource.err" || fail "nosource: wrong message: $(cat "$tmp/nosource.err")"
[[ $(wc -l <"$tmp/nosource.err") == 1 ]] || fail "nosource: more than one error line"

((failed == 0)) && echo "setup_plan: all cases pass"
exit $failed
