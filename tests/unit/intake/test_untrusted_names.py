"""What students control reaches the instructor's files safely: no CSV cell the grader writes is a formula
(grades.csv, similarity.csv, Canvas's and Moodle's imports), ids show as what they are on a terminal and a page,
a file refused from a download still has its student's row, and a mistyped path is one line and exit code 2."""

import csv
import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import pytest
from conftest import REPO

from autograder.grader.core.files import csv_text, spreadsheet_safe
from autograder.grader.core.ids import printable
from autograder.grader.intake import archive
from autograder.grader.intake.archive import extract_zip
from autograder.grader.intake.submissions import survey

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# file names, so no '/' (a zip entry's '/' makes a folder)
HOSTILE_IDS = ['=HYPERLINK("x","y")', "@SUM(1+1)", "+cmd", "-2+3+cmd|' -C calc'!A0", "\tann", "\rbo"]
# display names on an LMS roster, for students whose Canvas file names carry their user id (4001, 4002, ...)
ROSTER_NAMES = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+cmd", "-2+3+cmd|' /C calc'!A0", "\tAnn", "\rBo"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600)


def _cells(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _formulas(path):
    """The cells of the CSV at path that a spreadsheet would evaluate: text starting like a formula, not a number."""
    return [c for c in _cells(path) if c.startswith(FORMULA_STARTS) and spreadsheet_safe(c) != c]


@pytest.mark.parametrize("cell", HOSTILE_IDS + ["-", "=1+1"])
def test_a_text_cell_that_starts_like_a_formula_is_written_as_text(cell):
    written = next(csv.reader([csv_text([[cell]])]))[0]
    assert written == "'" + cell


@pytest.mark.parametrize("cell", [-2.5, 3, 0.0, "-2", "+1.5", "-1e-3", "17", "ann", "", "a=b"])
def test_numbers_and_plain_text_stay_as_they_are(cell):
    assert spreadsheet_safe(cell) == cell


def test_an_id_shows_its_invisible_characters_instead_of_obeying_them():
    assert printable("ann\u202egnp.exe") == "ann\\u202egnp.exe"  # a right-to-left override would show 'ann' + 'exe.png'
    assert printable("bo\u200b") == "bo\\u200b" and printable("cy\x1b[2Jx") == "cy\\u001b[2Jx"
    assert printable("dan\nfake line") == "dan\\u000afake line"
    assert printable("Zoë O'Brien, 李") == "Zoë O'Brien, 李"


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A download whose file names are the hostile ids (broken notebooks: graded without a kernel), one entry too
    large to extract (as a zip bomb's), graded by `grade`, then exported to Canvas and Moodle."""
    folder = tmp_path_factory.mktemp("hostile")
    download = folder / "download.zip"
    with zipfile.ZipFile(download, "w", zipfile.ZIP_DEFLATED) as bundle:
        for student in HOSTILE_IDS:
            bundle.writestr(f"{student}.ipynb", b"not a notebook")
        for i in range(len(ROSTER_NAMES)):
            bundle.writestr(f"student{i}_{4001 + i}_{900 + i}_realnvp.ipynb", b"not a notebook")
        with bundle.open(zipfile.ZipInfo("dora/realnvp/realnvp.ipynb"), "w", force_zip64=True) as entry:
            for _ in range(archive.MAX_ENTRY_BYTES // 2**20 + 1):
                entry.write(bytes(2**20))  # zeros: a few hundred KB once compressed, more than any notebook unpacked
    out = folder / "out"
    graded = _cli("grade", download, "--out", out, "--assignment", "realnvp", "--workers", "1", "--quiet")
    roster = folder / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        writer.writerows([name, str(4001 + i), "", f"login{i}", "=A1"] for i, name in enumerate(ROSTER_NAMES))
    canvas = _cli("export", out, "--format", "canvas", "--roster", roster, "--title", "=Real NVP")
    moodle = _cli("export", out, "--format", "moodle", "--title", "@Real NVP")
    return out, graded, canvas, moodle


def test_grading_hostile_ids_writes_every_row_and_no_formula(hostile_class):
    out, graded, _, _ = hostile_class
    assert graded.returncode == 0, graded.stderr
    assert _formulas(out / "grades.csv") == []
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        ids = [row["student_id"] for row in csv.DictReader(handle)]
    canvas = [f"student{i}_{4001 + i}" for i in range(len(ROSTER_NAMES))]
    assert sorted(ids) == sorted(["'" + s for s in HOSTILE_IDS] + ["dora", *canvas])


def test_the_exports_match_every_hostile_student_and_write_no_formula(hostile_class):
    out, _, canvas, moodle = hostile_class
    assert canvas.returncode == 1, canvas.stderr  # the students whose file names carry no Canvas id: said, and the exit code says so
    assert "unmatched submission: dora" in canvas.stderr and "unmatched roster entry" not in canvas.stderr
    assert f"wrote {out / 'canvas.csv'}: {len(ROSTER_NAMES)} students" in canvas.stdout
    assert moodle.returncode == 0, moodle.stderr
    for name in ("canvas.csv", "moodle.csv"):
        assert _formulas(out / name) == [], name
    with open(out / "canvas.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-1] == "'=Real NVP" and [r[1] for r in rows[2:]] == [str(4001 + i) for i in range(len(ROSTER_NAMES))]
    assert [r[0] for r in rows[2:]] == [spreadsheet_safe(name.strip()) for name in ROSTER_NAMES]  # the roster's cells are read stripped
    assert {r[4] for r in rows[2:]} == {"'=A1"}


def test_a_refused_entry_gives_its_student_a_row_and_a_warning(hostile_class):
    out, graded, _, _ = hostile_class
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        dora = next(row for row in csv.DictReader(handle) if row["student_id"] == "dora")
    assert dora["status"] == "unreadable" and float(dora["score"]) == 0
    assert "dora/realnvp/realnvp.ipynb" in dora["message"] and "MiB, more than any notebook" in dora["message"]
    assert "more than any notebook: not extracted" in (out / "warnings.txt").read_text(encoding="utf-8")
    assert "<td>unreadable</td>" in (out / "report.html").read_text(encoding="utf-8")


def test_the_summary_shows_hostile_ids_escaped(hostile_class):
    _, graded, _, _ = hostile_class
    assert "\\u0009ann" in graded.stdout and "\tann" not in graded.stdout and "\r" not in graded.stdout


def test_each_refused_entry_of_a_zip_is_its_students_row(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ENTRY_BYTES", 1000)
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as bundle:
        bundle.writestr("class/ann.ipynb", b"{}")
        bundle.writestr("class/bo/realnvp/realnvp.ipynb", bytes(2000))  # too large: bo's only file
        bundle.writestr("class/cy/realnvp/realnvp.ipynb", b"{}")
        bundle.writestr("class/cy/realnvp/data.bin", bytes(2000))  # too large, beside cy's notebook: a note on cy's row
        bundle.writestr("../../dan.ipynb", b"{}")  # outside the folder: dan's row by its file name
        bundle.writestr("class/smithjohn_LATE_123_456_realnvp.ipynb", bytes(2000))  # Canvas's name: the student and the mark
    unpacked = extract_zip(download, tmp_path / "unpacked")
    assert set(unpacked.refused) == {
        PurePosixPath("bo/realnvp/realnvp.ipynb"), PurePosixPath("cy/realnvp/data.bin"), PurePosixPath("dan.ipynb"),
        PurePosixPath("smithjohn_LATE_123_456_realnvp.ipynb"),
    }  # fmt: skip
    found = {s.student_id: s for s in survey(unpacked.folder, "realnvp", unpacked.times, unpacked.refused).submissions}
    assert sorted(found) == ["ann", "bo", "cy", "dan", "smithjohn_123"]
    assert found["bo"].path is None and "bo/realnvp/realnvp.ipynb: not graded" in found["bo"].refused
    assert found["cy"].path is not None and not found["cy"].refused and any("data.bin" in n for n in found["cy"].notes)
    assert "would land outside the extraction folder" in found["dan"].refused
    assert found["smithjohn_123"].lms_marks == "LATE" and found["smithjohn_123"].lms_id == "123"


@pytest.mark.parametrize(
    "argv",
    [
        ["grade", "/nonexistent/download.zip", "--out", "{tmp}/out"],
        ["grade", "/nonexistent", "--out", "{tmp}/out"],
        ["report", "/nonexistent"],
        ["similarity", "/nonexistent"],
        ["export", "/nonexistent", "--format", "moodle", "--title", "T"],
        ["check", "/nonexistent.ipynb"],
        ["grade", "examples/realnvp", "--out", "{tmp}/out", "--deadlines", "/nonexistent.csv", "--assignment", "realnvp"],
    ],
    ids=lambda argv: " ".join(argv[:2]) + (" " + argv[-2] if argv[-2].startswith("--d") else ""),
)
def test_a_missing_path_is_one_line_and_exit_code_2(argv, tmp_path):
    done = _cli(*[a.format(tmp=tmp_path) for a in argv])
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "nonexistent" in lines[0] and "Traceback" not in done.stderr, done.stderr
