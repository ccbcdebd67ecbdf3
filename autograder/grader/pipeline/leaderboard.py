"""The leaderboard number of a graded submission (Gradescope shows it), read from what a passing test printed.

The master declares its leaderboard (if any) in its notebook metadata, as

    autograder: {leaderboard: {name: ..., grade_id: <test cell>, pattern: <regex, one group>, order: asc|desc}}

(assignment.Notebook.leaderboard). The number comes from a kernel
that ran the student's code, so it is for a leaderboard, never for a grade: it is reported only when its test's
visible checks passed (what the student's own notebook shows them: posting it reveals nothing of the hidden checks,
which Gradescope shows only after the due date) and the line appears exactly once (a second, faked line drops it).
"""

from __future__ import annotations

import re
from typing import Any

from autograder.grader.core.cell_text import stream_text
from autograder.grader.core.record import Metric, TestResult


def leaderboard(nb: Any, tests: list[TestResult], spec: dict | None) -> list[Metric]:
    """[Metric] read from the executed notebook nb, or [] when there is no spec, its test failed, or the line is missing or repeated."""
    if not spec:
        return []
    passed = {t.grade_id for t in tests if t.visible_passed}
    if spec["grade_id"] not in passed:
        return []
    cells = [c for c in nb.cells if c.metadata.get("autograder", {}).get("grade_id") == spec["grade_id"]]
    found = [m for c in cells for m in re.findall(spec["pattern"], stream_text(c, "stdout"))]
    return [Metric(spec["name"], float(found[0]), spec.get("order", "asc"))] if len(found) == 1 else []
