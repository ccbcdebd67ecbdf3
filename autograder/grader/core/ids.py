"""Student ids: the file name each gets, and the ids a mistyped one most likely means."""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
from collections.abc import Iterable


def safe_name(student_id: str) -> str:
    """A file name for a student id: any Unicode and spaces kept; path separators and control characters not."""
    name = "".join("_" if c in "/\\\0" or unicodedata.category(c) == "Cc" else c for c in student_id).strip()
    if not name or name.startswith("."):
        name = "_" + name
    if len(name.encode()) > 180:
        name = name[:60] + "-" + hashlib.sha1(student_id.encode()).hexdigest()[:10]
    return name


def similar_ids(student_id: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known ids that student_id most likely means: those that contain it (or it them), then close spellings."""
    wanted = student_id.casefold()
    inside = [k for k in sorted(known) if wanted in k.casefold() or k.casefold() in wanted]
    return list(dict.fromkeys(inside + difflib.get_close_matches(student_id, sorted(known), n=n)))[:n]


def printable(text: str) -> str:
    """text as a terminal or a page may show it: control characters, and the invisible format characters that
    reorder or hide text (bidirectional overrides, zero-width spaces), written as visible escapes (\\u202e), so that
    a student id cannot disguise itself as another or rewrite the line around it."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def printable_lines(text: object) -> str:
    """text of several lines (an error that lists problems), each line printable()."""
    return "\n".join(printable(line) for line in str(text).split("\n"))
