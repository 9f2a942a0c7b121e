#!/usr/bin/env bash
# Checks of terraform/: parses every .tf file with @cdktf/hcl2json (installed into the cache, not the workspace) and
# runs terraform.test.cjs (structural checks) and tools.test.cjs (terraform fmt, tflint, checkov).
# Last line: `terraform: N passed, M failed`; exits non-zero on failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}/hcl2json"
HCL2JSON_VERSION=0.21.0

if [[ ! -f "$CACHE/node_modules/@cdktf/hcl2json/package.json" ]] || ! grep -q "\"version\": \"$HCL2JSON_VERSION\"" "$CACHE/node_modules/@cdktf/hcl2json/package.json"; then
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --no-save --loglevel=error "@cdktf/hcl2json@$HCL2JSON_VERSION" >&2
fi

# The field's tools (terraform fmt, tflint, checkov): built once into the cache (minutes cold, seconds after). A
# failed build does not stop the structural checks: the tool tests fail with the reason instead.
TOOLS_LOG="${CLOUDSMITH_CACHE:-$REPO/.cache}/terraform-tools.log"
mkdir -p "$(dirname "$TOOLS_LOG")"
tools_started=$(date +%s)
if bash "$HERE/tools.sh" >/dev/null 2>"$TOOLS_LOG"; then
  echo "terraform tools: ready in $(($(date +%s) - tools_started))s" >&2
  export TF_TOOLS_ERROR=
else
  tail -20 "$TOOLS_LOG" >&2
  export TF_TOOLS_ERROR="tools.sh failed after $(($(date +%s) - tools_started))s, see $TOOLS_LOG"
fi

cd "$REPO"
HCL2JSON_DIR="$CACHE/node_modules/@cdktf/hcl2json" TERRAFORM_DIR="$REPO/terraform" node "$HERE/run.cjs"
