"""Writing files so that a reader, or a rerun after kill -9, sees the old file or the new one, never half.

Every file the grader writes goes through here: a partial file beside the target, renamed over it when complete.
"""

import contextlib
import csv
import io
import os
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """A partial path beside path to write into; it replaces path when the block ends, and is removed on an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomic(path, content):
    """Write content (text, UTF-8, or bytes) to path, atomically."""
    with replacing(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content, encoding="utf-8")


def write_if_changed(path, text):
    """Write text to path unless it already holds it (a rerun that changes nothing touches nothing); True if written."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def csv_text(rows):
    """rows (lists of cells) as RFC 4180 CSV: quotes where a cell holds a comma, a quote or a line break."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def write_csv(path, rows, bom=False):
    """rows as a CSV file in UTF-8 (with a byte-order mark when bom, for Excel), atomically; returns path."""
    write_atomic(path, ("\ufeff" if bom else "") + csv_text(rows))
    return Path(path)
