"""grades.csv: one row per submission, written from the records."""

from autograder.grader.core.files import write_csv as write_csv_rows
from autograder.grader.core.record import is_awaiting
from autograder.grader.scoring.term import late_by

CSV_TERM_COLUMNS = ("submitted_at", "submitted_from", "due", "late_by", "raw_score", "late_penalty")


def write_grades_csv(path, records, test_ids):
    """grades.csv: one row per submission, one column per test cell (after overrides), when it was handed in, the
    raw score and the late penalty, then the final score."""
    columns = ["student_id", *test_ids, *CSV_TERM_COLUMNS, "score", "max_score", "status", "message"]
    lines = []
    for record in records:
        points = {**record.points(), **{t.grade_id: "" for t in record.tests if is_awaiting(t)}}  # empty: awaits a person
        row = {"student_id": record.student_id, **{gid: points.get(gid, 0.0) for gid in test_ids}}
        row.update(submitted_at=record.submitted_at, submitted_from=record.submitted_from, due=record.due, late_by=late_by(record))
        row.update(raw_score=record.raw_score, late_penalty=record.late_penalty)
        row.update(score=record.score, max_score=record.max_score, status=record.status, message=record.notes)
        lines.append([row[column] for column in columns])
    write_csv_rows(path, [columns, *lines])
