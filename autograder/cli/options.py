"""Options that several verbs share, parsed the same way by each."""

import argparse


def cell_timeout(spec):
    """GRADE_ID=SECONDS from the command line, as (grade_id, seconds)."""
    gid, _, seconds = spec.partition("=")
    try:
        return gid, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cell-timeout wants GRADE_ID=SECONDS, got {spec!r}") from None


def shard(text):
    from autograder.grader.intake.shards import parse_shard

    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def timeouts(command, wall=600):
    """--timeout, --cell-timeout and --wall-timeout, as grade and check take them."""
    command.add_argument("--timeout", type=int, default=60, help="seconds per cell whose master sets none (default 60)")
    command.add_argument(
        "--cell-timeout",
        action="append",
        type=cell_timeout,
        default=[],
        metavar="GRADE_ID=S",
        help="seconds for one cell, over the master's (repeatable)",
    )
    command.add_argument("--wall-timeout", type=int, default=wall, help=f"seconds per notebook in all (default {wall})")


def term(command):
    """--deadlines and --overrides, the same on grade, merge and report (scoring/term.py)."""
    command.add_argument("--deadlines", metavar="DEADLINES.csv", help="due times, extensions, late policy (kept in OUT/deadlines.csv)")
    command.add_argument("--overrides", metavar="OVERRIDES.csv", help="instructor's scores with reasons (kept in OUT/overrides.csv)")


def no_similarity(command):
    command.add_argument("--no-similarity", action="store_true", help="do not write similarity.csv and similarity.html")


def path_problem(path, what):
    """Why path cannot be read as what ("submissions", "OUT", ...), in one line; "" when it can."""
    import os
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        return f"{what} {path}: no such file or folder"
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        return f"{what} {path}: cannot be read (permission denied)"
    return ""
