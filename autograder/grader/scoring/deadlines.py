"""DEADLINES.csv: the class's due time, each student's extension and the late policy; and the penalty it gives.

    student,due,penalty,cap,grace,reason
    *,2025-03-14T23:59:00+01:00,10% per started day,50%,PT15M,
    ana,2025-03-17T23:59:00+01:00,,,,doctor's note
    bo,P2D,,,,team project

- `student`: `*` for the class (exactly one such row, with a due time), else a student id as grades.csv shows it.
- `due`: an ISO 8601 date and time with its UTC offset (`Z`, `+01:00`); on a student's row, also an ISO 8601
  duration (`P2D`, `PT36H`, `P1DT12H`) added to the class's due time.
- `penalty`: `<n>% per day`, `<n>% per started day`, `<n> points per hour`, … (day or hour, "started" rounds
  a part up), or `none`. A percentage is of the assignment's maximum score, as Canvas's late policy takes it.
- `cap`: the most the penalty can take, `50%` or `5 points`; blank: no cap. The score never goes below 0.
- `grace`: an ISO 8601 duration (`PT15M`) by which a submission may be late and count as on time; lateness
  beyond it is counted from the due time itself.
- `reason`: why a student's row exists (kept in grades.csv, not shown to the student).

Blank cells on a student's row take the class's value, so a row may change only a student's due time or only
their policy (`penalty: none` for an accommodation).
"""

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from autograder.grader.core.tables import TableError, read_table

CLASS = "*"
COLUMNS = ("student", "due")
OPTIONAL = ("penalty", "cap", "grace", "reason")
_NUMBER = r"(\d+(?:\.\d+)?)"
_PENALTY = re.compile(rf"^{_NUMBER}\s*(%|percent|points?)\s+per\s+(started\s+)?(day|hour)$", re.I)
_CAP = re.compile(rf"^{_NUMBER}\s*(%|percent|points?)$", re.I)
_DURATION = re.compile(rf"^P(?!$)(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")
PERIODS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Policy:
    """How much lateness costs: `amount` (percent of the maximum score, or points) per `per` ("day" or "hour"),
    rounded up to whole periods when `started`; at most `cap` (same kinds); nothing within `grace`."""

    amount: float = 0.0
    percent: bool = True
    per: str = "day"
    started: bool = False
    cap: float | None = None
    cap_percent: bool = True
    grace: timedelta = timedelta(0)

    def describe(self):
        if not self.amount:
            return "no penalty"
        unit = "%" if self.percent else (" point" if self.amount == 1 else " points")
        text = f"{self.amount:g}{unit} per {'started ' if self.started else ''}{self.per}"
        if self.cap is not None:
            text += f", at most {self.cap:g}{'%' if self.cap_percent else ' points'}"
        return text + (f", {describe_duration(self.grace)} of grace" if self.grace else "")

    def penalty(self, late, max_score, raw_score):
        """Points taken off for being `late` (a timedelta past the due time); never more than raw_score."""
        if late <= self.grace or not self.amount:
            return 0.0
        periods = late / PERIODS[self.per]
        periods = math.ceil(periods - 1e-9) if self.started else periods
        taken = self.amount * periods * (max_score / 100 if self.percent else 1)
        if self.cap is not None:
            taken = min(taken, self.cap * (max_score / 100 if self.cap_percent else 1))
        return round(max(0.0, min(taken, raw_score)), 6)


@dataclass(frozen=True)
class Deadline:
    due: datetime  # timezone-aware
    policy: Policy
    reason: str = ""  # why it differs from the class's ("" for the class)


@dataclass(frozen=True)
class Deadlines:
    default: Deadline
    students: dict  # student id -> Deadline (only those with a row)
    label: str = "deadlines.csv"

    def for_student(self, student_id):
        return self.students.get(student_id, self.default)


def describe_duration(delta):
    """'2 days 3 h 5 min' for a timedelta (seconds dropped beyond the first minute)."""
    seconds = round(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts)


