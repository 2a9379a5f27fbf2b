#!/usr/bin/env bash
# Restores the Users API's two tables (the users table and its claims table, named by the
# stack's outputs) to a point in time or from on-demand backups, under new names, re-applies
# what a restore does not carry over, and optionally points the stack at them. The source
# tables are only read. Runbook: docs/operations.md.
#
#   scripts/restore.sh [--stack NAME] [--region REGION] (--time ISO8601 | --latest |
#                      --backup-arn ARN --backup-arn ARN) [--target NAME] [--switch [--smoke]]
#
#   --stack NAME       stack name (default $USERS_STACK, else users-api)
#   --region REGION    AWS Region (default $AWS_REGION, $AWS_DEFAULT_REGION, the CLI's profile)
#   --time T           point-in-time recovery to T, an ISO 8601 time with its zone
#                      (2026-12-05T09:30:00Z); both tables to the same moment
#   --latest           point-in-time recovery to the latest restorable time (about 5 minutes ago)
#   --backup-arn ARN   from on-demand backups (DynamoDB's or AWS Backup's): give two, one of
#                      each table; each ARN names its table
#   --target NAME      the restored users table (default <table>-restored-<UTC stamp>); the
#                      restored claims table is <NAME>-claims, as the template names it
#   --switch           then scripts/deploy.sh --no-package ExistingTableName=<NAME>: the stack
#                      serves the restored tables
#   --smoke            with --switch: deploy.sh --smoke (scripts/smoke.sh with the stack's
#                      credential)
#
# Re-applied to the restored tables, since a restore does not carry them over: time to live
# (expiresAt on the claims table; on the users table if its source had it), point-in-time
# recovery, the users table's stream (the source's view type, if it had one), deletion
# protection, and the source's tags (but aws:*). Encryption (the AWS managed key) and on-demand
# billing are set in the restore itself. Needs the AWS CLI v2.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh

stack=${USERS_STACK:-users-api}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
when=
latest=0
backups=()
target=
switch=0
smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) stack=${2:?--stack needs a value}; shift 2 ;;
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --time) when=${2:?--time needs a value}; shift 2 ;;
    --latest) latest=1; shift ;;
    --backup-arn) backups+=("${2:?--backup-arn needs a value}"); shift 2 ;;
    --target) target=${2:?--target needs a value}; shift 2 ;;
    --switch) switch=1; shift ;;
    --smoke) smoke=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# ---- what to restore from: exactly one source ----
