#!/usr/bin/env bash
# moto server on loopback: local stand-ins for S3, DynamoDB, ECS, ELBv2, ECR, EC2, Application Auto Scaling.
#   scripts/moto.sh up     install moto[server] into a cached venv (first run only), start it, wait until it answers
#   scripts/moto.sh down   stop it by its PID file
#   scripts/moto.sh env    print the variables the AWS tests read
# Idempotent: `up` twice leaves one server running; `down` without a server is a no-op.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CLOUDSMITH_CACHE:-$REPO/.cache}/moto"
VENV="$CACHE/venv"
HOST=127.0.0.1
PORT="${CLOUDSMITH_MOTO_PORT:-5055}"
PIDFILE="$CACHE/moto.pid"
LOG="$CACHE/moto.log"
# Pinned so a fresh machine gets the version the tests were written against.
MOTO_SPEC="${CLOUDSMITH_MOTO_SPEC:-moto[server]==5.2.5}"
URL="http://$HOST:$PORT"

answers() {
  # moto's dashboard path answers as soon as the server accepts requests.
  curl -fsS -o /dev/null --max-time 2 "$URL/moto-api/" 2>/dev/null
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

install() {
  if [[ -x "$VENV/bin/moto_server" ]] && [[ -f "$VENV/.spec" ]] && [[ "$(cat "$VENV/.spec")" == "$MOTO_SPEC" ]]; then
    return 0
  fi
  mkdir -p "$CACHE"
  local started=$SECONDS
  echo "moto: installing $MOTO_SPEC into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$MOTO_SPEC" >&2
  echo "$MOTO_SPEC" > "$VENV/.spec"
  echo "moto: installed in $((SECONDS - started))s" >&2
}

# moto_server handles requests on parallel threads, and its DynamoDB check-then-write for conditional updates is not
# atomic across them: two racing conditional updates can both succeed, which DynamoDB never allows. This launcher is
# moto_server with one lock around request handling (connections stay concurrent, handling is one at a time), so
# conditional writes are atomic as they are on AWS.
write_launcher() {
  cat > "$VENV/cloudsmith_moto.py" <<'PY'
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler

host, port = sys.argv[1], int(sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialize the body inside the lock: moto builds responses lazily in places.
        return list(app(environ, start_response))


run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)
PY
}

up() {
  install
  write_launcher
  if pid="$(running_pid)"; then
    if answers; then
      echo "moto: already running (pid $pid) at $URL" >&2
      return 0
    fi
  fi
  if answers; then
    echo "moto: port $PORT is already answering but not from our PID file ($PIDFILE); refusing to start a second server" >&2
    return 1
  fi
  mkdir -p "$CACHE"
  # setsid: its own process group, so `down` can stop the server and any worker it forks.
  MOTO_PORT="$PORT" setsid "$VENV/bin/python" "$VENV/cloudsmith_moto.py" "$HOST" "$PORT" >"$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  local deadline=$((SECONDS + 60))
  until answers; do
    if ! running_pid >/dev/null; then
      echo "moto: server exited during startup; log tail:" >&2
      tail -n 30 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      return 1
    fi
    if (( SECONDS > deadline )); then
      echo "moto: not answering at $URL after 60s; log tail:" >&2
      tail -n 30 "$LOG" >&2 || true
      down
      return 1
    fi
    sleep 0.3
  done
  echo "moto: running (pid $(cat "$PIDFILE")) at $URL" >&2
}

down() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "moto: stopped (pid $pid)" >&2
  fi
  rm -f "$PIDFILE"
}

env_vars() {
  echo "export CLOUDSMITH_TEST_AWS_ENDPOINT=$URL"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_vars ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
