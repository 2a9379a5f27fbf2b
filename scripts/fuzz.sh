#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and runs them one after
# another, each for SECONDS (libFuzzer's -max_total_time; the build is not counted), so a run
# takes about SECONDS times the number of targets. Fails on any crash, leak, sanitizer report,
# input slower than 10 s or broken invariant; the input that did it is kept in
# build/fuzz/artifacts/ (replay: build/fuzz/tests/fuzz/fuzz_X FILE).
#   scripts/fuzz.sh                 every target, 25 s each (CI runs 20 s each: scripts/test.sh,
#                                   USERS_FUZZ_SECONDS)
#   scripts/fuzz.sh 600             every target, 10 minutes each
#   scripts/fuzz.sh 600 sigv4 event only these targets
# Seeds are made afresh on each run from ../shared/testdata (events, SigV4 request vectors)
# and tests/fuzz/seeds; what a run discovers accumulates in build/fuzz/corpus/<target>.
# The last lines are a table of executions per target, a total, and the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_gap=1
die_prefix=fuzz:

seconds=${1:-25}
shift || true
all_targets=(invocation event ddb_response next_token sigv4 jparse)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
shared=${USERS_SHARED_DIR:-../shared}
out=build/fuzz
bin=$out/tests/fuzz

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  die "seconds-per-target must be a positive integer"
fi
[ -d "$shared/testdata/events" ] || die "no $shared/testdata/events (set USERS_SHARED_DIR)"

say "build: fuzz preset"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_all -j "$(nproc)"

# ---- Seeds ----
seeds=$out/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{invocation,event,ddb_response,next_token,sigv4,jparse} "$out/artifacts" "$out/logs"

# Events as they are, and for the whole invocation behind two bytes choosing the fake
# DynamoDB's reply: success, not found, throttled, failed condition with our own item.
mapfile -t events < <(find "$shared/testdata/events" tests/fuzz/seeds/event -name '*.json' | sort)
for f in "${events[@]}"; do
  name=$(basename "$f" .json)
  cp "$f" "$seeds/event/$name.json"
  # The JSON reader with the event's flags (allow NUL, integers as reals) and with all four.
  { printf '\x03'; cat "$f"; } >"$seeds/jparse/$name"
  { printf '\x0f'; cat "$f"; } >"$seeds/jparse/$name-all"
  for prefix in '\x00\x00' '\x01\x00' '\x05\x00' '\x04\x02' '\x08\x11' '\x10\x25'; do
    { printf '%b' "$prefix"; cat "$f"; } >"$seeds/invocation/$name-${prefix//\\x/}"
  done
done
cp tests/fuzz/seeds/ddb_response/* "$seeds/ddb_response/"
for f in tests/fuzz/seeds/ddb_response/*; do # the reply reader's flags: allow NUL
  { printf '\x01'; tail -c +2 "$f"; } >"$seeds/jparse/ddb-$(basename "$f")"
done
for f in "$shared"/testdata/events/*dynamo*.json; do # stream records hold AttributeValues
  { printf '\x00'; cat "$f"; } >"$seeds/ddb_response/$(basename "$f" .json)"
done
cp tests/fuzz/seeds/next_token/* "$seeds/next_token/"
cp tests/fuzz/seeds/sigv4/* "$seeds/sigv4/"
i=0
while IFS= read -r f; do # the shared SigV4 vectors' raw requests, behind a flags byte
  i=$((i + 1))
  { printf '\xa1'; cat "$f"; } >"$seeds/sigv4/vector-$i"
  { printf '\x00'; cat "$f"; } >"$seeds/sigv4/vector-$i-raw"
done < <(find "$shared/testdata/sigv4" \( -name request.txt -o -name '*.req' \) | sort)

# ---- Runs ----
max_len() {
  case $1 in
    invocation | event | jparse) echo 65536 ;;
    sigv4) echo 16384 ;;
    *) echo 8192 ;;
  esac
}
dict() {
  case $1 in
    invocation | event) echo tests/fuzz/dict/event.dict ;;
    ddb_response) echo tests/fuzz/dict/ddb.dict ;;
    *) echo "tests/fuzz/dict/$1.dict" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
declare -A execs rate
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || die "unknown target $t (have: ${all_targets[*]})"
  corpus=$out/corpus/$t
  mkdir -p "$corpus"
  log=$out/logs/$t.log
  say "fuzz_$t for ${seconds} s (log: $log)"
  if "$bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -dict="$(dict "$t")" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t-" "$corpus" "$seeds/$t" >"$log" 2>&1; then
    :
  else
    failed+=("$t")
    tail -n 60 "$log" >&2
  fi
  execs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate[$t]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
done

say "fuzzing summary (${seconds} s per target)"
total=0
printf '%-14s %14s %10s %8s\n' target executions exec/s corpus
for t in "${targets[@]}"; do
  n=${execs[$t]:-0}
  total=$((total + n))
  printf '%-14s %14s %10s %8s\n' "$t" "$n" "${rate[$t]:-?}" "$(find "$out/corpus/$t" -type f | wc -l)"
done
printf '%-14s %14s\n' total "$total"
if [ ${#failed[@]} -gt 0 ]; then
  die "findings in: ${failed[*]} (inputs in $out/artifacts/)"
fi
echo "fuzz: 0 findings"
