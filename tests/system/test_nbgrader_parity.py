"""The same scores as nbgrader: nbgrader's own example course (ps1: bitdiddle and hacker, two notebooks, a task cell,
answers graded by hand) and nbgrader's own test notebooks (changed and locked cells, cheat attempts, side effects,
hidden tests, NBGRADER_EXECUTION), graded by `nbgrader autograde` and by `python -m autograder grade --course`, in
two copies of one course directory, in this environment: the gradebooks must agree cell for cell (auto score, needs
manual grade, maximum) and in every submission's total. Where this grader differs on purpose (a test cell the
student deleted or emptied the notebook of, a test that writes to stderr), the difference is asserted as documented
in docs/nbgrader-courses.md."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

NBGRADER = Path(nbgrader.__file__).parent
EXAMPLE = NBGRADER / "docs" / "source" / "user_guide"
FILES = NBGRADER / "tests" / "apps" / "files"
# assignment -> (source notebook, {student: submitted notebook (None: the release nbgrader makes of the source)})
CASES = {
    "cells": (
        "submitted-unchanged.ipynb",
        {
            "unchanged": "submitted-unchanged.ipynb",
            "changed": "submitted-changed.ipynb",
            "cheat": "submitted-cheat-attempt.ipynb",
            "cheatalt": "submitted-cheat-attempt-alternative.ipynb",
            "gradecellchanged": "submitted-grade-cell-changed.ipynb",
            "lockedcellchanged": "submitted-locked-cell-changed.ipynb",
        },
    ),
    "testnb": ("test.ipynb", {"itself": "test.ipynb", "withoutput": "test-with-output.ipynb", "released": None}),
    "hidden": ("test-hidden-tests.ipynb", {"released": None}),
    "sideeffects": ("side-effects.ipynb", {"same": "side-effects.ipynb"}),
    "envvar": ("validating-environment-variable.ipynb", {"same": "validating-environment-variable.ipynb"}),
}
ASSIGNMENTS = ["ps1", *CASES, "stderr"]
# What this grader does differently on purpose (docs/nbgrader-courses.md): the student's copies that differ
DIFFERENT = {
    ("cells", "empty"): "a notebook emptied of its cells: the tests come from the source and run (0); nbgrader leaves them to a person",
    ("stderr", "same"): "a test that writes to stderr (a warning) keeps its points here; nbgrader gives it 0",
    ("cells", "cheat"): "IPython's showtraceback replaced on its class: flagged as tampering, no test after it counts here",
    ("cells", "cheatalt"): "the same cheat attempt, written another way: flagged as tampering, no test after it counts here",
}


NBGRADER_RUN = """
import sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
step, root, *assignments = sys.argv[1:]
api = NbGraderAPI(coursedir=CourseDirectory(root=root))
for assignment in assignments:
    if step == "generate":
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            sys.exit(f"generate_assignment {assignment}: {result['error']}\\n{result['log']}")
    else:
        for student in sorted(api.get_submitted_students(assignment)):
            result = api.autograde(assignment, student, force=True)
            if not result["success"]:
                sys.exit(f"autograde {assignment} {student}: {result['error']}\\n{result['log']}")
"""


def _nbgrader(step, course, assignments):
    """nbgrader's own generate_assignment or autograde of the assignments, through its API, in one process."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}  # nbgrader runs `alembic`
    command = [sys.executable, "-c", NBGRADER_RUN, step, str(course), *assignments]
    done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"nbgrader {step}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _empty(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells = []
    return nb


def _nbgrader_cell(source, grade_id, solution=False, points=None):
    """A code cell with nbgrader's metadata: an answer (solution) or a test (points)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                                 "solution": solution, "task": False, **({"points": points} if points is not None else {})}  # fmt: skip
    return cell


def _stderr_notebook():
    """A source notebook whose only test passes but warns (on stderr)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    answer = _nbgrader_cell("### BEGIN SOLUTION\na = 1\n### END SOLUTION", "answer", solution=True)
    nb.cells = [answer, _nbgrader_cell("import warnings\nwarnings.warn('deprecated')\nassert a == 1", "test", points=2)]
    return nb


