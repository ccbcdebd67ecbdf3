"""Shared fixtures: the repository root, the master notebook, scratch folders with the data staged."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograder import MASTER  # noqa: E402
from autograder.notebooks import read_master  # noqa: E402


@pytest.fixture(scope="session")
def master():
    return read_master(MASTER)
