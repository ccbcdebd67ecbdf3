"""The final-score layer without a kernel: DEADLINES.csv and OVERRIDES.csv as an instructor writes them, the late
policy's arithmetic, and a Record's final score, raw score and notes after apply_term."""

import json
from datetime import timedelta

import pytest

from autograder.grader.core.masters import assignment_named
from autograder.grader.core.record import Override, Record, TestResult
from autograder.grader.core.tables import TableError
from autograder.grader.scoring.deadlines import Policy, describe_duration, load_deadlines, parse_duration, parse_instant
from autograder.grader.scoring.overrides import load_overrides
from autograder.grader.scoring.term import Term, apply_term, load_term, term_warnings

EXERCISE = assignment_named("realnvp")
MAXIMA = dict(EXERCISE.tests)  # the records below hold the autograded tests only (their maximum: auto_max_score)
FIRST, LAST = EXERCISE.tests[0][0], EXERCISE.tests[-1][0]


def _csv(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _record(student="ana", points=None, at="2025-03-14T22:00:00+00:00", source="timestamp.txt", marks=""):
    points = points if points is not None else MAXIMA
    tests = [TestResult(gid, points[gid], MAXIMA[gid]) for gid in MAXIMA]
    return Record(student, "ok", "", tests, assignment=EXERCISE.name, submitted_at=at, submitted_from=source, lms_marks=marks)


DEADLINES = """student,due,penalty,cap,grace,reason
*,2025-03-14T23:59:00+01:00,10% per started day,50%,PT15M,
ana,2025-03-17T23:59:00+01:00,,,,doctor's note
bo,P2D,,,,team project
cy,,none,,,accommodation
"""


def test_a_deadlines_file_gives_the_class_due_time_extensions_and_per_student_policies(tmp_path):
    deadlines = load_deadlines(_csv(tmp_path, DEADLINES))
    assert deadlines.default.due.isoformat() == "2025-03-14T23:59:00+01:00"
    assert deadlines.default.policy == Policy(10.0, True, "day", True, 50.0, True, timedelta(minutes=15))
    assert deadlines.for_student("ana").due.isoformat() == "2025-03-17T23:59:00+01:00"
    assert deadlines.for_student("bo").due == deadlines.default.due + timedelta(days=2)
    assert deadlines.for_student("cy").policy.amount == 0 and deadlines.for_student("cy").due == deadlines.default.due
    assert deadlines.for_student("zed") == deadlines.default


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("student,due\nana,2025-03-14T23:59:00Z\n", "exactly one row with student '*'"),
        ("student,due\n*,2025-03-14T23:59:00\n", "line 2: '2025-03-14T23:59:00' has no time zone"),
        ("student,due\n*,14/03/2025\n", "line 2: '14/03/2025' is not an ISO 8601 date and time"),
        ("student,due,penalty\n*,2025-03-14T23:59:00Z,10 percent a day\n", "line 2: penalty '10 percent a day'"),
        ("student,due,cap\n*,2025-03-14T23:59:00Z,half\n", "line 2: cap 'half'"),
        ("student,due,grace\n*,2025-03-14T23:59:00Z,P1M\n", "months and years have no fixed length"),
        ("student,due\n*,2025-03-14T23:59:00Z\nana,P1D\nana,P2D\n", "line 4: 'ana' already has a row (line 3)"),
        ("student,due,dew\n*,2025-03-14T23:59:00Z,x\n", "line 1: unknown column 'dew'"),
        ("student\n*\n", "line 1: no column 'due'"),
        ("student,due\n*,2025-03-14T23:59:00Z\nana,P1D,extra,cells\n", "line 3: 4 cells for 2 columns"),
    ],
)
def test_a_bad_deadlines_file_is_refused_with_its_line_and_what_to_write(tmp_path, text, says):
    with pytest.raises(TableError) as error:
        load_deadlines(_csv(tmp_path, text))
    assert says in str(error.value)


