#!/usr/bin/env bash
# The package is reproducible: a second build from scratch — its own static libcurl (Debian's
# source fetched and compiled again), its own CMake build directory, other paths — gives a zip
# byte for byte equal to build/lambda.zip (or, with --arch arm64, to build/lambda-arm64.zip:
# its arm64 -dev packages fetched and unpacked again, its libcurl cross-compiled again).
#
#   tests/package/reproducible.sh [--arch x86_64|arm64] [ZIP]
#       (default build/lambda.zip; arm64: build/lambda-arm64.zip)
set -euo pipefail
cd "$(dirname "$0")/../.."

arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=${2:?--arch needs a value}
  shift 2
fi
case "$arch" in
  x86_64) default_zip=build/lambda.zip ;;
  arm64) default_zip=build/lambda-arm64.zip ;;
  *) echo "reproducible: unknown architecture '$arch' (x86_64 or arm64)" >&2; exit 2 ;;
esac
reference=${1:-$default_zip}
[ -f "$reference" ] || { echo "reproducible: FAIL: no $reference (run scripts/package.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }

# A source edited after the reference was built makes any comparison meaningless.
changed=$(find src include cmake CMakeLists.txt scripts/package.sh scripts/build-static-deps.sh \
  -type f -newer "$reference" | head -n 5)
if [ -n "$changed" ]; then
  echo "reproducible: FAIL: sources changed after $reference was built (rerun scripts/package.sh): $changed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d /tmp/users-repro-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "==> rebuilding from scratch in $work"
if ! scripts/package.sh --arch "$arch" --deps-dir "$work/deps" --build-dir "$work/build" --output "$work/lambda.zip" >"$work/log" 2>&1; then
  tail -n 40 "$work/log" >&2
  echo "reproducible: FAIL: the second build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
a=$(sha256sum "$reference" | cut -d' ' -f1)
b=$(sha256sum "$work/lambda.zip" | cut -d' ' -f1)
echo "    $reference        $a"
echo "    rebuilt from scratch $b"
if [ "$a" != "$b" ]; then
  mkdir -p "$work/a" "$work/b"
  unzip -q "$reference" -d "$work/a" && unzip -q "$work/lambda.zip" -d "$work/b"
  for f in "$work"/a/*; do cmp "$f" "$work/b/${f##*/}" >&2 || true; done
  changed=$(find src include cmake CMakeLists.txt -type f -newer "$reference" | head -n 5)
  [ -z "$changed" ] || echo "reproducible: note: sources were edited during the rebuild: $changed" >&2
  echo "reproducible: FAIL: the two zips differ" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
