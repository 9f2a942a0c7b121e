#!/usr/bin/env bash
# upload: with ARTIFACT_BUCKET, copies the artifact to s3://ARTIFACT_BUCKET/ARTIFACT_KEY (the agent's AWS
# credentials; AWS_ENDPOINT_URL is honoured for S3-compatible stores). Without it the Jenkinsfile archives the
# artifact with the build and the platform collects it from Jenkins.
# The object carries its sha256 and, as `cloudsmith-plan`, the run plan (RUN_PLAN, base64 JSON from the platform):
# the upload event starts the artifact-uploaded Lambda, which releases the artifact with that plan.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
artifact="$OUT/artifact.tar.gz"
[[ -f "$artifact" ]] || fail "the package stage did not produce an artifact"
if [[ -z "${ARTIFACT_BUCKET:-}" ]]; then
  log "upload: no ARTIFACT_BUCKET, the artifact is archived with the build"
  exit 0
fi
: "${ARTIFACT_KEY:?ARTIFACT_KEY is required with ARTIFACT_BUCKET}"
[[ "$ARTIFACT_KEY" =~ ^[A-Za-z0-9._/-]+$ ]] || fail "ARTIFACT_KEY contains unexpected characters"
load_plan
# The plan the package step decided from the build output (RUN_RULES) beats the one detected before it.
run_plan="${PLAN_RUN:-${RUN_PLAN:-}}"
[[ -n "$run_plan" ]] || fail "RUN_PLAN is required with ARTIFACT_BUCKET: the release reads it from the object"
# Base64 only, so it can sit inside the JSON below as it is.
[[ "$run_plan" =~ ^[A-Za-z0-9+/=]+$ ]] || fail "RUN_PLAN is not base64"
. "$OUT/artifact.env"
metadata="{\"sha256\":\"$ARTIFACT_SHA256\",\"cloudsmith-plan\":\"$run_plan\"}"
aws s3 cp --only-show-errors --metadata "$metadata" "$artifact" "s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY" \
  || fail "could not upload the artifact to s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY"
log "uploaded s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY"
