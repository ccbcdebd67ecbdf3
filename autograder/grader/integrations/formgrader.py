"""OUT as nbgrader's course directory: the executed notebook of each submission and the assignment's source notebook,
where nbgrader's formgrader looks for them.

    OUT/autograded/<student>/<assignment>/<assignment>.ipynb    each graded notebook, as it ran
    OUT/source/<assignment>/<assignment>.ipynb                  the master as nbgrader's source notebook

Formgrader shows a submission from its file and the gradebook. The file is the graded notebook as it ran, hidden
tests included (OUT is the instructors'), without what only the grader needs: the guard and report cells, the
guard's lines in each cell, the tokens a passing test prints. Each answer, test and manual answer cell carries
the master's nbgrader metadata (formgrader draws a score box on each graded cell and a comment box on each
answer), and a manual answer is followed by its rubric. Outputs keep text and images only, and the raw HTML of a
written answer is escaped: formgrader renders the notebook in the instructor's logged-in browser, where a
student's HTML or JavaScript must not run. The feedback page is written from this notebook (reports/feedback.py), by
`grade` and by `report` alike.
"""

import re

import nbformat

from autograder.grader.core.cell_text import merged_streams
from autograder.grader.core.files import write_if_changed
from autograder.grader.core.layout import in_course, source_path
from autograder.grader.core.record import points_text
from autograder.notebooks import grade_id, nbgrader_meta, rubric

KEPT_DATA = ("text/plain", "image/png", "image/jpeg")
RAW_HTML = re.compile(r"<(?=[A-Za-z/!?])")  # the start of a tag, a comment or a declaration; "a < b" is left alone


def write_source(out, assignment):
    """source/<assignment>/<notebook>.ipynb of each notebook, as nbgrader's source notebook (rubrics included), where
    formgrader looks; a course's own source folder (grade --course) is left as it is."""
    if in_course(out):
        return []
    written = []
    for notebook in assignment.notebooks:
        path = source_path(out, assignment.name, notebook.name)
        write_if_changed(path, nbformat.writes(notebook.nb))
        written.append(path)
    return written


def _without_grader_lines(source, guard):
    return "\n".join(line for line in source.splitlines() if not line.startswith(f"{guard}.")).strip("\n") + "\n"


def _kept_outputs(outputs, tokens, guard):
    """Text and images; no token a test printed and no guard line quoted in a traceback (they mean nothing to a person)."""
    kept = []
    for output in merged_streams(outputs):  # whole lines: a token split over two pieces would escape the filter
        kind = output.get("output_type")
        if kind == "stream":
            text = "".join(line for line in output.get("text", "").splitlines(True) if not any(t in line for t in tokens))
            if text:
                kept.append(nbformat.v4.new_output("stream", name=output.get("name", "stdout"), text=text))
        elif kind in ("execute_result", "display_data"):
            data = {key: value for key, value in output.get("data", {}).items() if key in KEPT_DATA}
            if data:
                kept.append(nbformat.v4.new_output("display_data", data=data))
        elif kind == "error":
            frames = ["\n".join(line for line in frame.split("\n") if guard not in line) for frame in output.get("traceback", [])]
            kept.append(nbformat.v4.new_output("error", ename=output.get("ename", ""), evalue=output.get("evalue", ""), traceback=frames))
    return kept


def _rubric_cell(master_cell):
    points = points_text(float(nbgrader_meta(master_cell)["points"]))
    lines = "\n".join(f"- {line}" for line in rubric(master_cell).splitlines())
    cell = nbformat.v4.new_markdown_cell(f"**Rubric** of `{grade_id(master_cell)}` ({points}; instructors only)\n\n{lines}")
    cell.metadata["autograder"] = {"kind": "rubric", "grade_id": grade_id(master_cell), "rubric": rubric(master_cell).splitlines()}
    return cell


def autograded_notebook(nb, graded, notebook, flags=()):
    """The executed notebook nb (of assemble.Graded graded) as formgrader shows it; a new notebook. flags: what the
    instructor must read first (a tampered run's findings), in a cell at the top."""
    master = {grade_id(c): c for c in notebook.nb.cells if grade_id(c)}
    tokens = graded.all_tokens()
    cells = []
    if flags:
        lines = "\n".join(f"- {RAW_HTML.sub('&lt;', flag)}" for flag in flags)
        cells.append(nbformat.v4.new_markdown_cell(f"**Flagged: tampering** (instructors only)\n\n{lines}"))
        cells[-1].metadata["autograder"] = {"kind": "flag"}
    for cell in nbformat.from_dict(nb).cells:
        meta = cell.metadata.get("autograder", {})
        kind, gid = meta.get("kind"), meta.get("grade_id")
        if kind in ("guard", "restore", "report"):
            continue
        if cell.cell_type == "code":
            cell.source = _without_grader_lines(cell.source, graded.guard) if kind in ("visible", "test", "given") else cell.source
            cell.outputs = _kept_outputs(cell.outputs, tokens, graded.guard)
        elif kind == "manual":
            cell.source = RAW_HTML.sub("&lt;", cell.source)
        if gid in master and nbgrader_meta(master[gid]) and kind != "visible":  # a test's grade sits on its last part
            cell.metadata["nbgrader"] = dict(nbgrader_meta(master[gid]))
        cells.append(cell)
        if kind == "manual" and rubric(master[gid]):
            cells.append(_rubric_cell(master[gid]))
    return nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
