"""Everything a class's OUT holds that is written from its records alone, after grading: grades.csv, report.html
(class_report.py), similarity.csv and similarity.html (similarity_report.py, from OUT/code).

`grade` and `merge` end here, and `python -m autograder report OUT` runs it again on an OUT whose records exist
(after a manual grading session, say, or to rewrite what a newer grader writes), so that every report of a class
is written by one function from one list of records and none can drift from another.
"""

import sys
from pathlib import Path

from autograder.grader.class_report import report_html
from autograder.grader.exercise import ExerciseError, exercise_named
from autograder.grader.record import Record
from autograder.grader.report import summary, write_atomic, write_csv
from autograder.grader.similarity_report import write_similarity


def read_records(out):
    """(records sorted by student id, problems): each unreadable file in OUT/records is a problem, not a stop."""
    records, problems = [], []
    for path in sorted((Path(out) / "records").glob("*.json")):
        try:
            records.append(Record.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: cannot be read ({error})")
    return sorted(records, key=lambda r: r.student_id), problems


def write_outputs(out, exercise, records, similarity=True):
    """Write grades.csv, similarity.csv and .html (unless not similarity) and report.html into out from records;
    returns the paths written, the class report last."""
    out = Path(out)
    grades = out / "grades.csv"
    write_csv(grades, records, [gid for gid, _ in exercise.tests])
    write_atomic(out / "report.html", report_html(exercise, records))
    compared = write_similarity(out, exercise, records) if similarity else []  # last: the grades come first
    return [grades, *compared, out / "report.html"]


def closing_lines(out, similarity=True):
    """What the terminal summary of grade, merge and report ends with: where the class's pages are."""
    out = Path(out)
    return (f"similarity: {out / 'similarity.html'}\n" if similarity else "") + f"class report: {out / 'report.html'}"


def exercise_of(records):
    """The exercise every record was graded with, from this checkout's masters; ExerciseError when they disagree."""
    names = sorted({r.assignment for r in records if r.assignment})
    if len(names) != 1:
        raise ExerciseError(f"the records name {'no exercise' if not names else 'several exercises: ' + ', '.join(names)}")
    return exercise_named(names[0])


def _class_of(out):
    """(exercise, records, problems) of OUT's records; ExerciseError when OUT holds no graded class."""
    if not (out / "records").is_dir():
        raise ExerciseError(f"{out} has no records/ folder: not the OUT of a `grade` or `merge` run")
    records, problems = read_records(out)
    return exercise_of(records), records, problems


def main(args):
    """python -m autograder report OUT [--no-similarity]: every class-level file of OUT written again from its records."""
    out, similarity = Path(args.out), not args.no_similarity
    try:
        exercise, records, problems = _class_of(out)
    except ExerciseError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    written = write_outputs(out, exercise, records, similarity)
    print(summary(records))
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    print("\nwrote " + ", ".join(str(p) for p in written))
    print(closing_lines(out, similarity))
    return 1 if problems else 0


def similarity_main(args):
    """python -m autograder similarity OUT: similarity.csv and similarity.html of OUT, from its records and code/."""
    out = Path(args.out)
    try:
        exercise, records, problems = _class_of(out)
    except ExerciseError as error:
        print(f"similarity: {error}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    csv_path, html_path = write_similarity(out, exercise, records)
    print(f"wrote {csv_path}\nsimilarity: {html_path}")
    return 1 if problems else 0
