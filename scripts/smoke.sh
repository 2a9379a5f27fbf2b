#!/usr/bin/env bash
# The curl flow a user runs against the local stack or a deployed stage: create, get, list,
# update, conditional update, delete, the common errors, and phase 2 (a taken address, the
# lookup by email, an idempotent create, an address released by a delete). Prints each step; stops with a
# non-zero status and the reason at the first answer that is not what the contract says.
#
#   scripts/smoke.sh [CREDENTIAL] BASE_URL
#   scripts/smoke.sh http://127.0.0.1:3000
#   scripts/smoke.sh --iam https://abc123.execute-api.eu-west-1.amazonaws.com/prod
#
# CREDENTIAL, what the stage's Auth asks for (none: Auth=NONE, or the local stack):
#   --api-key KEY         x-api-key: KEY (Auth=API_KEY)
#   --iam                 SigV4 for execute-api (Auth=IAM), signed by curl (--aws-sigv4) with
#                         AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (if
#                         set) from the environment; the Region is the URL's
#                         (*.execute-api.REGION.amazonaws.com), else --region
#   --bearer TOKEN        Authorization: Bearer TOKEN (Auth=COGNITO: a Cognito ID token, for a
#                         REST API's Cognito authorizer or an HTTP API's JWT authorizer)
#   --cognito-client-id ID --username U --password P
#                         gets that ID token first from the user pool's app client (aws
#                         cognito-idp initiate-auth, USER_PASSWORD_AUTH; needs the AWS CLI)
#   --region R            the Region for --iam and --cognito-client-id, when the URL has none
# A value written env:NAME is read from the environment variable NAME, which keeps a secret
# out of the process list (e.g. --api-key env:USERS_SMOKE_API_KEY). Every request of the flow
# carries the credential, and sends nothing secret on curl's command line (a curl config file
# in a private temporary directory). Given a credential, one more step checks that it
# matters: the same GET without it is refused (401 or 403, as API Gateway answers).
#
# Needs curl (7.75 or later for --iam) and python3 (for reading JSON); leaves nothing behind
# (the user it creates is deleted by the flow itself).
set -euo pipefail

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}
bad() { # a usage error: the reason, then exit 2
  echo "smoke: $*" >&2
  exit 2
}
mode=none
api_key=
token=
region=
client_id=
username=
password=
base=
while [ $# -gt 0 ]; do
  case "$1" in
    --api-key) [ $# -ge 2 ] || bad "--api-key needs a value"; mode=api_key; api_key=$2; shift 2 ;;
    --iam) mode=iam; shift ;;
    --bearer) [ $# -ge 2 ] || bad "--bearer needs a value"; mode=bearer; token=$2; shift 2 ;;
    --cognito-client-id) [ $# -ge 2 ] || bad "--cognito-client-id needs a value"; mode=cognito; client_id=$2; shift 2 ;;
    --username) [ $# -ge 2 ] || bad "--username needs a value"; username=$2; shift 2 ;;
    --password) [ $# -ge 2 ] || bad "--password needs a value"; password=$2; shift 2 ;;
    --region) [ $# -ge 2 ] || bad "--region needs a value"; region=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) bad "unknown option: $1 (see --help)" ;;
    *) [ -z "$base" ] || usage; base=${1%/}; shift ;;
  esac
