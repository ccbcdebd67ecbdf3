"""The package names no exercise: each exercise lives in its master; the tests and benches name the ones they use."""

import ast

from conftest import REPO

import autograder
from autograder.grader.core.masters import master_paths

ROOT_NAMES = ("REPO", "KERNEL")  # the repository, and the folder of what runs in the student's kernel
SOURCES = [p for folder in ("autograder", "tests", "bench", "scripts", "data") for p in sorted((REPO / folder).rglob("*.py"))]


def test_the_package_s_init_names_no_exercise():
    text = (REPO / "autograder" / "__init__.py").read_text(encoding="utf-8")
    assert not [p.stem for p in master_paths() if p.stem in text]
    assert [name for name in vars(autograder) if name.isupper()] == list(ROOT_NAMES)


def _from_the_package(path):
    """The names path imports with `from autograder import ...`."""
    nodes = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom) and n.module == "autograder"]
    return {alias.name for node in nodes for alias in node.names}


def test_nothing_imports_more_than_the_repository_root_from_the_package():
    importers = {str(p.relative_to(REPO)): sorted(_from_the_package(p) - set(ROOT_NAMES)) for p in SOURCES}
    assert {path: names for path, names in importers.items() if names} == {}
