#!/usr/bin/env bash
# The whole suite on a fresh machine: lint and typecheck, provisions the real services the tests need (Kafka, moto,
# Docker, code-server), runs every part, stops what it started, and prints one summary line.
#
# Every peer is required: one that cannot be provisioned fails the run (its tests fail too, naming it). Off CI a
# developer may leave parts out only by naming them: CLOUDSMITH_TEST_SKIP=docker,kafka (peers: kafka moto docker
# vscode-e2e sandbox; and lint). The tests of a named peer are pending, counted exactly per part and per peer. Under CI=true
# nothing may be skipped.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=(kafka moto docker vscode-e2e sandbox)
skippable=("${peers[@]}" lint)

# Sets `skips` from CLOUDSMITH_TEST_SKIP (comma or space separated); returns 1 with a message when it is not allowed.
parse_skips() {
  skips=()
  local name list=${CLOUDSMITH_TEST_SKIP:-}
  for name in ${list//,/ }; do
    if [[ " ${skippable[*]} " != *" $name "* ]]; then
      echo "test.sh: CLOUDSMITH_TEST_SKIP names '$name'; parts that can be skipped: ${skippable[*]}"
      return 1
    fi
    skips+=("$name")
  done
  if [ "${CI:-}" = true ] && [ "${#skips[@]}" -gt 0 ]; then
    echo "test.sh: CLOUDSMITH_TEST_SKIP=${CLOUDSMITH_TEST_SKIP} under CI=true: every part is required in CI"
    return 1
  fi
  return 0
}

named() { [[ " ${skips[*]} " == *" $1 "* ]]; }

# The variables scripts/<peer>.sh exports, so a named or failed peer leaves none behind from the caller's shell.
unset_peer_env() {
  local var
  for var in $(bash "scripts/$1.sh" env 2>/dev/null | sed -n 's/^export \([A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done
}

# The tests a log's suites skipped for a named peer (backend/test/peers.ts prints the marker): "kafka 9, moto 23".
skip_breakdown() {
  grep -Eo '\[peer-skip\] [a-z0-9-]+ [0-9]+' "$1" 2>/dev/null |
    awk '{n[$2] += $3} END {sep = ""; for (p in n) {printf "%s%s %d", sep, p, n[p]; sep = ", "}}'
}

# Mocha's last "N passing/failing/pending" of a log, or 0.
mocha_count() { grep -Eo "[0-9]+ $2" "$1" | tail -1 | grep -Eo '[0-9]+' || echo 0; }

total_pass=0; total_fail=0; total_skip=0; failed_parts=()
record() { # part pass fail skip [log]
  local detail=""
  [ -n "${5:-}" ] && detail=$(skip_breakdown "$5")
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3)); total_skip=$((total_skip + $4))
  echo "test.sh: $1: $2 passed, $3 failed, $4 skipped${detail:+ ($detail)}"
  if [ "$3" -gt 0 ]; then failed_parts+=("$1"); fi
  return 0
}

# Brings up every peer not named (in parallel: each is idempotent and cached under $CLOUDSMITH_CACHE) and evals its
# env; one that fails is a failure of the run, reported with the end of its log.
provision() {
  local s
  declare -A pids
  provisioned=()
  for s in "${peers[@]}"; do
    if named "$s"; then
      echo "test.sh: $s skipped (named in CLOUDSMITH_TEST_SKIP): its tests are pending"
      unset_peer_env "$s"
    elif [ -f "scripts/$s.sh" ]; then
      (bash "scripts/$s.sh" up >"$logs/$s.log" 2>&1) &
      pids[$s]=$!
    else
      echo "scripts/$s.sh is missing" >"$logs/$s.log"
      pids[$s]=missing
    fi
  done
  for s in "${peers[@]}"; do
    [ -n "${pids[$s]:-}" ] || continue
    if [ "${pids[$s]}" != missing ] && wait "${pids[$s]}"; then
      provisioned+=("$s")
      eval "$(bash "scripts/$s.sh" env)"
      echo "test.sh: $s ready"
    else
      [ "${pids[$s]}" != missing ] && provisioned+=("$s") # may have half-started: stopped at exit
      total_fail=$((total_fail + 1))
      failed_parts+=("$s(provisioning)")
      unset_peer_env "$s"
      echo "test.sh: FAILED to provision $s: the run fails, and so do the tests that need it. End of $logs/$s.log:"
      tail -20 "$logs/$s.log" | sed 's/^/    /'
    fi
  done
}

