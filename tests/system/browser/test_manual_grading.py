"""Written answers graded by hand: a master's manual answer cells carried through extraction, assembly, the gradebook
(needs_manual_grade), formgrader's course directory in OUT, and back into every report once a person scored them.

A tiny master that exists only in the tests (tests/fixtures/tiny_written_master.py) asks one Markdown question and
one code question graded by hand. The pieces are tested without a kernel; then three submissions (the master's
answers, the release left blank, a hostile one that turned the Markdown answer into code) are graded once by
`grade`'s own batch, scored through the gradebook as formgrader's handlers score, and reported by `report`; and
formgrader itself, in Chromium, lists them and grades a written answer.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
from conftest import REPO
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearSolutions

from autograder.grader.core.assignment import AssignmentError
from autograder.grader.core.assignment import source_digest as master_digest
from autograder.grader.core.files import write_atomic
from autograder.grader.core.layout import autograded_path, feedback_path, source_path
from autograder.grader.core.masters import assignment_named, load_assignment, load_notebook, master_paths
from autograder.grader.core.record import AWAITING, GRADED, Record, TestResult, pending
from autograder.grader.integrations.formgrader import autograded_notebook
from autograder.grader.integrations.gradebook import open_gradebook, record_grades
from autograder.grader.integrations.gradescope.results import problems, results
from autograder.grader.integrations.hand_grades import carry_hand_grades, fold_hand_grades
from autograder.grader.pipeline.answers import extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded
from autograder.grader.reports.class_report import report_html
from autograder.grader.reports.feedback import feedback_html, refresh_feedback
from autograder.grader.reports.grades_csv import write_grades_csv
from autograder.grader.runs.grade import Options, grade_batch
from autograder.grader.runs.merge import merge, write_merged
from autograder.notebooks import grade_id, solution_notebook

TINY = REPO / "tests" / "fixtures" / "tiny_written_master.py"
TINY_ASSIGNMENT = load_assignment(TINY)
EXERCISE = TINY_ASSIGNMENT.notebooks[0]
NAME = EXERCISE.name
HOSTILE_CODE = "print('THE WRITTEN ' + 'ANSWER RAN')\n"  # what it prints is not in its source: output only if it ran
COMMENT = "Right idea; say what linearity means for sums."


def _solved():
    return solution_notebook(EXERCISE.nb)


def _released():
    """The notebook a student gets, as nbgrader's generate_assignment clears it."""
    nb, _ = ClearSolutions().preprocess(nbformat.from_dict(EXERCISE.nb), {})
    return nb


def _hostile():
    """The solved notebook with the Markdown answer turned into a code cell that prints."""
    nb = _solved()
    cell = next(c for c in nb.cells if grade_id(c) == "why_linear")
    cell.cell_type, cell.source, cell.outputs, cell.execution_count = "code", HOSTILE_CODE, [], None
    return nb


def _bytes(nb):
    return nbformat.writes(nb).encode()


def _record(student, status="ok", points=2.0, message=""):
    tests = [TestResult("test_scaled", points, 2.0, message, points == 2.0)] + pending(TINY_ASSIGNMENT.notebooks, message or AWAITING)
    return Record(student, status, message, tests, assignment=NAME)


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory):
    """A gradebook with every exercise declared and no student: a new gradebook costs seconds (nbgrader runs alembic)."""
    path = tmp_path_factory.mktemp("gradebook") / "empty.db"
    for name in [p.stem for p in master_paths()] + [str(TINY)]:
        open_gradebook(path, assignment_named(name)).close()
    return path


@pytest.fixture
def gradebook_at(empty_gradebook):
    """open(path, exercise name or master path=TINY): a copy of the empty gradebook at path, opened for that exercise."""

    def open_copy(path, name=str(TINY)):
        shutil.copy(empty_gradebook, path)
        return open_gradebook(path, assignment_named(name))

    return open_copy


def _gradebook(gradebook_at, path, *records):
    gb = gradebook_at(path)
    for record in records:
        record_grades(gb, NAME, record)
    return gb


