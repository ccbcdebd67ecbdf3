"""Hostile submissions graded as root and as an ordinary user: every way out of the sandbox fails.

One hostile notebook (tests/helpers/sandbox_probes.py: network, read, write, processes, strays; correct answers
otherwise) and one correct notebook (short honest training: 10 / 10) are graded in each mode:
- root: in this process, as CI runs it;
- an ordinary user: `python -m autograder grade` as the test user (tests/helpers/ordinary_user.py), from a world-readable
  copy of the course and a venv of Debian's Python, through an unprivileged user namespace.
A TCP server on 127.0.0.1 (this machine's loopback, nothing else) and a canary process of the grader's user are
the targets. Needs root (to create the user) and bubblewrap: skipped outside CI without them, failed in CI.
"""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import ASSIGNMENT, MASTER, REPO, SOURCE_NOTEBOOK
from hostile_bank import CORRECT_WITHOUT_TRAINING
from ordinary_user import course_copy, ensure_user, ensure_venv, give, runuser
from sandbox_probes import CANARY_MARK, STRAY_MARK, Targets, hostile_notebook, reports
from strays import stray_processes

from autograder.course.examples import answers, filled
from autograder.grader.core.layout import feedback_path
from autograder.grader.core.masters import notebook_named
from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.grade import Options, run_batch

LIMITS = Limits(cell_timeout=30, timeouts={"train": 60}, wall_timeout=300)
FULL_MARKS = {"test_masks": 1, "test_coupling_forward": 2, "test_train": 2}
PROBES = {"network", "read", "write", "processes", "strays"}


def _require_root_and_bwrap():
    missing = [what for what, ok in (("root", os.geteuid() == 0), ("bwrap", shutil.which("bwrap"))) if not ok]
    if missing:
        message = f"needs {' and '.join(missing)} (scripts/install-sandbox.sh installs bubblewrap)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records every connection it accepts."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, peer = self.socket.accept()
            except OSError:
                return
            self.connections.append(peer)
            connection.close()

    def close(self):
        self.socket.close()


@pytest.fixture(scope="module")
def server():
    _require_root_and_bwrap()
    server = LoopbackServer()
    yield server
    server.close()


def _canary(uid=None):
    """A process of the grader's user that the probe tries to kill."""
    user = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
    return subprocess.Popen(["sleep", CANARY_MARK], **user)


def _is_canary(proc):
    """A canary of this module's (another fixture's may still live)."""
    return CANARY_MARK in " ".join(proc.info.get("cmdline") or [])


def _submissions(folder, targets, correct=True):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile.ipynb").write_bytes(hostile_notebook(targets))
    if correct:
        (folder / "correct.ipynb").write_text(nbformat.writes(filled(answers(quick=True))))


def _resource_tracker(proc):
    """multiprocessing's helper, started once by the process that grades (here: pytest), which it lives as long as."""
    try:
        return "resource_tracker" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def _host_netns():
    return os.stat("/proc/self/ns/net").st_ino


def _strays():
    return stray_processes(STRAY_MARK)


