"""Writing files so that a reader, or a rerun after kill -9, sees the old file or the new one, never half.

Every file the grader writes goes through here: a partial file beside the target, renamed over it when complete.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# A spreadsheet (Excel, LibreOffice) evaluates a text cell that starts with one of these as a formula (CSV
# injection, CWE-1236): a student id or a display name may start so. Such a cell is written with a leading
# apostrophe, OWASP's advice, which the spreadsheet shows as text; a number stays a number.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Files and folders that are nobody's work, wherever the grader lists files (a class's download, a student's folder, an
# assignment's source folder, the grader's own package): operating systems' metadata (macOS's, Windows'), Jupyter's
# and Python's caches, and nbgrader's own (CourseDirectory.ignore's feedback/, a course's gradebook.db). The one list.
IGNORED = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints", "__pycache__", "feedback", "gradebook.db"})


def is_ignored(name: str) -> bool:
    """True for a file or folder name on the IGNORED list, or compiled Python (.pyc)."""
    return name in IGNORED or name.endswith(".pyc")


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A partial path beside path to write into; it replaces path when the block ends, and is removed on an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomic(path: str | Path, content: str | bytes) -> None:
    """Write content (text, UTF-8, or bytes) to path, atomically."""
    with replacing(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content, encoding="utf-8")


def write_if_changed(path: str | Path, text: str) -> bool:
    """Write text to path unless it already holds it (a rerun that changes nothing touches nothing); True if written."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def spreadsheet_safe(cell: Any) -> Any:
    """cell as a CSV cell that no spreadsheet evaluates: a text that starts like a formula gets a leading
    apostrophe; numbers (and text that is a plain number, such as "-2.5") are left as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_text(rows: Iterable[Iterable]) -> str:
    """rows (lists of cells) as RFC 4180 CSV: quotes where a cell holds a comma, a quote or a line break, and no
    cell a spreadsheet would evaluate (spreadsheet_safe)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_csv(path: str | Path, rows: Iterable[Iterable], bom: bool = False) -> Path:
    """rows as a CSV file in UTF-8 (with a byte-order mark when bom, for Excel), atomically; returns path."""
    write_atomic(path, ("\ufeff" if bom else "") + csv_text(rows))
    return Path(path)
