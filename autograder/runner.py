"""Grade one submission: execute its graded notebook in a confined kernel, then score it.

The kernel is started through sandbox.py (OS memory cap, hidden filesystem and a throwaway uid when the grader
is root) in a scratch folder that holds only the data. A cell that runs past its timeout is interrupted; if it
ignores the interrupt, or a cell kills the kernel, the notebook runs again from the top without that cell, so
the rest is graded for what it can do. Afterwards every process the submission started is killed.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
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

from . import REPO
from .hardening import REPORT_MARKER

SANDBOX = Path(__file__).with_name("sandbox.py")
UID_BASE = 61000
MAX_RUNS = 3
MEMORY_ERRORS = ("MemoryError", "can't allocate memory", "DefaultCPUAllocator", "std::bad_alloc", "Cannot allocate memory")


@dataclass
class TestResult:
    """One test cell's result: points earned, and why not all of them (what the student reads)."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""
    visible_passed: bool = False  # the checks a student sees before submitting (Validate) passed


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


def _mark_start(client):
    def hook(cell, cell_index):
        client.current = cell_index

    return hook


def _mark_reply(cell, cell_index, execute_reply):
    content = execute_reply.get("content", {})
    cell.metadata.setdefault("autograder", {})["status"] = content.get("status", "error")
    if content.get("status") == "error" and not any(o.output_type == "error" for o in cell.outputs):
        ename, evalue = content.get("ename", "Error"), content.get("evalue", "")
        cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[]))


class Sandbox:
    """One worker's kernel factory: its kernelspec, its uid (when root), what the kernel must not see."""

    def __init__(self, scratch, slot, limits, hide=()):
        self.scratch, self.limits = Path(scratch), limits
        self.uid = UID_BASE + slot if os.geteuid() == 0 else None
        # Every top-level folder but the system's (sandbox.SYSTEM) is hidden, not only this repository: another
        # copy of the course (a colleague's checkout, last term's grading) must be out of reach too.
        top_level = [p for p in Path("/").iterdir() if p.is_dir()]
        self.hide = [str(p) for p in {REPO, Path.home(), Path(scratch).parent, Path("/tmp"), *top_level, *map(Path, hide)}]
        self.specs = self.scratch / "kernels"

    def kernelspec(self, job):
        argv = [sys.executable, str(SANDBOX), "--memory", str(self.limits.memory_bytes)]
        if self.uid is not None:
            argv += ["--uid", str(self.uid), "--nproc", "256", "--own", str(job)]
            argv += [a for p in self.hide for a in ("--hide", p)]
            argv += [a for p in {sys.prefix, sys.base_prefix, str(job)} for a in ("--keep", p)]
        argv += ["--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        folder = self.specs / "autograder"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "autograder", "language": "python"}))
        return KernelSpecManager(kernel_dirs=[str(self.specs)])

    def env(self, job, token):
        home = job / "work"
        env = {
            "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            "HOME": str(home),
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
        """Kill every process this submission started: by uid when it has its own, else by tree and marker."""
        victims = []
        for proc in psutil.process_iter(["uids", "pid"]):
            try:
                if self.uid is not None and proc.info["uids"].real == self.uid:
                    victims.append(proc)
                elif self.uid is None and proc.pid != os.getpid() and proc.environ().get("AUTOGRADER_JOB") == token:
                    victims.append(proc)
            except (psutil.Error, OSError):
                continue
        if kernel_pid:
            try:
                os.killpg(kernel_pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                victims += psutil.Process(kernel_pid).children(recursive=True)
            except psutil.Error:
                pass
        for proc in victims:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(victims, timeout=5)


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
    km = AsyncKernelManager(kernel_name="autograder", kernel_spec_manager=sandbox.kernelspec(job))
    km.connection_file = str(job / "runtime" / "kernel.json")
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
    client.on_cell_start = _mark_start(client)
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
    """Run graded.nb (hardening.Graded) in a fresh scratch folder; returns (nb, problems)."""
    job = sandbox.scratch / job_name
    shutil.rmtree(job, ignore_errors=True)
    for sub in ("work", "runtime", "mpl", "ipython"):
        (job / sub).mkdir(parents=True)
    stage_data(job / "work", exercise)
    deadline = time.monotonic() + limits.wall_timeout
    problems, skipped = [], {}
    try:
        for _ in range(MAX_RUNS):
            nb = nbformat.from_dict(graded.nb)
            for index, why in skipped.items():
                _stub(nb.cells[index], why)
            stopped, why, timed_out = _run_once(nb, sandbox, job, graded.guard, deadline)
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
    mine = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") in ("answer", "student", "test")]
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
