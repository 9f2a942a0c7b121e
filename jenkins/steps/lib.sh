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
