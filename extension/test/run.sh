#!/usr/bin/env bash
# The extension's whole test run: typecheck, unit tests, bundle + package the .vsix, and the end-to-end test
# in a real VS Code (code-server + headless Chromium) when scripts/vscode-e2e.sh provisioned it
# (CLOUDSMITH_TEST_VSCODE, set from `scripts/vscode-e2e.sh env` by scripts/test.sh).
# Last line: "extension: N passed, M failed, K skipped"; exits non-zero when anything failed.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bin=$here/../node_modules/.bin
pass=0; fail=0; skip=0
step() { # name, command...: one pass or fail per step
  local name=$1; shift
  local started=$(date +%s)
  if "$@"; then pass=$((pass + 1)); echo "extension: ✔ $name ($(( $(date +%s) - started ))s)"
  else fail=$((fail + 1)); echo "extension: ✖ $name failed"; fi
}
mocha_counts() { # log file: adds mocha's passing/failing/pending to the totals
  local p f k
  p=$(grep -Eo '[0-9]+ passing' "$1" | tail -1 | grep -Eo '[0-9]+' || true)
  f=$(grep -Eo '[0-9]+ failing' "$1" | tail -1 | grep -Eo '[0-9]+' || true)
  k=$(grep -Eo '[0-9]+ pending' "$1" | tail -1 | grep -Eo '[0-9]+' || true)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${k:-0}))
  [ "${2:-0}" -ne 0 ] && [ "${f:-0}" -eq 0 ] && fail=$((fail + 1))
  return 0
}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "=== extension: typecheck"
step "typecheck (extension host)" "$bin/tsc" -p tsconfig.json --noEmit
step "typecheck (webview)" "$bin/tsc" -p tsconfig.webview.json
step "typecheck (e2e)" "$bin/tsc" -p test/e2e/tsconfig.json

echo "=== extension: unit tests"
timeout 300 "$bin/mocha" --require tsx/cjs --timeout 30000 --exit 'test/unit/**/*.test.ts' 2>&1 | tee "$logs/unit.log"
mocha_counts "$logs/unit.log" "${PIPESTATUS[0]}"

echo "=== extension: bundle and package"
step "esbuild bundle" node esbuild.mjs --production
step "vsce package" timeout 120 "$bin/vsce" package --no-dependencies --out dist/cloudsmith.vsix </dev/null
if [ -f dist/cloudsmith.vsix ]; then echo "extension: $(du -k dist/cloudsmith.vsix | cut -f1) KB vsix, bundle $(du -k dist/extension.js | cut -f1) KB"; fi

echo "=== extension: end to end (code-server + Chromium)"
# Without code-server the suite itself decides: each of its tests pending when vscode-e2e is named in
# CLOUDSMITH_TEST_SKIP (off CI), a failure otherwise (backend/test/peers.ts).
if [ -n "${CLOUDSMITH_TEST_VSCODE:-}" ] && [ ! -f dist/cloudsmith.vsix ]; then
  echo "extension: e2e not run: no .vsix"
  fail=$((fail + 1))
else
  # The e2e has its own deadlines; this outer one guarantees CI never hangs on it.
  # CLOUDSMITH_E2E_FILES (a glob under extension/) runs only some files, e.g. 'test/e2e/problems.e2e.test.ts'.
  timeout -k 10 1500 "$bin/mocha" --require tsx/cjs --timeout 420000 --exit "${CLOUDSMITH_E2E_FILES:-test/e2e/**/*.e2e.test.ts}" 2>&1 | tee "$logs/e2e.log"
  mocha_counts "$logs/e2e.log" "${PIPESTATUS[0]}"
fi

echo "extension: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
