"""Notebook transformations shared by the build and the grader: read the master, split nbgrader markers.

nbgrader's own cell predicates (nbgrader.utils: is_grade, is_solution, is_task) decide what a cell is; they are
loaded when first asked, without nbgrader's package (nbgrader_utils).
"""

import os
import re
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_JUPYTEXT_ONLY = ("lines_to_next_cell", "cell_marker")


def nbgrader_utils():
    """nbgrader.utils: nbgrader's own cell predicates (is_grade, is_solution, is_task), its time parser and its
    partial-credit rule. Importing it through its package loads nbgrader's server extensions (a second of start-up in
    every process that reads a notebook), so, unless nbgrader is imported already, the module's own file is loaded
    alone, once: the same code, without the package around it."""
    import sys

    if "nbgrader.utils" in sys.modules:
        return sys.modules["nbgrader.utils"]
    if _UTILS:
        return _UTILS[0]
    import importlib.util

    folder = importlib.util.find_spec("nbgrader").submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location("autograder_nbgrader_utils", os.path.join(folder, "utils.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _UTILS.append(module)
    return module


_UTILS = []


def is_grade(cell):
    return nbgrader_utils().is_grade(cell)


def is_solution(cell):
    return nbgrader_utils().is_solution(cell)


def is_task(cell):
    return nbgrader_utils().is_task(cell)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata, {} when it has none."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    return nbgrader_meta(cell).get("grade_id")


def is_answer(cell):
    """An autograded answer cell: the student writes it and test cells check it (nbgrader's solution cell that is
    not also graded)."""
    return is_solution(cell) and not is_grade(cell)


def is_manual(cell):
    """A manually graded answer (Markdown or code): nbgrader's solution cell that is also graded, with points,
    which a person scores in formgrader."""
    return is_solution(cell) and is_grade(cell)


def is_test(cell):
    """A test cell: a graded code cell that is not an answer."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def solution_answers(master):
    """grade_id -> the master's answer of every answer cell that runs (code: autograded, or graded by hand), solution
    markers removed."""
    runs = [c for c in master.cells if is_solution(c) and c.cell_type == "code"]
    return {grade_id(c): without_markers(c.source, BEGIN_SOLUTION, END_SOLUTION) for c in runs}


def written_answers(master):
    """grade_id -> the master's model answer of every Markdown answer graded by hand (text, never run)."""
    written = [c for c in master.cells if is_manual(c) and c.cell_type != "code"]
    return {grade_id(c): without_markers(c.source, BEGIN_SOLUTION, END_SOLUTION) for c in written}


INCLUDE = re.compile(r"^# autograder: include (\S+)$", re.M)


def master_files(path):
    """The master at path and the shared files its cells include, in order: what its digest covers."""
    text = Path(path).read_text(encoding="utf-8")
    return [Path(path), *(Path(path).parent / name for name in dict.fromkeys(INCLUDE.findall(text)))]


def _included(source, folder):
    """source with each `# autograder: include FILE` line (FILE relative to the master's folder) replaced by the file:
    code both masters share is written once, and each generated notebook still stands alone."""
    return INCLUDE.sub(lambda m: (folder / m.group(1)).read_text(encoding="utf-8").rstrip("\n"), source)


def read_master(path):
    """The master py:percent file as an nbformat v4 notebook with stable cell ids, no outputs and its includes pasted in.

    Parsing a master with jupytext takes a quarter of a second, in every process that reads one (the CLI, each worker,
    check): the notebook is kept in a cache named by the digest of the master, its includes and jupytext's version, and
    read back from there while they are unchanged (nothing is kept where the cache cannot be written)."""
    import hashlib
    from importlib.metadata import version

    key = hashlib.sha256(version("jupytext").encode() + b"".join(f.read_bytes() for f in master_files(path))).hexdigest()
    cached = _cache_folder() / f"{Path(path).stem}-{key[:32]}.ipynb"
    try:
        return nbformat.read(cached, as_version=4)
    except (OSError, ValueError):
        pass
    import jupytext  # here: only a master not read before needs it

    nb = _parsed_master(path, jupytext)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}.partial")
        nbformat.write(nb, partial)
        os.replace(partial, cached)
    except OSError:
        pass
    return nb


def _cache_folder():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "realnvp-course" / "masters"


def _parsed_master(path, jupytext):
    nb = jupytext.read(path)
    for cell in nb.cells:
        cell.source = _included(cell.source, Path(path).parent)
    nb.metadata.pop("jupytext", None)
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        for key in _JUPYTEXT_ONLY:
            cell.metadata.pop(key, None)
        cell["id"] = grade_id(cell) or f"{cell.cell_type}-{index}"
    nbformat.validate(nb)
    return nb


def without_region(source, begin, end):
    """source with every line from a begin marker to its end marker (both included) removed."""
    kept, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            inside = True
        elif stripped == end:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept).rstrip() + ("\n" if source.endswith("\n") else "")


def without_markers(source, begin, end):
    """source with the marker lines removed and what they enclosed kept."""
    lines = [line for line in source.splitlines() if line.strip() not in (begin, end)]
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def solution_notebook(source_nb):
    """A copy of the source notebook with answers in place, hidden tests removed, outputs cleared, and no rubric
    (the instructors' notes on a manual answer)."""
    nb = nbformat.from_dict(source_nb)
    for cell in nb.cells:
        without_rubric(cell)
        cell.source = without_markers(cell.source, BEGIN_SOLUTION, END_SOLUTION)  # a Markdown answer may have them too
        if cell.cell_type != "code":
            continue
        cell.source = without_region(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        cell.outputs, cell.execution_count = [], None
    return nb


def rubric(cell):
    """The instructors' rubric of a manual answer cell (its `autograder: {rubric: [lines]}` metadata), "" if none."""
    lines = cell.get("metadata", {}).get("autograder", {}).get("rubric") or []
    return "\n".join(lines) if isinstance(lines, list) else str(lines)


def without_rubric(cell):
    """Drop the rubric from the cell's metadata, in place: what students and readers get never carries it."""
    meta = cell.get("metadata", {}).get("autograder")
    if isinstance(meta, dict):
        meta.pop("rubric", None)
        if not meta:
            cell.metadata.pop("autograder")
    return cell


def code_sources(nb):
    """What a stale-build check compares: the notebook's autograder declarations, then (cell type, grade_id, source,
    rubric) of every cell."""
    import json

    declared = json.dumps(nb.metadata.get("autograder", {}), sort_keys=True)
    return [("notebook", None, declared, ""), *((cell.cell_type, grade_id(cell), cell.source.strip(), rubric(cell)) for cell in nb.cells)]
