#!/usr/bin/env bash
# Deploys the Users API to AWS: builds the package (scripts/package.sh), deploys
# infra/template.yaml as a CloudFormation stack, prints the API's base URL, and runs
# scripts/smoke.sh against it when asked.
#
#   scripts/deploy.sh [--stack NAME] [--region REGION] [--guided] [--smoke] [--no-package]
#                     [--s3-bucket BUCKET] [KEY=VALUE ...]
#
#   --stack NAME      stack name (default $USERS_STACK, else users-api)
#   --region REGION   AWS Region (default $AWS_REGION, $AWS_DEFAULT_REGION, the CLI's profile)
#   --guided          sam deploy --guided: asks for every parameter and saves the answers in
#                     samconfig.toml (the default on the first run from a terminal)
#   --smoke           afterwards, run scripts/smoke.sh BASE_URL (needs Auth=NONE)
#   --no-package      deploy the existing build/lambda.zip as it is
#   --s3-bucket B     artifacts bucket; needed only without the SAM CLI (aws cloudformation
#                     package); with SAM, a managed bucket is used (--resolve-s3)
#   KEY=VALUE         template parameters, e.g. Auth=API_KEY AlarmEmail=ops@example.com
#                     (given any, they replace those saved in samconfig.toml)
#
# Needs the AWS SAM CLI (`sam`), or else the AWS CLI v2 (`aws`), and credentials for the
# account (environment, profile or SSO). The stack needs CAPABILITY_IAM (it creates roles)
# and CAPABILITY_AUTO_EXPAND (SAM and AWS::Include are transforms).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh
root=$(pwd)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

stack=${USERS_STACK:-users-api}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
guided=auto
smoke=0
package=1
bucket=
overrides=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) stack=${2:?--stack needs a value}; shift 2 ;;
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --guided) guided=1; shift ;;
    --no-guided) guided=0; shift ;;
    --smoke) smoke=1; shift ;;
    --no-package) package=0; shift ;;
    --s3-bucket) bucket=${2:?--s3-bucket needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *=*) overrides+=("$1"); shift ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $stack =~ ^[A-Za-z][A-Za-z0-9-]{0,127}$ ]] || die "--stack must be a CloudFormation stack name, not '$stack'"
for kv in ${overrides[@]+"${overrides[@]}"}; do
  [[ ${kv%%=*} =~ ^[A-Za-z0-9]+$ ]] || die "'$kv' is not KEY=VALUE with a template parameter name"
done

# ---- tools ----
tool=
if command -v sam >/dev/null 2>&1; then
  tool=sam
  say "using the AWS SAM CLI: $(sam --version 2>/dev/null || echo sam)"
elif command -v aws >/dev/null 2>&1; then
  tool=aws
  say "the SAM CLI is not installed: using the AWS CLI ($(aws --version 2>&1 | cut -d' ' -f1))"
  [ -n "$bucket" ] || die "without the SAM CLI, pass --s3-bucket BUCKET (an existing bucket for the artifacts), or install the SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
else
  die "neither the AWS SAM CLI (sam) nor the AWS CLI (aws) is installed. Install the SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
fi

# ---- credentials and Region ----
if [ -z "$region" ] && command -v aws >/dev/null 2>&1; then
  region=$(aws configure get region 2>/dev/null || true)
fi
if command -v aws >/dev/null 2>&1; then
  say "checking AWS credentials (aws sts get-caller-identity)"
  identity=$(aws sts get-caller-identity ${region:+--region "$region"} --query Arn --output text 2>&1) \
    || die "no usable AWS credentials: $identity (set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
  say "deploying as $identity"
elif [ -z "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}" ] && [ ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ] \
  && [ ! -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]; then
  die "no AWS credentials found (no AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws/credentials)"
fi

config="$root/samconfig.toml"
if [ "$guided" = auto ]; then
  guided=0
  if [ "$tool" = sam ] && [ ! -f "$config" ] && [ -t 0 ]; then
    say "first deployment from this checkout: sam deploy --guided (answers saved in samconfig.toml)"
    guided=1
  fi
