#!/usr/bin/env bash
# First step of `npm test`: the system tools the suite drives, installed with apt where they are
# missing. Present tools cost one `command -v` each, so a second run takes milliseconds.
#   redis-server  every integration test (a private instance; not needed when REDIS_URL is set)
#   chromium      the browser tests (console, demo, SSE), at /usr/bin/chromium
#   promtool      `promtool check metrics` on a live /metrics (Debian's `prometheus` package)
set -euo pipefail

missing=()
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if ! command -v promtool >/dev/null 2>&1; then missing+=(prometheus); fi
[ ${#missing[@]} -eq 0 ] && exit 0

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs: ${missing[*]} (Debian/Ubuntu packages). Install them, e.g." >&2
  echo "  sudo $install_cmd" >&2
  echo "then run npm test again." >&2
  exit 1
fi

echo "test set-up: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine: update once, only when needed.
if ! $install_cmd >/dev/null 2>&1; then
  apt-get update >/dev/null
  if ! $install_cmd >/dev/null; then
    echo "test set-up: could not install ${missing[*]} with apt-get; install them by hand and run npm test again" >&2
    exit 1
  fi
fi
