#!/usr/bin/env bash
# install: the dependency install command (npm ci / npm install / the override), clean environment; skipped when
# cache-restore brought its result back.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
if [[ -z "$PLAN_INSTALL" ]]; then
  log "install: nothing to install"
  exit 0
fi
if [[ -f "$OUT/cache.env" ]] && grep -qx 'CACHE_INSTALL_RESTORED=1' "$OUT/cache.env"; then
  # cache-restore brought back what this frozen install writes, under the same lockfile, toolchain and command.
  log "install skipped: the cache holds its result for this lockfile, toolchain and command"
  exit 0
fi
run_user_command install "$PLAN_INSTALL"
