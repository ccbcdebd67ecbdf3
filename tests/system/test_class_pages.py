"""The bundled examples graded by `python -m autograder grade` (conftest's examples_one_shot): both class pages are
written, the report's numbers are grades.csv's, and what each student wrote is kept in OUT/code."""

import json
import subprocess
import sys

import pytest
from conftest import REPO
from report_reading import csv_rows, report_differences

from autograder.grader.core.masters import assignment_named
from autograder.grader.reports.similarity import MIN_SHARED, THRESHOLD

pytestmark = pytest.mark.slow


def test_grading_the_examples_writes_a_report_with_the_numbers_of_grades_csv(examples_one_shot):
    out, _ = examples_one_shot
    text = (out / "report.html").read_text(encoding="utf-8")
    assert report_differences(text, out / "grades.csv", assignment_named("realnvp")) == []


def test_grading_the_examples_keeps_what_each_student_wrote_and_compares_it(examples_one_shot):
    out, rows = examples_one_shot
    ran = sorted(s for s, row in rows.items() if row["status"] != "not a notebook")
    assert sorted(p.stem for p in (out / "code").glob("*.json")) == ran
    for student in ran:
        code = json.loads((out / "code" / f"{student}.json").read_text(encoding="utf-8"))
        assert code["student_id"] == student and set(code["answers"]) == set(assignment_named("realnvp").answer_ids)
    # the buggy example is the correct one with one line changed: the same code, and flagged as such
    [pair] = [r for r in csv_rows(out / "similarity.csv") if float(r["score"]) >= THRESHOLD and int(r["shared"]) >= MIN_SHARED]
    assert sorted((pair["student_a"], pair["student_b"])) == ran
    assert "nothing to compare: not a notebook" in (out / "similarity.html").read_text(encoding="utf-8")


def test_grade_with_no_similarity_writes_the_report_only_and_its_summary_ends_with_the_reports_path(tmp_path):
    """(With similarity, grade writes both pages: the tests above read them.)"""
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "kim.ipynb").write_text("{broken", encoding="utf-8")  # not a notebook: graded without a kernel
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(tmp_path / "class"), "--out", str(out), "--assignment", "realnvp"]
    result = subprocess.run([*command, "--quiet", "--no-similarity"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"class report: {out / 'report.html'}"
    assert (out / "report.html").is_file() and not (out / "similarity.html").exists() and not (out / "similarity.csv").exists()
