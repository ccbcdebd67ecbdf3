"""Shared fixtures: the repository root, the first exercise (two moons) that tests use as their example, its master."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# each test's time bound by its marker, and the processes the session leaves failing it (tests/session_guards.py)
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
# groups: a group's tests all run, in file order, on one worker. Each test file is a group of its own (so a module's
# fixtures, such as the graded bank, are computed once), except the files that share something outside their
# temporary folders, which form one group each:
SHARED_GROUPS = {
    # the hostile bank's submissions start `sleep 9731.x` strays, which each of these looks for on the whole machine
    "hostile_submissions": ("test_grader", "test_grader_resume", "test_grader_units", "test_gradescope"),
    # the one ordinary test user (tests/ordinary_user.py), its venv, and every process of its uid
    "ordinary_user": ("test_sandbox", "test_sandbox_launcher", "test_check"),
    # JupyterLab and Chromium: one browser at a time keeps their waits well inside their timeouts
    "browser": ("test_browser", "test_class_pages_browser", "test_manual_grading", "test_accessibility"),
}
GROUP_OF = {module: group for group, modules in SHARED_GROUPS.items() for module in modules}
# The longest groups first (the bank about 600 s alone, the next three 400 to 500 s each, in one-process runs), so
# that neither worker is left with a long one at the end.
FIRST = (
    "test_bank", "ordinary_user", "browser", "hostile_submissions", "test_hub", "test_notebooks_run", "test_nbgrader_parity", "test_slurm",
    "test_grader_slow",
)  # fmt: skip


# Files whose tests are grouped by the exercise their parameters name: each of the banks' two classes is long, and the
# two then run on the two workers side by side.
SPLIT_BY_EXERCISE = ("test_bank",)


def exercise_of_test(nodeid):
    """The exercise a test's parameters name ('realnvp' of test_x[realnvp/bug_y] or of test_x[realnvp]), or None."""
    match = re.search(r"\[([A-Za-z0-9_]+)(?:/[^\]]*)?\]$", nodeid)
    return match.group(1) if match else None


def group_of(path):
    """The group of a test file (a path or a node id's file part), or of a test (a node id) of a file split by exercise."""
    text = str(path)
    stem = Path(text.split("::", 1)[0]).stem
    group = GROUP_OF.get(stem, stem)
    exercise = exercise_of_test(text) if stem in SPLIT_BY_EXERCISE and "::" in text else None
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
