#!/usr/bin/env bash
# cache-save: after a successful build, stores the app's cache in S3 as its one entry (cache/<app>/jenkins.tar.gz,
# the newest build's, as on the local builder's disk), unless cache-restore found it saved under this build's key
# already. The cached dirs are moved out of the tree (it is done with: packaged and uploaded) and archived with the
# package managers' store; the object's metadata carries its sha256 and its key, which cache-restore checks.
# Never fails the build.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
set -E
trap 'log "cache not saved: the cache-save step failed at line $LINENO"; exit 0' ERR
[[ -f "$OUT/cache.env" ]] || exit 0
cache_config || exit 0
CACHE_HIT=""
# shellcheck source=/dev/null
. "$OUT/cache.env"
if [[ "$CACHE_HIT" == 1 ]]; then
  log "cache not saved: its key's entry is already in S3"
  exit 0
fi
started="$(date +%s%N)"
errors="$CACHE_WORK/errors"
last_error() { tail -n 1 "$errors" 2> /dev/null | cut -c1-200; }

pack="$CACHE_WORK/save"
archive="$CACHE_WORK/save.tar.gz"
rm -rf "$pack" "$archive"
mkdir -p "$pack/tree"
root="$SRC/$PLAN_ROOT"
read -r -a dirs <<< "$CACHE_DIRS"
for dir in "${dirs[@]}"; do
  path="${dir#*:}"
  safe_relative "$path" "CACHE_DIRS"
  # Only real directories: the build may have left a symlink where node_modules or .next was.
  [[ -d "$root/$path" && ! -L "$root/$path" ]] && plain_path "$root" "$path" || continue
  mkdir -p "$(dirname "$pack/tree/$path")"
  mv "$root/$path" "$pack/tree/$path"
done
if [[ -n "$CACHE_STORE_ENV" && -d "$CACHE_STORE" ]]; then
  mv "$CACHE_STORE" "$pack/store"
else
  mkdir -p "$pack/store"
fi
bytes="$(du -sb "$pack" | cut -f1)"
max_mb="${CACHE_MAX_MB:-0}"
[[ "$max_mb" =~ ^[0-9]+$ ]] || max_mb=0
if ((max_mb > 0 && bytes > max_mb * 1048576)); then
  log "cache not saved: $(mb "$bytes") MB is over the per-app cap of $max_mb MB"
  rm -rf "$pack"
  exit 0
fi
tar -czf "$archive" -C "$pack" . 2> "$errors" || { log "cache not saved: could not archive it ($(last_error))"; exit 0; }
rm -rf "$pack"
sha256="$(sha256sum "$archive" | cut -d' ' -f1)"
metadata="{\"sha256\":\"$sha256\",\"cache-key\":\"$CACHE_FULL_KEY\"}"
if ! aws s3 cp --only-show-errors --metadata "$metadata" "$archive" "s3://$CACHE_BUCKET/$CACHE_NAME" 2> "$errors"; then
  log "cache not saved: could not upload to s3://$CACHE_BUCKET/$CACHE_NAME: $(last_error)"
  exit 0
fi
rm -f "$archive"
log "cache saved ($(mb "$bytes") MB, $(seconds_since "$started") s)"
