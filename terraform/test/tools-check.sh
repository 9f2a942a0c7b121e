#!/usr/bin/env bash
# The field's tools over terraform/: `terraform fmt -check`, tflint (its bundled Terraform rules) and checkov.
# They come from terraform/test/tools.sh's cache. `tools-check.sh` runs all three; `tools-check.sh fmt|tflint|checkov`
# runs one (terraform.test.cjs runs each as its own test). Prints one line per tool; exits non-zero on a finding.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$(bash "$REPO/terraform/test/tools.sh")"
cd "$REPO/terraform"
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1

fmt() { "$BIN/terraform" fmt -check -recursive -diff .; }
tflint() { "$BIN/tflint" --config "$REPO/terraform/.tflint.hcl" --format compact; }
# Findings are fixed, or skipped in place with a `checkov:skip=<id>:<reason>` comment on the resource.
checkov() { "$BIN/checkov" --directory . --framework terraform --quiet --compact --skip-download; }

tools=("$@")
[[ $# -gt 0 ]] || tools=(fmt tflint checkov)
status=0
for t in "${tools[@]}"; do
  case "$t" in
    fmt | tflint | checkov) ;;
    *) echo "tools-check.sh: unknown tool $t (fmt, tflint, checkov)" >&2; exit 2 ;;
  esac
  if "$t"; then echo "$t: clean"; else echo "$t: findings above"; status=1; fi
done
exit $status
