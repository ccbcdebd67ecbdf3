"""One student's grading result: the single type that every report is written from.

A Record is built once by the worker that graded the submission, saved as OUT/records/<student>.json, and read
back for grades.csv, the feedback page, the gradebook, Gradescope's results.json, the LMS exports and the merge of
shards, so that no report reads a dict by string keys and none can drift from another.

It keeps the grader's measured tests as they were measured; the final-score layer (scoring/term.py) adds beside them
when the work was handed in, the late penalty and the instructor's overrides, and `score` is the final number:

    points()   per test: the measured points, or the instructor's override of that test
    raw_score  the sum of points() (nbgrader's raw_score: before the late penalty)
    score      raw_score - late_penalty (never below 0), or the instructor's override of the total
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from autograder.grader.core.assignment import Notebook

TOTAL = "total"  # an override's test that names the whole score instead of one test cell
AWAITING = "awaiting manual grading"  # a written answer nobody has scored yet
GRADED = "graded by hand"  # the message of a written answer a person scored without a comment
NO_RESPONSE = "no response: left as it was released (0 points, as nbgrader's autograde scores it)"
NOT_SUBMITTED = "not submitted: its notebook is missing from the submission"
DECIDED = (NO_RESPONSE, NOT_SUBMITTED)  # what the grader says of a question it scored 0 alone
# A record with one of these statuses has no answer a person could read: its file never ran.
UNREAD = ("not a notebook", "unreadable", "grader error")


@dataclass
class TestResult:
    """One test cell's result: points earned, and why not all of them (what the student reads). A question graded by
    hand is one too (manual): 0 points and "awaiting manual grading" until a person scores it
    (integrations/hand_grades.py), unless the grader decided it alone (decided: left as released, its notebook
    missing, never run), as nbgrader's autograde scores an answer nobody needs to read."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""
    visible_passed: bool = False  # the checks a student sees before submitting (Validate) passed
    manual: bool = False  # a question graded by hand, not a test cell
    notebook: str = ""  # the notebook of the assignment it belongs to ("": the assignment's only one)
    decided: bool = False  # a question graded by hand that the grader scored (0) without a person


def points_text(points: float) -> str:
    """ "1 point", "0.5 points", "2 points"."""
    return f"{points:g} point" + ("" if points == 1 else "s")


def pending(notebooks: Iterable[Notebook], message: str = AWAITING, decided: bool = False) -> list[TestResult]:
    """One TestResult per question graded by hand of the notebooks (one, or an assignment's), none scored yet
    (message: why, when it is not AWAITING; decided: the grader scored it 0 itself, nobody need read it)."""
    return [
        TestResult(m.grade_id, 0.0, m.points, message, manual=True, notebook=nb.name, decided=decided)
        for nb in notebooks
        for m in nb.manual
    ]


def is_awaiting(test: TestResult) -> bool:
    """A question graded by hand that waits for a person."""
    return test.manual and not test.decided and test.message == AWAITING


@dataclass
class Metric:
    """A number for a leaderboard, e.g. the held-out NLL; order "asc" when lower is better."""

    name: str
    value: float
    order: str = "asc"


@dataclass
class Override:
    """An instructor's decision: `test` (a grade_id, or "total") is worth `points`, for `reason`."""

    test: str
    points: float
    reason: str


@dataclass
class Record:
    student_id: str
    status: str
    message: str
    tests: list[TestResult]
    file: str = ""
    sha256: str = ""  # of the submitted file: a re-run grades again only a changed file
    seconds: float = 0.0
    assignment: str = ""  # the assignment's name
    master_sha256: str = ""  # of the master it was graded with: merge refuses to mix masters
    graded_at: float = 0.0  # Unix time it was written: of two records of a student, merge keeps the newest
    leaderboard: list[Metric] = field(default_factory=list)
    isolation: str = ""  # what confined the kernel: full, or partial and what was missing
    lms_id: str = ""  # the LMS's own user id, from the download's file name (Canvas): the exports match by it
    submitted_at: str = ""  # ISO 8601 (naive for a zip entry without a time zone); "" when no time is known
    submitted_from: str = ""  # where that came from: timestamp.txt, Canvas file name, zip entry, file time
    lms_marks: str = ""  # what the LMS's file name says: "LATE" (Canvas), or ""
    due: str = ""  # this student's due time (ISO 8601) when deadlines apply, else ""
    extension: str = ""  # why this student's due time is not the class's ("" when it is the class's)
    late: bool = False
    late_seconds: float = 0.0  # how late, when known (0 when on time or when the LMS gives no time)
    late_penalty: float = 0.0  # points taken off raw_score
    late_rule: str = ""  # the policy that took them, e.g. "10% per started day, at most 50%"
    overrides: list[Override] = field(default_factory=list)
    term_notes: list[str] = field(default_factory=list)  # what the deadlines and overrides say, "for review: …" included

    def total_override(self) -> Override | None:
        return next((o for o in self.overrides if o.test == TOTAL), None)

    def points(self) -> dict[str, float]:
        """grade_id -> points earned, after the instructor's per-test overrides."""
        chosen = {o.test: o.points for o in self.overrides if o.test != TOTAL}
        return {t.grade_id: chosen.get(t.grade_id, t.points) for t in self.tests}

    @property
    def raw_score(self) -> float:
        return round(sum(self.points().values()), 6)

    @property
    def score(self) -> float:
        total = self.total_override()
        if total is not None:
            return total.points
        return max(0.0, round(self.raw_score - self.late_penalty, 6))

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)

    @property
    def notes(self) -> str:
        """The row's message: what the grader said, then what the deadlines and overrides say."""
        return "; ".join(part for part in [self.message, *self.term_notes] if part)

    def to_json(self) -> str:
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score, raw_score=self.raw_score)  # for a human or a script
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Record:
        """The record in text; records written before a field existed get its default. Raises ValueError."""
        data = json.loads(text)
        try:
            tests = [_test_result(t) for t in data["tests"]]
            metrics = [Metric(m["name"], float(m["value"]), m.get("order", "asc")) for m in data.get("leaderboard", [])]
            overrides = [Override(o["test"], float(o["points"]), str(o["reason"])) for o in data.get("overrides", [])]
            plain = {f.name for f in fields(cls)} - {"student_id", "status", "message", "tests", "leaderboard", "overrides"}
            known = {k: data[k] for k in plain if k in data}
            return cls(data["student_id"], data["status"], data["message"], tests, leaderboard=metrics, overrides=overrides, **known)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a grading record ({type(error).__name__}: {error})") from None


def _test_result(data):
    """A TestResult from its JSON: its declared fields, those missing from an older record at their defaults."""
    names = {f.name for f in fields(TestResult)}
    given = {k: v for k, v in data.items() if k in names}
    given.update(points=float(data["points"]), max_points=float(data["max_points"]))
    return TestResult(**given)
