#!/usr/bin/env bash
# Deploys the Users API to AWS: builds the package for the stack's architecture
# (scripts/package.sh), deploys infra/template.yaml as a CloudFormation stack, shows the
# gradual deployment of the new function version (CodeDeploy) while it runs, prints the API's
# base URL, and runs scripts/smoke.sh against it with the right credential when asked.
#
#   scripts/deploy.sh [--stack NAME] [--region REGION] [--guided] [--smoke] [--no-package]
#                     [--public] [--s3-bucket BUCKET] [KEY=VALUE ...]
#
#   --stack NAME      stack name (default $USERS_STACK, else users-api)
#   --region REGION   AWS Region (default $AWS_REGION, $AWS_DEFAULT_REGION, the CLI's profile)
#   --guided          sam deploy --guided: asks for every parameter and saves the answers in
#                     samconfig.toml (the default on the first run from a terminal)
#   --smoke           afterwards, run scripts/smoke.sh BASE_URL with the credential the
#                     stack's Auth asks for: API_KEY the stack's key (apigateway get-api-key);
#                     IAM the deployer's credentials (the environment's, else aws configure
#                     export-credentials); COGNITO with the stack's own user pool a temporary
#                     user (created, used, always deleted); COGNITO with an existing pool the
#                     ID token in $USERS_SMOKE_TOKEN; NONE nothing
#   --no-package      deploy the existing zip as it is (build/lambda.zip for x86_64,
#                     build/lambda-arm64.zip for arm64)
#   --public          allow Auth=NONE: without it, deploy.sh refuses to make the API public
#   --s3-bucket B     artifacts bucket; needed only without the SAM CLI (aws cloudformation
#                     package); with SAM, a managed bucket is used (--resolve-s3)
#   KEY=VALUE         template parameters, e.g. Auth=API_KEY Architecture=arm64
#                     (given any, they replace those saved in samconfig.toml)
#
# The parameters deploy.sh acts on (Auth, Architecture, CognitoUserPoolArn) are the ones
# CloudFormation will use: KEY=VALUE, else samconfig.toml's parameter_overrides, else the
# existing stack's value, else the template's default. The template is deployed from a copy
# in build/deploy/ whose CodeUri names the chosen zip (infra/ stays as it is).
#
# Gradual deployments: on an update that publishes a new function version, CodeDeploy shifts
# the alias `live` to it (DeploymentStrategy) and rolls back when an error alarm fires.
# deploy.sh prints the deployment's status and the share of traffic on the new version
# every $USERS_DEPLOY_POLL_SECONDS (default 15) and exits non-zero when CodeDeploy rolled
# back or the stack update failed.
#
# Needs the AWS SAM CLI (`sam`), or else the AWS CLI v2 (`aws`), and credentials for the
# account (environment, profile or SSO); the progress, the safety checks against the existing
# stack and --smoke need the AWS CLI. The stack needs CAPABILITY_IAM (it creates roles) and
# CAPABILITY_AUTO_EXPAND (SAM and AWS::Include are transforms).
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
public=0
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
    --public) public=1; shift ;;
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
poll=${USERS_DEPLOY_POLL_SECONDS:-15}
[[ $poll =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "USERS_DEPLOY_POLL_SECONDS must be a number of seconds, not '$poll'"

# ---- tools ----
tool=
have_aws=0
command -v aws >/dev/null 2>&1 && have_aws=1
if command -v sam >/dev/null 2>&1; then
  tool=sam
  say "using the AWS SAM CLI: $(sam --version 2>/dev/null || echo sam)"
elif [ "$have_aws" = 1 ]; then
  tool=aws
  say "the SAM CLI is not installed: using the AWS CLI ($(aws --version 2>&1 | cut -d' ' -f1))"
  [ -n "$bucket" ] || die "without the SAM CLI, pass --s3-bucket BUCKET (an existing bucket for the artifacts), or install the SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
else
  die "neither the AWS SAM CLI (sam) nor the AWS CLI (aws) is installed. Install the SAM CLI: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
fi

# ---- credentials and Region ----
if [ -z "$region" ] && [ "$have_aws" = 1 ]; then
  region=$(aws configure get region 2>/dev/null || true)
fi
if [ "$have_aws" = 1 ]; then
  say "checking AWS credentials (aws sts get-caller-identity)"
  identity=$(aws sts get-caller-identity ${region:+--region "$region"} --query Arn --output text 2>&1) \
    || die "no usable AWS credentials: $identity (set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
  say "deploying as $identity"
elif [ -z "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}" ] && [ ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ] \
  && [ ! -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]; then
  die "no AWS credentials found (no AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws/credentials)"
fi
[ "$smoke" = 0 ] || [ "$have_aws" = 1 ] || die "--smoke needs the AWS CLI (aws): it reads the stack's outputs and credentials"

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

tmp=$(mktemp -d /tmp/users-deploy-XXXXXX)
chmod 700 "$tmp"
temp_user= # a temporary Cognito user of --smoke, deleted on every exit
temp_pool=
# shellcheck disable=SC2317 # (reached through the EXIT trap)
on_exit() {
  if [ -n "$temp_user" ]; then
    say "deleting the temporary user $temp_user (aws cognito-idp admin-delete-user)"
    aws cognito-idp admin-delete-user --user-pool-id "$temp_pool" --username "$temp_user" --region "$region" \
      || echo "deploy.sh: could not delete the temporary user $temp_user from $temp_pool: delete it by hand" >&2
  fi
  rm -rf "$tmp"
}
trap on_exit EXIT

# ---- the stack as it is (if it exists): its parameters and outputs ----
: >"$tmp/stack.json"
if [ "$have_aws" = 1 ] && [ -n "$region" ]; then
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" --output json \
    >"$tmp/stack.json" 2>/dev/null || : >"$tmp/stack.json"
fi
# previous KEY: the existing stack's output KEY ('' when none).
previous_output() {
  python3 - "$tmp/stack.json" "$1" <<'EOF'
import json, sys
try:
    stack = json.load(open(sys.argv[1]))["Stacks"][0]
except (ValueError, KeyError, IndexError):
    sys.exit(0)
for o in stack.get("Outputs") or []:
    if o.get("OutputKey") == sys.argv[2]:
        print(o.get("OutputValue", ""))
EOF
}

# ---- the parameters CloudFormation will use ----
# param KEY: KEY=VALUE given here, else samconfig.toml's (when none is given: SAM replaces the
# saved list with the given one), else the existing stack's, else the template's default.
param() {
  python3 - "$1" "$root/infra/template.yaml" "$config" "$tmp/stack.json" ${overrides[@]+"${overrides[@]}"} <<'EOF'
import json, re, shlex, sys
key, template, config, stack_file, given = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]

def pairs(items):
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out

if given:
    source = pairs(given)
else:
    source = {}
    try:
        import tomllib
        with open(config, "rb") as f:
            saved = tomllib.load(f).get("default", {}).get("deploy", {}).get("parameters", {})
        po = saved.get("parameter_overrides", [])
        source = pairs(shlex.split(po) if isinstance(po, str) else po)
    except FileNotFoundError:
        pass
if key in source:
    print(source[key])
    sys.exit(0)
try:
    stack = json.load(open(stack_file))["Stacks"][0]
    for p in stack.get("Parameters") or []:
        if p.get("ParameterKey") == key:
            print(p.get("ParameterValue", ""))
            sys.exit(0)
except (ValueError, KeyError, IndexError):
    pass
text = open(template, encoding="utf-8").read()
block = re.search(r"^Parameters:\n(.*?)^\S", text, re.S | re.M)
m = block and re.search(r"^  %s:\n((?:    .*\n|\s*\n)*)" % re.escape(key), block.group(1), re.M)
d = m and re.search(r"^    Default:[ \t]*(.*?)[ \t]*$", m.group(1), re.M)
if d:
    print(d.group(1).strip("'\""))
EOF
}

auth=$(param Auth)
arch=$(param Architecture)
user_pool_arn=$(param CognitoUserPoolArn)
[ -n "$arch" ] || arch=x86_64
say "parameters: Auth=${auth:-?} Architecture=$arch"

# ---- secure by default ----
if [ "$auth" = NONE ]; then
  if [ "$public" != 1 ]; then
    die "refusing to deploy with Auth=NONE: the API would be public, and anyone on the internet
who finds its URL could list every user's name and email, change any user and delete them all.
Choose an Auth that needs a credential (Auth=IAM, Auth=API_KEY or Auth=COGNITO), or pass
--public if this stage is meant to be open (a throwaway stage without real data)."
  fi
  say "WARNING: Auth=NONE with --public: anyone on the internet can read, change and delete every user of this API"
fi
if [ "$smoke" = 1 ] && [ "$auth" = COGNITO ] && [ -n "$user_pool_arn" ] && [ -z "${USERS_SMOKE_TOKEN:-}" ]; then
  die "--smoke with Auth=COGNITO and an existing user pool ($user_pool_arn) needs an ID token of one of its users for an app client the API accepts: export USERS_SMOKE_TOKEN=<token> (deploy.sh creates a temporary user only in a pool the stack created itself)"
fi

# ---- the package for the stack's architecture ----
case "$arch" in
  x86_64) zip=build/lambda.zip; package_args=() ;;
  arm64) zip=build/lambda-arm64.zip; package_args=(--arch arm64) ;;
  *) die "Architecture must be x86_64 or arm64, not '$arch'" ;;
