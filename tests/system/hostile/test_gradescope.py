"""Gradescope, without Docker and without Gradescope: the autograder zip, results.json, and run_autograder run in
a temporary tree laid out as Gradescope's (source/, submission/, results/, submission_metadata.json).

The simulated runs use this checkout's .venv (AUTOGRADER_PYTHON) instead of what setup.sh would install;
setup.sh itself is only checked with `bash -n` and read.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from conftest import ASSIGNMENT, MASTER, REPO
from hostile_bank import CORRECT_WITHOUT_TRAINING, HIDDEN_MARKERS, _base, _with_extra

from autograder.cli.gradescope_run import find_notebook, student_id
from autograder.course.examples import EXAMPLES
from autograder.grader.core.masters import load_notebook
from autograder.grader.core.record import Metric, Record, TestResult
from autograder.grader.integrations.gradescope.package import assignments, build_zip
from autograder.grader.integrations.gradescope.results import failure_results, problems, results
from autograder.grader.pipeline.leaderboard import leaderboard

TEST_IDS = [gid for gid, _ in load_notebook(MASTER).tests]  # the autograded test cells, from the master


# --- the zip ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The zip as `python -m autograder gradescope` writes it (no assignment named: one per exercise)."""
    out = tmp_path_factory.mktemp("package")
    result = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out / "gradescope" / f"{ASSIGNMENT}.zip"


def _mode(info):
    return (info.external_attr >> 16) & 0o777


def test_the_zip_has_setup_sh_and_an_executable_run_autograder_at_its_root(package):
    with zipfile.ZipFile(package) as bundle:
        infos = {info.filename: info for info in bundle.infolist()}
    assert {"setup.sh", "run_autograder"} <= set(infos)
    assert _mode(infos["run_autograder"]) & 0o111 == 0o111 and _mode(infos["setup.sh"]) & 0o111 == 0o111
    assert {name.split("/")[0] for name in infos} == {
        "setup.sh",
        "run_autograder",
        "autograder",
        "data",
        "requirements.txt",
        "pyproject.toml",
    }


@pytest.mark.parametrize("name", ["setup.sh", "run_autograder"])
def test_the_scripts_have_lf_line_endings_a_bash_shebang_and_parse(package, tmp_path, name):
    with zipfile.ZipFile(package) as bundle:
        text = bundle.read(name)
    assert b"\r" not in text and text.startswith(b"#!/usr/bin/env bash\n")
    assert not re.search(rb"@[A-Z_]+@", text), "a template placeholder was not filled in"
    (tmp_path / name).write_bytes(text)
    subprocess.run(["bash", "-n", str(tmp_path / name)], check=True)


def test_setup_sh_installs_python_3_11_the_pins_with_cpu_torch_and_creates_the_kernels_user(tmp_path):
    from autograder.grader.confine.processes import UID_BASE

    url = "https://wheels.example/cpu"
    with zipfile.ZipFile(build_zip(ASSIGNMENT, tmp_path, torch_index=url)) as bundle:
        text = bundle.read("setup.sh").decode()
    assert "apt-get install -y -qq python3.11 python3.11-venv" in text
    assert f"TORCH_INDEX='{url}'" in text and '--index-url "$TORCH_INDEX"' in text
    assert '-r "$SOURCE/requirements.txt"' in text
    assert f"KERNEL_UID={UID_BASE}" in text and "useradd --uid" in text and 'chmod -R o= "$SOURCE"' in text


def test_the_zip_carries_the_grader_and_its_data_and_nothing_a_student_should_not_see(package):
    with zipfile.ZipFile(package) as bundle:
        names = bundle.namelist()
    assert f"autograder/master/{ASSIGNMENT}.py" in names and "autograder/cli/gradescope_run.py" in names
    assert {"data/moons_train.csv", "data/moons_grading.csv", "data/moons_test.csv", "requirements.txt", "pyproject.toml"} <= set(names)
    generated = ("examples/", "solutions/", "notebooks/", "autograder/source/", "autograder/nbgrader_source/")
    for forbidden in ("tests/", *generated, "__pycache__", ".pyc", ".venv", "out/"):
        assert not [n for n in names if forbidden in n], forbidden
    assert not [
        n for n in names if n.startswith("autograder/grader/integrations/gradescope/") and n.endswith(("setup.sh", "run_autograder"))
    ]


