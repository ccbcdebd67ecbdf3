"""Shared fixtures: the repository root, the first exercise (two moons) that tests use as their example, its master."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SYSTEM = TESTS / "system"
# the repository (for `autograder`) and tests/helpers/ (the helper modules, imported by their own names)
for folder in (REPO, TESTS / "helpers"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

# each test's time bound by its marker, and the processes the session leaves failing it (tests/helpers/session_guards.py)
from session_guards import pytest_collection_modifyitems as bound_by_marker  # noqa: E402
from session_guards import pytest_configure, pytest_terminal_summary  # noqa: E402, F401

from autograder.course.build import generated_paths  # noqa: E402
from autograder.grader.core.masters import load_notebook  # noqa: E402

# The tests' example exercise (the package names none): its master and the notebooks the build makes from it.
ASSIGNMENT = "realnvp"
MASTER = REPO / "autograder" / "master" / f"{ASSIGNMENT}.py"
_BUILT = generated_paths(ASSIGNMENT)
SOURCE_NOTEBOOK, STUDENT_NOTEBOOK, SOLUTION_NOTEBOOK = _BUILT["source"], _BUILT["student"], _BUILT["solution"]


@pytest.fixture(scope="session")
def exercise():
    return load_notebook(MASTER)


@pytest.fixture(scope="session")
def master(exercise):
    return exercise.nb


@pytest.fixture(scope="session")
def examples_one_shot(tmp_path_factory):
    """The bundled examples graded once by `python -m autograder grade`: the reference that shards and merge,
    and the simulated Gradescope runs, must reproduce. (out folder, grades.csv rows by student id)

    Once per run of the suite, not once per xdist worker: the files that read it lie in several groups, and the
    workers share pytest's base temporary folder, where the first to come grades under a lock and the others wait
    for it and read its folder. Every user of the folder copies it before writing anything."""
    import csv
    import fcntl
    import subprocess

    from autograder.course.examples import EXAMPLES

    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else tmp_path_factory.getbasetemp()
    out = shared / "examples-one-shot"
    with open(shared / "examples-one-shot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (or its worker dies)
        if not (out / "grades.csv").is_file():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            folder = EXAMPLES / "realnvp"
            command = [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--workers", "2", "--quiet"]
            subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=600)
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return out, {row["student_id"]: row for row in csv.DictReader(handle)}


# scripts/test.sh runs the suite on two pytest-xdist workers (`-n 2`), and the scheduler below hands out whole
# groups: a group's tests all run, in file order, on one worker. The group is read from where a test lives:
# - each folder of tests/system/ is one group: its files share something outside their temporary folders, so that
#   one worker runs them one after the other (system/hostile/: the hostile bank's `sleep` strays, which each of its
#   files looks for on the whole machine; system/sandbox/: the one ordinary test user, its venv and every process of
#   its uid; system/browser/: JupyterLab and Chromium, one browser at a time keeping their waits inside their bounds);
# - every other test file is a group of its own, so that a module's fixtures (such as a graded class) are computed once.
# The longest groups first, so that neither worker is left with a long one at the end (their times:
# docs/benchmarks.md, "The suite's groups").
FIRST = (
    "banks", "sandbox", "browser", "hostile", "hub", "test_notebooks_run", "test_nbgrader_parity", "slurm", "test_grader_slow",
)  # fmt: skip


# Groups whose tests are grouped further by the exercise their parameters name: each of the banks' two classes is long,
# and the two then run on the two workers side by side.
SPLIT_BY_EXERCISE = ("banks",)


def exercise_of_test(nodeid):
    """The exercise a test's parameters name ('realnvp' of test_x[realnvp/bug_y] or of test_x[realnvp]), or None."""
    match = re.search(r"\[([A-Za-z0-9_]+)(?:/[^\]]*)?\]$", nodeid)
    return match.group(1) if match else None


def group_of(path):
    """The group of a test file (a path, or a node id's file part, relative to the repository or absolute): its folder
    of tests/system/, else the file's name; for a test (a node id) of a group split by exercise, also the exercise."""
    text = str(path)
    file = Path(text.split("::", 1)[0])
    try:
        folders = (file if file.is_absolute() else REPO / file).relative_to(SYSTEM).parts[:-1]
    except ValueError:  # not under tests/system/
        folders = ()
    group = folders[0] if folders else file.stem
    exercise = exercise_of_test(text) if group in SPLIT_BY_EXERCISE and "::" in text else None
    return f"{group}:{exercise}" if exercise else group


def pytest_collection_modifyitems(config, items):
    bound_by_marker(config, items)

    def rank(item):
        group = group_of(item.nodeid).split(":")[0]
        return FIRST.index(group) if group in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: within a group, the file order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduler, with the scope of a test its group (xdist_group marks cannot do it on pytest 9: xdist
    3.8 renames node ids through an attribute pytest 9 no longer reads)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return group_of(nodeid)

    return GroupScheduling(config, log)
