"""python -m autograder check NOTEBOOK: one notebook with its visible tests only, printed as Jupyter shows them."""

import sys
from pathlib import Path

from autograder.cli import options

HELP = "run one notebook with its visible tests only, in a fresh kernel, and print each result"


def add(command):
    command.add_argument("notebook", help="the notebook to check (.ipynb)")
    command.add_argument("--assignment", help="the assignment (a master's name, or with --course one of the course's)")
    command.add_argument("--course", help="an nbgrader course directory, whose source/<assignment>/ holds the assignment")
    options.timeouts(command)
    command.add_argument("--quiet", action="store_true", help="no progress line")
    command.add_argument("--deadlines", help="the course's DEADLINES.csv: say when the notebook is due (or how late it is)")
    command.add_argument("--student", help="whose due time to say (their row of DEADLINES.csv; default the class's)")
    command.add_argument("--pdf", help="write the notebook's written answers to this PDF (a page per question) instead of checking")


def _deadline(path, student, max_score):
    """The line check prints of the deadline, at the clock's time (AUTOGRADER_NOW, ISO 8601, fixes it for tests)."""
    import datetime
    import os

    from autograder.grader.scoring.deadlines import due_line, load_deadlines, parse_instant

    deadlines = load_deadlines(path)
    fixed = os.environ.get("AUTOGRADER_NOW")
    now = parse_instant(fixed) if fixed else datetime.datetime.now(datetime.UTC)
    return due_line(deadlines.for_student(student) if student else deadlines.default, now, max_score)


def run(args):
    from autograder.grader.core.assignment import AssignmentError
    from autograder.grader.core.ids import printable, printable_lines
    from autograder.grader.intake.submissions import Submission
    from autograder.grader.pipeline.answers import NotANotebook
    from autograder.grader.pipeline.execute import Limits
    from autograder.grader.runs.check import CellProgress, exit_status, read_notebook, report, run_visible, staged_for
    from autograder.grader.runs.resolve import notebook_of, resolve_assignment

    path = Path(args.notebook)
    try:
        read_notebook(path)
        assignment = resolve_assignment(args.assignment, course=args.course, submissions=[Submission(path.stem, path)])
        notebook = notebook_of(assignment, path)
    except (NotANotebook, AssignmentError) as error:
        print(f"error: {printable(str(path))}: {printable_lines(error)}", file=sys.stderr)
        return 2
    title = notebook.title or (notebook.name if assignment.name == notebook.name else f"{assignment.name}, {notebook.name}")
    if args.pdf:
        import nbformat

        from autograder.grader.reports.written_pdf import answers_of, write_pdfs, written_html

        answers = answers_of(nbformat.read(path, as_version=4), notebook)
        write_pdfs([(args.pdf, written_html(notebook, answers, path.stem))])
        print(f"wrote {args.pdf}: your written answers, a page per question ({len(answers)} questions)")
        return 0
    print(f"checking {path} ({title}): its visible tests, in a fresh kernel", flush=True)
    if args.deadlines:
        print(_deadline(args.deadlines, args.student, assignment.max_score), flush=True)
    progress = CellProgress() if sys.stderr.isatty() and not args.quiet else None
    limits = Limits(cell_timeout=args.timeout, timeouts=dict(args.cell_timeout), wall_timeout=args.wall_timeout)
    try:
        checked = run_visible(path, notebook, limits, progress, staged_for(path, assignment, notebook))
    except RuntimeError as error:  # the kernel did not start: the host's trouble, not the notebook's
        print(f"error: {printable_lines(error)}", file=sys.stderr)
        return 2
    finally:
        if progress:
            progress.close()
    print(report(checked))
    return exit_status(checked)
