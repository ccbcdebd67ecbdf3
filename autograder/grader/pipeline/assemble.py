"""Assemble the notebook that grades one submission: the master's cells, pristine, around the student's answers.

An answer graded by hand keeps the master's cell type: a Markdown answer stays Markdown (never run, whatever the
student turned it into), a code answer runs as an autograded answer does.

Every code cell the grader owns is wrapped: before a given or test cell, a request of its own (a "restore" cell)
restores the snapshot of pristine helpers and of the machinery a cell runs with (autograder/kernel/guard.py, Guard)
and prints a token signed with a key that no cell's source holds (the grader writes it to a file the guard reads and
deletes before any student code runs); a test cell marks where its hidden checks start and ends by saving the values
they received from the student's code, then printing a token that the student's code never saw; after a given cell,
the names it defined join the snapshot. Names use a per-submission nonce.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import nbformat

from autograder import KERNEL
from autograder.grader.pipeline.names import defined_names
from autograder.notebooks import BEGIN_HIDDEN, END_HIDDEN, grade_id, is_answer, is_manual, is_solution, is_test

if TYPE_CHECKING:
    from autograder.grader.core.assignment import Notebook
    from autograder.grader.pipeline.answers import Extracted

GUARD_SOURCE = (KERNEL / "guard.py").read_text()  # run in the kernel, never imported
REPORT_MARKER = "[autograder report] "
KEY_FILE = ".autograder-key"  # in the kernel's working folder until the guard has read it
GRADER_CELLS = ("guard", "restore", "report")  # the grader's own cells: never shown to a person
MISSING_ANSWER = "raise NotImplementedError('this answer cell is missing from the submission')\n"
MISSING_TEXT = "*(no answer: this cell is missing from the submission)*"
SUSPICIOUS = {
    r"\bctypes\b": "ctypes",
    r"\bgc\.": "the garbage collector",
    r"\bset(trace|profile)\b": "a tracing hook",
    r"\b__code__\b": "function code objects",
    r"\bset_custom_exc\b|\bexcepthook\b|\bshowtraceback\b|\bcustom_exceptions\b": "IPython's error handling",
    r"\bget_ipython\(\)\.(run_cell|run_code|events|kernel)": "IPython internals",
    r"\b(globals|vars)\(\)": "the notebook's namespace",
    r"\bsys\.modules\b|\bbuiltins\b|__builtins__": "module or builtin internals",
    r"\b(torch|np|numpy|nn)(\.\w+)*\.\w+\s*=[^=]": "assignment to a library attribute",
    r"\bsubprocess\b|\bos\.(system|popen|fork|kill|exec\w*|_exit)\b": "process control",
    r"\b(os\.walk|os\.listdir|os\.scandir|glob\.|Path\(['\"]/)": "filesystem search",
    r"_ag_[0-9a-f]{6}|__autograder": "the grader's own names",
}


@dataclass
class Graded:
    """The notebook to execute and what the grader needs to read its outputs."""

    nb: nbformat.NotebookNode
    tokens: dict = field(default_factory=dict)  # test grade_id -> token it prints when it passes
    visible_tokens: dict = field(default_factory=dict)  # test grade_id -> token it prints when its visible checks pass
    guard: str = ""
    nonce: str = ""
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)  # signs the restore tokens
    hidden: dict = field(default_factory=dict)  # test grade_id -> its hidden checks' source, to check again outside the kernel
    evidence: dict = field(default_factory=dict)  # test grade_id -> what its hidden checks received (execute fills it)

    def restore_token(self, label: str) -> str:
        """The line the restore request before cell label prints when it ran as sent."""
        signature = hmac.new(self.key, f"{label} {self.nonce}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"[autograder restored {label} {signature}]"

    def all_tokens(self) -> list[str]:
        """Every token the grader's cells print: what feedback must never show."""
        return [*self.tokens.values(), *self.visible_tokens.values(), "[autograder restored "]


def suspicious(answers: dict[str, str], extras: dict[str, list[str]]) -> list[str]:
    """What in the student's code deserves a human look (never a score change by itself)."""
    code = "\n".join(list(answers.values()) + [s for sources in extras.values() for s in sources])
    return sorted({label for pattern, label in SUSPICIOUS.items() if re.search(pattern, code)})


