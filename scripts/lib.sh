# shellcheck shell=bash
# What the scripts share: their progress lines and their fatal errors. Sourced, never run, by
# each script once it has moved to the repository's root:
#
#   cd "$(dirname "$0")/.."
#   # shellcheck source-path=SCRIPTDIR/..
#   . scripts/lib.sh
#
# A script keeps its own format with these settings, read at each call:
#   say_gap=1          a blank line before each "==> " line (scripts whose steps print a lot)
#   say_fd=2           progress on stderr (scripts whose stdout is their result)
#   die_prefix=TEXT    what an error line starts with (default: "<script>.sh: error:")

# "==> message" on stdout (or say_fd), after a blank line when say_gap is set.
say() {
  local gap=
  [ -z "${say_gap:-}" ] || gap=$'\n'
  printf '%s==> %s\n' "$gap" "$*" >&"${say_fd:-1}"
}

# "<die_prefix> message" on stderr, and exit 1.
die() {
  printf '%s %s\n' "${die_prefix:-${0##*/}: error:}" "$*" >&2
  exit 1
}
