"""python -m autograder similarity OUT: similarity.csv and similarity.html of OUT, from its records and code/."""

import sys
from pathlib import Path

HELP = "compare what the students of OUT wrote: OUT/similarity.csv and .html"


def add(command):
    command.add_argument("out", metavar="OUT", help="the OUT folder of a `grade` or `merge` run")


def run(args):
    from autograder.grader.core.assignment import AssignmentError
    from autograder.grader.core.ids import printable, printable_lines
    from autograder.grader.reports.similarity_report import write_similarity
    from autograder.grader.runs.outputs import read_graded_class

    out = Path(args.out)
    try:
        assignment, records, problems = read_graded_class(out)
    except AssignmentError as error:
        print(f"similarity: {printable_lines(error)}", file=sys.stderr)
        return 2
    for line in problems:
        print(f"problem: {printable(line)}", file=sys.stderr)
    csv_path, html_path = write_similarity(out, assignment, records)
    print(f"wrote {csv_path}\nsimilarity: {html_path}")
    return 1 if problems else 0
