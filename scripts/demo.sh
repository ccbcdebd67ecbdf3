#!/usr/bin/env bash
# Set up, then run the main job on the bundled data: train each exercise's solution headless and report its
# held-out score and figures, then grade each exercise's bundled examples (correct, a classic bug, broken).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-sandbox.sh
.venv/bin/python -m autograder demo --out out/demo
for exercise in examples/*/; do
  name=$(basename "$exercise")
  echo
  echo "== grading the example submissions in examples/$name/"
  .venv/bin/python -m autograder grade "examples/$name" --out "out/grading-demo/$name" --force
done
