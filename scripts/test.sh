#!/usr/bin/env bash
# Set up, then run every test (lint, build freshness, data, notebooks, planted-bug bank, sandbox, JupyterLab in a browser,
# the SLURM recipe of docs/grading-at-scale.md on a one-node cluster, a whole term on the course hub).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-browser.sh
bash scripts/install-sandbox.sh
bash scripts/install-pdf-tools.sh
bash scripts/slurm.sh install
bash scripts/hub.sh install  # the course hub's venv and proxy, for tests/system/hub/test_hub.py (root only; a no-op when done)
.venv/bin/ruff check autograder tests data bench docs
# the masters' names as their notebooks define them, shared files pasted in (the masters alone cannot be checked for them)
.venv/bin/ruff check --select F autograder/nbgrader_source/*/*.ipynb
# the typed layers' public functions, as pyproject.toml's [tool.mypy] lists them
.venv/bin/mypy
# two workers (pytest-xdist), each test file or group of files on one of them: tests/conftest.py says which
.venv/bin/python -m pytest -n 2 "$@"
