"""runs/worker.py: which kept records a rerun grades again."""

from autograder.grader.core.masters import assignment_named
from autograder.grader.core.record import Record
from autograder.grader.intake.submissions import Submission
from autograder.grader.runs.worker import _digest, still_valid


def test_a_rerun_grades_again_what_a_changed_master_would_grade_differently(tmp_path):
    notebook = tmp_path / "ann.ipynb"
    notebook.write_text("{}")
    record = Record("ann", "ok", "", [], sha256=_digest([notebook]), master_sha256="old")
    submission, assignment = Submission("ann", notebook), assignment_named("realnvp")
    assert still_valid(record, submission, assignment, "old") and not still_valid(record, submission, assignment, "new")
    notebook.write_text('{"cells": []}')
    assert not still_valid(record, submission, assignment, "old")
