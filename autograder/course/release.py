"""The released notebook with its deadline in its first cell: what `build --release-to DIR --deadlines FILE` writes.

nbgrader's Assignments tab shows no due date (nbgrader #943), so the notebook says it: a Markdown cell at the top,
from the course's DEADLINES.csv (the file `grade` reads for lateness), with the rule for late work.
"""

import copy

import nbformat

DEADLINE_CELL = "deadline"  # the metadata mark of the cell this module writes (replaced, never added twice)


def deadline_text(deadline):
    """The deadline as the notebook's first cell says it."""
    offset = deadline.due.strftime("%z")
    when = deadline.due.strftime("%A %d %B %Y, %H:%M ") + f"(UTC{offset[:3]}:{offset[3:]})"
    rule = deadline.policy.describe()
    late = "late work is not penalised" if rule == "no penalty" else f"late work loses {rule}"
    return f"**Due {when}.** Under the course's rule, {late}. `check --deadlines` says how long is left."


def dated(nb, deadline):
    """A copy of the released notebook nb whose first cell states deadline (a scoring.deadlines.Deadline)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("autograder", {}).get("kind") != DEADLINE_CELL]
    cell = nbformat.v4.new_markdown_cell(deadline_text(deadline))
    cell.metadata["autograder"] = {"kind": DEADLINE_CELL}
    cell.metadata["deletable"] = False
    nb.cells.insert(0, cell)
    return nb
