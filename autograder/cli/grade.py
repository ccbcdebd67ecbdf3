"""python -m autograder grade SUBMISSIONS --out OUT [...]: grade a class (runs/grade.py), then print its summary."""

import sys
import time
from pathlib import Path

from autograder.cli import options

HELP = "grade a folder or .zip of submissions into OUT"


def add(command):
    where = "folder of <student>.ipynb, nbgrader's <student>/<assignment>/ layout, or a .zip (default with --course: its submitted/)"
    command.add_argument("submissions", nargs="?", help=where)
    command.add_argument("--out", required=True, help="folder for grades.csv, records/, and (without --course) feedback/, gradebook.db")
    command.add_argument(
        "--course",
        metavar="COURSE",
        help="an nbgrader course directory: the assignment from its source/, and its gradebook.db, autograded/ and feedback/ written",
    )
    command.add_argument("--workers", type=int, default=None, help="parallel kernels (default: number of cores)")
    command.add_argument("--assignment", help="the assignment: a master's name (or a path), or with --course one of the course's")
    options.timeouts(command)
    command.add_argument("--memory", type=float, default=4.0, help="GiB of address space per kernel (default 4)")
    command.add_argument("--force", action="store_true", help="grade again students that already have a result")
    command.add_argument("--gradescope", action="store_true", help="also write results/<student>.json for Gradescope")
    command.add_argument(
        "--written-pdfs", action="store_true", help="also write written/<student>.pdf: each student's written answers, a page per question"
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.add_argument(
        "--shard",
        type=options.shard,
        default=None,
        metavar="K/N",
        help="grade every N-th submission from the K-th (auto/N: the array job's)",
    )
    command.add_argument(
        "--only", action="append", default=[], metavar="ID", help="regrade just this student, keep the others' records (repeatable)"
    )
    options.term(command)
    options.no_similarity(command)


def run(args):
    from autograder.grader.core.assignment import AssignmentError
    from autograder.grader.core.ids import printable_lines
    from autograder.grader.core.tables import TableError
    from autograder.grader.intake.archive import ArchiveError
    from autograder.grader.pipeline.execute import Limits
    from autograder.grader.reports.summary import isolation_summary, summary
    from autograder.grader.runs.grade import Options, UnknownStudent, grade_batch
    from autograder.grader.runs.lifetime import BatchBusy
    from autograder.grader.runs.outputs import closing_lines, print_warnings

    problem = _course_problem(args) or options.path_problem(args.submissions, "submissions")
    if problem:
        print(f"error: {printable_lines(problem)}", file=sys.stderr)
        return 2
    limits = Limits(args.timeout, dict(args.cell_timeout), args.wall_timeout, int(args.memory * 2**30))
    chosen = Options(
        workers=args.workers,
        limits=limits,
        force=args.force,
        gradescope=args.gradescope,
        progress=not args.quiet,
        assignment=args.assignment,
        shard=args.shard,
        similarity=not args.no_similarity,
        course=args.course,
        only=args.only,
        deadlines=args.deadlines,
        overrides=args.overrides,
    )
    started = time.monotonic()
    try:
        records = grade_batch(args.submissions, args.out, chosen)
    except (AssignmentError, BatchBusy, TableError, ArchiveError, UnknownStudent) as error:
        print(f"error: {printable_lines(error)}", file=sys.stderr)
        return 2
    print(summary(records))
    print(isolation_summary(records))
    print_warnings(args.out)
    print(f"\nwall time {time.monotonic() - started:.1f} s with {chosen.workers} workers; grades in {Path(args.out) / 'grades.csv'}")
    print(closing_lines(args.out, chosen.similarity))
    if args.written_pdfs:
        from autograder.grader.runs.written import write_class_pdfs

        written = write_class_pdfs(args.out, records)
        print(f"written answers: {len(written)} PDFs in {Path(args.out) / 'written'}")
    return 0


def _course_problem(args):
    """What is wrong with --course and the submissions it implies, in one line ("" when nothing); fills in the
    course's submitted/ as the submissions when none are given."""
    from pathlib import Path

    if args.course is None:
        return "" if args.submissions else "give the SUBMISSIONS to grade (or --course COURSE: its submitted/)"
    if args.shard:
        return "--course and --shard: grade the shards into their own OUT without --course, then merge them"
    if not (Path(args.course) / "source").is_dir():
        return f"--course {args.course}: no source/ folder: not an nbgrader course directory"
    if not args.assignment:
        return "--course needs --assignment NAME, one of its source/ folders"
    args.submissions = args.submissions or str(Path(args.course) / "submitted")
    return ""
