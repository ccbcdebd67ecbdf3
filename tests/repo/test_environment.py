"""environment.yml and requirements.txt pin the same packages at the same versions."""

import re

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        match = re.fullmatch(r"\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)\s*(?:#.*)?", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_conda_environment_and_pip_requirements_pin_the_same_versions():
    requirements = _pins((REPO / "requirements.txt").read_text().splitlines())
    environment_lines = (REPO / "environment.yml").read_text().splitlines()
    conda = _pins(environment_lines)
    assert "torch" in requirements and requirements["torch"] == "2.13.0"
    assert conda == requirements
    assert "  - python=3.11" in environment_lines


def test_every_requirement_is_pinned():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    assert all("==" in line for line in lines if line), "pin every requirement with =="


def test_reading_a_notebook_builds_no_grammar():
    """jsonschema 4.25+ imports rfc3987_syntax, which builds about 35 Lark grammars whenever nbformat is imported
    (seconds in each process that reads a notebook: the grader, each worker, check); the pinned jsonschema does not."""
    import subprocess
    import sys

    code = "import sys, nbformat; print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
