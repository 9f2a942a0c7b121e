#!/usr/bin/env bash
# cache-restore: brings the app's build cache back from S3 before install, as the platform's local builder does
# from disk. The entry of this build's key (s3://<bucket>/cache/<app>/<toolchain>.<CACHE_KEY>.tar.gz) restores
# every cached dir and the package managers' store; the app's newest entry under another key restores only what
# its tools check themselves (the store, `any:` dirs such as .next/cache). An archive whose sha256 differs from
# the one saved with it, or that does not unpack, is deleted and the build goes on cold. Never fails the build.
# S3 access is the agent's own (instance role; AWS_ENDPOINT_URL for S3-compatible stores): nothing in argv.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_plan
set -E
trap 'log "cache not restored: the cache-restore step failed at line $LINENO"; exit 0' ERR
rm -f "$OUT/cache.env"
if ! cache_config; then
  [[ -z "${CACHE_URL:-}" ]] || log "cache not restored: $CACHE_OFF"
  exit 0
fi
started="$(date +%s%N)"
store="$CACHE_WORK/store"
work="$CACHE_WORK/restore"
archive="$CACHE_WORK/restore.tar.gz"
errors="$CACHE_WORK/errors"
rm -rf "$store" "$work" "$archive"
mkdir -p "$store" "$work"
printf 'CACHE_STORE=%q\nCACHE_NAME=%q\n' "$store" "$CACHE_NAME" > "$OUT/cache.env"

# The last line a failed command wrote (the AWS CLI's error code and message; it never prints credentials).
last_error() { tail -n 1 "$errors" 2> /dev/null | cut -c1-200; }
fetch() {
  aws s3api get-object --bucket "$CACHE_BUCKET" --key "$1" --query 'Metadata.sha256' --output text "$archive" 2> "$errors"
}

# One call when the key hits (the CLI's start-up is most of a restore's cost); a miss asks what is there instead.
entry="$CACHE_NAME"
why=""
if ! expected="$(fetch "$entry")"; then
  # Missing answers 404, or 403 to a role that may list only cache/* (S3 then hides whether a key exists).
  if ! grep -qE '\((404|403)\)|NoSuchKey|Not Found|Forbidden|AccessDenied' "$errors"; then
    log "cache not restored: could not read s3://$CACHE_BUCKET/$entry: $(last_error)"
    exit 0
  fi
  # The app's newest entry (cache-save keeps one per app).
  if ! entry="$(aws s3api list-objects-v2 --bucket "$CACHE_BUCKET" --prefix "$CACHE_PREFIX" \
    --query 'sort_by(Contents || `[]`, &LastModified)[-1].Key' --output text 2> "$errors")"; then
    log "cache not restored: could not list s3://$CACHE_BUCKET/$CACHE_PREFIX: $(last_error)"
    exit 0
  fi
  if [[ -z "$entry" || "$entry" == None ]]; then
    log "cache not restored: no cache yet"
    exit 0
  fi
  [[ "$entry" == "$CACHE_NAME" ]] || why="$(cache_mismatch "$entry")"
  if [[ -z "$CACHE_STORE_ENV" && "$CACHE_DIRS" != *any:* ]]; then
    log "cache not restored: $why"
    exit 0
  fi
  if ! expected="$(fetch "$entry")"; then
    log "cache not restored: $why; could not read s3://$CACHE_BUCKET/$entry: $(last_error)"
    exit 0
  fi
fi

# A broken entry goes, so that a build saves a good one in its place (cache-save skips a key already stored).
discard() {
  rm -rf "$work" "$archive"
  if aws s3api delete-object --bucket "$CACHE_BUCKET" --key "$entry" > /dev/null 2> "$errors"; then
    log "cache not restored: corrupt cache discarded: $1"
  else
    log "cache not restored: corrupt cache kept (could not delete it: $(last_error)): $1"
  fi
  exit 0
}
[[ "$(sha256sum "$archive" | cut -d' ' -f1)" == "$expected" ]] || discard "its sha256 is not the one it was saved with"
tar -xzf "$archive" -C "$work" --no-same-owner 2> "$errors" || discard "it does not unpack ($(last_error))"
rm -f "$archive"
[[ -d "$work/store" ]] || discard "it has no store directory"

root="$SRC/$PLAN_ROOT"
restored=()
bytes=0
exact_back=1
read -r -a dirs <<< "$CACHE_DIRS"
for dir in "${dirs[@]}"; do
  kind="${dir%%:*}" path="${dir#*:}"
  safe_relative "$path" "CACHE_DIRS"
  # Exact dirs only under this build's key; a dir the repository itself has (a committed node_modules) wins.
  if [[ -n "$why" && "$kind" == exact ]] || [[ ! -d "$work/tree/$path" || -e "$root/$path" ]] || ! plain_path "$root" "$path" \
    || ! plain_path "$work/tree" "$path"; then
    [[ "$kind" != exact ]] || exact_back=0
    continue
  fi
  bytes=$((bytes + $(du -sb "$work/tree/$path" | cut -f1)))
  mkdir -p "$(dirname "$root/$path")"
  mv "$work/tree/$path" "$root/$path"
  restored+=("$path")
done
if [[ -n "$CACHE_STORE_ENV" && -n "$(ls -A "$work/store")" ]]; then
  bytes=$((bytes + $(du -sb "$work/store" | cut -f1)))
  rm -rf "$store"
  mv "$work/store" "$store"
  restored+=("package store")
fi
rm -rf "$work"
if [[ -z "$why" ]]; then
  printf 'CACHE_HIT=1\n' >> "$OUT/cache.env"
  [[ "${CACHE_SKIP_INSTALL:-}" != true || "$exact_back" != 1 ]] || printf 'CACHE_INSTALL_RESTORED=1\n' >> "$OUT/cache.env"
fi
if ((${#restored[@]} == 0)); then
  log "cache not restored: ${why:-nothing cached}"
else
  list="$(printf '%s, ' "${restored[@]}")"
  log "cache restored ($(mb "$bytes") MB, $(seconds_since "$started") s): ${list%, }${why:+; $why}"
fi