def _score_by_hand(gb, student, gid, score, comment=None, name=NAME):
    """What formgrader's GradeHandler and CommentHandler do on a PUT: manual score (then no manual grade needed), comment."""
    grade = gb.find_grade(gid, name, name, student)
    grade.manual_score = score
    grade.needs_manual_grade = score is None and grade.auto_score is None
    if comment is not None:
        gb.find_comment(gid, name, name, student).manual_comment = comment
    gb.db.commit()


def _flags(path, assignment):
    """(student, grade_id) -> needs_manual_grade of every grade in the gradebook at path."""
    with Gradebook(f"sqlite:///{path}") as gb:
        return {(s.student.id, g.name): g.needs_manual_grade for s in gb.assignment_submissions(assignment) for g in s.notebooks[0].grades}


# --- what a master declares ---------------------------------------------------------------------------------------


def test_a_master_declares_its_questions_graded_by_hand_beside_its_tests():
    assert EXERCISE.tests == (("test_scaled", 2.0),)
    assert [(m.grade_id, m.points, m.cell_type) for m in EXERCISE.manual] == [("why_linear", 1.0, "markdown"), ("table", 2.0, "code")]
    assert EXERCISE.manual[0].rubric.startswith("1 point: it multiplies by a constant") and EXERCISE.manual[1].rubric == ""
    assert (EXERCISE.auto_max_score, EXERCISE.max_score) == (2.0, 5.0)


def test_a_manual_cell_without_points_is_refused_with_what_to_do(tmp_path):
    edit = ('"grade_id": "why_linear", "locked": false, "points": 1', '"grade_id": "why_linear", "locked": false, "points": 0')
    text = TINY.read_text(encoding="utf-8")
    assert edit[0] in text
    (tmp_path / "bad_master.py").write_text(text.replace(*edit), encoding="utf-8")
    with pytest.raises(AssignmentError, match="points > 0"):
        load_notebook(tmp_path / "bad_master.py")


def test_a_task_cell_is_a_question_graded_by_hand_as_nbgrader_s_task_cells_are(tmp_path):
    """nbgrader's task cell (task: true, points): its answer is the cells around it; a person grades it."""
    edit = ('"solution": true, "task": false} autograder={"rubric"', '"solution": false, "task": true} autograder={"rubric"')
    text = TINY.read_text(encoding="utf-8")
    assert edit[0] in text
    (tmp_path / "task_master.py").write_text(text.replace(*edit), encoding="utf-8")
    task = next(m for m in load_notebook(tmp_path / "task_master.py").manual if m.grade_id == "why_linear")
    assert (task.kind, task.points) == ("task", 1.0)


# --- extraction and assembly --------------------------------------------------------------------------------------


def _assembled(nb):
    return assemble_graded(EXERCISE, extract(read_cells(_bytes(nb)), EXERCISE))


def _cell(graded, gid):
    """The cell of gid that carries its grade (a test's last part)."""
    return [c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("grade_id") == gid][-1]


def test_written_answers_are_found_by_grade_id_and_keep_the_master_cell_type():
    graded = _assembled(_solved())
    text, code = _cell(graded, "why_linear"), _cell(graded, "table")
    assert (text.cell_type, text.metadata["autograder"]["kind"]) == ("markdown", "manual")
    assert text.source.startswith("It multiplies its input by a constant")
    assert (code.cell_type, code.metadata["autograder"]["kind"]) == ("code", "manual") and 'print(f"scaled({x})' in code.source


def test_a_written_answer_turned_into_code_stays_text_and_is_never_run():
    found = extract(read_cells(_bytes(_hostile())), EXERCISE)
    assert "answer cell 'why_linear' was a code cell: kept as text, never run" in found.notes
    cell = _cell(assemble_graded(EXERCISE, found), "why_linear")
    assert cell.cell_type == "markdown" and cell.source == HOSTILE_CODE
    assert found.answers.keys() == {"scaled", "table"} and found.written == {"why_linear": HOSTILE_CODE}  # only code runs


def test_a_missing_written_answer_is_shown_as_missing():
    nb = _solved()
    nb.cells = [c for c in nb.cells if grade_id(c) != "why_linear"]
    found = extract(read_cells(_bytes(nb)), EXERCISE)
    assert "answer cell 'why_linear' is missing" in found.notes
    assert "no answer" in _cell(assemble_graded(EXERCISE, found), "why_linear").source


