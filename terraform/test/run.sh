#!/usr/bin/env bash
# Static checks of terraform/: parses every .tf file with @cdktf/hcl2json (installed into the cache, not the
# workspace) and runs terraform.test.cjs. Last line: `terraform: N passed, M failed`; exits non-zero on failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}/hcl2json"
HCL2JSON_VERSION=0.21.0

if [[ ! -f "$CACHE/node_modules/@cdktf/hcl2json/package.json" ]] || ! grep -q "\"version\": \"$HCL2JSON_VERSION\"" "$CACHE/node_modules/@cdktf/hcl2json/package.json"; then
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --no-save --loglevel=error "@cdktf/hcl2json@$HCL2JSON_VERSION" >&2
fi

cd "$REPO"
HCL2JSON_DIR="$CACHE/node_modules/@cdktf/hcl2json" TERRAFORM_DIR="$REPO/terraform" node "$HERE/run.cjs"
