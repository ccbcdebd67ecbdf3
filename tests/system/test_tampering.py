"""A grade the student's kernel cannot forge (tests/helpers/tampering_bank.py): submissions that change how their kernel runs a
cell score what their answers earn, flagged as tampering; honest ones that use IPython's features are never flagged;
`check` says the same as `grade`."""

import pytest
from hostile_bank import write_bank
from tampering_bank import honest_cases, tampering_cases

from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.check import run_visible
from autograder.grader.runs.grade import Options, grade_batch
from autograder.grader.runs.resolve import notebook_of, resolve_assignment

CASES = {case.name: case for case in tampering_cases() + honest_cases()}
LIMITS = Limits(cell_timeout=60, timeouts={"train": 60}, wall_timeout=400)

pytestmark = pytest.mark.slow  # every test reads the class graded in the sandbox


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tampering")
    write_bank(folder, CASES.values())
    out = tmp_path_factory.mktemp("out")
    records = grade_batch(folder, out, Options(workers=2, limits=LIMITS, progress=False))
    return folder, {r.student_id: r for r in records}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_submission_scores_what_its_answers_earn_and_only_tampering_is_flagged(graded, name):
    record, case = graded[1][name], CASES[name]
    assert record.status == case.status, record.message
    points = record.points()
    assert {gid: points[gid] for gid in case.points} == case.points, record.message
    if case.status == "ok":
        assert "changed how the kernel runs a cell" not in record.message and "fail outside it" not in record.message


def test_a_tampered_record_says_what_was_changed_and_where(graded):
    records = graded[1]
    assert "run_cell (found before 'test_change_of_variables')" in records["blank, run_cell rewritten at the shell's class"].message
    assert "ast_transformers" in records["inverse bug, assertions removed by an AST transformer"].message
    assert "input_transformers_post" in records["blank, an input transformer keeps the grader's lines"].message
    assert "do_execute" in records["blank, the kernel's do_execute rewritten"].message
    reversed_f = records["f reversed, the given StandInStack changed to agree"]
    assert "'test_realnvp_inverse' passed in the kernel, but its hidden checks fail outside it" in reversed_f.message
    inverse = next(t for t in reversed_f.tests if t.grade_id == "test_realnvp_inverse")
    assert inverse.message.startswith("its hidden checks, run again outside your kernel")


def test_check_flags_the_same_tampering_as_grade(graded, tmp_path):
    folder = graded[0]
    path = folder / "blank, run_cell rewritten at the shell's class.ipynb"
    checked = run_visible(path, notebook_of(resolve_assignment("realnvp"), path), LIMITS)
    assert checked.outcome.status == "tampering" and any("run_cell" in m for m in checked.outcome.messages)
    assert all(t.points == 0 for t in checked.outcome.tests)