def test_the_autograded_notebook_keeps_text_and_images_and_escapes_a_written_answer_s_html():
    nb = _solved()
    next(c for c in nb.cells if grade_id(c) == "why_linear").source = "a < b, and <img src=x onerror=alert(1)>"
    graded = _assembled(nb)
    test = _cell(graded, "test_scaled")
    test.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"checked\n{graded.tokens['test_scaled']}\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<script>steal()</script>", "text/plain": "a table"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "steal()"}),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="off", traceback=[f"{graded.guard}.restore(globals())\nassert x"]),
    ]
    shown = autograded_notebook(graded.nb, graded, EXERCISE)
    kinds = [c.metadata.get("autograder", {}).get("kind") for c in shown.cells]
    assert "guard" not in kinds and "report" not in kinds and kinds.count("rubric") == 1
    text = nbformat.writes(shown)
    assert graded.guard not in text and graded.tokens["test_scaled"] not in text and "steal()" not in text
    cells = {
        c.metadata.get("autograder", {}).get("grade_id"): c for c in shown.cells if c.metadata.get("autograder", {}).get("kind") != "rubric"
    }
    assert cells["why_linear"].source == "a < b, and &lt;img src=x onerror=alert(1)>"
    assert (
        cells["why_linear"].metadata["nbgrader"] == next(c for c in EXERCISE.nb.cells if grade_id(c) == "why_linear").metadata["nbgrader"]
    )
    assert [o.get("text", o.get("data")) for o in cells["test_scaled"].outputs[:2]] == ["checked\n", {"text/plain": "a table"}]
    assert "### BEGIN HIDDEN TESTS" in cells["test_scaled"].source  # OUT is the instructors': hidden tests stay
    rubric = shown.cells[kinds.index("rubric")]
    assert shown.cells[kinds.index("rubric") - 1] is cells["why_linear"] and "0.5 points: says it multiplies" in rubric.source


# --- the gradebook ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [p.stem for p in master_paths()] + [str(TINY)])
def test_no_autograded_grade_is_flagged_for_manual_grading_and_every_written_answer_is(tmp_path, gradebook_at, name):
    exercise = assignment_named(name)
    passed = [TestResult(gid, points, points) for gid, points in exercise.tests]
    failed = [TestResult(gid, 0.0, points, "AssertionError: wrong") for gid, points in exercise.tests]
    gb = gradebook_at(tmp_path / "gradebook.db", name)
    for student, tests, status in (("ann", passed, "ok"), ("bob", failed, "timeout"), ("cy", failed, "not a notebook")):
        written = pending(exercise.notebooks, AWAITING if status == "ok" else status)
        record = Record(student, status, "", tests + written, assignment=exercise.name)
        record_grades(gb, exercise.name, record)
    gb.close()
    flags = _flags(tmp_path / "gradebook.db", exercise.name)
    manual = set(exercise.manual_ids)
    assert manual and len(flags) == 3 * (len(exercise.tests) + len(manual))
    assert {key for key, needs in flags.items() if needs} == {(s, gid) for s in ("ann", "bob") for gid in manual}  # cy's file never ran


def test_a_new_gradebook_is_what_nbgrader_makes_and_a_second_opening_changes_nothing(tmp_path):
    """open_gradebook creates a new gradebook without nbgrader's `alembic` subprocess: the same tables and schema
    revision as nbgrader's own Gradebook gives one; opened again for the same master, it writes nothing."""
    import os
    import sqlite3
    import sys

    from nbgrader.api import Gradebook

    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]  # nbgrader runs `alembic`
    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()
    open_gradebook(tmp_path / "ours.db", assignment_named(str(TINY))).close()

    def schema(path):
        with sqlite3.connect(path) as db:
            tables = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'").fetchall()
            return sorted(tables), db.execute("SELECT version_num FROM alembic_version").fetchall()

    ours, theirs = schema(tmp_path / "ours.db"), schema(tmp_path / "nbgrader.db")
    assert ours == theirs and len(ours[1]) == 1 and len(ours[0]) > 10
    before = (tmp_path / "ours.db").stat().st_mtime_ns
    open_gradebook(tmp_path / "ours.db", assignment_named(str(TINY))).close()
    assert (tmp_path / "ours.db").stat().st_mtime_ns == before


