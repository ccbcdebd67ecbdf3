"""The tests mirror the grader's layers (autograder/grader/__init__.py; tests/repo/test_layers.py holds the code's):
a unit test lies in tests/unit/<layer>/ beside the layer it imports, no test file lies flat in tests/, and code the
tests share lives in tests/helpers/, never in a test module that another imports."""

from conftest import REPO
from python_imports import imports as _imports

from autograder.grader import LAYERS

TESTS = REPO / "tests"
# The folders of autograder/ beside the grader whose tests need no kernel and so lie in tests/unit/ too.
PACKAGES = ("kernel", "course", "cli")
# autograder/kernel/ is run or injected into the student's kernel, never imported: its tests load its files by path,
# through the package's constant for the folder.
LOADED_BY_PATH = {"kernel": "autograder.KERNEL"}
# What the tests hold as data, not as modules of the suite: the banks' submissions and the tiny masters.
NOT_SUITE = ("banks", "fixtures")


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