done
[ -n "$base" ] || usage
[[ $base =~ ^https?://[^/]+ ]] || bad "BASE_URL must start with http:// or https://, not '$base'"
command -v curl >/dev/null 2>&1 || { echo "smoke: curl is missing" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "smoke: python3 is missing" >&2; exit 2; }

# env:NAME → the variable's value (never printed).
from_env() {
  local value=$1 what=$2
  if [[ $value == env:* ]]; then
    local name=${value#env:}
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || bad "$what: '$value' does not name an environment variable"
    [ -n "${!name:-}" ] || bad "$what: the environment variable $name is not set"
    value=${!name}
  fi
  printf '%s' "$value"
}
api_key=$(from_env "$api_key" --api-key)
token=$(from_env "$token" --bearer)
password=$(from_env "$password" --password)
if [ "$mode" = cognito ] && { [ -z "$username" ] || [ -z "$password" ]; }; then
  bad "--cognito-client-id needs --username and --password"
fi
if [ "$mode" != cognito ] && [ -n "$username$password" ]; then
  bad "--username and --password go with --cognito-client-id"
fi
case "$mode" in
  api_key) [ -n "$api_key" ] || bad "--api-key is empty" ;;
  bearer) [ -n "$token" ] || bad "--bearer is empty" ;;
esac
# The Region: the URL's (execute-api's host name), else --region.
if [ -z "$region" ] && [[ $base =~ ^https://[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?(/|$) ]]; then
  region=${BASH_REMATCH[1]}
fi
if [ "$mode" = iam ] || [ "$mode" = cognito ]; then
  flag=--iam
  [ "$mode" = iam ] || flag=--cognito-client-id
  [ -n "$region" ] || bad "$flag needs the Region: the URL has none, pass --region"
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || bad "--region must be an AWS Region, not '$region'"
fi
if [ "$mode" = iam ]; then
  if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
    bad "--iam signs with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment: set them (e.g. eval \"\$(aws configure export-credentials --format env)\")"
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
n=0
status=
created=

# A value inside a curl config file's double quotes.
curl_quote() {
  local v=$1
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}
no_newline() { # VALUE WHAT
  [[ $1 != *$'\n'* && $1 != *$'\r'* ]] || bad "$2 contains a line break"
}

# --cognito-client-id: an ID token from the app client (USER_PASSWORD_AUTH). The request goes
# in a file, so the password is not on the AWS CLI's command line.
if [ "$mode" = cognito ]; then
  command -v aws >/dev/null 2>&1 || bad "--cognito-client-id needs the AWS CLI (aws)"
  (umask 077 && SMOKE_PASSWORD=$password python3 -c '
import json, os, sys
print(json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": sys.argv[1],
                  "AuthParameters": {"USERNAME": sys.argv[2], "PASSWORD": os.environ["SMOKE_PASSWORD"]}}))
' "$client_id" "$username" >"$tmp/initiate-auth.json")
  echo "getting an ID token for $username from app client $client_id (aws cognito-idp initiate-auth, $region)"
  if ! token=$(aws cognito-idp initiate-auth --cli-input-json "file://$tmp/initiate-auth.json" \
    --region "$region" --query AuthenticationResult.IdToken --output text 2>"$tmp/aws.err"); then
    echo "smoke: could not get an ID token: $(head -c 600 "$tmp/aws.err")" >&2
    exit 1
  fi
  rm -f "$tmp/initiate-auth.json"
  if [ -z "$token" ] || [ "$token" = None ]; then
    echo "smoke: initiate-auth gave no ID token (a challenge instead? e.g. NEW_PASSWORD_REQUIRED: set a permanent password)" >&2
    exit 1
  fi
  mode=bearer
fi

# The credential, as curl options in a file only this user can read (curl -K).
auth=$tmp/auth.curl
(umask 077 && : >"$auth")
case "$mode" in
  api_key)
    no_newline "$api_key" "the API key"
    printf 'header = %s\n' "$(curl_quote "x-api-key: $api_key")" >>"$auth"
    ;;
  bearer)
    no_newline "$token" "the token"
    printf 'header = %s\n' "$(curl_quote "Authorization: Bearer $token")" >>"$auth"
    ;;
  iam)
    no_newline "$AWS_ACCESS_KEY_ID$AWS_SECRET_ACCESS_KEY${AWS_SESSION_TOKEN:-}" "the AWS credentials"
    printf 'aws-sigv4 = %s\n' "$(curl_quote "aws:amz:$region:execute-api")" >>"$auth"
    printf 'user = %s\n' "$(curl_quote "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")" >>"$auth"
    if [ -n "${AWS_SESSION_TOKEN:-}" ]; then
      printf 'header = %s\n' "$(curl_quote "x-amz-security-token: $AWS_SESSION_TOKEN")" >>"$auth"
    fi
    ;;
esac

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
    curl -K "$auth" -s -o /dev/null --max-time 10 -X DELETE "$base/users/$created" || true
  fi
  exit 1
}
# req METHOD PATH BODY [curl options...]: sets $status, keeps the body and headers in $tmp.
# Every request carries the credential ($auth); anonymous_req sends the same without it.
req() {
  send_req "$auth" "$@"
}
anonymous_req() {
  send_req /dev/null "$@"
}
send_req() {
  local config=$1 method=$2 path=$3 body=$4
  shift 4
  local args=(-K "$config" -sS -X "$method" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 30)
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
case "$mode" in
  none) how="no credential" ;;
  api_key) how="an API key (x-api-key)" ;;
  bearer) how="a bearer token (Authorization: Bearer)" ;;
  iam) how="SigV4 (execute-api, $region, access key ${AWS_ACCESS_KEY_ID:0:4}...)" ;;
esac
echo "smoke test against $base with $how"

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

if [ "$mode" != none ]; then
  step "GET /users/$id without the credential is refused"
  anonymous_req GET "/users/$id" ''
  # API Gateway's own answers: 401 for a missing token (a Cognito or JWT authorizer), 403
  # for a missing API key or SigV4 signature (INVALID_API_KEY, MISSING_AUTHENTICATION_TOKEN).
  [ "$status" = 401 ] || [ "$status" = 403 ] \
    || fail "expected 401 or 403 without the credential, got $status: the credential is not checked"
  echo "    $status"
fi

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
