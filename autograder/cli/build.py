"""python -m autograder build [NAMES] [--check] [--no-execute] [--release-to DIR --deadlines FILE]: the generated
notebooks, from the masters; or the released notebooks with the course's deadline in their first cell."""

import sys

HELP = "regenerate the notebooks from the masters"


def add(command):
    command.add_argument("names", nargs="*", help="the exercises to build (default: every master)")
    command.add_argument("--check", action="store_true", help="fail if a committed generated notebook is stale")
    command.add_argument("--no-execute", action="store_true", help="do not execute the solution notebook")
    command.add_argument("--release-to", help="write the released notebooks, the deadline in their first cell, to this folder")
    command.add_argument("--deadlines", help="the course's DEADLINES.csv (with --release-to): the class's due time and rule")


def _release(names, folder, deadlines_path):
    """The committed student notebooks with the class's deadline on top, written to folder."""
    from pathlib import Path

    import nbformat

    from autograder import REPO
    from autograder.course.release import dated
    from autograder.grader.core.masters import master_paths
    from autograder.grader.scoring.deadlines import load_deadlines

    deadline = load_deadlines(deadlines_path).default
    Path(folder).mkdir(parents=True, exist_ok=True)
    for master in master_paths():
        if names and master.stem not in names:
            continue
        nb = nbformat.read(REPO / "notebooks" / f"{master.stem}.ipynb", as_version=4)
        target = Path(folder) / f"{master.stem}.ipynb"
        nbformat.write(dated(nb, deadline), target)
        print(f"wrote {target} (due {deadline.due.isoformat()})")
    return 0


def run(args):
    from autograder import REPO
    from autograder.course.build import build, stale_notebooks
    from autograder.grader.core.masters import master_paths

    if args.release_to or args.deadlines:
        if not (args.release_to and args.deadlines):
            print("build: --release-to and --deadlines go together", file=sys.stderr)
            return 2
        return _release(args.names, args.release_to, args.deadlines)
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
