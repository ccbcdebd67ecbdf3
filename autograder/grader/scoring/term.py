"""The final-score layer: deadlines and overrides applied to the grader's records, the same way by every report.

`grade`, `merge` and `python -m autograder report OUT` take `--deadlines DEADLINES.csv` and `--overrides
OVERRIDES.csv` (formats: deadlines.py, overrides.py). A file given is checked first (nothing is graded or written
when it has a problem), then kept in OUT (OUT/deadlines.csv, OUT/overrides.csv), and every later run without the
option applies OUT's copy: an instructor's decision survives any rerun, `--only` regrade or merge. Delete the copy
to drop it.

apply_term() sets, on a Record, this student's due time, whether and how late the work was, the penalty, the
overrides and the notes for grades.csv ("for review: no submission time", never a silent penalty).
"""

import filecmp
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from autograder.grader.core.ids import similar_ids
from autograder.grader.core.times import as_instant
from autograder.grader.intake.submitted_at import CANVAS_NAME, FILE_TIME
from autograder.grader.scoring.deadlines import describe_duration, load_deadlines
from autograder.grader.scoring.overrides import load_overrides

KEPT = {"deadlines": "deadlines.csv", "overrides": "overrides.csv"}


@dataclass
class Term:
    deadlines: object = None  # deadlines.Deadlines, or None: no due time, no penalty
    overrides: object = None  # overrides.Overrides, or None
    said: list = field(default_factory=list)  # which file each came from, for the run's output


def _kept(out, kind):
    return Path(out) / KEPT[kind]


def _load(kind, path, assignment, label):
    if kind == "deadlines":
        return load_deadlines(path, label)
    return load_overrides(path, dict(assignment.tests), label)


def load_term(out, assignment, deadlines=None, overrides=None):
    """The Term for OUT: each file given checked and kept in OUT, else OUT's kept copy, else none.

    Raises csv_table.TableError (every problem, with line numbers) before anything is copied."""
    term, given = Term(), {"deadlines": deadlines, "overrides": overrides}
    for kind, path in given.items():
        kept = _kept(out, kind)
        source = Path(path) if path else kept if kept.is_file() else None
        if source is None:
            continue
        setattr(term, kind, _load(kind, source, assignment, str(source)))
        if path:
            if not (kept.is_file() and filecmp.cmp(source, kept, shallow=False)):
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, kept)
            term.said.append(f"{kind}: {source} applied; kept as {kept}, which every later run applies unless given --{kind}")
        else:
            term.said.append(f"{kind}: {kept} applied (kept from an earlier run; give --{kind} FILE to replace it, or delete it)")
    return term


def _clear(record):
    record.due, record.extension, record.late, record.late_seconds, record.late_penalty = "", "", False, 0.0, 0.0
    record.late_rule = ""


def _lateness(record, deadline, class_due, max_score):
    """Set due, extension, late, late_seconds and late_penalty on record; returns the notes to add."""
    record.due = deadline.due.isoformat()
    record.extension = deadline.reason if deadline.due != class_due else ""
    if record.submitted_from == CANVAS_NAME:
        record.late = record.lms_marks == "LATE"
        if not record.late:
            return []
        return [
            "for review: Canvas marks it LATE, but its download says neither when nor how late: no late penalty applied "
            "(Canvas's own late policy applies it on import, if the assignment has one)"
        ]
    if not record.submitted_at:
        return ["for review: no submission time (no timestamp.txt, LMS mark or file time): not penalised"]
    late = as_instant(record.submitted_at, deadline.due.tzinfo) - deadline.due
    if late.total_seconds() <= 0:
        return []
    if late <= deadline.policy.grace:
        return [f"{describe_duration(late)} late, within the grace period: on time"]
    record.late, record.late_seconds = True, late.total_seconds()
    record.late_penalty = deadline.policy.penalty(late, max_score, record.raw_score)
    record.late_rule = deadline.policy.describe() if record.late_penalty else ""
    taken = (
        f"-{record.late_penalty:g} ({deadline.policy.describe()})"
        if record.late_penalty
        else ("no penalty for this student" if not deadline.policy.amount else "no points to take off")
    )
    notes = [f"late by {describe_duration(late)} ({record.submitted_from}): {taken}"]
    if record.submitted_from == FILE_TIME:
        notes.append("for review: the lateness comes from the file's modification time: check that it is when the work was handed in")
    return notes


def _override_notes(record):
    measured = {t.grade_id: t.points for t in record.tests}
    return [
        f"override {o.test}: {o.points:g}" + (f" (measured {measured[o.test]:g})" if o.test in measured else "") + f": {o.reason}"
        for o in record.overrides
    ]


def apply_term(record, term):
    """Apply term to record in place (the measured tests untouched); returns record."""
    record.overrides = term.overrides.of(record.student_id) if term.overrides else []
    notes = _override_notes(record)
    _clear(record)
    if term.deadlines is not None:
        deadlines = term.deadlines
        notes += _lateness(record, deadlines.for_student(record.student_id), deadlines.default.due, record.max_score)
        notes += [f"extended due time: {record.extension}"] if record.extension else []
        if record.late_penalty and record.total_override() is not None:
            notes.append(f"the total override is final: the late penalty (-{record.late_penalty:g}) is not taken from it")
            record.late_penalty, record.late_rule = 0.0, ""
    record.term_notes = notes
    return record


def _closest(name, known):
    close = similar_ids(name, known)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def term_warnings(records, term):
    """What the term names that no record has: overrides not applied, extensions of students who submitted nothing."""
    graded = sorted(r.student_id for r in records)
    found = set(graded)
    warnings = []
    if term.overrides is not None:
        for student, lines in sorted(term.overrides.lines.items()):
            if student not in found:
                where = ", ".join(map(str, lines))
                warnings.append(
                    f"{term.overrides.label} line {where}: no graded student {student!r}{_closest(student, graded)}: not applied"
                )
    if term.deadlines is not None:
        for student in sorted(set(term.deadlines.students) - found):
            warnings.append(f"{term.deadlines.label}: {student!r} has a row but no submission{_closest(student, graded)}")
    return warnings


def late_by(record):
    """grades.csv's late_by: '' on time, '1 day 2 h' when measured, 'late (how late unknown)' from a bare LMS mark."""
    if not record.late:
        return ""
    return describe_duration(timedelta(seconds=record.late_seconds)) if record.late_seconds else "late (how late unknown)"
