"""Shards and merge: `grade --shard K/N` on any array job, then `merge`, gives what one `grade` run gives.

The unit tests build shard folders from hand-made records (no kernel); the end-to-end test grades the bundled
examples as shards 0/2 and 1/2, at the same time, as an array job would, merges them and compares the result
with a one-shot run row for row.
"""

import csv
import json
import os
import subprocess
import sys

import pytest
from conftest import ASSIGNMENT, MASTER, REPO
from nbgrader.api import Gradebook
from report_reading import report_differences, row_differences

from autograder.course.examples import EXAMPLES
from autograder.grader.core.assignment import source_digest as master_digest
from autograder.grader.core.masters import assignment_named
from autograder.grader.core.record import Record, TestResult
from autograder.grader.intake.shards import MANIFEST, parse_shard, select_shard
from autograder.grader.runs.merge import merge


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- the shard's index -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("0/4", {}, (0, 4)),
        ("3/4", {}, (3, 4)),
        ("auto/4", {"SLURM_ARRAY_TASK_ID": "2"}, (2, 4)),
        ("auto/4", {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"}, (2, 4)),  # --array=1-4
        ("auto/4", {"JOB_COMPLETION_INDEX": "1"}, (1, 4)),
    ],
)
def test_the_shard_comes_from_the_option_or_the_array_jobs_index(text, environ, expected):
    assert parse_shard(text, environ) == expected


@pytest.mark.parametrize(
    ("text", "environ", "says"),
    [
        ("4/4", {}, "from 0 to 3"),
        ("-1/4", {}, "from 0 to 3"),
        ("1/0", {}, "whole number of shards"),
        ("1", {}, "expected K/N"),
        ("auto/4", {}, "not an array job"),
        ("auto/2", {"JOB_COMPLETION_INDEX": "5"}, "from 0 to 1"),
    ],
)
def test_a_bad_shard_is_refused_with_a_message_that_says_why(text, environ, says):
    with pytest.raises(ValueError, match=says):
        parse_shard(text, environ)


def test_the_shards_cover_every_submission_once_in_a_stable_order():
    students = [f"s{i:02d}" for i in range(23)]
    shards = [select_shard(students, k, 4) for k in range(4)]
    assert sorted(sum(shards, [])) == students
    assert shards == [select_shard(students, k, 4) for k in range(4)]


# --- merging hand-made shard folders -------------------------------------------------------------------------


def _record(student, points, graded_at, master=None, assignment=ASSIGNMENT):
    return Record(
        student,
        "ok",
        "",
        [TestResult("test_masks", points, 1.0)],
        graded_at=graded_at,
        master_sha256=master or master_digest(MASTER),
        assignment=assignment,
    )


