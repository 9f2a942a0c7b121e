#!/usr/bin/env bash
# Makes the Python and Go base images the Docker builder's generated Dockerfiles use, on top of the local
# Node base image (scripts/docker.sh), from the host's own toolchains: no image can be pulled on these
# machines. Production points CLOUDSMITH_PYTHON_IMAGE / CLOUDSMITH_GO_IMAGE at python:3.12-slim / golang:1.23.
# Usage: scripts/stack-images.sh  (env: DOCKER_HOST, CLOUDSMITH_TEST_BASE_IMAGE; prints the two image names)
# Idempotent: an image whose label matches the toolchain's version is kept.
set -euo pipefail

BASE_IMAGE=${CLOUDSMITH_TEST_BASE_IMAGE:?set CLOUDSMITH_TEST_BASE_IMAGE (source /work/test-env.sh)}
REGISTRY=${BASE_IMAGE%%/*}
PYTHON_IMAGE=${CLOUDSMITH_TEST_PYTHON_IMAGE:-$REGISTRY/cloudsmith/python:host}
GO_IMAGE=${CLOUDSMITH_TEST_GO_IMAGE:-$REGISTRY/cloudsmith/go:host}
export DOCKER_HOST=${DOCKER_HOST:-${CLOUDSMITH_TEST_DOCKER:-}}
[[ -n "$DOCKER_HOST" ]] || unset DOCKER_HOST

log() { echo "[stack-images] $*" >&2; }

current_label() { docker image inspect --format '{{index .Config.Labels "cloudsmith.toolchain"}}' "$1" 2>/dev/null || true; }

# build IMAGE LABEL SRC_DIR DOCKERFILE_TEXT: the toolchain dir goes into the context at its own path.
build() {
  local image=$1 label=$2 src=$3 dockerfile=$4 ctx
  if [[ "$(current_label "$image")" == "$label" ]]; then log "$image up to date ($label)"; return; fi
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  printf '%s\n' "$dockerfile" >"$ctx/Dockerfile"
  mkdir -p "$ctx/toolchain$(dirname "$src")"
  # Tests, docs and caches are not needed to build or run apps.
  # So are the host Python's own site-packages: apps get a virtualenv of their own.
  tar -C / --exclude='*/test' --exclude='*/tests' --exclude='__pycache__' --exclude='*.a' --exclude='*/doc' \
    --exclude='*/lib/python3*/site-packages/*' -c "${src#/}" | tar -C "$ctx/toolchain" -x
  # The shared libraries its binaries and extension modules link to (libz, libssl, libffi…), from the host.
  local lib
  for lib in $(find "$src" \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -type f 2>/dev/null | grep -v -e /test -e /tests |
    xargs -r ldd 2>/dev/null | grep -o '=> /[^ ]*' | cut -c4- | sort -u); do
    mkdir -p "$ctx/toolchain$(dirname "$lib")"
    cp -L "$lib" "$ctx/toolchain$lib"
  done
  log "building $image from $src"
  docker build --quiet --label "cloudsmith.toolchain=$label" -t "$image" "$ctx" >/dev/null
  docker push "$image" >/dev/null
  log "$image built and pushed"
}

# A toolchain missing on the host is skipped (its image is not printed, so its tests skip).
if command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null; then
python_bin=$(python3 -c 'import sys; print(sys.executable)')
python_prefix=$(python3 -c 'import sys; print(sys.base_prefix)')
python_version=$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
build "$PYTHON_IMAGE" "python-$python_version-v4" "$python_prefix" "FROM $BASE_IMAGE
COPY toolchain/ /
# The interpreter's own pip, as python:*-slim images have it: builds install into the venv with it.
RUN $python_bin -m ensurepip --default-pip >/dev/null
# The host's CA bundle is in the base image; pip and uv must use it (egress is TLS-intercepted here).
ENV PATH=$(dirname "$python_bin"):/usr/local/bin:/usr/bin:/bin PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"

echo "CLOUDSMITH_PYTHON_IMAGE=$PYTHON_IMAGE"
else log "no python3 with venv on PATH: no Python image"; fi

if command -v go >/dev/null; then
go_root=$(go env GOROOT)
go_version=$(go env GOVERSION)
build "$GO_IMAGE" "$go_version" "$go_root" "FROM $BASE_IMAGE
COPY toolchain/ /
ENV PATH=$go_root/bin:/usr/local/bin:/usr/bin:/bin"

echo "CLOUDSMITH_GO_IMAGE=$GO_IMAGE"
else log "no go on PATH: no Go image"; fi
