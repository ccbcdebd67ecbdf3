"""python -m autograder demo [--out DIR]: every exercise's solution run headless on the bundled data."""

import shutil
from pathlib import Path

HELP = "run every exercise's solution headless on the bundled data and report"


def add(command):
    command.add_argument("--out", default="out/demo", help="folder for the executed notebook and figures")


def run(args):
    from autograder.course.demo import run_solution
    from autograder.grader.core.masters import load_notebook, master_paths

    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    for master in master_paths():
        run_solution(load_notebook(master), out / master.stem)
    return 0
