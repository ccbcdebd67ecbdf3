"""What the grader writes: per-student feedback HTML (no hidden-test code), grades.csv and the terminal summary.
A student's Record (core/record.py) is the single source for all of them, and for Gradescope's results.json
(integrations/gradescope/results.py).
"""

import base64
import dataclasses
import html
from datetime import datetime
from urllib.parse import quote

from autograder.grader.core.cell_text import merged_streams
from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import printable
from autograder.grader.core.record import is_awaiting, points_text
from autograder.grader.core.times import as_instant
from autograder.grader.pipeline.answers import redact_hidden
from autograder.grader.scoring.term import late_by

MAX_TEXT = 2000
MAX_IMAGE_BYTES = 150_000
STYLE = (
    "body{font:14px/1.4 sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
    ".fail{color:#a00}.ok{color:#070}.out{border-left:3px solid #ccc;margin-left:1em}"
    ".written{background:#f6f6f6;padding:.5em;white-space:pre-wrap}"
)


def _truncated(text, limit=MAX_TEXT):
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters cut)"


def _visible_source(cell):
    """The source a student may see: grader lines dropped, hidden tests removed."""
    meta = cell.metadata.get("autograder", {})
    lines = cell.source.splitlines()
    if meta.get("kind") in ("visible", "test", "given"):
        lines = [line for line in lines if not line.startswith("_ag_")]
    return redact_hidden("\n".join(lines)).strip()


def _alt(output):
    """A figure's alternative text, where nbconvert reads it (the output's image/png metadata), else a plain word."""
    meta = output.get("metadata") or {}
    alt = (meta.get("image/png") or {}).get("alt") or meta.get("alt")
    return alt if isinstance(alt, str) and alt.strip() else "a figure (no description was given)"


def _outputs_html(cell, tokens):
    parts = []
    for output in merged_streams(cell.get("outputs", [])):
        kind = output.get("output_type")
        if kind == "stream":
            text = "".join(line for line in output.get("text", "").splitlines(True) if not any(t in line for t in tokens))
            if text.strip():
                parts.append(f"<pre class=out>{html.escape(_truncated(text))}</pre>")
        elif kind == "error":  # the message, never the traceback: it can quote hidden test lines
            message = _truncated(f"{output.get('ename', '')}: {output.get('evalue', '')}", 500)
            parts.append(f"<pre class='out fail'>{html.escape(message)}</pre>")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            png = data.get("image/png")
            if isinstance(png, str) and len(png) * 3 // 4 <= MAX_IMAGE_BYTES:
                base64.b64decode(png, validate=False)
                parts.append(f"<img alt='{html.escape(_alt(output))}' src='data:image/png;base64,{png}'>")
            elif "text/plain" in data:
                parts.append(f"<pre class=out>{html.escape(_truncated(str(data['text/plain'])))}</pre>")
    return "".join(parts)


NOTEBOOK_MARK = "<!-- autograder: the graded notebook -->"  # the page's head (scores) is rewritten above it


def _test_rows(record):
    """One row per test; a written answer says it is graded by hand, and awaits its score (– / k) or shows it."""
    overridden = {o.test: o for o in record.overrides}
    points = record.points()
    rows = []
    for t in record.tests:
        got, why = points[t.grade_id], html.escape(t.message)
        if t.grade_id in overridden:
            o = overridden[t.grade_id]
            why = f"<b>set by your instructor</b> (the grader gave {t.points:g}): {html.escape(o.reason)}" + (f"<br>{why}" if why else "")
        name = html.escape(t.grade_id) + (" (written answer, graded by hand)" if t.manual else "")
        shown = f"<td class={'ok' if got == t.max_points else 'fail'}>{got:g} / {t.max_points:g}</td>"
        if is_awaiting(t) and t.grade_id not in overridden:
            shown = f"<td>– / {t.max_points:g}</td>"
        rows.append(f"<tr><td>{name}</td>{shown}<td>{why}</td></tr>")
    return "".join(rows)


def _written_html(record, rubrics):
    """Each written answer a person graded: its score, the grader's comment and the rubric (grade_id -> text)."""
    parts = []
    for t in record.tests:
        if t.manual and not is_awaiting(t):
            rubric = (rubrics or {}).get(t.grade_id)
            parts.append(f"<h3>written answer {html.escape(t.grade_id)}: {t.points:g} / {t.max_points:g}</h3>")
            parts.append(f"<p>{html.escape(t.message)}</p>")
            parts.append(f"<p>Rubric:</p><div class=written>{html.escape(_truncated(rubric))}</div>" if rubric else "")
    return "".join(parts)


def _waiting_html(record):
    waiting = sum(t.max_points for t in record.tests if is_awaiting(t))
    return f"<p>Written answers awaiting manual grading: {points_text(waiting)}.</p>" if waiting else ""


def _when(text, due):
    """A record's ISO time in the due time's zone, to the minute: 2025-03-14 23:59+01:00."""
    zone = datetime.fromisoformat(due).tzinfo if due else None
    moment = as_instant(text, zone).astimezone(zone) if zone else datetime.fromisoformat(text)  # read as scoring/term.py reads it
    return moment.isoformat(" ", "minutes")


