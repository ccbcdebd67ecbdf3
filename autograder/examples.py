"""Generated submissions: the bundled examples (examples/submissions/), and the ones tests and bench/ grade.

Every one starts from the student notebook as released and fills its answer cells from the master's
solution, then changes what it must. Never edit examples/submissions/ by hand: run

    python -m autograder.examples            # rewrite examples/submissions/
"""

import re
import sys

import nbformat

from . import MASTER, REPO, STUDENT_NOTEBOOK
from .notebooks import grade_id, read_master, solution_answers

EXAMPLES = REPO / "examples" / "submissions"
RECIPE_LINE = re.compile(r"^N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = .*$", re.M)
# Honest and short: the same loop as the solution, fewer and smaller steps; about 10 s on one core,
# held-out NLL about 0.35-0.41 over seeds (target 0.45).
QUICK_RECIPE = "N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 8, 1200, 256, 3e-3"
# A classic bug: the inverse adds the translation back instead of subtracting it first.
CLASSIC_BUG = ("return (y - t) * torch.exp(-s)", "return y * torch.exp(-s) + t")


def answers(quick=True):
    """The master's answers, with the short training recipe when quick."""
    solved = solution_answers(read_master(MASTER))
    if quick:
        assert RECIPE_LINE.search(solved["train"]), "the master's training cell no longer sets its recipe on one line"
        solved["train"] = RECIPE_LINE.sub(QUICK_RECIPE, solved["train"])
    return solved


def filled(answer_sources):
    """The released student notebook with its answer cells replaced by answer_sources (grade_id -> source)."""
    nb = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answer_sources:
            cell.source = answer_sources[grade_id(cell)]
    return nb


def with_bug(answer_sources, grade, old, new):
    """A copy of answer_sources with old replaced by new in one answer (which must contain old)."""
    assert old in answer_sources[grade], f"{old!r} is not in the {grade} answer any more"
    return {**answer_sources, grade: answer_sources[grade].replace(old, new)}


def example_files():
    """file name -> text of each bundled example submission."""
    solved = answers()
    broken = nbformat.writes(filled(solved))
    return {
        "ada_correct.ipynb": nbformat.writes(filled(solved)),
        "ben_inverse_bug.ipynb": nbformat.writes(filled(with_bug(solved, "coupling", *CLASSIC_BUG))),
        "cleo_broken.ipynb": broken[: len(broken) // 2],  # a notebook cut in half by a failed upload
    }


def write_examples(folder=EXAMPLES):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in example_files().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {(folder / name).relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(write_examples())
