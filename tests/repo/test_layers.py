"""The grader's layers (autograder/grader/__init__.py): every import points down, no folder is a long flat list,
and what the lower layers need to write a report loads no kernel machinery."""

import subprocess
import sys

import pytest
from conftest import REPO
from python_imports import imports as _imports

from autograder.grader import LAYERS

GRADER = REPO / "autograder" / "grader"
MAX_MODULES = 10


def _modules():
    for path in sorted(GRADER.rglob("*.py")):
        yield path, ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def _layer(module):
    """The layer a module of autograder.grader lives in, or None (the package itself)."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["autograder", "grader"] else None


def test_every_layer_is_a_folder_and_every_folder_a_layer():
    folders = sorted(p.name for p in GRADER.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(LAYERS)
    assert not [p.name for p in GRADER.glob("*.py") if p.name != "__init__.py"], "a module outside the layers"


def test_no_import_points_up_a_layer():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    wrong = []
    for path, module in _modules():
        mine = _layer(module)
        for imported, line in _imports(path):
            theirs = _layer(imported)
            if imported.startswith(("autograder.cli", "autograder.course")) or (theirs and mine and rank[theirs] > rank[mine]):
                wrong.append(f"{path.relative_to(REPO)}:{line} ({mine}) imports {imported}")
    assert not wrong, "imports that point up a layer:\n" + "\n".join(wrong)


def test_the_grader_never_imports_what_runs_in_the_kernel():
    wrong = [f"{p.relative_to(REPO)}:{line}" for p, _ in _modules() for m, line in _imports(p) if m.startswith("autograder.kernel")]
    assert not wrong


@pytest.mark.parametrize("folder", sorted({p.parent for p in GRADER.rglob("*.py")}), ids=lambda p: str(p.relative_to(GRADER)))
def test_no_folder_is_a_long_flat_list(folder):
    modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= MAX_MODULES, f"{folder.relative_to(REPO)} holds {len(modules)} modules"


def test_writing_the_reports_loads_no_kernel_machinery():
    """The records, grades.csv, the feedback and the class pages are written without nbclient or jupyter_client."""
    code = (
        "import sys\n"
        "import autograder.grader.core.layout, autograder.grader.reports.grades_csv, autograder.grader.reports.feedback\n"
        "import autograder.grader.reports.class_report, autograder.grader.scoring.term\n"
        "print(sorted(m for m in ('nbclient', 'jupyter_client', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
