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

from autograder.grader.core.record import UNREAD
from autograder.grader.core.times import as_instant
from autograder.notebooks import grade_id, is_manual, is_solution, is_task, is_test, nbgrader_meta


def api():
    """nbgrader.api, imported when a gradebook is first opened: importing nbgrader loads its server extensions (most
    of a second), which a run that writes no gradebook (an empty class, a report of no record) never needs."""
    import nbgrader.api

    return nbgrader.api


def gradebook_at(path):
    """nbgrader's Gradebook of the SQLite file at path (created when missing)."""
    if not Path(path).is_file():
        _create(path)
    bin_dir = os.path.dirname(sys.executable)  # nbgrader runs the `alembic` command, installed beside python
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return api().Gradebook(f"sqlite:///{path}")


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


def _declarations(notebook):
    """What the gradebook must hold of one notebook: {grade cell: (max score, type)}, {task cell: (max score, type)},
    {solution cells}, {source cell: (type, locked, source)}, as nbgrader's generate_assignment declares them."""
    grades, tasks, solutions, sources = {}, {}, set(), {}
    for cell in notebook.nb.cells:
        gid = grade_id(cell)
        if is_task(cell):
            tasks[gid] = (float(nbgrader_meta(cell)["points"]), cell.cell_type)
        elif is_test(cell) or is_manual(cell):
            grades[gid] = (float(nbgrader_meta(cell)["points"]), cell.cell_type)
        if is_solution(cell):
            solutions.add(gid)
        if gid and (is_test(cell) or is_solution(cell) or is_task(cell) or nbgrader_meta(cell).get("locked")):
            sources[gid] = (cell.cell_type, not is_solution(cell), cell.source)
    return grades, tasks, solutions, sources


def _holds(gb, assignment, notebook, declarations):
    """True when the gradebook already declares exactly these cells of the notebook (a rerun then writes nothing)."""
    try:
        held = gb.find_notebook(notebook, assignment)
    except api().MissingEntry:
        return False
    return declarations == (
        {c.name: (c.max_score, c.cell_type) for c in held.grade_cells},
        {c.name: (c.max_score, c.cell_type) for c in held.task_cells},
        {c.name for c in held.solution_cells},
        {c.name: (c.cell_type, c.locked, c.source) for c in held.source_cells},
    )


def _declare(gb, assignment, notebook, declarations):
    grades, tasks, solutions, sources = declarations
    gb.update_or_create_notebook(notebook, assignment)
    for gid, (points, cell_type) in grades.items():
        gb.update_or_create_grade_cell(gid, notebook, assignment, max_score=points, cell_type=cell_type)
    for gid, (points, cell_type) in tasks.items():
        gb.update_or_create_task_cell(gid, notebook, assignment, max_score=points, cell_type=cell_type)
    for gid in solutions:
        gb.update_or_create_solution_cell(gid, notebook, assignment)
    for gid, (cell_type, locked, source) in sources.items():
        gb.update_or_create_source_cell(gid, notebook, assignment, cell_type=cell_type, locked=locked, source=source)


def open_gradebook(path, assignment):
    """The gradebook at path with the Assignment declared: its
    notebooks and their cells, as nbgrader's generate_assignment declares them. What it holds already (an nbgrader
    course's gradebook: students, due date, other assignments) is kept."""
    gb = gradebook_at(path)
    wanted = [(nb.name, _declarations(nb)) for nb in assignment.notebooks]
    if all(_holds(gb, assignment.name, name, declared) for name, declared in wanted):
        return gb
    gb.update_or_create_assignment(assignment.name)
    for name, declared in wanted:
        _declare(gb, assignment.name, name, declared)
    return gb


def _notebook(assignment, test):
    """The notebook of the assignment (its name, or an Assignment) that a test belongs to."""
    if test.notebook:
        return test.notebook
    return assignment if isinstance(assignment, str) else assignment.notebooks[0].name


