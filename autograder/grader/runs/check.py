"""python -m autograder check NOTEBOOK: one student's notebook run with the visible tests only, as Validate runs it.

For students who work in VS Code or a terminal, and for instructors trying a file. The notebook goes through the
grader's own path (runs/notebook.py's steps: read, extract, assemble, execute confined, score), with one difference:
the notebook is a copy of its source whose test cells hold only their visible checks, the hidden blocks removed as
nbgrader's release removes them. So the kernel runs exactly the test cells the released notebook shows, in a fresh
kernel with the data staged beside the notebook, and no hidden code or hidden message can reach the output. As in
the grader, the test cells come from the master: a test cell the student edited or deleted runs as released. Unlike
the grader, check runs the cells after the last test too (the course's figures and explorers), as Run All and
Validate do: they grade nothing, but an error there is the student's to fix. Each test is printed as Jupyter shows
it in its cell (what the cell printed, then its exception type and message), then the errors of other cells (those
after the last test apart), the written answers left blank, and a summary of the visible points.

Exit status: 0 when every visible check passes and no cell after the last test stops with an error, 1 when a
visible check fails or a cell after the last test stops with an error (ungraded, but Run All stops there), 2 when
nothing could be checked (not a notebook, an assignment that cannot be told, a kernel that does not start). A written
answer left blank is reported and changes no exit status: it is graded by hand, and a draft may be checked first.
"""

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat

from autograder.grader.confine.isolation import measure
from autograder.grader.confine.sandbox import Sandbox
from autograder.grader.core.assignment import Assignment, Notebook
from autograder.grader.core.cell_text import cell_error, stream_text
from autograder.grader.core.record import points_text
from autograder.grader.intake.junk import student_files
from autograder.grader.pipeline.answers import Extracted, NotANotebook, extract, read_cells, redact_hidden
from autograder.grader.pipeline.assemble import assemble_graded
from autograder.grader.pipeline.execute import Limits, staged_files
from autograder.grader.pipeline.score import Outcome
from autograder.grader.runs.lifetime import UidLease, run_scratch
from autograder.grader.runs.notebook import run_graded
from autograder.notebooks import is_test

MAX_PRINTED_LINES = 40
AFTER_TESTS = "errors after the last test (not graded, but Run All stops at the first: fix them before you hand in):"
BLANK = "written answers left blank (graded by hand: write each in place of YOUR ANSWER HERE before you hand in):"
REMINDER = (
    "These are the visible tests only. The grader also runs hidden tests, on inputs these do not try: "
    "your grade can be lower than these points, so write general code."
)


@dataclasses.dataclass
class Checked:
    """What check ran and found: the executed notebook, each test's result, the notes about the submission."""

    outcome: Outcome  # the executed notebook and its scored tests
    tokens: list  # what the test cells print when they pass: never shown
    notes: list
    isolation: str
    blank: list = dataclasses.field(default_factory=list)  # grade_ids of the written answers left blank


def visible_exercise(notebook: Notebook) -> Notebook:
    """A copy of the notebook whose test cells hold only their visible checks: what nbgrader's release leaves of them."""
    nb = nbformat.from_dict(notebook.nb)
    for cell in nb.cells:
        if is_test(cell):
            cell.source = redact_hidden(cell.source)
    return dataclasses.replace(notebook, nb=nb)


def read_notebook(path: str | Path) -> list[dict]:
    """The cells of the notebook at path (answers.read_cells); NotANotebook says why it is none."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise NotANotebook(f"{path} is a folder, not a notebook file") from None
    except OSError as error:
        raise NotANotebook(f"cannot read {path}: {error.strerror or error}") from None
    return read_cells(data)


def staged_for(path: str | Path, assignment: Assignment, notebook: Notebook) -> list[tuple[Path, Path]]:
    """What runs beside the checked notebook, as the grader stages it: the student's own files beside it, the
    assignment's other files, the notebook's data (execute.staged_files)."""
    folder = Path(path).resolve().parent
    mine = student_files(folder, set(folder.glob("*.ipynb"))) if notebook.student_files else []
    return staged_files(notebook, assignment.files, mine)


def _isolation_of_check(scratch, uids, path, notebook):
    """The confinement this host allows the kernel (measured as `grade` measures it); check changes no permissions."""
    hide, secrets = [str(Path(path).resolve().parent)], [str(notebook.master_path), str(Path(path).resolve())]
    return measure(scratch, uids, hide, secrets, private=[])


def blank_written(extracted: Extracted, notebook: Notebook) -> list[str]:
    """grade_ids of the written answers (graded by hand) that still hold the release's placeholder or nothing."""
    texts = {**extracted.answers, **extracted.written}
    return [gid for gid in notebook.manual_ids if gid in extracted.blank or (gid in texts and not texts[gid].strip())]


