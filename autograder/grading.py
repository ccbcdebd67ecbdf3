"""Grade answer cells against the master: assemble the graded notebook, execute it, score its test cells.

Scoring follows nbgrader's rule (nbgrader.utils.determine_grade): a test cell earns its points when it runs
without an error and writes nothing to stderr.
"""

import shutil
from dataclasses import dataclass

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade

from . import DATA_DIR
from .notebooks import BEGIN_SOLUTION, END_SOLUTION, grade_id, nbgrader_meta, without_markers

ANSWER_IDS = ("masks", "coupling", "realnvp", "nll", "train")
MISSING_ANSWER = "raise NotImplementedError('this answer cell is missing from the submission')\n"


@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    message: str = ""


def is_answer(cell):
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade")


def is_test(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def solution_answers(master):
    """grade_id -> the master's answer, solution markers removed."""
    return {grade_id(c): without_markers(c.source, BEGIN_SOLUTION, END_SOLUTION) for c in master.cells if is_answer(c)}


def assemble(master, answers):
    """The master with its answer cells replaced by answers (grade_id -> source); missing ones raise."""
    nb = nbformat.from_dict(master)
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = answers.get(grade_id(cell), MISSING_ANSWER)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def through_last_test(nb):
    """nb without the cells after its last test cell (the course's figures: they earn no points)."""
    last = max(index for index, cell in enumerate(nb.cells) if is_test(cell))
    nb.cells = nb.cells[: last + 1]
    return nb


def _record_swallowed_error(cell, cell_index, execute_reply):
    """A kernel can report an error without showing it (a custom exception handler): record it anyway."""
    content = execute_reply["content"]
    if content.get("status") == "error" and not any(o.output_type == "error" for o in cell.outputs):
        cell.outputs.append(
            nbformat.v4.new_output("error", ename=content.get("ename", "Error"), evalue=content.get("evalue", ""), traceback=[])
        )


def execute(nb, cwd, cell_timeout=120):
    """Run every cell in a fresh kernel with cwd as working directory, going on after errors."""
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        on_cell_executed=_record_swallowed_error,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def _failure_message(cell):
    for output in cell.outputs:
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}".strip().rstrip(":")
        if output.output_type == "stream" and output.name == "stderr":
            return "the test wrote to stderr: " + output.text.strip()[:300]
    return ""


def scores(nb):
    """One TestResult per test cell of an executed notebook, in notebook order."""
    results = []
    for cell in nb.cells:
        if is_test(cell):
            points, max_points = determine_grade(cell)
            message = "" if points == max_points else _failure_message(cell)
            results.append(TestResult(grade_id(cell), float(points or 0), max_points, message))
    return results


def stage_data(folder):
    """Copy the data splits into folder/data so that a notebook run there finds them."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for csv in DATA_DIR.glob("moons_*.csv"):
        shutil.copy(csv, folder / "data" / csv.name)
