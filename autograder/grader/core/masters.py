"""Reading an assignment: a master (autograder/master/<name>.py) or an nbgrader source folder into the types of
core/assignment.py, every declaration checked (a malformed one raises AssignmentError naming the file and the cell), and
finding one by name among the masters or a course's source folders."""

from __future__ import annotations

from pathlib import Path

from autograder.grader.core.assignment import (
    AUTOTEST,
    MANUAL_CELL,
    MASTERS,
    Assignment,
    AssignmentError,
    ManualAnswer,
    Notebook,
    _folder_files,
)
from autograder.notebooks import grade_id, is_answer, is_manual, is_task, is_test, nbgrader_meta, read_master, rubric


def _fail(path, message):
    raise AssignmentError(f"{'master' if path.suffix == '.py' else 'source notebook'} {path.name}: {message}")


def _points_of_cell(path, cell, what):
    gid, points = grade_id(cell), nbgrader_meta(cell).get("points")
    try:
        points = float(points)
    except (TypeError, ValueError):
        points = -1.0
    if not gid or points < 0:
        _fail(path, f"{what} '{gid}' needs a grade_id and points in its nbgrader metadata")
    return points


def _manual_answer(path, cell):
    points = _points_of_cell(path, cell, "manually graded answer cell")
    if points <= 0:
        _fail(path, f"manually graded answer cell '{grade_id(cell)}' needs points > 0 in its nbgrader metadata {MANUAL_CELL}")
    kind = "task" if is_task(cell) else "answer"
    return ManualAnswer(grade_id(cell), points, cell.cell_type, rubric(cell), kind)


def _cells_declared(path, nb):
    """(defines, timeouts, tests, manual) of the notebook's cells; AssignmentError on a malformed one."""
    defines, timeouts, tests, manual, seen = {}, {}, [], [], set()
    for cell in nb.cells:
        meta, gid = cell.metadata.get("autograder", {}), grade_id(cell)
        if gid and (is_test(cell) or is_manual(cell) or is_task(cell) or is_answer(cell)):
            if gid in seen:
                _fail(path, f"two cells have the grade_id '{gid}': nbgrader needs each once")
            seen.add(gid)
        if is_test(cell) and AUTOTEST.search(cell.source):
            _fail(path, f"test cell '{gid}' has ### AUTOTEST lines: run nbgrader generate_assignment, and grade its release's tests")
        if is_manual(cell) or is_task(cell):
            manual.append(_manual_answer(path, cell))
        if is_answer(cell):
            names = meta.get("defines") or ()
            if not all(isinstance(n, str) and n.isidentifier() for n in names):
                _fail(path, f"answer cell '{gid}' declares autograder={{\"defines\": ...}} that are not Python names")
            defines[gid] = tuple(names)
        if is_test(cell):
            tests.append((gid, _points_of_cell(path, cell, "test cell")))
        if "timeout" in meta:
            timeouts[gid] = float(meta["timeout"])
    return defines, timeouts, tests, manual


def _declared_notebook(path, nb, name):
    declared = nb.metadata.get("autograder") or {}
    if not isinstance(declared, dict):
        _fail(path, "its autograder metadata is not a mapping")
    defines, timeouts, tests, manual = _cells_declared(path, nb)
    master = path.suffix == ".py"  # this course's own format: its data declared, its written answers read by a person
    blank = str(declared.get("blank_answers", "person" if master else "zero"))
    if blank not in ("zero", "person"):
        _fail(path, f"autograder: {{blank_answers: {blank}}} must be zero or person")
    return Notebook(
        name=name,
        master_path=path,
        nb=nb,
        title=str(declared.get("title") or ""),
        data=tuple(declared.get("data") or ()),
        protect=tuple(declared.get("protect") or ()),
        defines=defines,
        timeouts=timeouts,
        tests=tuple(tests),
        manual=tuple(manual),
        leaderboard=dict(declared.get("leaderboard") or {}),
        student_files=bool(declared.get("student_files", not master)),
        blank_answers=blank,
        check_outside_kernel=bool(declared.get("check_outside_kernel", False)),
    )