def test_the_zip_is_the_same_byte_for_byte_when_built_again(package, tmp_path):
    assert build_zip(ASSIGNMENT, tmp_path).read_bytes() == package.read_bytes()


def test_an_unknown_exercise_is_refused_with_the_list_of_exercises(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "gradescope", "--assignment", "glow", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "no assignment named 'glow'" in result.stderr and ASSIGNMENT in result.stderr
    assert ASSIGNMENT in assignments()


# --- results.json ----------------------------------------------------------------------------------------------


def _record(points=(1.0, 2.0), metrics=()):
    tests = [TestResult("test_a", points[0], 1.0), TestResult("test_b", points[1], 2.0, "AssertionError: off by 0.3")]
    return Record("kim", "ok", "", tests, seconds=12.34, leaderboard=list(metrics))


def _seen_at_once(data):
    """What a student sees of a results.json before the due date: the top-level text, the entries visible at once."""
    visible = [{k: v for k, v in t.items()} for t in data["tests"] if t.get("visibility", data.get("visibility", "visible")) == "visible"]
    return data["output"], visible, data.get("leaderboard")


def test_before_the_due_date_a_student_sees_what_validate_shows_and_everything_after_it():
    def record(points, message, visible):
        tests = [TestResult("test_a", 1.0, 1.0, "", True), TestResult("test_b", points, 2.0, message, visible)]
        return Record("kim", "ok", "", tests, seconds=3.0, leaderboard=[Metric("held-out NLL", 0.35)])

    correct = results(record(2.0, "", True))
    hidden_bug = results(record(0.0, "a hidden test failed (the visible checks passed): AssertionError: dim 5", True))
    visible_bug = results(record(0.0, "AssertionError: y has shape (3,), expected (128, 2)", False))
    assert problems(correct) == problems(hidden_bug) == problems(visible_bug) == []
    assert _seen_at_once(correct) == _seen_at_once(hidden_bug), "before the due date, a hidden failure must not show"
    assert "dim 5" not in json.dumps(_seen_at_once(hidden_bug)) and "score" not in _seen_at_once(hidden_bug)[0].lower().replace(
        "your score,", ""
    )
    failed = [t for t in _seen_at_once(visible_bug)[1] if t["status"] == "failed"]
    assert [t["output"] for t in failed] == ["AssertionError: y has shape (3,), expected (128, 2)"], "a visible failure shows at once"
    graded = [t for t in hidden_bug["tests"] if t.get("max_score")]
    assert {t["visibility"] for t in graded} == {"after_due_date"} and hidden_bug["visibility"] == "after_due_date"
    assert sum(t["score"] for t in graded) == hidden_bug["score"] == 1.0 and "dim 5" in json.dumps(graded)
    published = results(record(0.0, "hidden", True), hidden_until="after_published")
    assert {t["visibility"] for t in published["tests"] if t.get("max_score")} == {"after_published"}


def test_results_have_one_entry_per_test_cell_with_the_spec_fields():
    data = results(_record((1.0, 0.0), [Metric("held-out NLL", 0.35)]), {"test_a": "Masks alternate."}, hidden_until="visible")
    assert problems(data) == []
    assert (data["score"], data["execution_time"], data["stdout_visibility"]) == (1.0, 12.3, "hidden")
    assert data["tests"][0] == {
        "name": "test_a: Masks alternate.",
        "score": 1.0,
        "max_score": 1.0,
        "status": "passed",
        "output": "passed",
        "output_format": "text",
        "visibility": "visible",
    }
    assert (data["tests"][1]["status"], data["tests"][1]["output"]) == ("failed", "AssertionError: off by 0.3")
    assert data["leaderboard"] == [{"name": "held-out NLL", "value": 0.35, "order": "asc"}]


def _broken(change):
    data = results(_record(), {})
    change(data)
    return data


BROKEN = {  # what breaks the spec -> what the check must say
    "score missing": (lambda d: d.pop("score"), "score is missing"),
    "tests missing": (lambda d: d.pop("tests"), "tests is missing"),
    "stdout_visibility missing": (lambda d: d.pop("stdout_visibility"), "stdout_visibility is missing"),
    "score a string": (lambda d: d.update(score="3"), "score is not a number"),
    "score not a number": (lambda d: d.update(score=float("nan")), "score is not a number"),
    "score not the sum": (lambda d: d.update(score=2.0), "not the sum"),
    "status not allowed": (lambda d: d["tests"][0].update(status="ok"), "status is 'ok'"),
    "visibility not allowed": (lambda d: d["tests"][0].update(visibility="secret"), "visibility is 'secret'"),
    "stdout visibility not allowed": (lambda d: d.update(stdout_visibility="students"), "stdout_visibility is 'students'"),
    "test above its max": (lambda d: d["tests"][0].update(score=5.0), "not between 0 and max_score"),
    "test name missing": (lambda d: d["tests"][0].pop("name"), "name is missing"),
    "output not text": (lambda d: d["tests"][1].update(output=None), "output is not a string"),
    "hidden test code shown": (lambda d: d["tests"][1].update(output="z_grading, _ = flow.f(x_grading)"), "shows 'x_grading'"),
    "leaderboard without value": (lambda d: d.update(leaderboard=[{"name": "NLL"}]), "needs a name"),
    "leaderboard order unknown": (lambda d: d.update(leaderboard=[{"name": "NLL", "value": 1.0, "order": "lower"}]), "order is 'lower'"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_results_json_fails_the_check(name):
    assert problems(results(_record(), {}), forbidden=HIDDEN_MARKERS) == []
    change, says = BROKEN[name]
    assert any(says in problem for problem in problems(_broken(change), forbidden=HIDDEN_MARKERS))


def test_the_failure_results_are_valid_and_score_zero():
    data = failure_results("the grader failed")
    assert problems(data) == [] and data["score"] == 0


def _executed_test_cell(stdout):
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["autograder"] = {"grade_id": "test_train"}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stdout)]
    return nbformat.v4.new_notebook(cells=[cell])


def test_the_leaderboard_reads_the_training_tests_line_once_and_only_once_when_its_visible_checks_passed():
    spec = load_notebook(MASTER).leaderboard  # what the master declares
    line = "held-out NLL on the test split: 0.312 nats per sample (target below 0.45; floor about 0.289)\n"
    passed, failed = [TestResult("test_train", 0.0, 2.0, "a hidden test failed", True)], [TestResult("test_train", 0.0, 2.0)]
    assert leaderboard(_executed_test_cell(line), passed, spec) == [Metric(spec["name"], 0.312, "asc")]
    assert leaderboard(_executed_test_cell(line), failed, spec) == []
    assert leaderboard(_executed_test_cell(line.replace("0.312", "0.001") + line), passed, spec) == []  # a faked line
    assert leaderboard(_executed_test_cell(line), passed, {}) == []  # a master that declares no leaderboard


# --- reading Gradescope's tree -----------------------------------------------------------------------------------


def test_the_student_id_comes_from_the_submission_metadata(tmp_path):
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps({"users": [{"email": "kim@uni.edu", "name": "Kim", "id": 1}, {"sid": "A17", "email": "x@uni.edu"}]}))
    assert student_id(path) == "kim@uni.edu, A17"
    path.write_text("{not json")
    assert student_id(path) == "submission"
    assert student_id(tmp_path / "missing.json") == "submission"


