"""The grader serves any exercise its master declares: a tiny third master that exists only in the tests."""

import nbformat
import pytest
from conftest import REPO

from autograder.grader.core.assignment import AssignmentError
from autograder.grader.core.layout import feedback_path
from autograder.grader.core.masters import load_notebook
from autograder.grader.intake.submissions import discover
from autograder.grader.runs.grade import Options, grade_batch
from autograder.grader.runs.resolve import resolve_assignment
from autograder.notebooks import grade_id, solution_notebook

TINY = REPO / "tests" / "fixtures" / "tiny_master.py"
# Right on the visible test (scaled(1.0) == 3.0), wrong on the hidden one.
HIDDEN_BUG = ("return SCALE * x", "return x + 2.0")


def _submission(folder, name, replace=None):
    nb = solution_notebook(load_notebook(TINY).nb)
    for cell in nb.cells:
        if replace and grade_id(cell) == "scaled":
            cell.source = cell.source.replace(*replace)
    (folder / f"{name}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")


def test_the_tiny_master_declares_itself():
    exercise = load_notebook(TINY)
    assert (exercise.name, exercise.title, exercise.max_score) == ("tiny_master", "A tiny exercise", 2.0)
    assert exercise.defines == {"scaled": ("scaled",)} and exercise.timeouts == {"scaled": 20.0}
    assert [p.name for p in exercise.data_files()] == ["tiny_scale.txt"]


def test_a_third_master_is_graded_with_no_grader_change(tmp_path):
    submissions = tmp_path / "subs"
    submissions.mkdir()
    _submission(submissions, "right")
    _submission(submissions, "hidden bug", HIDDEN_BUG)
    options = Options(workers=2, progress=False, assignment=str(TINY))
    records = {r.student_id: r for r in grade_batch(submissions, tmp_path / "out", options)}
    assert (records["right"].score, records["right"].status) == (2, "ok"), records["right"].message
    [test] = records["hidden bug"].tests
    assert (test.points, test.visible_passed) == (0, True)
    assert "scaled(-2.0) should be -6.0" in test.message and "hidden test" in test.message
    assert "A tiny exercise: feedback" in feedback_path(tmp_path / "out", "right", "tiny_master", "tiny_master").read_text(encoding="utf-8")
    header = (tmp_path / "out" / "grades.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == ["student_id", "test_scaled"] and header[-4:] == ["score", "max_score", "status", "message"]


def test_the_exercise_is_found_from_the_notebooks(tmp_path, exercise):
    _submission(tmp_path, "one")
    assert resolve_assignment(submissions=discover(tmp_path, None), candidates=[exercise.master_path, TINY]).name == "tiny_master"


def test_notebooks_of_no_known_exercise_ask_for_assignment(tmp_path, exercise):
    (tmp_path / "x.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")
    with pytest.raises(AssignmentError, match="--assignment"):
        resolve_assignment(submissions=discover(tmp_path, None), candidates=[exercise.master_path, TINY])
