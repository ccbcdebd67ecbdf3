#!/usr/bin/env bash
# Set up, then run the main job on the bundled data: train the solution headless and show the results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m autograder demo --out out/demo "$@"
