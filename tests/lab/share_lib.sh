# Sourced by the lab tests that move files between lab hosts (snapshot.sh, migrate.sh): a --share directory removed
# on exit, and the helpers every such test uses. Set TEST (the name in messages) and LAB_TIMEOUT first.
share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
# lab ARGS...: tools/lab run with the share directory and the test's timeout.
lab() { "$root/tools/lab" run --share "$share" --timeout "$LAB_TIMEOUT" "$@"; }
fail() {
	echo "$TEST test: $*" >&2
	exit 1
}
step() { echo "== $TEST test: $*"; }
