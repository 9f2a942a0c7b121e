#!/usr/bin/env bash
# cache-restore: brings the app's build cache back from S3 before install, as the platform's local builder does
# from disk. The app has one entry, s3://<bucket>/cache/<app>/jenkins.tar.gz, whose metadata holds the key it was
# saved under and its sha256. Saved under this build's key, it restores every cached dir and the package managers'
# store; under another, only what the tools check themselves (the store, `any:` dirs such as .next/cache), and the
# log says why the rest did not fit. An archive whose sha256 is not the one saved with it, or that does not unpack,
# is deleted and the build goes on cold. Never fails the build. S3 access is the agent's own (instance role;
# AWS_ENDPOINT_URL for S3-compatible stores): nothing secret in argv or the log.
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
printf 'CACHE_STORE=%q\n' "$store" > "$OUT/cache.env"

# The last line a failed command wrote (the AWS CLI's error code and message; it never prints credentials).
last_error() { tail -n 1 "$errors" 2> /dev/null | cut -c1-200; }

# One call (the CLI's start-up is most of a restore's cost): the archive, its sha256 and its key.
if ! meta="$(aws s3api get-object --bucket "$CACHE_BUCKET" --key "$CACHE_NAME" \
  --query '[Metadata.sha256, Metadata."cache-key"]' --output text "$archive" 2> "$errors")"; then
  # Missing answers 404, or 403 to a role that may not list the bucket (S3 then hides whether a key exists).
  if grep -qE '\((404|403)\)|NoSuchKey|Not Found|Forbidden|AccessDenied' "$errors"; then
    log "cache not restored: no cache yet"
  else
    log "cache not restored: could not read s3://$CACHE_BUCKET/$CACHE_NAME: $(last_error)"
  fi
  exit 0
fi
read -r expected saved_key <<< "$meta"

# A broken entry goes at once (cache-save puts this build's in its place).
discard() {
  rm -rf "$work" "$archive"
  if aws s3api delete-object --bucket "$CACHE_BUCKET" --key "$CACHE_NAME" > /dev/null 2> "$errors"; then
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
why=""
[[ "$saved_key" == "$CACHE_FULL_KEY" ]] || why="$(cache_mismatch "$saved_key")"

root="$SRC/$PLAN_ROOT"
restored=()
bytes=0
exact_back=1
read -r -a dirs <<< "$CACHE_DIRS"
for dir in "${dirs[@]}"; do
  kind="${dir%%:*}" path="${dir#*:}"
  safe_relative "$path" "CACHE_DIRS"
  # Exact dirs only under this build's key; a dir the repository itself has (a committed node_modules) wins.
  if [[ -n "$why" && "$kind" == exact ]] || [[ ! -d "$work/tree/$path" || -e "$root/$path" ]] \
    || ! plain_path "$root" "$path" || ! plain_path "$work/tree" "$path"; then
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
