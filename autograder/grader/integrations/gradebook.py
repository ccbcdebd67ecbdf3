"""The nbgrader gradebook (OUT/gradebook.db), written by the batch's parent process only, one student at a time,
so that formgrader and `nbgrader export` work on the grader's results.

As nbgrader's own autograde does (preprocessors/saveautogrades.py), an autograded test's grade needs no manual
grading unless a person already scored it; an answer graded by hand needs it until a person scores it in
formgrader (which sets Grade.manual_score). The grader never writes a manual score: a rerun keeps a person's.
"""

import datetime
import functools
import os
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.grader.core.record import UNREAD
from autograder.grader.core.times import as_instant
from autograder.notebooks import grade_id, is_manual, is_solution, is_test, nbgrader_meta


def gradebook_at(path):
    """nbgrader's Gradebook of the SQLite file at path (created when missing)."""
    if not Path(path).is_file():
        _create(path)
    bin_dir = os.path.dirname(sys.executable)  # nbgrader runs the `alembic` command, installed beside python
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(f"sqlite:///{path}")


@functools.cache
def _schema_head():
    """The newest revision of nbgrader's gradebook schema, read in this process from nbgrader's own migrations."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


def _create(path):
    """A new, empty gradebook at path, as nbgrader's Gradebook makes one (its tables, stamped with the newest schema
    revision), without the `alembic` command nbgrader runs for the revision: a second of a subprocess per new OUT."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(bind=engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": _schema_head()})
    finally:
        engine.dispose()


def _declarations(exercise):
    """What the gradebook must hold of the exercise's notebook: {grade cell: (max score, type)}, {solution cells},
    {source cell: (type, locked, source)}, as nbgrader's generate_assignment declares them."""
    grades, solutions, sources = {}, set(), {}
    for cell in exercise.nb.cells:
        gid = grade_id(cell)
        if is_test(cell) or is_manual(cell):
            grades[gid] = (float(nbgrader_meta(cell)["points"]), cell.cell_type)
        if is_solution(cell):
            solutions.add(gid)
        if gid and (is_test(cell) or is_solution(cell) or nbgrader_meta(cell).get("locked")):
            sources[gid] = (cell.cell_type, not is_solution(cell), cell.source)
    return grades, solutions, sources


def _holds(gb, name, declarations):
    """True when the gradebook already declares exactly these cells of the notebook (a rerun then writes nothing)."""
    try:
        notebook = gb.find_notebook(name, name)
    except MissingEntry:
        return False
    held = (
        {c.name: (c.max_score, c.cell_type) for c in notebook.grade_cells},
        {c.name for c in notebook.solution_cells},
        {c.name: (c.cell_type, c.locked, c.source) for c in notebook.source_cells},
    )
    return held == declarations


def open_gradebook(path, exercise):
    """The gradebook at path with the exercise as assignment, its notebook and the master's cells declared."""
    gb = gradebook_at(path)
    name, declarations = exercise.name, _declarations(exercise)
    if _holds(gb, name, declarations):
        return gb
    gb.update_or_create_assignment(name)
    gb.update_or_create_notebook(name, name)
    grades, solutions, sources = declarations
    for gid, (points, cell_type) in grades.items():
        gb.update_or_create_grade_cell(gid, name, name, max_score=points, cell_type=cell_type)
    for gid in solutions:
        gb.update_or_create_solution_cell(gid, name, name)
    for gid, (cell_type, locked, source) in sources.items():
        gb.update_or_create_source_cell(gid, name, name, cell_type=cell_type, locked=locked, source=source)
    return gb


def record_grades(gb, name, record):
    """Insert or update one student's submission and auto scores from their Record (idempotent: a re-run changes nothing twice)."""
    with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy autoflush warnings, harmlessly
        warnings.simplefilter("ignore")
        gb.update_or_create_student(record.student_id)
        try:
            gb.find_submission(name, record.student_id)
        except MissingEntry:
            gb.add_submission(name, record.student_id)
    for test in record.tests:
        grade = gb.find_grade(test.grade_id, name, name, record.student_id)
        if not test.manual:  # nbgrader's rule: a test a person scored needs a look again, no other does
            grade.auto_score, grade.needs_manual_grade = test.points, grade.manual_score is not None
            continue
        # nothing a person could read scores 0, as nbgrader scores an answer left blank; else a person scores it
        grade.auto_score = 0.0 if record.status in UNREAD else None
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
    gb.db.commit()


def _utc_naive(text, zone):
    """nbgrader's gradebook keeps naive UTC times; a naive record time (a zip entry's) is read in zone."""
    return as_instant(text, zone).astimezone(datetime.UTC).replace(tzinfo=None)


def record_term(gb, name, records, deadlines=None):
    """The final-score layer in nbgrader's own fields, so that `nbgrader export` and formgrader show the final score:
    the due time (the assignment's duedate; a student's own one as their extension), the submission's timestamp,
    the late penalty (late_submission_penalty: nbgrader export's score is raw_score minus it), and each override
    as extra credit on its cell (the override minus the cell's score; an override of the total on the first test
    cell). Extra credit on autograded cells is this function's: the next report rewrites it."""
    zone = deadlines.default.due.tzinfo if deadlines is not None else datetime.UTC
    assignment = gb.find_assignment(name)
    cells = {cell.id: cell.name for cell in gb.find_notebook(name, name).grade_cells}  # one query, not one per grade
    assignment.duedate = _utc_naive(deadlines.default.due.isoformat(), zone) if deadlines is not None else None
    with gb.db.no_autoflush:  # one flush at the commit, not one before every query
        for record in records:
            _record_late_fields(gb, name, record, assignment.duedate, cells, zone)
    gb.db.commit()


def _record_late_fields(gb, name, record, class_due, cells, zone):
    try:
        submission = gb.find_submission(name, record.student_id)
    except MissingEntry:  # a record the gradebook has not seen (copied into OUT by hand): add it first
        record_grades(gb, name, record)
        submission = gb.find_submission(name, record.student_id)
    submission.timestamp = _utc_naive(record.submitted_at, zone) if record.submitted_at else None
    due = _utc_naive(record.due, zone) if record.due else None
    submission.extension = due - class_due if record.extension and due else None
    notebook = next(nb for nb in submission.notebooks if nb.name == name)
    notebook.late_submission_penalty = record.late_penalty
    _extra_credit({cells[g.cell_id]: g for g in notebook.grades}, record)


def _extra_credit(grades, record):
    """Each autograded cell's extra credit: its override less its score (the total's shift on the first cell)."""
    points = record.points()
    total = record.total_override()
    shift = total.points - (record.raw_score - record.late_penalty) if total is not None else 0.0
    for index, test in enumerate(record.tests):
        if getattr(test, "manual", False) and test.grade_id not in {o.test for o in record.overrides}:
            continue  # a manually graded cell's extra credit is formgrader's
        grade = grades[test.grade_id]
        base = grade.manual_score if grade.manual_score is not None else grade.auto_score or 0.0
        extra = points[test.grade_id] - base + (shift if index == 0 else 0.0)
        grade.extra_credit = round(extra, 6) or None
