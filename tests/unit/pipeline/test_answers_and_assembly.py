"""pipeline/answers.py, assemble.py and names.py without a kernel: reading a file tolerantly, finding the answers,
assembling the graded notebook around them."""

import nbformat
import pytest
from hostile_bank import _base, _stripped, notebook_bytes

from autograder.course import examples
from autograder.grader.pipeline.answers import NotANotebook, extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded, suspicious
from autograder.grader.pipeline.names import defined_names


@pytest.mark.parametrize("data", [b"", b"{oops", b"%PDF-1.4\x00\x01", b"[1, 2]", b'{"cells": 3}'])
def test_what_is_not_a_notebook_says_so(data):
    with pytest.raises(NotANotebook):
        read_cells(data)


def test_answers_are_found_by_what_they_define_when_metadata_is_stripped(exercise):
    found = extract(read_cells(_stripped()), exercise)
    assert set(found.answers) == set(exercise.answer_ids)
    assert found.extras == {}


def test_missing_answers_raise_and_added_cells_follow_their_anchor(exercise):
    nb = examples.filled(_base())
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "nll"]
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "coupling")
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("my_helper = 1"))
    found = extract(read_cells(nbformat.writes(nb).encode()), exercise)
    graded = assemble_graded(exercise, found)
    sources = [c.source for c in graded.nb.cells if c.cell_type == "code"]
    nll = next(c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("grade_id") == "nll")
    assert "NotImplementedError" in nll.source
    coupling = next(i for i, c in enumerate(graded.nb.cells) if c.metadata.get("autograder", {}).get("grade_id") == "coupling")
    assert graded.nb.cells[coupling + 1].source == "my_helper = 1" and sources.count("my_helper = 1") == 1


def test_test_cells_in_the_graded_notebook_are_the_masters_with_hidden_tests(exercise):
    found = extract(read_cells(notebook_bytes(_base())), exercise)
    graded = assemble_graded(exercise, found)
    tests = [c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("kind") == "test"]
    assert len(tests) == len(exercise.tests) and all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    assert len(set(graded.all_tokens())) == 2 * len(exercise.tests) + 1  # and the restore lines' common start
    kinds = [c.metadata.get("autograder", {}).get("kind") for c in graded.nb.cells]
    firsts = [i for i, kind in enumerate(kinds) if kind in ("visible", "test") and kinds[i - 1] not in ("visible", "test")]
    assert len(firsts) == len(exercise.tests) and all(kinds[i - 1] == "restore" for i in firsts), "a restore request before each test"
    assert kinds.count("visible") == len(exercise.tests), "each test's visible checks are a request of their own"


def test_defined_names_finds_what_a_cell_binds():
    assert set(defined_names("import numpy as np\nfor a in b:\n    c = 1\ndef f():\n    d = 2\n")) == {"np", "a", "f", "c"}


def test_suspicious_code_is_flagged_for_review():
    assert "ctypes" in suspicious({"x": "import ctypes"}, {})
    assert suspicious({"x": "torch.allclose = lambda *a: True"}, {}) == ["assignment to a library attribute"]
    assert suspicious(examples.answers(), {}) == []