sources=0
[ -z "$when" ] || sources=$((sources + 1))
[ "$latest" = 0 ] || sources=$((sources + 1))
[ ${#backups[@]} = 0 ] || sources=$((sources + 1))
[ "$sources" = 1 ] || die "say what to restore from, once: --time ISO8601, --latest, or two --backup-arn (see --help)"
if [ -n "$when" ]; then
  when=$(python3 - "$when" <<'EOF'
import datetime, sys
text = sys.argv[1]
try:
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
except ValueError:
    sys.exit("not an ISO 8601 time")
if t.tzinfo is None:
    sys.exit("no time zone (write 2026-12-05T09:30:00Z or +01:00)")
if t > datetime.datetime.now(datetime.timezone.utc):
    sys.exit("in the future")
print(t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
EOF
) || die "--time '$when' is unclear: an ISO 8601 time in the past, with its zone, e.g. 2026-12-05T09:30:00Z"
fi
[ "$smoke" = 0 ] || [ "$switch" = 1 ] || die "--smoke goes with --switch (it tests the stack once it serves the restored tables)"
command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not installed"
if [ -z "$region" ]; then region=$(aws configure get region 2>/dev/null || true); fi
[ -n "$region" ] || die "no AWS Region: pass --region or set AWS_REGION"

# ---- the tables, from the stack ----
say "reading the tables of stack $stack ($region)"
out() {
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
table=$(out TableName) || die "stack $stack not found in $region (or no permission to describe it)"
claims=$(out ClaimsTableName)
if [ -z "$table" ] || [ "$table" = None ]; then die "stack $stack has no TableName output"; fi
[ -n "$claims" ] && [ "$claims" != None ] || claims=$table-claims
[ -n "$target" ] || target=$table-restored-$(date -u +%Y%m%dT%H%M%SZ)
[[ $target =~ ^[a-zA-Z0-9_.-]{3,248}$ ]] || die "--target must be a table name of 3 to 248 characters [a-zA-Z0-9_.-], not '$target'"
target_claims=$target-claims
[ "$target" != "$table" ] || die "--target is the source table itself"
echo "    users table  $table → $target"
echo "    claims table $claims → $target_claims"

# The backups: each ARN names its table (arn:...:table/NAME/backup/ID); one for each.
users_backup=
claims_backup=
if [ ${#backups[@]} -gt 0 ]; then
  [ ${#backups[@]} = 2 ] || die "give two --backup-arn, one of $table and one of $claims"
  for arn in "${backups[@]}"; do
    [[ $arn =~ ^arn:aws[a-z-]*:(dynamodb|backup):[a-z0-9-]+:[0-9]{12}: ]] || die "'$arn' is not a backup ARN"
    if [[ $arn == *":table/$table/backup/"* ]]; then users_backup=$arn
    elif [[ $arn == *":table/$claims/backup/"* ]]; then claims_backup=$arn
    fi
  done
  [ -n "$users_backup" ] || claims_backup=
  [ -n "$claims_backup" ] \
    || die "unclear backups: need one ARN of table $table and one of $claims (arn:...:table/<name>/backup/<id>), got ${backups[*]}. For AWS Backup recovery points, restore with 'aws backup start-restore-job' and follow docs/operations.md"
fi

for t in "$target" "$target_claims"; do
  if aws dynamodb describe-table --table-name "$t" --region "$region" --query Table.TableStatus --output text >/dev/null 2>&1; then
    die "table $t already exists: choose another --target"
  fi
done

# What the sources have that a restore drops.
describe() { aws dynamodb describe-table --table-name "$1" --region "$region" --output json; }
field() { # JSON EXPR: a Python expression over the describe-table answer d
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); r = eval(sys.argv[2], {"d": d}); print("" if r is None else r)' "$1" "$2"
}
src_users=$(describe "$table") || die "cannot describe table $table"
src_claims=$(describe "$claims") || die "cannot describe table $claims"
stream_view=$(field "$src_users" '(d["Table"].get("StreamSpecification") or {}).get("StreamEnabled") and d["Table"]["StreamSpecification"].get("StreamViewType")')
[ "$stream_view" != False ] || stream_view=
ttl_of() {
  aws dynamodb describe-time-to-live --table-name "$1" --region "$region" \
    --query "TimeToLiveDescription.[TimeToLiveStatus,AttributeName]" --output text 2>/dev/null || true
}
users_ttl=$(ttl_of "$table")
users_ttl_attr=
if [[ $users_ttl =~ ^ENABLED[[:space:]]+([^[:space:]]+) ]]; then users_ttl_attr=${BASH_REMATCH[1]}; fi

# ---- restore ----
restore() { # SOURCE TARGET BACKUP
  local sse=Enabled=true,SSEType=KMS
  local args=(--target-table-name "$2" --region "$region" --billing-mode-override PAY_PER_REQUEST
              --sse-specification-override "$sse")
  if [ -n "$3" ]; then
    say "restoring $2 from backup $3"
    aws dynamodb restore-table-from-backup --backup-arn "$3" "${args[@]}" --output json >/dev/null
  elif [ "$latest" = 1 ]; then
    say "restoring $1 → $2 to its latest restorable time"
    aws dynamodb restore-table-to-point-in-time --source-table-name "$1" --use-latest-restorable-time \
      "${args[@]}" --output json >/dev/null
  else
    say "restoring $1 → $2 to $when"
    aws dynamodb restore-table-to-point-in-time --source-table-name "$1" --restore-date-time "$when" \
      "${args[@]}" --output json >/dev/null
  fi
}
if [ "$latest" = 1 ]; then
  # Both tables to one moment: the earlier of the two latest restorable times.
  when=$(for t in "$table" "$claims"; do
    aws dynamodb describe-continuous-backups --table-name "$t" --region "$region" \
      --query 'ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime' --output text
  done | python3 -c '
import datetime, sys
times = [datetime.datetime.fromisoformat(l.strip().replace("Z", "+00:00")) for l in sys.stdin if l.strip()]
if len(times) != 2 or any(t.tzinfo is None for t in times):
    sys.exit(1)
print(min(times).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
') || die "point-in-time recovery is not enabled on $table and $claims (no latest restorable time): restore from a backup"
  latest=0
  say "the latest moment both tables can be restored to: $when"
fi
restore "$table" "$target" "$users_backup"
restore "$claims" "$target_claims" "$claims_backup"

wait_active() {
  say "waiting until $1 is ACTIVE"
  aws dynamodb wait table-exists --table-name "$1" --region "$region" || die "$1 did not become ACTIVE (see aws dynamodb describe-table --table-name $1)"
}
wait_active "$target"
wait_active "$target_claims"

# ---- what a restore does not carry over ----
say "time to live: expiresAt on $target_claims"
aws dynamodb update-time-to-live --table-name "$target_claims" --region "$region" \
  --time-to-live-specification Enabled=true,AttributeName=expiresAt --output json >/dev/null
if [ -n "$users_ttl_attr" ]; then
  say "time to live: $users_ttl_attr on $target (as on $table)"
  aws dynamodb update-time-to-live --table-name "$target" --region "$region" \
    --time-to-live-specification "Enabled=true,AttributeName=$users_ttl_attr" --output json >/dev/null
fi
for t in "$target" "$target_claims"; do
  say "point-in-time recovery on $t"
  aws dynamodb update-continuous-backups --table-name "$t" --region "$region" \
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true --output json >/dev/null
done
if [ -n "$stream_view" ]; then
  say "stream $stream_view on $target (as on $table)"
  aws dynamodb update-table --table-name "$target" --region "$region" \
    --stream-specification "StreamEnabled=true,StreamViewType=$stream_view" --output json >/dev/null
  wait_active "$target"
fi
for t in "$target" "$target_claims"; do
  say "deletion protection on $t"
  aws dynamodb update-table --table-name "$t" --region "$region" --deletion-protection-enabled --output json >/dev/null
  wait_active "$t"
done
tag() { # SOURCE_DESCRIPTION TARGET
  local src_arn dst_arn tags
  src_arn=$(field "$1" 'd["Table"]["TableArn"]')
  dst_arn=$(aws dynamodb describe-table --table-name "$2" --region "$region" --query Table.TableArn --output text)
  tags=$(aws dynamodb list-tags-of-resource --resource-arn "$src_arn" --region "$region" --query Tags --output json)
  tags=$(printf '%s' "$tags" | python3 -c '
import json, sys
print(json.dumps([t for t in json.load(sys.stdin) or [] if not t["Key"].startswith("aws:")]))')
  if [ "$tags" != "[]" ]; then
    say "tags of the source on $2"
    aws dynamodb tag-resource --resource-arn "$dst_arn" --region "$region" --tags "$tags"
  fi
}
tag "$src_users" "$target"
tag "$src_claims" "$target_claims"

say "restored: $target and $target_claims"
if [ "$switch" = 0 ]; then
  cat <<EOF

To serve them: scripts/deploy.sh --stack $stack --region $region --no-package ExistingTableName=$target --smoke
(or run this again with --switch). To switch back later: docs/operations.md.
EOF
  exit 0
fi
deploy=(scripts/deploy.sh --stack "$stack" --region "$region" --no-package)
[ "$smoke" = 0 ] || deploy+=(--smoke)
deploy+=("ExistingTableName=$target")
say "pointing the stack at the restored tables: ${deploy[*]}"
"${deploy[@]}"
