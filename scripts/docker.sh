#!/usr/bin/env bash
# A private Docker engine and image registry on loopback, for the Docker builder/runtime tests and for users.
#   scripts/docker.sh up     install Debian's docker.io + docker-registry (first run only), start dockerd and the
#                            registry by hand, build the local base image and push it; waits until all are ready
#   scripts/docker.sh down   stop the registry and dockerd (and the containers it runs) by their PID files
#   scripts/docker.sh env    print the variables the Docker tests read
# Idempotent: `up` twice leaves one engine and one registry; `down` without them is a no-op.
# Everything lives under ${CLOUDSMITH_CACHE:-<repo>/.cache}/docker with its own socket, data root and PID files,
# so it never touches a system Docker engine.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$(mkdir -p "${CLOUDSMITH_CACHE:-$REPO/.cache}/docker" && cd "${CLOUDSMITH_CACHE:-$REPO/.cache}/docker" && pwd)"
REGISTRY_PORT="${CLOUDSMITH_DOCKER_REGISTRY_PORT:-5000}"
REGISTRY="127.0.0.1:$REGISTRY_PORT"
BASE_TAG="${CLOUDSMITH_DOCKER_BASE_TAG:-cloudsmith/node:20-slim}"
BASE_IMAGE="$REGISTRY/$BASE_TAG"
DOCKERD_PID="$CACHE/dockerd.pid"
REGISTRY_PID="$CACHE/registry.pid"
DOCKERD_LOG="$CACHE/dockerd.log"
REGISTRY_LOG="$CACHE/registry.log"
# Unix socket paths are limited to 108 bytes; a deep checkout would overflow them, so runtime sockets go to a
# short directory named after the cache (one engine per cache, never the system's /var/run/docker.sock).
if (( ${#CACHE} <= 60 )); then
  RUN_DIR="$CACHE/run"
else
  RUN_DIR="/tmp/cloudsmith-docker-$(printf '%s' "$CACHE" | sha256sum | cut -c1-10)"
fi
SOCKET="$RUN_DIR/docker.sock"
DOCKER_HOST_VALUE="unix://$SOCKET"
# Debian's client matches the engine; another client earlier in PATH (a newer one) may default to BuildKit.
DOCKER_BIN=/usr/bin/docker
[[ -x "$DOCKER_BIN" ]] || DOCKER_BIN=docker

log() { echo "docker.sh: $*" >&2; }
now_ms() { date +%s%3N; }
dk() { DOCKER_HOST="$DOCKER_HOST_VALUE" DOCKER_BUILDKIT=0 "$DOCKER_BIN" "$@"; }

pid_alive() { # pidfile -> prints the pid when its process is alive
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  (( ${#missing[@]} == 0 )) && return 0
  local started
  started=$(now_ms)
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d keeps the packages from starting the system's own docker/registry services on install.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy && created_policy=1; fi
  # Other provisioning scripts may run apt at the same time (test.sh starts them in parallel): wait for the lock.
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq)
  "${apt[@]}" install --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1 || {
    "${apt[@]}" update >>"$CACHE/apt.log" 2>&1
    "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$CACHE/apt.log" 2>&1
  } || { (( created_policy )) && rm -f $policy; log "apt-get failed:"; tail -n 20 "$CACHE/apt.log" >&2; return 1; }
  (( created_policy )) && rm -f $policy
  log "installed in $(( $(now_ms) - started )) ms"
}

engine_ready() { dk version --format '{{.Server.Version}}' >/dev/null 2>&1; }
registry_ready() { curl -fsS -o /dev/null --max-time 2 "http://$REGISTRY/v2/" 2>/dev/null; }

start_dockerd() {
  if pid_alive "$DOCKERD_PID" >/dev/null && engine_ready; then
    log "dockerd already running (pid $(cat "$DOCKERD_PID"))"
    return 0
  fi
  mkdir -p "$CACHE/data" "$RUN_DIR/exec"
  rm -f "$SOCKET"
  local started
  started=$(now_ms)
  # setsid: its own session, so it outlives this script; --exec-root keeps containerd's sockets out of /var/run.
  setsid dockerd \
    --data-root "$CACHE/data" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$DOCKERD_PID" \
    --host "$DOCKER_HOST_VALUE" \
    --storage-driver overlay2 \
    --log-level warn \
    >"$DOCKERD_LOG" 2>&1 </dev/null &
  local launcher=$!
  local deadline=$((SECONDS + 60))
  until engine_ready; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      log "dockerd exited during startup; log tail:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      return 1
    fi
    if (( SECONDS > deadline )); then
      log "dockerd not answering on $SOCKET after 60 s; log tail:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  echo "$launcher" > "$DOCKERD_PID"
  log "dockerd ready in $(( $(now_ms) - started )) ms (pid $launcher, $DOCKER_HOST_VALUE)"
}

start_registry() {
  if pid_alive "$REGISTRY_PID" >/dev/null && registry_ready; then
    log "registry already running (pid $(cat "$REGISTRY_PID")) at $REGISTRY"
    return 0
  fi
  if registry_ready; then
    log "$REGISTRY already answers but not from our PID file ($REGISTRY_PID); refusing to start a second registry"
    return 1
  fi
  mkdir -p "$CACHE/registry-data"
  cat >"$CACHE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $CACHE/registry-data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
  setsid docker-registry serve "$CACHE/registry.yml" >"$REGISTRY_LOG" 2>&1 </dev/null &
  echo $! > "$REGISTRY_PID"
  local deadline=$((SECONDS + 30))
  until registry_ready; do
    if ! pid_alive "$REGISTRY_PID" >/dev/null; then
      log "registry exited during startup; log tail:"
      tail -n 30 "$REGISTRY_LOG" >&2 || true
      rm -f "$REGISTRY_PID"
      return 1
    fi
    if (( SECONDS > deadline )); then
      log "registry not answering at $REGISTRY after 30 s; log tail:"
      tail -n 30 "$REGISTRY_LOG" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "registry ready at $REGISTRY (pid $(cat "$REGISTRY_PID"))"
}

# The base image's identity: rebuilt only when the host's node, npm, busybox or CA bundle change.
base_fingerprint() {
  local node npmdir
  node="$(readlink -f "$(command -v node)")"
  npmdir="$(dirname "$node")/../lib/node_modules/npm"
  {
    echo "v4"
    "$node" --version
    cat "$npmdir/package.json" 2>/dev/null | grep '"version"' | head -1
    sha256sum /bin/busybox /etc/ssl/certs/ca-certificates.crt
  } | sha256sum | cut -c1-16
}

# No image can be pulled here, so the base is assembled from the host: its node binary and shared
# libraries, npm, a static busybox for /bin/sh and the usual tools (RUN lines and npm scripts need a shell),
# the host's CA bundle (egress is TLS-intercepted: npm ci in a build fails without it) and a `node` user
# (uid 1000, as in the official node images, so the same Dockerfile runs on node:20-slim in production).
make_rootfs() {
  local out=$1 node npmdir
  rm -rf "$out"
  mkdir -p "$out"/{bin,usr/bin,usr/lib,usr/local/bin,tmp,etc/ssl/certs,proc,sys,dev,app,home/node,root}
  node="$(readlink -f "$(command -v node)")"
  npmdir="$(readlink -f "$(dirname "$node")/../lib/node_modules/npm")"
  copy() { mkdir -p "$out$(dirname "$1")"; cp -L "$1" "$out$1"; }
  copy "$node"
  [[ "$node" == /usr/bin/node ]] || ln -sf "$node" "$out/usr/bin/node"
  for lib in $(ldd "$node" | grep -o '/[^ ]*'); do copy "$lib"; done
  # The rest of the C runtime: npm packages with native addons (rollup, esbuild, sharp...) link against it.
  for lib in $(dpkg -L libc6 libgcc-s1 libstdc++6 2>/dev/null | grep -E '/lib.*\.so(\.[0-9]+)*$' | grep -v gconv); do
    [[ -f "$lib" ]] && copy "$lib"
  done
  mkdir -p "$out/usr/lib/node_modules"
  cp -a "$npmdir" "$out/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$out/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$out/usr/bin/npx"
  cp /bin/busybox "$out/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ -e "$out/bin/$applet" ]] || ln -s busybox "$out/bin/$applet"
  done
  ln -sf /bin/env "$out/usr/bin/env"
  cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
  cat >"$out/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534::/nonexistent:/bin/false
EOF
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$out/etc/group"
  printf 'hosts: files dns\n' >"$out/etc/nsswitch.conf"
  chown 1000:1000 "$out/home/node"
  chmod 1777 "$out/tmp"
}

build_base_image() {
  local fingerprint current
  fingerprint="$(base_fingerprint)"
  current="$(dk image inspect --format '{{index .Config.Labels "cloudsmith.base"}}' "$BASE_IMAGE" 2>/dev/null || true)"
  if [[ "$current" != "$fingerprint" ]]; then
    local started rootfs="$CACHE/base-rootfs"
    started=$(now_ms)
    make_rootfs "$rootfs"
    tar -C "$rootfs" -c . | dk import \
      -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      -c 'ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false' \
      -c "LABEL cloudsmith.base=$fingerprint" \
      -c 'WORKDIR /app' \
      -c 'CMD ["node"]' \
      - "$BASE_IMAGE" >/dev/null
    dk tag "$BASE_IMAGE" "$BASE_TAG"
    rm -rf "$rootfs"
    log "base image $BASE_IMAGE built in $(( $(now_ms) - started )) ms ($(dk image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%d MB", $1/1000000}'))"
  else
    log "base image $BASE_IMAGE up to date"
  fi
  local started
  started=$(now_ms)
  dk push "$BASE_IMAGE" >"$CACHE/push.log" 2>&1 || { log "push of $BASE_IMAGE failed:"; tail -n 10 "$CACHE/push.log" >&2; return 1; }
  log "base image pushed to $REGISTRY in $(( $(now_ms) - started )) ms"
}

up() {
  local started
  started=$(now_ms)
  mkdir -p "$CACHE"
  install_packages
  start_dockerd
  start_registry
  build_base_image
  log "up in $(( $(now_ms) - started )) ms"
}

stop_pid() { # name pidfile timeout_tenths
  local pid
  if pid="$(pid_alive "$2")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$3"); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    log "$1 stopped (pid $pid)"
  fi
  rm -f "$2"
}

down() {
  stop_pid registry "$REGISTRY_PID" 50
  if pid_alive "$DOCKERD_PID" >/dev/null && engine_ready; then
    # Containers first: dockerd would stop them too, but only after its own 15 s per-container grace.
    local ids
    ids="$(dk ps -q 2>/dev/null || true)"
    [[ -n "$ids" ]] && dk stop -t 2 $ids >/dev/null 2>&1 || true
  fi
  # dockerd stops its containerd and the containers' shims itself on SIGTERM.
  stop_pid dockerd "$DOCKERD_PID" 200
  rm -f "$SOCKET"
}

env_vars() {
  echo "export CLOUDSMITH_TEST_DOCKER=$DOCKER_HOST_VALUE"
  echo "export CLOUDSMITH_TEST_REGISTRY=$REGISTRY"
  echo "export CLOUDSMITH_TEST_BASE_IMAGE=$BASE_IMAGE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_vars ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