@pytest.fixture(scope="module")
def graded_as_root(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("root-mode")
    out, folder, home = root / "out", root / "subs", Path.home()
    out.mkdir()
    canary = _canary()
    secrets = [str(MASTER), str(SOURCE_NOTEBOOK), str(out / "gradebook.db"), str(folder / "correct.ipynb")]
    targets = Targets(server.port, canary.pid, secrets, [str(out), str(folder), str(REPO), str(home), "/tmp"])
    _submissions(folder, targets)
    options = Options(workers=2, limits=LIMITS, progress=False)
    batch = run_batch(folder, out, options)
    records = {r.student_id: json.loads(r.to_json()) for r in batch.records}  # as the subprocess modes read them
    left = [p for p in psutil.Process().children(recursive=True) if p.pid != canary.pid and not _resource_tracker(p)]
    yield {"out": out, "records": records, "targets": targets, "canary": canary, "left": left, "isolation": batch.isolation}
    canary.kill()


def _grade_in_a_subprocess(server, user, extra_env=None, correct=True):
    """`python -m autograder grade` run by root or the test user, from a world-readable copy of the course and the
    test venv, on the hostile notebook (and a correct one); what the fixtures above return, plus its output."""
    uid = ensure_user() if user else None
    python = ensure_venv()
    root = Path(tempfile.mkdtemp(prefix="autograder-grading-", dir="/var/tmp"))  # pytest's own is closed to others
    root.chmod(0o755)
    course = course_copy(root / "course")
    out, folder, home = root / "out", root / "subs", root / "home"
    for path in (out, folder, home):
        path.mkdir()
    (home / "private.txt").write_text("the instructor's own file")
    home.chmod(0o700)  # as homes are
    canary = _canary(uid)
    secrets = [str(course / "autograder/master/realnvp.py"), str(course / "autograder/nbgrader_source/realnvp/realnvp.ipynb")]
    secrets += [str(out / "gradebook.db"), str(folder / "hostile.ipynb"), str(home / "private.txt")]
    targets = Targets(server.port, canary.pid, secrets, [str(out), str(folder), str(course), str(home), "/tmp"])
    _submissions(folder, targets, correct)
    for path in (out, folder, home) if user else ():
        give(path, uid)
    command = [str(python), "-m", "autograder", "grade", str(folder), "--out", str(out), "--workers", "2", "--quiet"]
    command += ["--timeout", "30", "--cell-timeout", "train=60"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **(extra_env or {})}
    done = subprocess.run(runuser(command) if user else command, cwd=course, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    records = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "records").glob("*.json")}
    # the grader's multiprocessing helper leaves when it reads the end of its pipe: it may take a moment
    mine = [p for p in psutil.process_iter(["uids", "cmdline"]) if p.info["uids"].real == uid and not _is_canary(p)] if user else []
    _, left = psutil.wait_procs(mine, 5)
    graded = {"out": out, "records": records, "targets": targets, "canary": canary, "left": left}
    return graded | {"stdout": done.stdout, "stderr": done.stderr, "course": course, "root": root, "user": user}


@pytest.fixture(scope="module")
def graded_as_user(server):
    _require_root_and_bwrap()
    graded = _grade_in_a_subprocess(server, user=True)
    yield graded
    graded["canary"].kill()
    shutil.rmtree(graded["root"], ignore_errors=True)


MODES = ["graded_as_root", "graded_as_user"]


@pytest.fixture(params=MODES)
def graded(request):
    return request.getfixturevalue(request.param)


def _probes(graded):
    page = feedback_path(graded["out"], "hostile", ASSIGNMENT, ASSIGNMENT).read_text(encoding="utf-8")
    found = reports(page)
    assert set(found) == PROBES, f"probes that did not report: {PROBES - set(found)}"
    return found


def autograded_points(record):
    """{grade_id: points} of the record's autograded tests; its written answers (left blank here) must score 0."""
    manual = set(notebook_named("realnvp").manual_ids)
    written = {t["grade_id"]: t["points"] for t in record["tests"] if t["grade_id"] in manual}
    assert written == dict.fromkeys(manual, 0.0), written
    return {t["grade_id"]: t["points"] for t in record["tests"] if t["grade_id"] not in manual}


@pytest.mark.slow
def test_a_correct_submission_gets_full_marks(graded):
    record = graded["records"]["correct"]
    assert (record["score"], record["status"]) == (notebook_named("realnvp").auto_max_score, "ok"), record["message"]
    assert record["isolation"].startswith("full:"), record["isolation"]


@pytest.mark.slow
def test_the_hostile_notebook_is_graded_as_if_the_probes_were_not_there(graded):
    record = graded["records"]["hostile"]
    assert record["status"] == "ok", record["message"]
    assert autograded_points(record) == CORRECT_WITHOUT_TRAINING, record["message"]


@pytest.mark.slow
def test_no_network_only_a_loopback_of_its_own(graded, server):
    network = _probes(graded)["network"]
    assert network["interfaces"] == ["lo"]
    assert network["netns"] != _host_netns()
    assert network["connect"] == "ConnectionRefusedError"  # nothing listens on the sandbox's own loopback
    assert server.connections == []


@pytest.mark.slow
def test_the_master_gradebook_submissions_home_and_tmp_are_out_of_reach(graded):
    read = _probes(graded)["read"]
    assert read["opened"] == ["FileNotFoundError"] * len(graded["targets"].secrets)
    assert read["files"] == 0, read["some files"]


@pytest.mark.slow
def test_nothing_can_be_written_outside_the_scratch_folder(graded):
    write = _probes(graded)["write"]
    assert write["wrote"] == [] and len(write["refused"]) == len(graded["targets"].folders)
    for folder in graded["targets"].folders[:-1]:
        assert not list(Path(folder).rglob("pwned.txt")), folder
    assert not Path("/tmp/pwned.txt").exists()


