#!/usr/bin/env bash
# Removes the Users API stack. The DynamoDB tables (users and claims) are NOT deleted: they are
# retained (DeletionPolicy Retain) and deletion-protected, so that a mistaken destroy never
# loses users or the uniqueness of their emails. This script says how to delete them by hand.
#
#   scripts/destroy.sh [--stack NAME] [--region REGION] [--yes]
#
#   --stack NAME      stack name (default $USERS_STACK, else users-api)
#   --region REGION   AWS Region (default $AWS_REGION, $AWS_DEFAULT_REGION, the CLI's profile)
#   --yes             do not ask for confirmation
#
# Needs the AWS SAM CLI (`sam delete`, which also removes the uploaded artifacts) or the AWS
# CLI v2 (`aws cloudformation delete-stack`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
. scripts/lib.sh

stack=${USERS_STACK:-users-api}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
yes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) stack=${2:?--stack needs a value}; shift 2 ;;
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --yes | -y) yes=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

have_aws=0
command -v aws >/dev/null 2>&1 && have_aws=1
command -v sam >/dev/null 2>&1 || [ "$have_aws" = 1 ] \
  || die "neither the AWS SAM CLI (sam) nor the AWS CLI (aws) is installed"
if [ -z "$region" ] && [ "$have_aws" = 1 ]; then region=$(aws configure get region 2>/dev/null || true); fi
[ -n "$region" ] || die "no AWS Region: pass --region or set AWS_REGION"

# The table's name, to say what is left behind (the stack's output, else the default).
table=Users
if [ "$have_aws" = 1 ]; then
  table=$(aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue" --output text 2>/dev/null) \
    || die "stack $stack not found in $region (or no permission to describe it)"
  [ -n "$table" ] && [ "$table" != None ] || table=Users
fi
# The template names the claims table after the users table.
claims=$table-claims

if [ "$yes" != 1 ]; then
  [ -t 0 ] || die "not a terminal: pass --yes to delete stack $stack in $region"
  read -r -p "Delete stack $stack in $region (the tables $table and $claims stay)? [y/N] " answer
  [[ $answer =~ ^[Yy] ]] || die "cancelled"
fi

if command -v sam >/dev/null 2>&1; then
  say "sam delete --stack-name $stack --region $region --no-prompts"
  sam delete --stack-name "$stack" --region "$region" --no-prompts
else
  say "aws cloudformation delete-stack --stack-name $stack --region $region"
  aws cloudformation delete-stack --stack-name "$stack" --region "$region"
  say "waiting for the deletion to finish"
  aws cloudformation wait stack-delete-complete --stack-name "$stack" --region "$region" \
    || die "the stack did not delete cleanly: see its events (aws cloudformation describe-stack-events --stack-name $stack --region $region)"
fi

cat <<EOF

Stack $stack is deleted. Left on purpose:

  - The DynamoDB tables "$table" (the users, with their stream) and "$claims" (email claims
    and idempotency records), both with DeletionPolicy Retain, deletion protection and
    point-in-time recovery. Redeploying with the same TableName fails while they exist. To
    delete them for good (irreversible; back them up first if in doubt):

      aws dynamodb create-backup --table-name $table --backup-name $table-final --region $region
      aws dynamodb update-table --table-name $table --no-deletion-protection-enabled --region $region
      aws dynamodb delete-table --table-name $table --region $region

      aws dynamodb create-backup --table-name $claims --backup-name $claims-final --region $region
      aws dynamodb update-table --table-name $claims --no-deletion-protection-enabled --region $region
      aws dynamodb delete-table --table-name $claims --region $region

  - The API Gateway CloudWatch Logs role, if the stack created it (ConfigureApiGatewayAccount):
    the account's API Gateway setting still points at it. Delete it only if no other API
    in this account and Region writes logs.
EOF
