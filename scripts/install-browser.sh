#!/usr/bin/env bash
# Install Debian's Chromium for the browser test (tests/test_browser.py drives it with Playwright).
# Playwright's own browser download is never used: this machine reaches Debian's packages, not browser builds.
# Without root (or apt) it only says so: the browser test then skips outside CI and fails in CI.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "== $CHROMIUM is missing and this is not a root Debian shell: install the chromium package to run the browser test"
  exit 0
fi
echo "== installing Debian's chromium for the browser test (about a minute)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
