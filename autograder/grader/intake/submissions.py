"""Find the submissions in what an LMS or nbgrader hands over: a folder of <student_id>.ipynb files, nbgrader's
<student_id>/<assignment>/<notebook>.ipynb layout, Canvas's download (files named <name>_<user id>_<file id>_<file>),
or a .zip of any of them (archive.py).

Every file gets its row or its word: each student's file or folder is a Submission (graded, or refused with the
reason: a symbolic link, not a regular file), and what is not graded is named in the survey's warnings: a second
notebook in a folder, other files beside the graded one, two submissions with one student id, system metadata.
"""

import os
import stat
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from autograder.grader.intake.junk import is_junk
from autograder.grader.intake.lms_names import canvas_name
from autograder.grader.intake.submitted_at import CANVAS_NAME, TIMESTAMP, submission_time

KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


@dataclass(frozen=True)
class Submission:
    student_id: str
    path: Path | None  # None: nothing to read (an empty folder, or a file refused)
    notes: tuple = ()  # for the row's message: what a reviewer should know about this submission's files
    refused: str = ""  # why the file is not read at all ("" when it is)
    submitted_at: str = ""  # ISO 8601, see submitted_at.py
    submitted_from: str = ""
    lms_marks: str = ""  # "LATE" when the LMS's file name says so
    lms_id: str = ""  # the LMS's user id from the file name (Canvas)


@dataclass
class Survey:
    submissions: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # what was not graded and why, each naming its file
    junk: Counter = field(default_factory=Counter)  # name of ignored system files -> how many


