"""The kernel launcher (autograder/kernel/launcher.py) on its own, with a plain Python command instead of a kernel: what a
confined process can see and write, wherever the grader's folders are; and the pieces of a run's lifetime
(autograder/lifetime.py) that need no kernel. Fractions of a second each.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.grader.confine.isolation import close_to_others, kernel_python, launcher_argv, python_paths
from autograder.grader.runs.lifetime import LOCK_NAME, BatchBusy, UidLease, run_lock, run_scratch, sweep_dead_scratch

LOOK = """
import json, os, sys
found = {}
for path in sys.argv[1:]:
    try:
        with open(os.path.join(path, "secret.txt")) as handle:
            found[path] = "read " + handle.read()
    except OSError as error:
        found[path] = type(error).__name__
    try:
        with open(os.path.join(path, "pwned.txt"), "w") as handle:
            handle.write("pwned")
        found[path] += ", wrote"
    except OSError:
        pass
print(json.dumps(found))
"""


def _require_bwrap():
    if not shutil.which("bwrap"):
        message = "bwrap is missing: scripts/install-sandbox.sh installs Debian's bubblewrap"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def folders(request):
    """A folder with a secret in each of the places an instructor may put OUT or the submissions."""
    made = []
    for base in request.param:
        os.makedirs(base, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="autograder-out-", dir=base))
        (folder / "secret.txt").write_text("hidden tests")
        made.append(folder)
    yield made
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _confined(tmp_path, hide):
    """Run LOOK through the launcher as the grader runs a kernel (root: as a throwaway uid); what it reports."""
    job, ipc = tmp_path / "job", tmp_path / "ipc"
    for folder in (job / "shm", ipc):
        folder.mkdir(parents=True)
    uid = None
    lease = UidLease(1) if os.geteuid() == 0 else None
    if lease:
        uid = lease.uids[0]
    try:
        argv = launcher_argv(job, ipc, 2**31, uid, shutil.which("bwrap"), [str(h) for h in hide], os.getpid())
        argv += [kernel_python(), "-I", "-c", LOOK, *map(str, hide)]
        done = subprocess.run(argv, cwd=job, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    finally:
        if lease:
            lease.release()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PLACES = [["/var/tmp", "/run", "/tmp", "/srv/autograder-test"]]


@pytest.mark.parametrize("folders", PLACES, indirect=True)
def test_out_and_submissions_are_out_of_reach_wherever_they_are(tmp_path, folders):
    _require_bwrap()
    if os.geteuid() != 0 and not os.access("/run", os.W_OK):
        folders = [f for f in folders if not str(f).startswith(("/run", "/srv"))]
    found = _confined(tmp_path, folders)
    assert found == {str(f): "FileNotFoundError" for f in folders}
    assert not [f for f in folders if (f / "pwned.txt").exists()]


def test_out_inside_the_python_installation_is_covered_too(tmp_path):
    """The allow-list binds the Python installation; a hidden folder inside it gets an empty read-only cover."""
    _require_bwrap()
    prefix = Path(python_paths()[-1])
    if not os.access(prefix, os.W_OK):
        pytest.skip(f"{prefix} is not writable here")
    folder = Path(tempfile.mkdtemp(prefix="autograder-out-", dir=prefix))
    try:
        (folder / "secret.txt").write_text("hidden tests")
        found = _confined(tmp_path, [folder])
        assert found[str(folder)] in ("FileNotFoundError", "OSError")
        assert not (folder / "pwned.txt").exists()
    finally:
        shutil.rmtree(folder)


def test_a_second_run_on_the_same_out_is_refused_and_the_first_holds_on(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(BatchBusy, match=f"pid {os.getpid()}"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path):  # released with its holder
        pass


def test_a_run_deletes_dead_runs_scratch_but_never_a_live_run_s(tmp_path):
    dead = tmp_path / "autograder-dead"
    dead.mkdir()
    (dead / LOCK_NAME).write_text("")
    with run_scratch(tmp_path) as live:
        sweep_dead_scratch(tmp_path)  # what a second run does first
        assert live.is_dir() and not dead.exists()
    assert not live.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are leased only when the grader runs as root")
def test_two_runs_never_share_a_uid():
    with UidLease(3) as first, UidLease(3) as second:
        assert not set(first.uids) & set(second.uids)


def test_without_namespaces_root_closes_the_course_to_others_but_keeps_the_way_to_python(tmp_path):
    course = tmp_path / "course"
    (course / ".venv" / "bin").mkdir(parents=True)
    (course / "master.py").write_text("answers")
    (course / "data").mkdir()
    closed = close_to_others([course], keep=[course / ".venv"])
    mode = {p: os.stat(course / p).st_mode & 0o007 for p in ("", "master.py", "data", ".venv")}
    assert mode == {"": 0o001, "master.py": 0, "data": 0, ".venv": 0o005}
    assert sorted(closed) == sorted(str(course / p) for p in ("master.py", "data"))


def test_the_kernel_command_keeps_its_venv():
    assert kernel_python().startswith(os.path.realpath(sys.prefix))


INSIDE = """
import json, os, resource, subprocess, sys
def attempt(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "wrote"
    except OSError as error:
        return type(error).__name__
nested = subprocess.run(["unshare", "--user", "true"], capture_output=True)
print(json.dumps({
    "nproc": resource.getrlimit(resource.RLIMIT_NPROC),
    "python": attempt(os.path.join(sys.prefix, "pwned.txt")),
    "usr": attempt("/usr/pwned.txt"),
    "job": attempt(os.path.join(os.getcwd(), "mine.txt")),
    "nested user namespace": nested.returncode,
}))
"""


def _inside(python, user=False):
    """INSIDE run through a copy of the launcher, as root (throwaway uid) or as the test user (pytest's own temporary
    folders are closed to other users)."""
    from ordinary_user import ensure_user, give, runuser

    launcher = Path(tempfile.mkdtemp(prefix="autograder-launcher-", dir="/var/tmp"))
    launcher.chmod(0o755)
    shutil.copy(Path(__file__).resolve().parents[3] / "autograder" / "kernel" / "launcher.py", launcher / "sandbox.py")
    job, ipc = launcher / "job", launcher / "ipc"
    for folder in (job / "shm", ipc):
        folder.mkdir(parents=True)
    if user:
        give(job, ensure_user())
        give(ipc, ensure_user())
    lease = None if user else UidLease(1)
    argv = [python, str(launcher / "sandbox.py"), "--memory", str(2**31), "--nproc", "256", "--bwrap", shutil.which("bwrap")]
    argv += ["--ro", "/usr", "--rw", str(job), "--rw", str(ipc), "--shm", str(job / "shm")]
    argv += ["--uid", str(lease.uids[0]), "--own", str(job)] if lease else []
    argv += ["--", python, "-I", "-c", INSIDE]
    try:
        command = runuser(argv) if user else argv
        done = subprocess.run(command, cwd=job, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(launcher)
        if lease:
            lease.release()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("user", [False, True], ids=["root", "ordinary user"])
def test_inside_the_sandbox_python_is_read_only_processes_are_limited_and_no_namespace_can_be_made(user):
    _require_bwrap()
    if os.geteuid() != 0:
        pytest.skip("the launcher is tested as root and, through runuser, as an ordinary user")
    found = _inside("/usr/bin/python3.11", user)
    assert found["nproc"] == [256, 256]
    assert {found["python"], found["usr"]} <= {"OSError", "PermissionError"}  # read-only (EROFS), or not the uid's
    assert found["job"] == "wrote"
    if user:  # root's kernel is a plain uid: it has no user namespace to nest in, and no privilege to use one
        assert found["nested user namespace"] != 0


def test_as_root_without_namespaces_a_python_the_uid_cannot_start_means_root_and_no_chmod(tmp_path, monkeypatch):
    """The fallback's decision alone: the uid's probe fails (Python under /root, say), so the kernel runs as root,
    the summary says so, and no permission is changed for nothing."""
    from autograder.grader.confine import isolation

    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)  # no bwrap
    monkeypatch.setattr(isolation, "_facts", lambda *args: (None, "PermissionError: [Errno 13] Permission denied"))
    private = tmp_path / "course"
    private.mkdir(mode=0o755)
    private.chmod(0o755)  # whatever the umask
    found = isolation.measure(tmp_path, [2_000_000_123], [], [], private=[str(private)])
    assert found.uids == [] and found.held == [] and found.level == "partial"
    assert "the kernel runs as root: uid 2000000123 could not start Python" in found.describe()
    assert os.stat(private).st_mode & 0o007 == 0o005
