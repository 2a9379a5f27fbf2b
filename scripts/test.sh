#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, checks formatting and
# static analysis, builds and runs every test twice — a Release build, and a Debug build under ASan + UBSan —
# including the integration suite against AWS's DynamoDB Local.
#   scripts/test.sh            everything
#   scripts/test.sh release    only the Release build and its tests
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

scripts/deps.sh

say "format check (clang-format)"
mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.c' '*.h')
if [ "${#sources[@]}" -gt 0 ]; then
  clang-format --dry-run -Werror "${sources[@]}"
fi

presets=(release debug)
[ $# -gt 0 ] && presets=("$@")
for preset in "${presets[@]}"; do
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
