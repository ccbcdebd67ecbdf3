"""The generated notebooks: current with the master, and each holding only what its readers should see."""

import re

import nbformat
import pytest
from conftest import REPO, SOLUTION_NOTEBOOK, SOURCE_NOTEBOOK, STUDENT_NOTEBOOK

from autograder.course import build
from autograder.grader.core.masters import master_paths, notebook_named
from autograder.notebooks import grade_id, is_answer, is_manual, is_test

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.fixture(scope="module")
def student():
    return nbformat.read(STUDENT_NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(SOLUTION_NOTEBOOK, as_version=4)


def test_generated_notebooks_are_current_with_the_master():
    assert build.stale_notebooks() == [], "run: python -m autograder build"


def test_one_notebook_for_students_and_one_for_readers_per_master():
    names = sorted(f"{p.stem}.ipynb" for p in master_paths())
    assert names == ["realnvp.ipynb", "realnvp_digits.ipynb"]
    assert sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")) == names
    assert sorted(p.name for p in (REPO / "solutions").glob("*.ipynb")) == names


def test_student_notebook_has_no_answers_hidden_tests_or_outputs(student, master):
    text = STUDENT_NOTEBOOK.read_text()
    for marker in MARKERS:
        assert marker not in text
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in student.cells if c.cell_type == "code")
    solution_lines = {
        line.strip()
        for cell in master.cells
        if is_answer(cell)
        for line in cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0].splitlines()
        if len(line.strip()) > 20
    }
    student_answers = "\n".join(c.source for c in student.cells if is_answer(c))
    leaked = [line for line in solution_lines if line in student_answers]
    assert not leaked, f"solution lines in the student notebook: {leaked[:3]}"


def test_student_notebook_keeps_the_answer_cell_contract(student, master):
    answers = [grade_id(c) for c in student.cells if is_answer(c)]
    contract = ["change_of_variables", "masks", "coupling", "realnvp", "nll", "train"]
    assert answers == [grade_id(c) for c in master.cells if is_answer(c)] == contract
    tests = [grade_id(c) for c in student.cells if is_test(c)]
    assert len(tests) == len(set(tests)) >= len(answers)
    for cell in student.cells:
        if is_test(cell):
            assert cell.source.startswith('"""'), f"{grade_id(cell)} should open with a one-line docstring"


def test_every_answer_cell_is_followed_by_tests(student):
    kinds = ["answer" if is_answer(c) else "test" if is_test(c) else "other" for c in student.cells if c.cell_type == "code"]
    for index, kind in enumerate(kinds):
        if kind == "answer":
            assert kinds[index + 1] == "test"


@pytest.mark.parametrize("name", [p.stem for p in master_paths()])
def test_points_in_headings_match_the_test_cells_and_the_written_answers(name):
    exercise = notebook_named(name)
    markdown = "\n".join(c.source for c in exercise.nb.cells if c.cell_type == "markdown")
    parts = [float(m) for m in re.findall(r"^## Part \d+ — .*\((\d+) points?\)$", markdown, re.M)]
    written = [float(m) for m in re.findall(r"^### Written question \((\d+(?:\.\d+)?) points?, graded by hand\)$", markdown, re.M)]
    assert len(parts) >= 4 and sum(parts) == exercise.auto_max_score
    assert len(written) == len(exercise.manual) and sum(written) == sum(m.points for m in exercise.manual)


@pytest.mark.parametrize("name", [p.stem for p in master_paths()])
def test_written_answers_are_blank_in_the_release_and_their_rubrics_reach_no_student_or_reader(name):
    exercise, paths = notebook_named(name), build.generated_paths(name)
    assert exercise.manual and all(m.rubric for m in exercise.manual), "each master asks written questions, each with a rubric"
    released = {grade_id(c): c for c in nbformat.read(paths["student"], as_version=4).cells}
    for answer in exercise.manual:
        assert released[answer.grade_id].source == "YOUR ANSWER HERE" and is_manual(released[answer.grade_id])
        for kind in ("student", "solution"):
            text = paths[kind].read_text(encoding="utf-8")
            assert "rubric" not in text and answer.rubric.splitlines()[0][5:60] not in text, f"{name} {kind} shows a rubric"
    assert all(m.rubric.splitlines()[0][5:60] in paths["source"].read_text(encoding="utf-8") for m in exercise.manual)


def test_solution_notebook_has_answers_outputs_and_figures_but_no_hidden_tests(solution, student):
    text = SOLUTION_NOTEBOOK.read_text()
    for marker in MARKERS:
        assert marker not in text
    assert "NotImplementedError()" not in text
    assert [grade_id(c) for c in solution.cells] == [grade_id(c) for c in student.cells]
    code = [c for c in solution.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "the solution notebook is not executed"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5
    assert max(len(f["data"]["image/png"]) for f in figures) < 200_000, "keep each figure small"


def test_nbgrader_source_notebook_keeps_hidden_tests_and_solutions():
    text = SOURCE_NOTEBOOK.read_text()
    for marker in MARKERS:
        assert marker in text
