#!/usr/bin/env bash
# API keys per client on the stack's usage plan (ApiType=REST with Auth=API_KEY). The usage
# plan's throttle and quota apply to each key on its own, so one key per client is what makes
# the limits per client. Key values are printed only with --show-value.
#
#   scripts/api-keys.sh [--stack NAME] [--region REGION] COMMAND
#
#   add NAME [--show-value]     a new key <stack>-<NAME> for client NAME, on the usage plan
#   list                        the plan's keys: id, name, enabled, created
#   rotate NAME [--show-value]  a new key for client NAME (<stack>-<NAME>-<UTC stamp>); the
#                               old ones stay enabled until you revoke them, so the client
#                               can switch without an outage
#   revoke KEY_ID               takes the key off the usage plan and disables it (API Gateway
#                               refuses it from then on); delete it later with
#                               aws apigateway delete-api-key --api-key KEY_ID
#
#   --stack NAME      stack name (default $USERS_STACK, else users-api)
#   --region REGION   AWS Region (default $AWS_REGION, $AWS_DEFAULT_REGION, the CLI's profile)
#
# NAME: 1 to 64 characters [A-Za-z0-9._-]. The stack's own key (output ApiKeyId) belongs to
# CloudFormation: revoke refuses it. Needs the AWS CLI v2.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh

stack=${USERS_STACK:-users-api}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
show=0
words=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) stack=${2:?--stack needs a value}; shift 2 ;;
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --show-value) show=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) words+=("$1"); shift ;;
  esac
done
[ ${#words[@]} -gt 0 ] || die "which command: add NAME, list, rotate NAME or revoke KEY_ID (see --help)"
cmd=${words[0]}
arg=${words[1]:-}
case "$cmd" in
  add | rotate)
    [ ${#words[@]} = 2 ] || die "$cmd takes one client NAME"
    [[ $arg =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "NAME must be 1 to 64 characters [A-Za-z0-9._-], not '$arg'"
    ;;
  revoke)
    [ ${#words[@]} = 2 ] || die "revoke takes one KEY_ID (see list)"
    [[ $arg =~ ^[a-z0-9]{1,64}$ ]] || die "'$arg' is not an API key id (see list)"
    ;;
  list) [ ${#words[@]} = 1 ] || die "list takes no argument" ;;
  *) die "unknown command: $cmd (add, list, rotate, revoke)" ;;
esac
[ "$show" = 0 ] || [ "$cmd" = add ] || [ "$cmd" = rotate ] || die "--show-value goes with add or rotate"
command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not installed"
if [ -z "$region" ]; then region=$(aws configure get region 2>/dev/null || true); fi
[ -n "$region" ] || die "no AWS Region: pass --region or set AWS_REGION"

out() {
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
plan=$(out UsagePlanId) || die "stack $stack not found in $region (or no permission to describe it)"
if [ -z "$plan" ] || [ "$plan" = None ]; then
  die "stack $stack has no UsagePlanId output: keys per client need ApiType=REST and Auth=API_KEY"
fi
stack_key=$(out ApiKeyId || true)

# The plan's keys as lines "ID<tab>NAME".
plan_keys() {
  aws apigateway get-usage-plan-keys --usage-plan-id "$plan" --region "$region" --output json | python3 -c '
import json, sys
for k in json.load(sys.stdin).get("items", []):
    print("%s\t%s" % (k["id"], k.get("name", "")))'
}

new_key() { # KEY_NAME CLIENT
  local id
  say "creating API key $1 (client $2)"
  id=$(aws apigateway create-api-key --name "$1" --enabled --tags "client=$2,stack=$stack" \
    --region "$region" --query id --output text) || die "cannot create the API key $1"
  say "adding $id to usage plan $plan"
  aws apigateway create-usage-plan-key --usage-plan-id "$plan" --key-id "$id" --key-type API_KEY \
    --region "$region" --output json >/dev/null || die "cannot add key $id to usage plan $plan (the key exists, unused: aws apigateway delete-api-key --api-key $id)"
  echo "key id: $id"
  if [ "$show" = 1 ]; then
    echo "value:  $(aws apigateway get-api-key --api-key "$id" --include-value --region "$region" --query value --output text)"
  else
    echo "(its value: scripts/api-keys.sh is quiet about it; aws apigateway get-api-key --api-key $id --include-value)"
  fi
}

case "$cmd" in
  add)
    if plan_keys | cut -f2 | grep -qxF -- "$stack-$arg"; then
      die "client $arg already has a key ($stack-$arg): use rotate for a new one"
    fi
    new_key "$stack-$arg" "$arg"
    ;;
  rotate)
    old=$(plan_keys | awk -F '\t' -v n="$stack-$arg" '$2 == n || index($2, n "-") == 1 && substr($2, length(n) + 2) ~ /^[0-9]+T[0-9]+Z$/ && length($2) == length(n) + 17 { print $1 }')
    [ -n "$old" ] || die "client $arg has no key on the plan: use add"
    new_key "$stack-$arg-$(date -u +%Y%m%dT%H%M%SZ)" "$arg"
    echo
    echo "The old key(s) of $arg stay enabled. Once the client uses the new one:"
    for id in $old; do echo "  scripts/api-keys.sh --stack $stack --region $region revoke $id"; done
    ;;
  list)
    printf '%-12s %-40s %-8s %s\n' ID NAME ENABLED CREATED
    plan_keys | while IFS=$'\t' read -r id name; do
      aws apigateway get-api-key --api-key "$id" --region "$region" --output json | python3 -c '
import json, sys
k = json.load(sys.stdin)
mark = " (the stack'"'"'s own key)" if sys.argv[2] and k["id"] == sys.argv[2] else ""
print("%-12s %-40s %-8s %s%s" % (k["id"], k.get("name", sys.argv[1]), str(k.get("enabled", False)).lower(),
                                 k.get("createdDate", ""), mark))' "$name" "$stack_key"
    done
    ;;
  revoke)
    [ "$arg" != "$stack_key" ] || die "$arg is the stack's own key (ApiKeyId): CloudFormation manages it; give clients their own keys and leave it unused, or deploy with another Auth"
    plan_keys | cut -f1 | grep -qxF -- "$arg" || die "key $arg is not on usage plan $plan (see list)"
    say "removing $arg from usage plan $plan"
    aws apigateway delete-usage-plan-key --usage-plan-id "$plan" --key-id "$arg" --region "$region"
    say "disabling $arg"
    aws apigateway update-api-key --api-key "$arg" --patch-operations op=replace,path=/enabled,value=false \
      --region "$region" --output json >/dev/null
    echo "key $arg is revoked (API Gateway caches keys briefly: allow a minute). To delete it: aws apigateway delete-api-key --api-key $arg --region $region"
    ;;
esac
