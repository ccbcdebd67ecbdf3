"""A batch whose grader is killed with kill -9 takes every process of its run along; the rerun equals a clean run.

And a second `grade` on an OUT that a live run holds is refused with a clear message.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psutil
import pytest
from conftest import REPO
from hostile_bank import CORRECT_WITHOUT_TRAINING, STRAY_MARK, STRAYS, _base, _with_extra
from nbgrader.api import Gradebook
from strays import stray_processes

from autograder.grader.runs.lifetime import run_lock


@pytest.fixture
def short_tmp():
    """A TMPDIR of the test's own, so that every process of the run can be found by the paths it uses."""
    folder = tempfile.mkdtemp(prefix="agk-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _command(folder, out):
    command = [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--workers", "2", "--quiet"]
    return command + ["--timeout", "30", "--cell-timeout", "train=30"]


def _of_the_run(tmp):
    """Live processes whose command line or working folder lies in the run's TMPDIR: launchers, bwrap, kernels, strays."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if any(tmp in part for part in proc.info["cmdline"] or []) or (proc.info["cwd"] or "").startswith(tmp):
            found.append(proc)
    return found


def _rows(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_kill_9_of_the_grader_leaves_no_process_and_the_rerun_equals_a_clean_run(tmp_path, short_tmp):
    folder, out, clean = tmp_path / "subs", tmp_path / "out", tmp_path / "clean"
    folder.mkdir()
    notebook = _with_extra(_base(), "masks", "pass")
    students = [f"student {i}" for i in range(3)]  # with the strays, four notebooks on two workers: killed after one
    for student in students:
        (folder / f"{student}.ipynb").write_bytes(notebook)
    (folder / "strays.ipynb").write_bytes(_with_extra(_base(), "nll", STRAYS))
    env = {**os.environ, "TMPDIR": short_tmp}
    first = subprocess.Popen(_command(folder, out), cwd=REPO, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list((out / "records").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    run = psutil.Process(first.pid).children(recursive=True) + _of_the_run(short_tmp)
    os.kill(first.pid, signal.SIGKILL)  # the grader alone, as `kill -9 PID` does: not its process group
    first.wait()
    _, alive = psutil.wait_procs(run, timeout=5)
    assert alive == [] and _of_the_run(short_tmp) == [], f"alive 5 s after kill -9: {alive or _of_the_run(short_tmp)}"
    graded_before = len(list((out / "records").glob("*.json")))
    assert 1 <= graded_before < len(students) + 1

    subprocess.run(_command(folder, out), cwd=REPO, env=env, check=True, capture_output=True, timeout=600)
    subprocess.run(_command(folder, clean), cwd=REPO, env=env, check=True, capture_output=True, timeout=600)
    assert _rows(out) == _rows(clean)
    untrained = float(sum(CORRECT_WITHOUT_TRAINING.values()))  # the notebook does not train
    assert {r["score"] for r in _rows(out)} == {str(untrained)} and {r["status"] for r in _rows(out)} == {"ok"}
    assert not stray_processes(STRAY_MARK)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions("realnvp")
        assert sorted(s.student.id for s in submissions) == sorted([*students, "strays"])
        assert {s.score for s in submissions} == {untrained}


def test_a_second_grade_on_the_same_out_is_refused_while_one_runs(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "ann.ipynb").write_bytes(_with_extra(_base(), "masks", "pass"))
    with run_lock(out):  # a live run holds OUT
        done = subprocess.run(_command(folder, out), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"(pid {os.getpid()}) is grading into {out}" in done.stderr
    assert not (out / "records").exists()
