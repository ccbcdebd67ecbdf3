"""Answers graded by hand: their results until a person scores them, and the scores formgrader wrote into
OUT/gradebook.db folded into the records.

A manual answer is a TestResult with manual=True: 0 points and AWAITING until the gradebook holds a manual score
for it (Grade.manual_score, which formgrader sets), then that score and the grader's comment (Comment.manual_comment,
or GRADED when there is none). The gradebook is the one place a person's grading lives: `grade`, `merge` and
`report` fold it into the records whenever they write the reports (runs/outputs.py), a regrade keeps it (the gradebook
keeps manual scores across runs) and a merge carries it into the merged gradebook (carry_hand_grades).
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.grader.core.record import AWAITING, DECIDED, GRADED, NO_RESPONSE, UNREAD, TestResult
from autograder.grader.integrations.gradebook import api, gradebook_at


@dataclass(frozen=True)
class HandGrade:
    """What formgrader holds for one answer: the person's score and comment."""

    score: float
    comment: str = ""


def _per_cell(gb, assignment, table, *columns):
    """(student, grade_id, *columns) of every row of table (Grade or Comment) of assignment whose first column a
    person filled in: one query."""
    nb = api()
    return (
        gb.db.query(nb.SubmittedAssignment.student_id, nb.BaseCell.name, *columns)
        .join(nb.SubmittedNotebook, table.notebook_id == nb.SubmittedNotebook.id)
        .join(nb.SubmittedAssignment, nb.SubmittedNotebook.assignment_id == nb.SubmittedAssignment.id)
        .join(nb.Assignment, nb.SubmittedAssignment.assignment_id == nb.Assignment.id)
        .join(nb.BaseCell, table.cell_id == nb.BaseCell.id)
        .filter(nb.Assignment.name == assignment, columns[0].isnot(None))
        .all()
    )


def _scored_by_hand(gb, assignment):
    """(student, grade_id, manual score, extra credit) of every grade of assignment that a person scored: one query."""
    grade = api().Grade
    return _per_cell(gb, assignment, grade, grade.manual_score, grade.extra_credit)


def _comments(gb, assignment):
    """(student, grade_id) -> the grader's comment, for every comment of assignment a person wrote: one query."""
    comment = api().Comment
    return {(student, gid): text.strip() for student, gid, text in _per_cell(gb, assignment, comment, comment.manual_comment)}


def read_hand_grades(path, assignment):
    """(student -> grade_id -> HandGrade of each manual answer a person scored, notes) from the gradebook at path.

    The notes name what is not counted: a person's score on an autograded test (a test's points are the grader's;
    an override changes them) and extra credit on a written answer.
    """
    grades, notes = {}, []
    if not Path(path).is_file():
        return grades, notes
    manual, tests = set(assignment.manual_ids), {gid for gid, _ in assignment.tests}
    with gradebook_at(path) as gb:
        comments = _comments(gb, assignment.name)
        for student, gid, score, extra in _scored_by_hand(gb, assignment.name):
            if gid in manual:
                grades.setdefault(student, {})[gid] = HandGrade(float(score), comments.get((student, gid), ""))
                if extra:  # (an autograded cell's extra credit is the overrides', scoring/term.py)
                    notes.append(f"{student}: the extra credit on {gid} in the gradebook is not counted (use an override)")
            elif gid in tests:
                notes.append(f"{student}: the gradebook's manual score for the autograded test {gid} is not counted (use an override)")
    return grades, notes


def folded(test, grade, status):
    """test (a manual TestResult) with the person's grade, or without one: as the grader left it (decided: 0, never
    run or left as released), else pending again."""
    keep = {"manual": True, "notebook": test.notebook, "decided": test.decided}
    if grade is None:
        if status in UNREAD or test.decided:
            message = test.message if test.message != GRADED and (status in UNREAD or test.message in DECIDED) else NO_RESPONSE
            return TestResult(test.grade_id, 0.0, test.max_points, message, **keep)
        return TestResult(test.grade_id, 0.0, test.max_points, AWAITING, **keep)
    score = min(max(grade.score, 0.0), test.max_points)
    message = grade.comment or GRADED
    if score != grade.score:
        message += f" (scored {grade.score:g} of {test.max_points:g} in the gradebook: counted as {score:g})"
    return TestResult(test.grade_id, score, test.max_points, message, **keep)


def fold_hand_grades(gradebook_path, assignment, records):
    """Put the gradebook's manual scores into each record's manual results, in place; returns the records changed.

    Without a gradebook the records are left as they are (a person's grading lives only there).
    """
    if not records or not Path(gradebook_path).is_file():
        return []
    grades, notes = read_hand_grades(gradebook_path, assignment)
    changed = []
    for record in records:
        mine = grades.get(record.student_id, {})
        tests = [folded(t, mine.get(t.grade_id), record.status) if t.manual else t for t in record.tests]
        if tests != record.tests:
            record.tests = tests
            changed.append(record)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return changed


def carry_hand_grades(source_path, gb, assignment, students):
    """Copy the manual scores and comments of students' manual answers from the gradebook at source_path into gb
    (a merge's fresh gradebook), so that a person's grading survives the merge; returns how many were copied."""
    if not Path(source_path).is_file():
        return 0
    copied, grades = 0, read_hand_grades(source_path, assignment)[0]
    for student in students:
        for gid, grade in grades.get(student, {}).items():
            try:
                notebook = assignment.notebook_of(gid)
                target = gb.find_grade(gid, notebook, assignment.name, student)
                comment = gb.find_comment(gid, notebook, assignment.name, student)
            except api().MissingEntry:
                continue
            target.manual_score, target.needs_manual_grade = grade.score, False
            comment.manual_comment = grade.comment or None
            copied += 1
    gb.db.commit()
    return copied
