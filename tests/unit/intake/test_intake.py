"""Every file of a download gets its row or its word, without a kernel: the zip's unsafe entries, symbolic links,
pipes, a second notebook, two submissions of one id, system files, Canvas's file names, and when each was handed in."""

import os
import stat
import struct
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder.grader.intake.archive import ArchiveError, entry_time, extract_zip
from autograder.grader.intake.lms_names import canvas_name
from autograder.grader.intake.submissions import survey
from autograder.grader.intake.submitted_at import read_timestamp, submission_time


def _zip(path, entries):
    """A zip at path of entries: name -> bytes, or (bytes, ZipInfo changes)."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, content in entries.items():
            data, change = content if isinstance(content, tuple) else (content, None)
            info = zipfile.ZipInfo(name, date_time=(2025, 3, 14, 23, 30, 0))
            if change:
                change(info)
            bundle.writestr(info, data)
    return path


def _symlink(info):
    info.external_attr = (stat.S_IFLNK | 0o777) << 16


def _unix_time(seconds):
    def change(info):
        info.extra = struct.pack("<HHBi", 0x5455, 5, 1, seconds)

    return change


def test_the_issues_unsafe_zip_gets_a_warning_for_each_entry_left_out_and_writes_nothing_outside(tmp_path):
    absolute = f"{tmp_path}/y.ipynb"  # as /tmp/y.ipynb in the issue, but where the test can see it was not written
    archive = _zip(
        tmp_path / "download.zip",
        {"class/ann.ipynb": b"{}", "../../x.ipynb": b"{}", absolute: b"{}", "class/link.ipynb": (b"/etc/passwd", _symlink)},
    )
    unpacked = extract_zip(archive, tmp_path / "deep" / "unpacked")
    said = "\n".join(unpacked.warnings)
    assert "'../../x.ipynb' would land outside the extraction folder: not extracted, not graded" in said
    assert f"{absolute!r} would land outside the extraction folder" in said
    assert "'class/link.ipynb' is a symbolic link: not followed, not extracted" in said
    assert not (tmp_path / "x.ipynb").exists() and not (tmp_path / "deep" / "x.ipynb").exists() and not Path(absolute).exists()
    assert not (unpacked.folder / "link.ipynb").exists()
    assert [s.student_id for s in survey(unpacked.folder, "realnvp", unpacked.times).submissions] == ["ann"]


def test_an_entry_given_twice_is_said_and_a_broken_zip_is_refused(tmp_path):
    archive = tmp_path / "twice.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("ann.ipynb", b"old")
        with pytest.warns(UserWarning):
            bundle.writestr("ann.ipynb", b"new")
    unpacked = extract_zip(archive, tmp_path / "u")
    assert (unpacked.folder / "ann.ipynb").read_bytes() == b"new"
    assert any("'ann.ipynb' appears twice: the later one is kept" in w for w in unpacked.warnings)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ArchiveError, match="is not a zip that can be read"):
        extract_zip(tmp_path / "broken.zip", tmp_path / "v")


def test_extraction_keeps_each_entrys_time_exact_with_its_utc_field_else_as_written(tmp_path):
    exact = int(datetime(2025, 3, 15, 9, 0, tzinfo=UTC).timestamp())
    archive = _zip(tmp_path / "t.zip", {"ann.ipynb": (b"{}", _unix_time(exact)), "bo.ipynb": b"{}"})
    unpacked = extract_zip(archive, tmp_path / "u")
    ann, bo = (unpacked.folder / "ann.ipynb").resolve(), (unpacked.folder / "bo.ipynb").resolve()
    assert unpacked.times[ann] == "2025-03-15T09:00:00+00:00" and os.path.getmtime(ann) == exact
    assert unpacked.times[bo] == "2025-03-14T23:30:00"  # the zip's own local time, no zone: the deadlines' zone reads it
    assert datetime.fromtimestamp(os.path.getmtime(bo)) == datetime(2025, 3, 14, 23, 30)
    assert entry_time(zipfile.ZipInfo("x", (2025, 1, 2, 3, 4, 6)))[0] == "2025-01-02T03:04:06"


def test_a_macos_zip_keeps_accented_names(tmp_path, monkeypatch):
    archive = tmp_path / "mac.zip"
    # macOS's Archive Utility writes UTF-8 names without the UTF-8 flag: zipfile reads them as cp437
    monkeypatch.setattr(zipfile.ZipInfo, "_encodeFilenameFlags", lambda info: (info.filename.encode("cp437"), info.flag_bits))
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("Zoë.ipynb".encode().decode("cp437")), b"{}")
    monkeypatch.undo()
    assert (extract_zip(archive, tmp_path / "u").folder / "Zoë.ipynb").is_file()


def test_a_folder_with_two_notebooks_grades_one_and_names_the_other(tmp_path):
    (tmp_path / "ann" / "realnvp").mkdir(parents=True)
    (tmp_path / "ann" / "realnvp" / "realnvp.ipynb").write_text("{}")
    (tmp_path / "ann" / "old.ipynb").write_text("{}")
    (tmp_path / "ann" / "notes.pdf").write_text("%PDF")
    found = survey(tmp_path, "realnvp")
    ann = found.submissions[0]
    assert ann.path.name == "realnvp.ipynb"
    assert any("2 notebooks in the folder: graded realnvp/realnvp.ipynb, not old.ipynb" in n for n in ann.notes)
    assert any(w == "ann/: graded realnvp/realnvp.ipynb; not graded: notes.pdf, old.ipynb" for w in found.warnings)


def test_two_submissions_of_one_student_id_both_get_rows_and_are_said(tmp_path):
    (tmp_path / "ann.ipynb").write_text("{}")
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "realnvp.ipynb").write_text("{}")
    found = survey(tmp_path, "realnvp")
    assert [s.student_id for s in found.submissions] == ["ann", "ann (2)"]
    assert any("two submissions are named 'ann'" in w and "'ann (2)'" in w for w in found.warnings)
    assert any("also named 'ann'" in n for n in found.submissions[1].notes)


def test_system_files_are_ignored_and_listed_once(tmp_path):
    (tmp_path / "__MACOSX" / "._ann.ipynb").parent.mkdir()
    (tmp_path / "__MACOSX" / "._ann.ipynb").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / ".DS_Store").write_text("")
    (tmp_path / "ann" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ann" / "realnvp.ipynb").write_text("{}")
    found = survey(tmp_path, "realnvp")
    assert [s.student_id for s in found.submissions] == ["ann"] and found.submissions[0].notes == ()
    junk = [w for w in found.warnings if w.startswith("ignored")]
    assert junk == ["ignored, not submissions (system files): .DS_Store (2), .ipynb_checkpoints (1), __MACOSX (1)"]


def test_links_pipes_and_empty_folders_each_get_a_row_that_says_why(tmp_path):
    (tmp_path / "eve.ipynb").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pip.ipynb")  # reading a pipe would block the grader forever
    (tmp_path / "lee").mkdir()
    (tmp_path / "max").mkdir()
    (tmp_path / "max" / "realnvp.ipynb").symlink_to("/etc/hostname")
    rows = {s.student_id: s for s in survey(tmp_path, "realnvp").submissions}
    assert rows["eve"].refused == "eve.ipynb is a symbolic link (to /etc/passwd): not followed, not graded"
    assert rows["pip"].refused == "pip.ipynb is a named pipe, not a file: not read, not graded"
    assert rows["lee"].path is None and rows["lee"].refused == ""  # an empty folder: "no file in the student's folder"
    assert rows["max"].path is None and "holds no file that can be read" in rows["max"].refused


@pytest.mark.parametrize(
    ("name", "student", "user", "late", "file"),
    [
        ("smithjohn_12345_678901_realnvp.ipynb", "smithjohn_12345", "12345", False, "realnvp.ipynb"),
        ("smithjohn_LATE_12345_678901_realnvp-1.ipynb", "smithjohn_12345", "12345", True, "realnvp-1.ipynb"),
        ("núñezjosé_77_88_my notebook.ipynb", "núñezjosé_77", "77", False, "my notebook.ipynb"),
        ("LATE_anon_x7Y2k_678901_realnvp.ipynb", "anon_x7Y2k", "", True, "realnvp.ipynb"),
        ("o_brien_12_34_realnvp.ipynb", "o_brien_12", "12", False, "realnvp.ipynb"),
    ],
)
def test_canvas_file_names_give_the_student_the_user_id_and_the_late_mark(name, student, user, late, file):
    found = canvas_name(name)
    assert (found.student_id, found.user_id, found.late, found.file_name) == (student, user, late, file)


def test_plain_file_names_are_not_taken_for_canvas_ones():
    assert canvas_name("ann.ipynb") is None and canvas_name("ann_realnvp.ipynb") is None


def test_a_canvas_download_makes_one_row_per_student_from_their_files(tmp_path):
    for name in ("smithjohn_LATE_12345_1_realnvp.ipynb", "smithjohn_LATE_12345_2_notes.pdf", "doejane_777_3_realnvp.ipynb"):
        (tmp_path / name).write_text("{}")
    found = survey(tmp_path, "realnvp")
    rows = {s.student_id: s for s in found.submissions}
    assert sorted(rows) == ["doejane_777", "smithjohn_12345"]
    smith = rows["smithjohn_12345"]
    assert (smith.path.name, smith.lms_id, smith.lms_marks, smith.submitted_from) == (
        "smithjohn_LATE_12345_1_realnvp.ipynb",
        "12345",
        "LATE",
        "Canvas file name",
    )
    assert smith.submitted_at == ""  # Canvas's zip entries carry the zip's time, not the submission's
    assert any(
        "smithjohn_12345: graded smithjohn_LATE_12345_1_realnvp.ipynb; not graded: smithjohn_LATE_12345_2_notes.pdf" in w
        for w in found.warnings
    )
    assert rows["doejane_777"].lms_marks == ""


def test_nbgraders_timestamp_comes_first_then_the_zip_entry_then_the_file_time(tmp_path):
    folder = tmp_path / "ann" / "realnvp"
    folder.mkdir(parents=True)
    notebook = folder / "realnvp.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_700_000_000, 1_700_000_000))
    assert submission_time(notebook, tmp_path / "ann") == ("2023-11-14T22:13:20+00:00", "file time", [])
    assert submission_time(notebook, tmp_path / "ann", {notebook.resolve(): "2025-03-14T23:30:00"})[:2] == (
        "2025-03-14T23:30:00",
        "zip entry",
    )
    (folder / "timestamp.txt").write_text("2025-03-14 23:59:00.123456 CET")  # nbgrader's own format
    assert submission_time(notebook, tmp_path / "ann")[:2] == ("2025-03-14T22:59:00.123456+00:00", "timestamp.txt")


@pytest.mark.parametrize(
    ("text", "expected", "says"),
    [
        ("2025-03-14 23:59:00.000000 UTC", "2025-03-14T23:59:00+00:00", ""),
        ("2025-03-14 23:59:00", "2025-03-14T23:59:00+00:00", ""),  # naive: UTC, as nbgrader reads it
        ("2025-03-14 23:59:00 -0500", "2025-03-15T04:59:00+00:00", ""),
        ("", "", "is empty"),
        ("yesterday", "", "which is not a time"),
        ("2025-03-14 23:59:00 PST", "", "a time zone nbgrader cannot read ('PST')"),
    ],
)
def test_timestamp_txt_is_read_as_nbgrader_reads_it_and_a_doubtful_one_is_not_used(tmp_path, text, expected, says):
    path = tmp_path / "timestamp.txt"
    path.write_text(text)
    moment, why = read_timestamp(path)
    assert moment == expected and says in why


def test_an_unusable_timestamp_falls_back_to_the_file_time_with_a_note(tmp_path):
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "realnvp.ipynb").write_text("{}")
    (tmp_path / "ann" / "timestamp.txt").write_text("")
    ann = survey(tmp_path, "realnvp").submissions[0]
    assert ann.submitted_from == "file time" and any("timestamp.txt is empty: not used" in n for n in ann.notes)


def test_a_student_s_files_are_staged_without_junk_links_or_notebooks_and_within_both_caps(tmp_path, monkeypatch):
    from autograder.grader.intake import junk

    folder = tmp_path / "ann"
    for name in ("a.txt", "data/b.csv", "__MACOSX/._a.txt", ".hidden/c.txt", ".DS_Store", "sub/Thumbs.db", "answers.ipynb"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x" * 10)
    (folder / "link.txt").symlink_to(folder / "a.txt")
    staged = junk.student_files(folder, {folder / "answers.ipynb"})
    assert [str(relative) for relative, _ in staged] == ["a.txt", "data/b.csv"]
    monkeypatch.setattr(junk, "MAX_STUDENT_FILES", 1)
    assert [str(relative) for relative, _ in junk.student_files(folder, {folder / "answers.ipynb"})] == ["a.txt"]
    monkeypatch.setattr(junk, "MAX_STUDENT_FILES", 1000)
    monkeypatch.setattr(junk, "MAX_STUDENT_FILES_BYTES", 15)
    assert [str(relative) for relative, _ in junk.student_files(folder, {folder / "answers.ipynb"})] == ["a.txt"]