def run_visible(
    path: str | Path, notebook: Notebook, limits: Limits, progress: "CellProgress | None" = None, files: list | None = None
) -> Checked:
    """Run the notebook at path with the notebook's visible tests in a fresh confined kernel: a Checked.

    progress (a CellProgress, optional) hears of each cell as it starts; files: what to stage beside it
    (staged_for; default the notebook's data).
    """
    extracted = extract(read_notebook(path), notebook)
    graded = assemble_graded(visible_exercise(notebook), extracted, seed=limits.seed, tail=True)
    if progress is not None:
        progress.expect(graded.nb)
    with run_scratch() as scratch, UidLease(1 if os.geteuid() == 0 else 0) as lease:
        isolation = _isolation_of_check(scratch, lease.uids, path, notebook)
        folder = scratch / "check"
        folder.mkdir(mode=0o711)
        uid = isolation.uids[0] if isolation.uids else None
        on_cell = progress.start if progress is not None else None
        sandbox = Sandbox(folder, uid, limits, isolation, hide=[Path(path).resolve().parent], on_cell=on_cell, execution="validate")
        files = staged_files(notebook) if files is None else files
        outcome = run_graded(graded, notebook, sandbox=sandbox, job="notebook", limits=limits, files=files)
    notes = extracted.notes + outcome.messages
    return Checked(outcome, graded.all_tokens(), notes, isolation.describe(), blank_written(extracted, notebook))


def printed_lines(cell: Any, tokens: Iterable[str]) -> list[str]:
    """What a cell printed (stdout and stderr, as Jupyter shows them), the grader's tokens left out."""
    lines = [line for line in stream_text(cell).splitlines() if not any(token in line for token in tokens)]
    if len(lines) > MAX_PRINTED_LINES:
        lines = lines[:MAX_PRINTED_LINES] + [f"… ({len(lines) - MAX_PRINTED_LINES} more lines)"]
    return lines


def _cells(checked, *kinds):
    """The executed cells of those kinds (assemble's: given, answer, student, test, guard, report)."""
    return [c for c in checked.outcome.nb.cells if c.metadata.get("autograder", {}).get("kind") in kinds]


def _indented(text, prefix="    "):
    return [prefix + line for line in text.splitlines() or [""]]


def results_text(checked: Checked) -> list[str]:
    """Per test cell, in notebook order: a result line, what the cell printed, its message when it failed."""
    parts = _cells(checked, "visible", "test")
    lines = []
    for test in checked.outcome.tests:
        passed = test.points == test.max_points
        lines.append(f"{'PASSED' if passed else 'FAILED'}  {test.grade_id} ({points_text(test.max_points)})")
        for cell in (c for c in parts if c.metadata["autograder"]["grade_id"] == test.grade_id):
            lines += [line for printed in printed_lines(cell, checked.tokens) for line in _indented(printed)]
        if not passed:
            lines += _indented(test.message)
    return lines


def _label(cell):
    """What a cell of the graded notebook is, in a student's words."""
    meta = cell.metadata.get("autograder", {})
    kind, gid = meta.get("kind"), meta.get("grade_id")
    if kind == "answer":
        return f"your answer '{gid}'"
    if kind == "student":
        return f"your cell after '{meta.get('after')}'"
    if kind in ("visible", "test"):
        return f"test '{gid}'"
    if kind == "restore":
        return f"the grader's restore before '{meta.get('before')}'"
    if kind in ("guard", "report"):
        return "the grader's setup before your answers" if kind == "guard" else "the grader's last check"
    return f"the course's cell '{gid}'" if gid else "the course's cell"


