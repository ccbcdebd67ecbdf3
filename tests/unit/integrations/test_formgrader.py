"""integrations/formgrader.py: the autograded notebook formgrader shows, beside the feedback page."""

import nbformat
from hostile_bank import _base, notebook_bytes

from autograder.grader.core.record import Record
from autograder.grader.integrations.formgrader import autograded_notebook
from autograder.grader.pipeline.answers import extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded
from autograder.grader.reports.feedback import feedback_html


def test_output_a_kernel_sent_in_pieces_is_shown_and_filtered_as_one_text(exercise):
    """ipykernel flushes at its own times: one print may arrive as two stream outputs, split anywhere. The feedback
    page and the autograded notebook show the pieces as one text and drop a token even when it was cut in two."""
    graded = assemble_graded(exercise, extract(read_cells(notebook_bytes(_base())), exercise))
    test = next(c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("kind") in ("visible", "test"))
    test_id = test.metadata["autograder"]["grade_id"]
    token = graded.tokens[test_id]
    pieces = ["checked\n", token[:7], token[7:] + "\n", "SANDBOX", " PROBE strays e30=\n"]
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text=piece) for piece in pieces]
    test.outputs.insert(1, nbformat.v4.new_output("stream", name="stderr", text="a warning\n"))  # another stream: kept apart
    page = feedback_html(Record("x", "ok", "", []), graded.nb, graded.all_tokens())
    assert "<pre class=out>SANDBOX PROBE strays e30=\n</pre>" in page.replace("checked\n", "")
    assert token[:7] not in page and token[7:] not in page and "a warning" in page
    shown = autograded_notebook(graded.nb, graded, exercise)
    outputs = next(c for c in shown.cells if c.metadata.get("autograder", {}).get("grade_id") == test_id).outputs
    expected = [("stdout", "checked\n"), ("stderr", "a warning\n"), ("stdout", "SANDBOX PROBE strays e30=\n")]
    assert [(o.name, o.text) for o in outputs] == expected
    assert len(test.outputs) == 6  # the executed notebook itself is left as the kernel sent it
