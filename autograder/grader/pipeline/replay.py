"""Check each test's hidden checks again outside the student's kernel, on the values the student's code returned.

The kernel is the student's process: whatever runs there after their code, a test's assertions and the token that
says it passed included, their code can change (it can rewrite how IPython runs a cell). So for a notebook that
declares `check_outside_kernel` (its hidden checks written for it), a test earns its points only when its hidden checks
also pass here, in a process where no student code ever runs:

1. the master's given cells run (the course's helpers, networks, data; a cell that needs the student's code fails and
   is skipped: nothing here needs it), once for all the notebooks a grading process checks;
2. each notebook's hidden blocks run in a fork of that process (a fresh copy of that namespace for each notebook),
   with `calling(what, fn, *args)` returning the value that call returned in the kernel instead of calling fn. The
   guard saved those values as plain arrays and numbers (read with numpy's `allow_pickle=False`: nothing that runs
   code when loaded); everything else in the block, the reference values and the assertions, is the course's code on
   the course's inputs.

A test that passed in the kernel and fails here was tampered with: its verdict did not come from its checks. Forging a
pass here means returning the values a correct answer returns, on inputs the checks choose: that is, answering.

    python -m autograder.grader.pipeline.replay --serve GIVEN.json    # the child: one JSON line in, one out, per notebook
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import io
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Notebook
    from autograder.grader.pipeline.assemble import Graded

MAX_ARRAY_BYTES = 256 * 2**20  # what the saved values of one test may unpack to
MEMORY_BYTES = 4 * 2**30
TIMEOUT = 600  # seconds for all the hidden checks of one notebook


def given_sources(notebook: Notebook) -> list[str]:
    """The source of each given code cell of the notebook, in order, up to its last test: what the checks may use."""
    from autograder.notebooks import is_manual, is_solution, is_test

    cells = notebook.nb.cells
    last_test = max((i for i, c in enumerate(cells) if is_test(c)), default=-1)
    return [c.source for c in cells[:last_test] if c.cell_type == "code" and not (is_solution(c) or is_test(c) or is_manual(c))]


def recheck(notebook: Notebook, graded: Graded, passed: list[str], files: list, seed: int = 0) -> dict[str, str]:
    """grade_id -> "" (its hidden checks pass outside the kernel) or why not, for each test of passed (the grade_ids that
    passed in the kernel) whose hidden checks the notebook declares to be checked outside the kernel. files: what to stage beside the
    checks, as for the notebook (execute.staged_files). Raises RuntimeError when the checks could not run at all."""
    wanted = [gid for gid in passed if gid in graded.hidden]
    if not wanted:
        return {}
    names = sorted({name for names in notebook.defines.values() for name in names})
    checker = _checker(given_sources(notebook), names, files, seed)
    with tempfile.TemporaryDirectory(prefix="recheck-") as folder:
        tests = []
        for n, gid in enumerate(wanted):
            path = None
            if gid in graded.evidence:
                path = Path(folder) / f"evidence-{n}.npz"
                path.write_bytes(graded.evidence[gid])
            tests.append([gid, graded.hidden[gid], str(path) if path else None])
        verdicts = checker.check(tests)
    return {gid: str(verdicts.get(gid, "not checked")) for gid in wanted}


class _Checker:
    """A child process of the grader's that has run the master's given cells once, in a folder of its own with the files
    staged, and then checks one notebook's tests per request, each in a fork of itself: every notebook's checks start
    from the same fresh namespace (no request sees another's values), without importing torch and running the given
    cells again for each notebook. A child that could not fork safely (a thread running after the given cells) answers
    one request and is replaced."""

    def __init__(self, given: list[str], names: list[str], files: list, seed: int) -> None:
        from autograder.grader.pipeline.execute import stage

        self.owner = os.getpid()  # a process forked from the owner (a grading worker) starts its own
        self.folder = Path(tempfile.mkdtemp(prefix="recheck-"))
        stage(self.folder, files)
        spec = self.folder / "given.json"
        spec.write_text(json.dumps({"given": given, "student_names": names}))
        env = {
            # the grader's own package, wherever it was imported from (an installed venv, a course hub's, Gradescope's source/)
            "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(self.folder / "mpl"),
            "TQDM_DISABLE": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONHASHSEED": str(seed),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [sys.executable, "-m", "autograder.grader.pipeline.replay", "--serve", str(spec)]
        self.log = open(self.folder / "stderr.txt", "w+b")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            command, cwd=self.folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            preexec_fn=_limits, text=True,
        )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None  # both are pipes
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        ready = self._answer(TIMEOUT)
        self.reusable = bool(ready.get("fork"))

    def _answer(self, timeout: float) -> dict:
        """The child's next line, as JSON; RuntimeError (the child stopped) when none comes within timeout seconds."""
        readable, _, _ = select.select([self.stdout], [], [], timeout)
        line = self.stdout.readline() if readable else ""
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self.close()
            if not readable:
                raise RuntimeError(f"the hidden checks ran past {TIMEOUT} s outside the kernel")
            raise RuntimeError(f"the hidden checks could not run outside the kernel: {self._stderr()[-300:]}")
        return answer

    def _stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()

    def check(self, tests: list) -> dict:
        """{grade_id: "" or why} for [[grade_id, hidden source, evidence path or None]]."""
        try:
            self.stdin.write(json.dumps({"tests": tests, "timeout": TIMEOUT}) + "\n")
            self.stdin.flush()
        except OSError:
            self.close()
            raise RuntimeError(f"the hidden checks could not run outside the kernel: {self._stderr()[-300:]}") from None
        answer = self._answer(TIMEOUT + 30)  # the child kills its fork at TIMEOUT and says so
        if not self.reusable:
            self.close()
        if "error" in answer:
            raise RuntimeError(str(answer["error"]))
        return answer.get("verdicts", {})

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# what the checks depend on -> its _Checker, the most recently used last
_CHECKERS: collections.OrderedDict[tuple, _Checker] = collections.OrderedDict()
_CHECKERS_KEPT = 2
_CHECKERS_LOCK = threading.Lock()


def _checker(given: list[str], names: list[str], files: list, seed: int) -> _Checker:
    """A live _Checker for these given cells, names, staged files and seed: the one kept from an earlier notebook when
    they are the same, else a new one (the oldest of those kept is stopped)."""
    staged = tuple((str(relative), str(path), *_stamp(path)) for relative, path in files)
    key = (tuple(given), tuple(names), staged, seed)
    with _CHECKERS_LOCK:
        for inherited in [k for k, c in _CHECKERS.items() if c.owner != os.getpid()]:
            del _CHECKERS[inherited]  # its pipes are its owner's: left to it
        kept = _CHECKERS.pop(key, None)
        if kept is not None and kept.alive():
            _CHECKERS[key] = kept
            return kept
        while len(_CHECKERS) >= _CHECKERS_KEPT:
            _CHECKERS.popitem(last=False)[1].close()
        checker = _Checker(given, names, files, seed)
        if checker.reusable:
            _CHECKERS[key] = checker
        return checker


def _stamp(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


@atexit.register
def stop_checkers() -> None:
    """Stop every kept child (each also stops by itself when the grader's end of its pipe closes)."""
    with _CHECKERS_LOCK:
        while _CHECKERS:
            checker = _CHECKERS.popitem(last=False)[1]
            if checker.owner == os.getpid():
                checker.close()


def _limits() -> None:
    """In the child, before it runs: its memory bound, and its death with the grading process that starts it (a kill -9
    of the grader takes its workers, their kernels and this child along at once)."""
    from autograder.grader.confine.processes import die_with_parent

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    die_with_parent(os.getppid())


# ---- the child process: no grader import below this line, and no student code ever runs here ----


class NotPlainData:
    """What stands for a value the guard could not save as data (an object of the student's): any use fails."""

    def __init__(self, kind):
        object.__setattr__(self, "_kind", kind)

    def _refuse(self, *args, **kwargs):
        raise AssertionError(f"your code returned a {object.__getattribute__(self, '_kind')}, not a tensor or a number")

    __getattr__ = __call__ = __bool__ = __iter__ = __len__ = __getitem__ = __float__ = _refuse
    __eq__ = __lt__ = __le__ = __gt__ = __ge__ = __add__ = __sub__ = __mul__ = __truediv__ = __neg__ = __abs__ = _refuse


class StudentCode(NotPlainData):
    """What stands for a name the student's answers define: the checks may name it (calling(what, make_masks, 3, 5)),
    never use it (here is no student code)."""

    def _refuse(self, *args, **kwargs):
        name = object.__getattribute__(self, "_kind")
        raise AssertionError(f"the hidden checks used {name} outside calling(): the course's checks must be fixed")

    __getattr__ = __call__ = __bool__ = __iter__ = __len__ = __getitem__ = __float__ = _refuse


def placeholders(names: list[str]) -> dict[str, StudentCode]:
    """A namespace in which each of the student's names stands for their code, which is not here."""
    return {name: StudentCode(name) for name in names}


def _value(flat, arrays):
    """The value a description of the guard's (kernel/guard.py, _flat) stands for."""
    import torch

    if "py" in flat:
        return flat["py"]
    if "tensor" in flat:
        array = arrays[flat["tensor"]]
        tensor = torch.from_numpy(array.copy())
        dtype = getattr(torch, str(flat.get("dtype", "")), None)
        if not isinstance(dtype, torch.dtype):
            raise AssertionError(f"a tensor of an unknown type {flat.get('dtype')!r} was saved")
        return tensor.to(dtype)
    if "ndarray" in flat:
        return arrays[flat["ndarray"]].copy()
    if "seq" in flat:
        items = [_value(item, arrays) for item in flat["items"]]
        return items if flat["seq"] == "list" else tuple(items)
    if "dict" in flat:
        return {str(key): _value(item, arrays) for key, item in flat["dict"]}
    return NotPlainData(str(flat.get("object", "object")))


def read_evidence(path: str | Path) -> list[tuple[str, Any]]:
    """[(what, value)] of the calls a test's hidden checks made in the kernel, from the guard's file."""
    import numpy as np

    with zipfile.ZipFile(path) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_ARRAY_BYTES:
            raise AssertionError("the values saved in your kernel are larger than any answer's")
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    manifest = json.loads(bytes(arrays.pop("__manifest__")).decode())
    return [(str(what), _value(flat, arrays)) for what, flat in manifest]


def _replayed(saved):
    """calling() as the hidden checks see it here: the kernel's values, in order, for the same calls."""
    queue = list(saved)

    def calling(what, fn=None, *args):
        if not queue:
            raise AssertionError(f"{what}: the test did not save what your code returned for this call")
        saved_what, value = queue.pop(0)
        if saved_what != str(what):
            raise AssertionError(f"{what}: the values saved in your kernel are for other calls ({saved_what!r})")
        return value

    return calling


def check_one(given: dict, source: str, evidence_path: str | Path | None) -> str:
    """ "" when the hidden checks pass on the saved values, else why not."""
    try:
        saved = read_evidence(evidence_path) if evidence_path else []
    except AssertionError as error:
        return str(error)
    except Exception as error:
        return f"the values saved in your kernel cannot be read ({type(error).__name__})"
    if evidence_path is None and "calling(" in source:
        return "the test saved nothing of what your code returned"
    namespace = dict(given)
    # the given helpers look calling up in the namespace they were defined in: theirs sees the saved values too
    given["calling"] = namespace["calling"] = _replayed(saved)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, "<hidden checks>", "exec"), namespace)
    except AssertionError as error:
        return str(error) or "an assertion of the hidden checks failed"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:500]
    return ""