def test_exactly_one_notebook_is_found_and_checkpoints_are_ignored(tmp_path):
    assert find_notebook(tmp_path, "realnvp")[1].startswith("no notebook")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "realnvp-checkpoint.ipynb").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "realnvp.ipynb").write_text("{}")
    assert find_notebook(tmp_path, "realnvp") == (tmp_path / "sub" / "realnvp.ipynb", "")
    (tmp_path / "copy.ipynb").write_text("{}")
    assert find_notebook(tmp_path, "realnvp")[1].startswith("2 notebooks in the submission (copy.ipynb, sub/realnvp.ipynb)")


# --- run_autograder in a simulated tree ------------------------------------------------------------------------


def _unzip_with_modes(package, into):
    """Unpack as unzip does on Gradescope: with the mode bits the zip records."""
    with zipfile.ZipFile(package) as bundle:
        for info in bundle.infolist():
            path = bundle.extract(info, into)
            os.chmod(path, _mode(info) or 0o644)


def simulated_tree(root, package, files, metadata=None):
    """root laid out as Gradescope's /autograder for a submission of files (name -> bytes)."""
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    _unzip_with_modes(package, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # where Gradescope puts it
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    metadata = metadata or {"id": 1, "users": [{"email": "kim@uni.edu", "name": "Kim", "id": 7}], "previous_submissions": []}
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def run_autograder(root, python=sys.executable, wrapper=()):
    """Run root/run_autograder as Gradescope would (root's own tree, a clean environment); (results, stdout)."""
    env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python, "LANG": "C.UTF-8"}
    result = subprocess.run([*wrapper, str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), result.stdout


def _example(name):
    return (EXAMPLES / "realnvp" / f"{name}.ipynb").read_bytes()


QUICK = _with_extra(_base(), "masks", "pass")  # correct answers, a training cell that does not train: 8 points in seconds
NO_SYS_ADMIN = ("setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin")  # as in a container: unshare fails


def _simulated_cases():
    return {
        "correct": ({"realnvp.ipynb": _example("ada_correct")}, {}),
        "buggy": ({"ben.ipynb": _example("ben_inverse_bug")}, {}),
        "broken": ({"realnvp.ipynb": _example("cleo_broken")}, {}),
        "missing": ({}, {}),
        "two notebooks": ({"realnvp.ipynb": _example("ada_correct"), "realnvp (1).ipynb": _example("ben_inverse_bug")}, {}),
        "python missing": ({"realnvp.ipynb": QUICK}, {"python": "/nonexistent/python"}),
        "grader crashes": ({"realnvp.ipynb": QUICK}, {"remove": f"autograder/master/{ASSIGNMENT}.py"}),
    }


@pytest.fixture(scope="module")
def simulated(package, tmp_path_factory):
    """Every case run through run_autograder, two at a time: case -> (results, stdout)."""

    def run(name):
        files, how = _simulated_cases()[name]
        root = simulated_tree(tmp_path_factory.mktemp(name.replace(" ", "-")) / "autograder", package, files)
        if "remove" in how:
            (root / "source" / how["remove"]).unlink()
        return run_autograder(root, python=how.get("python", sys.executable))

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(_simulated_cases(), pool.map(run, _simulated_cases())))


