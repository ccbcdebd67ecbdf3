"""Shared fixtures: the repository root, the master notebook, scratch folders with the data staged."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograder import MASTER  # noqa: E402
from autograder.exercise import load_exercise  # noqa: E402


@pytest.fixture(scope="session")
def exercise():
    return load_exercise(MASTER)


@pytest.fixture(scope="session")
def master(exercise):
    return exercise.nb
