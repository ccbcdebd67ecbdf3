"""The grader's layers (autograder/grader/__init__.py): every import points down, no folder is a long flat list,
and what the lower layers need to write a report loads no kernel machinery. The tests mirror them: a unit test lies
in tests/unit/<layer>/ beside the layer it imports, and code the tests share lives in tests/helpers/, never in a test
module that another imports."""

import ast
import subprocess
import sys

import pytest
from conftest import REPO

from autograder.grader import LAYERS

GRADER = REPO / "autograder" / "grader"
MAX_MODULES = 10
TESTS = REPO / "tests"
# The folders of autograder/ beside the grader whose tests need no kernel and so lie in tests/unit/ too.
PACKAGES = ("kernel", "course", "cli")
# autograder/kernel/ is run or injected into the student's kernel, never imported: its tests load its files by path,
# through the package's constant for the folder.
LOADED_BY_PATH = {"kernel": "autograder.KERNEL"}
# What the tests hold as data, not as modules of the suite: the banks' submissions and the tiny masters.
NOT_SUITE = ("banks", "fixtures")


def _modules():
    for path in sorted(GRADER.rglob("*.py")):
        yield path, ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def _imports(path):
    """Every module path imports, at the top or inside a function, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            yield from ((f"{node.module}.{a.name}", node.lineno) for a in node.names)
        elif isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names)


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


def _package(folder):
    """The package of autograder/ that tests/unit/<folder>/ tests."""
    return f"autograder.grader.{folder}" if folder in LAYERS else f"autograder.{folder}"


def unit_tests_not_beside_their_layer(unit):
    """The test files of unit/<folder>/ that import nothing of the layer (or package) that folder names."""
    wrong = []
    for path in sorted(unit.glob("*/test_*.py")):
        folder, package = path.parent.name, _package(path.parent.name)
        imported = any(m == package or m.startswith(f"{package}.") for m, _ in _imports(path))
        loaded = any(m == LOADED_BY_PATH.get(folder) for m, _ in _imports(path))
        if not (imported or loaded):
            wrong.append(f"{path.relative_to(unit.parent)} imports nothing of {package}")
    return wrong


def imports_of_test_modules(tests):
    """Every import of a test module (test_*) by a module of the suite under tests/: helpers and tests alike."""
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        if path.relative_to(tests).parts[0] in NOT_SUITE:
            continue
        for module, line in sorted({(m.split(".")[0], line) for m, line in _imports(path)}):
            if module.startswith("test_"):
                wrong.append(f"{path.relative_to(tests)}:{line} imports {module}")
    return wrong


def test_every_unit_folder_is_a_layer_or_a_package_of_autograder():
    folders = sorted(p.name for p in (TESTS / "unit").iterdir() if p.is_dir() and p.name != "__pycache__")
    strange = [f for f in folders if f not in (*LAYERS, *PACKAGES) or not (REPO / _package(f).replace(".", "/")).is_dir()]
    assert not strange, f"tests/unit/ folders that name no layer of the grader and no package of autograder/: {strange}"


def test_each_unit_test_lies_beside_the_layer_it_imports():
    wrong = unit_tests_not_beside_their_layer(TESTS / "unit")
    assert not wrong, "unit tests in a folder whose layer they do not test:\n" + "\n".join(wrong)


def test_no_test_file_lies_flat_in_tests():
    assert not sorted(p.name for p in TESTS.glob("test_*.py")), "a test file outside the layout (tests/unit/, system/, lesson/, repo/)"


def test_what_tests_share_lives_in_the_helpers_not_in_a_test_module():
    wrong = imports_of_test_modules(TESTS)
    assert not wrong, "imports of a test module (move what they share to tests/helpers/):\n" + "\n".join(wrong)


def test_the_checks_of_the_tests_layout_fail_on_planted_violations(tmp_path):
    """A unit test of reports/ filed under core/, and a helper that imports a test module, are each found."""
    (tmp_path / "unit" / "core").mkdir(parents=True)
    (tmp_path / "unit" / "core" / "test_planted.py").write_text("from autograder.grader.reports.feedback import feedback_html\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "planted.py").write_text("from test_grader import HIDDEN_MARKERS\n")
    assert unit_tests_not_beside_their_layer(tmp_path / "unit") == ["unit/core/test_planted.py imports nothing of autograder.grader.core"]
    assert imports_of_test_modules(tmp_path) == ["helpers/planted.py:1 imports test_grader"]