def _test_points(data):
    """grade_id -> score of each scored entry (a written answer awaiting a person is a note without a score; what the
    notebook's own checks say is an entry without points)."""
    return {t["name"].split(":")[0]: t["score"] for t in data["tests"] if t.get("max_score")}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_simulated_cases()))
def test_run_autograder_always_writes_a_valid_results_json(simulated, name):
    data, stdout = simulated[name]
    assert problems(data, forbidden=HIDDEN_MARKERS) == [], stdout
    assert data["stdout_visibility"] == "hidden" and "autograder failed" not in data["output"].lower()


@pytest.mark.slow
def test_the_correct_example_scores_every_autograded_point_on_gradescope_with_the_held_out_nll_on_the_leaderboard(simulated, exercise):
    data, stdout = simulated["correct"]
    scored = [t for t in data["tests"] if "score" in t]  # the written answers are notes: a person grades them
    assert data["score"] == sum(t["score"] for t in scored) == sum(t["max_score"] for t in scored) == exercise.auto_max_score, stdout
    assert [name for name in _test_points(data)] == TEST_IDS
    notes = [t["name"].split(":")[0] for t in data["tests"] if "score" not in t and t["name"] != "Summary"]
    assert notes == list(exercise.manual_ids)  # the written answers: graded by hand, outside the autograder's points
    assert data["leaderboard"][0]["order"] == "asc" and 0.289 < data["leaderboard"][0]["value"] < 0.45
    assert "kim@uni.edu" in stdout  # the student id from submission_metadata.json


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), [("correct", "ada_correct"), ("buggy", "ben_inverse_bug"), ("broken", "cleo_broken")])
def test_gradescope_gives_each_example_the_scores_grade_gives_it(simulated, examples_one_shot, name, example):
    _, rows = examples_one_shot
    data, stdout = simulated[name]
    points = _test_points(data)  # the tests, and the written answers once they have a score (0: not a notebook)
    assert set(TEST_IDS) <= set(points) and points == {gid: float(rows[example][gid]) for gid in points}, stdout
    assert data["score"] == float(rows[example]["score"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("missing", "no notebook (.ipynb) in the submission"),
        ("two notebooks", "2 notebooks in the submission"),
        ("broken", "not a notebook"),
        ("python missing", "The grader could not run on this submission"),
        ("grader crashes", "The grader failed on this submission (AssignmentError"),
    ],
)
def test_a_submission_that_cannot_be_graded_scores_0_with_the_reason(simulated, name, says):
    data, stdout = simulated[name]
    assert data["score"] == 0 and says in data["output"], data["output"] + stdout