def _guard_cell(guard, names, seed, protect):
    return (
        f"{guard} = (lambda ns: (exec({GUARD_SOURCE!r}, ns), ns['Guard']({protect!r}, {KEY_FILE!r}))[1])({{'get_ipython': get_ipython}})\n"
        f"{guard}.keep(globals(), {names!r})\n"
        f"import random as _ag_random, sys as _ag_sys\n"  # numpy's and torch's generators too, if the notebook uses them
        f"_ag_random.seed({seed})\n"
        f"if 'numpy' in _ag_sys.modules: _ag_sys.modules['numpy'].random.seed({seed})\n"
        f"if 'torch' in _ag_sys.modules: _ag_sys.modules['torch'].manual_seed({seed})\n"
        f"del _ag_random, _ag_sys\n"
    )


def _code(source, gid, kind, after=None, timeout=None):
    cell = nbformat.v4.new_code_cell(source)
    meta = {"kind": kind, "grade_id": gid, "after": after, "timeout": timeout}
    cell.metadata["autograder"] = {key: value for key, value in meta.items() if value or key in ("kind", "grade_id")}
    return cell


def _parses(lines):
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return True


def _test_sources(graded, guard, gid, source):
    """A test cell's sources between the guard's calls, as one request or two. With hidden checks (after a BEGIN
    HIDDEN TESTS line at the top level), the visible checks run as a request of their own, which prints a token when
    they pass: whether they passed never depends on the hidden checks (a hidden check that hangs or kills the kernel
    is skipped alone). The second request runs the hidden checks only after the visible ones passed, as one nbgrader
    cell would, marks where they start, saves the values they received and prints the end token. When the cell ends
    with an expression, its value is shown again after the end token, as the cell's own result: nbgrader reads a
    number there as the points the test gives (partial credit). [(source, kind)]: kind "visible" or "test"."""
    visible, token = f"[autograder visible {gid} {secrets.token_hex(8)}]", f"[autograder passed {gid} {secrets.token_hex(8)}]"
    graded.visible_tokens[gid], graded.tokens[gid] = visible, token
    lines, value = _last_value_kept(source.splitlines(), f"{guard}_value")
    split = next((i for i, line in enumerate(lines) if line == BEGIN_HIDDEN), len(lines))
    end = [f"{guard}.finished({gid!r}, {token!r})"] + ([f"{guard}_value"] if value else [])
    first, second = lines[:split], lines[split:]
    if second and _parses(first) and _parses(second):
        visible_part = first + [f"{guard}.visible_passed({gid!r}, {visible!r})"]
        hidden_part = [f"{guard}.after_visible({gid!r})", f"{guard}.hidden()"] + second + end
        return [("\n".join(visible_part) + "\n", "visible"), ("\n".join(hidden_part) + "\n", "test")]
    body = first + [f"{guard}.visible_passed({gid!r}, {visible!r})", f"{guard}.hidden()"] + second + end
    return [("\n".join(body) + "\n", "test")]


def hidden_checks(source: str) -> str:
    """The hidden checks of a test cell's source (what follows its BEGIN HIDDEN TESTS line), or "" without any."""
    lines = source.splitlines()
    if BEGIN_HIDDEN not in lines:
        return ""
    kept = lines[lines.index(BEGIN_HIDDEN) + 1 :]
    return "\n".join(line for line in kept if line != END_HIDDEN) + "\n"


def _restore_cell(graded, label):
    """The request of its own before cell label: restore, then print the signed token."""
    cell = _code(f"{graded.guard}.before({label!r}, {graded.nonce!r}, globals())", None, "restore")
    cell.metadata["autograder"]["before"] = label
    return cell


def _last_value_kept(lines, name):
    """(lines, True) with the cell's last statement, when it is an expression alone on its lines, assigned to name;
    else (lines, False)."""
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return lines, False
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or last.col_offset != 0 or len(tree.body) > 1 and tree.body[-2].end_lineno >= last.lineno:
        return lines, False
    start, end = last.lineno - 1, last.end_lineno
    return [*lines[:start], f"{name} = (", *lines[start:end], ")", *lines[end:]], True


