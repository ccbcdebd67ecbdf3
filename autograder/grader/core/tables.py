"""Reading an instructor's CSV (deadlines, overrides, a roster) with the line number of every row, so that a
problem is named where the instructor can find it.

Spreadsheets save CSV with a byte-order mark (Excel's "CSV UTF-8") and with stray spaces; both are accepted.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class TableError(ValueError):
    """What is wrong with an instructor's CSV file, every problem on its own line with its line number."""


@dataclass(frozen=True)
class Row:
    line: int  # the file's line where the row ends (a quoted cell may span lines)
    cells: dict  # column -> stripped text, NFC-normalised ("" for a missing cell)


def read_table(
    path: str | Path, required: Iterable[str], optional: Iterable[str] = (), label: str | None = None, others: bool = False
) -> list[Row]:
    """[Row] of the CSV at path, whose header must hold the required columns and may hold the optional ones (and,
    with others, any other column: an LMS's export has many).

    Column names are matched without regard to case or surrounding spaces; cells are keyed by the lower-cased
    name. Raises TableError naming the file, the line and what to fix.
    """
    label = label or str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _rows(csv.reader(handle), required, optional if not others else None, label)
    except OSError as error:
        raise TableError(f"{label}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise TableError(f"{label}: not UTF-8 text (byte {error.start}): save it as CSV UTF-8") from None
    except csv.Error as error:
        raise TableError(f"{label}: not a CSV file ({error})") from None


def _clean(text):
    return unicodedata.normalize("NFC", text.strip())


def _rows(reader, required, optional, label):
    header = next(reader, None)
    if header is None:
        raise TableError(f"{label}: the file is empty: it needs a header row ({', '.join(required)})")
    names = [_clean(h).lower() for h in header]
    problems = [f"{label} line 1: no column {c!r}" for c in required if c.lower() not in names]
    if optional is not None:  # None: any other column is welcome
        known = [c.lower() for c in (*required, *optional)]
        problems += [f"{label} line 1: unknown column {h!r} (the columns are {', '.join(known)})" for h in names if h and h not in known]
    checked = names if optional is not None else [c.lower() for c in required]  # an LMS export may repeat its own columns
    problems += [f"{label} line 1: column {h!r} appears twice" for h in sorted({h for h in names if h in checked and names.count(h) > 1})]
    if problems:
        raise TableError("\n".join(problems))
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
            problems.append(
                f"{label} line {reader.line_num}: {len(cells)} cells for {len(names)} columns (a comma inside a cell needs quotes)"
            )
            continue
        values = {name: _clean(cells[i]) if i < len(cells) else "" for i, name in enumerate(names) if name}
        rows.append(Row(reader.line_num, values))
    if problems:
        raise TableError("\n".join(problems))
    return rows
