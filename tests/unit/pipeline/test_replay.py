"""pipeline/recheck.py and its child process (pipeline/replay.py): the master's given cells run once per grading
process, each notebook's hidden checks in a fork that starts from the same namespace, a hang or a crash reported,
never another notebook's values."""

import ast
import subprocess
import sys

import pytest

from autograder import REPO
from autograder.grader.pipeline import recheck

# given cells: a helper, and a list that a check may change (each notebook must see it as the given cells left it)
GIVEN = ["seen = []\n", "def twice(x):\n    return 2 * x\n", "import os\nwith open('data/value.txt') as f:\n    STAGED = f.read()\n"]
# a check that changes the given namespace and reports what it found
CHECK = (
    "seen.append(1)\nassert len(seen) == 1, f'seen holds {len(seen)} items: another notebook ran here'\n"
    "assert twice(STAGED) == 'ab' * 2\n"
)


@pytest.fixture
def staged(tmp_path):
    value = tmp_path / "value.txt"
    value.write_text("ab")
    return [("data/value.txt", value)]


@pytest.fixture(autouse=True)
def _fresh_checkers():
    recheck.stop_checkers()
    yield
    recheck.stop_checkers()


def test_each_notebook_starts_from_the_given_namespace_in_one_kept_child(staged):
    first = recheck._checker(GIVEN, [], staged, 0)
    assert first.check([["t1", CHECK, None], ["t2", "assert False, 'wrong'\n", None]]) == {"t1": "", "t2": "wrong"}
    again = recheck._checker(GIVEN, [], staged, 0)
    assert again is first and again.alive(), "the same given cells and files must reuse the child"
    assert again.check([["t1", CHECK, None]]) == {"t1": ""}, "a second notebook saw the first one's changes"


def test_other_given_cells_files_or_seed_get_their_own_child(staged, tmp_path):
    first = recheck._checker(GIVEN, [], staged, 0)
    assert recheck._checker(GIVEN, [], staged, 1) is not first
    other = tmp_path / "other.txt"
    other.write_text("cd")
    changed = recheck._checker(GIVEN, [], [("data/value.txt", other)], 0)
    assert changed.check([["t1", "assert STAGED == 'cd'\n", None]]) == {"t1": ""}
    assert len(recheck._CHECKERS) == recheck._CHECKERS_KEPT and not first.alive(), "the oldest child must be stopped"


def test_a_check_that_hangs_is_stopped_and_said(staged, monkeypatch):
    monkeypatch.setattr(recheck, "TIMEOUT", 2)
    checker = recheck._checker(GIVEN, [], staged, 0)
    with pytest.raises(RuntimeError, match="ran past 2 s"):
        checker.check([["t1", "while True:\n    pass\n", None]])
    assert checker.alive() and checker.check([["t1", CHECK, None]]) == {"t1": ""}, "the child must serve the next notebook"


def test_a_check_that_kills_its_process_is_said_and_the_next_notebook_is_checked(staged):
    checker = recheck._checker(GIVEN, [], staged, 0)
    with pytest.raises(RuntimeError, match="stopped outside the kernel"):
        checker.check([["t1", "import os\nos._exit(3)\n", None]])
    assert recheck._checker(GIVEN, [], staged, 0).check([["t1", CHECK, None]]) == {"t1": ""}


def test_a_child_that_died_is_replaced(staged):
    checker = recheck._checker(GIVEN, [], staged, 0)
    checker.process.kill()
    checker.process.wait()
    replaced = recheck._checker(GIVEN, [], staged, 0)
    assert replaced is not checker and replaced.check([["t1", CHECK, None]]) == {"t1": ""}


def test_given_cells_that_fail_are_skipped_and_students_names_are_placeholders(staged):
    given = ["raise ValueError('an explorer that needs the student')\n", *GIVEN]
    checker = recheck._checker(given, ["make_masks"], staged, 0)
    verdicts = checker.check([["t1", CHECK, None], ["t2", "make_masks(3)\n", None]])
    assert verdicts["t1"] == "" and "outside calling()" in verdicts["t2"]


def test_a_child_stops_when_the_process_that_started_it_ends_without_stopping_it(staged, tmp_path):
    """A grading worker ends with os._exit (no atexit): its kept child must see its pipe close and stop."""
    import json
    import subprocess
    import sys

    import psutil

    script = (
        "import json, os, sys\nfrom pathlib import Path\nfrom autograder.grader.pipeline import recheck\n"
        f"checker = recheck._checker({GIVEN!r}, [], [('data/value.txt', Path({str(staged[0][1])!r}))], 0)\n"
        "print(json.dumps(checker.process.pid), flush=True)\nos._exit(0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    pid = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        psutil.Process(pid).wait(timeout=10)
    except psutil.NoSuchProcess:
        pass  # already gone
    except psutil.TimeoutExpired:
        psutil.Process(pid).kill()
        pytest.fail("the checks' child outlived the process that started it")


def test_the_child_imports_no_grader_module_but_the_one_that_ties_its_life_to_the_graders():
    """The child runs beside no student code, and should read as little of the grader as it needs: confine/processes.py."""
    code = "import sys, autograder.grader.pipeline.replay\nprint(sorted(m for m in sys.modules if m.startswith('autograder')))"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    packages = ["autograder", "autograder.grader", "autograder.grader.confine", "autograder.grader.pipeline"]
    assert ast.literal_eval(imported) == sorted([*packages, "autograder.grader.confine.processes", "autograder.grader.pipeline.replay"])