def test_a_person_s_score_survives_a_rerun_and_a_test_a_person_scored_is_flagged_again(tmp_path, gradebook_at):
    gb = _gradebook(gradebook_at, tmp_path / "gradebook.db", _record("ann"))
    _score_by_hand(gb, "ann", "why_linear", 0.5, COMMENT)
    _score_by_hand(gb, "ann", "test_scaled", 1.0)
    record_grades(gb, NAME, _record("ann"))  # a rerun of `grade`
    grade, test = gb.find_grade("why_linear", NAME, NAME, "ann"), gb.find_grade("test_scaled", NAME, NAME, "ann")
    assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade, grade.score) == (0.5, None, False, 0.5)
    assert (test.auto_score, test.needs_manual_grade) == (2.0, True)  # nbgrader's rule: a person's score on a test wants a look
    gb.close()


def test_hand_grades_are_folded_into_the_records_clamped_and_unfolded_when_cleared(tmp_path, gradebook_at, capsys):
    path = tmp_path / "gradebook.db"
    records = [_record("ann"), _record("bob")]
    gb = _gradebook(gradebook_at, path, *records)
    _score_by_hand(gb, "ann", "why_linear", 0.5, COMMENT)
    _score_by_hand(gb, "ann", "table", 7.0)  # formgrader accepts any number
    _score_by_hand(gb, "bob", "test_scaled", 0.0)
    gb.close()
    assert fold_hand_grades(path, TINY_ASSIGNMENT, records) == [records[0]]
    ann = {t.grade_id: t for t in records[0].tests}
    assert (ann["why_linear"].points, ann["why_linear"].message, ann["why_linear"].manual) == (0.5, COMMENT, True)
    assert ann["table"].points == 2.0 and ann["table"].message.startswith(GRADED) and "counted as 2" in ann["table"].message
    assert (records[0].score, records[0].max_score) == (4.5, 5.0) and records[0].points()["why_linear"] == 0.5
    assert [t.message for t in records[1].tests if t.manual] == [AWAITING, AWAITING] and records[1].score == 2.0
    assert "bob: the gradebook's manual score for the autograded test test_scaled is not counted" in capsys.readouterr().err
    assert fold_hand_grades(path, TINY_ASSIGNMENT, records) == []  # nothing changes twice
    with Gradebook(f"sqlite:///{path}") as gb:
        _score_by_hand(gb, "ann", "why_linear", None)
    fold_hand_grades(path, TINY_ASSIGNMENT, records)
    assert {t.grade_id: (t.points, t.message) for t in records[0].tests}["why_linear"] == (0.0, AWAITING)


def test_a_fresh_gradebook_gets_the_hand_grades_carried_over(tmp_path, gradebook_at):
    gb = _gradebook(gradebook_at, tmp_path / "old.db", _record("ann"), _record("bob"))
    _score_by_hand(gb, "ann", "why_linear", 1.0, COMMENT)
    gb.close()
    fresh = _gradebook(gradebook_at, tmp_path / "fresh.db", _record("ann"), _record("bob"))
    assert carry_hand_grades(tmp_path / "old.db", fresh, TINY_ASSIGNMENT, ["ann", "bob"]) == 1
    grade = fresh.find_grade("why_linear", NAME, NAME, "ann")
    assert (grade.manual_score, grade.needs_manual_grade) == (1.0, False)
    assert fresh.find_comment("why_linear", NAME, NAME, "ann").manual_comment == COMMENT
    fresh.close()


@pytest.mark.slow
def test_a_merge_again_into_the_same_out_keeps_the_scores_a_person_gave_there(tmp_path):
    exercise = assignment_named("realnvp")
    shard = tmp_path / "shard"
    for student in ("ann", "bob"):
        tests = [TestResult(gid, points, points) for gid, points in exercise.tests] + pending(exercise.notebooks)
        record = Record(
            student, "ok", "", tests, assignment=exercise.name, master_sha256=master_digest(exercise.source), graded_at=1.0
        )
        write_atomic(shard / "records" / f"{student}.json", record.to_json())
    out, gid = tmp_path / "merged", exercise.manual_ids[0]
    write_merged(merge([shard]), out)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        _score_by_hand(gb, "ann", gid, 1.0, COMMENT, name=exercise.name)
    write_merged(merge([shard]), out)  # a shard was graded again, say: the merge writes a fresh gradebook
    assert (_rows(out)["ann"][gid], _rows(out)["bob"][gid], _rows(out)["ann"]["score"]) == ("1.0", "", str(exercise.auto_max_score + 1))
    assert _flags(out / "gradebook.db", exercise.name)[("ann", gid)] is False and _flags(out / "gradebook.db", exercise.name)[("bob", gid)]


