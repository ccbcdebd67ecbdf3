"""An exercise as its master declares it: the grader reads everything exercise-specific from here.

A master is `autograder/master/<name>.py` (jupytext py:percent, nbgrader cell metadata). Besides nbgrader's
grade_id and points, it declares in its notebook metadata `autograder: {title, data, protect, leaderboard}` (the
feedback's title; repository-relative globs of the data files staged beside the notebook in `data/`; dotted names
of the library classes the kernel guard restores beyond its base set; optionally the number a passing test prints
that Gradescope's leaderboard shows), and on each answer cell
`autograder: {defines: [names], timeout: seconds}` (the names that recognise the answer when a submission lost
its metadata; a cell timeout other than the grader's default, as a training cell needs).

A master may also ask questions graded by hand: nbgrader's manually graded answer cells (`solution: true, grade:
true, points: k`, Markdown or code), each with an optional `autograder: {rubric: [lines]}` that only instructors
see. nbgrader's task cells are not supported (their answer is no cell of its own): the master is refused.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from autograder import REPO
from autograder.notebooks import grade_id, is_answer, is_manual, is_task, is_test, nbgrader_meta, read_master, rubric

MASTERS = REPO / "autograder" / "master"
MANUAL_CELL = "(nbgrader: solution true, grade true, points k)"


class ExerciseError(ValueError):
    """A master whose declarations are missing or malformed; the message names the master and what to fix."""


class ManualAnswer(NamedTuple):
    """A question a person grades: its answer cell's grade_id, points, cell type (markdown: never run) and rubric."""

    grade_id: str
    points: float
    cell_type: str
    rubric: str = ""


@dataclass(frozen=True)
class Exercise:
    name: str
    master_path: Path
    nb: object = field(repr=False, compare=False)
    title: str = ""
    data: tuple = ()
    protect: tuple = ()
    defines: dict = field(default_factory=dict)  # answer grade_id -> names it defines
    timeouts: dict = field(default_factory=dict)  # grade_id -> seconds, where the master sets one
    tests: tuple = ()  # (test grade_id, points) of the autograded test cells, in notebook order
    manual: tuple = ()  # ManualAnswer of each manually graded answer cell, in notebook order
    leaderboard: dict = field(default_factory=dict)  # {name, grade_id, pattern, order} of a number to post, or {}

    @property
    def answer_ids(self):
        return tuple(self.defines)

    @property
    def max_score(self):
        """The exercise's total: autograded and graded by hand."""
        return self.auto_max_score + sum(m.points for m in self.manual)

    @property
    def auto_max_score(self):
        """The points of the autograded test cells alone (what Gradescope's autograder gives)."""
        return sum(points for _, points in self.tests)

    @property
    def manual_ids(self):
        return tuple(m.grade_id for m in self.manual)

    @property
    def rubrics(self):
        """grade_id -> rubric of each answer graded by hand that has one."""
        return {m.grade_id: m.rubric for m in self.manual if m.rubric}

    def data_files(self):
        """The data files to stage beside a notebook of this exercise, sorted."""
        return sorted({p for pattern in self.data for p in REPO.glob(pattern) if p.is_file()})

    def recognise(self, source, taken=()):
        """grade_id of the answer this unmarked source defines (not one of taken), or None."""
        for gid, names in self.defines.items():
            if gid not in taken and any(_defines(source, name) for name in names):
                return gid
        return None


def _defines(source, name):
    pattern = rf"^(def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*(:[^=\n]*)?="
    return re.search(pattern, source, re.M) is not None


def _fail(path, message):
    raise ExerciseError(f"master {path.name}: {message}")


def _manual_answer(path, cell):
    gid, points = grade_id(cell), nbgrader_meta(cell).get("points")
    try:
        points = float(points)
    except (TypeError, ValueError):
        points = 0.0
    if not gid or points <= 0:
        _fail(path, f"manually graded answer cell '{gid}' needs a grade_id and points > 0 in its nbgrader metadata")
    return ManualAnswer(gid, points, cell.cell_type, rubric(cell))


def load_exercise(path):
    """The Exercise its master at path declares; ExerciseError says what is missing."""
    path = Path(path)
    nb = read_master(path)
    declared = nb.metadata.get("autograder")
    if not isinstance(declared, dict) or not declared.get("title"):
        _fail(path, "declare 'autograder: {title: ...}' in the jupytext header's jupyter metadata")
    defines, timeouts, tests, manual = {}, {}, [], []
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        if is_task(cell):
            _fail(path, f"task cell '{grade_id(cell)}' is not supported: give the question a manual answer cell {MANUAL_CELL}")
        if is_manual(cell):
            manual.append(_manual_answer(path, cell))
        if is_answer(cell):
            names = meta.get("defines")
            if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
                _fail(path, f"answer cell '{grade_id(cell)}' must declare autograder={{\"defines\": [names]}}")
            defines[grade_id(cell)] = tuple(names)
        if is_test(cell):
            tests.append((grade_id(cell), float(nbgrader_meta(cell)["points"])))
        if "timeout" in meta:
            timeouts[grade_id(cell)] = float(meta["timeout"])
    if not defines or not tests:
        _fail(path, "it has no answer cell or no test cell")
    return Exercise(
        name=path.stem,
        master_path=path,
        nb=nb,
        title=str(declared["title"]),
        data=tuple(declared.get("data") or ()),
        protect=tuple(declared.get("protect") or ()),
        defines=defines,
        timeouts=timeouts,
        tests=tuple(tests),
        manual=tuple(manual),
        leaderboard=dict(declared.get("leaderboard") or {}),
    )


def master_paths(folder=MASTERS):
    """Every master in folder, by name."""
    return sorted(Path(folder).glob("*.py"))


def exercise_named(name, folder=MASTERS):
    """The exercise whose master is <folder>/<name>.py (or the master file name itself names); ExerciseError
    lists the known ones otherwise."""
    if name.endswith(".py") and Path(name).is_file():
        return load_exercise(name)
    path = Path(folder) / f"{name}.py"
    if not path.is_file():
        known = ", ".join(p.stem for p in master_paths(folder)) or "none"
        raise ExerciseError(f"no master named {name!r} in {folder} (known: {known})")
    return load_exercise(path)
