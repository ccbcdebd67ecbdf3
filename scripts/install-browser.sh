#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/system/browser/test_browser.py drives it with Playwright), and axe-core, the
# accessibility engine that tests/system/browser/test_accessibility.py loads into the pages it opens there.
# Playwright's own browser download is never used: this machine reaches Debian's packages, not browser builds.
# axe-core comes from the npm registry, at the pinned version below, into .venv/axe (the tests read it from there and
# never download anything). Without root (or apt, or npm) it only says so: those tests then skip outside CI and fail in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM=/usr/bin/chromium
AXE_VERSION=4.14.1  # tests/system/browser/test_accessibility.py checks that the installed axe.min.js is this version
AXE_DIR=.venv/axe

install_chromium() {
  if [ -x "$CHROMIUM" ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "== $CHROMIUM is missing and this is not a root Debian shell: install the chromium package to run the browser test"
    return 0
  fi
  echo "== installing Debian's chromium for the browser test (about a minute)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  "$CHROMIUM" --version
}

install_axe() {
  local installed=$AXE_DIR/node_modules/axe-core/package.json
  if [ -f "$installed" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$installed"; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "== npm is missing: install Node.js's npm to run the accessibility test (axe-core $AXE_VERSION)"
    return 0
  fi
  echo "== installing axe-core $AXE_VERSION for the accessibility test"
  mkdir -p "$AXE_DIR"
  # --ignore-scripts: axe-core has no install script, and none may run; the registry's checksum is verified by npm
  npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
}

install_chromium
install_axe
