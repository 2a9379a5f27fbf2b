#!/usr/bin/env bash
# The benchmark (issue 6): cold start, CPU per invocation, memory, package size, DynamoDB
# requests per operation, and end-to-end throughput and latency on the local stack, with the
# original design (Python 3 + boto3) measured side by side. Prints ONE table (min / median /
# max of repeated runs), the machine, and the commands used; also writes it to
# build/bench/results.md. BENCHMARKS.md explains the method and the figures.
#
#   scripts/bench.sh [--quick] [--no-e2e] [--only PARTS] [--no-build] [--bootstrap PATH]
#                    [--baseline PATH] [--output FILE]
#
#   --quick           tiny counts (what the CTest bench_smoke runs): proves every figure is
#                     produced; the values mean little
#   --no-e2e          skip the end-to-end figures (users-gateway + DynamoDB Local, wrk)
#   --only PARTS      only these, comma-separated: cold, warm (GET), trace (warm GET with the
#                     trace unsampled and sampled: the cost of metrics and tracing), ops
#                     (DynamoDB requests per operation), opcpu (warm CPU per operation; runs ops
#                     too), package, e2e. --only ops,opcpu is the per-operation part alone
#                     (~2 min); --only trace the observability part (~1 min)
#   --baseline PATH   with trace: also measure this bootstrap (one built from before issue 14,
#                     e.g. in a git worktree), interleaved, to say what observability costs
#   --no-build        use what is built (CTest passes the paths below)
#   --bootstrap PATH  measure this binary instead of the shipped one (build/static/bootstrap,
#                     made by scripts/package.sh together with build/lambda.zip)
#   --driver, --connect, --dynamic, --gateway PATH   the helper binaries (default build/release)
#   --output FILE     where the table goes too (default build/bench/results.md)
#
# Needs, besides what scripts/deps.sh installs: wrk and python3-boto3 (Debian packages,
# installed here when missing unless USERS_SKIP_APT=1). A full run takes about 5 minutes on 2
# cores; run it on a quiet machine, since other load shows in every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_fd=2

quick=0
e2e=1
only=
build=1
bootstrap=
driver=build/release/tests/bench_driver
connect=build/release/tests/bench_connect
dynamic=build/release/bootstrap
gateway=build/release/users-gateway
output=build/bench/results.md
baseline=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --no-e2e) e2e=0; shift ;;
    --only) only=${2:?--only needs a list}; shift 2 ;;
    --no-build) build=0; shift ;;
    --bootstrap) bootstrap=${2:?--bootstrap needs a path}; shift 2 ;;
    --baseline) baseline=${2:?--baseline needs a path}; shift 2 ;;
    --driver) driver=${2:?--driver needs a path}; shift 2 ;;
    --connect) connect=${2:?--connect needs a path}; shift 2 ;;
    --dynamic) dynamic=${2:?--dynamic needs a path}; shift 2 ;;
    --gateway) gateway=${2:?--gateway needs a path}; shift 2 ;;
    --output) output=${2:?--output needs a path}; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

case ",$only," in
  ,, | *,e2e,*) ;;
  *) e2e=0 ;; # a list without e2e needs neither wrk, the gateway nor Java
esac

# ---- tools: Debian's wrk and python3-boto3 (the comparison), idempotently ----
python=/usr/bin/python3 # Debian's, where python3-boto3 lives (not a pyenv or venv python)
missing=()
command -v wrk >/dev/null 2>&1 || [ "$e2e" = 0 ] || missing+=(wrk)
"$python" -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
if [ ${#missing[@]} -gt 0 ]; then
  [ "${USERS_SKIP_APT:-0}" != 1 ] || die "missing ${missing[*]}: apt-get install ${missing[*]}"
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: apt-get install ${missing[*]} yourself"
    sudo=(sudo)
  fi
  say "apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null \
    || { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
fi

# ---- build: the fakes, the references, the gateway, and the shipped static bootstrap ----
label="static, build/static"
zip_note=
if [ "$build" = 1 ]; then
  say "build: cmake --preset release (bootstrap, users-gateway, bench_driver, bench_connect)"
  cmake --preset release >/dev/null || die "cmake could not configure the release build"
  targets=(bootstrap bench_driver bench_connect)
  [ "$e2e" = 0 ] || targets+=(users-gateway)
  cmake --build --preset release --target "${targets[@]}" -j "$(nproc)" >/dev/null \
    || die "the release build failed (run: cmake --build --preset release)"
fi
if [ -z "$bootstrap" ]; then
  if [ "$build" = 1 ] && [ -x scripts/package.sh ]; then
    say "build: scripts/package.sh (the static bootstrap and build/lambda.zip)"
    if ! scripts/package.sh >&2; then
      say "scripts/package.sh failed: measuring the dynamic release bootstrap instead"
      zip_note="scripts/package.sh failed in this run"
    fi
  fi
  if [ -x build/static/bootstrap ] && [ -z "$zip_note" ]; then
    bootstrap=build/static/bootstrap
  else
    bootstrap=$dynamic
    label="DYNAMIC build/release (no static build available)"
  fi
else
  label="$bootstrap"
fi
for f in "$driver" "$connect" "$dynamic" "$bootstrap"; do
  [ -x "$f" ] || die "$f is missing: build it (cmake --build --preset release) or drop --no-build"
done

args=(--driver "$driver" --connect "$connect" --dynamic "$dynamic" --bootstrap "$bootstrap"
      --bootstrap-label "$label" --python "$python" --output "$output" --check)
[ -z "$zip_note" ] || args+=(--zip-note "$zip_note")
if [ -n "$baseline" ]; then
  [ -x "$baseline" ] || die "--baseline $baseline is not an executable"
  args+=(--baseline "$baseline" --baseline-label "$baseline")
fi
[ "$quick" = 0 ] || args+=(--quick)
if [ "$e2e" = 1 ]; then
  [ -x "$gateway" ] || die "$gateway is missing (libmicrohttpd-dev; scripts/deps.sh)"
  command -v java >/dev/null 2>&1 || die "java is missing (DynamoDB Local): scripts/deps.sh"
  args+=(--gateway "$gateway")
fi
if [ -n "$only" ]; then
  args+=(--only "$only")
elif [ "$e2e" = 0 ]; then
  args+=(--only "cold,warm,trace,ops,opcpu,package")
fi
say "measuring (quick=$quick); the table follows"
exec "$python" tests/bench/bench.py "${args[@]}"
