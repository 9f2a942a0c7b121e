#!/usr/bin/env bash
# `npm run bench`: the deploy-overhead benchmark, then the Kafka benchmarks on a real broker started here
# (cached like the tests' one) and stopped again, unless one is already given in CLOUDSMITH_TEST_KAFKA.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CLOUDSMITH_CACHE=${CLOUDSMITH_CACHE:-$root/.cache}
started_kafka=
if [ -z "${CLOUDSMITH_TEST_KAFKA:-}" ]; then
  if bash scripts/kafka.sh up; then
    eval "$(bash scripts/kafka.sh env)"
    started_kafka=1
  else
    echo "bench: Kafka could not be started; its benchmarks are skipped"
  fi
fi
(cd backend && npx tsx bench/run.ts)
status=$?
[ -n "$started_kafka" ] && bash scripts/kafka.sh down >/dev/null
exit $status