# --- the reports, from records ------------------------------------------------------------------------------------


def _graded_record():
    record = _record("ann")
    record.tests[1] = TestResult("why_linear", 0.5, 1.0, COMMENT, manual=True)
    return record


def test_grades_csv_has_a_column_per_written_answer_left_empty_while_it_awaits_a_person(tmp_path):
    write_grades_csv(tmp_path / "grades.csv", [_graded_record(), _record("bob")], ["test_scaled", *EXERCISE.manual_ids])
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert list(rows["ann"])[:4] == ["student_id", "test_scaled", "why_linear", "table"]
    assert [rows["ann"][k] for k in ("why_linear", "table", "score", "max_score")] == ["0.5", "", "2.5", "5.0"]
    assert [rows["bob"][k] for k in ("why_linear", "table", "score")] == ["", "", "2.0"]


def test_gradescope_shows_a_written_answer_as_a_note_until_graded_then_its_score_and_comment():
    pending_data, graded_data = results(_record("bob")), results(_graded_record())
    assert problems(pending_data) == [] and problems(graded_data) == []
    note = next(t for t in pending_data["tests"] if t["name"].startswith("why_linear"))
    assert note == {
        "name": "why_linear: written answer, graded by hand (1 point)",
        "output": AWAITING,
        "output_format": "text",
        "visibility": "visible",
    }
    scored = next(t for t in graded_data["tests"] if t["name"].startswith("why_linear"))
    assert (scored["score"], scored["max_score"], scored["status"], scored["output"]) == (0.5, 1.0, "failed", COMMENT)
    assert graded_data["score"] == 2.5
    note["max_score"] = 1.0
    assert any("has no score but a max_score" in p for p in problems(pending_data))


def test_feedback_shows_the_written_answer_and_only_once_graded_its_score_comment_and_rubric(tmp_path):
    graded = _assembled(_solved())
    shown = autograded_notebook(graded.nb, graded, EXERCISE)
    page = tmp_path / "bob.html"
    page.write_text(feedback_html(_record("bob"), shown, title="Tiny", rubrics=EXERCISE.rubrics), encoding="utf-8")
    waiting = page.read_text(encoding="utf-8")
    assert "your written answer why_linear" in waiting and "It multiplies its input by a constant" in waiting
    assert "Written answers awaiting manual grading: 3 points" in waiting and "– / 1" in waiting and AWAITING in waiting
    assert "0.5 points: says it multiplies" not in waiting  # the rubric, before grading
    record = _graded_record()
    record.student_id = "bob"
    assert refresh_feedback(page, record, "Tiny", EXERCISE.rubrics)  # what report does once a person graded
    graded_page = page.read_text(encoding="utf-8")
    assert "written answer why_linear: 0.5 / 1" in graded_page and COMMENT.replace("'", "&#x27;") in graded_page
    assert "0.5 points: says it multiplies" in graded_page and "awaiting manual grading: 2 points" in graded_page
    assert "It multiplies its input by a constant" in graded_page  # the notebook below the head is kept


def test_the_class_report_counts_written_answers_apart_from_the_tests():
    records = [_graded_record(), _record("bob"), _record("cy", status="not a notebook", points=0.0, message="not a notebook")]
    page = report_html(TINY_ASSIGNMENT, records)
    tests, written = page.split("<h2>Tests</h2>")[1].split("<h2>Common failures</h2>")[0], page.split("<h2>Written answers</h2>")[1]
    assert "test_scaled" in tests and "why_linear" not in tests and AWAITING not in page.split("<h2>Written answers</h2>")[0]
    rows = re.findall(r"<tr><td><code>(\w+)</code></td>((?:<td class=n>[^<]*</td>)+)</tr>", written)
    assert [(gid, re.findall(r"<td class=n>([^<]*)</td>", cells)) for gid, cells in rows] == [
        ("why_linear", ["1", "1", "1", "0.50"]),  # ann graded 0.5, bob awaits; cy's file never ran: nothing to grade
        ("table", ["2", "0", "2", ""]),
    ]