def _manual_cell(cell, source, timeout):
    """The student's answer to a question graded by hand, in the master cell's type (Markdown is never run)."""
    gid = grade_id(cell)
    if cell.cell_type == "code":
        return _code(MISSING_ANSWER if source is None else source, gid, "manual", timeout=timeout)
    text = nbformat.v4.new_markdown_cell(MISSING_TEXT if source is None else source)
    text.metadata["autograder"] = {"kind": "manual", "grade_id": gid}
    return text


def assemble_graded(notebook: Notebook, extracted: Extracted, seed: int = 0, nonce: str | None = None, tail: bool = False) -> Graded:
    """The graded notebook for one submission of the notebook (extracted: answers.Extracted); tail: with the course's
    code cells after the last test too, which grade nothing (check runs them: Run All does)."""
    master = notebook.nb
    nonce = nonce or secrets.token_hex(4)
    guard = f"_ag_{nonce[:6]}"
    graded = Graded(nbformat.v4.new_notebook(metadata=master.metadata), guard=guard, nonce=nonce)
    # the guard's snapshot comes before the first cell a student writes or a test reads (the end, in a notebook of neither)
    first_answer = next((i for i, c in enumerate(master.cells) if is_solution(c) or is_test(c)), len(master.cells))
    given_before = [n for c in master.cells[:first_answer] if c.cell_type == "code" for n in defined_names(c.source)]
    cells = graded.nb.cells
    last_test = max((i for i, c in enumerate(master.cells) if is_test(c)), default=len(master.cells))
    for index, cell in enumerate(master.cells):
        gid = grade_id(cell)
        if index > last_test and cell.cell_type == "code" and not is_solution(cell) and not tail:
            # the course's figures after the last test grade nothing: not drawn again (they cost seconds)
            cells += [_code(s, None, "student", gid) for s in extracted.extras.get(gid, [])]
            continue
        if index == first_answer:
            # cells the student added above the first answer run after the snapshot, never before it
            cells.append(_code(_guard_cell(guard, given_before, seed, list(notebook.protect)), None, "guard"))
            early = [None] + [grade_id(c) for c in master.cells[:first_answer]]
            cells += [_code(s, None, "student", anchor or "the top") for anchor in early for s in extracted.extras.get(anchor, [])]
        if is_manual(cell):
            source = (extracted.answers if cell.cell_type == "code" else extracted.written).get(gid)
            cells.append(_manual_cell(cell, source, notebook.timeouts.get(gid)))
        elif cell.cell_type != "code":
            cells.append(nbformat.from_dict(cell))
            continue
        elif is_answer(cell):
            cells.append(_code(extracted.answers.get(gid, MISSING_ANSWER), gid, "answer", timeout=notebook.timeouts.get(gid)))
        elif index < first_answer:
            cells.append(_code(cell.source, gid, "given"))
        elif is_test(cell):
            # a test cell stands alone: no later cell reads what it defines, so nothing of it joins the snapshot
            cells.append(_restore_cell(graded, gid))
            cells += [
                _code(part, gid, kind, timeout=notebook.timeouts.get(gid)) for part, kind in _test_sources(graded, guard, gid, cell.source)
            ]
            cells[-1].metadata["nbgrader"] = dict(cell.metadata.get("nbgrader", {}))  # the graded part: the last
            if notebook.check_outside_kernel:
                graded.hidden[gid] = hidden_checks(cell.source)
        else:
            keep = f"\n{guard}.keep(globals(), {defined_names(cell.source)!r})\n"
            cells.append(_restore_cell(graded, gid or f"cell {index}"))
            cells.append(_code(cell.source + keep, gid, "given", timeout=notebook.timeouts.get(gid)))
        if index >= first_answer:
            cells += [_code(s, None, "student", gid) for s in extracted.extras.get(gid, [])]
    if first_answer == len(master.cells):
        cells.append(_code(_guard_cell(guard, given_before, seed, list(notebook.protect)), None, "guard"))
        cells += [
            _code(s, None, "student", anchor or "the top")
            for anchor in [None, *map(grade_id, master.cells)]
            for s in extracted.extras.get(anchor, [])
        ]
    cells.append(_code(f"{guard}.report({REPORT_MARKER!r})", None, "report"))
    return graded
