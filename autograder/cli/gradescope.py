"""python -m autograder gradescope [--assignment NAME]: Gradescope's autograder zip (integrations/gradescope/package.py)."""

import sys

HELP = "build Gradescope's autograder zip: OUT/gradescope/<assignment>.zip"


def add(command):
    command.add_argument("--assignment", default=None, help="the exercise (a master's name); default: one zip per exercise")
    command.add_argument("--out", default="out", help="folder under which gradescope/<assignment>.zip is written (default out)")
    command.add_argument(
        "--torch-index", default="", help="pip index URL of PyTorch's CPU wheels for setup.sh (default: pip's default index)"
    )
    command.add_argument(
        "--hidden-until",
        default="after_due_date",
        choices=("after_due_date", "after_published", "visible"),
        help="when students see each test's points, its hidden checks and the score (default after_due_date: before it, only "
        "what their notebook's own checks say)",
    )
    command.add_argument("--budget", default="", help="graded submissions per hours, like 3/24h (default: no budget)")


def run(args):
    from autograder.grader.integrations.gradescope.package import assignments, build_zip

    for name in [args.assignment] if args.assignment else assignments():
        try:
            from autograder.cli.gradescope_run import parse_budget

            parse_budget(args.budget)
            target = build_zip(name, args.out, args.torch_index, hidden_until=args.hidden_until, budget=args.budget)
        except ValueError as error:
            print(f"gradescope: {error}", file=sys.stderr)
            return 2
        print(f"wrote {target} ({target.stat().st_size / 2**20:.1f} MiB): upload it as the assignment's autograder")
    if not args.torch_index:
        note = "note: built without --torch-index: setup.sh will install torch from pip's default index (docs/grading-at-scale.md)"
        print(note, file=sys.stderr)
    return 0
