#!/usr/bin/env bash
# Tests of the Jenkins pipeline without a Jenkins server:
#   - bash -n on every jenkins/steps/*.sh
#   - PipelineTests.groovy: the Jenkinsfile under JenkinsPipelineUnit (stages, parameters, credentials,
#     options, failure path) and the Job DSL's parameters, on Groovy and JenkinsPipelineUnit from Maven Central.
# Maven artifacts are cached in ${CLOUDSMITH_CACHE:-<repo>/.cache}/m2. Last line: "jenkins: N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}"
M2="$CACHE/m2"
CP_FILE="$CACHE/jenkins-test/classpath"
passed=0
failed=0

echo "steps (bash -n)"
for step in "$REPO"/jenkins/steps/*.sh; do
  if out="$(bash -n "$step" 2>&1)"; then
    passed=$((passed + 1))
    echo "  ok   $(basename "$step")"
  else
    failed=$((failed + 1))
    echo "  FAIL $(basename "$step"): $out"
  fi
done

# The classpath is resolved once per pom version; a later run reuses it while every jar is still cached.
classpath_ok() {
  [[ -f "$CP_FILE" && -f "$CP_FILE.pom" ]] && cmp -s "$CP_FILE.pom" "$HERE/pom.xml" || return 1
  local jar
  IFS=: read -r -a jars < "$CP_FILE"
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || return 1; done
}

if ! classpath_ok; then
  mkdir -p "$M2" "$(dirname "$CP_FILE")"
  echo "resolving JenkinsPipelineUnit and Groovy from Maven Central into $M2"
  if ! mvn -q -B -f "$HERE/pom.xml" -Dmaven.repo.local="$M2" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" > "$CACHE/jenkins-test/mvn.log" 2>&1; then
    tail -n 30 "$CACHE/jenkins-test/mvn.log"
    failed=$((failed + 1))
    echo "  FAIL could not resolve the test classpath with mvn"
    echo "jenkins: $passed passed, $failed failed"
    exit 1
  fi
  cp "$HERE/pom.xml" "$CP_FILE.pom"
fi

out="$(java -cp "$(cat "$CP_FILE")" groovy.ui.GroovyMain "$HERE/PipelineTests.groovy" "$REPO" 2>&1)"
status=$?
printf '%s\n' "$out" | grep -v '^jenkins pipeline: '
summary="$(printf '%s\n' "$out" | grep '^jenkins pipeline: ' | tail -n 1)"
if [[ "$summary" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  failed=$((failed + BASH_REMATCH[2]))
  (( status != 0 && BASH_REMATCH[2] == 0 )) && failed=$((failed + 1))
else
  failed=$((failed + 1))
  echo "  FAIL PipelineTests.groovy did not finish (exit $status)"
fi

echo "jenkins: $passed passed, $failed failed"
(( failed == 0 ))
