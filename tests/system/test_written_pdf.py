"""Written answers graded where the course grades: a PDF of a notebook's written answers, a page per question titled
with it, read back with pdftotext (check --pdf for one notebook, grade --written-pdfs for a class)."""

import os
import shutil
import subprocess

import nbformat
import pytest

from autograder import REPO
from autograder.course.examples import EXAMPLES
from autograder.grader.core.layout import autograded_path
from autograder.grader.core.masters import notebook_named
from autograder.grader.core.record import Record, TestResult
from autograder.grader.reports.written_pdf import CHROMIUM, answers_of, questions, written_html
from autograder.grader.runs.written import write_class_pdfs

pytestmark = pytest.mark.browser  # Chromium prints the PDFs


@pytest.fixture(scope="module", autouse=True)
def tools():
    missing = [tool for tool, found in (("chromium", os.path.exists(CHROMIUM)), ("pdftotext", shutil.which("pdftotext"))) if not found]
    if missing:
        message = f"{', '.join(missing)} not found: run scripts/install-browser.sh and scripts/install-pdf-tools.sh"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)


def _pages(pdf):
    """The text of each page of pdf."""
    count = int(
        next(
            line.split()[-1]
            for line in subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    return [
        subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        for n in range(1, count + 1)
    ]


def _flat(text):
    return " ".join(text.split())


def test_check_pdf_puts_each_written_answer_on_its_own_question_s_page(tmp_path):
    pdf = tmp_path / "written.pdf"
    example = EXAMPLES / "realnvp" / "ada_correct.ipynb"
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "autograder", "check", str(example), "--pdf", str(pdf)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    exercise = notebook_named("realnvp")
    asked = questions(exercise)
    pages = _pages(pdf)
    answers = answers_of(nbformat.read(EXAMPLES / "realnvp" / "ada_correct.ipynb", as_version=4), exercise)
    assert len(pages) >= len(asked) == 2
    for number, (gid, _, _) in enumerate(asked):
        page = _flat(pages[number])
        assert f"Question {number + 1}:" in page and gid in page
        words = [w for w in answers[gid].split() if w.isalpha() and len(w) > 6][:5]  # prose, not maths (drawn as SVG)
        assert words and all(w in page for w in words), (gid, words)


def test_a_blank_answer_says_no_answer(tmp_path):
    exercise = notebook_named("realnvp_digits")
    released = nbformat.read(REPO / "notebooks" / "realnvp_digits.ipynb", as_version=4)
    html = written_html(exercise, answers_of(released, exercise))
    assert html.count("no answer") == len(questions(exercise)) >= 2


def test_grade_writes_one_pdf_per_student_with_written_answers(tmp_path):
    out = tmp_path / "out"
    exercise = notebook_named("realnvp")
    records = []
    for student, source in (("ada", EXAMPLES / "realnvp" / "ada_correct.ipynb"), ("bo", REPO / "notebooks" / "realnvp.ipynb")):
        path = autograded_path(out, student, "realnvp")
        path.parent.mkdir(parents=True)
        shutil.copy(source, path)
        manual = [TestResult(m.grade_id, 0.0, m.points, "awaiting manual grading", manual=True) for m in exercise.manual]
        records.append(Record(student, "ok", "", manual, assignment="realnvp"))
    records.append(Record("cleo", "not a notebook", "broken", [], assignment="realnvp"))  # nothing ran: no PDF
    written = write_class_pdfs(out, records)
    assert sorted(p.name for p in written) == ["ada.pdf", "bo.pdf"]
    assert all("no answer" in _flat(page) for page in _pages(out / "written" / "bo.pdf"))
    assert not any("no answer" in _flat(page) for page in _pages(out / "written" / "ada.pdf"))
