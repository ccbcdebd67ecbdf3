"""A bank of hostile, broken and tampered submissions, generated from the released notebook and the master.

Each case is (file name, file bytes, expectation): expected status and the points some test cells must get.
Answers come from the master's solution with a training cell that does not train (so test_train fails at
once and the bank grades in seconds), unless the case says otherwise.
"""

import json
from dataclasses import dataclass, field

import nbformat

from autograder.course.examples import answers, filled, with_bug
from autograder.grader.core.masters import notebook_named
from autograder.notebooks import grade_id

NO_TRAINING = (
    'history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": []}\nflow = RealNVP(nets, nett, make_masks(2, DIM), prior)\n'
)
# What a page, results.json or message the grader writes for a student must never show: the hidden tests' code and
# the grader's own markers.
HIDDEN_MARKERS = (
    "_hidden_formula",
    "x_grading",
    "HIDDEN TESTS",
    "_nll_on_known_flow",
    "_flow_as_data",
    "for n_layers, dim in [(1, 2)",
    "[autograder visible",
)
STRAY_MARK = "9731"  # `sleep 9731.5`: a process the stray-process check looks for after the batch
# The master's answers with a training cell that does not train: every test cell's points but test_train's.
CORRECT_WITHOUT_TRAINING = {gid: 0 if gid == "test_train" else points for gid, points in notebook_named("realnvp").tests}
MASKS_BUG = ("first if i % 2 == 0 else 1 - first", "first")
LOG_DET_BUG = ("s.sum(dim=1)", "-s.sum(dim=1)")
NLL_BUG = ("return -flow.log_prob(x).mean()", "return flow.log_prob(x).mean()")


@dataclass
class Case:
    name: str
    data: bytes
    status: str = "ok"
    points: dict = field(default_factory=dict)


def _base():
    solved = answers()
    solved["train"] = NO_TRAINING
    return solved


def notebook_bytes(answer_sources):
    """The released notebook filled with these answers, as the bytes of a .ipynb file."""
    return nbformat.writes(filled(answer_sources)).encode()


def _with_extra(answer_sources, after, source):
    """The filled notebook with a cell of the student's own inserted after the answer cell `after`."""
    nb = filled(answer_sources)
    index = next(i for i, c in enumerate(nb.cells) if grade_id(c) == after)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nbformat.writes(nb).encode()


IGNORE_INTERRUPTS = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(10_000)"
PATCH_HELPERS = """
import numpy, torch
check = lambda *args, **kwargs: None
check_shape = lambda *args, **kwargs: None
check_close = lambda *args, **kwargs: None
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
numpy.testing.assert_allclose = lambda *args, **kwargs: None
torch.Tensor.all = lambda self, *args, **kwargs: torch.tensor(True)
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
torch.Tensor.__ne__ = lambda self, other: torch.zeros_like(self, dtype=torch.bool)
"""
PATCH_CODE = """
def _nothing(*args, **kwargs):
    return None
check.__code__ = _nothing.__code__
check_close.__code__ = _nothing.__code__
"""
SWALLOW_ERRORS = """
import sys
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
sys.excepthook = lambda *args: None
get_ipython().showtraceback = lambda *args, **kwargs: None
"""
FAKE_EQUALITY = """
class _Agreeable(torch.Tensor):
    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)

    def all(self, *args, **kwargs):
        return torch.tensor(True)


_real_make_masks = make_masks


def make_masks(n_layers, dim):
    return _real_make_masks(n_layers, dim).as_subclass(_Agreeable)
"""
SNOOP = """
import os
found, written = [], []
for top in ["/work", "/root", "/tmp", "/home", "/srv", os.path.abspath("..")]:
    for folder, dirs, files in os.walk(top):
        for name in files:
            if name in ("realnvp.py", "gradebook.db", "grades.csv") or name.endswith(".ipynb") and "realnvp" in folder:
                found.append(os.path.join(folder, name))
        for name in dirs:
            try:
                with open(os.path.join(folder, name, "pwned.txt"), "w") as handle:
                    handle.write("pwned")
                written.append(os.path.join(folder, name))
            except OSError:
                pass
print("SNOOP FOUND", found)
print("SNOOP WROTE", [w for w in written if not w.startswith(os.getcwd())])
"""
STRAYS = f"""
import os, subprocess, time
subprocess.Popen(["sleep", "{STRAY_MARK}.1"], start_new_session=True)
if os.fork() == 0:  # a daemon: double fork, new session
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{STRAY_MARK}.2"])
    os._exit(0)
children = []
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children.append(pid)
"""
NOISE = """
import sys, warnings
warnings.warn("a harmless warning, as torch and sklearn print them")
print("noise on stderr", file=sys.stderr)
_quiet_make_masks = make_masks


def make_masks(n_layers, dim):
    print("still noisy", file=sys.stderr)
    return _quiet_make_masks(n_layers, dim)
"""


