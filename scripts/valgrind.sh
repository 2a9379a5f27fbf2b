#!/usr/bin/env bash
# Memcheck over a plain Debug build (no sanitizers: valgrind and ASan do not mix):
#   1. the unit tests that need no wall-clock deadlines, each under valgrind;
#   2. a subset of the integration suite, the real bootstrap wrapped in valgrind
#      (USERS_BOOTSTRAP_WRAPPER, see tests/integration/harness.py), each process leaving through
#      its normal exit path when the fake Runtime API stops answering `next`.
# Fails unless every process reports "ERROR SUMMARY: 0 errors" and "definitely lost: 0 bytes"
# (or frees everything), and no bootstrap had to be killed.
#   scripts/valgrind.sh                the CI subset
#   scripts/valgrind.sh -k Crud        only integration tests matching a pattern (repeatable)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_gap=1
die_prefix=valgrind:

command -v valgrind >/dev/null || die "valgrind is missing: apt-get install valgrind"
build=build/valgrind
logs=$build/logs
patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=(-k CrudTest -k ValidationTest -k EventFormsTest -k PaginationTest -k RoutingTest
  -k UniqueEmailTest -k IdempotencyTest -k XRayTest)

say "build: Debug without sanitizers ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DUSERS_WERROR=ON -DUSERS_SANITIZE=OFF \
  -DUSERS_FUZZ=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
rm -rf "$logs"
mkdir -p "$logs"

vg=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
  --error-exitcode=99 --track-origins=yes --num-callers=30)

# ---- 1. Unit tests ----
units=(test_apigw test_jparse test_users test_validate test_router test_sigv4 test_log test_runtime
  test_ddb_retry test_ddb_value test_cors test_problem test_api test_json_arena
  test_http_fields test_user_item test_user_expr test_user_list test_page_token test_span test_codec
  test_ddb_txn test_email_claim test_idempotency
  test_trace test_xray test_emf test_ddb_observe test_users_operation)
export USERS_TESTDATA=${USERS_TESTDATA:-$(cd .. && pwd)/shared/testdata}
for t in "${units[@]}"; do
  [ -x "$build/tests/$t" ] || die "no unit test $t in $build/tests"
  say "memcheck: $t"
  "${vg[@]}" --log-file="$logs/unit-$t.log" "$build/tests/$t" >"$logs/unit-$t.out" 2>&1 ||
    { tail -n 30 "$logs/unit-$t.out" "$logs/unit-$t.log" >&2; die "$t failed under valgrind"; }
done

# ---- 2. The integration subset, bootstrap under memcheck ----
say "memcheck: integration ${patterns[*]}"
export USERS_BOOTSTRAP_WRAPPER="${vg[*]} --log-file=$PWD/$logs/bootstrap-%p.log"
python3 tests/integration/run.py --bootstrap "$build/bootstrap" --repo . --no-gateway -q \
  "${patterns[@]}" \
  >"$logs/integration.out" 2>&1 || { tail -n 40 "$logs/integration.out" >&2; die "integration tests failed under valgrind"; }
tail -n 1 "$logs/integration.out"

# ---- Verdict ----
say "valgrind logs ($logs)"
bad=0
n=0
for f in "$logs"/unit-*.log "$logs"/bootstrap-*.log; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -n 1)
  freed=$(grep -c "All heap blocks were freed" "$f" || true)
  killed=$(grep -c "Process terminating with default action" "$f" || true)
  printf '%-40s errors=%-3s definitely-lost=%-6s %s\n' "$(basename "$f")" "${errors:-?}" \
    "${lost:-0}" "$([ "$killed" -gt 0 ] && echo KILLED || echo exited)"
  if [ "${errors:-x}" != 0 ] || { [ "${lost:-0}" != 0 ] && [ "$freed" = 0 ]; } ||
    { [ -z "$lost" ] && [ "$freed" = 0 ]; } || [ "$killed" -gt 0 ]; then
    bad=$((bad + 1))
    sed -n '/ERROR SUMMARY/p;/definitely lost/,+3p;/Invalid\|uninitialised\|Process terminating/,+12p' "$f" >&2
  fi
done
[ "$n" -gt ${#units[@]} ] || die "expected a log per unit test and at least one bootstrap log, found $n"
[ "$bad" = 0 ] || die "$bad of $n processes had memcheck errors, definite leaks or were killed"
echo "valgrind: $n processes, 0 errors, 0 bytes definitely lost"
