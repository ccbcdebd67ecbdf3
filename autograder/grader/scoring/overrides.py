"""OVERRIDES.csv: an instructor's decisions, one per row, applied over what the grader measured.

    student,test,points,reason
    ana,test_train,2,regrade: the training timed out on a loaded machine (rerun: 41 s)
    bo,total,7,academic integrity: agreed with the student

- `student`: the student id as grades.csv shows it;
- `test`: a test cell's grade_id (that test is worth `points`), or `total` (the final score is `points`: no late
  penalty is taken from it);
- `points`: from 0 to that test's (or the assignment's) maximum;
- `reason`: required; the student's feedback page shows it.
"""

from collections import defaultdict
from dataclasses import dataclass

from autograder.grader.core.record import TOTAL, Override
from autograder.grader.core.tables import TableError, read_table

COLUMNS = ("student", "test", "points", "reason")


@dataclass(frozen=True)
class Overrides:
    by_student: dict  # student id -> [Override]
    lines: dict  # student id -> the line numbers of their rows (to name an unknown student where it is written)
    label: str = "overrides.csv"

    def of(self, student_id):
        return list(self.by_student.get(student_id, []))


def _override(row, maxima, label):
    """The Override on row, checked against the assignment's tests ({grade_id: max points}); ValueError says why."""
    cells, top = row.cells, sum(maxima.values())
    test = TOTAL if cells["test"].lower() == TOTAL else cells["test"]
    if test != TOTAL and test not in maxima:
        raise ValueError(f"test {cells['test']!r} is not a test of this assignment (its tests: {', '.join(maxima)}, or '{TOTAL}')")
    try:
        points = float(cells["points"])
    except ValueError:
        raise ValueError(f"points {cells['points']!r} is not a number") from None
    ceiling = top if test == TOTAL else maxima[test]
    if not 0 <= points <= ceiling:
        raise ValueError(f"points {points:g} is outside 0 to {ceiling:g}, what {test} is worth")
    if not cells["reason"]:
        raise ValueError("no reason: every override needs one (the student's feedback page shows it)")
    return Override(test, points, cells["reason"])


def load_overrides(path, maxima, label=None):
    """The Overrides in the CSV at path for an assignment whose tests are worth maxima ({grade_id: points});
    TableError lists every problem with its line number."""
    label = label or str(path)
    by_student, lines, seen, problems = defaultdict(list), defaultdict(list), {}, []
    for row in read_table(path, COLUMNS, (), label):
        student = row.cells["student"]
        try:
            if not student:
                raise ValueError("no student id")
            override = _override(row, maxima, label)
        except ValueError as error:
            problems.append(f"{label} line {row.line}: {error}")
            continue
        key = (student, override.test)
        if key in seen:
            problems.append(f"{label} line {row.line}: {student} {override.test} is already overridden on line {seen[key]}")
            continue
        seen[key] = row.line
        by_student[student].append(override)
        lines[student].append(row.line)
    if problems:
        raise TableError("\n".join(problems))
    return Overrides(dict(by_student), dict(lines), label)
