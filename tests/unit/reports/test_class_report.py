"""OUT/report.html from synthetic records (no kernel): grades.csv's numbers, parts from the master, failures
grouped, time, leaderboard, links to feedback; and `python -m autograder report OUT` that rewrites it."""

import re
from urllib.parse import unquote

import nbformat
import pytest
from conftest import REPO
from report_reading import read_report, report_differences
from synthetic_class import synthetic_records, write_class

from autograder.cli import main
from autograder.grader.core.masters import assignment_named, master_paths
from autograder.grader.core.record import Record, TestResult
from autograder.grader.reports.class_report import CellStats, leaderboard_top, message_group, parts_of, report_html, time_summary
from autograder.grader.reports.html_page import Links
from autograder.grader.runs.outputs import write_outputs

EXERCISES = [p.stem for p in master_paths()]


@pytest.fixture(params=EXERCISES)
def graded_class(request, tmp_path):
    """(exercise, records, OUT) of a synthetic class of 60, its pages written as grade writes them."""
    exercise = assignment_named(request.param)
    records = synthetic_records(exercise, 60, seed=3)
    write_class(tmp_path, exercise, records)
    write_outputs(tmp_path, exercise, records, similarity=False)
    return exercise, records, tmp_path


def test_the_report_shows_the_numbers_of_grades_csv(graded_class):
    exercise, _, out = graded_class
    assert report_differences((out / "report.html").read_text(encoding="utf-8"), out / "grades.csv", exercise) == []


def test_the_comparison_with_grades_csv_catches_a_report_that_miscounts(graded_class):
    exercise, records, out = graded_class
    gid = exercise.tests[0][0]
    loser = next(r for r in records if r.points()[gid] == dict(exercise.tests)[gid])
    loser.tests = [t if t.grade_id != gid else type(t)(gid, 0.0, t.max_points, "planted", False) for t in loser.tests]
    wrong = report_html(exercise, records)  # a report counted from other scores than grades.csv holds
    found = report_differences(wrong, out / "grades.csv", exercise)
    assert any(f.startswith(f"{gid} passed") for f in found) and any(f.startswith("mean") for f in found), found


def test_scores_are_read_through_the_record_so_an_override_shows_in_report_and_csv_alike(graded_class, monkeypatch):
    exercise, records, out = graded_class
    monkeypatch.setattr(Record, "score", property(lambda self: sum(t.points for t in self.tests) * 0.5))  # a penalty, say
    write_outputs(out, exercise, records, similarity=False)
    assert report_differences((out / "report.html").read_text(encoding="utf-8"), out / "grades.csv", exercise) == []
    assert read_report((out / "report.html").read_text(encoding="utf-8"))["cards"]["full marks"] == "0"


def test_every_failure_is_counted_once_as_visible_hidden_or_not_run(graded_class):
    exercise, records, out = graded_class
    tests = {r["test"]: r for r in read_report((out / "report.html").read_text(encoding="utf-8"))["tables"]["part"]}
    never_ran = [r for r in records if r.status == "not a notebook"]
    for gid, _ in exercise.tests:
        results = [t for r in records if r not in never_ran for t in r.tests if t.grade_id == gid and t.points < t.max_points]
        row = tests[gid]
        assert int(row["not run"]) == len(never_ran)
        assert int(row["failed only a hidden check"]) == sum(t.visible_passed for t in results)
        assert int(row["failed a visible check"]) == sum(not t.visible_passed for t in results)


def test_each_test_row_names_the_part_of_its_heading_in_the_master(graded_class):
    exercise, _, out = graded_class
    parts = parts_of(exercise)
    tests = {r["test"]: r for r in read_report((out / "report.html").read_text(encoding="utf-8"))["tables"]["part"]}
    for gid, _ in exercise.tests:
        assert tests[gid]["part"] == parts[gid] and parts[gid].startswith("Part "), (gid, parts[gid])