def _why_not_read(path):
    """Why path must not be opened ("" when it is a regular file): a link may point anywhere, a pipe blocks."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return f"{path.name} is a symbolic link (to {os.readlink(path)}): not followed, not graded"
    if not stat.S_ISREG(mode):
        return f"{path.name} is {KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a file: not read, not graded"
    return ""


def _walk(folder, found):
    """Regular files, links and special files under folder (links not followed), sorted; junk counted in found."""
    files, odd = [], []
    for top, dirs, names in os.walk(folder):
        for name in [d for d in dirs if is_junk(d)] + [n for n in names if is_junk(n)]:
            found.junk[name] += 1
        dirs[:] = sorted(d for d in dirs if not is_junk(d))
        for name in sorted(n for n in names if not is_junk(n)):
            path = Path(top) / name
            (odd if _why_not_read(path) else files).append(path)
        odd += [Path(top) / d for d in dirs if (Path(top) / d).is_symlink()]
    return sorted(files), sorted(odd)


def _pick(folder, files, assignment):
    """The notebook to grade among files: <assignment>/<assignment>.ipynb first, else the first notebook, else
    the first file (which then gets its 'not a notebook' row)."""
    preferred = folder / assignment / f"{assignment}.ipynb" if assignment else None
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    if preferred in notebooks:
        return preferred
    return notebooks[0] if notebooks else (files[0] if files else None)


def _folder(entry, student_id, assignment, found):
    files, odd = _walk(entry, found)
    for path in odd:
        found.warnings.append(f"{entry.name}/{path.parent.relative_to(entry)}: {_why_not_read(path)}".replace("/.:", ":"))
    chosen = _pick(entry, [p for p in files if p.name != TIMESTAMP], assignment)
    if chosen is None and odd:
        return Submission(student_id, None, refused=f"the folder {entry.name}/ holds no file that can be read")
    if chosen is None:
        return Submission(student_id, None)  # an empty folder: its row says so
    notes = _others(entry, chosen, [p for p in files if p.name != TIMESTAMP], found)
    return Submission(student_id, chosen, notes=notes)


def _others(entry, chosen, files, found):
    """Notes on the files not graded beside chosen in the folder entry (and a warning naming them)."""
    rest = [p for p in files if p != chosen]
    if not rest:
        return ()
    where = lambda p: str(p.relative_to(entry))  # noqa: E731
    found.warnings.append(f"{entry.name}/: graded {where(chosen)}; not graded: {', '.join(map(where, rest))}")
    second = [p for p in rest if p.suffix == ".ipynb"]
    if not second:
        return ()
    return (f"for review: {len(second) + 1} notebooks in the folder: graded {where(chosen)}, not {', '.join(map(where, second))}",)


def _entries(folder, found):
    """(student id, path, canvas name or None) of each top-level entry, junk counted and skipped."""
    for entry in sorted(Path(folder).iterdir()):
        if is_junk(entry.name):
            found.junk[entry.name] += 1
            continue
        name = unicodedata.normalize("NFC", entry.name)
        canvas = canvas_name(name) if not entry.is_dir() else None
        if canvas:
            yield canvas.student_id, entry, canvas
        else:
            yield (name if entry.is_dir() or not entry.suffix else unicodedata.normalize("NFC", entry.stem)), entry, None


def _canvas_submission(student_id, group, assignment, found):
    """One Canvas submission from the files of one student (Canvas names every file of a submission alike)."""
    chosen = _pick(None, [entry for entry, _ in group], None)
    preferred = [entry for entry, c in group if Path(c.file_name).stem.split("-")[0] == assignment and entry.suffix == ".ipynb"]
    chosen = preferred[0] if preferred else chosen
    canvas = dict(group)[chosen]
    rest = [entry.name for entry, _ in group if entry != chosen]
    notes = ()
    if rest:
        found.warnings.append(f"{student_id}: graded {chosen.name}; not graded: {', '.join(rest)}")
        if any(name.endswith(".ipynb") for name in rest):
            notes = (f"for review: {len(group)} files in the Canvas submission: graded {chosen.name}, not {', '.join(rest)}",)
    marks = "LATE" if canvas.late else ""
    return Submission(student_id, chosen, notes, "", "", CANVAS_NAME, marks, canvas.user_id)


def _one(student_id, entry, assignment, found, entry_times):
    """The Submission of one top-level entry, with its submission time."""
    if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
        return Submission(student_id, None, refused=_why_not_read(entry))
    submission = _folder(entry, student_id, assignment, found) if entry.is_dir() else Submission(student_id, entry)
    return _timed(submission, entry, entry_times)


def _timed(submission, root, entry_times):
    if submission.path is None or submission.submitted_from:
        return submission
    at, source, notes = submission_time(submission.path, root, entry_times)
    return replace(submission, submitted_at=at, submitted_from=source, notes=submission.notes + tuple(notes))


def _deduplicate(submissions, found):
    """A student id that appears twice gets a suffix, ' (2)', and the warnings and the rows say so."""
    seen, unique = Counter(), []
    for sub in submissions:
        seen[sub.student_id] += 1
        if seen[sub.student_id] > 1:
            renamed = f"{sub.student_id} ({seen[sub.student_id]})"
            what = sub.path.name if sub.path else sub.student_id
            found.warnings.append(f"two submissions are named {sub.student_id!r}: {what} is graded as {renamed!r}")
            note = f"for review: another submission is also named {sub.student_id!r}: this one is graded as {renamed!r}"
            sub = replace(sub, student_id=renamed, notes=sub.notes + (note,))
        unique.append(sub)
    return unique


def _owner(path):
    """(student id, Canvas name or None) of a path inside the folder: a top-level folder is its student's, a
    top-level file its own (Canvas's name, else its stem), as _entries tells them."""
    top = unicodedata.normalize("NFC", path.parts[0])
    if len(path.parts) > 1:
        return top, None
    canvas = canvas_name(top)
    return (canvas.student_id, canvas) if canvas else (unicodedata.normalize("NFC", PurePosixPath(top).stem) or top, None)


def _with_refused(submissions, refused):
    """submissions, where each file the download held but that was refused (too large, outside the folder, a link,
    encrypted: archive.py) is its student's row (with the reason), or a note on the student's row if they have one."""
    by_id = {s.student_id: s for s in submissions}
    for path, why in sorted(refused.items()):
        student_id, canvas = _owner(path)
        said = f"{path}: not graded: {why}"
        if student_id in by_id:
            by_id[student_id] = replace(by_id[student_id], notes=by_id[student_id].notes + (f"for review: {said}",))
        elif canvas is not None:
            by_id[student_id] = Submission(student_id, None, refused=said, submitted_from=CANVAS_NAME,
                                           lms_marks="LATE" if canvas.late else "", lms_id=canvas.user_id)  # fmt: skip
        else:
            by_id[student_id] = Submission(student_id, None, refused=said)
    return list(by_id.values())


def survey(folder, assignment, entry_times=None, refused=None):
    """The Survey of folder: its submissions (sorted by student id) and what was not graded, with why. refused: the
    download's entries that were not extracted (archive.Unpacked.refused), each its student's row all the same."""
    found, canvas, plain = Survey(), {}, []
    for student_id, entry, named in _entries(folder, found):
        if named and not entry.is_symlink() and entry.is_file():
            canvas.setdefault(student_id, []).append((entry, named))
        else:
            plain.append(_one(student_id, entry, assignment, found, entry_times))
    plain += [_canvas_submission(s, group, assignment, found) for s, group in canvas.items()]
    plain = _with_refused(plain, refused or {}) if refused else plain
    found.submissions = sorted(_deduplicate(sorted(plain, key=lambda s: (s.student_id, str(s.path))), found), key=lambda s: s.student_id)
    if found.junk:
        listing = ", ".join(f"{name} ({count})" for name, count in sorted(found.junk.items()))
        found.warnings.append(f"ignored, not submissions (system files): {listing}")
    return found


def discover(folder, assignment):
    """Submissions in folder, sorted by student id; a student id that appears twice gets a suffix."""
    return survey(folder, assignment).submissions
