"""What is graded: an assignment of one or more notebooks, as its source declares it. The grader reads everything
assignment-specific from here and names no assignment.

An assignment comes from one of two sources:
- a master, `autograder/master/<name>.py` (jupytext py:percent with nbgrader's cell metadata): an assignment of one
  notebook named like the master, the way this course writes its exercises;
- an nbgrader source folder, `<course>/source/<name>/`, as nbgrader's Create Assignment toolbar writes it: every
  `.ipynb` in it is a notebook of the assignment, and every other file (images, data, helper modules) is staged
  beside each notebook when it runs, as nbgrader's autograde stages them.

nbgrader's cell metadata says what each cell is (grade_id, points; answer, test, answer graded by hand, task).
Besides it, a notebook may declare, in its metadata `autograder: {title, data, protect, leaderboard,
student_files, blank_answers, check_outside_kernel}` (the feedback's title; repository-relative globs of data files staged in `data/`
beside the notebook; dotted names of library classes the kernel guard restores beyond its base set; the number a
passing test prints that Gradescope's leaderboard shows; whether the student's own other files are staged beside
their notebook, as nbgrader does (default yes; for a master no: it declares its data); whether an answer graded by
hand that the student left as released scores 0 without a person, as nbgrader's autograde scores it ("zero", the
default), or waits for a person ("person", a master's default); whether every test's hidden checks are written to be
run again outside the student's kernel on the values the student's code returned, and must pass there too
(pipeline/recheck.py)), and on a cell `autograder: {defines: [names],
timeout: seconds, rubric: [lines]}` (the names that recognise an answer when a submission lost its metadata; a
cell's own timeout; the rubric instructors see under a written answer). Every one of them is optional: a plain
nbgrader assignment needs none.

A question graded by hand is nbgrader's manually graded answer cell (`solution: true, grade: true, points: k`,
Markdown or code), or nbgrader's task cell (`task: true, points: k`: the answer is in the cells around it): both
wait for a person in formgrader.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from autograder import REPO
from autograder.grader.core.files import is_ignored
from autograder.notebooks import grade_id, is_manual, master_files

MASTERS = REPO / "autograder" / "master"
MANUAL_CELL = "(nbgrader: solution true, grade true, points k)"
AUTOTEST = re.compile(r"^\s*### (HASHED )?AUTOTEST\b", re.M)


class AssignmentError(ValueError):
    """A source whose declarations are missing or malformed; the message names it and what to fix."""


class ManualAnswer(NamedTuple):
    """A question a person grades: the grade_id of its answer cell (or task cell), points, cell type (markdown: never
    run), rubric, and kind: "answer" (a manually graded answer cell) or "task" (nbgrader's task cell)."""

    grade_id: str
    points: float
    cell_type: str
    rubric: str = ""
    kind: str = "answer"


@dataclass(frozen=True)
class Notebook:
    """One notebook of an assignment, as its source declares it."""

    name: str  # the notebook's name: its file name without .ipynb
    master_path: Path  # its source: a master (.py) or an nbgrader source notebook (.ipynb)
    nb: Any = field(repr=False, compare=False)  # nbformat.NotebookNode
    title: str = ""
    data: tuple = ()
    protect: tuple = ()
    defines: dict = field(default_factory=dict)  # answer grade_id -> names it defines (empty: found by grade_id only)
    timeouts: dict = field(default_factory=dict)  # grade_id -> seconds, where the source sets one
    tests: tuple = ()  # (test grade_id, points) of the autograded test cells, in notebook order
    manual: tuple = ()  # ManualAnswer of each question graded by hand, in notebook order
    leaderboard: dict = field(default_factory=dict)  # {name, grade_id, pattern, order} of a number to post, or {}
    student_files: bool = True  # the student's other files are staged beside the notebook (nbgrader's way)
    blank_answers: str = "zero"  # a written answer left as released: "zero" (nbgrader's autograde) or "person"
    check_outside_kernel: bool = False  # every test's hidden checks are run again outside the kernel (pipeline/recheck.py)

    @property
    def cells(self) -> list:
        return self.nb.cells

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(self.defines)

    @functools.cached_property
    def released_answers(self) -> dict[str, str]:
        """grade_id -> the source nbgrader's release gives each question graded by hand (its ClearSolutions stub):
        an answer still equal to it was left untouched."""
        from nbgrader.preprocessors import ClearSolutions

        clear, language = ClearSolutions(), self.nb.metadata.get("kernelspec", {}).get("language", "python")
        cells = [copy.deepcopy(c) for c in self.nb.cells if is_manual(c)]
        return {grade_id(c): clear.preprocess_cell(c, {"language": language}, 0)[0].source for c in cells}

    @property
    def max_score(self) -> float:
        """The notebook's total: autograded and graded by hand."""
        return self.auto_max_score + sum(m.points for m in self.manual)

    @property
    def auto_max_score(self) -> float:
        """The points of the autograded test cells alone (what Gradescope's autograder gives)."""
        return sum(points for _, points in self.tests)

    @property
    def manual_ids(self) -> tuple[str, ...]:
        return tuple(m.grade_id for m in self.manual)

    @property
    def rubrics(self) -> dict[str, str]:
        """grade_id -> rubric of each answer graded by hand that has one."""
        return {m.grade_id: m.rubric for m in self.manual if m.rubric}

    def data_files(self) -> list[Path]:
        """The data files (from the repository, by the source's globs) to stage in data/ beside the notebook, sorted."""
        return sorted({p for pattern in self.data for p in REPO.glob(pattern) if p.is_file()})

    def recognise(self, source: str, taken: Iterable[str] = ()) -> str | None:
        """grade_id of the answer this unmarked source defines (not one of taken), or None."""
        for gid, names in self.defines.items():
            if gid not in taken and any(_defines(source, name) for name in names):
                return gid
        return None


@dataclass(frozen=True)
class Assignment:
    """What a class hands in and is graded on: its notebooks, and the other files staged beside each of them.

    Everything a report says of the whole assignment (its tests, its questions for a person, its points) is the
    notebooks' together, in order. A test is named by its grade_id, which must be unique in the assignment."""

    name: str
    notebooks: tuple[Notebook, ...]  # in order
    source: Path  # the master, or the nbgrader source folder
    files: tuple = ()  # (path relative to the notebook's folder, file) of the source folder's other files

    @property
    def title(self) -> str:
        declared = [nb.title for nb in self.notebooks if nb.title]
        return declared[0] if declared else self.name

    @property
    def cells(self) -> list:
        return [cell for nb in self.notebooks for cell in nb.cells]

    @property
    def tests(self) -> tuple:
        return tuple(t for nb in self.notebooks for t in nb.tests)

    @property
    def manual(self) -> tuple:
        return tuple(m for nb in self.notebooks for m in nb.manual)

    @property
    def leaderboard(self) -> dict:
        return next((nb.leaderboard for nb in self.notebooks if nb.leaderboard), {})

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(gid for nb in self.notebooks for gid in nb.answer_ids)

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks)

    @property
    def auto_max_score(self) -> float:
        return sum(nb.auto_max_score for nb in self.notebooks)

    @property
    def manual_ids(self) -> tuple[str, ...]:
        return tuple(m.grade_id for m in self.manual)

    @property
    def rubrics(self) -> dict[str, str]:
        return {gid: text for nb in self.notebooks for gid, text in nb.rubrics.items()}

    @property
    def notebook_names(self) -> tuple[str, ...]:
        return tuple(nb.name for nb in self.notebooks)

    def notebook(self, name: str) -> Notebook:
        return next(nb for nb in self.notebooks if nb.name == name)

    def notebook_of(self, gid: str) -> str:
        """The name of the notebook that holds the cell grade_id, or "" when none does."""
        return next((nb.name for nb in self.notebooks if any(grade_id(c) == gid for c in nb.cells)), "")

    def digest(self) -> str:
        """sha256 of the source (the master, or every file of the source folder): two runs graded with the same
        tests have the same digest."""
        if self.source.is_file():
            return source_digest(self.source)
        hasher = hashlib.sha256()
        for relative, path in _folder_files(self.source):
            hasher.update(f"{relative}\0".encode() + path.read_bytes() + b"\0")
        return hasher.hexdigest()


def source_digest(path: str | Path) -> str:
    """sha256 of a source file: a master with the shared files it includes (its bytes alone when it includes none), or a
    source notebook."""
    files = master_files(path) if Path(path).suffix == ".py" else [Path(path)]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def _defines(source, name):
    pattern = rf"^(def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*(:[^=\n]*)?="
    return re.search(pattern, source, re.M) is not None


def _folder_files(folder):
    """(relative path, file) of every file of the source folder but nbgrader's ignored ones, sorted."""
    found = []
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(is_ignored(part) for part in relative.parts):
            found.append((relative, path))
    return found