def given_namespace(spec: dict) -> dict:
    """The namespace of the master's given cells, run once, with placeholders for the student's names."""
    namespace = {"__name__": "__main__", **placeholders(spec.get("student_names", []))}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for source in spec["given"]:
            try:
                exec(compile(source, "<given cell>", "exec"), namespace)
            except BaseException:  # an explorer or figure that needs the student's code: nothing here needs it
                pass
    return namespace


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux; a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL


def _can_fork() -> bool:
    """Forking is safe while this process runs a single thread (torch's own threads would be lost in the fork)."""
    return threading.active_count() == 1 and len(os.listdir("/proc/self/task")) == 1


def _checked_in_fork(namespace: dict, tests: list, timeout: float) -> dict:
    """{"verdicts": ...} of one notebook's checks, run in a fork (whatever they change dies with it), or {"error": ...}."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork: its output goes nowhere but the pipe, and it dies with the process that forked it
        try:
            _die_with_parent()
            os.close(read_end)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            verdicts = {gid: check_one(namespace, source, path) for gid, source, path in tests}
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(verdicts).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + timeout
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            readable, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"error": f"the hidden checks ran past {timeout:g} s outside the kernel"}
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    try:
        return {"verdicts": json.loads(b"".join(chunks))}
    except ValueError:
        return {"error": f"the hidden checks stopped outside the kernel (status {status})"}


def serve(spec_path: str) -> None:
    """Run the given cells, say whether requests can be forked, then answer one JSON line per request on stdin (one
    notebook's tests) until stdin closes: forked when it can, else the one request in this process, then stop."""
    namespace = given_namespace(json.loads(Path(spec_path).read_text()))
    forkable = _can_fork()
    print(json.dumps({"ready": True, "fork": forkable}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        tests = request["tests"]
        if forkable:
            answer = _checked_in_fork(namespace, tests, float(request.get("timeout", TIMEOUT)))
        else:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                answer = {"verdicts": {gid: check_one(namespace, source, path) for gid, source, path in tests}}
        print(json.dumps(answer), flush=True)
        if not forkable:
            return


if __name__ == "__main__":
    serve(sys.argv[2])
