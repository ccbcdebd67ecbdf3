"""reports/feedback.py: the feedback page of a graded notebook."""

from hostile_bank import _base, notebook_bytes

from autograder.grader.core.record import Record
from autograder.grader.pipeline.answers import extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded
from autograder.grader.reports.feedback import feedback_html


def test_feedback_never_contains_hidden_tests_even_from_executed_cells(exercise):
    graded = assemble_graded(exercise, extract(read_cells(notebook_bytes(_base())), exercise))
    record = Record("x", "ok", "", [])
    page = feedback_html(record, graded.nb, graded.all_tokens())
    assert "HIDDEN" not in page and "_hidden_formula" not in page and "_ag_" not in page
