"""Opt-in (pytest -m slow): the bundled examples graded for real, and the same submission scored 5 times out of 5."""

import pytest

from autograder.batch import Options, grade_batch
from autograder.examples import EXAMPLES
from autograder.runner import Limits

pytestmark = pytest.mark.slow


def test_bundled_examples_get_full_marks_a_bug_and_a_not_a_notebook(tmp_path):
    records = {r.student_id: r for r in grade_batch(EXAMPLES, tmp_path, Options(workers=2, progress=False))}
    assert (records["ada_correct"].score, records["ada_correct"].status) == (10, "ok"), records["ada_correct"].message
    points = records["ben_inverse_bug"].points()
    assert points["test_coupling_inverse"] == 0 and points["test_coupling_forward"] == 2
    assert records["cleo_broken"].status == "not a notebook"


def test_the_same_submission_scores_the_same_five_times(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for i in range(5):
        (folder / f"copy {i}.ipynb").write_bytes((EXAMPLES / "ada_correct.ipynb").read_bytes())
    records = grade_batch(folder, tmp_path / "out", Options(workers=2, limits=Limits(), progress=False))
    assert len({tuple(t.points for t in r.tests) for r in records}) == 1
    assert {r.score for r in records} == {10}
