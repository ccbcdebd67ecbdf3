#!/usr/bin/env bash
# Install Debian's poppler-utils (pdftotext, pdfinfo, pdftoppm): the tests read the written answers' PDFs back with them.
# Without root (or apt) it only says so: those tests then skip outside CI and fail in CI.
set -euo pipefail
if command -v pdftotext >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "== pdftotext is missing and this is not a root Debian shell: install the poppler-utils package for the PDF tests"
  exit 0
fi
echo "== installing Debian's poppler-utils for the PDF tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
