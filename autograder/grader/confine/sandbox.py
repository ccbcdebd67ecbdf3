"""One worker's confined kernels: the kernelspec that starts each through the kernel launcher, its environment,
the kill of everything a submission started, and the run's matplotlib font list that each kernel starts with."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from jupyter_client.kernelspec import KernelSpecManager

from autograder import REPO
from autograder.grader.confine.isolation import kernel_python, launcher_argv

if TYPE_CHECKING:
    from autograder.grader.confine.isolation import Isolation

KILL_ROUNDS = 4  # kill_all: rounds of kill, wait and look again
FONT_CACHE = "font-cache"  # in the run's scratch folder, beside the workers' folders
BUILD_FONT_CACHE = "import matplotlib.font_manager"


class Sandbox:
    """One worker's kernel factory: its kernelspec, its uid (root), the run's isolation, what the kernel must not see.

    on_cell, if given, is called with (cell index, cell) as each cell starts (check's progress line).
    """

    def __init__(self, scratch, uid, limits, isolation, hide=(), on_cell=None, execution="autograde"):
        self.scratch, self.limits, self.isolation, self.on_cell = Path(scratch), limits, isolation, on_cell
        self.execution = execution  # NBGRADER_EXECUTION in the kernel, as nbgrader sets it: autograde, or validate (check)
        self.uid = uid if os.geteuid() == 0 and isolation.uids else None
        self.hide = sorted({str(REPO), str(Path.home()), str(Path(scratch).parent), *map(str, hide)})
        self.specs = self.scratch / "kernels"
        # Jupyter's IPC transport: Unix sockets here, short enough for a socket path (at most 107 bytes), reachable
        # from a kernel in a network namespace of its own, where TCP to the grader is not.
        self.ipc = self.scratch / "ipc"
        self.fonts = self.scratch.parent / FONT_CACHE  # present once build_font_cache has built it

    def font_cache(self) -> list[Path]:
        """The run's matplotlib font list files, for a job's fresh MPLCONFIGDIR ([] until it is built)."""
        return sorted(self.fonts.glob("fontlist-*.json")) if self.fonts.is_dir() else []

    def kernelspec(self, job: Path) -> KernelSpecManager:
        argv = launcher_argv(job, self.ipc, self.limits.memory_bytes, self.uid, self.isolation.bwrap, self.hide, os.getpid())
        argv += [kernel_python(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        folder = self.specs / "autograder"
        folder.mkdir(parents=True, exist_ok=True)
        # interrupt by message: a signal to the launcher does not reach a kernel in its own PID namespace
        spec = {"argv": argv, "display_name": "autograder", "language": "python", "interrupt_mode": "message"}
        (folder / "kernel.json").write_text(json.dumps(spec))
        return KernelSpecManager(kernel_dirs=[str(self.specs)])

    def fresh_ipc(self) -> Path:
        """An empty IPC folder for the next kernel (the last one's sockets and connection file removed)."""
        shutil.rmtree(self.ipc, ignore_errors=True)
        self.ipc.mkdir(mode=0o700, parents=True)
        return self.ipc

    def env(self, job: Path, token: str) -> dict[str, str]:
        home = job / "work"
        env = {
            "PATH": os.path.dirname(kernel_python()) + ":/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(job / "tmp"),
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONHASHSEED": str(self.limits.seed),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(job / "mpl"),
            "IPYTHONDIR": str(job / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(job / "runtime"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AUTOGRADER_JOB": token,
            "NBGRADER_EXECUTION": self.execution,  # a notebook may skip its slow cells under nbgrader: it does under this grader
        }
        return env

    def kill_all(self, kernel_pid: int | None, token: str) -> None:
        """Kill every process this submission started, and nothing else.

        The kernel launcher's tree: with namespaces that is all of them (the PID namespace keeps even daemons
        under bwrap, and dies with it). Without: as root, whatever runs as the kernel's uid (leased to this run
        alone); otherwise whatever carries this submission's marker, orphans adopted by this worker included.
        """
        victims = _tree(kernel_pid)
        if kernel_pid:
            try:
                os.killpg(kernel_pid, signal.SIGKILL)  # the launcher's session: strays that left the tree but not it
            except OSError:
                pass
        victims += self._marked(token)
        for _ in range(KILL_ROUNDS):  # looked for again: a process that forked while a round ran is found by the next
            for proc in victims:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            _wait_dead(victims, timeout=5)
            victims = self._marked(token)
            if not victims:
                break

    def _marked(self, token):
        """The live processes that belong to this submission by their uid (as root) or their marker (an ordinary user
        without namespaces); none with namespaces, where the kernel's tree is all of them."""
        marked = []
        for proc in psutil.process_iter(["uids", "pid", "status"]):
            try:
                if proc.info["status"] == psutil.STATUS_ZOMBIE:
                    continue
                if self.uid is not None and proc.info["uids"].real == self.uid:
                    marked.append(proc)
                elif self.uid is None and not self.isolation.bwrap and proc.pid != os.getpid():
                    if proc.info["uids"].real == os.getuid() and proc.environ().get("AUTOGRADER_JOB") == token:
                        marked.append(proc)
            except (psutil.Error, OSError):
                continue
        return marked


def build_font_cache(scratch_root: Path, uid: int | None, isolation: Isolation, hide: list[str], memory: int) -> None:
    """Build matplotlib's font list once for the run, as a kernel would: the kernel's Python through the launcher, in
    the same confinement and as the same kind of uid, so that it lists only the fonts a kernel sees and can open.

    No student code runs in it. Each job's fresh MPLCONFIGDIR starts with a copy (otherwise each kernel scanned the
    fonts again: half a second per submission). The files appear in scratch_root/font-cache/ all at once (a rename),
    or not at all when the build fails: a job that finds none builds its own, as before.
    """
    base = Path(scratch_root) / "fonts"
    job, ipc = base / "job", base / "ipc"
    for sub in ("work", "mpl", "tmp", "shm"):
        (job / sub).mkdir(parents=True, exist_ok=True)
    ipc.mkdir(mode=0o700, exist_ok=True)
    job.chmod(0o700)
    argv = launcher_argv(job, ipc, memory, uid, isolation.bwrap, hide, os.getpid()) + [kernel_python(), "-I", "-c", BUILD_FONT_CACHE]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(job / "work"), "TMPDIR": str(job / "tmp"), "LANG": "C.UTF-8"}
    env.update(MPLCONFIGDIR=str(job / "mpl"), MPLBACKEND="Agg")
    try:
        subprocess.run(argv, cwd=job / "work", env=env, capture_output=True, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError):
        return
    built = sorted((job / "mpl").glob("fontlist-*.json"))
    if built:
        ready = base / "ready"
        ready.mkdir()
        for path in built:
            shutil.copy(path, ready / path.name)
        os.replace(ready, Path(scratch_root) / FONT_CACHE)


def _wait_dead(victims, timeout):
    """Until every victim has died; reap those that are this process's children (adopted orphans included).

    A zombie counts as dead: it holds nothing but its pid. Waiting until somebody reaps it (psutil.wait_procs)
    took about a second per kernel on a host whose init reaps slowly: bwrap's pid 1 is orphaned when bwrap dies.
    """
    deadline, left = time.monotonic() + timeout, list(victims)
    while left and time.monotonic() < deadline:
        alive = []
        for proc in left:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
                elif proc.ppid() == os.getpid():
                    os.waitpid(proc.pid, os.WNOHANG)
            except (psutil.Error, ChildProcessError):
                continue
        left = alive
        time.sleep(0.005 if left else 0)


def _tree(pid):
    """The process pid (the kernel launcher) and its descendants, found before any is killed (orphans move away)."""
    try:
        launcher = psutil.Process(pid) if pid else None
        return [launcher, *launcher.children(recursive=True)] if launcher else []
    except psutil.Error:
        return []
