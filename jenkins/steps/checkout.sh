#!/usr/bin/env bash
# checkout: fetches exactly COMMIT_SHA of REPO_CLONE_URL, shallow, into $WORKSPACE/src.
# The token comes from the usernamePassword binding (GIT_USERNAME/GIT_PASSWORD) and travels as an
# `http.extraHeader` set through GIT_CONFIG_* variables: never in the URL, never in argv, never printed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${REPO_CLONE_URL:?REPO_CLONE_URL is required}"
: "${COMMIT_SHA:?COMMIT_SHA is required}"
[[ "$COMMIT_SHA" =~ ^[0-9a-f]{40}$ ]] || fail "COMMIT_SHA must be a full 40-character commit sha"
[[ "$REPO_CLONE_URL" =~ ^https?://[^/@]+(/.*)?$ ]] || fail "REPO_CLONE_URL must be an http(s) URL without credentials"
origin="$(printf '%s' "$REPO_CLONE_URL" | sed -E 's#^(https?://[^/]+).*#\1#')"

rm -rf "$SRC"
mkdir -p "$SRC"
cd "$SRC"
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
if [[ -n "${GIT_PASSWORD:-}" ]]; then
  header="Authorization: Basic $(printf '%s:%s' "${GIT_USERNAME:-x-access-token}" "$GIT_PASSWORD" | base64 -w0)"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$origin/.extraHeader" GIT_CONFIG_VALUE_0="$header"
  unset header
fi
log "fetching ${COMMIT_SHA:0:7}${REF:+ ($REF)} from $REPO_CLONE_URL"
git init --quiet
git fetch --quiet --depth 1 --no-tags "$REPO_CLONE_URL" "$COMMIT_SHA" || fail "could not fetch commit ${COMMIT_SHA:0:7} from $REPO_CLONE_URL"
git -c advice.detachedHead=false checkout --quiet FETCH_HEAD
log "checked out $(git rev-parse HEAD)"
