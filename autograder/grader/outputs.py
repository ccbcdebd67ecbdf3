"""Everything a class's OUT holds that is written from its records alone, after grading.

`grade` and `merge` end here, and `python -m autograder report OUT` runs it again on an OUT whose records exist
(after a manual grading session, say, or to rewrite what a newer grader writes), so that every report of a class
is written by one function from one list of records and none can drift from another.
"""

import sys
from pathlib import Path

from autograder.grader.exercise import ExerciseError, exercise_named
from autograder.grader.record import Record
from autograder.grader.report import summary, write_csv


def read_records(out):
    """(records sorted by student id, problems): each unreadable file in OUT/records is a problem, not a stop."""
    records, problems = [], []
    for path in sorted((Path(out) / "records").glob("*.json")):
        try:
            records.append(Record.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: cannot be read ({error})")
    return sorted(records, key=lambda r: r.student_id), problems


def write_outputs(out, exercise, records):
    """Write grades.csv (and every other class-level report) into out from records; returns the paths written."""
    out = Path(out)
    grades = out / "grades.csv"
    write_csv(grades, records, [gid for gid, _ in exercise.tests])
    return [grades]


def exercise_of(records):
    """The exercise every record was graded with, from this checkout's masters; ExerciseError when they disagree."""
    names = sorted({r.assignment for r in records if r.assignment})
    if len(names) != 1:
        raise ExerciseError(f"the records name {'no exercise' if not names else 'several exercises: ' + ', '.join(names)}")
    return exercise_named(names[0])


def main(args):
    out = Path(args.out)
    if not (out / "records").is_dir():
        print(f"report: {out} has no records/ folder: not the OUT of a `grade` or `merge` run", file=sys.stderr)
        return 2
    records, problems = read_records(out)
    try:
        exercise = exercise_of(records)
    except ExerciseError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    written = write_outputs(out, exercise, records)
    print(summary(records))
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    print("\nwrote " + ", ".join(str(p) for p in written))
    return 1 if problems else 0