def test_every_problem_of_a_deadlines_file_is_listed_at_once(tmp_path):
    text = "student,due\n*,2025-03-14T23:59:00Z\nana,soon\nbo,P2X\n"
    with pytest.raises(TableError) as error:
        load_deadlines(_csv(tmp_path, text))
    assert "line 3:" in str(error.value) and "line 4:" in str(error.value)


def test_a_spreadsheets_byte_order_mark_and_spaces_are_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffStudent , Due \r\n * , 2025-03-14T23:59:00Z \r\n".encode())
    assert load_deadlines(path).default.due.isoformat() == "2025-03-14T23:59:00+00:00"


def test_iso_8601_times_and_durations_parse_and_others_do_not():
    assert parse_instant("2025-03-14T23:59:00Z").utcoffset() == timedelta(0)
    assert parse_duration("P1DT12H") == timedelta(days=1, hours=12)
    assert parse_duration("PT15M") == timedelta(minutes=15) and parse_duration("P1W") == timedelta(days=7)
    for bad in ("P", "PT", "1D", "P1.5", "P1H"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert describe_duration(timedelta(days=1, hours=2, minutes=3, seconds=4)) == "1 day 2 h 3 min"


@pytest.mark.parametrize(
    ("policy", "late", "raw", "taken"),
    [
        (Policy(10, True, "day", False), timedelta(hours=12), 11, 0.55),  # half a day of 10 % of 11 points
        (Policy(10, True, "day", True), timedelta(hours=12), 11, 1.1),  # a started day counts whole
        (Policy(10, True, "day", True), timedelta(days=1), 11, 1.1),  # exactly one day is one day, not two
        (Policy(1, False, "hour", True), timedelta(minutes=61), 11, 2.0),  # two started hours
        (Policy(10, True, "day", True, cap=25), timedelta(days=9), 11, 2.75),  # capped at 25 % of 11
        (Policy(2, False, "day", True, cap=3, cap_percent=False), timedelta(days=9), 11, 3.0),
        (Policy(50, True, "day", True), timedelta(days=5), 4, 4.0),  # never below zero: at most the raw score
        (Policy(10, True, "day", True, grace=timedelta(minutes=15)), timedelta(minutes=14), 11, 0.0),
        (Policy(10, True, "day", True, grace=timedelta(minutes=15)), timedelta(minutes=16), 11, 1.1),
        (Policy(0), timedelta(days=3), 11, 0.0),
    ],
)
def test_the_late_policy_takes_what_it_says(policy, late, raw, taken):
    assert policy.penalty(late, 11, raw) == pytest.approx(taken)


def test_overrides_are_read_and_checked_against_the_exercise(tmp_path):
    text = f'student,test,points,reason\nana,{LAST},{MAXIMA[LAST]:g},"regrade: timed out, rerun passed"\nbo,TOTAL,7,agreed\n'
    overrides = load_overrides(_csv(tmp_path, text), MAXIMA)
    assert overrides.of("ana") == [Override(LAST, MAXIMA[LAST], "regrade: timed out, rerun passed")]
    assert overrides.of("bo") == [Override("total", 7.0, "agreed")] and overrides.of("cy") == []


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("ana,test_nothing,1,x", "'test_nothing' is not a test of this assignment"),
        (f"ana,{FIRST},lots,x", "points 'lots' is not a number"),
        (f"ana,{FIRST},99,x", "outside 0 to"),
        ("ana,total,-1,x", "outside 0 to"),
        (f"ana,{FIRST},0,", "no reason"),
        (f",{FIRST},0,x", "no student id"),
    ],
)
def test_a_bad_override_is_refused_with_its_line(tmp_path, row, says):
    with pytest.raises(TableError) as error:
        load_overrides(_csv(tmp_path, f"student,test,points,reason\n{row}\n"), MAXIMA)
    assert "line 2:" in str(error.value) and says in str(error.value)


