"""Read a submitted notebook tolerantly and find its answers: by grade_id, else by what the cell defines.

Whatever a student did to the file (stripped or edited metadata, changed cell types, deleted or duplicated
cells, cells of their own), the result is the same small structure: the answer source per grade_id, and the
code cells the student added, each anchored to the master cell it followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import nbformat

from autograder.grader.pipeline.names import defined_names
from autograder.notebooks import BEGIN_HIDDEN, END_HIDDEN, without_region

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Notebook

MAX_CELL_CHARS = 200_000


class NotANotebook(Exception):
    """The file cannot be read as a Jupyter notebook; the message says why, for the student's row."""


@dataclass
class Extracted:
    answers: dict = field(default_factory=dict)  # grade_id -> source of each answer that runs (code)
    extras: dict = field(default_factory=dict)  # anchor cell id (None: before the first cell) -> [source]
    notes: list = field(default_factory=list)
    written: dict = field(default_factory=dict)  # grade_id -> text of each Markdown answer graded by hand (never run)
    blank: list = field(default_factory=list)  # grade_ids of the answers graded by hand that are as released (untouched)


def _source_text(value):
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _meta(cell):
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def read_cells(data: bytes) -> list[dict]:
    """The cells of a submitted file (bytes) as dicts with 'type', 'source', 'meta'; NotANotebook if it is none."""
    if not data.strip():
        raise NotANotebook("the file is empty")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        kind = "binary data" if b"\0" in data[:4096] or data[:5] == b"%PDF-" else "corrupt JSON"
        raise NotANotebook(f"not a notebook ({kind}: {str(error)[:80]})") from None
    if isinstance(nb, dict) and nb.get("nbformat") == 3:
        try:
            nb = nbformat.convert(nbformat.from_dict(nb), 4)
        except Exception as error:  # an old, broken notebook is still only the student's problem
            raise NotANotebook(f"an nbformat 3 notebook that cannot be converted: {error}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotANotebook("JSON without a list of notebook cells")
    cells = []
    for cell in nb["cells"]:
        if isinstance(cell, dict):
            cells.append({"type": cell.get("cell_type"), "source": _source_text(cell.get("source"))[:MAX_CELL_CHARS], "meta": _meta(cell)})
    return cells


def _first_line(source):
    return source.strip().splitlines()[0].strip() if source.strip() else ""


class _MasterIndex:
    """The master's cells: how to tell a copy of a given or test cell from a cell the student wrote."""

    def __init__(self, master):
        self.ids = []
        self.answer_ids = set()  # every cell the student writes: autograded answers and answers graded by hand
        self.answer_types = {}  # answer grade_id -> the master's cell type: a Markdown answer is text, never run
        self.given_sources = {}
        self.given_names = {}
        self.test_first_lines = {}
        for cell in master.cells:
            meta = _meta(cell)
            gid = meta.get("grade_id")
            self.ids.append(gid)
            if meta.get("solution"):
                self.answer_ids.add(gid)
                self.answer_types[gid] = cell.cell_type
            elif cell.cell_type == "code" and meta.get("grade"):
                self.test_first_lines[_first_line(cell.source)] = gid
            elif cell.cell_type == "code":
                self.given_sources[cell.source.strip()] = gid
                self.given_names[gid] = set(defined_names(cell.source))

    def known_copy(self, source):
        """grade_id of the master cell this unmarked source is a copy of (given or visible test), or None.

        A given cell may come from an older release: it counts as a copy when it defines mostly the same names.
        """
        stripped = source.strip()
        if stripped in self.given_sources:
            return self.given_sources[stripped]
        names = set(defined_names(stripped))
        for gid, given in self.given_names.items():
            if names and given and len(names & given) >= 0.6 * len(names | given):
                return gid
        first = _first_line(stripped)
        if first.startswith('"""') and first in self.test_first_lines:
            return self.test_first_lines[first]
        return None


def extract(cells: list[dict], notebook: Notebook) -> Extracted:
    """Answers and added cells of a submission (cells from read_cells), judged against the notebook's source."""
    index = _MasterIndex(notebook.nb)
    result = Extracted()
    anchor = None
    for cell in cells:
        gid = cell["meta"].get("grade_id")
        gid = gid if isinstance(gid, str) and gid in index.ids else None
        source = cell["source"]
        found = result.written if index.answer_types.get(gid) == "markdown" else result.answers
        if gid in index.answer_ids and gid not in found:
            found[gid] = source
            if cell["type"] != index.answer_types[gid]:
                how = "graded as code" if index.answer_types[gid] == "code" else "kept as text, never run"
                result.notes.append(f"answer cell '{gid}' was a {cell['type']} cell: {how}")
        elif gid in index.answer_ids:
            result.notes.append(f"a second cell claims to be answer '{gid}': ignored")
        elif gid is None and cell["type"] == "code" and source.strip():
            copy_of = index.known_copy(source)
            recognised = None if copy_of else notebook.recognise(source, result.answers)
            if recognised:
                result.answers[recognised] = source
                result.notes.append(f"answer '{recognised}' recognised by what it defines (no nbgrader metadata)")
                gid = recognised
            elif copy_of:
                gid = copy_of
            else:
                result.extras.setdefault(anchor, []).append(source)
        if gid is not None:
            anchor = gid
    for gid in sorted(index.answer_ids - set(result.answers) - set(result.written)):
        result.notes.append(f"answer cell '{gid}' is missing")
    released = notebook.released_answers
    result.blank = [gid for gid, text in {**result.answers, **result.written}.items() if gid in released and text == released[gid]]
    return result


def redact_hidden(source: str) -> str:
    """A test cell's source as a student may see it: hidden tests removed."""
    return without_region(source, BEGIN_HIDDEN, END_HIDDEN)
