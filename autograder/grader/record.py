"""One student's grading result: the single type that every report is written from.

A Record is built once by the worker that graded the submission, saved as OUT/records/<student>.json, and read
back for grades.csv, the feedback page, the gradebook, Gradescope's results.json and the merge of shards, so
that no report reads a dict by string keys and none can drift from another.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field

from autograder.grader.execute import TestResult


@dataclass
class Metric:
    """A number for a leaderboard, e.g. the held-out NLL; order "asc" when lower is better."""

    name: str
    value: float
    order: str = "asc"


@dataclass
class Record:
    student_id: str
    status: str
    message: str
    tests: list[TestResult]
    file: str = ""
    sha256: str = ""  # of the submitted file: a re-run grades again only a changed file
    seconds: float = 0.0
    assignment: str = ""  # the exercise: its master's name
    master_sha256: str = ""  # of the master it was graded with: merge refuses to mix masters
    graded_at: float = 0.0  # Unix time it was written: of two records of a student, merge keeps the newest
    leaderboard: list[Metric] = field(default_factory=list)
    isolation: str = ""  # what confined the kernel: full, or partial and what was missing

    @property
    def score(self):
        return sum(t.points for t in self.tests)

    @property
    def max_score(self):
        return sum(t.max_points for t in self.tests)

    def points(self):
        """grade_id -> points earned."""
        return {t.grade_id: t.points for t in self.tests}

    def to_json(self):
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score)  # for a human or a script reading the file
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text):
        """The record in text; records written before a field existed get its default. Raises ValueError."""
        data = json.loads(text)
        try:
            tests = [
                TestResult(
                    t["grade_id"],
                    float(t["points"]),
                    float(t["max_points"]),
                    t.get("message", ""),
                    bool(t.get("visible_passed")),
                    bool(t.get("manual")),
                )
                for t in data["tests"]
            ]
            metrics = [Metric(m["name"], float(m["value"]), m.get("order", "asc")) for m in data.get("leaderboard", [])]
            optional = ("file", "sha256", "seconds", "assignment", "master_sha256", "graded_at", "isolation")
            known = {k: data[k] for k in optional if k in data}
            return cls(data["student_id"], data["status"], data["message"], tests, leaderboard=metrics, **known)
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a grading record ({type(error).__name__}: {error})") from None


def master_digest(path):
    """sha256 of the master file: two runs graded with the same tests have the same digest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
