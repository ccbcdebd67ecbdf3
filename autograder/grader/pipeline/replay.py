"""Check each test's hidden checks again outside the student's kernel, on the values the student's code returned.

The kernel is the student's process: whatever runs there after their code, a test's assertions and the token that
says it passed included, their code can change (it can rewrite how IPython runs a cell). So for an exercise that
declares `check_outside_kernel` (its hidden checks written for it), a test earns its points only when its hidden checks
also pass here, in a process where no student code ever runs:

1. the master's given cells run (the course's helpers, networks, data; a cell that needs the student's code fails and
   is skipped: nothing here needs it);
2. each hidden block runs in a copy of that namespace, with `calling(what, fn, *args)` returning the value that call
   returned in the kernel instead of calling fn. The guard saved those values as plain arrays and numbers (read with
   numpy's `allow_pickle=False`: nothing that runs code when loaded); everything else in the block, the reference
   values and the assertions, is the course's code on the course's inputs.

A test that passed in the kernel and fails here was tampered with: its verdict did not come from its checks. Forging a
pass here means returning the values a correct answer returns, on inputs the checks choose: that is, answering.

    python -m autograder.grader.pipeline.replay SPEC.json    # the child process: prints {grade_id: "" or why} as JSON
"""

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MAX_ARRAY_BYTES = 256 * 2**20  # what the saved values of one test may unpack to
MEMORY_BYTES = 4 * 2**30
TIMEOUT = 600  # seconds for all the hidden checks of one notebook


def given_sources(exercise):
    """The source of each given code cell of the exercise, in order, up to its last test: what the checks may use."""
    from autograder.notebooks import is_manual, is_solution, is_test

    cells = exercise.nb.cells
    last_test = max((i for i, c in enumerate(cells) if is_test(c)), default=-1)
    return [c.source for c in cells[:last_test] if c.cell_type == "code" and not (is_solution(c) or is_test(c) or is_manual(c))]


def recheck(exercise, graded, passed, files, seed=0):
    """grade_id -> "" (its hidden checks pass outside the kernel) or why not, for each test of passed (the grade_ids that
    passed in the kernel) whose hidden checks the exercise checks outside the kernel. files: what to stage beside the
    checks, as for the notebook (execute.staged_files). Raises RuntimeError when the checks could not run at all."""
    from autograder.grader.pipeline.execute import stage

    wanted = [gid for gid in passed if gid in graded.hidden]
    if not wanted:
        return {}
    with tempfile.TemporaryDirectory(prefix="recheck-") as folder:
        folder = Path(folder)
        stage(folder, files)
        tests = []
        for n, gid in enumerate(wanted):
            path = None
            if gid in graded.evidence:
                path = folder / f"evidence-{n}.npz"
                path.write_bytes(graded.evidence[gid])
            tests.append([gid, graded.hidden[gid], str(path) if path else None])
        spec = folder / "spec.json"
        names = sorted({name for names in exercise.defines.values() for name in names})
        spec.write_text(json.dumps({"given": given_sources(exercise), "student_names": names, "tests": tests}))
        env = {
            # the grader's own package, wherever it was imported from (an installed venv, a course hub's, Gradescope's source/)
            "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(folder / "mpl"),
            "TQDM_DISABLE": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONHASHSEED": str(seed),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [sys.executable, "-m", "autograder.grader.pipeline.replay", str(spec)]
        try:
            done = subprocess.run(
                command, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limits, check=False
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the hidden checks ran past {TIMEOUT} s outside the kernel") from None
    lines = done.stdout.strip().splitlines()
    try:
        verdicts = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"the hidden checks could not run outside the kernel: {done.stderr.strip()[-300:]}") from None
    return {gid: str(verdicts.get(gid, "not checked")) for gid in wanted}


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


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


def placeholders(names):
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


def read_evidence(path):
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


def check_one(given, source, evidence_path):
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


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    namespace = {"__name__": "__main__", **placeholders(spec.get("student_names", []))}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for source in spec["given"]:
            try:
                exec(compile(source, "<given cell>", "exec"), namespace)
            except BaseException:  # an explorer or figure that needs the student's code: nothing here needs it
                pass
    verdicts = {gid: check_one(namespace, source, path) for gid, source, path in spec["tests"]}
    print(json.dumps(verdicts))


if __name__ == "__main__":
    main(sys.argv[1])
