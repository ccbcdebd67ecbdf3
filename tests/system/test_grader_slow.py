"""Opt-in (pytest -m slow): the bundled examples graded for real, and the same submission scored 5 times out of 5."""

import pytest
from conftest import ASSIGNMENT

from autograder.course.examples import EXAMPLES
from autograder.grader.core.layout import feedback_path
from autograder.grader.core.masters import notebook_named
from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.grade import Options, grade_batch

FULL = notebook_named("realnvp").auto_max_score  # every autograded point (the written answers await a person)

pytestmark = pytest.mark.slow


def test_bundled_examples_get_full_marks_one_part_s_points_and_a_not_a_notebook(tmp_path):
    records = {r.student_id: r for r in grade_batch(EXAMPLES / "realnvp", tmp_path, Options(workers=2, progress=False))}
    assert (records["ada_correct"].score, records["ada_correct"].status) == (FULL, "ok"), records["ada_correct"].message
    ben = records["ben_inverse_bug"]
    assert (ben.score, ben.status) == (FULL - 1, "ok"), ben.message  # test_coupling_inverse's point
    lost = {t.grade_id: t.message for t in ben.tests if t.points < t.max_points and not t.manual}  # written answers: a person's
    assert list(lost) == ["test_coupling_inverse"], lost
    assert "inverse" in lost["test_coupling_inverse"]
    feedback = feedback_path(tmp_path, "ben_inverse_bug", ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    failed_rows = [row for row in feedback.split("</table>")[0].split("<tr>") if "class=fail" in row]
    assert len(failed_rows) == 1 and "test_coupling_inverse" in failed_rows[0], failed_rows
    assert records["cleo_broken"].status == "not a notebook"


def test_the_same_submission_scores_the_same_five_times(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for i in range(5):
        (folder / f"copy {i}.ipynb").write_bytes((EXAMPLES / "realnvp" / "ada_correct.ipynb").read_bytes())
    records = grade_batch(folder, tmp_path / "out", Options(workers=2, limits=Limits(), progress=False))
    assert len({tuple(t.points for t in r.tests) for r in records}) == 1
    assert {r.score for r in records} == {FULL}
