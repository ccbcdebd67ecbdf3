"""Build Gradescope's autograder zip for an assignment: python -m autograder gradescope [--assignment NAME] [--out OUT]

Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build its image, then run_autograder
for every submission. The zip holds what the grader needs and nothing else: the autograder package with this
assignment's master only (its hidden tests are the grader's to read; setup.sh makes the folder unreadable to the
kernel's user), the data splits, requirements.txt and pyproject.toml. No generated notebooks, tests, examples
or solutions. The zip is the same, byte for byte, every time it is built from the same files.
"""

import stat
import zipfile
from pathlib import Path

from autograder import REPO
from autograder.grader.confine.processes import UID_BASE
from autograder.grader.core.files import is_ignored, replacing
from autograder.grader.core.masters import load_notebook, master_paths

HERE = Path(__file__).resolve().parent
VENV = "/opt/autograder-venv"  # outside /autograder/source, which the kernel's user may not read
SCRIPTS = ("setup.sh", "run_autograder")
GENERATED = {"source", "nbgrader_source"}  # folders of generated nbgrader notebooks: not the grader's
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same files give the same zip


def assignments(repo=REPO):
    """The assignments: one per master in autograder/master/."""
    return [p.stem for p in master_paths(repo / "autograder" / "master")]


def _package_files(repo, assignment):
    """(name in the zip, file) for the autograder package, with only this assignment's master."""
    root = repo / "autograder"
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(repo)
        if not path.is_file() or GENERATED & set(relative.parts) or any(is_ignored(part) for part in relative.parts):
            continue
        if relative.parts[1] == "master" and len(relative.parts) == 3 and path.name != f"{assignment}.py":
            continue  # another assignment's master (the shared files its includes paste in stay)
        if relative.parent == HERE.relative_to(REPO) and path.name in SCRIPTS:
            continue  # templates: the filled-in copies go to the zip's root
        yield relative.as_posix(), path


def zip_files(assignment, repo=REPO):
    """Sorted (name in the zip, file) of everything the zip carries besides the two scripts."""
    files = list(_package_files(repo, assignment))
    notebook = load_notebook(repo / "autograder" / "master" / f"{assignment}.py")
    files += [(str(p.relative_to(REPO)), p) for p in notebook.data_files()]
    files += [(name, repo / name) for name in ("requirements.txt", "pyproject.toml")]
    return sorted(files)


def script(name, assignment, torch_index="", hidden_until="after_due_date", budget=""):
    """setup.sh or run_autograder with this build's settings filled in; LF line endings whatever the checkout has."""
    text = (HERE / name).read_text(encoding="utf-8").replace("\r\n", "\n")
    settings = {
        "@VENV@": VENV,
        "@TORCH_INDEX@": _quoted(torch_index),
        "@KERNEL_UID@": str(UID_BASE),
        "@ASSIGNMENT@": _quoted(assignment),
        "@HIDDEN_UNTIL@": _quoted(hidden_until),
        "@BUDGET@": _quoted(budget),
    }
    for key, value in settings.items():
        text = text.replace(key, value)
    return text


def _quoted(value):
    """value as a single-quoted bash word."""
    return "'" + value.replace("'", "'\\''") + "'"


def _entry(name, executable):
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.create_system = 3  # Unix: unzip then honours the mode bits below
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_zip(assignment, out, torch_index="", repo=REPO, hidden_until="after_due_date", budget=""):
    """Write out/gradescope/<assignment>.zip; returns its path. hidden_until: when students see the points and the
    hidden checks (gradescope/results.py); budget: graded submissions per hours, like 3/24h ("" none)."""
    if assignment not in assignments(repo):
        raise ValueError(f"no assignment named {assignment!r}: the assignments are {', '.join(assignments(repo))}")
    target = Path(out) / "gradescope" / f"{assignment}.zip"
    with replacing(target) as partial, zipfile.ZipFile(partial, "w") as bundle:
        for name in SCRIPTS:
            bundle.writestr(_entry(name, executable=True), script(name, assignment, torch_index, hidden_until, budget).encode())
        for name, path in zip_files(assignment, repo):
            bundle.writestr(_entry(name, executable=False), path.read_bytes())
    return target
