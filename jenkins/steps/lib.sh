# Shared by every step. Sourced, never run. Parameters arrive as environment variables, as Jenkins passes
# build parameters; nothing here turns on xtrace, so a bound secret is never echoed.
set -euo pipefail

: "${WORKSPACE:?WORKSPACE is not set (run these steps from the Jenkinsfile)}"
SRC="$WORKSPACE/src"
OUT="$WORKSPACE/out"

log() { printf '[cloudsmith] %s\n' "$*"; }
fail() { printf '[cloudsmith] error: %s\n' "$*" >&2; exit 1; }

# A relative path that stays inside the repository: no absolute paths, no `..` segments.
safe_relative() {
  local path="$1" what="$2"
  case "$path" in
    /*) fail "$what must be relative, got '$path'" ;;
  esac
  local IFS=/ part
  for part in $path; do
    [[ "$part" == ".." ]] && fail "$what must stay inside the repository, got '$path'"
  done
  return 0
}

load_plan() {
  [[ -f "$OUT/plan.env" ]] || fail "the detect stage did not run"
  # shellcheck source=/dev/null
  . "$OUT/plan.env"
}

# Runs one of the user's own commands (they run their own code anyway, hence a shell) in the app's root dir
# with a clean environment, as the platform's local builder does: PATH, HOME, NODE_ENV=production (unless the
# app sets it), CI=1, quiet npm defaults and the app's env only. Jenkins' variables, the build parameters and
# any bound credential stay out of it. HOME is a build home, never the agent user's own (its ~/.aws or
# ~/.gitconfig may hold credentials): $WORKSPACE/.home by default, CLOUDSMITH_BUILD_HOME (an agent-wide
# directory) to keep npm's cache warm across builds.
run_user_command() {
  local what="$1" command="$2"
  local home="${CLOUDSMITH_BUILD_HOME:-$WORKSPACE/.home}"
  mkdir -p "$home"
  local -a env_args=("PATH=$PATH" "HOME=$home" "CI=1" "NODE_ENV=production"
    "npm_config_audit=false" "npm_config_fund=false" "npm_config_update_notifier=false")
  cache_store_env
  SECRET_VALUES=()
  if [[ -n "${APP_ENV_B64:-}" ]]; then
    local pair name value
    for pair in $APP_ENV_B64; do
      name="${pair%%=*}"
      [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail "the app's env contains an invalid name"
      [[ "$name" =~ ^(PATH|HOME|CI)$ ]] && continue
      value="$(printf '%s' "${pair#*=}" | base64 -d)" || fail "the app's env value for $name is not valid base64"
      env_args+=("$name=$value")
      # Jenkins masks only the bound variable (the encoded blob); the decoded values are masked here.
      (( ${#value} >= 6 )) && SECRET_VALUES+=("$value")
    done
  fi
  log "$what: $command"
  cd "$SRC/$PLAN_ROOT"
  if (( ${#SECRET_VALUES[@]} > 0 )); then
    env -i "${env_args[@]}" bash -c "$command" 2>&1 | mask_output || fail "$what failed: \`$command\` exited with code $?"
  else
    env -i "${env_args[@]}" bash -c "$command" || fail "$what failed: \`$command\` exited with code $?"
  fi
}

# Copies stdin to stdout line by line (so the console still streams), with every SECRET_VALUES entry as ****.
mask_output() {
  local line secret
  while IFS= read -r line || [[ -n "$line" ]]; do
    for secret in "${SECRET_VALUES[@]}"; do line="${line//"$secret"/****}"; done
    printf '%s\n' "$line"
  done
}

# ---- the build cache (cache-restore.sh, cache-save.sh); a cache problem never fails a build, it builds cold.
CACHE_WORK="$WORKSPACE/.cache"

# Sets CACHE_BUCKET, CACHE_NAME (the app's one entry: cache/<app>/jenkins.tar.gz, beside the local builder's shared
# tier, backend/src/cache/sharedTier.ts) and CACHE_FULL_KEY (the agent's toolchain, then the platform's CACHE_KEY,
# kept as the entry's `cache-key` metadata) from the parameters, checked before any of them reaches a command;
# without, CACHE_OFF says why.
cache_config() {
  CACHE_OFF=""
  if [[ -z "${CACHE_URL:-}" ]]; then
    CACHE_OFF="the build has no cache"
  elif [[ ! "$CACHE_URL" =~ ^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(cache/[A-Za-z0-9][A-Za-z0-9._-]{0,150}/)$ ]] \
    || [[ "$CACHE_URL" == *..* ]]; then
    CACHE_OFF="CACHE_URL is not s3://<bucket>/cache/<app>/"
  elif [[ ! "${CACHE_KEY:-}" =~ ^[0-9a-f]{16}\.[0-9a-f]{16}\.[0-9a-f]{16}$ ]]; then
    CACHE_OFF="CACHE_KEY is malformed"
  elif [[ ! "${CACHE_DIRS:-}" =~ ^((exact|any):[A-Za-z0-9._@+-][A-Za-z0-9._@+/-]*( |$))*$ || "${CACHE_DIRS:-}" == *..* ]]; then
    CACHE_OFF="CACHE_DIRS is malformed"
  elif [[ ! "${CACHE_STORE_ENV:-}" =~ ^([A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9@._/=+-]+( |$))*$ ]]; then
    CACHE_OFF="CACHE_STORE_ENV is malformed"
  fi
  [[ -z "$CACHE_OFF" ]] || return 1
  [[ "$CACHE_URL" =~ ^s3://([^/]+)/(.*)$ ]]
  CACHE_BUCKET="${BASH_REMATCH[1]}"
  CACHE_NAME="${BASH_REMATCH[2]}jenkins.tar.gz"
  CACHE_FULL_KEY="$(agent_toolchain).$CACHE_KEY"
}

# The platform hashes what it sees; only the agent knows the toolchain that installs and builds here.
agent_toolchain() {
  {
    command -v node > /dev/null && node --version
    command -v python3 > /dev/null && python3 --version
    command -v go > /dev/null && go version
  } 2>&1 | sha256sum | cut -c1-16
}

# Why an entry saved under the key `$1` does not fit this build, as backend/src/cache/key.ts mismatch() words it.
cache_mismatch() {
  local -a saved now
  IFS=. read -r -a saved <<< "$1"
  IFS=. read -r -a now <<< "$CACHE_FULL_KEY"
  if [[ "${saved[0]}" != "${now[0]}" ]]; then echo "toolchain changed"
  elif [[ "${saved[1]}" != "${now[1]}" ]]; then echo "lockfile changed"
  elif [[ "${saved[2]}" != "${now[2]}" ]]; then echo "install or build command changed"
  else echo "environment changed"
  fi
}

# Whether `$2` inside `$1` has no symlink or non-directory on its way: the tree is the user's, and a `.next` linked
# elsewhere must not make the cache write or read outside it.
plain_path() {
  local dir="$1" part
  local IFS=/
  for part in $2; do
    dir="$dir/$part"
    [[ -e "$dir" || -L "$dir" ]] || return 0
    [[ -d "$dir" && ! -L "$dir" ]] || return 1
  done
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
seconds_since() { awk -v s="$1" -v e="$(date +%s%N)" 'BEGIN { printf "%.2f", (e - s) / 1e9 }'; }

# Adds the package managers' store settings (CACHE_STORE_ENV, @store = the restored store) to env_args of
# run_user_command, when cache-restore set a store up for this build.
cache_store_env() {
  [[ -f "$OUT/cache.env" && -n "${CACHE_STORE_ENV:-}" ]] || return 0
  local CACHE_STORE="" pair value
  # shellcheck source=/dev/null
  . "$OUT/cache.env"
  [[ -n "$CACHE_STORE" ]] || return 0
  # Checked by cache_config in cache-restore before cache.env was written; read -a, so nothing is globbed.
  local -a pairs
  read -r -a pairs <<< "$CACHE_STORE_ENV"
  for pair in "${pairs[@]}"; do
    value="${pair#*=}"
    env_args+=("${pair%%=*}=${value//@store/"$CACHE_STORE"}")
  done
}
