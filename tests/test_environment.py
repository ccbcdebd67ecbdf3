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