@pytest.mark.slow
def test_the_kernel_sees_and_signals_only_its_own_processes(graded):
    processes = _probes(graded)["processes"]
    assert graded["canary"].poll() is None, "the canary was killed"
    assert processes["canary"] == "ProcessLookupError"  # no such process in its PID namespace
    assert processes["foreign"] == 0 and processes["seen"] <= 3, processes["some foreign"]
    assert processes["could signal"] == 0


@pytest.mark.slow
def test_no_process_outlives_the_run(graded):
    assert _probes(graded)["strays"]["started"] == 5
    assert _strays() == []
    assert graded["left"] == []


@pytest.mark.slow
def test_root_kernels_ran_as_throwaway_uids_that_are_nobody_s_account(graded_as_root):
    uids = graded_as_root["isolation"].uids
    assert len(uids) == 2 and all(uid >= 2_000_000_000 for uid in uids)
    for uid in uids:
        with pytest.raises(KeyError):
            pwd.getpwuid(uid)
    assert "own uid" in graded_as_root["isolation"].held


@pytest.mark.slow
def test_the_summary_says_how_the_kernels_were_isolated(graded_as_user):
    assert "isolation: full: hidden files, no network, own processes" in graded_as_user["stdout"]


DENY = {"AUTOGRADER_DENY_NAMESPACES": "1"}  # bwrap then fails as in a container that refuses namespaces (EPERM)


@pytest.fixture(params=[False, True], ids=["root", "ordinary user"])
def graded_without_namespaces(server, request):
    _require_root_and_bwrap()
    graded = _grade_in_a_subprocess(server, user=request.param, extra_env=DENY, correct=False)
    yield graded
    graded["canary"].kill()
    for pwned in [*Path(graded["root"]).rglob("pwned.txt"), Path("/tmp/pwned.txt")]:
        pwned.unlink(missing_ok=True)
    shutil.rmtree(graded["root"], ignore_errors=True)


@pytest.mark.slow
def test_without_namespaces_the_grader_still_grades_and_says_once_what_is_missing(graded_without_namespaces):
    graded = graded_without_namespaces
    record = graded["records"]["hostile"]
    assert record["status"] == "ok", record["message"]
    assert autograded_points(record) == CORRECT_WITHOUT_TRAINING
    missing = "isolation: partial: missing hidden files, no network, own processes (bwrap: Creating new namespace failed"
    assert graded["stderr"].count("isolation: partial") == 1 and missing in graded["stderr"]  # once, at the start
    assert missing in graded["stdout"] and "AUTOGRADER_DENY_NAMESPACES" in graded["stdout"]  # and in the summary
    assert _strays() == [] and graded["left"] == []


@pytest.mark.slow
def test_without_namespaces_root_keeps_its_uid_and_closes_its_files_an_ordinary_user_keeps_nothing(graded_without_namespaces):
    graded = graded_without_namespaces
    probes = _probes(graded)
    if not graded["user"]:
        assert "kept: own uid" in graded["stdout"]
        assert "paths of the course, OUT and the submissions closed to other users" in graded["stdout"]
        assert not os.stat(graded["course"]).st_mode & 0o007 and not os.stat(graded["out"]).st_mode & 0o007
        assert set(probes["read"]["opened"]) == {"PermissionError"}  # closed to the kernel's uid
        assert probes["processes"]["canary"] == "PermissionError" and graded["canary"].poll() is None  # not signalled
        assert probes["processes"]["foreign"] > 0  # but seen
    else:  # an ordinary user's kernel runs as the user: it reads and signals what the user can
        assert "kept:" not in graded["stdout"]
        assert "FileNotFoundError" not in probes["read"]["opened"] and "PermissionError" not in probes["read"]["opened"]
        assert probes["processes"]["canary"] == "killed" and len(probes["write"]["wrote"]) >= 3  # OUT, submissions, course
    assert probes["network"]["connect"] == "connected"  # no network namespace: the loopback of the host is reachable


def test_the_launcher_refuses_namespaces_when_told_to(tmp_path):
    """The knob itself: the launcher fails as bwrap does on a host that refuses namespaces, with EPERM's words."""
    _require_root_and_bwrap()
    launcher = REPO / "autograder" / "kernel" / "launcher.py"
    env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_DENY_NAMESPACES": "1"}
    command = [sys.executable, str(launcher), "--memory", str(2**30), "--bwrap", shutil.which("bwrap"), "--", "/bin/true"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Operation not permitted" in done.stderr
