#!/usr/bin/env bash
# The AWS mode on this machine, against moto: one command prepares everything terraform/ would make in an account
# (VPC and subnets, security group, ALB and listener, ECS cluster; DynamoDB tables and the S3 bucket are made by the
# platform on first use) and prints the environment for `npm start`:
#   eval "$(scripts/aws-local.sh)" && npm start
# It starts moto with scripts/moto.sh up unless AWS_ENDPOINT_URL already names an emulator. Running it again finds
# the same network (named CLOUDSMITH_AWS_LOCAL_NAME, default cloudsmith-local) instead of making another.
# moto registers ECS services but runs no tasks: a deploy goes live once its service is ACTIVE behind the ALB rule.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  bash "$REPO/scripts/moto.sh" up >&2
  eval "$(bash "$REPO/scripts/moto.sh" env)"
  export AWS_ENDPOINT_URL="$CLOUDSMITH_TEST_AWS_ENDPOINT"
fi
cd "$REPO/backend"
exec node --import tsx src/cli/awsLocal/main.ts