def test_parts_come_from_the_last_section_heading_above_each_cell():
    nb = nbformat.v4.new_notebook()
    cells = [
        ("markdown", "# Title\n\n## Part 0 — Warm-up (1 point)"),
        ("code", "a"),
        ("markdown", "## Part 1 — Masks (2 points)\n\ntext\n### a subsection"),
        ("code", "b"),
        ("markdown", "## Not graded"),
        ("code", "c"),
    ]
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": f"cell{i}"} if kind == "code" else {}
        nb.cells.append(cell)
    parts = parts_of(type("Notebook", (), {"cells": nb.cells})())
    assert parts == {"cell1": "Part 0 — Warm-up", "cell3": "Part 1 — Masks", "cell5": ""}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("off by up to 3.04 (tolerance 1e-05)", "off by up to 0.7 (tolerance 1e-05)"),
        ("log_det has shape (128, 2), expected (128,)", "log_det has shape (64, 3, 3), expected (64,)"),
        ("NameError: name 'z' is not defined", "NameError: name 'flow' is not defined"),
        ("got tensor([0.1, 0.2]), expected [[1, 0], [0, 1]]", "got tensor([3.5]), expected [[0, 1]]"),
        ("a hidden test failed: dim 5, off at 0x7f3a2b", "a hidden test failed: dim 10, off at 0x55d1"),
    ],
)
def test_messages_that_differ_in_numbers_shapes_and_names_are_one_group(one, other):
    assert message_group(one) == message_group(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("log_det has the wrong shape", "the inverse is wrong"), ("masks may only hold 0 and 1", "masks must be complementary")],
)
def test_messages_that_say_different_things_are_different_groups(one, other):
    assert message_group(one) != message_group(other)


def test_every_link_of_the_report_opens_a_students_feedback_page(graded_class):
    _, _, out = graded_class
    links = [unquote(href) for href in re.findall(r"href='([^']+)'", (out / "report.html").read_text(encoding="utf-8"))]
    assert links and all(href.startswith("feedback/") for href in links)
    assert [href for href in links if not (out / href).is_file()] == []


def test_a_student_link_escapes_the_id_and_url_quotes_its_safe_file_name():
    links = Links("ex 1", "nb")
    assert links.student("a/b <c>") == "<a href='feedback/a_b%20%3Cc%3E/ex%201/nb.html'>a/b &lt;c&gt;</a>"
    assert Links("ex", "nb", "../course/").student("a") == "<a href='../course/feedback/a/ex/nb.html'>a</a>"


def test_failure_groups_come_commonest_first_each_with_its_students():
    stats = CellStats("test_x", "Part 1 — X", 1.0)
    for i, message in enumerate(["off by 0.5", "wrong shape (2, 3)", "off by 7", "off by 1e-3", "wrong shape (4,)"]):
        stats.add(f"s{i}", TestResult("test_x", 0.0, 1.0, message, False))
    assert stats.groups() == [("off by N", [("s0", "off by 0.5"), ("s2", "off by 7"), ("s3", "off by 1e-3")]),
                              ("wrong shape (…)", [("s1", "wrong shape (2, 3)"), ("s4", "wrong shape (4,)")])]  # fmt: skip


def test_time_summary_gives_the_median_the_90th_percentile_and_the_slowest_five():
    records = [Record(f"s{i}", "ok", "", [], seconds=float(i)) for i in range(1, 11)]
    median, p90, slowest = time_summary(records)
    assert (median, round(p90, 2)) == (5.5, 9.1)
    assert [r.student_id for r in slowest] == ["s10", "s9", "s8", "s7", "s6"]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_leaderboard_lists_the_best_ten_in_the_masters_order(order):
    from autograder.grader.core.record import Metric

    exercise = assignment_named("realnvp")
    spec = {**exercise.leaderboard, "order": order}
    records = [Record(f"s{i:02d}", "ok", "", [], leaderboard=[Metric(spec["name"], float(i), order)]) for i in range(15)]
    top = leaderboard_top(type("E", (), {"leaderboard": spec})(), records)
    expected = list(range(10)) if order == "asc" else list(range(14, 4, -1))
    assert [value for _, value in top] == [float(v) for v in expected]


def test_an_exercise_without_a_leaderboard_has_no_leaderboard_section(tmp_path):
    from autograder.grader.core.masters import load_assignment

    tiny = load_assignment(REPO / "tests" / "fixtures" / "tiny_master.py")
    text = report_html(tiny, synthetic_records(tiny, 5))
    assert "Leaderboard" not in text and "Part 1 — Scale a number" in text


def test_an_empty_class_gets_a_page_that_says_so():
    assert "No submission has been graded" in report_html(assignment_named("realnvp"), [])


def test_the_report_is_one_self_contained_file(graded_class):
    _, _, out = graded_class
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in text and "<script" not in text and "src=" not in text and "http" not in text.replace("http://www.w3.org/2000/svg", "")


def test_the_report_command_rewrites_the_pages_and_ends_with_the_report_path(graded_class, capsys):
    _, _, out = graded_class
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"class report: {out / 'report.html'}"
    assert (out / "report.html").is_file() and (out / "similarity.html").is_file() and (out / "similarity.csv").is_file()
    assert main(["report", str(out / "nowhere")]) == 2 and "no records/ folder" in capsys.readouterr().err
