#!/usr/bin/env bash
# Soak: COUNT mixed invocations (default 100,000) through the Release bootstrap against a fake
# Runtime API and a fake DynamoDB on loopback (tests/soak/soak.c), sampling the process's
# VmRSS / VmHWM every INTERVAL invocations (default 10,000). Fails on a wrong answer, an
# abnormal exit, or VmRSS growing after warm-up by more than SOAK_MAX_GROWTH_KB (default 1024).
#   scripts/soak.sh                    100,000 invocations, a sample every 10,000
#   scripts/soak.sh 20000 2000         what CTest's soak_short runs
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
count=${1:-100000}
interval=${2:-10000}
say "build: release (bootstrap, users_soak)"
cmake --preset release >/dev/null
cmake --build --preset release --target bootstrap users_soak -j "$(nproc)" >/dev/null
build/release/tests/users_soak build/release/bootstrap "$count" "$interval"
