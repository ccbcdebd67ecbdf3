"""What the demo reports of an executed solution notebook (autograder/course/demo.py), read from the committed one:
its figures saved as PNG files, and the lines its training cells printed. (The demo itself runs the solutions:
scripts/demo.sh.)"""

import nbformat
from conftest import SOLUTION_NOTEBOOK

from autograder.course.demo import printed_by, save_figures
from autograder.notebooks import grade_id

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_figure_of_the_solution_is_saved_as_a_png_named_after_its_cell(tmp_path):
    nb = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    drawn = [grade_id(c) or "cell" for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    paths = save_figures(nb, tmp_path / "figures")
    assert len(paths) == len(drawn) > 0
    assert [p.name for p in paths] == [f"{i + 1:02d}-{gid}.png" for i, gid in enumerate(drawn)]
    assert all(p.read_bytes().startswith(PNG) for p in paths)


def test_the_report_quotes_what_the_training_cells_printed_and_nothing_else():
    nb = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    lines = printed_by(nb, ["train", "test_train"])
    assert any(line.startswith("trained ") for line in lines) and any("held-out NLL" in line for line in lines)
    assert printed_by(nb, ["no such cell"]) == []
    assert all(line.strip() for line in lines)