esac
if [ "$package" = 1 ]; then
  say "building the $arch package (scripts/package.sh ${package_args[*]+"${package_args[*]}"})"
  scripts/package.sh ${package_args[@]+"${package_args[@]}"}
fi
[ -f "$zip" ] || die "$zip is missing: run scripts/package.sh ${package_args[*]+"${package_args[*]}"} (or drop --no-package)"

# The template as deployed: infra/*.yaml copied to build/deploy/, CodeUri naming the zip.
stage=build/deploy
rm -rf "$stage"
mkdir -p "$stage"
cp infra/*.yaml "$stage"/
python3 - "$stage/template.yaml" "../${zip#build/}" <<'EOF' || die "cannot stage the template: infra/template.yaml must have exactly one 'CodeUri: ../build/lambda.zip'"
import sys
path, code_uri = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
old = "CodeUri: ../build/lambda.zip"
if text.count(old) != 1:
    sys.exit(1)
open(path, "w", encoding="utf-8").write(text.replace(old, "CodeUri: " + code_uri))
EOF
template=$stage/template.yaml
say "deploying $zip ($arch) with $template"

# ---- gradual deployment: CodeDeploy's progress ----
cd_app=$(previous_output DeploymentApplication)
cd_group=$(previous_output DeploymentGroup)
deploy_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$tmp/codedeploy.seen"
# One look at the CodeDeploy deployments of this run: prints what changed since the last look,
# records each deployment's last status in $tmp/codedeploy.seen ("ID<tab>STATUS<tab>text").
codedeploy_look() {
  [ "$have_aws" = 1 ] && [ -n "$cd_app" ] && [ -n "$cd_group" ] || return 0
  local ids id info target weight line
  ids=$(aws deploy list-deployments --application-name "$cd_app" --deployment-group-name "$cd_group" \
    --create-time-range "start=$deploy_start" --region "$region" --query 'deployments' --output text 2>/dev/null) || return 0
  for id in $ids; do
    [ "$id" != None ] || continue
    info=$(aws deploy get-deployment --deployment-id "$id" --region "$region" --output json 2>/dev/null) || continue
    weight=
    target=$(aws deploy list-deployment-targets --deployment-id "$id" --region "$region" \
      --query 'targetIds[0]' --output text 2>/dev/null) || target=
    if [ -n "$target" ] && [ "$target" != None ]; then
      weight=$(aws deploy get-deployment-target --deployment-id "$id" --target-id "$target" --region "$region" \
        --query 'deploymentTarget.lambdaTarget.lambdaFunctionInfo.targetVersionWeight' --output text 2>/dev/null) || weight=
    fi
    line=$(printf '%s' "$info" | python3 -c '
import json, sys
d = json.load(sys.stdin)["deploymentInfo"]
weight = sys.argv[2]
status = d.get("status", "?")
msg = (d.get("errorInformation") or {}).get("message", "")
shifted = ""
try:
    shifted = ", %g%% of the traffic on the new version" % float(weight)
except ValueError:
    pass
rollback = (d.get("rollbackInfo") or {}).get("rollbackMessage", "")
text = "%s%s%s%s" % (status, shifted, ": " + msg if msg else "", " (" + rollback + ")" if rollback else "")
print("%s\t%s\t%s" % (sys.argv[1], status, " ".join(text.split())))
' "$id" "$weight")
    if ! grep -qxF -- "$line" "$tmp/codedeploy.last" 2>/dev/null; then
      say "CodeDeploy $id: ${line##*$'\t'}"
    fi
    grep -v "^$id"$'\t' "$tmp/codedeploy.seen" >"$tmp/codedeploy.tmp" || true
    printf '%s\n' "$line" >>"$tmp/codedeploy.tmp"
    mv "$tmp/codedeploy.tmp" "$tmp/codedeploy.seen"
  done
  cp "$tmp/codedeploy.seen" "$tmp/codedeploy.last"
}
# run_deploy COMMAND...: the deployment in the background, CodeDeploy's progress in front.
run_deploy() {
  local pid rc
  if [ "$guided" = 1 ] || [ -z "$cd_app" ] || [ "$have_aws" = 0 ]; then
    [ -n "$cd_app" ] || [ "$guided" = 1 ] || say "no CodeDeploy deployment to follow (a new stack, or one without DeploymentApplication)"
    if "$@"; then rc=0; else rc=$?; fi
  else
    say "following CodeDeploy ($cd_app / $cd_group) every ${poll}s"
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      codedeploy_look
      sleep "$poll"
    done
    if wait "$pid"; then rc=0; else rc=$?; fi
    codedeploy_look
  fi
  local failed
  failed=$(awk -F '\t' '$2 == "Failed" || $2 == "Stopped"' "$tmp/codedeploy.seen" | head -n 1)
  if [ -n "$failed" ]; then
    local id=${failed%%$'\t'*}
    die "CodeDeploy rolled back deployment $id (${failed##*$'\t'}): the alias 'live' is back on the previous version and CloudFormation rolls the stack back. See the alarms that fired (docs/operations.md) and aws deploy get-deployment --deployment-id $id --region $region"
  fi
  if [ "$rc" != 0 ]; then
    local status=
    if [ "$have_aws" = 1 ] && [ -n "$region" ]; then
      status=$(aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
        --query 'Stacks[0].StackStatus' --output text 2>/dev/null) || status=
    fi
    die "the deployment failed (exit $rc${status:+, stack status $status}): CloudFormation rolls a failed update back. See aws cloudformation describe-stack-events --stack-name $stack${region:+ --region $region}"
  fi
}

# ---- deploy ----
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
  run_deploy sam "${args[@]}"
  if [ -z "$region" ]; then
    region=$(sed -n 's/^region *= *"\(.*\)"/\1/p' "$config" 2>/dev/null | head -n1)
    [ -n "$region" ] || die "deployed, but the Region is unknown: pass --region to read the outputs"
  fi
  outputs=$(sam list stack-outputs --stack-name "$stack" --region "$region" --output json)
else
  packaged=$tmp/packaged.yaml
  say "aws cloudformation package → s3://$bucket"
  aws cloudformation package --template-file "$template" --s3-bucket "$bucket" --s3-prefix "$stack" \
    --output-template-file "$packaged" --region "$region"
  args=(cloudformation deploy --template-file "$packaged" --stack-name "$stack" --region "$region"
        --capabilities "${capabilities[@]}" --no-fail-on-empty-changeset)
  [ ${#overrides[@]} -gt 0 ] && args+=(--parameter-overrides "${overrides[@]}")
  say "aws ${args[*]}"
  run_deploy aws "${args[@]}"
  outputs=$(aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query 'Stacks[0].Outputs' --output json)
fi

# output KEY: the deployed stack's output ('' when none).
output() {
  printf '%s' "$outputs" | python3 -c '
import json, sys
for o in json.load(sys.stdin) or []:
    if o.get("OutputKey") == sys.argv[1]:
        print(o.get("OutputValue", ""))
' "$1"
}
url=$(output ApiUrl)
[ -n "$url" ] || die "the stack $stack has no ApiUrl output"
say "stack $stack in $region is up"
printf '%s' "$outputs" | python3 -c '
import json, sys
for o in json.load(sys.stdin) or []:
    print("    %-24s %s" % (o["OutputKey"], o["OutputValue"]))
'
echo
echo "API base URL: $url"

deployed_auth=$(output Auth)
[ -n "$deployed_auth" ] || deployed_auth=$auth
if [ "$deployed_auth" = NONE ] && [ "$public" != 1 ]; then
  die "the stack answers with Auth=NONE (chosen in the guided questions?): the API is PUBLIC. Redeploy with Auth=IAM, API_KEY or COGNITO, or pass --public if that is meant"
fi

[ "$smoke" = 1 ] || exit 0
[ -x scripts/smoke.sh ] || die "scripts/smoke.sh is missing"

# ---- smoke test with the credential the stack's Auth asks for ----
smoke_args=()
case "$deployed_auth" in
  NONE) ;;
  API_KEY)
    key_id=$(output ApiKeyId)
    [ -n "$key_id" ] || die "Auth=API_KEY but the stack has no ApiKeyId output"
    say "reading the API key $key_id (aws apigateway get-api-key --include-value)"
    USERS_SMOKE_API_KEY=$(aws apigateway get-api-key --api-key "$key_id" --include-value --region "$region" \
      --query value --output text) || die "cannot read the value of API key $key_id"
    export USERS_SMOKE_API_KEY
    smoke_args=(--api-key env:USERS_SMOKE_API_KEY)
    ;;
  IAM)
    if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
      say "signing with the deployer's credentials (aws configure export-credentials --format env)"
      creds=$(aws configure export-credentials --format env) \
        || die "cannot export the deployer's credentials for SigV4 (aws configure export-credentials); export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
      while IFS= read -r line; do
        if [[ $line =~ ^(export\ )?(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=(.*)$ ]]; then
          value=${BASH_REMATCH[3]}
          value=${value#[\"\']}
          value=${value%[\"\']}
          export "${BASH_REMATCH[2]}=$value"
        fi
      done <<<"$creds"
      if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
        die "aws configure export-credentials gave no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
      fi
    fi
    smoke_args=(--iam --region "$region")
    ;;
  COGNITO)
    pool=$(output UserPoolId)
    client=$(output UserPoolClientId)
    if [ -n "$pool" ] && [ -n "$client" ]; then
      smoke_user="smoke-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
      USERS_SMOKE_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24) + "aA1!")')
      export USERS_SMOKE_PASSWORD
      say "a temporary user $smoke_user in the stack's user pool $pool (aws cognito-idp admin-create-user)"
      aws cognito-idp admin-create-user --user-pool-id "$pool" --username "$smoke_user" \
        --message-action SUPPRESS --region "$region" --output json >/dev/null \
        || die "cannot create the temporary user in $pool"
      temp_user=$smoke_user
      temp_pool=$pool
      # The password goes in a file only this user can read, not on the command line.
      (umask 077 && python3 -c '
import json, os, sys
print(json.dumps({"UserPoolId": sys.argv[1], "Username": sys.argv[2],
                  "Password": os.environ["USERS_SMOKE_PASSWORD"], "Permanent": True}))
' "$pool" "$smoke_user" >"$tmp/set-password.json")
      aws cognito-idp admin-set-user-password --cli-input-json "file://$tmp/set-password.json" --region "$region" \
        || die "cannot set the temporary user's password"
      rm -f "$tmp/set-password.json"
      smoke_args=(--cognito-client-id "$client" --username "$smoke_user" --password env:USERS_SMOKE_PASSWORD
                  --region "$region")
    else
      [ -n "${USERS_SMOKE_TOKEN:-}" ] \
        || die "Auth=COGNITO with an existing user pool: export USERS_SMOKE_TOKEN=<an ID token of one of its users> for --smoke"
      smoke_args=(--bearer env:USERS_SMOKE_TOKEN)
    fi
    ;;
  *) die "the stack's Auth output is '$deployed_auth': no smoke credential for it" ;;
esac
say "smoke test: scripts/smoke.sh ${smoke_args[*]+"${smoke_args[*]}"} $url"
if scripts/smoke.sh ${smoke_args[@]+"${smoke_args[@]}"} "$url"; then rc=0; else rc=$?; fi
exit "$rc"
