"""What rewriting a class's reports costs, with and without deadlines and overrides: `python -m autograder report
OUT` (outputs.write_outputs) on a synthetic class, and the Canvas export.

    python bench/bench_reports.py              # 300 students, 3 rounds
    python bench/bench_reports.py -n 50        # a quick check
    python bench/bench_reports.py --assignment realnvp_digits

The class is made without a kernel: each student gets a record of the exercise's tests, a feedback page the size of
a real one (the graded notebook's code and outputs, about 60 kB) and a row in a fresh gradebook.db; a third are
late, a tenth have an extension, a tenth an override. Each round times write_outputs (records, grades.csv, feedback
heads, Gradescope results, the gradebook's late fields, warnings.txt) first without a term, then with one, and the
export. It prints the median seconds of each, and per student.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.cli import parser  # noqa: E402
from autograder.grader.core.files import write_atomic  # noqa: E402
from autograder.grader.core.masters import assignment_named  # noqa: E402
from autograder.grader.core.record import Record, TestResult  # noqa: E402
from autograder.grader.integrations.gradebook import open_gradebook, record_grades  # noqa: E402
from autograder.grader.reports.feedback import NOTEBOOK_MARK, feedback_head  # noqa: E402
from autograder.grader.runs.outputs import write_outputs  # noqa: E402
from autograder.grader.scoring.term import Term, load_term  # noqa: E402

BODY = "<h3>your answer</h3><pre>" + "x = torch.randn(128, 2)  # a line of a student's code\n" * 1200 + "</pre>"


def make_class(out, exercise, n):
    """n records, feedback pages and gradebook rows in out; the deadlines, overrides and roster files beside it."""
    out.mkdir(parents=True)
    gb = open_gradebook(out / "gradebook.db", exercise)
    overrides, extensions, roster = ["student,test,points,reason"], [], ["Student,ID,SIS User ID,SIS Login ID,Section"]
    for i in range(n):
        student = f"student{i:04d}"
        tests = [TestResult(gid, points, points) for gid, points in exercise.tests]
        at = f"2025-03-{15 if i % 3 == 0 else 14}T10:00:00+00:00"
        record = Record(student, "ok", "", tests, assignment=exercise.name, submitted_at=at, submitted_from="timestamp.txt")
        write_atomic(out / "records" / f"{student}.json", record.to_json())
        write_atomic(out / "feedback" / f"{student}.html", feedback_head(record) + "\n" + NOTEBOOK_MARK + BODY)
        record_grades(gb, exercise.name, record)
        overrides += [f"{student},total,5,regrade {i}"] if i % 10 == 0 else []
        extensions += [f"{student},P2D,,,,note {i}"] if i % 10 == 5 else []
        roster.append(f'"Name, {i}",{1000 + i},S{i},{student},A')
    gb.close()
    deadlines = ["student,due,penalty,cap,grace,reason", "*,2025-03-14T23:59:00+01:00,10% per started day,50%,PT15M,", *extensions]
    for name, lines in (("deadlines.csv", deadlines), ("overrides.csv", overrides), ("roster.csv", roster)):
        (out.parent / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def one_round(n, exercise):
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        make_class(out, exercise, n)
        from autograder.grader.core.layout import read_records

        records = read_records(out)[0]
        plain = timed(lambda: write_outputs(out, exercise, records, Term(), gradescope=True))
        term = load_term(out, exercise, out.parent / "deadlines.csv", out.parent / "overrides.csv")
        with_term = timed(lambda: write_outputs(out, exercise, records, term, gradescope=True))
        args = parser().parse_args(["export", str(out), "--format", "canvas", "--roster", str(out.parent / "roster.csv"), "--title", "T"])
        export = timed(lambda: args.run(args))
        return plain, with_term, export


def main():
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("-n", type=int, default=300, help="students (default 300)")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--assignment", default="realnvp", help="the exercise whose tests the records hold (default realnvp)")
    args = options.parse_args()
    exercise = assignment_named(args.assignment)
    rounds = [one_round(args.n, exercise) for _ in range(args.rounds)]
    for label, values in zip(("write_outputs, no term", "write_outputs, deadlines + overrides", "export --format canvas"), zip(*rounds)):
        median = statistics.median(values)
        print(f"{label:<40} {median:6.2f} s  ({1000 * median / args.n:5.1f} ms per student, {args.n} students, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
