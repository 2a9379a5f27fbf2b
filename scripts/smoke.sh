#!/usr/bin/env bash
# The curl flow a user runs against the local stack or a deployed stage: create, get, list,
# update, conditional update, delete, the common errors, and phase 2 (a taken address, the
# lookup by email, an idempotent create, an address released by a delete). Prints each step; stops with a
# non-zero status and the reason at the first answer that is not what the contract says.
#
#   scripts/smoke.sh BASE_URL
#   scripts/smoke.sh http://127.0.0.1:3000
#   scripts/smoke.sh https://abc123.execute-api.eu-west-1.amazonaws.com/prod
#
# Needs curl and python3 (for reading JSON); leaves nothing behind (the user it creates is
# deleted by the flow itself).
set -euo pipefail

if [ $# -ne 1 ] || [ "${1:0:1}" = - ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi
base=${1%/}
command -v curl >/dev/null 2>&1 || { echo "smoke: curl is missing" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "smoke: python3 is missing" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
status=
created=

step() {
  n=$((n + 1))
  printf '%2d. %s\n' "$n" "$*"
}
fail() {
  printf '\nsmoke: FAILED at step %d: %s\n' "$n" "$*" >&2
  if [ -s "$tmp/body" ]; then
    printf '  response: HTTP %s %s\n' "$status" "$(head -c 1500 "$tmp/body")" >&2
  fi
  if [ -n "$created" ]; then # leave nothing behind
    curl -s -o /dev/null --max-time 10 -X DELETE "$base/users/$created" || true
  fi
  exit 1
}
# req METHOD PATH BODY [curl options...]: sets $status, keeps the body and headers in $tmp.
req() {
  local method=$1 path=$2 body=$3
  shift 3
  local args=(-sS -X "$method" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 30)
  [ -n "$body" ] && args+=(--data-binary "$body")
  : >"$tmp/body"
  status=$(curl "${args[@]}" "$@" "$base$path") || fail "curl could not complete $method $base$path"
}
json_req() { # METHOD PATH BODY [curl options...]
  local method=$1 path=$2 body=$3
  shift 3
  req "$method" "$path" "$body" -H 'Content-Type: application/json' "$@"
}
expect_status() {
  [ "$status" = "$1" ] || fail "expected HTTP $1, got $status"
}
# json EXPR: a Python expression over the response body, parsed as d; strings print bare.
json() {
  python3 - "$tmp/body" "$1" <<'EOF' || fail "the response body is not the JSON expected (reading $1)"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
r = eval(sys.argv[2], {"d": d})
print(r if isinstance(r, str) else json.dumps(r))
EOF
}
expect() { # EXPR VALUE
  local got
  got=$(json "$1")
  [ "$got" = "$2" ] || fail "expected $1 to be $2, got $got"
}
header() { # NAME: the last value of that response header
  grep -i "^$1:" "$tmp/headers" | tail -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//' || true
}
expect_header() { # NAME VALUE
  local got
  got=$(header "$1")
  [ "$got" = "$2" ] || fail "expected header $1: $2, got '${got}'"
}

email="smoke-$(date +%s)-$RANDOM@example.com"
echo "smoke test against $base"

step "POST /users creates a user"
json_req POST /users "{\"name\": \"  Ada Lovelace \", \"email\": \"$email\", \"age\": 36}"
expect_status 201
id=$(json 'd["userId"]')
created=$id
[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "userId is not a lowercase UUID v4: $id"
expect 'd["name"]' "Ada Lovelace"
expect 'd["email"]' "$email"
expect 'd["age"]' 36
expect 'd["version"]' 1
expect 'sorted(d)' '["age", "createdAt", "email", "name", "updatedAt", "userId", "version"]'
expect_header Location "/users/$id"
expect_header ETag '"1"'
echo "    201, userId $id"

step "GET /users/$id reads it back"
req GET "/users/$id" ''
expect_status 200
expect 'd["userId"]' "$id"
expect 'd["email"]' "$email"
expect_header ETag '"1"'
echo "    200, ETag \"1\""

step "GET /users lists it (following nextToken)"
token=
found=0
for page in $(seq 1 200); do
  if [ -n "$token" ]; then
    req GET "/users?limit=100&nextToken=$token" ''
  else
    req GET "/users?limit=100" ''
  fi
  expect_status 200
  expect 'd["count"] == len(d["users"])' true
  [ "$(json "any(u[\"userId\"] == \"$id\" for u in d[\"users\"])")" = true ] && { found=1; break; }
  token=$(json 'd.get("nextToken", "")')
  [ -n "$token" ] || break
  token=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$token")
done
[ "$found" = 1 ] || fail "the new user is not in the list"
echo "    200, found on page $page"

step "PATCH /users/$id with If-Match \"1\" updates it"
json_req PATCH "/users/$id" '{"age": 37, "name": "Ada King"}' -H 'If-Match: "1"'
expect_status 200
expect 'd["age"]' 37
expect 'd["name"]' "Ada King"
expect 'd["version"]' 2
expect 'd["updatedAt"] >= d["createdAt"]' true
expect_header ETag '"2"'
echo "    200, version 2"

step "PUT /users/$id with a stale If-Match \"1\" is refused"
json_req PUT "/users/$id" '{"age": 40}' -H 'If-Match: "1"'
expect_status 412
expect 'd["code"]' PRECONDITION_FAILED
expect 'd["status"]' 412
echo "    412 PRECONDITION_FAILED"

step "GET /users/$id still shows version 2"
req GET "/users/$id" ''
expect_status 200
expect 'd["version"]' 2
expect 'd["age"]' 37

step "POST /users with invalid fields is 400, every field reported"
json_req POST /users '{"name": "", "email": "not-an-email", "age": 200}'
expect_status 400
expect 'd["code"]' VALIDATION_FAILED
expect 'sorted(e["field"] for e in d["errors"])' '["age", "email", "name"]'
expect_header Content-Type 'application/problem+json'
echo "    400 VALIDATION_FAILED (age, email, name)"

step "POST /users with a body that is not JSON is 400"
json_req POST /users '{"name": '
expect_status 400
expect 'd["code"]' INVALID_JSON
echo "    400 INVALID_JSON"

step "POST /users with Content-Type text/plain is 415"
req POST /users "{\"name\": \"Ada\", \"email\": \"$email\"}" -H 'Content-Type: text/plain'
expect_status 415
expect 'd["code"]' UNSUPPORTED_MEDIA_TYPE
echo "    415 UNSUPPORTED_MEDIA_TYPE"

upper=$(printf '%s' "$email" | tr '[:lower:]' '[:upper:]')
step "POST /users with the same address in upper case is 409 (phase 2)"
json_req POST /users "{\"name\": \"Ada Again\", \"email\": \"$upper\"}"
expect_status 409
expect 'd["code"]' EMAIL_TAKEN
expect 'd["errors"][0]["field"]' email
echo "    409 EMAIL_TAKEN"

step "GET /users?email=<upper case> finds the user (phase 2)"
# The lookup reads an index, which follows the table within a moment on AWS: a few tries.
for try in 1 2 3 4 5 6 7 8 9 10; do
  req GET "/users?email=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$upper")" ''
  expect_status 200
  [ "$(json 'd["count"]')" = 1 ] && break
  [ "$try" = 10 ] && fail "the lookup did not find $email within 5 s"
  sleep 0.5
done
expect 'd["users"][0]["userId"]' "$id"
expect 'sorted(d)' '["count", "users"]'
echo "    200, count 1"

key="smoke-$RANDOM-$RANDOM"
other="idem-$email"
step "POST /users twice with one Idempotency-Key creates one user (phase 2)"
json_req POST /users "{\"name\": \"Idem\", \"email\": \"$other\"}" -H "Idempotency-Key: $key"
expect_status 201
first=$(json 'd["userId"]')
created=$first
first_body=$(cat "$tmp/body")
json_req POST /users "{\"email\": \"$other\", \"name\": \"Idem\"}" -H "Idempotency-Key: $key"
expect_status 201
[ "$(cat "$tmp/body")" = "$first_body" ] || fail "the repeat did not get the first answer"
expect_header Location "/users/$first"
json_req POST /users "{\"name\": \"Other\", \"email\": \"$other\"}" -H "Idempotency-Key: $key"
expect_status 422
expect 'd["code"]' IDEMPOTENCY_KEY_REUSED
req DELETE "/users/$first" ''
expect_status 200
created=$id
echo "    201, the same 201 again, then 422 IDEMPOTENCY_KEY_REUSED"

step "DELETE /users/$id deletes it"
req DELETE "/users/$id" ''
expect_status 200
expect 'd["message"]' "User deleted"
expect 'd["userId"]' "$id"
created=
echo "    200"

step "GET /users/$id is now 404"
req GET "/users/$id" ''
expect_status 404
expect 'd["code"]' NOT_FOUND
echo "    404 NOT_FOUND"

step "POST /users with the deleted user's address succeeds: the delete released it (phase 2)"
json_req POST /users "{\"name\": \"Ada Returns\", \"email\": \"$upper\"}"
expect_status 201
created=$(json 'd["userId"]')
req DELETE "/users/$created" ''
expect_status 200
created=
echo "    201, then deleted"

unknown=$(python3 -c 'import uuid; print(uuid.uuid4())')
step "GET /users/$unknown (never created) is 404"
req GET "/users/$unknown" ''
expect_status 404
expect 'd["code"]' NOT_FOUND
expect 'd["status"]' 404
echo "    404 NOT_FOUND"

step "DELETE /users/$unknown is 404"
req DELETE "/users/$unknown" ''
expect_status 404
expect 'd["code"]' NOT_FOUND
echo "    404 NOT_FOUND"

echo
echo "smoke: all $n steps passed against $base"
