# shellcheck shell=sh disable=SC2034,SC2154 # $status is for the caller; $root comes from it
# Helpers of the lab tests, in POSIX sh: the scripts on the build machine (bash) source it, and lab_init copies it
# into the --share directory for the commands that run in the emulated host (busybox sh), which source it from
# there (they start in /share):
#     lab -- sh -c '. ./lib.sh; roam run --api /tmp/s ... & wait_api /tmp/s || exit 1; roam ctl /tmp/s ...'
# Sourcing it only defines functions. Their messages start with "$TEST: " (set TEST, or lab_init does).

# ---- anywhere: on the build machine and in the emulated host ----

# try CMD...: runs CMD and sets $status to its exit status. Returns 0, so that `set -e` does not end the script.
try() {
	status=0
	"$@" || status=$?
}

# try_tee FILE CMD...: like try, and CMD's output (stdout and stderr) goes to stdout and into FILE.
try_tee() {
	_try_file=$1
	shift
	{
		_try_status=0
		"$@" 2>&1 || _try_status=$?
		echo "$_try_status" >"$_try_file.status"
	} | tee "$_try_file"
	status=$(cat "$_try_file.status")
	rm -f "$_try_file.status"
}

# wait_for [-p PID] SECONDS WHAT CMD...: runs CMD (quietly) every 0.1 s until it succeeds, and returns 0. Returns 1
# after "$TEST: timed out after SECONDS s waiting for WHAT", or with -p as soon as process PID has exited ("$TEST:
# process PID exited while waiting for WHAT").
wait_for() {
	_wait_pid=
	if [ "$1" = -p ]; then
		_wait_pid=$2
		shift 2
	fi
	_wait_seconds=$1 _wait_what=$2
	shift 2
	_wait_end=$(($(date +%s) + _wait_seconds))
	until "$@" >/dev/null 2>&1; do
		if [ -n "$_wait_pid" ] && ! kill -0 "$_wait_pid" 2>/dev/null; then
			echo "${TEST:-lab}: process $_wait_pid exited while waiting for $_wait_what" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$_wait_end" ]; then
			echo "${TEST:-lab}: timed out after $_wait_seconds s waiting for $_wait_what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# count_at_least FILE PATTERN N: true when at least N lines of FILE match PATTERN (a basic regex, as grep's).
count_at_least() {
	_count=$(grep -c -- "$2" "$1" 2>/dev/null)
	[ "${_count:-0}" -ge "$3" ]
}

# wait_lines [-p PID] FILE PATTERN N [SECONDS]: waits (60 s by default) until at least N lines of FILE match PATTERN.
# On failure, says what it waited for and shows the end of FILE.
wait_lines() {
	_lines_pid=
	if [ "$1" = -p ]; then
		_lines_pid="-p $2"
		shift 2
	fi
	# shellcheck disable=SC2086 # "-p PID" is two words, or none
	wait_for $_lines_pid "${4:-60}" "$3 line(s) matching '$2' in $1" count_at_least "$1" "$2" "$3" && return 0
	echo "${TEST:-lab}: the end of $1:" >&2
	tail -n 20 "$1" 2>/dev/null | sed 's/^/    /' >&2
	return 1
}

# wait_line [-p PID] FILE PATTERN [SECONDS]: waits (60 s by default) until a line of FILE matches PATTERN.
wait_line() {
	if [ "$1" = -p ]; then
		wait_lines -p "$2" "$3" "$4" 1 "${5:-60}"
	else
		wait_lines "$1" "$2" 1 "${3:-60}"
	fi
}

# wait_api [-p PID] SOCKET [SECONDS]: waits (30 s by default) until roam answers on its control socket with its VM
# running, i.e. until `roam ctl SOCKET status` succeeds and does not say the VM is still being restored. Use it before
# the first roam ctl instead of a sleep.
wait_api() {
	_api_pid=
	if [ "$1" = -p ]; then
		_api_pid="-p $2"
		shift 2
	fi
	# shellcheck disable=SC2086
	wait_for $_api_pid "${2:-30}" "roam to answer on $1" api_running "$1"
}

# api_running SOCKET: true when the roam behind SOCKET answers status and its VM is not being restored any more.
api_running() {
	_status=$(roam ctl "$1" status 2>/dev/null) || return 1
	case "$_status" in "VM restoring"*) return 1 ;; esac
}

# exited PID: true when process PID is gone (for wait_for 60 "roam to exit" exited "$pid").
exited() {
	! kill -0 "$1" 2>/dev/null
}

# ---- on the build machine (bash) ----

# lab_init NAME TIMEOUT: TEST=NAME; a --share directory $share (removed on exit) holding this library; lab's timeout.
# Needs $root, the repository.
lab_init() {
	TEST=$1 LAB_TIMEOUT=$2
	share=$(mktemp -d)
	# shellcheck disable=SC2064 # $share is fixed now
	trap "rm -rf '$share'" EXIT
	cp "$root/tests/lab/lib.sh" "$share/lib.sh"
}

# lab ARGS...: tools/lab run with the share directory and the test's timeout.
lab() {
	"$root/tools/lab" run --share "$share" --timeout "$LAB_TIMEOUT" "$@"
}

fail() {
	echo "$TEST: $*" >&2
	exit 1
}

step() {
	echo "== $TEST: $*"
}