main() {
  cd "$root"
  export CLOUDSMITH_CACHE=${CLOUDSMITH_CACHE:-$root/.cache}
  logs=$CLOUDSMITH_CACHE/test-logs
  mkdir -p "$logs"
  rm -f "$logs"/*.log
  local started s status pass fail skip line part
  started=$(date +%s)
  parse_skips || exit 2

  if [ ! -d node_modules ]; then
    echo "test.sh: installing npm dependencies"
    npm ci --no-audit --no-fund || exit 1
  fi

  trap stop_services EXIT
  # The terraform part's tools (terraform and tflint built from the Go module proxy, checkov from PyPI) take minutes
  # to build cold: built now, at the lowest priority, so they use only the CPU the other parts leave idle.
  (nice -n 19 bash terraform/test/tools.sh >"$logs/terraform-tools.log" 2>&1) &
  tools_pid=$!
  provision
  echo "test.sh: provisioning took $(($(date +%s) - started))s"

  echo "=== lint"
  if named lint; then
    echo "[peer-skip] lint 2 lint and typecheck" >"$logs/lint.log"
    record lint 0 0 2 "$logs/lint.log"
  else
    pass=0; fail=0
    if npm run --silent lint >"$logs/lint.log" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); tail -40 "$logs/lint.log"; fi
    if npm run --silent typecheck >"$logs/typecheck.log" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); tail -40 "$logs/typecheck.log"; fi
    record lint "$pass" "$fail" 0
  fi

  echo "=== backend"
  (cd backend && npx mocha --reporter spec 'test/**/*.test.ts') 2>&1 | tee "$logs/backend.log"
  status=${PIPESTATUS[0]}
  pass=$(mocha_count "$logs/backend.log" passing)
  fail=$(mocha_count "$logs/backend.log" failing)
  skip=$(mocha_count "$logs/backend.log" pending)
  [ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
  record backend "$pass" "$fail" "$skip" "$logs/backend.log"

  for part in extension jenkins terraform; do
    [ -f "$part/test/run.sh" ] || continue
    # A failed background build is not the verdict: run.sh builds again and its tool tests report why.
    [ "$part" = terraform ] && { wait "$tools_pid" || true; }
    echo "=== $part"
    bash "$part/test/run.sh" 2>&1 | tee "$logs/$part.log"
    status=${PIPESTATUS[0]}
    line=$(grep -E "^$part: [0-9]+ passed" "$logs/$part.log" | tail -1)
    pass=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
    fail=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
    skip=$(echo "$line" | grep -Eo '[0-9]+ skipped' | grep -Eo '[0-9]+' || echo 0)
    [ -z "$pass" ] && pass=0
    [ -z "$fail" ] && fail=0
    [ -z "$skip" ] && skip=0
    [ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
    record "$part" "$pass" "$fail" "$skip" "$logs/$part.log"
  done

  echo "test.sh: total time $(($(date +%s) - started))s"
  local detail
  detail=$(cat "$logs"/*.log | skip_breakdown /dev/stdin)
  echo "$total_pass passed, $total_fail failed, $total_skip skipped${detail:+ ($detail)}"
  if [ "$total_fail" -gt 0 ]; then
    echo "test.sh: failures in: ${failed_parts[*]}"
    exit 1
  fi
}

stop_services() {
  for s in "${provisioned[@]}"; do
    bash "scripts/$s.sh" down >>"$logs/$s.log" 2>&1
  done
}

# Sourced (by a check of this script's own logic), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