def test_an_override_given_twice_names_both_lines(tmp_path):
    text = f"student,test,points,reason\nana,{FIRST},0,a\nana,{FIRST},1,b\n"
    with pytest.raises(TableError, match="line 3: ana .* already overridden on line 2"):
        load_overrides(_csv(tmp_path, text), MAXIMA)


def _term(tmp_path, deadlines=DEADLINES, overrides=None):
    d = load_deadlines(_csv(tmp_path, deadlines, "d.csv")) if deadlines else None
    o = load_overrides(_csv(tmp_path, overrides, "o.csv"), MAXIMA) if overrides else None
    return Term(d, o)


def test_a_late_submission_loses_the_policys_points_and_keeps_its_raw_score(tmp_path):
    record = apply_term(_record("dee", at="2025-03-15T10:00:00+00:00"), _term(tmp_path))  # 11 h 1 min after 23:59+01:00
    top = EXERCISE.auto_max_score
    assert record.late and record.late_seconds == pytest.approx(11 * 3600 + 60)
    assert record.late_penalty == pytest.approx(0.1 * top) and record.raw_score == top
    assert record.score == pytest.approx(top * 0.9)
    assert any("late by 11 h 1 min (timestamp.txt)" in n for n in record.term_notes)


def test_an_extension_moves_the_due_time_and_says_so(tmp_path):
    record = apply_term(_record("ana", at="2025-03-16T10:00:00+00:00"), _term(tmp_path))
    assert not record.late and record.score == EXERCISE.auto_max_score
    assert record.due == "2025-03-17T23:59:00+01:00" and record.extension == "doctor's note"
    assert "extended due time: doctor's note" in record.term_notes


def test_a_submission_with_no_time_is_flagged_and_never_penalised(tmp_path):
    record = apply_term(_record("dee", at="", source=""), _term(tmp_path))
    assert record.late_penalty == 0 and record.score == EXERCISE.auto_max_score
    assert any(n.startswith("for review: no submission time") for n in record.term_notes)


def test_canvas_late_mark_is_flagged_without_a_guessed_penalty(tmp_path):
    late = apply_term(_record("dee", at="", source="Canvas file name", marks="LATE"), _term(tmp_path))
    on_time = apply_term(_record("eve", at="", source="Canvas file name"), _term(tmp_path))
    assert late.late and late.late_penalty == 0 and any("Canvas marks it LATE" in n for n in late.term_notes)
    assert not on_time.late and on_time.term_notes == []


def test_a_zip_time_without_zone_is_read_in_the_due_times_zone(tmp_path):
    record = apply_term(_record("dee", at="2025-03-15T00:30:00", source="zip entry"), _term(tmp_path))
    assert record.late and record.late_seconds == pytest.approx(31 * 60)  # 00:30 at +01:00 is 31 min after 23:59


def test_a_late_file_time_is_penalised_and_flagged_for_review(tmp_path):
    record = apply_term(_record("dee", at="2025-03-16T00:00:00+00:00", source="file time"), _term(tmp_path))
    assert record.late_penalty > 0 and any("modification time" in n for n in record.term_notes)


def test_a_test_override_changes_that_test_the_raw_and_the_final_score(tmp_path):
    points = dict(MAXIMA, **{LAST: 0.0})
    overrides = f"student,test,points,reason\nana,{LAST},{MAXIMA[LAST]:g},regrade\n"
    record = apply_term(_record("ana", points), _term(tmp_path, overrides=overrides))
    assert record.tests[-1].points == 0.0  # the measured test is kept
    assert record.points()[LAST] == MAXIMA[LAST] and record.score == record.raw_score == EXERCISE.auto_max_score
    assert f"override {LAST}: {MAXIMA[LAST]:g} (measured 0): regrade" in record.term_notes


def test_a_total_override_is_the_final_score_and_no_penalty_is_taken_from_it(tmp_path):
    overrides = "student,test,points,reason\ndee,total,7,agreed\n"
    record = apply_term(_record("dee", at="2025-03-20T00:00:00+00:00"), _term(tmp_path, overrides=overrides))
    assert record.score == 7 and record.late and record.late_penalty == 0
    assert any("total override is final" in n for n in record.term_notes)


