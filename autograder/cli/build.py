"""python -m autograder build [NAMES] [--check] [--no-execute]: the generated notebooks, from the masters."""

import sys

HELP = "regenerate the notebooks from the masters"


def add(command):
    command.add_argument("names", nargs="*", help="the exercises to build (default: every master)")
    command.add_argument("--check", action="store_true", help="fail if a committed generated notebook is stale")
    command.add_argument("--no-execute", action="store_true", help="do not execute the solution notebook")


def run(args):
    from autograder import REPO
    from autograder.course.build import build, stale_notebooks
    from autograder.grader.core.exercise import master_paths

    if args.check:
        stale = stale_notebooks()
        if stale:
            print("stale generated notebooks:", ", ".join(stale), "- run: python -m autograder build")
            return 1
        print("generated notebooks are up to date")
        return 0
    masters = [p for p in master_paths() if not args.names or p.stem in args.names]
    unknown = sorted(set(args.names) - {p.stem for p in masters})
    if unknown:
        print(f"build: no master named {', '.join(unknown)} (known: {', '.join(p.stem for p in master_paths())})", file=sys.stderr)
        return 2
    for master in masters:
        for kind, path in build(master, run_solution=not args.no_execute).items():
            print(f"wrote {kind:8} {path.relative_to(REPO)}")
    return 0
