"""Feedback that nbgrader's exchange can release: `grade --course` writes each student's pages where
`nbgrader release_feedback` looks, with the secret of the submission they were graded from, so that the student's
fetch finds them; a regrade (an override, here) rewrites them and a second release replaces the released copy, the
name (a hash of the secret and the notebook) unchanged: the student's next fetch shows the new version. Without a
hub: nbgrader's own release_feedback, on a course directory whose submitted/ holds what nbgrader's collect leaves."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

FILES = Path(nbgrader.__file__).parent / "tests" / "apps" / "files"
SECRET = "4d6f2a" * 21 + "ab"  # 128 hex characters, no newline: as nbgrader's submit writes it
TIMESTAMP = "2026-03-14 10:00:00.000000 UTC"


def _run(*command, cwd=REPO):
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    done = subprocess.run([sys.executable, *map(str, command)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _release(course, exchange):
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o777)  # nbgrader's exchange root is world-writable
    _run("-m", "nbgrader", "release_feedback", "ps1", f"--CourseDirectory.root={course}", f"--Exchange.root={exchange}",
         "--CourseDirectory.course_id=course101", "--log-level=WARN", cwd=course)  # fmt: skip
    return exchange / "course101" / "feedback" / (hashlib.md5((SECRET + "p1").encode()).hexdigest() + ".html")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory with one assignment (nbgrader's test.ipynb as p1) and one student's collected submission."""
    root = tmp_path_factory.mktemp("course")
    (root / "source" / "ps1").mkdir(parents=True)
    shutil.copy(FILES / "test.ipynb", root / "source" / "ps1" / "p1.ipynb")
    submitted = root / "submitted" / "ann" / "ps1"
    submitted.mkdir(parents=True)
    shutil.copy(FILES / "test.ipynb", submitted / "p1.ipynb")
    (submitted / "timestamp.txt").write_text(TIMESTAMP)
    (submitted / "submission_secret.txt").write_text(SECRET)
    nbformat.validate(nbformat.read(submitted / "p1.ipynb", as_version=4))
    return root


def test_the_pages_grade_writes_are_released_under_the_submissions_secret_and_a_regrade_replaces_them(course, tmp_path):
    out, exchange = tmp_path / "out", tmp_path / "exchange"
    _run("-m", "autograder", "grade", "--course", course, "--assignment", "ps1", "--out", out, "--quiet", "--workers", "1")
    pages = course / "feedback" / "ann" / "ps1"
    assert (pages / "submission_secret.txt").read_text() == SECRET and (pages / "timestamp.txt").read_text() == TIMESTAMP
    released = _release(course, exchange)
    first = released.read_text(encoding="utf-8")
    assert "feedback for ann" in first and first == (pages / "p1.html").read_text(encoding="utf-8")

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,test,points,reason\nann,total,2.5,resubmitted after a grading mistake\n", encoding="utf-8")
    _run("-m", "autograder", "report", out, "--overrides", overrides)
    assert "resubmitted after a grading mistake" in (pages / "p1.html").read_text(encoding="utf-8")
    assert _release(course, exchange) == released  # the same name: the student's fetch replaces their copy
    again = released.read_text(encoding="utf-8")
    assert again != first and "resubmitted after a grading mistake" in again and "Score: <b>2.5 / " in again


def test_a_regrade_of_a_newer_submission_drops_the_old_secret(course, tmp_path):
    """The student submits again without a secret (by hand, say): the pages must not keep the first submission's."""
    out = tmp_path / "out"
    (course / "submitted" / "ann" / "ps1" / "submission_secret.txt").unlink()
    try:
        _run("-m", "autograder", "grade", "--course", course, "--assignment", "ps1", "--out", out, "--quiet", "--force", "--workers", "1")
        assert not (course / "feedback" / "ann" / "ps1" / "submission_secret.txt").exists()
    finally:
        (course / "submitted" / "ann" / "ps1" / "submission_secret.txt").write_text(SECRET)


def test_check_runs_a_plain_nbgrader_notebook_with_its_visible_tests(course):
    done = _run("-m", "autograder", "check", course / "submitted" / "ann" / "ps1" / "p1.ipynb", "--course", course, "--assignment", "ps1")
    assert "checking" in done.stdout and "(ps1, p1)" in done.stdout and "PASSED" in done.stdout and "FAILED" not in done.stdout
    assert "MissingIDFieldWarning" not in done.stderr


def test_a_resubmission_of_the_same_notebook_gets_its_new_secret_without_a_regrade(course, tmp_path):
    """nbgrader's collect --update brings the same notebook with a new secret: the kept record's pages take it, so
    that the student's next fetch (which looks for the new secret's hash) finds them."""
    out, secret = tmp_path / "out", course / "submitted" / "ann" / "ps1" / "submission_secret.txt"
    _run("-m", "autograder", "grade", "--course", course, "--assignment", "ps1", "--out", out, "--quiet", "--workers", "1")
    graded_at = (out / "records" / "ann.json").stat().st_mtime_ns
    secret.write_text("ef" * 64)
    try:
        _run("-m", "autograder", "grade", "--course", course, "--assignment", "ps1", "--out", out, "--quiet", "--workers", "1")
        assert (out / "records" / "ann.json").stat().st_mtime_ns == graded_at  # not graded again: the same notebook
        assert (course / "feedback" / "ann" / "ps1" / "submission_secret.txt").read_text() == "ef" * 64
    finally:
        secret.write_text(SECRET)
