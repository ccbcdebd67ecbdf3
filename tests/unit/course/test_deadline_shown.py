"""Every student sees their deadline: check says it (how long is left, or how late and what it costs) and the released
notebook states it in its first cell, from the course's DEADLINES.csv. The clock is fixed."""

import datetime

import nbformat
import pytest

from autograder import REPO
from autograder.cli.check import _deadline
from autograder.course.release import DEADLINE_CELL, dated
from autograder.grader.core.masters import notebook_named
from autograder.grader.pipeline.answers import extract, read_cells
from autograder.grader.scoring.deadlines import due_line, load_deadlines

CSV = "student,due,penalty,cap,grace,reason\n*,2026-12-15T23:59:00+01:00,10% per started day,50%,PT15M,\nana,P2D,none,,,doctor\n"


@pytest.fixture
def deadlines(tmp_path):
    path = tmp_path / "deadlines.csv"
    path.write_text(CSV)
    return path


def _at(text):
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "now, said",
    [
        ("2026-12-13T20:59:00+01:00", "due 2026-12-15 23:59 +01:00 (in 2 days 3 h)"),
        ("2026-12-16T00:10:00+01:00", "late by 11 min, due 2026-12-15 23:59 +01:00: no penalty under the course's rule"),
        ("2026-12-16T01:11:00+01:00", "late by 1 h 12 min, due 2026-12-15 23:59 +01:00: -10% under the course's rule (10% per started day"),
        ("2026-12-19T00:00:00+01:00", "-40% under the course's rule"),
        ("2026-12-30T00:00:00+01:00", "-50% under the course's rule"),  # the cap
    ],
)
def test_the_deadline_line_says_how_long_is_left_or_how_late_and_what_it_costs(deadlines, now, said):
    line = due_line(load_deadlines(deadlines).default, _at(now), 13.0)
    assert said in line, line


def test_check_says_each_student_s_own_deadline_at_the_clock_s_time(deadlines, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_NOW", "2026-12-16T01:11:00+01:00")
    assert _deadline(deadlines, None, 13.0).startswith("late by 1 h 12 min")
    assert _deadline(deadlines, "ana", 13.0) == "due 2026-12-17 23:59 +01:00 (in 1 day 22 h 48 min)"  # her extension


def test_the_released_notebook_states_the_deadline_first_and_still_grades_as_before(deadlines):
    released = nbformat.read(REPO / "notebooks" / "realnvp.ipynb", as_version=4)
    once = dated(released, load_deadlines(deadlines).default)
    twice = dated(once, load_deadlines(deadlines).default)
    assert once.cells[0].metadata["autograder"]["kind"] == DEADLINE_CELL and len(twice.cells) == len(once.cells) == len(released.cells) + 1
    assert once.cells[0].source.startswith("**Due Tuesday 15 December 2026, 23:59 (UTC+01:00).**")
    assert "10% per started day, at most 50%" in once.cells[0].source
    notebook = notebook_named("realnvp")
    plain = extract(read_cells(nbformat.writes(released).encode()), notebook)
    with_date = extract(read_cells(nbformat.writes(once).encode()), notebook)
    assert with_date.answers == plain.answers and with_date.extras == plain.extras
