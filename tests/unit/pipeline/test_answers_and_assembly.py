"""The grader's pieces that need no kernel: finding submissions, reading them tolerantly, assembling, reporting."""

import subprocess
import zipfile

import nbformat
import pytest
from hostile_bank import _base, _stripped
from strays import is_stray, stray_processes

from autograder.course import examples
from autograder.grader.core.ids import safe_name
from autograder.grader.core.masters import assignment_named, master_paths
from autograder.grader.core.record import Record
from autograder.grader.intake.archive import extract_zip
from autograder.grader.intake.submissions import discover
from autograder.grader.integrations.formgrader import autograded_notebook
from autograder.grader.pipeline.answers import NotANotebook, extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded, suspicious
from autograder.grader.pipeline.names import defined_names
from autograder.grader.reports.feedback import feedback_html


def _nb_bytes(answer_sources):
    return nbformat.writes(examples.filled(answer_sources)).encode()


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


def test_safe_name_keeps_unicode_and_spaces_but_not_separators():
    assert safe_name("José Ñúñez 李") == "José Ñúñez 李"
    assert "/" not in safe_name("../../etc/passwd") and not safe_name("..").startswith(".")


@pytest.mark.parametrize("data", [b"", b"{oops", b"%PDF-1.4\x00\x01", b"[1, 2]", b'{"cells": 3}'])
def test_what_is_not_a_notebook_says_so(data):
    with pytest.raises(NotANotebook):
        read_cells(data)


def test_answers_are_found_by_what_they_define_when_metadata_is_stripped(exercise):
    found = extract(read_cells(_stripped()), exercise)
    assert set(found.answers) == set(exercise.answer_ids)
    assert found.extras == {}


def test_missing_answers_raise_and_added_cells_follow_their_anchor(exercise):
    nb = examples.filled(_base())
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "nll"]
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "coupling")
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("my_helper = 1"))
    found = extract(read_cells(nbformat.writes(nb).encode()), exercise)
    graded = assemble_graded(exercise, found)
    sources = [c.source for c in graded.nb.cells if c.cell_type == "code"]
    nll = next(c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("grade_id") == "nll")
    assert "NotImplementedError" in nll.source
    coupling = next(i for i, c in enumerate(graded.nb.cells) if c.metadata.get("autograder", {}).get("grade_id") == "coupling")
    assert graded.nb.cells[coupling + 1].source == "my_helper = 1" and sources.count("my_helper = 1") == 1


def test_test_cells_in_the_graded_notebook_are_the_masters_with_hidden_tests(exercise):
    found = extract(read_cells(_nb_bytes(_base())), exercise)
    graded = assemble_graded(exercise, found)
    tests = [c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("kind") == "test"]
    assert len(tests) == len(exercise.tests) and all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    assert len(set(graded.all_tokens())) == 2 * len(exercise.tests) + 1  # and the restore lines' common start
    kinds = [c.metadata.get("autograder", {}).get("kind") for c in graded.nb.cells]
    firsts = [i for i, kind in enumerate(kinds) if kind in ("visible", "test") and kinds[i - 1] not in ("visible", "test")]
    assert len(firsts) == len(exercise.tests) and all(kinds[i - 1] == "restore" for i in firsts), "a restore request before each test"
    assert kinds.count("visible") == len(exercise.tests), "each test's visible checks are a request of their own"


def test_feedback_never_contains_hidden_tests_even_from_executed_cells(exercise):
    graded = assemble_graded(exercise, extract(read_cells(_nb_bytes(_base())), exercise))
    record = Record("x", "ok", "", [])
    page = feedback_html(record, graded.nb, graded.all_tokens())
    assert "HIDDEN" not in page and "_hidden_formula" not in page and "_ag_" not in page


def test_defined_names_finds_what_a_cell_binds():
    assert set(defined_names("import numpy as np\nfor a in b:\n    c = 1\ndef f():\n    d = 2\n")) == {"np", "a", "f", "c"}


