#!/usr/bin/env bash
# The field's Terraform tools, built once into the cache and reused: terraform core and tflint from the Go module
# proxy (`go install`, pinned versions), checkov from PyPI into its own virtualenv. Prints the bin directory.
# What cannot be had here: the AWS provider plugin (registry.terraform.io is not reachable, and it is not on the Go
# proxy as a plugin), so `terraform validate` and tflint's AWS ruleset do not run; `terraform fmt` and checkov read
# the HCL alone.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}/terraform-tools"
# The last version `go install` builds: later ones replace in-repo submodules the module zip leaves out.
TERRAFORM_VERSION=v1.5.7
TFLINT_VERSION=v0.55.1
CHECKOV_VERSION=3.2.382
BIN="$CACHE/bin"
mkdir -p "$BIN"
log() { echo "terraform tools: $*" >&2; }

stamp_ok() { [[ -x "$BIN/$1" && -f "$CACHE/$1.version" && "$(cat "$CACHE/$1.version")" == "$2" ]]; }

if ! stamp_ok terraform "$TERRAFORM_VERSION"; then
  log "building terraform $TERRAFORM_VERSION from the Go module proxy (first run only)"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "github.com/hashicorp/terraform@$TERRAFORM_VERSION" >&2
  echo "$TERRAFORM_VERSION" > "$CACHE/terraform.version"
fi
if ! stamp_ok tflint "$TFLINT_VERSION"; then
  log "building tflint $TFLINT_VERSION from the Go module proxy (first run only)"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "github.com/terraform-linters/tflint@$TFLINT_VERSION" >&2
  echo "$TFLINT_VERSION" > "$CACHE/tflint.version"
fi
if ! stamp_ok checkov "$CHECKOV_VERSION"; then
  log "installing checkov $CHECKOV_VERSION from PyPI (first run only)"
  rm -rf "$CACHE/checkov-venv"
  python3 -m venv "$CACHE/checkov-venv"
  "$CACHE/checkov-venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
  ln -sf "$CACHE/checkov-venv/bin/checkov" "$BIN/checkov"
  echo "$CHECKOV_VERSION" > "$CACHE/checkov.version"
fi
echo "$BIN"
