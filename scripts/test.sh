#!/usr/bin/env bash
# The whole suite on a fresh machine: provisions the real services the tests need (Kafka, moto, Docker,
# code-server), runs every part, stops what it started, and prints one summary line.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CLOUDSMITH_CACHE=${CLOUDSMITH_CACHE:-$root/.cache}
logs=$CLOUDSMITH_CACHE/test-logs
mkdir -p "$logs"
started=$(date +%s)
services=(kafka moto docker vscode-e2e)

if [ ! -d node_modules ]; then
  echo "test.sh: installing npm dependencies"
  npm ci --no-audit --no-fund || exit 1
fi

stop_services() {
  for s in "${services[@]}"; do
    [ -x "scripts/$s.sh" ] && bash "scripts/$s.sh" down >>"$logs/$s.log" 2>&1
  done
}
trap stop_services EXIT

# Provision in parallel: each is idempotent and cached under $CLOUDSMITH_CACHE.
declare -A pids
for s in "${services[@]}"; do
  if [ -f "scripts/$s.sh" ]; then
    ( bash "scripts/$s.sh" up >"$logs/$s.log" 2>&1 ) &
    pids[$s]=$!
  fi
done
for s in "${!pids[@]}"; do
  if wait "${pids[$s]}"; then
    eval "$(bash "scripts/$s.sh" env)"
    echo "test.sh: $s ready"
  else
    echo "test.sh: $s could not be provisioned (see $logs/$s.log); its tests skip"
    tail -5 "$logs/$s.log" | sed 's/^/    /'
  fi
done
echo "test.sh: provisioning took $(( $(date +%s) - started ))s"

total_pass=0; total_fail=0; total_skip=0; failed_parts=()
record() { # part pass fail skip
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3)); total_skip=$((total_skip + $4))
  echo "test.sh: $1: $2 passed, $3 failed, $4 skipped"
  [ "$3" -gt 0 ] && failed_parts+=("$1")
}

echo "=== backend"
( cd backend && npx mocha --reporter spec 'test/**/*.test.ts' ) 2>&1 | tee "$logs/backend.log"
status=${PIPESTATUS[0]}
pass=$(grep -Eo '[0-9]+ passing' "$logs/backend.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '[0-9]+ failing' "$logs/backend.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
skip=$(grep -Eo '[0-9]+ pending' "$logs/backend.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
[ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
record backend "$pass" "$fail" "$skip"

for part in extension jenkins terraform; do
  [ -f "$part/test/run.sh" ] || continue
  echo "=== $part"
  bash "$part/test/run.sh" 2>&1 | tee "$logs/$part.log"
  status=${PIPESTATUS[0]}
  line=$(grep -E "^$part: [0-9]+ passed" "$logs/$part.log" | tail -1)
  pass=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
  fail=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
  skip=$(echo "$line" | grep -Eo '[0-9]+ skipped' | grep -Eo '[0-9]+' || echo 0)
  [ -z "$pass" ] && pass=0; [ -z "$fail" ] && fail=0; [ -z "$skip" ] && skip=0
  [ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
  record "$part" "$pass" "$fail" "$skip"
done

echo "test.sh: total time $(( $(date +%s) - started ))s"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
if [ "$total_fail" -gt 0 ]; then
  echo "test.sh: failures in: ${failed_parts[*]}"
  exit 1
fi
