"""OUT's layout: where each file of a graded class lives, and the one way a record is read back.

    OUT/records/<student>.json     the student's Record: a record on disk means the student is graded
    OUT/code/<student>.json        what the student wrote, for the similarity check
    OUT/feedback/<student>.html    the student's feedback page
    OUT/results/<student>.json     Gradescope's results.json (with --gradescope)
    OUT/autograded/<student>/<assignment>/<assignment>.ipynb   the graded notebook, where formgrader looks
    OUT/source/<assignment>/<assignment>.ipynb                 the master as nbgrader's source notebook
    OUT/gradebook.db               nbgrader's gradebook
    OUT/grades.csv, report.html, similarity.csv, similarity.html, warnings.txt, intake.json, shard.json

<student> is safe_name(student id) (core/ids.py).
"""

from pathlib import Path
from urllib.parse import quote

from autograder.grader.core.ids import safe_name
from autograder.grader.core.record import Record

GRADEBOOK, GRADES, INTAKE, WARNINGS = "gradebook.db", "grades.csv", "intake.json", "warnings.txt"


def record_path(out, student_id):
    return Path(out) / "records" / f"{safe_name(student_id)}.json"


def code_path(out, student_id):
    return Path(out) / "code" / f"{safe_name(student_id)}.json"


def feedback_path(out, student_id):
    return Path(out) / "feedback" / f"{safe_name(student_id)}.html"


def feedback_link(student_id):
    """The feedback page's URL relative to OUT, as the class's pages link to it."""
    return "feedback/" + quote(f"{safe_name(student_id)}.html")


def results_path(out, student_id):
    return Path(out) / "results" / f"{safe_name(student_id)}.json"


def autograded_path(out, student_id, assignment):
    """Where formgrader looks for the student's graded notebook."""
    return Path(out) / "autograded" / safe_name(student_id) / assignment / f"{assignment}.ipynb"


def source_path(out, assignment):
    """Where formgrader looks for the assignment's source notebook."""
    return Path(out) / "source" / assignment / f"{assignment}.ipynb"


def record_files(out):
    """The record files in OUT, sorted by name."""
    return sorted((Path(out) / "records").glob("*.json"))


def read_record(path):
    """The Record in the file at path; OSError or ValueError when it cannot be read."""
    return Record.from_json(Path(path).read_text(encoding="utf-8"))


def load_record(out, student_id):
    """The student's Record in OUT, or None when there is none or it cannot be read (then they are graded again)."""
    try:
        return read_record(record_path(out, student_id))
    except (OSError, ValueError):
        return None


def read_records(out):
    """(records sorted by student id, problems): each unreadable file in OUT/records is a problem, not a stop."""
    records, problems = [], []
    for path in record_files(out):
        try:
            records.append(read_record(path))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: cannot be read ({error})")
    return sorted(records, key=lambda r: r.student_id), problems
