"""`python -m autograder export`: Canvas's gradebook import and Moodle's grade import, written from hand-made
records (no kernel) and read back with csv.reader as the LMS reads them: column order, the Points Possible row,
names with commas, quotes and accents, matching to the roster, and what is left over on either side."""

import csv

import pytest

from autograder.cli import parser
from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import safe_name
from autograder.grader.core.masters import assignment_named
from autograder.grader.core.record import Record, TestResult

EXERCISE = assignment_named("realnvp")
TOP = EXERCISE.auto_max_score  # the records below hold the autograded tests only


def _out(tmp_path, students):
    """An OUT whose records give each student (id, points off, lms_id) the exercise's tests."""
    out = tmp_path / "out"
    for student, off, lms_id in students:
        tests = [TestResult(gid, points, points) for gid, points in EXERCISE.tests]
        tests[-1] = TestResult(tests[-1].grade_id, max(0.0, tests[-1].max_points - off), tests[-1].max_points, "too slow")
        record = Record(student, "ok", "", tests, assignment=EXERCISE.name, lms_id=lms_id)
        write_atomic(out / "records" / f"{safe_name(student)}.json", record.to_json())
    return out


CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (101),Current Score\n"
    "    Points Possible,,,,,10,(read only)\n"
    '"Núñez, José ""Pepe""",4001,S-001,jnunez,"Section A, Tuesday",9,90\n'
    '"O\'Brien, Zoë",4002,S-002,zobrien,Section B,7,70\n'
    '"Smith, John",12345,S-003,jsmith,Section A,,\n'
    '"Doe, Jane",4004,S-004,jdoe,Section B,,\n'
    '"Student, Test",9999,,,Section A,,\n'
)


def _run(*argv):
    args = parser().parse_args(["export", *map(str, argv)])
    return args.run(args)


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_canvas_csv_has_canvass_columns_the_points_row_and_quoted_names_matched_by_id_sis_and_login(tmp_path, capsys):
    out = _out(tmp_path, [("jnunez", 0, ""), ("S-002", 1, ""), ("smithjohn_12345", 2, "12345")])
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER, encoding="utf-8")
    code = _run(out, "--format", "canvas", "--roster", roster, "--title", "Real NVP", "--assignment-id", "4711")
    rows = _read(out / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Real NVP (4711)"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == f"{EXERCISE.max_score:g}"  # the written answers' points too
    assert rows[2:] == [
        ['Núñez, José "Pepe"', "4001", "S-001", "jnunez", "Section A, Tuesday", f"{TOP:g}"],  # by SIS Login ID
        ["O'Brien, Zoë", "4002", "S-002", "zobrien", "Section B", f"{TOP - 1:g}"],  # by SIS User ID
        ["Smith, John", "12345", "S-003", "jsmith", "Section A", f"{TOP - 2:g}"],  # by ID, from the Canvas file name
    ]
    said = capsys.readouterr()
    assert "unmatched roster entry: Doe, Jane (roster line 6) has no submission" in said.err
    assert "skipped Student, Test (roster line 7): Canvas's test student" in said.out
    assert code == 1  # an entry of the roster has no submission
    raw = (out / "canvas.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and '"Núñez, José ""Pepe"""'.encode() in raw


def test_canvas_column_is_the_bare_title_without_an_id_and_a_clean_match_exits_0(tmp_path):
    out = _out(tmp_path, [("jdoe", 0, "")])
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",4004,S-004,JDoe,B\n', encoding="utf-8")
    assert _run(out, "--format", "canvas", "--roster", roster, "--title", "Real NVP", "--output", tmp_path / "c.csv") == 0
    assert _read(tmp_path / "c.csv")[0][-1] == "Real NVP" and _read(tmp_path / "c.csv")[2][-1] == f"{TOP:g}"  # login caseless


def test_a_submission_on_no_roster_line_is_listed_and_not_exported(tmp_path, capsys):
    out = _out(tmp_path, [("jdoe", 0, ""), ("stranger", 0, "")])
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",4004,S-004,jdoe,B\n', encoding="utf-8")
    assert _run(out, "--format", "canvas", "--roster", roster, "--title", "T") == 1
    assert "unmatched submission: stranger is on no roster line" in capsys.readouterr().err
    assert [r[0] for r in _read(out / "canvas.csv")[2:]] == ["Doe, Jane"]


def test_two_submissions_claiming_one_roster_line_export_neither(tmp_path, capsys):
    out = _out(tmp_path, [("4004", 0, ""), ("jdoe", 0, "")])
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",4004,S-004,jdoe,B\n', encoding="utf-8")
    assert _run(out, "--format", "canvas", "--roster", roster, "--title", "T") == 1
    assert "roster line 2 matches 2 submissions (4004, jdoe): none of them is exported" in capsys.readouterr().err
    assert _read(out / "canvas.csv")[2:] == []


def test_canvas_needs_a_roster_and_a_numeric_assignment_id(tmp_path, capsys):
    out = _out(tmp_path, [("jdoe", 0, "")])
    assert _run(out, "--format", "canvas", "--title", "T") == 2
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,Section\nx,1,A\n", encoding="utf-8")
    assert _run(out, "--format", "canvas", "--roster", roster, "--title", "T", "--assignment-id", "hw1") == 2
    assert "whole numbers" in capsys.readouterr().err


MOODLE_ROSTER = (
    "First name,Last name,ID number,Institution,Department,Email address,Username,Assignment: Homework (Real)\n"
    'José,"Núñez, Jr.",1001,Uni,CS,Jose.Nunez@example.edu,jnunez,8\n'
    "Zoë,O'Brien,1002,Uni,CS,zoe@example.edu,zobrien,-\n"
)


@pytest.mark.parametrize(
    ("identifier", "label", "values"),
    [
        ("username", "Username", ["jnunez", "zobrien"]),
        ("idnumber", "ID number", ["1001", "1002"]),
        ("email", "Email address", ["Jose.Nunez@example.edu", "zoe@example.edu"]),
    ],
)
def test_moodle_csv_has_one_identifier_column_the_grade_and_its_feedback(tmp_path, identifier, label, values):
    out = _out(tmp_path, [("jose.nunez@example.edu", 0, ""), ("1002", 1, "")])  # matched by email, caseless, and by id number
    roster = tmp_path / "moodle.csv"
    roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    assert _run(out, "--format", "moodle", "--roster", roster, "--title", "Real NVP", "--moodle-id", identifier) == 0
    rows = _read(out / "moodle.csv")
    assert rows[0] == [label, "Real NVP", "Real NVP (feedback)"]
    assert [r[0] for r in rows[1:]] == values and [r[1] for r in rows[1:]] == [f"{TOP:g}", f"{TOP - 1:g}"]
    assert all(r[1] != "" and r[2].startswith("Autograded: ") for r in rows[1:])  # never feedback without its grade
    assert all(len(r) == 3 for r in rows)  # Moodle refuses rows whose length differs from the header's


def test_moodle_without_a_roster_uses_the_student_ids_and_says_what_the_feedback_is_made_of(tmp_path):
    out = _out(tmp_path, [("Zoë, the 2nd", 1, "")])
    assert _run(out, "--format", "moodle", "--title", "Real NVP", "--bom") == 0
    raw = (out / "moodle.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Moodle trims a byte-order mark (csvlib: trim_utf8_bom)
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[1][0] == "Zoë, the 2nd" and rows[1][1] == f"{TOP - 1:g}"
    assert rows[1][2] == f"Autograded: {TOP - 1:g} / {TOP:g} (ok)"