def _course(root):
    """A course directory holding nbgrader's example ps1 and the cases, sources generated (nbgrader's
    generate_assignment, which also declares them in the gradebook) and submitted."""
    (root / "source").mkdir(parents=True)
    shutil.copytree(EXAMPLE / "source" / "ps1", root / "source" / "ps1")
    shutil.copytree(EXAMPLE / "submitted", root / "submitted")
    for assignment, (source, _) in CASES.items():
        (root / "source" / assignment).mkdir()
        shutil.copy(FILES / source, root / "source" / assignment / "p1.ipynb")
    (root / "source" / "stderr").mkdir()
    nbformat.write(_stderr_notebook(), root / "source" / "stderr" / "p1.ipynb")
    _nbgrader("generate", root, ASSIGNMENTS)
    for assignment, (_, students) in CASES.items():
        for student, submitted in students.items():
            folder = root / "submitted" / student / assignment
            folder.mkdir(parents=True)
            shutil.copy(FILES / submitted if submitted else root / "release" / assignment / "p1.ipynb", folder / "p1.ipynb")
    for student, assignment, nb in (
        ("empty", "cells", _empty(FILES / "submitted-unchanged.ipynb")),
        ("same", "stderr", _stderr_notebook()),
    ):
        (root / "submitted" / student / assignment).mkdir(parents=True)
        nbformat.write(nb, root / "submitted" / student / assignment / "p1.ipynb")
    return root


def _cells(course, assignment):
    """{(student, notebook, cell): (auto score, needs manual grade, max score)} and {student: (score, max score,
    needs manual grade)} from the course's gradebook."""
    from nbgrader.api import Gradebook

    cells, totals = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for submission in gb.find_assignment(assignment).submissions:
            student = submission.student.id
            totals[student] = (submission.score, submission.max_score, submission.needs_manual_grade)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[(student, notebook.name, grade.cell.name)] = (grade.auto_score, grade.needs_manual_grade, grade.max_score)
    return cells, totals


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{assignment: (nbgrader's cells and totals, ours)}: each graded in its copy of the course."""
    theirs = _course(tmp_path_factory.mktemp("nbgrader") / "course")
    ours = tmp_path_factory.mktemp("ours") / "course"
    shutil.copytree(theirs, ours)
    results = {}
    _nbgrader("autograde", theirs, ASSIGNMENTS)
    for assignment in ASSIGNMENTS:
        out = ours.parent / "out" / assignment
        command = [sys.executable, "-m", "autograder", "grade", "--course", str(ours), "--assignment", assignment, "--out", str(out)]
        done = subprocess.run([*command, "--quiet", "--workers", "2"], cwd=REPO, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        results[assignment] = (_cells(theirs, assignment), _cells(ours, assignment))
    return results


@pytest.mark.parametrize("assignment", ["ps1", *CASES])
def test_every_cell_scores_as_nbgrader_autograde_scores_it(graded, assignment):
    (theirs, their_totals), (ours, our_totals) = graded[assignment]
    differ = {key for key in DIFFERENT if key[0] == assignment}
    mine = {k: v for k, v in ours.items() if (assignment, k[0]) not in differ}
    assert their_totals and mine == {k: v for k, v in theirs.items() if (assignment, k[0]) not in differ}
    assert {s: t for s, t in our_totals.items() if (assignment, s) not in differ} == {
        s: t for s, t in their_totals.items() if (assignment, s) not in differ
    }


def test_nbgraders_example_course_totals(graded):
    (_, totals), (_, ours) = graded["ps1"]
    assert totals == ours == {"bitdiddle": (1.5, 13.0, True), "hacker": (3.0, 13.0, True)}


def test_a_notebook_emptied_of_its_cells_still_runs_its_tests_here(graded):
    (theirs, _), (ours, _) = graded["cells"]
    tests = ("foo", "bar")
    assert {theirs[("empty", "p1", t)] for t in tests} == {(None, True, 1.0)}  # nbgrader: left to a person
    assert [ours[("empty", "p1", t)][:2] for t in tests] == [(1.0, False), (0.0, False)]  # here: the source's tests ran


def test_a_test_that_warns_keeps_its_points_here(graded):
    (theirs, _), (ours, _) = graded["stderr"]
    assert theirs[("same", "p1", "test")] == (0.0, False, 2.0) and ours[("same", "p1", "test")] == (2.0, False, 2.0)
