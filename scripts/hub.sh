#!/usr/bin/env bash
# The course on a JupyterHub on this machine, no Docker (docs/hub.md):
#   bash scripts/hub.sh install | up [--students N] [--port P] [--ip IP] | status | down [--purge]
# The logic is autograder/course/hub.py, run as root with Debian's Python (the standard library only: it installs
# the hub's own venv). `install` as an ordinary user only says so and exits 0, for scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  if [ "${1:-}" = install ]; then
    echo "== the course hub needs root (it creates Unix users): not installed; its test skips outside CI"
    exit 0
  fi
  echo "scripts/hub.sh: run it as root (it creates Unix users and runs each user's server as that user)" >&2
  exit 1
fi
exec /usr/bin/python3.11 -m autograder.course.hub "$@"