@pytest.fixture(scope="module")
def without_sys_admin(package, tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv (util-linux) to take CAP_SYS_ADMIN away, as a container does")
    root = simulated_tree(tmp_path_factory.mktemp("no-sys-admin") / "autograder", package, {"realnvp.ipynb": QUICK})
    return run_autograder(root, wrapper=NO_SYS_ADMIN)


@pytest.mark.slow
def test_without_cap_sys_admin_run_autograder_still_writes_a_valid_results_json(without_sys_admin):
    data, stdout = without_sys_admin
    assert problems(data, forbidden=HIDDEN_MARKERS) == [], stdout


@pytest.mark.slow
def test_without_cap_sys_admin_the_grader_still_grades_and_says_how_it_confined_the_kernel(without_sys_admin):
    data, stdout = without_sys_admin
    assert _test_points(data) == CORRECT_WITHOUT_TRAINING, stdout
    assert re.search(r"^isolation: (full|partial: missing .+)$", stdout, re.M), stdout[-2000:]


# --- the submission budget ----------------------------------------------------------------------------------------


def _metadata(times, created="2026-12-10T12:00:00+00:00", carried=()):
    previous = [
        {
            "submission_time": when,
            "score": 7.0 + n,
            "results": {
                "score": 7.0 + n,
                "output": f"graded {n}",
                "tests": [],
                "extra_data": {"over_budget": True} if n in carried else {},
            },
        }
        for n, when in enumerate(times)
    ]
    return {"created_at": created, "previous_submissions": previous, "users": [{"email": "kim@uni.edu"}]}


HOURS_AGO = {h: f"2026-12-10T{12 - h:02d}:00:00+00:00" for h in range(1, 12)}


@pytest.mark.parametrize(
    "times, carried, over",
    [
        ([], (), False),  # the first submission
        ([HOURS_AGO[1], HOURS_AGO[2]], (), False),  # two in the window: the third is graded
        ([HOURS_AGO[1], HOURS_AGO[2], HOURS_AGO[3]], (), True),  # three in the window: this one is not
        ([HOURS_AGO[1], HOURS_AGO[2], HOURS_AGO[3], HOURS_AGO[4], HOURS_AGO[5]], (), True),
        (["2026-12-09T11:00:00+00:00", HOURS_AGO[2], HOURS_AGO[3]], (), False),  # one of the three is outside the 24 h
        ([HOURS_AGO[1], HOURS_AGO[2], HOURS_AGO[3]], (0,), False),  # one was itself over budget: not counted
    ],
)
def test_a_submission_past_the_budget_is_not_graded_and_keeps_the_last_graded_score(times, carried, over):
    from autograder.cli.gradescope_run import budget_results, over_budget, parse_budget

    budget = parse_budget("3/24h")
    past = over_budget(_metadata(times, carried=carried), budget)
    assert (past is not None) == over
    if over:
        data = budget_results(*past, budget)
        newest = max(range(len(times)), key=lambda n: times[n])
        assert data["score"] == 7.0 + newest and problems(data) == [] and data["extra_data"]["over_budget"]
        oldest = sorted(times)[-3]
        expected = (datetime.datetime.fromisoformat(oldest) + datetime.timedelta(hours=24)).strftime("%Y-%m-%d %H:%M")
        assert "3 graded submissions per 24 hours" in data["output"] and f"graded from {expected}" in data["output"]


def test_the_budget_is_written_like_3_per_24h_and_is_off_by_default():
    from autograder.cli.gradescope_run import over_budget, parse_budget

    assert parse_budget("") is None and parse_budget("3/24h") == (3, 24.0) and parse_budget("1/0.5") == (1, 0.5)
    with pytest.raises(ValueError, match="3/24h"):
        parse_budget("three a day")
    assert over_budget(_metadata([HOURS_AGO[1]] * 9), None) is None


def test_run_autograder_past_the_budget_writes_the_carried_results_without_grading(package, tmp_path):
    root = tmp_path / "autograder"
    simulated_tree(root, package, {"realnvp.ipynb": b"{}"}, _metadata([HOURS_AGO[1], HOURS_AGO[2], HOURS_AGO[3], HOURS_AGO[4]]))
    script = (root / "run_autograder").read_text().replace("--budget ''", "--budget '3/24h'")
    (root / "run_autograder").write_text(script)
    started = time.monotonic()
    run_autograder(root)
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 7.0 and "Submission budget" in data["output"] and time.monotonic() - started < 60
