#!/usr/bin/env bash
# Set up, then run the main job on the bundled data: train the solution headless and report its NLL and
# figures, then grade the bundled example submissions (a correct one, a classic bug, a broken notebook).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m autograder demo --out out/demo
echo
echo "== grading the example submissions in examples/submissions/"
.venv/bin/python -m autograder grade examples/submissions --out out/grading-demo --force
