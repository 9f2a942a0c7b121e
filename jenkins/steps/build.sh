#!/usr/bin/env bash
# build: the build command (npm run build / next build / the override), clean environment.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
if [[ -z "$PLAN_BUILD" ]]; then
  log "build: no build step"
  exit 0
fi
run_user_command build "$PLAN_BUILD"
