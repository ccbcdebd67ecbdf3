"""OUT's layout: where each file of a graded class lives, and how a record is read back."""

from pathlib import Path

from autograder.grader.core.record import Record


def read_records(out):
    """(records sorted by student id, problems): each unreadable file in OUT/records is a problem, not a stop."""
    records, problems = [], []
    for path in sorted((Path(out) / "records").glob("*.json")):
        try:
            records.append(Record.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: cannot be read ({error})")
    return sorted(records, key=lambda r: r.student_id), problems
