#!/usr/bin/env bash
# The field's tools over terraform/: `terraform fmt -check`, tflint (its bundled Terraform rules) and checkov.
# They come from terraform/test/tools.sh's cache; prints one line per tool and exits non-zero on a finding.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$(bash "$REPO/terraform/test/tools.sh")"
cd "$REPO/terraform"
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1
status=0
if "$BIN/terraform" fmt -check -recursive -diff .; then echo "terraform fmt: clean"; else echo "terraform fmt: files need formatting"; status=1; fi
if "$BIN/tflint" --config "$REPO/terraform/.tflint.hcl" --format compact; then echo "tflint: clean"; else echo "tflint: findings above"; status=1; fi
# Findings are fixed, or skipped in place with a `checkov:skip=<id>:<reason>` comment on the resource.
if "$BIN/checkov" --directory . --framework terraform --quiet --compact --skip-download; then echo "checkov: clean"; else echo "checkov: findings above"; status=1; fi
exit $status
