#!/usr/bin/env bash
# detect: checks the tree against the plan the platform detected (root dir present, commands given) and
# records it in $WORKSPACE/out/plan.env for the stages after it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root="${ROOT_DIR:-.}"
[[ -z "$root" ]] && root=.
safe_relative "$root" "ROOT_DIR"
[[ -d "$SRC/$root" ]] || fail "root directory '$root' does not exist in the repository"
output="${OUTPUT_DIR:-}"
for candidate in $output; do safe_relative "$candidate" "OUTPUT_DIR"; done

mkdir -p "$OUT"
{
  printf 'PLAN_ROOT=%q\n' "$root"
  printf 'PLAN_INSTALL=%q\n' "${INSTALL_COMMAND:-}"
  printf 'PLAN_BUILD=%q\n' "${BUILD_COMMAND:-}"
  printf 'PLAN_OUTPUT=%q\n' "$output"
} > "$OUT/plan.env"

log "root dir: $root"
log "install: ${INSTALL_COMMAND:-(none)}"
log "build: ${BUILD_COMMAND:-(none)}"
log "package: ${output:-the whole root dir}"
