"""Grading one notebook, as its steps in order: the one path that `grade` (and so Gradescope's and the course hub's
runs, which are `grade`) and `check` take.

    1. read         the file's cells, or NotANotebook                   pipeline/answers.read_cells
    2. extract      the student's answers, by grade_id or by content    pipeline/answers.extract
    3. assemble     the graded notebook: the master's given cells and   pipeline/assemble.assemble_graded
                    tests around the answers, the guard's requests
    4. execute      in a fresh kernel, confined                         pipeline/execute.execute_confined
    5. score        each test's points from its cell's outputs, and     pipeline/score.score_run
                    the guard's report and each passed test's hidden
                    checks run again outside the kernel
    6. flags        what a person should review in the code             pipeline/assemble.suspicious
    7. leaderboard  the metrics the notebook declares                   pipeline/leaderboard.leaderboard
    8. view         the notebook as formgrader shows it                 integrations/formgrader.autograded_notebook

`check` runs steps 1 to 5 with the visible tests only (run_graded); `grade`'s workers run them all (grade_notebook).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.grader.confine.sandbox import Sandbox
from autograder.grader.core.assignment import Notebook
from autograder.grader.core.record import NO_RESPONSE, TestResult, pending
from autograder.grader.integrations.formgrader import autograded_notebook
from autograder.grader.pipeline.answers import Extracted, extract, read_cells
from autograder.grader.pipeline.assemble import Graded, assemble_graded, suspicious
from autograder.grader.pipeline.execute import Limits, execute_confined
from autograder.grader.pipeline.leaderboard import leaderboard
from autograder.grader.pipeline.score import Outcome, score_run


@dataclass
class NotebookResult:
    """One notebook of a submission, graded."""

    name: str
    status: str = "ok"
    tests: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    nb: object = None  # the notebook as formgrader shows it, or None when it never ran
    metrics: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    extras: list = field(default_factory=list)


def run_graded(graded: Graded, notebook: Notebook, *, sandbox: Sandbox, job: str, limits: Limits, files: list) -> Outcome:
    """Steps 4 and 5: execute the assembled notebook in a fresh confined kernel (files staged beside it:
    execute.staged_files), then score it."""
    nb, problems = execute_confined(graded, sandbox, job, limits, notebook, files)
    return score_run(nb, problems, graded, notebook, files, limits)


def grade_notebook(notebook: Notebook, data: bytes, *, sandbox: Sandbox, job: str, limits: Limits, files: list) -> NotebookResult:
    """Every step, for the bytes of one submitted notebook; NotANotebook when they are not one."""
    cells = read_cells(data)
    extracted = extract(cells, notebook)
    graded = assemble_graded(notebook, extracted, seed=limits.seed)
    outcome = run_graded(graded, notebook, sandbox=sandbox, job=job, limits=limits, files=files)
    flags = suspicious(extracted.answers, extracted.extras)
    metrics = leaderboard(outcome.nb, outcome.tests, notebook.leaderboard) if outcome.status == "ok" else []
    view = autograded_notebook(outcome.nb, graded, notebook, flags=outcome.messages if outcome.status == "tampering" else ())
    notes = extracted.notes + outcome.messages + ([f"for review: the code uses {', '.join(flags)}"] if flags else [])
    tests = [_of_notebook(t, notebook.name) for t in outcome.tests] + written_results(notebook, extracted)
    extras = [source for sources in extracted.extras.values() for source in sources]
    return NotebookResult(notebook.name, outcome.status, tests, notes, view, metrics, {**extracted.answers}, extras)


def _of_notebook(test: TestResult, notebook: str) -> TestResult:
    test.notebook = notebook
    return test


def written_results(notebook: Notebook, extracted: Extracted) -> list[TestResult]:
    """The questions graded by hand of one run notebook: pending, or decided (0) when left as released and the
    notebook says nbgrader's rule applies (blank_answers: zero)."""
    results = pending((notebook,))
    if notebook.blank_answers != "zero":
        return results
    blank = set(extracted.blank)
    return [
        TestResult(t.grade_id, 0.0, t.max_points, NO_RESPONSE, manual=True, notebook=t.notebook, decided=True) if t.grade_id in blank else t
        for t in results
    ]


def not_run(notebook: Notebook, status: str, message: str) -> NotebookResult:
    """The NotebookResult of a notebook that did not run: its tests at 0 with the reason."""
    tests = [TestResult(gid, 0.0, points, message, notebook=notebook.name) for gid, points in notebook.tests]
    return NotebookResult(notebook.name, status, tests + pending((notebook,), message, True), [message] if message else [])