def test_suspicious_code_is_flagged_for_review():
    assert "ctypes" in suspicious({"x": "import ctypes"}, {})
    assert suspicious({"x": "torch.allclose = lambda *a: True"}, {}) == ["assignment to a library attribute"]
    assert suspicious(examples.answers(), {}) == []


def test_bundled_examples_are_generated_from_the_masters_and_up_to_date():
    for master in master_paths():
        for name, text in examples.example_files(master.stem).items():
            path = examples.EXAMPLES / master.stem / name
            assert path.is_file() and path.read_text(encoding="utf-8") == text, f"{path} is stale: python -m autograder.course.examples"


def test_the_stray_check_finds_sleep_strays_and_nothing_that_merely_mentions_the_mark():
    """The check the batch tests end with: a `sleep MARK.n` is found wherever it lives, a browser whose random handles
    contain the digits is not (in CI, eight Chromium processes of the browser tests on the other worker were counted)."""
    mark = "9739"  # a mark no bank uses, so that the batch tests' own checks never see this process
    assert is_stray(["/usr/bin/sleep", f"{mark}.4"], mark) and is_stray(["sleep", f"{mark}.1"], mark)
    assert not is_stray(["/usr/lib/chromium/chromium", f"--field-trial-handle=3,i,1{mark}0,6"], mark)
    assert not is_stray(["sleep", f"1{mark}.1"], mark) and not is_stray(["python", "-c", f"sleep {mark}.1"], mark)
    assert not is_stray(None, mark) and not is_stray([], mark)
    sleeper = subprocess.Popen(["sleep", f"{mark}.5"])
    try:
        assert [p.pid for p in stray_processes(mark)] == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert stray_processes(mark) == []


def test_output_a_kernel_sent_in_pieces_is_shown_and_filtered_as_one_text(exercise):
    """ipykernel flushes at its own times: one print may arrive as two stream outputs, split anywhere. The feedback
    page and the autograded notebook show the pieces as one text and drop a token even when it was cut in two."""
    graded = assemble_graded(exercise, extract(read_cells(_nb_bytes(_base())), exercise))
    test = next(c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("kind") in ("visible", "test"))
    test_id = test.metadata["autograder"]["grade_id"]
    token = graded.tokens[test_id]
    pieces = ["checked\n", token[:7], token[7:] + "\n", "SANDBOX", " PROBE strays e30=\n"]
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text=piece) for piece in pieces]
    test.outputs.insert(1, nbformat.v4.new_output("stream", name="stderr", text="a warning\n"))  # another stream: kept apart
    page = feedback_html(Record("x", "ok", "", []), graded.nb, graded.all_tokens())
    assert "<pre class=out>SANDBOX PROBE strays e30=\n</pre>" in page.replace("checked\n", "")
    assert token[:7] not in page and token[7:] not in page and "a warning" in page
    shown = autograded_notebook(graded.nb, graded, exercise)
    outputs = next(c for c in shown.cells if c.metadata.get("autograder", {}).get("grade_id") == test_id).outputs
    expected = [("stdout", "checked\n"), ("stderr", "a warning\n"), ("stdout", "SANDBOX PROBE strays e30=\n")]
    assert [(o.name, o.text) for o in outputs] == expected
    assert len(test.outputs) == 6  # the executed notebook itself is left as the kernel sent it


def test_a_rerun_grades_again_what_a_changed_master_would_grade_differently(tmp_path):
    from autograder.grader.core.record import Record
    from autograder.grader.intake.submissions import Submission
    from autograder.grader.runs.worker import _digest, still_valid

    notebook = tmp_path / "ann.ipynb"
    notebook.write_text("{}")
    record = Record("ann", "ok", "", [], sha256=_digest([notebook]), master_sha256="old")
    submission, assignment = Submission("ann", notebook), assignment_named("realnvp")
    assert still_valid(record, submission, assignment, "old") and not still_valid(record, submission, assignment, "new")
    notebook.write_text('{"cells": []}')
    assert not still_valid(record, submission, assignment, "old")
