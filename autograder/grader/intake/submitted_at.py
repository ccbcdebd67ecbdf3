"""When a submission was handed in, and where that is known from, in this order:

1. nbgrader's `timestamp.txt` beside the notebook (or in a folder above it, up to the student's folder), as
   nbgrader's exchange writes it (`datetime.now(tz).strftime("%Y-%m-%d %H:%M:%S.%f %Z")`,
   nbgrader/exchange/abc/exchange.py) and reads it (nbgrader.utils.parse_utc: a naive time is UTC);
2. the LMS download's own marks (a Canvas file name says LATE or not: lms_names.py; decided by submissions.py);
3. the file's own time: a zip entry's (archive.py keeps it), else the file's modification time.
"""

from datetime import UTC, datetime
from pathlib import Path

import dateutil.parser
import dateutil.tz

from autograder.notebooks import nbgrader_utils

TIMESTAMP = "timestamp.txt"
CANVAS_NAME, ZIP_ENTRY, FILE_TIME = "Canvas file name", "zip entry", "file time"  # the other sources, in order


def read_timestamp(path):
    """(ISO 8601 UTC text, "") from an nbgrader timestamp.txt, or ("", why it cannot be used)."""
    parse_utc = nbgrader_utils().parse_utc  # nbgrader's own reading, without its package

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        return "", f"{path.name} cannot be read ({error})"
    if not text:
        return "", f"{path.name} is empty"
    parts = text.split(" ")
    numeric = len(parts) == 3 and parts[2].lstrip("+-").isdigit()
    if len(parts) == 3 and not numeric and dateutil.tz.gettz(parts[2]) is None:
        return "", f"{path.name} says {text!r}, in a time zone nbgrader cannot read ({parts[2]!r}): nbgrader would take it as UTC"
    try:
        # nbgrader's parse_utc hands a numeric zone (-0500) to dateutil as seconds; dateutil alone reads it as hours
        moment = dateutil.parser.parse(text).astimezone(UTC).replace(tzinfo=None) if numeric else parse_utc(text)
    except (ValueError, OverflowError):
        return "", f"{path.name} says {text!r}, which is not a time"
    return moment.replace(tzinfo=UTC).isoformat(), ""


def _timestamp_files(notebook, student_root):
    folder = notebook.parent
    while True:
        yield folder / TIMESTAMP
        if folder == student_root or student_root not in folder.parents:
            return
        folder = folder.parent


def submission_time(notebook, student_root, entry_times=None):
    """(ISO 8601 text, its source, [notes]) for the submitted file notebook in the student's folder student_root
    (the file itself for a flat submission); entry_times maps extracted zip files to their entries' times."""
    notes = []
    for candidate in _timestamp_files(notebook, student_root) if student_root != notebook else ():
        if candidate.is_file():
            moment, why = read_timestamp(candidate)
            if moment:
                return moment, TIMESTAMP, notes
            notes.append(f"for review: {why}: not used")
    resolved = notebook.resolve()
    if entry_times and resolved in entry_times:
        return entry_times[resolved], ZIP_ENTRY, notes
    mtime = notebook.lstat().st_mtime
    return datetime.fromtimestamp(mtime, UTC).isoformat(), FILE_TIME, notes
