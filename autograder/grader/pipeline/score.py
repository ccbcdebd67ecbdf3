"""Score one executed notebook: the points of each test cell, and what the run says about the submission."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograder.grader.core.cell_text import cell_error, stream_text
from autograder.grader.core.earlier_errors import with_earlier_errors
from autograder.grader.core.record import TestResult
from autograder.grader.pipeline.assemble import REPORT_MARKER
from autograder.grader.pipeline.recheck import recheck
from autograder.notebooks import nbgrader_utils

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Notebook
    from autograder.grader.pipeline.assemble import Graded
    from autograder.grader.pipeline.execute import Limits

TAMPERED_RESTORE = "the grader's restore before this test did not run as sent: the kernel was changed to skip it"
RECHECKED = "its hidden checks, run again outside your kernel on the values your code returned, fail: "
MEMORY_ERRORS = ("MemoryError", "can't allocate memory", "DefaultCPUAllocator", "std::bad_alloc", "Cannot allocate memory")


@dataclass
class Outcome:
    status: str = "ok"
    messages: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    nb: object = None


def _restored(nb, graded):
    """label -> "" when the restore request before that cell ran as sent (its signed token printed), else why not."""
    found = {}
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        if meta.get("kind") != "restore":
            continue
        label, error = meta["before"], cell_error(cell)
        if "status" not in meta:
            found[label] = "not run"
        elif error:
            found[label] = f"the grader's restore before it failed ({error})"
        elif graded.restore_token(label) not in stream_text(cell):
            found[label] = TAMPERED_RESTORE
        else:
            found[label] = ""
    return found


def _test_message(meta, error, printed, token):
    """Why a part of a test did not pass ("" when it ran to its end and printed its token)."""
    if "status" not in meta:
        return "not run: the notebook stopped before this test"
    if error:
        return error
    if meta["status"] != "ok" or token not in printed:
        return "the test did not run to its end (an error was hidden from the grader)"
    return ""


def score_graded(nb: Any, graded: Graded) -> list[TestResult]:
    """One TestResult per test cell: points only for a test that ran to its end without an error, after the grader's
    restore request before it ran as sent. A test with hidden checks ran as two requests (assemble._test_sources):
    its visible checks, whose verdict is the student's Validate, then its hidden checks."""
    results, restored = [], _restored(nb, graded)
    visible_parts = {c.metadata["autograder"]["grade_id"]: c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") == "visible"}
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        if meta.get("kind") != "test":
            continue
        gid, max_points = meta["grade_id"], float(cell.metadata["nbgrader"]["points"])
        first = visible_parts.get(gid, cell)
        shown = _test_message(first.metadata["autograder"], cell_error(first), stream_text(first), graded.visible_tokens[gid])
        visible = not shown
        if restored.get(gid):
            message = restored[gid]
        elif shown and first is not cell:
            message = shown
        else:
            message = _test_message(meta, cell_error(cell), stream_text(cell), graded.tokens[gid])
        if message and visible and message != TAMPERED_RESTORE:
            message = f"a hidden test failed (the visible checks passed): {message}"
        points, message = (0.0, message) if message else partial_credit(cell, max_points)
        results.append(TestResult(gid, points, max_points, message, visible))
    return results


def partial_credit(cell: Any, max_points: float) -> tuple[float, str]:
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


def guard_report(nb: Any) -> dict:
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
    mine = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") in ("answer", "manual", "student", "visible", "test")]
    return any(m in (cell_error(c) or "") for c in mine for m in MEMORY_ERRORS)


def _kernel_changes(nb, graded, report):
    """(what, label of the cell before which it was found) of each change to how the kernel runs a cell: what the
    guard's restore requests found and undid, and restore requests or a report that did not run as sent."""
    found = [(what, where) for what, where in report.get("tampered", [])]
    found += [
        ("the grader's restore request was skipped or rewritten", label)
        for label, why in _restored(nb, graded).items()
        if why == TAMPERED_RESTORE
    ]
    ran = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") == "report" and "status" in c.metadata["autograder"]]
    if ran and not report and not cell_error(ran[0]):
        found.append(("the grader's last check printed nothing", "the end"))
    return found


def _after(nb, label):
    """The grade_ids of the tests at or after the cell label (in the graded notebook's order)."""
    order = [c.metadata["autograder"].get("before") for c in nb.cells if c.metadata.get("autograder", {}).get("kind") == "restore"]
    start = order.index(label) if label in order else len(order)
    return set(order[start:])


def _checked_outside(outcome, graded, notebook, files, limits):
    """Each test that passed in the kernel whose hidden checks fail outside it earns nothing; what was found."""
    passed = [t.grade_id for t in outcome.tests if t.points > 0]
    verdicts = recheck(notebook, graded, passed, files, limits.seed) if notebook.check_outside_kernel else {}
    found = []
    for n, test in enumerate(outcome.tests):
        if verdicts.get(test.grade_id):
            outcome.tests[n] = TestResult(test.grade_id, 0.0, test.max_points, RECHECKED + verdicts[test.grade_id], test.visible_passed)
            found.append(f"'{test.grade_id}' passed in the kernel, but its hidden checks fail outside it: {verdicts[test.grade_id]}")
    return found


def tampering_checks(outcome: Outcome, graded: Graded, notebook: Notebook, files: list, limits: Limits) -> list[str]:
    """Messages of everything that says the kernel's verdicts were not produced by the tests ([] for a clean run), the
    points of the tests they concern taken away: a tampered submission is never graded as if it were clean."""
    report = guard_report(outcome.nb)
    found = [
        f"changed how the kernel runs a cell: {what} (found before '{where}')"
        for what, where in _kernel_changes(outcome.nb, graded, report)
    ]
    if found and not notebook.check_outside_kernel:
        # nothing outside the kernel can tell whether a test after the change really passed: none of them counts
        first = _kernel_changes(outcome.nb, graded, report)[0][1]
        after = _after(outcome.nb, first)
        outcome.tests = [
            TestResult(t.grade_id, 0.0, t.max_points, "ran after the kernel was changed: not graded", t.visible_passed)
            if t.grade_id in after
            else t
            for t in outcome.tests
        ]
    found += _checked_outside(outcome, graded, notebook, files, limits)
    if report.get("subclasses"):
        found.append("faked comparisons (" + "; ".join(report["subclasses"]) + "): all tests score 0")
        outcome.tests = [TestResult(t.grade_id, 0.0, t.max_points, t.message or "tampering") for t in outcome.tests]
    if report.get("audit"):
        outcome.messages.append("for review: the kernel's audit hook saw " + ", ".join(report["audit"][:8]))
    return found


def score_run(nb: Any, problems: list, graded: Graded, notebook: Notebook, files: list, limits: Limits) -> Outcome:
    """The Outcome of one executed graded notebook (nb, and the problems execute_confined reported): each test's points,
    the earlier errors it names, the checks of the guard and outside the kernel (files: what was staged beside it),
    and the run's status and messages."""
    outcome = Outcome(nb=nb, tests=with_earlier_errors(nb, score_graded(nb, graded), notebook.defines))
    kinds = [why for why, _ in problems]
    for why, index in dict.fromkeys(problems):
        outcome.messages.append(f"{_cell_label(nb.cells[index], index)}: {why}")
    tampered = tampering_checks(outcome, graded, notebook, files, limits)
    if tampered:
        outcome.status = "tampering"
        outcome.messages += tampered
    elif "wall timeout" in kinds:
        outcome.status = "wall timeout"
    elif any(k.startswith("kernel died") for k in kinds):
        outcome.status = "memory" if _memory_trouble(nb) else "kernel died"
    elif _memory_trouble(nb):
        outcome.status = "memory"
    if outcome.status == "memory":
        outcome.messages.append(f"a cell ran out of memory (the limit is {limits.memory_bytes / 2**30:g} GiB)")
    elif "timeout" in kinds and outcome.status != "tampering":
        outcome.status = "timeout"
    report = guard_report(nb)
    if report.get("repaired"):
        outcome.messages.append("restored before the tests: " + ", ".join(report["repaired"][:12]))
    return outcome
