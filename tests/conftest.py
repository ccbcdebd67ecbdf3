"""Shared fixtures: the repository root, the first exercise (two moons) that tests use as their example, its master."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograder.course.build import generated_paths  # noqa: E402
from autograder.grader.exercise import load_exercise  # noqa: E402

# The tests' example exercise (the package names none): its master and the notebooks the build makes from it.
ASSIGNMENT = "realnvp"
MASTER = REPO / "autograder" / "master" / f"{ASSIGNMENT}.py"
_BUILT = generated_paths(ASSIGNMENT)
SOURCE_NOTEBOOK, STUDENT_NOTEBOOK, SOLUTION_NOTEBOOK = _BUILT["source"], _BUILT["student"], _BUILT["solution"]


@pytest.fixture(scope="session")
def exercise():
    return load_exercise(MASTER)


@pytest.fixture(scope="session")
def master(exercise):
    return exercise.nb


@pytest.fixture(scope="session")
def examples_one_shot(tmp_path_factory):
    """The bundled examples graded once by `python -m autograder grade`: the reference that shards and merge,
    and the simulated Gradescope runs, must reproduce. (out folder, grades.csv rows by student id)"""
    import csv
    import subprocess

    from autograder.course.examples import EXAMPLES

    out = tmp_path_factory.mktemp("examples-one-shot")
    folder = EXAMPLES / "realnvp"
    command = [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--workers", "2", "--quiet"]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=600)
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return out, {row["student_id"]: row for row in csv.DictReader(handle)}
