#!/usr/bin/env bash
# The sandbox builds and apps run in (backend/src/sandbox): bubblewrap from Debian, and a check that it works here.
#   scripts/sandbox.sh up     install bubblewrap (first run only; root or passwordless sudo) and check that it can
#                             create a sandbox with its own PID namespace; says which cgroup version limits will use
#   scripts/sandbox.sh env    print the variables the tests read (CLOUDSMITH_TEST_SANDBOX=1 once `up` succeeded)
#   scripts/sandbox.sh down   nothing to stop (kept so scripts/test.sh treats every peer alike)
# Idempotent. Without a working sandbox `npm start` admits only its first user unless CLOUDSMITH_ALLOW_UNSANDBOXED=1.
set -euo pipefail

log() { echo "sandbox.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"; else
    log "need root (or passwordless sudo) to install bubblewrap: $*"; return 1
  fi
}

install() {
  command -v bwrap >/dev/null && command -v setpriv >/dev/null && return 0
  log "installing bubblewrap with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Other provisioning scripts may run apt at the same time (test.sh starts them in parallel): wait for the lock.
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq)
  as_root "${apt[@]}" install --no-install-recommends bubblewrap util-linux >/dev/null 2>&1 || {
    as_root "${apt[@]}" update >/dev/null
    as_root "${apt[@]}" install --no-install-recommends bubblewrap util-linux >/dev/null
  }
}

check() {
  # The same kind of sandbox the platform makes: read-only system, own /proc and PID namespace.
  local out
  if ! out=$(bwrap --die-with-parent --unshare-pid --ro-bind / / --proc /proc --dev /dev -- sh -c 'echo $$' 2>&1); then
    log "bubblewrap cannot create a sandbox here: $out"
    return 1
  fi
  # bubblewrap's own init is pid 1 in the new namespace, the command pid 2.
  [ "$out" -le 2 ] || { log "no PID namespace (sandboxed shell saw pid $out)"; return 1; }
  if [ -e /sys/fs/cgroup/memory/cgroup.procs ]; then log "cgroup v1: memory, pids and cpu limits per build and app"
  elif [ -e /sys/fs/cgroup/cgroup.controllers ]; then log "cgroup v2: limits where this process may create child cgroups"
  else log "no cgroups: build memory is sampled, apps run without memory/CPU/process limits"; fi
  log "ready ($(bwrap --version))"
}

case "${1:-}" in
  up) install && check ;;
  env) if command -v bwrap >/dev/null && check 2>/dev/null; then echo "export CLOUDSMITH_TEST_SANDBOX=1"; fi ;;
  down) ;;
  *) echo "usage: $0 up|env|down" >&2; exit 2 ;;
esac
