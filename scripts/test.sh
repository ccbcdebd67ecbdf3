#!/usr/bin/env bash
# Set up, then run every test (lint, build freshness, data, notebooks, planted-bug bank).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check autograder tests data bench
.venv/bin/python -m pytest "$@"
