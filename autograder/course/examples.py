"""Generated submissions: the bundled examples (examples/<exercise>/), and the ones tests and bench/ grade.

Every one starts from an exercise's student notebook as released and fills its answer cells from the master's
solution, then changes what it must. Never edit examples/ by hand: run

    python -m autograder.course.examples            # rewrite examples/<exercise>/ for every exercise
"""

import re
import sys

import nbformat

from autograder import REPO
from autograder.course.build import generated_paths
from autograder.grader.core.masters import master_paths, notebook_named
from autograder.notebooks import grade_id, solution_answers, written_answers

EXAMPLES = REPO / "examples"
# Per exercise: the line of the master's training cell that sets its recipe, and a short honest recipe (the same
# loop, fewer and smaller steps) that passes the training test at the grader's seed with a margin.
RECIPES = {
    # 8 layers, 600 steps of 512 at the solution's rate (a quarter of its cost): 10.6 s on a busy core, held-out NLL
    # 0.32-0.40 on the test and grading splits over 20 seeds, worst 0.403 (target 0.45); 800 steps at 8e-3 had the
    # same worst (0.402) and cost a third more
    "realnvp": (r"^N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = .*$", "N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 8, 600, 512, 1.2e-2"),
    # 600 steps of 128: 6-9 s, held-out 2.234-2.252 bits/dim over 10 seeds (target 2.35)
    "realnvp_digits": (
        r"^N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = .*$",
        "N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = 8, 64, 600, 128, 1e-3",
    ),
}
# Per exercise, a classic one-line bug for the demo: (answer grade_id, correct text, wrong text).
CLASSIC_BUGS = {
    # the inverse adds the translation back instead of subtracting it first
    "realnvp": ("coupling", "return (y - t) * torch.exp(-s)", "return y * torch.exp(-s) + t"),
    # bits per dimension left in nats: the division by ln 2 is missing
    "realnvp_digits": ("bpd", "return -log_p.mean() / (dim * math.log(2))", "return -log_p.mean() / dim"),
}
EXAMPLE_NAMES = {
    "realnvp": ("ada_correct", "ben_inverse_bug", "cleo_broken"),
    "realnvp_digits": ("dora_correct", "eli_bpd_in_nats", "fay_broken"),
}


def answers(exercise="realnvp", quick=True):
    """The master's answers, with the exercise's short training recipe when quick."""
    solved = solution_answers(notebook_named(exercise).nb)
    if quick:
        line, recipe = RECIPES[exercise]
        assert re.search(line, solved["train"], re.M), f"the {exercise} master's training cell no longer sets its recipe on one line"
        solved["train"] = re.sub(line, recipe, solved["train"], flags=re.M)
    return solved


def filled(answer_sources, exercise="realnvp"):
    """The exercise's released student notebook with its answer cells replaced by answer_sources (grade_id -> source)."""
    nb = nbformat.read(generated_paths(exercise)["student"], as_version=4)
    for cell in nb.cells:
        if grade_id(cell) in answer_sources:
            cell.source = answer_sources[grade_id(cell)]
    return nb


def with_bug(answer_sources, grade, old, new):
    """A copy of answer_sources with old replaced by new in one answer (which must contain old)."""
    assert old in answer_sources[grade], f"{old!r} is not in the {grade} answer any more"
    return {**answer_sources, grade: answer_sources[grade].replace(old, new)}


def example_files(exercise):
    """file name -> text of each bundled example submission of the exercise: correct, a classic bug, broken."""
    solved = {**answers(exercise), **written_answers(notebook_named(exercise).nb)}  # the written answers too, for formgrader
    correct, buggy, broken = EXAMPLE_NAMES[exercise]
    text = nbformat.writes(filled(solved, exercise))
    return {
        f"{correct}.ipynb": text,
        f"{buggy}.ipynb": nbformat.writes(filled(with_bug(solved, *CLASSIC_BUGS[exercise]), exercise)),
        f"{broken}.ipynb": text[: len(text) // 2],  # a notebook cut in half by a failed upload
    }


def write_examples():
    for path in master_paths():
        folder = EXAMPLES / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in example_files(path.stem).items():
            (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {(folder / name).relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(write_examples())
