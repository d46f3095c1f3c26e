#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (real engines, not mocks): redis-server for
# the Redis store tests, postgresql for the catalog tests, prometheus for promtool, chromium for
# the page tests, haproxy for the replica tests. Runs as part of
# `make install-dev` (so `make test`); `make run` needs none of them. A no-op when present.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# PostgreSQL for the catalog tests on a real server (issue 12): tests/support/postgres.py runs
# initdb and postgres from /usr/lib/postgresql/<version>/bin (not on PATH in Debian) as a
# throwaway server on 127.0.0.1, as the `postgres` user the package creates.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  need+=(postgresql)
fi
# promtool (from Debian's prometheus) validates the /metrics exposition in tests.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# HAProxy as the load balancer in front of N webhook replicas (issue 14, tests/scale/,
# tests/support/loadbalancer.py): it runs in the foreground (-db) as the test's subprocess.
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# Headless chromium for the sandbox web page test (Playwright drives it; no browser download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${STATBOT_SKIP_SYSTEM_PACKAGES:-}" = "1" ] || [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-system: missing ${need[*]} and no apt-get; install them by hand" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "install-test-system: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
