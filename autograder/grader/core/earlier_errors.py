"""A failed test's message names first the error of an earlier answer cell of the student's that it depends on.

A test that fails after the student's answer cell stopped with an error usually fails because of that error (the
training cell stopped half-way, a class was never defined), and its own message then points elsewhere (divergence,
the learning rate). The answer cell a test depends on is one whose declared names (the master's `defines`) the
test's code reads. Points never change here: only the message, which every report reads (feedback, check,
Gradescope), starts with "your cell 'train' stopped with ValueError: …; ".
"""

from __future__ import annotations

import ast
import dataclasses
from typing import TYPE_CHECKING, Any

from autograder.grader.core.cell_text import cell_error

if TYPE_CHECKING:
    from autograder.grader.core.record import TestResult

ANSWER_KINDS = ("answer", "manual")  # the graded notebook's cells (pipeline/assemble.py) that hold a student's answer and run
MAX_ERROR = 300  # characters of the error's first line


def names_read(source: str) -> set[str]:
    """The names a cell's code mentions (every ast.Name, loaded or not); an empty set when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _errors_before(nb, defines):
    """grade_id of each test cell -> [(answer grade_id, its error)] of the answer cells above it that stopped with
    an error and define a name the test reads (defines: answer grade_id -> names)."""
    seen, found = [], {}
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        kind, gid = meta.get("kind"), meta.get("grade_id")
        if kind in ANSWER_KINDS and cell.cell_type == "code" and cell_error(cell):
            seen.append((gid, cell_error(cell).splitlines()[0][:MAX_ERROR]))
        elif kind == "test":
            read = names_read(cell.source)
            found[gid] = [(answer, error) for answer, error in seen if read & set(defines.get(answer, ()))]
    return found


def with_earlier_errors(nb: Any, tests: list[TestResult], defines: dict) -> list[TestResult]:
    """tests (TestResults of the executed notebook nb) with each failed one's message led by the errors of the answer
    cells it depends on (defines: answer grade_id -> the names it defines, the master's declarations)."""
    errors = _errors_before(nb, defines)
    named = []
    for test in tests:
        earlier = errors.get(test.grade_id, []) if test.points < test.max_points else []
        if earlier:
            lead = "; ".join(f"your cell '{gid}' stopped with {error}" for gid, error in earlier)
            test = dataclasses.replace(test, message=f"{lead}; {test.message}" if test.message else lead)
        named.append(test)
    return named