def _tampered():
    """Test cells deleted or emptied, an answer turned into Markdown, a test cell turned into a raw cell."""
    nb = filled(_base())
    cells = []
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in ("test_coupling_inverse", "test_nll"):
            continue  # deleted
        if gid == "test_masks":
            cell.source = "pass  # edited away"
        if gid == "test_realnvp_sample":
            cell.cell_type = "raw"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if gid == "masks":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if gid == "coupling":
            cell.metadata["nbgrader"].update(grade=True, points=100, solution=False)
        cells.append(cell)
    nb.cells = cells
    return json.dumps(nb).encode()


def _stripped():
    """All nbgrader metadata removed (a student copied the cells into a fresh notebook)."""
    nb = filled(_base())
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nbformat.writes(nb).encode()


def ci_cases():
    base = _base()
    full = _with_extra(base, "masks", "pass")
    return [
        Case("loop", _with_extra(base, "masks", "while True:\n    pass"), "timeout", CORRECT_WITHOUT_TRAINING),
        Case("sleep ignoring interrupts", _with_extra(base, "coupling", IGNORE_INTERRUPTS), "timeout", CORRECT_WITHOUT_TRAINING),
        Case("memory hog", _with_extra(base, "masks", "hog = torch.ones(2**31)\nhog += 1"), "memory", CORRECT_WITHOUT_TRAINING),
        Case("os._exit", _with_extra(base, "coupling", "import os\nos._exit(0)"), "kernel died", CORRECT_WITHOUT_TRAINING),
        Case("segfault", _with_extra(base, "realnvp", "import ctypes\nctypes.string_at(0)"), "kernel died", CORRECT_WITHOUT_TRAINING),
        Case("sys.exit", _with_extra(base, "nll", "import sys\nsys.exit(3)"), "ok", CORRECT_WITHOUT_TRAINING),
        Case("strays", _with_extra(base, "nll", STRAYS), "ok", CORRECT_WITHOUT_TRAINING),
        Case(
            "patched helpers",
            _with_extra(with_bug(base, "masks", *MASKS_BUG), "masks", PATCH_HELPERS),
            "ok",
            {"test_masks": 0, "test_nll": 1},
        ),
        Case(
            "patched code",
            _with_extra(with_bug(base, "coupling", *LOG_DET_BUG), "coupling", PATCH_CODE),
            "ok",
            {"test_coupling_forward": 0, "test_masks": 1, "test_nll": 1},
        ),
        Case(
            "swallowed errors",
            _with_extra(with_bug(base, "nll", *NLL_BUG), "masks", SWALLOW_ERRORS),
            "tampering",  # how a cell's errors are shown was changed: flagged, and each test scores what it earns
            {"test_nll": 0, "test_masks": 1, "test_coupling_forward": 2},
        ),
        Case(
            "fake equality",
            _with_extra(with_bug(base, "masks", *MASKS_BUG), "masks", FAKE_EQUALITY),
            "tampering",
            {"test_masks": 0, "test_nll": 0},
        ),
        Case("snoop", _with_extra(base, "masks", SNOOP), "ok", CORRECT_WITHOUT_TRAINING),
        Case("stderr noise", _with_extra(base, "masks", NOISE), "ok", CORRECT_WITHOUT_TRAINING),
        Case("tampered cells", _tampered(), "ok", CORRECT_WITHOUT_TRAINING),
        Case("stripped metadata", _stripped(), "ok", CORRECT_WITHOUT_TRAINING),
        Case("José Ñúñez 李 o'Brien", full, "ok", CORRECT_WITHOUT_TRAINING),
        Case("empty", b"", "not a notebook"),
        Case("corrupt", full[: len(full) // 3], "not a notebook"),
        Case("pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "not a notebook"),
    ]


def write_bank(folder, cases):
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (folder / f"{case.name}.ipynb").write_bytes(case.data)