def parse_instant(text):
    """An aware datetime from ISO 8601 text; ValueError says what to write instead."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date and time: write e.g. 2025-03-14T23:59:00+01:00") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add its UTC offset, e.g. {moment.isoformat()}+01:00 (or Z for UTC)")
    return moment


def parse_duration(text):
    """A timedelta from an ISO 8601 duration in weeks, days, hours, minutes, seconds; ValueError otherwise."""
    match = _DURATION.match(text.upper())
    if not match:
        hint = " (months and years have no fixed length: use days)" if re.match(r"^P\d*[YM]", text.upper()) else ""
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P2D, PT36H or PT15M{hint}")
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _amount(match):
    """(number, is a percentage) of a matched penalty or cap."""
    return float(match.group(1)), match.group(2).lower() in ("%", "percent")


def _policy_cells(cells, base):
    """base with the row's penalty, cap and grace applied; ValueError names the first bad cell."""
    policy = base
    if cells.get("penalty"):
        text = cells["penalty"]
        if text.lower() in ("none", "0"):
            policy = replace(policy, amount=0.0)
        elif match := _PENALTY.match(text):
            amount, percent = _amount(match)
            policy = replace(policy, amount=amount, percent=percent, started=bool(match.group(3)), per=match.group(4).lower())
        else:
            raise ValueError(f"penalty {text!r}: write e.g. '10% per day', '10% per started day', '1 point per hour' or 'none'")
    if cells.get("cap"):
        if not (match := _CAP.match(cells["cap"])):
            raise ValueError(f"cap {cells['cap']!r}: write e.g. '50%' or '5 points'")
        cap, cap_percent = _amount(match)
        policy = replace(policy, cap=cap, cap_percent=cap_percent)
    if cells.get("grace"):
        policy = replace(policy, grace=parse_duration(cells["grace"]))
    return policy


def _class_row(rows, label):
    found = [r for r in rows if r.cells["student"] == CLASS]
    if len(found) != 1:
        where = ", ".join(str(r.line) for r in found)
        raise TableError(
            f"{label}: {'no' if not found else 'several'} '{CLASS}' rows{' (lines ' + where + ')' if found else ''}: "
            f"exactly one row with student '{CLASS}' gives the class's due time and policy"
        )
    row = found[0]
    try:
        return Deadline(parse_instant(row.cells["due"]), _policy_cells(row.cells, Policy()))
    except ValueError as error:
        raise TableError(f"{label} line {row.line}: {error}") from None


def _student_deadline(row, default):
    cells = row.cells
    due = default.due
    if cells["due"]:
        due = default.due + parse_duration(cells["due"]) if cells["due"].upper().startswith("P") else parse_instant(cells["due"])
    policy = _policy_cells(cells, default.policy)
    kind = "extension" if due != default.due else "own late policy"
    return Deadline(due, policy, cells.get("reason") or kind)


def load_deadlines(path, label=None):
    """The Deadlines in the CSV at path; TableError lists every problem with its line number."""
    label = label or str(path)
    rows = read_table(path, COLUMNS, OPTIONAL, label)
    default = _class_row(rows, label)
    students, problems, lines = {}, [], {}
    for row in rows:
        student = row.cells["student"]
        if student == CLASS:
            continue
        if not student:
            problems.append(f"{label} line {row.line}: no student id (use '{CLASS}' for the class)")
        elif student in lines:
            problems.append(f"{label} line {row.line}: {student!r} already has a row (line {lines[student]})")
        else:
            lines[student] = row.line
            try:
                students[student] = _student_deadline(row, default)
            except ValueError as error:
                problems.append(f"{label} line {row.line}: {error}")
    if problems:
        raise TableError("\n".join(problems))
    return Deadlines(default, students, label)


def due_line(deadline, now, max_score):
    """What a student reads of their deadline at `now` (aware): "due 2026-12-15 23:59 +01:00 (in 2 days 3 h)", or
    "late by 1 h 12 min: -10% under the course's rule (10% per started day)"."""
    when = deadline.due.strftime("%Y-%m-%d %H:%M ") + (deadline.due.strftime("%z")[:3] + ":" + deadline.due.strftime("%z")[3:])
    late = now - deadline.due
    if late <= timedelta(0):
        return f"due {when} (in {describe_duration(-late)})"
    rule = deadline.policy.describe()
    taken = deadline.policy.penalty(late, max_score, max_score)
    if not taken:
        return f"late by {describe_duration(late)}, due {when}: no penalty under the course's rule ({rule})"
    share = f"-{100 * taken / max_score:g}%" if deadline.policy.percent and max_score else f"-{taken:g} points"
    return f"late by {describe_duration(late)}, due {when}: {share} under the course's rule ({rule})"
