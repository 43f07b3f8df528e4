#!/usr/bin/env bash
# Installs redis-server from the Debian packages, for the shared-store tests (test/core/store/, the
# reference API's DPoP and introspection tests, the benchmarks): each starts its own throw-away server on a
# free port of 127.0.0.1, so nothing is started here. Under CI the tests fail, rather than skip, when redis-server is missing.
#
# Usage (as root, Debian 12): bash .ci/redis.sh
# Idempotent: a second run finds the package in place and only prints its version.
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1; then
  [[ "$(id -u)" == 0 ]] || {
    log 'error: run me as root (I install a package)'
    exit 1
  }
  log 'installing redis-server from the Debian packages'
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
fi

# The package may start a system service on 6379; the tests neither need nor use it.
log "ready: $(redis-server --version)"