fi
if [ "$guided" = 1 ] && [ "$tool" != sam ]; then die "--guided needs the SAM CLI"; fi
if [ "$guided" = 0 ] && [ -z "$region" ]; then
  die "no AWS Region: pass --region, set AWS_REGION, or configure one (aws configure set region ...)"
fi

auth=NONE
for kv in ${overrides[@]+"${overrides[@]}"}; do
  [ "${kv%%=*}" = Auth ] && auth=${kv#*=}
done
if [ "$smoke" = 1 ] && [ "$auth" != NONE ]; then
  die "--smoke sends unauthenticated requests: it needs Auth=NONE (this deployment: Auth=$auth)"
fi

# ---- the package ----
if [ "$package" = 1 ]; then
  say "building the package (scripts/package.sh)"
  scripts/package.sh
fi
[ -f build/lambda.zip ] || die "build/lambda.zip is missing: run scripts/package.sh (or drop --no-package)"

# ---- deploy ----
template=infra/template.yaml
capabilities=(CAPABILITY_IAM CAPABILITY_AUTO_EXPAND)
if [ "$tool" = sam ]; then
  args=(deploy --template-file "$template" --stack-name "$stack" --capabilities "${capabilities[@]}"
        --no-fail-on-empty-changeset)
  [ -n "$region" ] && args+=(--region "$region")
  [ ${#overrides[@]} -gt 0 ] && args+=(--parameter-overrides "${overrides[@]}")
  if [ "$guided" = 1 ]; then
    args+=(--guided --config-file "$config")
  else
    # A saved configuration names its own artifacts bucket; else SAM's managed one.
    if [ -f "$config" ]; then args+=(--config-file "$config"); else args+=(--resolve-s3); fi
    args+=(--no-confirm-changeset)
  fi
  say "sam ${args[*]}"
  sam "${args[@]}"
  if [ -z "$region" ]; then
    region=$(sed -n 's/^region *= *"\(.*\)"/\1/p' "$config" 2>/dev/null | head -n1)
    [ -n "$region" ] || die "deployed, but the Region is unknown: pass --region to read the outputs"
  fi
  outputs=$(sam list stack-outputs --stack-name "$stack" --region "$region" --output json)
else
  packaged=$(mktemp /tmp/users-api-packaged-XXXXXX.yaml)
  trap 'rm -f "$packaged"' EXIT
  say "aws cloudformation package → s3://$bucket"
  aws cloudformation package --template-file "$template" --s3-bucket "$bucket" --s3-prefix "$stack" \
    --output-template-file "$packaged" --region "$region"
  args=(cloudformation deploy --template-file "$packaged" --stack-name "$stack" --region "$region"
        --capabilities "${capabilities[@]}" --no-fail-on-empty-changeset)
  [ ${#overrides[@]} -gt 0 ] && args+=(--parameter-overrides "${overrides[@]}")
  say "aws ${args[*]}"
  aws "${args[@]}"
  outputs=$(aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query 'Stacks[0].Outputs' --output json)
fi

url=$(printf '%s' "$outputs" | python3 -c '
import json, sys
for o in json.load(sys.stdin) or []:
    if o.get("OutputKey") == "ApiUrl":
        print(o["OutputValue"])
')
[ -n "$url" ] || die "the stack $stack has no ApiUrl output"
say "stack $stack in $region is up"
printf '%s' "$outputs" | python3 -c '
import json, sys
for o in json.load(sys.stdin) or []:
    print("    %-16s %s" % (o["OutputKey"], o["OutputValue"]))
'
echo
echo "API base URL: $url"

if [ "$smoke" = 1 ]; then
  [ -x scripts/smoke.sh ] || die "scripts/smoke.sh is missing"
  say "smoke test: scripts/smoke.sh $url"
  scripts/smoke.sh "$url"
fi