def _term_html(record):
    """What the deadline and the instructor decided, for the student: submitted, due, late, penalty, total."""
    parts = []
    if record.due:
        handed = f"submitted {_when(record.submitted_at, record.due)}" if record.submitted_at else "submitted (the time is not known)"
        due = f"due {_when(record.due, record.due)}" + (" (your extended due time)" if record.extension else "")
        late = ": <b>late</b> (the LMS marks it late)" if record.late else ""
        late = f": <b>late</b> by {late_by(record)}" if record.late_seconds else late
        late += f", late penalty <b>-{record.late_penalty:g}</b> ({html.escape(record.late_rule)})" if record.late_penalty else ""
        parts.append(f"<p>{handed}; {due}{late}.</p>")
    total = record.total_override()
    if total is not None:
        parts.append(f"<p><b>Your instructor set the total to {total.points:g}</b>: {html.escape(total.reason)}</p>")
    return "".join(parts)


def _notebooks_html(record, notebook, notebooks):
    """For an assignment of several notebooks: which one this page is, and the points of the others."""
    if len(notebooks) <= 1:
        return ""
    points = record.points()
    others = []
    for name in notebooks:
        tests = [t for t in record.tests if t.notebook == name]
        got, top = sum(points[t.grade_id] for t in tests), sum(t.max_points for t in tests)
        label = f"<b>{html.escape(name)}</b>" if name == notebook else f"<a href='{quote(name)}.html'>{html.escape(name)}</a>"
        others.append(f"{label} {got:g} / {top:g}")
    return f"<p>This page: notebook {html.escape(notebook)}. The assignment's notebooks: {'; '.join(others)}.</p>"


def feedback_head(record, title="Autograder", rubrics=None, notebook=None, notebooks=()):
    """The top of the feedback page: the final score (and the raw one beside it), the deadline, the tests' points,
    and each written answer a person graded, with the comment and the rubric (rubrics: grade_id -> text). For an
    assignment of several notebooks (notebooks: their names), the page of one of them shows its tests alone."""
    raw = f" (tests: {record.raw_score:g}" + (f", late penalty -{record.late_penalty:g}" if record.late_penalty else "") + ")"
    shown = raw if record.raw_score != record.score or record.late_penalty else ""
    mine = record if len(notebooks) <= 1 else _only(record, notebook)
    return "\n".join(
        [
            f"<!doctype html><html lang=en><meta charset=utf-8><title>Feedback</title><style>{STYLE}</style>",
            f"<h1>{html.escape(title)}: feedback for {html.escape(printable(record.student_id))}</h1>",
            f"<p>Score: <b>{record.score:g} / {record.max_score:g}</b>{shown} — status: {html.escape(record.status)}</p>",
            _term_html(record),
            f"<p>{html.escape(record.message)}</p>" if record.message else "",
            _notebooks_html(record, notebook, notebooks),
            _waiting_html(mine),
            f"<table><tr><th>test</th><th>points</th><th>what went wrong</th></tr>{_test_rows(mine)}</table>",
            _written_html(mine, rubrics),
        ]
    )


LABELS = {
    "answer": "your answer",
    "manual": "your written answer",
    "student": "a cell you added",
    "visible": "test",
    "test": "test",
    "given": "given",
}


def _cell_html(cell, tokens):
    """A graded notebook's cell as the student may see it: code with its outputs, a written answer as text ("" for
    the rest: Markdown of the course, the grader's own cells, a rubric)."""
    meta = cell.metadata.get("autograder", {})
    kind = meta.get("kind")
    if (cell.cell_type != "code" and kind != "manual") or kind in ("guard", "restore", "report"):
        return ""
    text = f"<h3>{html.escape(LABELS.get(kind, ''))} {html.escape(meta.get('grade_id') or '')}</h3>"
    source = html.escape(_truncated(_visible_source(cell), 20_000))
    outputs = _outputs_html(cell, tokens)
    if kind == "test" and not source and not outputs:
        return ""  # the hidden part of a test, when it printed nothing
    if cell.cell_type == "markdown":
        return text + f"<div class=written>{source}</div>"
    if kind == "test" and not source:
        return outputs
    return text + f"<pre>{source}</pre>{outputs}"


def _only(record, notebook):
    """record with the tests of one notebook only (its page's table)."""
    return dataclasses.replace(record, tests=[t for t in record.tests if t.notebook == notebook])


def feedback_html(record, nb=None, tokens=(), title="Autograder", rubrics=None, notebook=None, notebooks=()):
    """The student's feedback page (of one notebook, for an assignment of several): per-part points and messages,
    then their notebook as graded (if it ran)."""
    body = [_cell_html(cell, tokens) for cell in (nb.cells if nb is not None else [])]
    head = feedback_head(record, title, rubrics, notebook, notebooks)
    return head + "\n" + NOTEBOOK_MARK + "\n" + "\n".join(filter(None, body))


def refresh_feedback(path, record, title="Autograder", rubrics=None, notebook=None, notebooks=()):
    """Rewrite the head of the feedback page at path from record, keeping the graded notebook below it; returns
    True when the page changed. A page of an older grader (no mark) keeps what follows its first table."""
    old = path.read_text(encoding="utf-8")
    if NOTEBOOK_MARK in old:
        body = old[old.index(NOTEBOOK_MARK) :]
    else:
        body = NOTEBOOK_MARK + (old[old.index("</table>") + len("</table>") :] if "</table>" in old else "")
    new = feedback_head(record, title, rubrics, notebook, notebooks) + "\n" + body
    if new != old:
        write_atomic(path, new)
    return new != old