# --- a class graded by `grade`, scored as formgrader scores, reported by `report` ----------------------------------


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """OUT of `grade` for the master's answers, the release left blank and a hostile submission."""
    folder, out = tmp_path_factory.mktemp("written-subs"), tmp_path_factory.mktemp("written-out")
    for student, nb in (("right", _solved()), ("blank", _released()), ("hostile", _hostile())):
        (folder / f"{student}.ipynb").write_bytes(_bytes(nb))
    grade_batch(folder, out, Options(workers=2, progress=False, gradescope=True, assignment=str(TINY)))
    return out


def _rows(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def _canvas_scores(out, scratch):
    """login -> score in the Canvas import CSV that `export` writes from OUT (before any `report`), and its points row."""
    roster = scratch / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section\n"
        + "".join(f"{s},{i},S{i},{s},A\n" for i, s in enumerate(("right", "blank", "hostile")))
    )
    command = [sys.executable, "-m", "autograder", "export", str(out), "--format", "canvas", "--roster", str(roster), "--title", "Tiny"]
    done = subprocess.run(
        [*command, "--assignment", str(TINY), "--output", str(scratch / "canvas.csv")], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with open(scratch / "canvas.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return {row[3] or row[0]: float(row[5]) for row in rows[1:]}


def _report(out):
    command = [sys.executable, "-m", "autograder", "report", str(out), "--assignment", str(TINY)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_graded_written_answers_await_a_person_in_the_gradebook_and_in_every_report(graded_class):
    out = graded_class
    flags = _flags(out / "gradebook.db", NAME)
    assert {key for key, needs in flags.items() if needs} == {
        (s, gid) for s in ("right", "blank", "hostile") for gid in EXERCISE.manual_ids
    }
    rows = _rows(out)
    assert [(rows[s]["test_scaled"], rows[s]["why_linear"], rows[s]["table"], rows[s]["score"]) for s in ("right", "blank")] == [
        ("2.0", "", "", "2.0"),
        ("0.0", "", "", "0.0"),
    ]
    assert "kept as text, never run" in rows["hostile"]["message"]
    hostile = nbformat.read(autograded_path(out, "hostile", NAME), as_version=4)
    written = next(c for c in hostile.cells if grade_id(c) == "why_linear")
    ran = [c for c in hostile.cells if "THE WRITTEN ANSWER RAN" in json.dumps(c.get("outputs", []))]
    assert (written.cell_type, written.source, ran) == ("markdown", HOSTILE_CODE, [])
    right = nbformat.read(autograded_path(out, "right", NAME), as_version=4)
    assert "scaled(2) = 6.0" in json.dumps([c.get("outputs", []) for c in right.cells])  # a code answer graded by hand runs
    source = nbformat.read(source_path(out, NAME), as_version=4)
    assert next(c for c in source.cells if grade_id(c) == "why_linear").metadata["autograder"]["rubric"]  # instructors' copy


@pytest.mark.slow
def test_scores_given_in_the_gradebook_reach_grades_csv_the_records_the_feedback_and_gradescope(graded_class, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded_class, out)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        _score_by_hand(gb, "right", "why_linear", 0.5, COMMENT)
        _score_by_hand(gb, "right", "table", 2.0)
    assert _canvas_scores(out, tmp_path) == {"right": 4.5, "blank": 0.0, "hostile": 2.0, "Points Possible": EXERCISE.max_score}
    done = _report(out)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(out)
    assert [rows["right"][k] for k in ("test_scaled", "why_linear", "table", "score", "max_score")] == ["2.0", "0.5", "2.0", "4.5", "5.0"]
    assert [rows["blank"][k] for k in ("why_linear", "table", "score")] == ["", "", "0.0"]  # left as released: awaits a person
    record = Record.from_json((out / "records" / "right.json").read_text(encoding="utf-8"))
    assert [(t.grade_id, t.points, t.message) for t in record.tests if t.manual] == [("why_linear", 0.5, COMMENT), ("table", 2.0, GRADED)]
    page = feedback_path(out, "right", NAME, NAME).read_text(encoding="utf-8")
    assert "Score: <b>4.5 / 5</b>" in page and "0.5 points: says it multiplies" in page and "scaled(1) = 3.0" in page
    assert "0.5 points: says it multiplies" not in feedback_path(out, "blank", NAME, NAME).read_text(encoding="utf-8")
    gradescope = json.loads((out / "results" / "right.json").read_text(encoding="utf-8"))
    assert problems(gradescope) == [] and gradescope["score"] == 4.5
    assert _flags(out / "gradebook.db", NAME)[("blank", "why_linear")] is True
    before = {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()}
    assert _report(out).returncode == 0 and {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()} == before


@pytest.mark.slow
def test_feedback_pages_show_no_hidden_test_code_or_tokens(graded_class):
    for page in (graded_class / "feedback").glob(f"*/{NAME}/{NAME}.html"):
        text = page.read_text(encoding="utf-8")
        assert "scaled(-2.0)" not in text and "HIDDEN TESTS" not in text and "[autograder" not in text and "_ag_" not in text, page.name


# --- formgrader, in the browser -----------------------------------------------------------------------------------

ARTIFACTS = REPO / "artifacts" / "formgrader"


@pytest.mark.slow
@pytest.mark.browser
def test_formgrader_lists_the_class_shows_the_written_answers_and_grades_one(graded_class, tmp_path):
    import jupyterlab_browser as lab
    from playwright.sync_api import sync_playwright

    if not lab.CHROMIUM.exists():
        message = f"{lab.CHROMIUM} not found: run scripts/install-browser.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path / "out"
    shutil.copytree(graded_class, out)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with lab.jupyterlab(out, tmp_path / "scratch", [f"--CourseDirectory.root={out}"]) as (url, token), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(lab.CHROMIUM), args=lab.CHROMIUM_ARGS)
        page = chromium.new_page(viewport=lab.VIEWPORT)
        page.goto(f"{url}/formgrader?token={token}")  # logs in (a cookie); formgrader's pages take no token of their own
        page.goto(f"{url}/formgrader/gradebook/{NAME}/{NAME}")
        try:
            page.locator("td", has_text="Submission #3").wait_for(timeout=60_000)
        finally:
            page.screenshot(path=ARTIFACTS / "submissions.png", full_page=True)
        needs_manual_grade = page.locator("tbody tr td:nth-child(7) .glyphicon-ok")  # the "Needs Manual Grade?" column
        assert page.locator("tbody tr").count() == 3 and needs_manual_grade.count() == 3
        [right] = [
            s
            for s in page.evaluate(f"fetch('{url}/formgrader/api/submitted_notebooks/{NAME}/{NAME}').then(r => r.json())")
            if s["student"] == "right"
        ]
        page.goto(f"{url}/formgrader/submissions/{right['id']}/")
        page.locator("#why_linear").wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "It multiplies its input by a constant" in body and "Rubric of why_linear" in body and "scaled(2) = 6.0" in body
        page.wait_for_load_state("networkidle")  # the boxes save through handlers bound once the page's models load
        saved = False
        for _ in range(4):  # on a busy machine the first change can come before them: typed again, as a grader would
            for box, value in (("#why_linear", "1"), ("#why_linear-comment", COMMENT)):
                page.fill(box, "")
                page.fill(box, value)
                page.locator(box).press("Tab")  # formgrader saves a box when it loses the focus
            saved = _wait_for(lambda: _grading_of(out, "right", "why_linear") == (1.0, False, COMMENT), 15)
            if saved:
                break
        page.screenshot(path=ARTIFACTS / "submission.png", full_page=True)
        chromium.close()
    assert saved, f"formgrader did not save the score and the comment: {_grading_of(out, 'right', 'why_linear')}"
    assert _report(out).returncode == 0 and _rows(out)["right"]["why_linear"] == "1.0"


def _grading_of(out, student, gid):
    """(manual score, needs manual grade, comment) of one answer in OUT's gradebook."""
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade, comment = gb.find_grade(gid, NAME, NAME, student), gb.find_comment(gid, NAME, NAME, student)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment


def _wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
