"""OUT's layout: where each file of a graded class lives, and the one way a record is read back.

    OUT/records/<student>.json     the student's Record: a record on disk means the student is graded
    OUT/code/<student>.json        what the student wrote, for the similarity check
    OUT/results/<student>.json     Gradescope's results.json (with --gradescope)
    OUT/grades.csv, report.html, similarity.csv, similarity.html, warnings.txt, intake.json, shard.json

and, in nbgrader's own course directory layout, where nbgrader's tools look for them (formgrader, export,
release_feedback):

    COURSE/feedback/<student>/<assignment>/<notebook>.html    the student's feedback, a page per notebook
    COURSE/autograded/<student>/<assignment>/<notebook>.ipynb  each graded notebook
    COURSE/source/<assignment>/<notebook>.ipynb                each notebook's source
    COURSE/gradebook.db            nbgrader's gradebook

COURSE is OUT itself, unless `grade --course COURSE` graded the class of an nbgrader course directory: then
OUT/assignment.json names it, for every later `report`, `export` and `merge`. <student> is safe_name(student id) (core/ids.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from autograder.grader.core.files import write_if_changed
from autograder.grader.core.ids import safe_name
from autograder.grader.core.record import Record

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Assignment

GRADEBOOK, GRADES, INTAKE, WARNINGS, ORIGIN = "gradebook.db", "grades.csv", "intake.json", "warnings.txt", "assignment.json"


def origin(out: str | Path) -> dict:
    """What OUT/assignment.json says of the class's assignment: {name, source, course} ({} when there is none: an OUT
    of an older grader, or of a master named by its name alone)."""
    try:
        data = json.loads((Path(out) / ORIGIN).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_origin(out: str | Path, assignment: Assignment, course: str | Path | None = None) -> None:
    """OUT/assignment.json: the assignment's name, its source (a master or an nbgrader source folder) and the course
    directory it was graded in, for every later report, export and merge of OUT."""
    data: dict[str, str | None] = {"name": assignment.name, "source": str(Path(assignment.source).resolve())}
    data["course"] = str(Path(course).resolve()) if course else None
    write_if_changed(Path(out) / ORIGIN, json.dumps(data, ensure_ascii=False, indent=1))


def course_root(out: str | Path) -> Path:
    """The nbgrader course directory of OUT's class: the course OUT/assignment.json names, else OUT itself."""
    course = origin(out).get("course")
    return Path(course) if course else Path(out)


def in_course(out: str | Path) -> bool:
    """True when OUT's nbgrader files live in a course directory of their own (grade --course)."""
    return course_root(out).resolve() != Path(out).resolve()


def gradebook_path(out: str | Path) -> Path:
    return course_root(out) / GRADEBOOK


def record_path(out: str | Path, student_id: str) -> Path:
    return Path(out) / "records" / f"{safe_name(student_id)}.json"


def code_path(out: str | Path, student_id: str) -> Path:
    return Path(out) / "code" / f"{safe_name(student_id)}.json"


def feedback_path(out: str | Path, student_id: str, assignment: str, notebook: str) -> Path:
    """The student's feedback page of one notebook, where nbgrader's release_feedback looks for it."""
    return course_root(out) / "feedback" / safe_name(student_id) / assignment / f"{notebook}.html"


def feedback_link(student_id: str, assignment: str, notebook: str, prefix: str = "") -> str:
    """The feedback page's URL from a page in OUT (prefix: the way from OUT to the course, links_prefix(out))."""
    return prefix + f"feedback/{quote(safe_name(student_id))}/{quote(assignment)}/{quote(notebook)}.html"


def links_prefix(out: str | Path) -> str:
    """What a page in OUT puts before feedback/...: "" when the course is OUT, else the relative way to it."""
    return "" if not in_course(out) else quote(os.path.relpath(course_root(out), Path(out))) + "/"


def results_path(out: str | Path, student_id: str) -> Path:
    return Path(out) / "results" / f"{safe_name(student_id)}.json"


def autograded_path(out: str | Path, student_id: str, assignment: str, notebook: str | None = None) -> Path:
    """Where formgrader looks for the student's graded notebook (notebook: its name, default the assignment's)."""
    return course_root(out) / "autograded" / safe_name(student_id) / assignment / f"{notebook or assignment}.ipynb"


def source_path(out: str | Path, assignment: str, notebook: str | None = None) -> Path:
    """Where formgrader looks for a notebook's source (notebook: its name, default the assignment's)."""
    return course_root(out) / "source" / assignment / f"{notebook or assignment}.ipynb"


def record_files(out: str | Path) -> list[Path]:
    """The record files in OUT, sorted by name."""
    return sorted((Path(out) / "records").glob("*.json"))


def read_record(path: str | Path) -> Record:
    """The Record in the file at path; OSError or ValueError when it cannot be read."""
    return Record.from_json(Path(path).read_text(encoding="utf-8"))


def load_record(out: str | Path, student_id: str) -> Record | None:
    """The student's Record in OUT, or None when there is none or it cannot be read (then they are graded again)."""
    try:
        return read_record(record_path(out, student_id))
    except (OSError, ValueError):
        return None


def read_records(out: str | Path) -> tuple[list[Record], list[str]]:
    """(records sorted by student id, problems): each unreadable file in OUT/records is a problem, not a stop."""
    records, problems = [], []
    for path in record_files(out):
        try:
            records.append(read_record(path))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: cannot be read ({error})")
    return sorted(records, key=lambda r: r.student_id), problems
