"""Build every generated notebook from the master: nbgrader source, student release, executed solution.

    python -m autograder build               # rewrite the three notebooks, executing the solution
    python -m autograder build --check       # rebuild in a scratch folder; exit 1 if a committed one is stale
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import ASSIGNMENT, MASTER, REPO, SOLUTION_NOTEBOOK, SOURCE_NOTEBOOK, STUDENT_NOTEBOOK
from .notebooks import code_sources, read_master, solution_notebook

CELL_TIMEOUT = 300


def nbgrader_release(source_nb_path, workdir):
    """The student notebook nbgrader's generate_assignment makes from the source notebook."""
    course = Path(workdir) / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(source_nb_path, course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    command = [
        sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force", "--no-db",
        f"--CourseDirectory.root={course}", "--log-level=WARN",
    ]
    subprocess.run(command, check=True, cwd=course)
    return nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def execute(nb, cwd, timeout=CELL_TIMEOUT):
    """Run every cell of nb in a fresh kernel with cwd as working directory; returns nb with outputs.

    Progress bars are switched off (TQDM_DISABLE): a headless run has no widget frontend, and a saved
    widget reads "0%" on a static page.
    """
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        client.execute()
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE")
        else:
            os.environ["TQDM_DISABLE"] = previous
    return nb


def build(out=None, run_solution=True):
    """Write the source, student and solution notebooks (under out, mirroring the repo, if given)."""
    def target(path):
        return Path(out) / path.relative_to(REPO) if out else path

    source = read_master(MASTER)
    paths = {"source": target(SOURCE_NOTEBOOK), "student": target(STUDENT_NOTEBOOK), "solution": target(SOLUTION_NOTEBOOK)}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(source, paths["source"])
    with tempfile.TemporaryDirectory() as workdir:
        nbformat.write(nbgrader_release(paths["source"], workdir), paths["student"])
    solution = solution_notebook(source)
    if run_solution:
        started = time.perf_counter()
        execute(solution, SOLUTION_NOTEBOOK.parent)
        print(f"executed the solution notebook in {time.perf_counter() - started:.1f} s")
    nbformat.write(solution, paths["solution"])
    return paths


def stale_notebooks():
    """Names of the committed generated notebooks whose cells differ from a fresh build."""
    with tempfile.TemporaryDirectory() as out:
        fresh = build(out, run_solution=False)
        committed = {"source": SOURCE_NOTEBOOK, "student": STUDENT_NOTEBOOK, "solution": SOLUTION_NOTEBOOK}
        return [
            name for name, path in committed.items()
            if not path.is_file()
            or code_sources(nbformat.read(path, as_version=4)) != code_sources(nbformat.read(fresh[name], as_version=4))
        ]


def main(args):
    if args.check:
        stale = stale_notebooks()
        if stale:
            print("stale generated notebooks:", ", ".join(stale), "- run: python -m autograder build")
            return 1
        print("generated notebooks are up to date")
        return 0
    for name, path in build(run_solution=not args.no_execute).items():
        print(f"wrote {name:8} {path.relative_to(REPO)}")
    return 0
