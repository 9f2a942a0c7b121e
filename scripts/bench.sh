#!/usr/bin/env bash
# `npm run bench`: the deploy-overhead benchmark first, with nothing of the bench's own running beside it, then the
# Kafka benchmarks on a real broker started here only then (cached like the tests' one) and stopped again, unless one
# is already given in CLOUDSMITH_TEST_KAFKA. An idle broker's JVM costs a 2-core machine enough to move the deploy
# ratios of small apps by a tenth.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CLOUDSMITH_CACHE=${CLOUDSMITH_CACHE:-$root/.cache}
(cd backend && npx tsx bench/run.ts deploy)
status=$?
started_kafka=
if [ -z "${CLOUDSMITH_TEST_KAFKA:-}" ]; then
  if bash scripts/kafka.sh up; then
    eval "$(bash scripts/kafka.sh env)"
    started_kafka=1
  else
    echo "bench: Kafka could not be started; its benchmarks are skipped"
  fi
fi
if [ -n "${CLOUDSMITH_TEST_KAFKA:-}" ]; then
  (cd backend && npx tsx bench/run.ts kafka) || status=1
fi
[ -n "$started_kafka" ] && bash scripts/kafka.sh down >/dev/null
exit $status
