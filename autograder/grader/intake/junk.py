"""Files an LMS download or a student's folder holds that are nobody's submission: system metadata and checkpoints
(core/files.IGNORED) and hidden files. They are ignored, and the run's warnings list them once. Also the one rule for
which of a student's other files are staged beside their notebook (grade and check both stage by it)."""

from pathlib import Path

from autograder.grader.core.files import is_ignored

MAX_STUDENT_FILES = 1000  # a student's own files staged beside their notebook, at the most
MAX_STUDENT_FILES_BYTES = 100 * 2**20  # nbgrader's exchange refuses a file over 100 MB: so does the staging here


def is_junk(name: str) -> bool:
    """True for a file or folder name that is system metadata (dot files included), not a submission."""
    return is_ignored(name) or name.startswith(".")


def student_files(folder: str | Path, notebooks: set[Path] | frozenset = frozenset()) -> list[tuple[Path, Path]]:
    """(relative path, file) of the student's own files under folder, sorted, staged before the assignment's own
    (which win), as nbgrader's autograde stages them: no notebook of notebooks, no link, nothing but regular files, no
    junk (is_junk, in any folder of the path); the first MAX_STUDENT_FILES of them, MAX_STUDENT_FILES_BYTES in all."""
    staged, total = [], 0
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if path in notebooks or path.is_symlink() or not path.is_file() or any(is_junk(p) for p in relative.parts):
            continue
        total += path.stat().st_size
        if total > MAX_STUDENT_FILES_BYTES or len(staged) >= MAX_STUDENT_FILES:
            break
        staged.append((relative, path))
    return staged
