"""OUT's final scores in the LMS's own grade-import format:

    python -m autograder export OUT --format canvas --roster ROSTER.csv --title "Real NVP" [--assignment-id N]
    python -m autograder export OUT --format moodle [--roster ROSTER.csv] --title "Real NVP" [--moodle-id username]

Canvas (its importer, canvas-lms app/models/gradebook_importer.rb, and the export it mirrors,
lib/gradebook_exporter.rb): a header `Student, ID, SIS User ID, SIS Login ID, Section` (the importer counts the
student columns from there and wants `Section` last), then the assignment's column, titled `Title (id)` to be
matched by id (Assignment.title_and_id: `/\\A(.*)\\s\\((\\d+)\\)\\z/`), else by its exact title (a new assignment if none
has it); a first data row whose first cell is `Points Possible`; then a row per student, matched by the importer
by ID, then SIS User ID, then SIS Login ID. Every other column would be imported as an assignment, so the raw
score stays in grades.csv. UTF-8: the importer reads UTF-8 and finds `Student` in the first header cell even
after a byte-order mark, which Canvas's own export adds only on request (--bom here, for Excel).

Moodle (grade/import/csv: classes/load_data.php, lib/csvlib.class.php): a header row, then one row per student
with an identifier column (mapped in the import form to username, idnumber or email), the grade and a feedback
column; quoted CSV, a byte-order mark trimmed. A row whose user Moodle does not find aborts the whole import, so
only matched students are written, and feedback is never written without its grade.

Students matched to no roster entry, and roster entries matched to no record, are listed; the exit code is then 1.
"""

import sys

from autograder.grader.core.ids import printable
from autograder.grader.core.record import is_awaiting, points_text
from autograder.grader.integrations.roster import CANVAS_TEST_STUDENT, Matching, match, read_roster
from autograder.grader.scoring.term import late_by

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_MATCH = ("id", "sis user id", "sis login id", "email")
MOODLE_COLUMNS = {"username": ("Username", "username"), "idnumber": ("ID number", "id number"), "email": ("Email address", "email address")}
MOODLE_MATCH = ("username", "id number", "email address")
MOODLE_NAME = ("first name", "last name", "surname")


def number(value):
    """A score as the LMS reads it: at most two decimals (Canvas shows two), no exponent, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def canvas_column(title, assignment_id=None):
    if assignment_id is not None and not str(assignment_id).isdigit():
        raise ValueError(f"--assignment-id {assignment_id!r}: Canvas's assignment ids are whole numbers (the number in its URL)")
    return f"{title} ({assignment_id})" if assignment_id is not None else title


def canvas_rows(matching, title, max_score, assignment_id=None):
    """The rows of Canvas's gradebook import CSV (header, Points Possible, one per matched student)."""
    rows = [[*CANVAS_COLUMNS, canvas_column(title, assignment_id)], ["Points Possible", "", "", "", "", number(max_score)]]
    for record, person in matching.pairs:
        rows.append([*(person.get(c.lower()) for c in CANVAS_COLUMNS), number(record.score)])
    return rows


def feedback_text(record):
    """The Moodle feedback for one student: the score, what changed it and why, in one line."""
    parts = [f"Autograded: {number(record.score)} / {number(record.max_score)} ({record.status})"]
    waiting = sum(t.max_points for t in record.tests if is_awaiting(t))
    if waiting:
        parts.append(f"written answers awaiting manual grading: {points_text(waiting)}")
    if record.late:
        parts.append(f"late ({late_by(record)})" + (f": penalty -{number(record.late_penalty)}" if record.late_penalty else ""))
    parts += [f"{o.test} set to {number(o.points)} by your instructor: {o.reason}" for o in record.overrides]
    if record.late_penalty or record.overrides:
        parts.append(f"tests before penalty: {number(record.raw_score)}")
    return "; ".join(parts)


def moodle_rows(matching, title, identifier):
    """The rows of Moodle's grade import CSV (header, one per matched student: identifier, grade, feedback)."""
    label, column = MOODLE_COLUMNS[identifier]
    rows = [[label, title, f"{title} (feedback)"]]
    for record, person in matching.pairs:
        rows.append([person.get(column) if person is not None else record.student_id, number(record.score), feedback_text(record)])
    return rows


def roster_matching(records, lms, roster=None, moodle_id="username"):
    """The Matching of records to the roster (Moodle without a roster: every record is its own identifier)."""
    if lms == "moodle" and not roster:
        return Matching(pairs=[(r, None) for r in records])
    required = ("student", "id") if lms == "canvas" else (MOODLE_COLUMNS[moodle_id][1],)
    people = read_roster(roster, required)
    skipped = [p for p in people if lms == "canvas" and p.get("student") == CANVAS_TEST_STUDENT]
    people = [p for p in people if p not in skipped]
    found = match(records, people, CANVAS_MATCH if lms == "canvas" else MOODLE_MATCH)
    found.skipped = skipped
    return found


def print_matching(found, lms, path):
    """Say who was skipped, unmatched or ambiguous, and what was written; 1 when anybody was left out, else 0."""
    names = ("student",) if lms == "canvas" else MOODLE_NAME
    for person in found.skipped:
        print(f"skipped {printable(person.label(names))}: Canvas's test student")
    for line in found.problems:
        print(f"problem: {printable(line)}", file=sys.stderr)
    for record in found.students:
        print(f"unmatched submission: {printable(record.student_id)} is on no roster line (not exported)", file=sys.stderr)
    for person in found.people:
        print(f"unmatched roster entry: {printable(person.label(names))} has no submission (not exported)", file=sys.stderr)
    print(f"wrote {path}: {len(found.pairs)} students")
    return 1 if found.students or found.people or found.problems else 0
