"""What the grader writes: per-student feedback HTML (no hidden-test code), grades.csv and the terminal summary.
A student's Record (record.py) is the single source for all of them, and for Gradescope's results.json
(gradescope/results.py).
"""

import base64
import csv
import html
import os
from collections import Counter

from autograder.grader.answers import redact_hidden
from autograder.grader.manual import is_awaiting

MAX_TEXT = 2000
MAX_IMAGE_BYTES = 150_000
STYLE = (
    "body{font:14px/1.4 sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
    ".fail{color:#a00}.ok{color:#070}.out{border-left:3px solid #ccc;margin-left:1em}"
    ".written{background:#f6f6f6;padding:.5em;white-space:pre-wrap}"
)


def write_atomic(path, text):
    """Write text to path so that a reader (or a re-run after kill -9) sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _truncated(text, limit=MAX_TEXT):
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters cut)"


def _visible_source(cell):
    """The source a student may see: grader lines dropped, hidden tests removed."""
    meta = cell.metadata.get("autograder", {})
    lines = cell.source.splitlines()
    if meta.get("kind") in ("test", "given") and lines and lines[0].endswith(".restore(globals())"):
        lines = [line for line in lines[1:] if not line.startswith("_ag_")]
    return redact_hidden("\n".join(lines)).strip()


def _outputs_html(cell, tokens):
    parts = []
    for output in cell.get("outputs", []):
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
                parts.append(f"<img alt=figure src='data:image/png;base64,{png}'>")
            elif "text/plain" in data:
                parts.append(f"<pre class=out>{html.escape(_truncated(str(data['text/plain'])))}</pre>")
    return "".join(parts)


def _row(test):
    """One line of the feedback's table; an answer graded by hand says so, and awaits its score or shows it."""
    name = html.escape(test.grade_id) + (" (written answer, graded by hand)" if test.manual else "")
    if is_awaiting(test):
        return f"<tr><td>{name}</td><td>– / {test.max_points:g}</td><td>{html.escape(test.message)}</td></tr>"
    css = "ok" if test.points == test.max_points else "fail"
    return f"<tr><td>{name}</td><td class={css}>{test.points:g} / {test.max_points:g}</td><td>{html.escape(test.message)}</td></tr>"


def _score_line(record):
    waiting = sum(t.max_points for t in record.tests if is_awaiting(t))
    line = f"<p>Score: <b>{record.score:g} / {record.max_score:g}</b> — status: {html.escape(record.status)}"
    return line + (f" ({waiting:g} points of written answers await manual grading)</p>" if waiting else "</p>")


def _cell_html(cell, tests, tokens):
    """A graded notebook's cell as the student may see it ("" for what is not theirs to see: a rubric before grading)."""
    meta = cell.metadata.get("autograder", {})
    kind, gid = meta.get("kind"), meta.get("grade_id") or ""
    if kind == "rubric":
        if gid not in tests or is_awaiting(tests[gid]):
            return ""
        lines = html.escape(_truncated("\n".join(meta.get("rubric", []))))
        return f"<h3>rubric of {html.escape(gid)}</h3><div class=written>{lines}</div>"
    if (cell.cell_type != "code" and kind != "manual") or kind in ("guard", "report"):
        return ""
    labels = {"answer": "your answer", "manual": "your written answer", "student": "a cell you added", "test": "test", "given": "given"}
    text = f"<h3>{html.escape(labels.get(kind, ''))} {html.escape(gid)}</h3>"
    source = html.escape(_truncated(_visible_source(cell), 20_000))
    text += f"<div class=written>{source}</div>" if cell.cell_type == "markdown" else f"<pre>{source}</pre>{_outputs_html(cell, tokens)}"
    if kind == "manual" and gid in tests and not is_awaiting(tests[gid]):
        test = tests[gid]
        text += f"<p>Graded by hand: <b>{test.points:g} / {test.max_points:g}</b>. {html.escape(test.message)}</p>"
    return text


def feedback_html(record, nb=None, tokens=(), title="Autograder"):
    """The student's feedback page: per-part points and messages, then their notebook as graded (if it ran), with
    each written answer's score, the grader's comment and the rubric once a person has graded it."""
    body = [
        f"<h1>{html.escape(title)}: feedback for {html.escape(record.student_id)}</h1>",
        _score_line(record),
        f"<p>{html.escape(record.message)}</p>" if record.message else "",
        f"<table><tr><th>test</th><th>points</th><th>what went wrong</th></tr>{''.join(map(_row, record.tests))}</table>",
    ]
    tests = {t.grade_id: t for t in record.tests}
    body += [_cell_html(cell, tests, tokens) for cell in (nb.cells if nb is not None else [])]
    return f"<!doctype html><meta charset=utf-8><title>Feedback</title><style>{STYLE}</style>" + "\n".join(filter(None, body))


def write_csv(path, records, test_ids):
    """grades.csv: one row per submission, one column per test cell and per answer graded by hand (test_ids: both),
    left empty while that answer awaits its grader."""
    columns = ["student_id", *test_ids, "score", "max_score", "status", "message"]
    lines = []
    for record in records:
        points = {**record.points(), **{t.grade_id: "" for t in record.tests if is_awaiting(t)}}
        row = {"student_id": record.student_id, **{gid: points.get(gid, 0.0) for gid in test_ids}}
        row.update(score=record.score, max_score=record.max_score, status=record.status, message=record.message)
        lines.append(row)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(lines)
    os.replace(partial, path)


def summary(records, slowest=5):
    """The table printed at the end of a batch."""
    counts = Counter(r.status for r in records)
    mean = sum(r.score for r in records) / len(records) if records else 0.0
    max_score = records[0].max_score if records else 0.0
    lines = [f"{len(records)} submissions graded, mean score {mean:.2f} / {max_score:g}", "", f"{'status':<16} count"]
    lines += [f"{status:<16} {count:>5}" for status, count in counts.most_common()]
    lines += ["", "slowest submissions:"]
    for r in sorted(records, key=lambda r: -r.seconds)[:slowest]:
        lines.append(f"  {r.seconds:7.1f} s  {r.student_id}  ({r.status}, {r.score:g})")
    return "\n".join(lines)
