"""Score one executed notebook: the points of each test cell, and what the run says about the submission."""

import json
import time
from dataclasses import dataclass, field

from autograder.grader.core.cell_text import cell_error, stream_text
from autograder.grader.core.earlier_errors import with_earlier_errors
from autograder.grader.core.record import TestResult
from autograder.grader.pipeline.assemble import REPORT_MARKER
from autograder.grader.pipeline.execute import execute_confined
from autograder.notebooks import nbgrader_utils

MEMORY_ERRORS = ("MemoryError", "can't allocate memory", "DefaultCPUAllocator", "std::bad_alloc", "Cannot allocate memory")


@dataclass
class Outcome:
    status: str = "ok"
    messages: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    nb: object = None
    seconds: float = 0.0


def score_graded(nb, graded):
    """One TestResult per test cell: points only for a test that ran to its end without an error."""
    results = []
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        if meta.get("kind") != "test":
            continue
        gid, max_points = meta["grade_id"], float(cell.metadata["nbgrader"]["points"])
        error, printed = cell_error(cell), stream_text(cell)
        if "status" not in meta:
            message = "not run: the notebook stopped before this test"
        elif error:
            message = error
        elif meta["status"] != "ok" or graded.tokens[gid] not in printed:
            message = "the test did not run to its end (an error was hidden from the grader)"
        else:
            message = ""
        visible = graded.visible_tokens[gid] in printed
        if message and visible:
            message = f"a hidden test failed (the visible checks passed): {message}"
        points, message = (0.0, message) if message else partial_credit(cell, max_points)
        results.append(TestResult(gid, points, max_points, message, visible))
    return results


def partial_credit(cell, max_points):
    """(points, message) of a test cell that ran to its end, from the value its last line shows, as nbgrader's
    autograde reads it (nbgrader.utils.get_partial_grade): a number from 0 to its points is what it earns, anything
    else (no value, text, a negative number) its points. A number above its points (nbgrader stops grading the
    student there) earns 0 here, and says so."""
    shown = next((o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"), None)
    if shown is None or not shown.get("data", {}).get("text/plain"):
        return max_points, ""
    try:
        points = float(nbgrader_utils().get_partial_grade(shown, max_points))
    except ValueError:
        return 0.0, f"the test's result, {str(shown['data']['text/plain'])[:40]}, is more than its {max_points:g} points"
    return points, "" if points == max_points else f"partial credit: {points:g} of {max_points:g} points"


def guard_report(nb):
    """What the kernel guard repaired and which faked types it found ({} when the report cell did not run)."""
    for cell in reversed(nb.cells):
        if cell.metadata.get("autograder", {}).get("kind") == "report":
            for line in stream_text(cell).splitlines():
                if line.startswith(REPORT_MARKER):
                    try:
                        return json.loads(line[len(REPORT_MARKER) :])
                    except ValueError:
                        return {}
    return {}


def _cell_label(cell, index):
    meta = cell.metadata.get("autograder", {})
    if meta.get("after"):
        return f"your cell after '{meta['after']}'"
    return f"'{meta['grade_id']}'" if meta.get("grade_id") else f"cell {index}"


def _memory_trouble(nb):
    """A cell of the student's (or a test calling their code) ran out of memory; given cells are the course's."""
    mine = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") in ("answer", "manual", "student", "test")]
    return any(m in (cell_error(c) or "") for c in mine for m in MEMORY_ERRORS)


def grade_graded(graded, sandbox, job_name, limits, exercise, files=None):
    """Execute and score one assembled submission: an Outcome with status, messages, tests and the notebook (files:
    what to stage beside it, execute.staged_files; default the exercise's data)."""
    started = time.monotonic()
    nb, problems = execute_confined(graded, sandbox, job_name, limits, exercise, files)
    outcome = Outcome(nb=nb, tests=with_earlier_errors(nb, score_graded(nb, graded), exercise.defines))
    kinds = [why for why, _ in problems]
    for why, index in dict.fromkeys(problems):
        outcome.messages.append(f"{_cell_label(nb.cells[index], index)}: {why}")
    report = guard_report(nb)
    if report.get("subclasses"):
        outcome.status = "tampering"
        outcome.messages.append("faked comparisons (" + "; ".join(report["subclasses"]) + "): all tests score 0")
        outcome.tests = [TestResult(t.grade_id, 0.0, t.max_points, t.message or "tampering") for t in outcome.tests]
    elif "wall timeout" in kinds:
        outcome.status = "wall timeout"
    elif any(k.startswith("kernel died") for k in kinds):
        outcome.status = "memory" if _memory_trouble(nb) else "kernel died"
    elif _memory_trouble(nb):
        outcome.status = "memory"
    if outcome.status == "memory":
        outcome.messages.append(f"a cell ran out of memory (the limit is {limits.memory_bytes / 2**30:g} GiB)")
    elif "timeout" in kinds:
        outcome.status = "timeout"
    if report.get("repaired"):
        outcome.messages.append("restored before the tests: " + ", ".join(report["repaired"][:12]))
    outcome.seconds = time.monotonic() - started
    return outcome
