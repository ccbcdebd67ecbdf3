"""python -m autograder export OUT --format canvas|moodle: OUT's final scores in the LMS's own import format
(integrations/lms.py)."""

import sys
from pathlib import Path

HELP = "write OUT's grades in Canvas's or Moodle's own import format"


def add(command):
    command.add_argument("out", metavar="OUT", help="the OUT folder of a `grade`, `merge` or `report` run")
    command.add_argument("--format", required=True, choices=("canvas", "moodle"), help="the LMS to import into")
    command.add_argument("--roster", help="the LMS's export of the class (Canvas: its gradebook export; Moodle: a grade export)")
    command.add_argument("--title", required=True, help="the assignment's title in the LMS")
    command.add_argument("--assignment-id", help="Canvas's assignment id: the column is titled 'TITLE (ID)'")
    command.add_argument("--assignment", help="the exercise (a master's name or path); default: the one the records name")
    command.add_argument(
        "--moodle-id", choices=("username", "idnumber", "email"), default="username", help="Moodle's identifier column (default username)"
    )
    command.add_argument("--output", help="the CSV to write (default OUT/canvas.csv or OUT/moodle.csv)")
    command.add_argument("--bom", action="store_true", help="start the file with a UTF-8 byte-order mark (for Excel)")


def run(args):
    from autograder.grader.core.assignment import AssignmentError
    from autograder.grader.core.files import write_csv
    from autograder.grader.core.ids import printable, printable_lines
    from autograder.grader.core.layout import read_records
    from autograder.grader.core.tables import TableError
    from autograder.grader.integrations.lms import canvas_rows, moodle_rows, print_matching, roster_matching
    from autograder.grader.runs.outputs import class_grades
    from autograder.grader.runs.resolve import resolve_assignment

    out = Path(args.out)
    records, problems = read_records(out)
    if not (out / "records").is_dir() or not records:
        print(f"export: {out} holds no records: not the OUT of a `grade`, `merge` or `report` run", file=sys.stderr)
        return 2
    if args.format == "canvas" and not args.roster:
        print("export: --format canvas needs --roster: Canvas's gradebook export (Grades > Export), to match its students", file=sys.stderr)
        return 2
    try:
        assignment = resolve_assignment(args.assignment, records=records, out=out)
        class_grades(out, assignment, records)  # a person's scores of the written answers count, then the term
        found = roster_matching(records, args.format, args.roster, args.moodle_id)
        if args.format == "canvas":
            rows = canvas_rows(found, args.title, assignment.max_score, args.assignment_id)
        else:
            rows = moodle_rows(found, args.title, args.moodle_id)
    except (AssignmentError, TableError, ValueError) as error:
        print(f"export: {printable_lines(error)}", file=sys.stderr)
        return 2
    path = write_csv(args.output or out / f"{args.format}.csv", rows, args.bom)
    for line in problems:
        print(f"problem: {printable(line)}", file=sys.stderr)
    return max(print_matching(found, args.format, path), 1 if problems else 0)