def _shard_folder(folder, records, shard=None, students=None):
    (folder / "records").mkdir(parents=True)
    for record in records:
        (folder / "records" / f"{record.student_id}.json").write_text(record.to_json(), encoding="utf-8")
    if shard is not None:
        manifest = {"shard": shard[0], "of": shard[1], "assignment": ASSIGNMENT, "master_sha256": master_digest(MASTER)}
        manifest["students"] = students if students is not None else [r.student_id for r in records]
        (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_student_graded_in_two_shards_keeps_the_newest_record_whatever_the_order(tmp_path):
    old = _shard_folder(tmp_path / "a", [_record("kim", 0.0, 100.0), _record("lee", 1.0, 100.0)])
    new = _shard_folder(tmp_path / "b", [_record("kim", 1.0, 200.0)])
    for folders in ([old, new], [new, old]):
        merged = merge(folders)
        assert {s: r.score for s, r in merged.records.items()} == {"kim": 1.0, "lee": 1.0}
        assert merged.sources["kim"] == new and merged.problems == [] and len(merged.notes) == 1


def test_shards_of_different_masters_or_assignments_are_refused(tmp_path):
    ours = _shard_folder(tmp_path / "a", [_record("kim", 1.0, 1.0)])
    other_master = _shard_folder(tmp_path / "b", [_record("lee", 1.0, 1.0, master="f" * 64)])
    other_assignment = _shard_folder(tmp_path / "c", [_record("max", 1.0, 1.0, assignment="glow")])
    assert any("different masters" in r and str(other_master) in r for r in merge([ours, other_master]).refusals)
    assert any("different assignments" in r and "glow" in r for r in merge([ours, other_assignment]).refusals)
    assert merge([ours]).refusals == []
    result = _cli("merge", str(ours), str(other_master), "--out", str(tmp_path / "merged"))
    assert result.returncode == 2 and "different masters" in result.stderr
    assert not (tmp_path / "merged").exists()


def test_a_missing_shard_a_missing_record_and_an_unreadable_one_are_each_reported_and_the_rest_merged(tmp_path):
    first = _shard_folder(tmp_path / "s0", [_record("ann", 1.0, 1.0), _record("cy", 1.0, 1.0)], shard=(0, 3), students=["ann", "cy", "dan"])
    (first / "records" / "cy.json").write_text("{not json", encoding="utf-8")
    last = _shard_folder(tmp_path / "s2", [_record("bo", 0.0, 1.0)], shard=(2, 3))
    result = _cli("merge", str(first), str(last), str(tmp_path / "nowhere"), "--out", str(tmp_path / "merged"))
    assert result.returncode == 1, result.stderr
    for says in ("shard 1/3 is missing", "dan (shard 0/3", "cy.json: cannot be read", "nowhere: neither records/ nor shard.json"):
        assert says in result.stderr
    assert [r["student_id"] for r in _rows(tmp_path / "merged" / "grades.csv")] == ["ann", "bo"]


def test_a_shard_that_owned_no_student_merges_without_a_problem(tmp_path):
    full = _shard_folder(tmp_path / "s0", [_record("ann", 1.0, 1.0)], shard=(0, 2))
    empty = tmp_path / "s1"
    empty.mkdir()
    (empty / MANIFEST).write_text(
        json.dumps({"shard": 1, "of": 2, "assignment": ASSIGNMENT, "master_sha256": master_digest(MASTER), "students": []})
    )
    merged = merge([full, empty])
    assert (list(merged.records), merged.problems, merged.refusals) == (["ann"], [], [])


def test_merging_into_one_of_the_shards_is_refused(tmp_path):
    shard = _shard_folder(tmp_path / "s0", [_record("ann", 1.0, 1.0)])
    result = _cli("merge", str(shard), "--out", str(shard))
    assert result.returncode == 2 and "is one of the shard folders" in result.stderr


def test_row_differences_finds_a_lost_an_extra_a_changed_and_a_doubled_row():
    rows = [{"student_id": "a", "score": "1"}, {"student_id": "b", "score": "2"}]
    assert row_differences(rows, rows) == []
    assert row_differences(rows, rows[:1]) == ["b: lost"]
    assert row_differences(rows[:1], rows) == ["b: extra"]
    assert row_differences(rows, [rows[0], {"student_id": "b", "score": "0"}])
    assert row_differences(rows, rows + rows[1:])


# --- the bundled examples, end to end --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """The examples graded as two shards at once (shard 1 finds its index as a Kubernetes Indexed Job would), merged."""
    root = tmp_path_factory.mktemp("shards")
    common = [str(EXAMPLES / "realnvp"), "--workers", "1", "--quiet"]
    first = subprocess.Popen([sys.executable, "-m", "autograder", "grade", *common, "--out", str(root / "s0"), "--shard", "0/2"], cwd=REPO)
    env = {**os.environ, "JOB_COMPLETION_INDEX": "1"}
    second = _cli("grade", *common, "--out", str(root / "s1"), "--shard", "auto/2", env=env)
    assert first.wait(timeout=600) == 0 and second.returncode == 0, second.stderr
    result = _cli("merge", str(root / "s0"), str(root / "s1"), "--out", str(root / "merged"))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.mark.slow
def test_shard_and_merge_give_the_one_shot_grades_row_for_row(merged, examples_one_shot):
    one_shot, _ = examples_one_shot
    for name in ("s0", "s1"):
        assert 1 <= len(_rows(merged / name / "grades.csv")) <= 2  # each shard graded its share only
    assert row_differences(_rows(one_shot / "grades.csv"), _rows(merged / "merged" / "grades.csv")) == []
    pages = lambda out: sorted(str(p.relative_to(out)) for p in (out / "feedback").rglob("*") if p.is_file())  # noqa: E731
    assert pages(merged / "merged") == pages(one_shot)
    assert sorted(p.name for p in (merged / "merged" / "records").iterdir()) == sorted(p.name for p in (one_shot / "records").iterdir())
    assert sorted(p.name for p in (merged / "merged" / "code").iterdir()) == sorted(p.name for p in (one_shot / "code").iterdir())
    assert (merged / "merged" / "similarity.csv").read_text(encoding="utf-8") == (one_shot / "similarity.csv").read_text(encoding="utf-8")
    report = (merged / "merged" / "report.html").read_text(encoding="utf-8")
    assert report_differences(report, merged / "merged" / "grades.csv", assignment_named(ASSIGNMENT)) == []


@pytest.mark.slow
def test_the_merged_gradebook_has_the_one_shot_scores_and_nbgrader_exports_it(merged, examples_one_shot, tmp_path):
    _, rows = examples_one_shot
    with Gradebook(f"sqlite:///{merged / 'merged' / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    assert scores == {student: float(row["score"]) for student, row in rows.items()}
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}  # nbgrader runs alembic
    db = f"--CourseDirectory.db_url=sqlite:///{merged / 'merged' / 'gradebook.db'}"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", db, "--log-level=ERROR"], cwd=tmp_path, env=env, check=True, timeout=120)
    exported = {r["student_id"]: float(r["raw_score"]) for r in _rows(tmp_path / "grades.csv")}
    assert exported == scores