def load_notebook(path: str | Path) -> Notebook:
    """The Notebook (one notebook) its master (.py) or nbgrader source notebook (.ipynb) at path declares."""
    path = Path(path)
    if path.suffix == ".py":
        nb = read_master(path)
        declared = nb.metadata.get("autograder")
        if not isinstance(declared, dict) or not declared.get("title"):
            _fail(path, "declare 'autograder: {title: ...}' in the jupytext header's jupyter metadata")
        notebook = _declared_notebook(path, nb, path.stem)
        if not notebook.defines or not notebook.tests:
            _fail(path, "it has no answer cell or no test cell")
        missing = [gid for gid, names in notebook.defines.items() if not names]
        if missing:
            _fail(path, f"answer cell '{missing[0]}' must declare autograder={{\"defines\": [names]}}")
        return notebook
    return _declared_notebook(path, _read_source_notebook(path), path.stem)


def _read_source_notebook(path):
    import warnings

    import nbformat  # here: a master needs jupytext instead

    try:
        with warnings.catch_warnings():  # cells without ids (nbformat < 4.5): nbformat gives them one, and says so
            warnings.simplefilter("ignore", nbformat.validator.MissingIDFieldWarning)
            return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:
        raise AssignmentError(f"source notebook {path}: cannot be read ({error})") from None


def load_assignment(path: str | Path) -> Assignment:
    """The Assignment at path: a master (.py), an nbgrader source folder, or one source notebook (.ipynb)."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        notebooks = [p for relative, p in files if p.suffix == ".ipynb" and len(relative.parts) == 1]
        if not notebooks:
            raise AssignmentError(f"source folder {path}: no notebook (.ipynb) in it")
        others = tuple((relative, p) for relative, p in files if p not in notebooks)
        assignment = Assignment(path.name, tuple(load_notebook(p) for p in notebooks), path, others)
    else:
        assignment = Assignment(path.stem, (load_notebook(path),), path)
    _unique_ids(assignment)
    return assignment


def _unique_ids(assignment):
    seen = {}
    for nb in assignment.notebooks:
        for gid in [*nb.answer_ids, *(g for g, _ in nb.tests), *nb.manual_ids]:
            if seen.setdefault(gid, nb.name) != nb.name:
                raise AssignmentError(
                    f"assignment {assignment.name}: the grade_id '{gid}' is in {seen[gid]} and {nb.name}: "
                    "give each cell of the assignment its own grade_id"
                )


def master_paths(folder: str | Path = MASTERS) -> list[Path]:
    """Every master in folder, by name."""
    return sorted(Path(folder).glob("*.py"))


def source_folders(course: str | Path) -> list[Path]:
    """The assignments of an nbgrader course directory: its source/<assignment>/ folders."""
    return sorted(p for p in (Path(course) / "source").glob("*") if p.is_dir())


def assignment_named(name: str, folder: str | Path = MASTERS, course: str | Path | None = None) -> Assignment:
    """The assignment name names: a master's name (or a master's path, a source folder's path), or with course the
    folder <course>/source/<name>/; AssignmentError lists the known ones otherwise."""
    if course is not None:
        path = Path(course) / "source" / name
        if not path.is_dir():
            known = ", ".join(p.name for p in source_folders(course)) or "none"
            raise AssignmentError(f"no assignment {name!r} in {Path(course) / 'source'} (known: {known})")
        return load_assignment(path)
    given = Path(name)
    if given.suffix in (".py", ".ipynb") and given.is_file() or "/" in name and given.is_dir():
        return load_assignment(given)  # a path: a master, a source notebook, a source folder
    path = Path(folder) / f"{name}.py"
    if not path.is_file():
        known = ", ".join(p.stem for p in master_paths(folder)) or "none"
        raise AssignmentError(f"no master named {name!r} in {folder} (known: {known})")
    return load_assignment(path)


def notebook_named(name: str, folder: str | Path = MASTERS) -> Notebook:
    """The notebook of the one-notebook assignment name names (a name or the master's path)."""
    assignment = assignment_named(name, folder)
    if len(assignment.notebooks) != 1:
        raise AssignmentError(f"{name} is an assignment of {len(assignment.notebooks)} notebooks, not one")
    return assignment.notebooks[0]
