#!/usr/bin/env bash
# Claims the email addresses of the users stored before phase 2 (unique emails), once, after
# the template has added the claims table and the email index. Runs `bootstrap
# --backfill-emails` (src/backfill.c) on this machine with an operator's credentials.
#
#   scripts/backfill-emails.sh [--region R] [--table NAME] [--claims-table NAME]
#                              [--endpoint URL] [--bootstrap FILE]
#
#   --region R          the stack's region (default $AWS_REGION, $AWS_DEFAULT_REGION, or the
#                       AWS CLI's configured region)
#   --table NAME        the users table (default Users, the template's TableName)
#   --claims-table NAME the claims table (default NAME-claims, as the template names it)
#   --endpoint URL      another DynamoDB endpoint, e.g. DynamoDB Local (http://127.0.0.1:8000)
#   --bootstrap FILE    the binary (default build/release/bootstrap, built when missing)
#
# Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) from the
# environment, else the AWS CLI's (`aws configure export-credentials`: profiles, SSO). They
# need dynamodb:Scan on the users table, dynamodb:ConditionCheckItem on it and
# dynamodb:PutItem on the claims table; nothing is ever deleted or changed in the users table.
#
# Output: one JSON line per address two users share ({"conflict", "userId", "heldBy"}), then a
# summary {"scanned", "claimed", "alreadyClaimed", "changed", "conflicts", "skipped",
# "complete"}. Running it again is harmless, and so is running it while the API serves.
# Exit status: 0 every user's address is claimed; 3 conflicts to settle by hand (which user
# keeps the address is a person's decision, see docs/decisions.md, "Back-fill"); 1 a failure
# (the line before the summary names the DynamoDB call: rerun once it is fixed); 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
say_fd=2

region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
table=Users
claims=
endpoint=
bootstrap=build/release/bootstrap
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --table) table=${2:?--table needs a value}; shift 2 ;;
    --claims-table) claims=${2:?--claims-table needs a value}; shift 2 ;;
    --endpoint) endpoint=${2:?--endpoint needs a value}; shift 2 ;;
    --bootstrap) bootstrap=${2:?--bootstrap needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "error: unknown option: $1" >&2; exit 2 ;;
  esac
done
[[ $table =~ ^[A-Za-z0-9_.-]{3,248}$ ]] || { echo "error: --table '$table' is not a DynamoDB table name" >&2; exit 2; }
claims=${claims:-$table-claims}
[[ $claims =~ ^[A-Za-z0-9_.-]{3,255}$ ]] || { echo "error: --claims-table '$claims' is not a DynamoDB table name" >&2; exit 2; }

if [ -z "$region" ] && command -v aws >/dev/null 2>&1; then
  region=$(aws configure get region 2>/dev/null || true)
fi
[ -n "$region" ] || { echo "error: no region: pass --region or set AWS_REGION" >&2; exit 2; }

if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
  command -v aws >/dev/null 2>&1 \
    || die "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or install the AWS CLI v2 and log in"
  creds=$(aws configure export-credentials --format env-no-export) \
    || die "the AWS CLI has no credentials to export (aws configure export-credentials failed)"
  while IFS='=' read -r key value; do
    case "$key" in
      AWS_ACCESS_KEY_ID | AWS_SECRET_ACCESS_KEY | AWS_SESSION_TOKEN) export "$key=$value" ;;
    esac
  done <<<"$creds"
fi

if [ ! -x "$bootstrap" ]; then
  [ "$bootstrap" = build/release/bootstrap ] || die "no executable at $bootstrap"
  say "building $bootstrap (cmake --preset release)"
  { cmake --preset release && cmake --build --preset release --target bootstrap; } >&2 \
    || die "the build failed (scripts/deps.sh installs what it needs)"
fi

if [ -n "$endpoint" ]; then
  export AWS_ENDPOINT_URL_DYNAMODB=$endpoint
else
  unset AWS_ENDPOINT_URL_DYNAMODB
fi
say "claiming the addresses of the users in $table into $claims ($region${endpoint:+, $endpoint})"
set +e
AWS_REGION=$region USERS_TABLE=$table USERS_CLAIMS_TABLE=$claims "$bootstrap" --backfill-emails
rc=$?
set -e
case $rc in
  0) say "done: every user's address is claimed" ;;
  3) say "done, with conflicts: the lines above name the users sharing an address; nothing was changed for them" ;;
  *) say "failed (status $rc): see the line before the summary; running it again is safe" ;;
esac
exit "$rc"
