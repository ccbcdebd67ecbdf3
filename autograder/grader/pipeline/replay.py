"""The child process of pipeline/recheck.py: no student code ever runs here, and no grader module but the one that
ties its life to the grader's (confine/processes.py).

It runs the master's given cells once (the course's helpers, networks, data; a cell that needs the student's code fails
and is skipped: nothing here needs it), then answers one request per notebook: that notebook's hidden blocks, run in a
fork of this process (a fresh copy of the namespace for each notebook), with `calling(what, fn, *args)` returning the
value that call returned in the kernel instead of calling fn. The guard saved those values as plain arrays and numbers
(read with numpy's `allow_pickle=False`: nothing that runs code when loaded); everything else in the block, the
reference values and the assertions, is the course's code on the course's inputs.

    python -m autograder.grader.pipeline.replay --serve GIVEN.json    # one JSON line in, one out, per notebook
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from autograder.grader.confine.processes import die_with_parent

MAX_ARRAY_BYTES = 256 * 2**20  # what the saved values of one test may unpack to
TIMEOUT = 600  # seconds for all the hidden checks of one notebook


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


def _can_fork() -> bool:
    """Forking is safe while this process runs a single thread (torch's own threads would be lost in the fork)."""
    return threading.active_count() == 1 and len(os.listdir("/proc/self/task")) == 1


def _checked_in_fork(namespace: dict, tests: list, timeout: float) -> dict:
    """{"verdicts": ...} of one notebook's checks, run in a fork (whatever they change dies with it), or {"error": ...}."""
    read_end, write_end = os.pipe()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:  # the fork: its output goes nowhere but the pipe, and it dies with the process that forked it
        try:
            die_with_parent(server)
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
