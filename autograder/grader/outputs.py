"""Everything a class's OUT holds that is written from its records alone, after grading.

`grade` and `merge` end here, and `python -m autograder report OUT` runs it again on an OUT whose records exist
(after a manual grading session in formgrader, say, or to rewrite what a newer grader writes), so that every report
of a class is written by one function from one list of records and none can drift from another.
"""

import sys
from pathlib import Path

from autograder.grader.autograded import read_autograded, write_source
from autograder.grader.exercise import ExerciseError, exercise_named
from autograder.grader.gradescope.results import results_json, test_titles
from autograder.grader.manual import UNREAD, fold_hand_grades
from autograder.grader.record import Record
from autograder.grader.report import feedback_html, summary, write_atomic, write_csv
from autograder.grader.submissions import safe_name


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
    """Write grades.csv (and every other class-level report) into out from records; returns the paths written.

    First the scores a person gave the written answers in OUT/gradebook.db (formgrader) are folded into the records,
    in place, and the records that changed are rewritten; then every report is written from the records: grades.csv,
    each feedback page and each Gradescope results.json there is, and OUT/source/ for formgrader.
    """
    out = Path(out)
    with_hand_grades(out, exercise, records)
    grades = out / "grades.csv"
    write_csv(grades, records, [gid for gid, _ in exercise.tests] + list(exercise.manual_ids))
    return [grades, write_source(out, exercise), *write_pages(out, exercise, records)]


def with_hand_grades(out, exercise, records):
    """The records, with the scores a person gave their written answers in OUT/gradebook.db folded in (in place;
    those that changed are rewritten in OUT/records): what every report and export of a class must start from."""
    for record in fold_hand_grades(Path(out) / "gradebook.db", exercise, records):
        write_atomic(Path(out) / "records" / f"{safe_name(record.student_id)}.json", record.to_json())
    return records


def write_pages(out, exercise, records):
    """Each record's feedback page, from its graded notebook in OUT/autograded, and its Gradescope results.json if
    `grade --gradescope` wrote one; returns the folders written. A page whose notebook is gone (OUT graded by an older
    grader) is left as it is rather than written without the notebook."""
    titles, written = test_titles(exercise.nb), set()
    for record in records:
        name, nb = safe_name(record.student_id), read_autograded(out, record)
        if nb is not None or record.status in UNREAD or not (out / "feedback" / f"{name}.html").is_file():
            write_atomic(out / "feedback" / f"{name}.html", feedback_html(record, nb, title=exercise.title))
            written.add(out / "feedback")
        if (out / "results" / f"{name}.json").is_file():
            write_atomic(out / "results" / f"{name}.json", results_json(record, titles))
            written.add(out / "results")
    return sorted(written)


def exercise_of(records, assignment=None):
    """The exercise every record was graded with, from this checkout's masters (or the master assignment names, a
    name or a path, as `grade --assignment` takes); ExerciseError when they disagree."""
    if assignment:
        exercise = exercise_named(assignment)
        others = sorted({r.assignment for r in records if r.assignment and r.assignment != exercise.name})
        if others:
            raise ExerciseError(f"--assignment {assignment} is {exercise.name}, but records name {', '.join(others)}")
        return exercise
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
        exercise = exercise_of(records, args.assignment)
    except ExerciseError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    written = write_outputs(out, exercise, records)
    print(summary(records))
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    print("\nwrote " + ", ".join(str(p) for p in written))
    return 1 if problems else 0