def record_grades(gb, assignment, record):
    """Insert or update one student's submission and auto scores from their Record, in the assignment (its name, or
    an Assignment); idempotent: a re-run changes nothing twice."""
    name = assignment if isinstance(assignment, str) else assignment.name
    with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy autoflush warnings, harmlessly
        warnings.simplefilter("ignore")
        gb.update_or_create_student(record.student_id)
        try:
            gb.find_submission(name, record.student_id)
        except api().MissingEntry:
            gb.add_submission(name, record.student_id)
    for test in record.tests:
        grade = gb.find_grade(test.grade_id, _notebook(assignment, test), name, record.student_id)
        if not test.manual:  # nbgrader's rule: a test a person scored needs a look again, no other does
            grade.auto_score, grade.needs_manual_grade = test.points, grade.manual_score is not None
            continue
        # nothing a person could read scores 0, as nbgrader scores an answer left blank; else a person scores it
        grade.auto_score = 0.0 if record.status in UNREAD or test.decided else None
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
    gb.db.commit()


def _utc_naive(text, zone):
    """nbgrader's gradebook keeps naive UTC times; a naive record time (a zip entry's) is read in zone."""
    return as_instant(text, zone).astimezone(datetime.UTC).replace(tzinfo=None)


def record_term(gb, assignment, records, deadlines=None, clear_due=True):
    """The final-score layer in nbgrader's own fields, so that `nbgrader export` and formgrader show the final score:
    the due time (the assignment's duedate; a student's own one as their extension), the submission's timestamp,
    the late penalty (late_submission_penalty, on the first notebook: nbgrader export's score is raw_score minus
    the notebooks' penalties), and each override as extra credit on its cell (the override minus the cell's score;
    an override of the total on the first test cell). Extra credit on autograded cells is this function's: the next
    report rewrites it. Without deadlines the due date is cleared, unless not clear_due (a course's gradebook,
    whose due date nbgrader's own tools may have set)."""
    name = assignment if isinstance(assignment, str) else assignment.name
    zone = deadlines.default.due.tzinfo if deadlines is not None else datetime.UTC
    held = gb.find_assignment(name)
    cells = {c.id: c.name for nb in held.notebooks for c in [*nb.grade_cells, *nb.task_cells]}  # one query, not one per grade
    if deadlines is not None:
        held.duedate = _utc_naive(deadlines.default.due.isoformat(), zone)
    elif clear_due:
        held.duedate = None
    with gb.db.no_autoflush:  # one flush at the commit, not one before every query
        for record in records:
            _record_late_fields(gb, assignment, record, held.duedate, cells, zone)
    gb.db.commit()


def _record_late_fields(gb, assignment, record, class_due, cells, zone):
    name = assignment if isinstance(assignment, str) else assignment.name
    try:
        submission = gb.find_submission(name, record.student_id)
    except api().MissingEntry:  # a record the gradebook has not seen (copied into OUT by hand): add it first
        record_grades(gb, assignment, record)
        submission = gb.find_submission(name, record.student_id)
    submission.timestamp = _utc_naive(record.submitted_at, zone) if record.submitted_at else None
    due = _utc_naive(record.due, zone) if record.due else None
    submission.extension = due - class_due if record.extension and due and class_due else None
    notebooks = list(submission.notebooks)
    first = _notebook(assignment, record.tests[0]) if record.tests else notebooks[0].name
    for notebook in notebooks:  # the whole penalty on one notebook: nbgrader subtracts each notebook's from the total
        notebook.late_submission_penalty = record.late_penalty if notebook.name == first else None
    _extra_credit({(nb.name, cells[g.cell_id]): g for nb in notebooks for g in nb.grades}, record, assignment)


def _extra_credit(grades, record, assignment):
    """Each autograded cell's extra credit: its override less its score (the total's shift on the first cell)."""
    points = record.points()
    total = record.total_override()
    shift = total.points - (record.raw_score - record.late_penalty) if total is not None else 0.0
    for index, test in enumerate(record.tests):
        if getattr(test, "manual", False) and test.grade_id not in {o.test for o in record.overrides}:
            continue  # a manually graded cell's extra credit is formgrader's
        grade = grades[(_notebook(assignment, test), test.grade_id)]
        base = grade.manual_score if grade.manual_score is not None else grade.auto_score or 0.0
        extra = points[test.grade_id] - base + (shift if index == 0 else 0.0)
        grade.extra_credit = round(extra, 6) or None
