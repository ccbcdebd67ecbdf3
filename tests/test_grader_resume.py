"""A batch killed with kill -9 halfway, then re-run, ends with every student graded exactly once."""

import csv
import os
import signal
import subprocess
import sys
import time

from conftest import REPO
from hostile_bank import _base, _with_extra
from nbgrader.api import Gradebook


def test_a_batch_killed_halfway_completes_on_rerun_with_nothing_lost_or_counted_twice(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    folder.mkdir()
    notebook = _with_extra(_base(), "masks", "pass")
    students = [f"student {i}" for i in range(4)]
    for student in students:
        (folder / f"{student}.ipynb").write_bytes(notebook)
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
        "--timeout",
        "30",
        "--cell-timeout",
        "train=30",
    ]
    first = subprocess.Popen(command, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list((out / "records").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    graded_before = len(list((out / "records").glob("*.json")))
    assert 1 <= graded_before < len(students)
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=600)
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student_id"] for r in rows) == students
    assert {r["score"] for r in rows} == {"8.0"}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions("realnvp")
        assert sorted(s.student.id for s in submissions) == students
        assert {s.score for s in submissions} == {8.0}
