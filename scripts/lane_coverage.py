"""Check that the fast lane (`pytest -m "not slow"`) runs code of every module of autograder/, and say which it misses.

    .venv/bin/python scripts/lane_coverage.py            # the fast lane under coverage, then the check (exit 1: a module missed)
    .venv/bin/python scripts/lane_coverage.py -k grade   # any pytest option passes through (the check then says less)

It runs the lane as scripts/test.sh does (two xdist workers) under coverage.py, measuring the tests' own process,
the xdist workers, every Python subprocess they start with the tests' environment (`python -m autograder ...`) and
the grader's forked workers ([run] patch = subprocess, fork, _exit). A module counts as exercised when a line inside
one of its functions ran (a module that defines no function: when it was imported), so that importing a module
proves nothing. Not measured, and so not checked: autograder/master/ (the exercises' sources, run as notebooks in
kernels), and what runs inside a kernel or before it with the kernel's scrubbed environment (the launcher as a script,
the guard's text): tests/unit/kernel/test_kernel_pieces.py runs those two in the tests' own process instead, so they are checked.
"""

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "autograder"
NOT_CHECKED = ("master",)  # the exercises' sources: notebooks run in kernels, not modules the grader runs
RC = """[run]
source = {package}
parallel = true
patch = subprocess, fork, _exit
data_file = {data}
omit = {package}/master/*
"""


def modules():
    """Every .py file of the package that the check covers."""
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in NOT_CHECKED)


def function_lines(path):
    """The line numbers of the statements inside the functions (and methods) of a module."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement in node.body:
                lines.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
    return lines


def missed(executed):
    """The modules whose functions never ran (or that were never imported, when they define none)."""
    left = []
    for path in modules():
        ran, inside = executed.get(str(path), set()), function_lines(path)
        if not (ran & inside if inside else ran or path.stat().st_size == 0 or path.name == "__init__.py"):
            left.append(path.relative_to(REPO))
    return left


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    import coverage  # the pinned one (requirements.txt)

    with tempfile.TemporaryDirectory(prefix="lane-coverage-") as scratch:
        rc = Path(scratch) / "coveragerc"
        rc.write_text(RC.format(package=PACKAGE, data=Path(scratch) / ".coverage"))
        lane = [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", "-m", "pytest", "-n", "2", "-m", "not slow", *argv]
        tests = subprocess.run(lane, cwd=REPO, env={**os.environ, "COVERAGE_RCFILE": str(rc)})
        data = coverage.Coverage(config_file=str(rc))
        data.combine()
        measured = data.get_data()
        executed = {name: set(measured.lines(name) or ()) for name in measured.measured_files()}
    left = missed(executed)
    print(f"\nfast lane: {len(modules()) - len(left)} of {len(modules())} modules of autograder/ exercised")
    for path in left:
        print(f"  not exercised: {path}")
    return 1 if left or tests.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
