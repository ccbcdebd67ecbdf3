"""Assemble the notebook that grades one submission: the master's cells, pristine, around the student's answers.

Every code cell the grader owns is wrapped: a given or test cell starts by restoring the snapshot of pristine
helpers (kernel_guard.Guard); a test cell ends by printing a token that the student's code never saw; after
a given or test cell, the names it defined join the snapshot. Names use a per-submission nonce.
"""

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .grading import MISSING_ANSWER, is_answer, is_test
from .names import defined_names
from .notebooks import grade_id

GUARD_SOURCE = (Path(__file__).parent / "kernel_guard.py").read_text()
REPORT_MARKER = "[autograder report] "
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
    guard: str = ""


def suspicious(answers, extras):
    """What in the student's code deserves a human look (never a score change by itself)."""
    code = "\n".join(list(answers.values()) + [s for sources in extras.values() for s in sources])
    return sorted({label for pattern, label in SUSPICIOUS.items() if re.search(pattern, code)})


def _guard_cell(guard, names, seed):
    return (
        f"{guard} = (lambda ns: (exec({GUARD_SOURCE!r}, ns), ns['Guard']())[1])({{'get_ipython': get_ipython}})\n"
        f"{guard}.keep(globals(), {names!r})\n"
        f"import random as _ag_random\n_ag_random.seed({seed}); np.random.seed({seed}); torch.manual_seed({seed})\n"
        f"del _ag_random\n"
    )


def _code(source, gid, kind, after=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["autograder"] = {"kind": kind, "grade_id": gid, **({"after": after} if after else {})}
    return cell


def assemble_graded(master, extracted, seed=0, nonce=None):
    """The graded notebook for one submission (extracted: answers.Extracted)."""
    nonce = nonce or secrets.token_hex(4)
    guard = f"_ag_{nonce[:6]}"
    graded = Graded(nbformat.v4.new_notebook(metadata=master.metadata), guard=guard)
    first_answer = next(i for i, c in enumerate(master.cells) if is_answer(c))
    given_before = [n for c in master.cells[:first_answer] if c.cell_type == "code" for n in defined_names(c.source)]
    cells = graded.nb.cells
    last_test = max(i for i, c in enumerate(master.cells) if is_test(c))
    for index, cell in enumerate(master.cells):
        gid = grade_id(cell)
        if index > last_test and cell.cell_type == "code" and not is_answer(cell):
            # the course's figures after the last test grade nothing: not drawn again (they cost seconds)
            cells += [_code(s, None, "student", gid) for s in extracted.extras.get(gid, [])]
            continue
        if index == first_answer:
            # cells the student added above the first answer run after the snapshot, never before it
            cells.append(_code(_guard_cell(guard, given_before, seed), None, "guard"))
            early = [None] + [grade_id(c) for c in master.cells[:first_answer]]
            cells += [_code(s, None, "student", anchor or "the top") for anchor in early for s in extracted.extras.get(anchor, [])]
        if cell.cell_type != "code":
            cells.append(nbformat.from_dict(cell))
            continue
        if is_answer(cell):
            cells.append(_code(extracted.answers.get(gid, MISSING_ANSWER), gid, "answer"))
        elif index < first_answer:
            cells.append(_code(cell.source, gid, "given"))
        else:
            quiet = ", quiet=True" if is_test(cell) else ""  # a failing test leaves its names half-rebound
            keep = f"\n{guard}.keep(globals(), {defined_names(cell.source)!r}{quiet})\n"
            if is_test(cell):
                token = f"[autograder passed {gid} {secrets.token_hex(8)}]"
                graded.tokens[gid] = token
                source = f"{guard}.restore(globals())\n{cell.source}\n{guard}.passed({token!r})" + keep
            else:
                source = f"{guard}.restore(globals())\n{cell.source}" + keep
            cells.append(_code(source, gid, "test" if is_test(cell) else "given"))
            cells[-1].metadata["nbgrader"] = dict(cell.metadata.get("nbgrader", {}))
        if index >= first_answer:
            cells += [_code(s, None, "student", gid) for s in extracted.extras.get(gid, [])]
    cells.append(_code(f"{guard}.report({REPORT_MARKER!r})", None, "report"))
    return graded
