#!/usr/bin/env bash
# package: tars the root dir (or only the build output for static sites) into $WORKSPACE/out/artifact.tar.gz,
# without .git, and records its sha256 and size (printed as one line the platform's adapter checks).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
dir="$SRC/$PLAN_ROOT"
if [[ -n "$PLAN_OUTPUT" ]]; then
  [[ -d "$dir/$PLAN_OUTPUT" ]] || fail "the build did not produce its output directory '$PLAN_OUTPUT'"
  dir="$dir/$PLAN_OUTPUT"
fi
artifact="$OUT/artifact.tar.gz"
rm -f "$artifact"
tar -C "$dir" --exclude='./.git' --exclude='.git' -czf "$artifact" .
sha256="$(sha256sum "$artifact" | cut -d' ' -f1)"
size="$(stat -c %s "$artifact")"
printf 'ARTIFACT_SHA256=%s\nARTIFACT_SIZE=%s\n' "$sha256" "$size" > "$OUT/artifact.env"
log "artifact sha256=$sha256 size=$size"