def test_applying_the_term_twice_or_after_removing_it_gives_the_same_record(tmp_path):
    overrides = f"student,test,points,reason\ndee,{FIRST},0,copied\n"
    record = _record("dee", at="2025-03-15T10:00:00+00:00")
    plain = json.loads(apply_term(_record("dee", at="2025-03-15T10:00:00+00:00"), Term()).to_json())
    once = apply_term(record, _term(tmp_path, overrides=overrides)).to_json()
    assert apply_term(record, _term(tmp_path, overrides=overrides)).to_json() == once
    assert json.loads(apply_term(record, Term()).to_json()) == plain  # nothing of the old term is left


def test_a_record_written_before_these_fields_loads_with_their_defaults():
    old = {"student_id": "kim", "status": "ok", "message": "", "tests": [{"grade_id": FIRST, "points": 1, "max_points": 1}]}
    record = Record.from_json(json.dumps(old))
    assert (record.submitted_at, record.late_penalty, record.overrides, record.score) == ("", 0.0, [], 1.0)
    again = Record.from_json(record.to_json())
    assert again == record


def test_a_record_round_trips_its_term_fields(tmp_path):
    record = apply_term(
        _record("dee", at="2025-03-15T10:00:00+00:00"), _term(tmp_path, overrides="student,test,points,reason\ndee,total,5,x\n")
    )
    again = Record.from_json(record.to_json())
    assert again == record and again.score == 5


def test_term_files_are_kept_in_out_and_applied_by_later_runs_without_the_option(tmp_path):
    out = tmp_path / "out"
    given = _csv(tmp_path, "student,test,points,reason\nana,total,3,x\n", "mine.csv")
    first = load_term(out, EXERCISE, overrides=given)
    assert (out / "overrides.csv").read_text() == given.read_text() and "kept as" in first.said[0]
    later = load_term(out, EXERCISE)
    assert later.overrides.of("ana") == [Override("total", 3.0, "x")] and "kept from an earlier run" in later.said[0]


def test_a_bad_file_given_never_replaces_the_kept_copy(tmp_path):
    out = tmp_path / "out"
    load_term(out, EXERCISE, overrides=_csv(tmp_path, "student,test,points,reason\nana,total,3,x\n", "good.csv"))
    with pytest.raises(TableError):
        load_term(out, EXERCISE, overrides=_csv(tmp_path, "student,test,points,reason\nana,total,300,x\n", "bad.csv"))
    assert "ana,total,3,x" in (out / "overrides.csv").read_text()


def test_overrides_and_extensions_of_unknown_students_are_warned_about(tmp_path):
    term = _term(tmp_path, overrides="student,test,points,reason\nanna,total,3,x\n")
    warnings = term_warnings([_record("ana")], term)
    assert any("line 2: no graded student 'anna' (did you mean ana?)" in w for w in warnings)
    assert any("'bo' has a row but no submission" in w for w in warnings)


