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

This module is the grader's side: which tests to check again, and a child process (pipeline/replay.py) kept per
grading worker that runs the given cells once and checks each notebook in a fork of itself.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.grader.pipeline.replay import TIMEOUT

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Notebook
    from autograder.grader.pipeline.assemble import Graded

MEMORY_BYTES = 4 * 2**30


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
