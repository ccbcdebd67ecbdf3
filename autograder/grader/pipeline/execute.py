"""Grade one submission: execute its graded notebook in a confined kernel, then score it.

The kernel is started through autograder/kernel/launcher.py (bubblewrap's namespaces where the host allows them: no files but the
Python installation and its scratch folders, no network, its own processes; a throwaway uid when the grader is
root; OS limits) in a scratch folder that holds only the data, and talks to the grader over Unix sockets. A cell
that runs past its timeout is interrupted; if it ignores the interrupt, or a cell kills the kernel, the notebook
runs again from the top without that cell, so the rest is graded for what it can do. Afterwards every process
the submission started is killed.
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import nbformat
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from autograder import REPO
from autograder.grader.core.record import TestResult
from autograder.grader.pipeline.assemble import REPORT_MARKER
from autograder.grader.pipeline.isolation import kernel_python, launcher_argv

MAX_RUNS = 3
MEMORY_ERRORS = ("MemoryError", "can't allocate memory", "DefaultCPUAllocator", "std::bad_alloc", "Cannot allocate memory")


@dataclass
class Limits:
    cell_timeout: int = 60  # a cell whose master sets no timeout of its own
    timeouts: dict = field(default_factory=dict)  # grade_id -> seconds, overriding the master's
    wall_timeout: int = 600
    memory_bytes: int = 4 * 2**30
    seed: int = 0


@dataclass
class Outcome:
    status: str = "ok"
    messages: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    nb: object = None
    seconds: float = 0.0


class _KillKernel(Exception):
    """The kernel ignored an interrupt after a timeout: it must be killed."""


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


def _mark_start(client, on_cell=None):
    def hook(cell, cell_index):
        client.current = cell_index
        if on_cell is not None:
            on_cell(cell_index, cell)

    return hook


def _mark_reply(cell, cell_index, execute_reply):
    content = execute_reply.get("content", {})
    cell.metadata.setdefault("autograder", {})["status"] = content.get("status", "error")
    if content.get("status") == "error" and not any(o.output_type == "error" for o in cell.outputs):
        ename, evalue = content.get("ename", "Error"), content.get("evalue", "")
        cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[]))


class Sandbox:
    """One worker's kernel factory: its kernelspec, its uid (root), the run's isolation, what the kernel must not see.

    on_cell, if given, is called with (cell index, cell) as each cell starts (check's progress line).
    """

    def __init__(self, scratch, uid, limits, isolation, hide=(), on_cell=None):
        self.scratch, self.limits, self.isolation, self.on_cell = Path(scratch), limits, isolation, on_cell
        self.uid = uid if os.geteuid() == 0 and isolation.uids else None
        self.hide = sorted({str(REPO), str(Path.home()), str(Path(scratch).parent), *map(str, hide)})
        self.specs = self.scratch / "kernels"
        # Jupyter's IPC transport: Unix sockets here, short enough for a socket path (at most 107 bytes), reachable
        # from a kernel in a network namespace of its own, where TCP to the grader is not.
        self.ipc = self.scratch / "ipc"

    def kernelspec(self, job):
        argv = launcher_argv(job, self.ipc, self.limits.memory_bytes, self.uid, self.isolation.bwrap, self.hide, os.getpid())
        argv += [kernel_python(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        folder = self.specs / "autograder"
        folder.mkdir(parents=True, exist_ok=True)
        # interrupt by message: a signal to the launcher does not reach a kernel in its own PID namespace
        spec = {"argv": argv, "display_name": "autograder", "language": "python", "interrupt_mode": "message"}
        (folder / "kernel.json").write_text(json.dumps(spec))
        return KernelSpecManager(kernel_dirs=[str(self.specs)])

    def fresh_ipc(self):
        """An empty IPC folder for the next kernel (the last one's sockets and connection file removed)."""
        shutil.rmtree(self.ipc, ignore_errors=True)
        self.ipc.mkdir(mode=0o700, parents=True)
        return self.ipc

    def env(self, job, token):
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
        }
        return env

    def kill_all(self, kernel_pid, token):
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
        for proc in psutil.process_iter(["uids", "pid"]):
            try:
                if self.uid is not None and proc.info["uids"].real == self.uid:
                    victims.append(proc)
                elif self.uid is None and not self.isolation.bwrap and proc.pid != os.getpid():
                    if proc.info["uids"].real == os.getuid() and proc.environ().get("AUTOGRADER_JOB") == token:
                        victims.append(proc)
            except (psutil.Error, OSError):
                continue
        for proc in victims:
            try:
                proc.kill()
            except psutil.Error:
                pass
        _wait_dead(victims, timeout=5)


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


def _timeout_for(limits):
    def timeout(cell):
        meta = cell.get("metadata", {}).get("autograder", {})
        return limits.timeouts.get(meta.get("grade_id")) or meta.get("timeout") or limits.cell_timeout

    return timeout


def stage_data(folder, exercise):
    """Copy the exercise's data files into folder/data, where its notebook looks for them."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for path in exercise.data_files():
        shutil.copy(path, folder / "data" / path.name)


def _run_once(nb, sandbox, job, token, deadline):
    """Execute nb once; (index of the cell that stopped the kernel or None, why, timed-out cell indexes)."""
    km = AsyncKernelManager(kernel_name="autograder", kernel_spec_manager=sandbox.kernelspec(job), transport="ipc")
    ipc = sandbox.fresh_ipc()
    km.connection_file, km.ip = str(ipc / "kernel.json"), str(ipc / "k")
    client = _Client(
        nb,
        km=km,
        timeout_func=_timeout_for(sandbox.limits),
        allow_errors=True,
        interrupt_on_timeout=True,
        on_cell_executed=_mark_reply,
        startup_timeout=120,
        iopub_timeout=10,
        resources={"metadata": {"path": str(job / "work")}},
    )
    client.on_cell_start = _mark_start(client, sandbox.on_cell)
    expired = threading.Event()

    def wall():
        expired.set()
        sandbox.kill_all(_pid(km), token)

    timer = threading.Timer(max(1.0, deadline - time.monotonic()), wall)
    timer.start()
    stopped, why = None, None
    try:
        client.execute(env=sandbox.env(job, token), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except _KillKernel:
        stopped, why = client.current, "timeout"
    except (DeadKernelError, RuntimeError) as error:
        stopped, why = client.current, "wall timeout" if expired.is_set() else f"kernel died ({error})"[:200]
    finally:
        timer.cancel()
        sandbox.kill_all(_pid(km), token)
    return stopped, why, client.timed_out


def _pid(km):
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


def _stub(cell, why):
    """A cell the rerun skips because it stopped the kernel."""
    cell.source = f"raise RuntimeError({('not run again: this cell ' + why + ' in an earlier run')!r})"
    cell.outputs = []


def execute_confined(graded, sandbox, job_name, limits, exercise):
    """Run graded.nb (assemble.Graded) in a fresh scratch folder; returns (nb, problems)."""
    job = sandbox.scratch / job_name
    shutil.rmtree(job, ignore_errors=True)
    for sub in ("work", "runtime", "mpl", "ipython", "tmp", "shm"):
        (job / sub).mkdir(parents=True)
    job.chmod(0o700)  # without namespaces, other workers' uids must not read this student's folder
    stage_data(job / "work", exercise)
    deadline = time.monotonic() + limits.wall_timeout
    problems, skipped = [], {}
    try:
        for _ in range(MAX_RUNS):
            nb = nbformat.from_dict(graded.nb)
            for index, why in skipped.items():
                _stub(nb.cells[index], why)
            stopped, why, timed_out = _run_once(nb, sandbox, job, graded.guard, deadline)
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


def _outputs_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip().rstrip(":")
    return None


def score_graded(nb, graded):
    """One TestResult per test cell: points only for a test that ran to its end without an error."""
    results = []
    for cell in nb.cells:
        meta = cell.metadata.get("autograder", {})
        if meta.get("kind") != "test":
            continue
        gid, max_points = meta["grade_id"], float(cell.metadata["nbgrader"]["points"])
        error, printed = _error(cell), _outputs_text(cell)
        if "status" not in meta:
            message = "not run: the notebook stopped before this test"
        elif error:
            message = error
        elif meta["status"] != "ok" or graded.tokens[gid] not in printed:
            message = "the test did not run to its end (an error was hidden from the grader)"
        else:
            message = ""
        visible = graded.visible_tokens[gid] in printed
        if message and visible:
            message = f"a hidden test failed (the visible checks passed): {message}"
        results.append(TestResult(gid, 0.0 if message else max_points, max_points, message, visible))
    return results


def guard_report(nb):
    """What the kernel guard repaired and which faked types it found ({} when the report cell did not run)."""
    for cell in reversed(nb.cells):
        if cell.metadata.get("autograder", {}).get("kind") == "report":
            for line in _outputs_text(cell).splitlines():
                if line.startswith(REPORT_MARKER):
                    try:
                        return json.loads(line[len(REPORT_MARKER) :])
                    except ValueError:
                        return {}
    return {}


def _cell_label(cell, index):
    meta = cell.metadata.get("autograder", {})
    if meta.get("after"):
        return f"your cell after '{meta['after']}'"
    return f"'{meta['grade_id']}'" if meta.get("grade_id") else f"cell {index}"


def _memory_trouble(nb):
    """A cell of the student's (or a test calling their code) ran out of memory; given cells are the course's."""
    mine = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") in ("answer", "manual", "student", "test")]
    return any(m in (_error(c) or "") for c in mine for m in MEMORY_ERRORS)


def grade_graded(graded, sandbox, job_name, limits, exercise):
    """Execute and score one assembled submission: an Outcome with status, messages, tests and the notebook."""
    started = time.monotonic()
    nb, problems = execute_confined(graded, sandbox, job_name, limits, exercise)
    outcome = Outcome(nb=nb, tests=score_graded(nb, graded))
    kinds = [why for why, _ in problems]
    for why, index in dict.fromkeys(problems):
        outcome.messages.append(f"{_cell_label(nb.cells[index], index)}: {why}")
    report = guard_report(nb)
    if report.get("subclasses"):
        outcome.status = "tampering"
        outcome.messages.append("faked comparisons (" + "; ".join(report["subclasses"]) + "): all tests score 0")
        outcome.tests = [TestResult(t.grade_id, 0.0, t.max_points, t.message or "tampering") for t in outcome.tests]
    elif "wall timeout" in kinds:
        outcome.status = "wall timeout"
    elif any(k.startswith("kernel died") for k in kinds):
        outcome.status = "memory" if _memory_trouble(nb) else "kernel died"
    elif _memory_trouble(nb):
        outcome.status = "memory"
    if outcome.status == "memory":
        outcome.messages.append(f"a cell ran out of memory (the limit is {limits.memory_bytes / 2**30:g} GiB)")
    elif "timeout" in kinds:
        outcome.status = "timeout"
    if report.get("repaired"):
        outcome.messages.append("restored before the tests: " + ", ".join(report["repaired"][:12]))
    outcome.seconds = time.monotonic() - started
    return outcome
