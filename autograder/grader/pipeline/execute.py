"""Execute one graded notebook in a confined kernel.

The kernel is started through autograder/kernel/launcher.py (bubblewrap's namespaces where the host allows them: no files but the
Python installation and its scratch folders, no network, its own processes; a throwaway uid when the grader is
root; OS limits) in a scratch folder that holds only the data, and talks to the grader over Unix sockets. A cell
that runs past its timeout is interrupted; if it ignores the interrupt, or a cell kills the kernel, the notebook
runs again from the top without that cell, so the rest is graded for what it can do. Afterwards every process
the submission started is killed.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from autograder.grader.pipeline.assemble import KEY_FILE

if TYPE_CHECKING:
    from autograder.grader.confine.sandbox import Sandbox
    from autograder.grader.core.assignment import Notebook
    from autograder.grader.pipeline.assemble import Graded

MAX_RUNS = 3
# After the wall timeout has killed the kernel, how long the client may take to notice before the run is stopped from
# outside its event loop (nbclient has been seen spinning on a dead kernel's sockets for good: a worker then never ended)
STUCK_GRACE_S = 60
EVIDENCE = ".autograder-evidence"  # the guard's folder of what each test's hidden checks received (kernel/guard.py)
MAX_EVIDENCE_BYTES = 64 * 2**20


@dataclass
class Limits:
    cell_timeout: int = 60  # a cell whose master sets no timeout of its own
    timeouts: dict = field(default_factory=dict)  # grade_id -> seconds, overriding the master's
    wall_timeout: int = 600
    memory_bytes: int = 4 * 2**30
    seed: int = 0


class _KillKernel(Exception):
    """The kernel ignored an interrupt after a timeout: it must be killed."""


class _Stuck(KeyboardInterrupt):
    """The client went on past the wall timeout and its grace, its kernel killed: raised into the main thread. A
    KeyboardInterrupt, because asyncio lets only those (and SystemExit) out of a callback: it logs any other exception
    and runs on, and a client spinning on a dead kernel's sockets spins in a callback."""


@contextlib.contextmanager
def _stoppable(returned: threading.Event):
    """While the block runs in the main thread, SIGUSR1 raises _Stuck there until returned is set; yields a function
    that sends it (None off the main thread, where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return

    def raise_stuck(signum, frame):
        if not returned.is_set():
            raise _Stuck()

    previous = signal.signal(signal.SIGUSR1, raise_stuck)
    main = threading.get_ident()
    try:
        yield lambda: signal.pthread_kill(main, signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)


class _Client(NotebookClient):
    """nbclient with a bounded wait after an interrupt, and a record of what each cell did."""

    def __init__(self, nb, **kwargs):
        super().__init__(nb, **kwargs)
        self.current, self.timed_out = None, set()

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out.add(self.current)
        await ensure_async(self.km.interrupt_kernel())
        try:
            return await ensure_async(self.kc.shell_channel.get_msg(timeout=5))
        except Empty:
            raise _KillKernel() from None


def _evidence_file(work, cell):
    """Where a test cell's guard saves what its hidden checks received (None for any other cell)."""
    meta = cell.get("metadata", {}).get("autograder", {})
    return Path(work) / EVIDENCE / f"{meta['grade_id']}.npz" if meta.get("kind") == "test" and meta.get("grade_id") else None


def _mark_start(client, work, on_cell=None):
    def hook(cell, cell_index):
        client.current = cell_index
        path = _evidence_file(work, cell)
        if path is not None:  # only what this test writes while it runs counts, never a file left by earlier cells
            path.unlink(missing_ok=True)
        if on_cell is not None:
            on_cell(cell_index, cell)

    return hook


def _mark_reply(graded, work):
    def hook(cell, cell_index, execute_reply):
        content = execute_reply.get("content", {})
        cell.metadata.setdefault("autograder", {})["status"] = content.get("status", "error")
        if content.get("status") == "error" and not any(o.output_type == "error" for o in cell.outputs):
            ename, evalue = content.get("ename", "Error"), content.get("evalue", "")
            cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[]))
        path = _evidence_file(work, cell)
        if path is not None:  # read at once: a later cell of the student's cannot change it
            graded.evidence.pop(cell.metadata["autograder"]["grade_id"], None)
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_EVIDENCE_BYTES:
                    graded.evidence[cell.metadata["autograder"]["grade_id"]] = path.read_bytes()
                path.unlink(missing_ok=True)
            except OSError:
                pass

    return hook


def _timeout_for(limits):
    def timeout(cell):
        meta = cell.get("metadata", {}).get("autograder", {})
        return limits.timeouts.get(meta.get("grade_id")) or meta.get("timeout") or limits.cell_timeout

    return timeout


def stage_data(folder: str | Path, notebook: Notebook) -> None:
    """Copy the notebook's data files into folder/data, where its notebook looks for them."""
    stage(folder, staged_files(notebook))


