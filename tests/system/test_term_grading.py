"""End to end: the bundled examples' OUT (conftest's one-shot run) regraded with `grade --only` from an LMS zip that
also holds unsafe entries, with a deadline, an extension and an override; then every report and both exports.

One notebook is run (the --only student's); the other students keep their records, and every report of the class
is rewritten with the final scores."""

import csv
import json
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest
from conftest import ASSIGNMENT, REPO
from nbgrader.api import Gradebook

from autograder.cli import parser
from autograder.course.examples import EXAMPLES
from autograder.grader.core.layout import feedback_path
from autograder.grader.core.masters import assignment_named
from autograder.grader.integrations.gradescope.results import problems

pytestmark = pytest.mark.slow
EXERCISE = assignment_named("realnvp")
ONLY = "ben_inverse_bug"  # the example with a classic bug: it loses one part's points
DEADLINES = """student,due,penalty,cap,grace,reason
*,2025-03-14T23:59:00+01:00,10% per started day,50%,PT15M,
ada_correct,P3D,,,,doctor's note
"""


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=900)


def _download(path):
    """An LMS zip: ada and ben in nbgrader's layout with nbgrader's timestamp.txt (ada inside her extension, ben
    1 day 12 h late), cleo's broken file flat and on time by its entry's time, and the issue's unsafe entries."""
    with zipfile.ZipFile(path, "w") as bundle:
        for student in ("ada_correct", ONLY):
            bundle.write(EXAMPLES / "realnvp" / f"{student}.ipynb", f"{student}/realnvp/realnvp.ipynb")
            bundle.writestr(f"{student}/realnvp/timestamp.txt", "2025-03-16 11:00:00.000000 UTC")
        cleo = zipfile.ZipInfo("cleo_broken.ipynb", date_time=(2025, 3, 14, 20, 0, 0))
        bundle.writestr(cleo, (EXAMPLES / "realnvp" / "cleo_broken.ipynb").read_bytes())
        bundle.writestr("../../x.ipynb", "{}")
        bundle.writestr("/tmp/y.ipynb", "{}")
        link = zipfile.ZipInfo("link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
        bundle.writestr("__MACOSX/._cleo_broken.ipynb", "")
    return path


@pytest.fixture(scope="module")
def regraded(examples_one_shot, tmp_path_factory):
    """(OUT, rows by student, the one-shot rows, records before) after `grade --only ben` with the term."""
    one_shot, before_rows = examples_one_shot
    work = tmp_path_factory.mktemp("term")
    out = work / "out"
    shutil.copytree(one_shot, out)
    before = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "records").glob("*.json")}
    failing = next(gid for gid, points in EXERCISE.tests if float(before_rows[ONLY][gid]) < points)
    (work / "deadlines.csv").write_text(DEADLINES, encoding="utf-8")
    (work / "overrides.csv").write_text(
        f'student,test,points,reason\n{ONLY},{failing},{dict(EXERCISE.tests)[failing]:g},"regrade: a tolerance, too tight"\n'
    )
    result = _cli(
        "grade",
        _download(work / "download.zip"),
        "--out",
        out,
        "--only",
        ONLY,
        "--gradescope",
        "--workers",
        "1",
        "--quiet",
        "--deadlines",
        work / "deadlines.csv",
        "--overrides",
        work / "overrides.csv",
    )
    assert result.returncode == 0, result.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    return out, rows, before, failing, result


def test_only_the_named_student_is_graded_again_and_the_others_keep_their_records(regraded):
    out, rows, before, _, _ = regraded
    after = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "records").glob("*.json")}
    assert sorted(rows) == sorted(before) == ["ada_correct", ONLY, "cleo_broken"]
    assert after[ONLY]["graded_at"] > before[ONLY]["graded_at"]
    assert all(after[s]["graded_at"] == before[s]["graded_at"] for s in ("ada_correct", "cleo_broken"))


def test_grades_csv_shows_the_late_penalty_the_extension_and_the_override_beside_the_raw_score(regraded):
    _, rows, _, failing, _ = regraded
    top = EXERCISE.auto_max_score  # the written answers await a person: 0 until graded
    ben, ada, cleo = rows[ONLY], rows["ada_correct"], rows["cleo_broken"]
    assert (ben["submitted_from"], ben["late_by"], float(ben[failing])) == (
        "timestamp.txt",
        "1 day 12 h 1 min",
        dict(EXERCISE.tests)[failing],
    )
    penalty = 0.2 * EXERCISE.max_score  # two started days, 10% each of the exercise's maximum (written answers in it)
    assert float(ben["raw_score"]) == top and float(ben["late_penalty"]) == pytest.approx(penalty)
    assert float(ben["score"]) == pytest.approx(top - penalty) and "regrade: a tolerance, too tight" in ben["message"]
    assert ada["late_by"] == "" and ada["due"] == "2025-03-17T23:59:00+01:00" and float(ada["score"]) == top
    assert "extended due time: doctor's note" in ada["message"]
    assert (cleo["submitted_from"], cleo["submitted_at"], cleo["late_by"]) == ("zip entry", "2025-03-14T20:00:00", "")


