"""Build every generated notebook from the masters: nbgrader source, student release, executed solution.

    python -m autograder build [NAME ...]    # rewrite the notebooks of every exercise (or those named)
    python -m autograder build --check       # rebuild in a scratch folder; exit 1 if a committed one is stale

For an exercise NAME (its master autograder/master/NAME.py) the build writes
autograder/nbgrader_source/NAME/NAME.ipynb (nbgrader's source notebook), notebooks/NAME.ipynb (the release:
no solutions, no hidden tests, no outputs) and solutions/NAME.ipynb (answers in place, executed).
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

from autograder import REPO
from autograder.grader.core.masters import master_paths
from autograder.notebooks import code_sources, read_master, solution_notebook, without_rubric

CELL_TIMEOUT = 300


def generated_paths(name, root=REPO):
    """kind -> path of each notebook the build makes for exercise name, under root."""
    return {
        "source": root / "autograder" / "nbgrader_source" / name / f"{name}.ipynb",
        "student": root / "notebooks" / f"{name}.ipynb",
        "solution": root / "solutions" / f"{name}.ipynb",
    }


def nbgrader_release(name, source_nb_path, workdir):
    """The student notebook nbgrader's generate_assignment makes from the source notebook, without the rubrics."""
    course = Path(workdir) / "course"
    (course / "source" / name).mkdir(parents=True)
    shutil.copy(source_nb_path, course / "source" / name / f"{name}.ipynb")
    command = [
        sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--no-db",
        f"--CourseDirectory.root={course}", "--log-level=WARN",
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=course)
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    for cell in release.cells:
        without_rubric(cell)
    return release


def execute(nb, cwd, timeout=CELL_TIMEOUT):
    """Run every cell of nb in a fresh kernel with cwd as working directory; returns nb with outputs.

    Progress bars are switched off (TQDM_DISABLE): a headless run has no widget frontend, and a saved
    widget reads "0%" on a static page. No widget state is saved: an explorer's output then shows, wherever no live
    kernel drives it (a web page, nbconvert), the plain image of its default settings that it carries beside the widget.
    """
    from jupyter_client.manager import AsyncKernelManager

    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    ipc = Path(tempfile.mkdtemp(prefix="kernel-", dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        # Unix sockets, not TCP on localhost: nothing else on the machine can talk to the kernel (and it says nothing of it)
        km = AsyncKernelManager(kernel_name="python3", transport="ipc")
        km.connection_file, km.ip = str(ipc / "kernel.json"), str(ipc / "k")
        client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(cwd)}}, store_widget_state=False)
        # cleanup_kc: the kernel is shut down when the run ends, an error included (a client given its km keeps it alive)
        client.execute(cleanup_kc=True, stderr=subprocess.DEVNULL)  # stderr: the kernel's own notes; a cell's errors are in nb
    finally:
        shutil.rmtree(ipc, ignore_errors=True)
        if previous is None:
            os.environ.pop("TQDM_DISABLE")
        else:
            os.environ["TQDM_DISABLE"] = previous
    return nb


def build(master_path, out=None, run_solution=True):
    """Write the source, student and solution notebooks of one master (under out, mirroring the repo, if given)."""
    name = Path(master_path).stem
    paths = generated_paths(name, Path(out) if out else REPO)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    source = read_master(master_path)
    nbformat.write(source, paths["source"])
    with tempfile.TemporaryDirectory() as workdir:
        nbformat.write(nbgrader_release(name, paths["source"], workdir), paths["student"])
    solution = solution_notebook(source)
    if run_solution:
        started = time.perf_counter()
        execute(solution, generated_paths(name)["solution"].parent)
        print(f"executed the {name} solution notebook in {time.perf_counter() - started:.1f} s")
    nbformat.write(solution, paths["solution"])
    return paths


def stale_notebooks():
    """'<exercise> <kind>' of each committed generated notebook whose cells differ from a fresh build."""
    stale = []
    with tempfile.TemporaryDirectory() as out:
        for master in master_paths():
            fresh = build(master, out, run_solution=False)
            for kind, path in generated_paths(master.stem).items():
                current = code_sources(nbformat.read(path, as_version=4)) if path.is_file() else None
                if current != code_sources(nbformat.read(fresh[kind], as_version=4)):
                    stale.append(f"{master.stem} {kind}")
    return stale
