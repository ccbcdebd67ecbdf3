"""Each student's written answers as a PDF (OUT/written/<student>.pdf), from the graded notebooks formgrader reads."""

from pathlib import Path

import nbformat

from autograder.grader.core.ids import safe_name
from autograder.grader.core.layout import autograded_path
from autograder.grader.core.masters import assignment_named
from autograder.grader.core.record import Record
from autograder.grader.reports.written_pdf import answers_of, write_pdfs, written_html


def _unescaped(answers):
    """The answers as the student wrote them: formgrader's copy escaped the start of raw HTML tags."""
    return {gid: None if text is None else text.replace("&lt;", "<") for gid, text in answers.items()}


def write_class_pdfs(out: str | Path, records: list[Record]) -> list[Path]:
    """OUT/written/<student>.pdf for every record whose notebook ran and has questions graded by hand; the paths."""
    pages = []
    for record in records:
        if not any(t.manual for t in record.tests):
            continue
        assignment = assignment_named(record.assignment)
        for notebook in assignment.notebooks:
            path = autograded_path(out, record.student_id, assignment.name, notebook.name)
            if not notebook.manual or not path.is_file():
                continue
            answers = _unescaped(answers_of(nbformat.read(path, as_version=4), notebook))
            suffix = "" if len(assignment.notebooks) == 1 else f"-{notebook.name}"
            target = Path(out) / "written" / f"{safe_name(record.student_id)}{suffix}.pdf"
            pages.append((target, written_html(notebook, answers, record.student_id)))
    return write_pdfs(pages) if pages else []
