"""The nbgrader gradebook (OUT/gradebook.db), written by the batch's parent process only, one student at a time,
so that formgrader and `nbgrader export` work on the grader's results.

As nbgrader's own autograde does (preprocessors/saveautogrades.py), an autograded test's grade needs no manual
grading unless a person already scored it; an answer graded by hand needs it until a person scores it in
formgrader (which sets Grade.manual_score). The grader never writes a manual score: a rerun keeps a person's.
"""

import os
import sys
import warnings

from nbgrader.api import Gradebook, MissingEntry

from autograder.grader.manual import UNREAD
from autograder.notebooks import grade_id, is_manual, is_solution, is_test, nbgrader_meta


def open_gradebook(path, exercise):
    """The gradebook at path with the exercise as assignment, its notebook and the master's cells declared."""
    bin_dir = os.path.dirname(sys.executable)  # nbgrader runs the `alembic` command, installed beside python
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    gb = Gradebook(f"sqlite:///{path}")
    name = exercise.name
    gb.update_or_create_assignment(name)
    gb.update_or_create_notebook(name, name)
    for cell in exercise.nb.cells:
        gid = grade_id(cell)
        if is_test(cell) or is_manual(cell):
            points = float(nbgrader_meta(cell)["points"])
            gb.update_or_create_grade_cell(gid, name, name, max_score=points, cell_type=cell.cell_type)
        if is_solution(cell):
            gb.update_or_create_solution_cell(gid, name, name)
        if gid and (is_test(cell) or is_solution(cell) or nbgrader_meta(cell).get("locked")):
            gb.update_or_create_source_cell(
                gid, name, name, cell_type=cell.cell_type, locked=not is_solution(cell), source=cell.source
            )
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
