"""Everything a class's OUT holds that is written from its records alone, after grading: grades.csv, report.html
(class_report.py), similarity.csv and similarity.html (similarity_report.py, from OUT/code).

`grade` and `merge` end here, and `python -m autograder report OUT` runs it again on an OUT whose records exist
(after a manual grading session in formgrader, say, after changing OUT/overrides.csv, or to rewrite what a newer
grader writes), so that every report of a class is written by one function from one list of records and none can
drift from another. It folds the scores a person gave the written answers in OUT/gradebook.db (integrations/hand_grades.py) into the
records, applies the final-score layer (scoring/term.py: deadlines, overrides) to them, and rewrites
the records, grades.csv, the feedback pages' scores, Gradescope's results, the gradebook's late fields and
OUT/warnings.txt: what was not graded (kept by `grade` in OUT/intake.json) and what the term names in vain.
"""

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from autograder.grader.core.assignment import Assignment, AssignmentError
from autograder.grader.core.files import write_atomic, write_if_changed
from autograder.grader.core.ids import printable
from autograder.grader.core.layout import (
    feedback_path,
    gradebook_path,
    in_course,
    links_prefix,
    read_records,
    record_path,
    results_path,
)
from autograder.grader.core.record import Record
from autograder.grader.integrations.formgrader import write_source
from autograder.grader.integrations.gradebook import open_gradebook, record_term
from autograder.grader.integrations.gradescope.results import results_json, test_titles
from autograder.grader.integrations.hand_grades import fold_hand_grades
from autograder.grader.reports.class_report import report_html
from autograder.grader.reports.feedback import refresh_feedback
from autograder.grader.reports.grades_csv import write_grades_csv
from autograder.grader.reports.html_page import Links
from autograder.grader.reports.similarity_report import write_similarity
from autograder.grader.runs.resolve import resolve_assignment
from autograder.grader.scoring.term import Term, apply_term, load_term, term_warnings

INTAKE = "intake.json"  # what `grade` found but did not grade, and why
WARNINGS = "warnings.txt"


def write_intake(out: str | Path, warnings: Iterable[str]) -> None:
    write_atomic(Path(out) / INTAKE, json.dumps({"warnings": list(warnings)}, ensure_ascii=False, indent=1))


def read_intake(out: str | Path) -> list[str]:
    """The warnings `grade` kept in OUT/intake.json ([] when there is none)."""
    try:
        return list(json.loads((Path(out) / INTAKE).read_text(encoding="utf-8"))["warnings"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _rewrite_student_files(out, assignment, record, titles, gradescope):
    write_if_changed(record_path(out, record.student_id), record.to_json())
    for name in assignment.notebook_names:
        page = feedback_path(out, record.student_id, assignment.name, name)
        if page.is_file():
            refresh_feedback(page, record, assignment.title, assignment.rubrics, name, assignment.notebook_names)
    result = results_path(out, record.student_id)
    if gradescope or result.is_file():
        write_if_changed(result, results_json(record, titles))


def class_grades(out: str | Path, assignment: Assignment, records: list[Record], term: Term | None = None) -> Term:
    """The records' final scores, in place: the scores a person gave the written answers in OUT/gradebook.db folded in,
    then term (default: OUT's kept deadlines and overrides) applied; returns the term. What every report and export
    of a class starts from. TableError when a kept CSV has a problem."""
    term = term if term is not None else load_term(Path(out), assignment)
    fold_hand_grades(gradebook_path(out), assignment, records)
    for record in records:
        apply_term(record, term)
    return term


def write_outputs(
    out: str | Path,
    assignment: Assignment,
    records: list[Record],
    term: Term | None = None,
    gradescope: bool = False,
    similarity: bool = True,
) -> list[Path]:
    """Apply term (default: OUT's kept deadlines and overrides) to records, then write grades.csv and every other
    class-level report into out (Gradescope's results for every student with gradescope, else where one exists;
    similarity.csv and .html unless not similarity; report.html); returns the paths written, the class report last.
    assignment: the Assignment graded. TableError when a kept CSV has a problem."""
    out = Path(out)
    term = class_grades(out, assignment, records, term)
    titles = test_titles(assignment)
    for record in records:
        _rewrite_student_files(out, assignment, record, titles, gradescope)
    grades = out / "grades.csv"
    write_grades_csv(grades, records, [gid for gid, _ in assignment.tests] + list(assignment.manual_ids))
    write_source(out, assignment)
    if gradebook_path(out).is_file() and records:
        gb = open_gradebook(gradebook_path(out), assignment)
        record_term(gb, assignment, records, term.deadlines, clear_due=not in_course(out))
        gb.close()
    warnings = read_intake(out) + term_warnings(records, term)
    write_atomic(out / WARNINGS, "".join(f"{line}\n" for line in warnings))
    write_atomic(out / "report.html", report_html(assignment, records, Links.of(assignment, links_prefix(out))))
    compared = write_similarity(out, assignment, records) if similarity else []  # last: the grades come first
    return [grades, out / WARNINGS, *compared, out / "report.html"]


def print_warnings(out: str | Path, file: TextIO = sys.stderr) -> None:
    """Print OUT/warnings.txt, one 'warning:' line each (nothing when there is none)."""
    path = Path(out) / WARNINGS
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in lines:
        print(f"warning: {printable(line)}", file=file)
    if lines:
        print(f"(kept in {path})", file=file)


def closing_lines(out: str | Path, similarity: bool = True) -> str:
    """What the terminal summary of grade, merge and report ends with: where the class's pages are."""
    out = Path(out)
    return (f"similarity: {out / 'similarity.html'}\n" if similarity else "") + f"class report: {out / 'report.html'}"


def read_graded_class(out: Path, assignment: str | None = None) -> tuple[Assignment, list[Record], list[str]]:
    """(assignment, records, problems) of OUT's records; AssignmentError when OUT holds no graded class."""
    if not (out / "records").is_dir():
        raise AssignmentError(f"{out} has no records/ folder: not the OUT of a `grade` or `merge` run")
    records, problems = read_records(out)
    return resolve_assignment(assignment, records=records, out=out), records, problems
