# tools/lib/apt_sources.sh: read the system's apt sources (sourced by tools/setup and tools/fresh-check).
# Callers run under `set -euo pipefail` with an ERR trap, so nothing here may fail for an expected answer.

# apt_mirror_uri APT_ETC CODENAME: print the first URI that serves suite CODENAME, deb822 files first, then
# one-line sources; print nothing when none does. It stops at the first hit itself, because a
# "| head -n 1" could kill the writer with SIGPIPE under pipefail when several sources name the codename.
apt_mirror_uri() {
  local etc=$1 suite=$2 f uri
  for f in "$etc"/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk -v suite="$suite" '
      function flush() { if (deb && hit && uri != "") { print uri; found = 1; exit } deb = hit = 0; uri = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
      END { if (!found) flush() }' "$f")
    if [[ -n $uri ]]; then printf '%s\n' "${uri%/}"; return 0; fi
  done
  for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk -v suite="$suite" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }' "$f")
    if [[ -n $uri ]]; then printf '%s\n' "${uri%/}"; return 0; fi
  done
  return 0
}

# apt_codename ETC: the Debian codename from ETC/os-release, or nothing.
apt_codename() {
  [[ -r $1/os-release ]] || return 0
  (. "$1/os-release" && printf '%s\n' "${VERSION_CODENAME:-}")
}