@pytest.mark.slow  # nbgrader creates a gradebook with alembic, seconds each (docs/benchmarks.md)
def test_the_gradebook_gets_the_final_score_in_nbgraders_own_fields(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.grader.integrations.gradebook import open_gradebook, record_grades, record_term

    overrides = f"student,test,points,reason\nana,{LAST},{MAXIMA[LAST]:g},regrade\nbo,total,4.5,agreed\n"
    term = _term(tmp_path, overrides=overrides)
    records = [
        apply_term(_record("ana", dict(MAXIMA, **{LAST: 0.0}), at="2025-03-20T00:00:00+00:00"), term),  # late even after her extension
        apply_term(_record("bo", at="2025-03-30T00:00:00+00:00"), term),  # late, but the total is final
        apply_term(_record("dee", at="2025-03-15T10:00:00+00:00"), term),
    ]
    gb = open_gradebook(tmp_path / "gradebook.db", EXERCISE)
    for record in records:
        record_grades(gb, EXERCISE.name, record)
    record_term(gb, EXERCISE.name, records, term.deadlines)
    gb.close()
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        for record in records:
            submission = gb.find_submission(EXERCISE.name, record.student_id)
            assert max(0.0, submission.score - submission.late_submission_penalty) == pytest.approx(record.score)  # nbgrader export's score
        ana = gb.find_submission(EXERCISE.name, "ana")
        assert ana.extension == timedelta(days=3) and ana.timestamp.isoformat() == "2025-03-20T00:00:00"
        assert gb.find_assignment(EXERCISE.name).duedate.isoformat() == "2025-03-14T22:59:00"  # nbgrader keeps naive UTC
        assert gb.find_grade(LAST, EXERCISE.name, EXERCISE.name, "ana").extra_credit == MAXIMA[LAST]


def test_a_merge_takes_the_shards_kept_files_only_when_they_agree(tmp_path):
    from autograder.grader.runs.merge import shard_term_files

    for shard, text in (("s0", "a"), ("s1", "a"), ("s2", "b")):
        (tmp_path / shard).mkdir()
        (tmp_path / shard / "overrides.csv").write_text(text)
    assert shard_term_files([tmp_path / "s0", tmp_path / "s1"], tmp_path / "out") == {"overrides": tmp_path / "s0" / "overrides.csv"}
    with pytest.raises(ValueError, match="the shards kept different overrides.csv"):
        shard_term_files([tmp_path / "s0", tmp_path / "s2"], tmp_path / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "overrides.csv").write_text("mine")
    assert shard_term_files([tmp_path / "s0", tmp_path / "s2"], tmp_path / "out") == {}  # OUT's own copy wins


def test_the_feedback_head_shows_the_final_score_and_keeps_the_graded_notebook_below(tmp_path):
    from autograder.grader.reports.feedback import NOTEBOOK_MARK, feedback_head, refresh_feedback

    record = _record("dee", dict(MAXIMA, **{LAST: 0.0}), at="2025-03-15T00:30:00", source="zip entry")
    page = tmp_path / "dee.html"
    page.write_text(feedback_head(record) + "\n" + NOTEBOOK_MARK + "<h3>your answer</h3><pre>def f(x): ...</pre>", encoding="utf-8")
    overrides = f"student,test,points,reason\ndee,{LAST},{MAXIMA[LAST]:g},<script>alert(1)</script> a fair point\n"
    assert refresh_feedback(page, apply_term(record, _term(tmp_path, overrides=overrides)), "Real NVP")
    text = page.read_text(encoding="utf-8")
    assert "submitted 2025-03-15 00:30+01:00; due 2025-03-14 23:59+01:00: <b>late</b> by 31 min" in text
    assert f"late penalty <b>-{0.1 * EXERCISE.auto_max_score:g}</b> (10% per started day" in text
    assert "set by your instructor</b> (the grader gave 0): &lt;script&gt;alert(1)&lt;/script&gt; a fair point" in text
    assert text.endswith("<h3>your answer</h3><pre>def f(x): ...</pre>") and text.count(NOTEBOOK_MARK) == 1
    assert not refresh_feedback(page, record, "Real NVP")  # the same record: the page is left as it is


def test_a_feedback_page_of_an_older_grader_keeps_what_follows_its_table(tmp_path):
    from autograder.grader.reports.feedback import refresh_feedback

    page = tmp_path / "old.html"
    page.write_text(
        "<!doctype html><h1>old</h1><p>Score: 3 / 10</p><table><tr><td>x</td></tr></table>\n<h3>your answer</h3>", encoding="utf-8"
    )
    refresh_feedback(page, apply_term(_record("dee"), Term()), "Real NVP")
    text = page.read_text(encoding="utf-8")
    assert f"Score: <b>{EXERCISE.auto_max_score:g} / {EXERCISE.auto_max_score:g}</b>" in text and text.endswith("<h3>your answer</h3>")
    assert "Score: 3 / 10" not in text
