#!/usr/bin/env bash
# notify: POSTs the result to CALLBACK_URL as JSON. Usage: notify.sh SUCCESS|FAILURE|ABORTED.
# A callback that cannot be reached is reported but does not change the build's result: the platform reads
# the result from Jenkins' API anyway.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
result="${1:?usage: notify.sh SUCCESS|FAILURE|ABORTED}"
[[ "$result" =~ ^(SUCCESS|FAILURE|ABORTED)$ ]] || fail "unknown result '$result'"
if [[ -z "${CALLBACK_URL:-}" ]]; then
  log "notify: no CALLBACK_URL"
  exit 0
fi
sha256="" size=0
if [[ -f "$OUT/artifact.env" && "$result" == SUCCESS ]]; then
  . "$OUT/artifact.env"
  sha256="$ARTIFACT_SHA256" size="$ARTIFACT_SIZE"
fi
json_string() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
body="{\"deploymentId\":$(json_string "${DEPLOYMENT_ID:-}"),\"result\":\"$result\",\"buildUrl\":$(json_string "${BUILD_URL:-}"),\"artifactKey\":$(json_string "${ARTIFACT_KEY:-}"),\"sha256\":\"$sha256\",\"size\":$size}"
if curl -fsS --max-time 10 --retry 2 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$body" "$CALLBACK_URL"; then
  log "notify: $result sent"
else
  log "notify: could not reach the callback URL"
fi
