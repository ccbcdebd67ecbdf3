#!/usr/bin/env bash
# Create .venv with the pinned packages (torch 2.13.0, CPU) and the course's own package.
# Safe to rerun: it reinstalls only when requirements.txt or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv/.installed
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== installing the pinned packages into .venv (about two minutes on a fresh machine)"
  # pip's and setuptools' chatter (a machine's own index settings, setuptools' boxed note on editable installs) is kept
  # in .venv/pip.log and shown only if an install fails
  log=.venv/pip.log
  {
    .venv/bin/python -m pip install --quiet --upgrade pip &&
      .venv/bin/python -m pip install --quiet -r requirements.txt &&
      PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install --quiet --no-deps -e .
  } >"$log" 2>&1 || { cat "$log"; echo "== the install failed (the log above is kept in $log)"; exit 1; }
  echo "$want" > "$stamp"
fi