def test_the_unsafe_entries_links_and_system_files_of_the_zip_are_named_in_the_warnings(regraded):
    out, _, _, _, result = regraded
    warnings = (out / "warnings.txt").read_text(encoding="utf-8")
    for said in (
        "'../../x.ipynb' would land outside",
        "'/tmp/y.ipynb' would land outside",
        "'link.ipynb' is a symbolic link",
        "ignored, not submissions (system files): __MACOSX (1)",
    ):
        assert said in warnings and said in result.stderr


def test_feedback_pages_show_the_penalty_the_extension_and_the_instructors_reason(regraded):
    out, _, _, _, _ = regraded
    ben = feedback_path(out, ONLY, ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    ada = feedback_path(out, "ada_correct", ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    assert "late penalty <b>-2</b>" in ben.replace(f"-{0.2 * EXERCISE.max_score:g}", "-2") and "set by your instructor" in ben
    assert "regrade: a tolerance, too tight" in ben and "your extended due time" in ada
    assert "your answer" in ada  # the graded notebook of the kept record is still below the rewritten head


def test_gradescope_results_carry_the_final_score_for_every_student(regraded):
    out, rows, _, _, _ = regraded
    for student, row in rows.items():
        data = json.loads((out / "results" / f"{student}.json").read_text(encoding="utf-8"))
        assert problems(data) == [] and data["score"] == float(row["score"])
        assert data["extra_data"]["raw_score"] == float(row["raw_score"])


def test_the_gradebook_holds_the_final_scores_in_nbgraders_own_fields(regraded):
    out, rows, _, _, _ = regraded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        got = {
            s.student.id: (s.score, s.late_submission_penalty, s.timestamp is not None) for s in gb.assignment_submissions(EXERCISE.name)
        }
    for student, row in rows.items():
        assert got[student][0] == pytest.approx(float(row["raw_score"])) and got[student][1] == pytest.approx(float(row["late_penalty"]))
        assert max(0.0, got[student][0] - got[student][1]) == pytest.approx(float(row["score"]))
    assert got[ONLY][2]


def _main(*args):
    """The command line in this process (no kernel is started by these commands)."""
    parsed = parser().parse_args([str(a) for a in args])
    return parsed.run(parsed)


def test_both_exports_and_a_report_without_options_give_the_same_final_scores(regraded, tmp_path, capsys):
    out, rows, _, _, _ = regraded
    roster = tmp_path / "roster.csv"
    roster.write_text(
        'Student,ID,SIS User ID,SIS Login ID,Section\n"Lovelace, Ada",11,S1,ada_correct,A\n"Ñúñez, Ben",12,S2,ben_inverse_bug,A\n'
        '"Cleo, Ö",13,S3,cleo_broken,B\n',
        encoding="utf-8",
    )
    assert _main("export", out, "--format", "canvas", "--roster", roster, "--title", "Real NVP", "--assignment-id", "7") == 0
    assert _main("export", out, "--format", "moodle", "--title", "Real NVP") == 0
    with open(out / "canvas.csv", newline="", encoding="utf-8") as handle:
        canvas = list(csv.reader(handle))
    assert {r[3]: float(r[5]) for r in canvas[2:]} == {s: float(r["score"]) for s, r in rows.items()}
    with open(out / "moodle.csv", newline="", encoding="utf-8") as handle:
        moodle = {r[0]: r for r in list(csv.reader(handle))[1:]}
    assert float(moodle[ONLY][1]) == float(rows[ONLY]["score"]) and "penalty" in moodle[ONLY][2]
    before = (out / "grades.csv").read_text(encoding="utf-8")
    capsys.readouterr()
    assert _main("report", out) == 0
    assert "kept from an earlier run" in capsys.readouterr().out  # the instructor's files survive the rerun
    assert (out / "grades.csv").read_text(encoding="utf-8") == before


def test_an_unknown_only_id_is_refused_with_the_known_ones(regraded, capsys):
    assert _main("grade", EXAMPLES / "realnvp", "--out", regraded[0], "--only", "ben", "--quiet") == 2
    said = capsys.readouterr().err
    assert "no submission of 'ben' (did you mean ben_inverse_bug?)" in said and "ada_correct, ben_inverse_bug, cleo_broken" in said
