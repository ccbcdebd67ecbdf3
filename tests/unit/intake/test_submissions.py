"""intake/submissions.py and archive.py: the submissions found in a folder or an LMS zip."""

import zipfile

from autograder.grader.intake.archive import extract_zip
from autograder.grader.intake.submissions import discover


def test_discover_reads_flat_folders_nbgrader_layout_and_odd_names(tmp_path):
    (tmp_path / "Zoë Ångström.ipynb").write_text("{}")
    (tmp_path / "kim" / "realnvp").mkdir(parents=True)
    (tmp_path / "kim" / "realnvp" / "realnvp.ipynb").write_text("{}")
    (tmp_path / "lee").mkdir()
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    found = {s.student_id: s.path for s in discover(tmp_path, "realnvp")}
    assert set(found) == {"Zoë Ångström", "kim", "lee", "notes"}
    assert found["kim"].name == "realnvp.ipynb" and found["lee"] is None


def test_a_zip_from_the_lms_is_unpacked_without_escaping_its_folder(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("class/ann.ipynb", "{}")
        bundle.writestr("class/bo b.ipynb", "{}")
        bundle.writestr("../escape.ipynb", "{}")
    folder = extract_zip(archive, tmp_path / "unpacked").folder
    assert sorted(s.student_id for s in discover(folder, "realnvp")) == ["ann", "bo b"]
    assert not (tmp_path / "escape.ipynb").exists()