OTHER_KINDS = ("answer", "manual", "student", "given")  # the cells that are not tests nor the grader's own


def _split_at_last_test(checked):
    """(the executed cells up to the last test cell, those after it)."""
    cells = checked.outcome.nb.cells
    last = max((i for i, c in enumerate(cells) if c.metadata.get("autograder", {}).get("kind") == "test"), default=len(cells))
    return cells[: last + 1], cells[last + 1 :]


def _errors(cells):
    return [f"{_label(c)}: {cell_error(c)}" for c in cells if c.metadata.get("autograder", {}).get("kind") in OTHER_KINDS and cell_error(c)]


def cell_errors(checked: Checked) -> list[str]:
    """The errors raised outside the test cells, above the last test (a typo in an answer shows here before its
    test fails)."""
    return _errors(_split_at_last_test(checked)[0])


def errors_after_tests(checked: Checked) -> list[str]:
    """The errors raised in the cells after the last test: ungraded, but Run All stops at the first of them."""
    return _errors(_split_at_last_test(checked)[1])


def visible_points(checked: Checked) -> list[str]:
    """The visible points per test and in all, and the reminder that the grader runs more tests."""
    tests = checked.outcome.tests
    width = max(len(t.grade_id) for t in tests)
    earned, total = sum(t.points for t in tests), sum(t.max_points for t in tests)
    lines = [f"visible checks passed: {earned:g} of {total:g} points"]
    lines += [f"  {t.grade_id:<{width}}  {t.points:g} / {t.max_points:g}" for t in tests]
    return lines + [REMINDER, f"isolation: {checked.isolation}"]


def report(checked: Checked) -> str:
    """The whole text check prints after the run."""
    lines = [*results_text(checked), ""]
    errors, after, notes = cell_errors(checked), errors_after_tests(checked), checked.notes
    if errors:
        lines += ["errors in other cells:", *[f"  {e}" for e in errors], ""]
    if after:
        lines += [AFTER_TESTS, *[f"  {e}" for e in after], ""]
    if checked.blank:
        lines += [BLANK, *[f"  {gid}" for gid in checked.blank], ""]
    if notes:
        lines += ["notes:", *[f"  {n}" for n in notes], ""]
    return "\n".join(lines + visible_points(checked))


def passed_all(checked: Checked) -> bool:
    return all(t.points == t.max_points for t in checked.outcome.tests)


def exit_status(checked: Checked) -> int:
    """0 when every visible check passes and no cell after the last test stops with an error, else 1."""
    return 0 if passed_all(checked) and not errors_after_tests(checked) else 1


class CellProgress:
    """One line on a terminal, rewritten as each cell starts and every second: which cell runs, for how long."""

    def __init__(self, stream=None, tick=1.0):
        self.stream, self.tick = stream or sys.stderr, tick
        self.order, self.line, self.started, self.done = {}, "", time.monotonic(), threading.Event()
        self.thread = threading.Thread(target=self._refresh, daemon=True)

    def expect(self, nb: Any) -> None:
        """The notebook about to run: nbclient runs its non-empty code cells only. A fresh kernel starts first."""
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
        self.order = {index: n for n, index in enumerate(code, 1)}
        self._show("starting a fresh kernel")
        self.thread.start()

    def start(self, index: int, cell: Any) -> None:
        if index in self.order:  # nbclient announces Markdown cells too, and runs none
            self._show(f"cell {self.order[index]}/{len(self.order)}: {_label(cell)}")

    def _show(self, line):
        self.line, self.started = line, time.monotonic()
        self._draw()

    def _draw(self):
        self.stream.write(f"\r\033[K{self.line} ({time.monotonic() - self.started:.0f} s)")
        self.stream.flush()

    def _refresh(self):
        while not self.done.wait(self.tick):
            self._draw()

    def close(self) -> None:
        self.done.set()
        self.stream.write("\r\033[K")
        self.stream.flush()
