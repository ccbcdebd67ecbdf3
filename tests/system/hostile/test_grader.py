"""The batch grader against a bank of hostile, broken and tampered submissions (tests/helpers/hostile_bank.py).

The whole CI bank is graded once, in parallel, with short timeouts; each test then checks one promise.
"""

import csv
import re

import pytest
from conftest import ASSIGNMENT, MASTER
from hostile_bank import HIDDEN_MARKERS, STRAY_MARK, ci_cases, write_bank
from nbgrader.api import Gradebook
from strays import stray_processes

from autograder.grader.core.layout import feedback_path, load_record
from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.grade import Options, grade_batch

CASES = {case.name: case for case in ci_cases()}
LIMITS = Limits(cell_timeout=20, timeouts={"train": 30}, wall_timeout=240)


pytestmark = pytest.mark.slow  # every test reads the class graded in the sandbox


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bank")
    write_bank(folder, CASES.values())
    out = tmp_path_factory.mktemp("out")
    records = grade_batch(folder, out, Options(workers=2, limits=LIMITS, gradescope=True, progress=False))
    return folder, out, {r.student_id: r for r in records}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_submission_gets_its_status_and_only_the_points_it_earned(graded, name):
    record = graded[2][name]
    case = CASES[name]
    assert record.status == case.status, record.message
    points = record.points()
    assert {gid: points[gid] for gid in case.points} == case.points, record.message


def test_every_submission_has_one_row_in_grades_csv_with_a_column_per_test(graded, exercise):
    _, out, records = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student_id"] for r in rows) == sorted(CASES)
    assert list(rows[0])[:2] == ["student_id", exercise.tests[0][0]] and list(rows[0])[-4:] == ["score", "max_score", "status", "message"]
    assert all(float(r["score"]) == records[r["student_id"]].score for r in rows)


def test_the_gradebook_holds_every_student_with_the_same_scores(graded):
    _, out, records = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("realnvp")}
    assert scores == {name: record.score for name, record in records.items()}


def test_no_process_a_submission_started_survives_the_batch(graded):
    strays = stray_processes(STRAY_MARK)
    assert strays == []


def test_feedback_shows_no_hidden_test_code(graded):
    _, out, _ = graded
    pages = list((out / "feedback").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"))
    assert len(pages) == len(CASES)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not [m for m in HIDDEN_MARKERS if m in text], page.name
        assert "[autograder passed" not in text


def test_feedback_explains_a_failed_visible_test(graded):
    text = feedback_path(graded[1], "patched helpers", ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    assert "consecutive masks must be complementary" in text


def test_gradescope_results_are_valid_and_sum_to_the_score(graded):
    import json

    from autograder.grader.integrations.gradescope.results import problems

    _, out, records = graded
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        assert problems(result, forbidden=HIDDEN_MARKERS) == [], path.name
        assert result["score"] == records[path.stem].score
    result = json.loads((out / "results" / "swallowed errors.json").read_text(encoding="utf-8"))
    scored = [t for t in result["tests"] if t.get("max_score")]  # the others: what the notebook shows, written answers, notes
    assert result["score"] == sum(t["score"] for t in scored) == records["swallowed errors"].score
    assert len(scored) == len([t for t in records["swallowed errors"].tests if not t.manual])
    assert {t["visibility"] for t in scored} == {"after_due_date"}  # gradescope/results.py: the points after the due date


def test_a_snooping_kernel_finds_neither_master_nor_gradebook_and_writes_only_its_scratch(graded):
    if not graded[2]["snoop"].isolation.startswith("full"):
        pytest.skip("the filesystem is hidden only where namespaces are allowed: " + graded[2]["snoop"].isolation)
    text = feedback_path(graded[1], "snoop", ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    found = re.search(r"SNOOP FOUND \[(.*?)\]", text).group(1)
    assert MASTER.name not in found  # neither this repository's master nor any other copy on the machine
    assert all("site-packages" in path for path in re.findall(r"&#x27;(.*?)&#x27;", found))
    wrote = re.search(r"SNOOP WROTE \[(.*?)\]", text).group(1)
    assert all("/snoop" in path or path.endswith("/ipc") for path in re.findall(r"&#x27;(.*?)&#x27;", wrote))  # its own
    assert not list(graded[1].rglob("pwned.txt")) and not list(graded[0].rglob("pwned.txt"))


def test_a_rerun_skips_graded_students_and_changes_nothing(graded):
    folder, out, records = graded
    before = {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()}
    again = grade_batch(folder, out, Options(workers=1, limits=LIMITS, progress=False))
    assert {r.student_id: r.score for r in again} == {n: r.score for n, r in records.items()}
    assert {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()} == before


def test_records_are_read_back_by_student_id(graded, exercise):
    _, out, _ = graded
    untrained = exercise.auto_max_score - dict(exercise.tests)["test_train"]  # every test but the training's
    assert load_record(out, "José Ñúñez 李 o'Brien").score == untrained
