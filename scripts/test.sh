#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, checks formatting and
# static analysis, builds and runs every test twice — a Release build, and a Debug build under ASan + UBSan —
# including the integration suite against AWS's DynamoDB Local.
# Then the hardening steps (issue 7): every libFuzzer target for a short while under ASan +
# UBSan (scripts/fuzz.sh, USERS_FUZZ_SECONDS each, default 20), and memcheck over unit tests
# and an integration subset (scripts/valgrind.sh).
#   scripts/test.sh            everything
#   scripts/test.sh release    only the Release build and its tests
#   scripts/test.sh fuzz valgrind   only the hardening steps
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_gap=1

scripts/deps.sh

say "format check (clang-format)"
mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.c' '*.h')
if [ "${#sources[@]}" -gt 0 ]; then
  clang-format --dry-run -Werror "${sources[@]}"
fi

presets=(release debug fuzz valgrind)
[ $# -gt 0 ] && presets=("$@")
for preset in "${presets[@]}"; do
  case $preset in
    fuzz)
      say "fuzz: every target, ${USERS_FUZZ_SECONDS:-20} s each"
      scripts/fuzz.sh "${USERS_FUZZ_SECONDS:-20}"
      continue ;;
    valgrind)
      say "valgrind: unit tests and an integration subset"
      scripts/valgrind.sh
      continue ;;
  esac
  say "build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  if [ "$preset" = release ]; then
    say "static analysis (clang-tidy, cppcheck)"
    mapfile -t csources < <(git ls-files -co --exclude-standard -- 'src/*.c' 'src/**/*.c')
    clang-tidy -p build/release --quiet --warnings-as-errors='*' "${csources[@]}" 2>/dev/null
    cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
      --inline-suppr -Iinclude "${csources[@]}"
  fi
  say "tests: $preset"
  ctest --preset "$preset" -j 2
done
say "all tests passed"
