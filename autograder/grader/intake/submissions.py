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
    notebooks: tuple = ()  # (notebook name, path) of each notebook of a several-notebook assignment found by its name
    strays: tuple = ()  # the other notebook files of such a submission, to be matched by what they hold
    folder: Path | None = None  # the folder of the student's notebook, whose other files are the student's files

    def notebook_paths(self, names):
        """{notebook name: its file, or None} for the assignment's notebooks names."""
        if len(names) == 1:
            return {names[0]: self.path}
        found = dict(self.notebooks)
        return {name: found.get(name) for name in names}


@dataclass(frozen=True)
class Wanted:
    """What the survey looks for: the assignment's name, its notebooks' names, and its own files (paths relative to
    the notebook's folder, as released beside it): a student's copy of those is no file to warn about."""

    assignment: str | None = None
    notebooks: tuple = ()
    known: frozenset = frozenset()
    course: bool = False  # an nbgrader course's submitted/: a student submitted this assignment iff <student>/<assignment>/ exists

    @classmethod
    def for_assignment(cls, assignment, course=False):
        """What to look for to grade assignment (an Assignment), in a course's submitted/ or not."""
        known = {str(relative) for relative, _ in assignment.files}
        known |= {f"data/{p.name}" for nb in assignment.notebooks for p in nb.data_files()}
        return cls(assignment.name, assignment.notebook_names, frozenset(known), course)

    def single(self):
        return len(self.notebooks) <= 1


NBGRADER_FILES = (TIMESTAMP, "submission_secret.txt")  # what nbgrader's exchange writes beside a submission


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


def _notebook_to_grade(folder, files, wanted):
    """The notebook to grade among files: <assignment>/<notebook>.ipynb first, else the first notebook, else
    the first file (which then gets its 'not a notebook' row)."""
    name = wanted.notebooks[0] if wanted.notebooks else wanted.assignment
    preferred = folder / wanted.assignment / f"{name}.ipynb" if wanted.assignment and folder else None
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    if preferred in notebooks:
        return preferred
    return notebooks[0] if notebooks else (files[0] if files else None)


def _by_name(entry, files, wanted):
    """{notebook name: file} of the assignment's notebooks found in the folder entry by their file names:
    <assignment>/<notebook>.ipynb first, else the least deep <notebook>.ipynb."""
    found = {}
    for name in wanted.notebooks:
        candidates = sorted((p for p in files if p.name == f"{name}.ipynb"), key=lambda p: (len(p.parts), str(p)))
        preferred = entry / wanted.assignment / f"{name}.ipynb"
        if candidates:
            found[name] = preferred if preferred in candidates else candidates[0]
    return found


def _folder_submission(entry, student_id, wanted, found):
    files, odd = _walk(entry, found)
    for path in odd:
        found.warnings.append(f"{entry.name}/{path.parent.relative_to(entry)}: {_why_not_read(path)}".replace("/.:", ":"))
    files = [p for p in files if p.name not in NBGRADER_FILES]
    chosen = _notebook_to_grade(entry, files, wanted)
    if chosen is None and odd:
        return Submission(student_id, None, refused=f"the folder {entry.name}/ holds no file that can be read")
    if chosen is None:
        return Submission(student_id, None)  # an empty folder: its row says so
    if wanted.single():
        notes = _ungraded_notes(entry, [chosen], files, found, wanted)
        return Submission(student_id, chosen, notes=notes, folder=chosen.parent)
    named = _by_name(entry, files, wanted)
    strays = tuple(p for p in files if p.suffix == ".ipynb" and p not in named.values())
    notes = _ungraded_notes(entry, [*named.values(), *strays], files, found, wanted)
    first = next(iter(named.values()), strays[0] if strays else chosen)
    return Submission(student_id, first, notes=notes, notebooks=tuple(named.items()), strays=strays, folder=first.parent)


