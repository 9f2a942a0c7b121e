#!/usr/bin/env bash
# package: writes $WORKSPACE/out/artifact.tar.gz (without .git) and records its sha256 and size, printed as one
# line the platform's adapter checks against what it receives.
#   - OUTPUT_DIR empty (Node servers, Next.js): the whole root dir, node_modules and build output included.
#   - OUTPUT_DIR set (static sites, SPAs): site/ = the build output (without .git and node_modules), beside
#     CloudSmith's dependency-free .cloudsmith/static-server.js (from the pipeline's own checkout), so the
#     artifact runs anywhere Node does. The layout is the platform's local builder's.
#     OUTPUT_DIR may list candidates ("dist build out"): the first holding an index.html wins, else the first present.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
root="$SRC/$PLAN_ROOT"
artifact="$OUT/artifact.tar.gz"
rm -f "$artifact"

# RUN_RULES: a framework app's possible build outputs, from the platform's own rules (its
# adapters/builder/jenkins/plan.ts), one per line: `+present -absent|from:to ...|outputDir|runPlanB64|errorB64`.
# The first rule true of the output decides the copies, what is packaged and (PLAN_RUN) how the release runs.
if [[ -n "${RUN_RULES:-}" ]]; then
  rules="$(printf '%s' "$RUN_RULES" | base64 -d)" || fail "RUN_RULES is not base64"
  index=0
  chosen_rule=""
  while IFS='|' read -r conditions copies output run_plan error; do
    holds=1
    for condition in $conditions; do
      path="${condition:1}"
      safe_relative "$path" "a RUN_RULES path"
      if [[ "${condition:0:1}" == "+" ]]; then
        [[ -e "$root/$path" ]] || holds=0
      elif [[ -e "$root/$path" ]]; then
        holds=0
      fi
    done
    if (( holds )); then
      chosen_rule="$index"
      break
    fi
    index=$((index + 1))
  done <<< "$rules"
  [[ -n "$chosen_rule" ]] || fail "no RUN_RULES rule matched the build output"
  [[ -z "$error" ]] || fail "$(printf '%s' "$error" | base64 -d)"
  log "run-rule=$chosen_rule (${conditions:-no output files})"
  for pair in $copies; do
    from="${pair%%:*}"
    to="${pair#*:}"
    safe_relative "$from" "a RUN_RULES copy"
    safe_relative "$to" "a RUN_RULES copy"
    mkdir -p "$root/$to" && cp -a "$root/$from/." "$root/$to/"
    log "copied $from to $to"
  done
  [[ "$run_plan" =~ ^[A-Za-z0-9+/=]+$ ]] || fail "RUN_RULES rule $chosen_rule has no run plan"
  PLAN_OUTPUT="$output"
  printf 'PLAN_RUN=%q\n' "$run_plan" >> "$OUT/plan.env"
fi

if [[ -z "$PLAN_OUTPUT" ]]; then
  tar -C "$root" --exclude='.git' -czf "$artifact" .
else
  chosen=""
  for candidate in $PLAN_OUTPUT; do
    safe_relative "$candidate" "OUTPUT_DIR"
    [[ -d "$root/$candidate" ]] || continue
    [[ -z "$chosen" ]] && chosen="$candidate"
    if [[ -f "$root/$candidate/index.html" ]]; then chosen="$candidate"; break; fi
  done
  [[ -n "$chosen" ]] || fail "the build did not produce its output directory (looked for: $PLAN_OUTPUT)"
  server="$WORKSPACE/.pipeline/backend/runtime-assets/static-server.js"
  [[ -f "$server" ]] || fail "static-server.js is missing from the pipeline checkout ($server)"
  stage="$OUT/stage"
  rm -rf "$stage"
  mkdir -p "$stage/.cloudsmith"
  tar -C "$root/$chosen" --exclude='./.git' --exclude='./node_modules' -cf - . | { mkdir -p "$stage/site" && tar -C "$stage/site" -xf -; }
  cp "$server" "$stage/.cloudsmith/static-server.js"
  tar -C "$stage" -czf "$artifact" .
  rm -rf "$stage"
  log "packaged $chosen/ as a static site"
fi
sha256="$(sha256sum "$artifact" | cut -d' ' -f1)"
size="$(stat -c %s "$artifact")"
printf 'ARTIFACT_SHA256=%s\nARTIFACT_SIZE=%s\n' "$sha256" "$size" > "$OUT/artifact.env"
log "artifact sha256=$sha256 size=$size"
