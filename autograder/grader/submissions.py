"""Find the submissions in what an LMS or nbgrader hands over: a folder of <student_id>.ipynb files, nbgrader's
<student_id>/<assignment>/<notebook>.ipynb layout, or a .zip of either. Every file or folder is somebody's row.
"""

import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

IGNORED = {"__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints", "gradebook.db"}


@dataclass(frozen=True)
class Submission:
    student_id: str
    path: Path | None  # None: a student folder without a notebook


def safe_name(student_id):
    """A file name for a student id: any Unicode and spaces kept; path separators and control characters not."""
    name = "".join("_" if c in "/\\\0" or unicodedata.category(c) == "Cc" else c for c in student_id).strip()
    if not name or name.startswith("."):
        name = "_" + name
    if len(name.encode()) > 180:
        name = name[:60] + "-" + hashlib.sha1(student_id.encode()).hexdigest()[:10]
    return name


def _visible(path):
    return path.name not in IGNORED and not path.name.startswith(".")


def _notebook_in(folder, assignment):
    """The student's notebook in an nbgrader-style folder: <assignment>/<assignment>.ipynb first (when the
    assignment is known), else any."""
    preferred = folder / assignment / f"{assignment}.ipynb" if assignment else None
    if preferred is not None and preferred.is_file():
        return preferred
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if notebooks:
        return notebooks[0]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _visible(p))
    return files[0] if files else None


def extract_zip(archive, into):
    """Unpack an LMS download safely (no member may land outside into); returns the folder to read."""
    into = Path(into)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = (into / member.filename).resolve()
            if into.resolve() not in target.parents and target != into.resolve():
                continue
            bundle.extract(member, into)
    entries = [p for p in into.iterdir() if _visible(p)]
    if len(entries) == 1 and entries[0].is_dir() and not any(p.suffix == ".ipynb" for p in entries[0].glob("*/*.ipynb")):
        return entries[0]  # one wrapping folder around the class's files
    return into


def discover(folder, assignment):
    """Submissions in folder, sorted by student id; a student id that appears twice gets a suffix."""
    found, seen = [], {}
    for entry in sorted(Path(folder).iterdir()):
        if not _visible(entry):
            continue
        if entry.is_dir():
            student_id, path = unicodedata.normalize("NFC", entry.name), _notebook_in(entry, assignment)
        else:
            student_id, path = unicodedata.normalize("NFC", entry.stem if entry.suffix else entry.name), entry
        count = seen.get(student_id, 0)
        seen[student_id] = count + 1
        found.append(Submission(student_id if not count else f"{student_id} ({count + 1})", path))
    return sorted(found, key=lambda s: s.student_id)
