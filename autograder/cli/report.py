"""python -m autograder report OUT: every class-level file of OUT written again from its records (runs/outputs.py)."""

import sys
from pathlib import Path

from autograder.cli import options

HELP = "fold the gradebook's manual scores into OUT's records and rewrite every report (grades.csv, feedback, ...)"


def add(command):
    command.add_argument("out", metavar="OUT", help="the OUT folder of a `grade` or `merge` run")
    command.add_argument("--assignment", help="the exercise (a master's name or path); default: the one the records name")
    options.term(command)
    options.no_similarity(command)


def run(args):
    from autograder.grader.core.assignment import AssignmentError
    from autograder.grader.core.ids import printable, printable_lines
    from autograder.grader.core.tables import TableError
    from autograder.grader.reports.summary import summary
    from autograder.grader.runs.outputs import closing_lines, print_warnings, read_graded_class, write_outputs
    from autograder.grader.scoring.term import load_term

    out, similarity = Path(args.out), not args.no_similarity
    try:
        assignment, records, problems = read_graded_class(out, args.assignment)
        term = load_term(out, assignment, args.deadlines, args.overrides)
    except (AssignmentError, TableError) as error:
        print(f"report: {printable_lines(error)}", file=sys.stderr)
        return 2
    for line in term.said:
        print(line)
    written = write_outputs(out, assignment, records, term, similarity=similarity)
    print(summary(records))
    print_warnings(out)
    for line in problems:
        print(f"problem: {printable(line)}", file=sys.stderr)
    print("\nwrote " + ", ".join(str(p) for p in written))
    print(closing_lines(out, similarity))
    return 1 if problems else 0