def _ungraded_notes(entry, graded, files, found, wanted):
    """Notes on the files not graded beside the graded ones in the folder entry (and a warning naming them); the
    assignment's own files (released beside the notebook) are not named."""
    where = lambda p: str(p.relative_to(entry))  # noqa: E731
    beside = lambda p: str(p.relative_to(graded[0].parent)) if graded[0].parent in p.parents else ""  # noqa: E731
    rest = [p for p in files if p not in graded and beside(p) not in wanted.known]
    if not rest:
        return ()
    found.warnings.append(f"{entry.name}/: graded {', '.join(map(where, graded))}; not graded: {', '.join(map(where, rest))}")
    second = [p for p in rest if p.suffix == ".ipynb"]
    if not second:
        return ()
    return (f"for review: {len(second) + len(graded)} notebooks in the folder: graded {', '.join(map(where, graded))}, "
            f"not {', '.join(map(where, second))}",)  # fmt: skip


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


def _canvas_submission(student_id, group, wanted, found):
    """One Canvas submission from the files of one student (Canvas names every file of a submission alike, and
    names a file handed in again <name>-1.ipynb)."""
    stem = lambda entry: Path(dict(group)[entry].file_name).stem.split("-")[0]  # noqa: E731
    files = [entry for entry, _ in group]
    notebooks = [entry for entry in files if entry.suffix == ".ipynb"]
    named = {}
    for name in wanted.notebooks if not wanted.single() else ():
        match = [e for e in notebooks if stem(e) == name]
        if match:
            named[name] = match[-1]  # Canvas's last copy: <name>-1 after <name>
    preferred = [e for e in notebooks if stem(e) in (wanted.notebooks[:1] or (wanted.assignment,))]
    chosen = next(iter(named.values()), preferred[0] if preferred else _notebook_to_grade(None, files, Wanted()))
    graded = list(named.values()) or [chosen]
    strays = tuple(e for e in notebooks if e not in graded) if not wanted.single() else ()
    canvas = dict(group)[chosen]
    rest = [entry.name for entry in files if entry not in graded]
    notes = ()
    if rest:
        found.warnings.append(f"{student_id}: graded {', '.join(e.name for e in graded)}; not graded: {', '.join(rest)}")
        if any(name.endswith(".ipynb") for name in rest):
            notes = (f"for review: {len(group)} files in the Canvas submission: graded {', '.join(e.name for e in graded)}, "
                     f"not {', '.join(rest)}",)  # fmt: skip
    marks = "LATE" if canvas.late else ""
    return Submission(student_id, chosen, notes, "", "", CANVAS_NAME, marks, canvas.user_id, tuple(named.items()), strays)


def _entry_submission(student_id, entry, wanted, found, entry_times):
    """The Submission of one top-level entry, with its submission time."""
    if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
        return Submission(student_id, None, refused=_why_not_read(entry))
    submission = _folder_submission(entry, student_id, wanted, found) if entry.is_dir() else Submission(student_id, entry)
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


def survey(folder, wanted, entry_times=None, refused=None):
    """The Survey of folder for wanted (a Wanted, or the assignment's name): its submissions (sorted by student id) and
    what was not graded, with why. refused: the download's entries that were not extracted (archive.Unpacked.refused),
    each its student's row all the same."""
    wanted = wanted if isinstance(wanted, Wanted) else Wanted(wanted)
    found, canvas, plain = Survey(), {}, []
    for student_id, entry, named in _entries(folder, found):
        if wanted.course and not (entry / wanted.assignment).is_dir():
            continue  # nbgrader's layout: this student submitted other assignments, not this one
        if named and not entry.is_symlink() and entry.is_file():
            canvas.setdefault(student_id, []).append((entry, named))
        else:
            plain.append(_entry_submission(student_id, entry, wanted, found, entry_times))
    plain += [_canvas_submission(s, group, wanted, found) for s, group in canvas.items()]
    plain = _with_refused(plain, refused or {}) if refused else plain
    found.submissions = sorted(_deduplicate(sorted(plain, key=lambda s: (s.student_id, str(s.path))), found), key=lambda s: s.student_id)
    if found.junk:
        listing = ", ".join(f"{name} ({count})" for name, count in sorted(found.junk.items()))
        found.warnings.append(f"ignored, not submissions (system files): {listing}")
    return found


def discover(folder, assignment):
    """Submissions in folder, sorted by student id; a student id that appears twice gets a suffix."""
    return survey(folder, assignment).submissions