def staged_files(notebook: Notebook, assignment_files: Iterable = (), student_files: Iterable = ()) -> list[tuple[Path, Path]]:
    """(path relative to the notebook's folder, file) of what runs beside a notebook, in the order nbgrader's autograde
    copies them, the later winning: the student's own other files, the assignment's other files (its source
    folder's), the data files the notebook's source declares (in data/)."""
    return [*student_files, *assignment_files, *((Path("data") / p.name, p) for p in notebook.data_files())]


def stage(folder: str | Path, files: Iterable[tuple[Path, Path]]) -> None:
    """Copy files ((relative path, file)) into folder."""
    for relative, path in files:
        target = Path(folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _run_once(nb, sandbox, job, graded, deadline):
    """Execute nb once; (index of the cell that stopped the kernel or None, why, timed-out cell indexes)."""
    token, work = graded.guard, job / "work"
    key = work / KEY_FILE
    key.unlink(missing_ok=True)
    key.write_bytes(graded.key)  # the guard reads it before any student code, then deletes it
    key.chmod(0o600)
    km = AsyncKernelManager(kernel_name="autograder", kernel_spec_manager=sandbox.kernelspec(job), transport="ipc")
    ipc = sandbox.fresh_ipc()
    km.connection_file, km.ip = str(ipc / "kernel.json"), str(ipc / "k")
    client = _Client(
        nb,
        km=km,
        timeout_func=_timeout_for(sandbox.limits),
        allow_errors=True,
        interrupt_on_timeout=True,
        on_cell_executed=_mark_reply(graded, work),
        startup_timeout=120,
        iopub_timeout=10,
        resources={"metadata": {"path": str(job / "work")}},
    )
    client.on_cell_start = _mark_start(client, work, sandbox.on_cell)
    expired, returned = threading.Event(), threading.Event()
    stopped, why = None, None
    with _stoppable(returned) as stop:

        def wall():
            expired.set()
            sandbox.kill_all(_pid(km), token)
            if stop is not None and not returned.wait(STUCK_GRACE_S):
                stop()  # the client did not notice its dead kernel: the run ends here all the same

        timer = threading.Timer(max(1.0, deadline - time.monotonic()), wall)
        timer.daemon = True
        timer.start()
        try:
            client.execute(env=sandbox.env(job, token), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except _KillKernel:
            stopped, why = client.current, "timeout"
        except (DeadKernelError, RuntimeError, _Stuck) as error:
            stopped, why = client.current, "wall timeout" if expired.is_set() else f"kernel died ({error})"[:200]
        finally:
            returned.set()
            timer.cancel()
            if timer.is_alive():
                timer.join()  # a stop it sends now finds the handler still set, and ignored
            sandbox.kill_all(_pid(km), token)
    return stopped, why, client.timed_out


def _pid(km):
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


def _stub(cell, why):
    """A cell the rerun skips because it stopped the kernel."""
    cell.source = f"raise RuntimeError({('not run again: this cell ' + why + ' in an earlier run')!r})"
    cell.outputs = []


def execute_confined(
    graded: Graded, sandbox: Sandbox, job_name: str, limits: Limits, notebook: Notebook, files: list | None = None
) -> tuple[Any, list[tuple[str, int]]]:
    """Run graded.nb (assemble.Graded) in a fresh scratch folder holding files (staged_files; default: the
    notebook's data); returns (nb, problems)."""
    job = sandbox.scratch / job_name
    shutil.rmtree(job, ignore_errors=True)
    for sub in ("work", "runtime", "mpl", "ipython", "tmp", "shm"):
        (job / sub).mkdir(parents=True)
    job.chmod(0o700)  # without namespaces, other workers' uids must not read this student's folder
    stage(job / "work", files if files is not None else staged_files(notebook))
    for path in sandbox.font_cache():  # the run's font list, built in the sandbox by no student's code
        shutil.copy(path, job / "mpl" / path.name)
    deadline = time.monotonic() + limits.wall_timeout
    problems: list[tuple[str, int]] = []
    skipped: dict[int, str] = {}
    try:
        for _ in range(MAX_RUNS):
            nb = nbformat.from_dict(graded.nb)
            for index, why in skipped.items():
                _stub(nb.cells[index], why)
            stopped, why, timed_out = _run_once(nb, sandbox, job, graded, deadline)
            if why and stopped is None:  # no cell ran: the host's fault, not the student's (a "grader error" row)
                raise RuntimeError(f"the kernel did not start: {why}")
            problems += [("timeout", i) for i in timed_out]
            if stopped is None:
                break
            problems.append((why, stopped))
            if why == "wall timeout" or stopped in skipped or time.monotonic() > deadline:
                break
            skipped[stopped] = "timed out" if why == "timeout" else "killed the kernel"
    finally:
        shutil.rmtree(job, ignore_errors=True)
    return nb, problems
