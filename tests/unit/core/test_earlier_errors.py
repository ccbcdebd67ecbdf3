"""core/earlier_errors.py: a failed test's message names first the error of an earlier answer cell it reads."""

import nbformat

from autograder.grader.core.earlier_errors import names_read, with_earlier_errors
from autograder.grader.core.record import TestResult


def _cell(kind, gid, source="", error=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["autograder"] = {"kind": kind, "grade_id": gid}
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename=error[0], evalue=error[1], traceback=[])]
    return cell


def _notebook():
    """An answer 'train' that stopped with an error, a test that reads what it defines, a test that does not."""
    return nbformat.v4.new_notebook(
        cells=[
            _cell("answer", "scaled", "def scaled(x):\n    return 3 * x"),
            _cell("answer", "train", "history = []\n...", error=("ValueError", "bits_per_dim got NaN: x_test is not dequantized\nmore")),
            _cell("test", "test_train", "assert len(history) == 3, 'history should have 3 entries'"),
            _cell("test", "test_scaled", "assert scaled(1.0) == 3.0"),
        ]
    )


DEFINES = {"scaled": ("scaled",), "train": ("flow", "history")}


def test_a_failed_test_that_reads_an_erroring_answer_names_its_error_first():
    tests = [TestResult("test_train", 0.0, 2.0, "AssertionError: history should have 3 entries"), TestResult("test_scaled", 0.0, 1.0, "x")]
    named = with_earlier_errors(_notebook(), tests, DEFINES)
    assert named[0].message == (
        "your cell 'train' stopped with ValueError: bits_per_dim got NaN: x_test is not dequantized; "
        "AssertionError: history should have 3 entries"
    )
    assert named[1].message == "x", "test_scaled reads nothing that 'train' defines"
    assert [t.points for t in named] == [0.0, 0.0] and tests[0].message == "AssertionError: history should have 3 entries"


def test_a_passed_test_and_an_answer_that_ran_keep_their_messages():
    nb = _notebook()
    tests = [TestResult("test_train", 2.0, 2.0, ""), TestResult("test_scaled", 0.0, 1.0, "AssertionError: off")]
    assert with_earlier_errors(nb, tests, DEFINES) == tests
    nb.cells[1].outputs = []
    failed = [TestResult("test_train", 0.0, 2.0, "AssertionError: history should have 3 entries")]
    assert with_earlier_errors(nb, failed, DEFINES) == failed


def test_an_answer_below_the_test_is_never_blamed():
    nb = _notebook()
    nb.cells = [nb.cells[0], nb.cells[2], nb.cells[1]]
    failed = [TestResult("test_train", 0.0, 2.0, "NameError: name 'history' is not defined")]
    assert with_earlier_errors(nb, failed, DEFINES) == failed


def test_names_read_are_every_name_of_the_code_and_none_of_code_that_does_not_parse():
    assert names_read("check(flow.f(x_test)[0].shape == (n,), f'{history}')") >= {"check", "flow", "x_test", "n", "history"}
    assert names_read("def f(:\n") == set()
