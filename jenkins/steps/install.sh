#!/usr/bin/env bash
# install: the dependency install command (npm ci / npm install / the override), clean environment.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
if [[ -z "$PLAN_INSTALL" ]]; then
  log "install: nothing to install"
  exit 0
fi
run_user_command install "$PLAN_INSTALL"
