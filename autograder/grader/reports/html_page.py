"""What the class-level pages (report.html, similarity.html) share: one look, and links to a student's feedback.

Each page is one self-contained file that opens from disk: its style is inline, its figures are inline SVG, and
its only links are relative ones to OUT/feedback/<student>.html.
"""

import html
from dataclasses import dataclass

from autograder.grader.core.ids import printable
from autograder.grader.core.layout import feedback_link

STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:72em;margin:1.5em auto;padding:0 1.2em}"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}"
    "h3{font-size:1em;margin:1.2em 0 .3em}.lead{color:#555;margin-top:0}.note{color:#666;font-size:.92em}"
    "table{border-collapse:collapse;margin:.4em 0 .8em}td,th{border-bottom:1px solid #e3e3e3;padding:.25em .7em;text-align:left;"
    "vertical-align:top}th{background:#f4f4f4;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "a{color:#1a5fb4}code,pre{font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace}"
    ".cards{display:flex;gap:1em;flex-wrap:wrap;margin:.8em 0}.card{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;"
    "min-width:7em}.card b{display:block;font-size:1.5em}figure{margin:.5em 0}figcaption{color:#666;font-size:.9em}"
    ".ok{color:#1e7b34}.fail{color:#b3261e}.hidden{color:#b35c00}table.full{width:100%;table-layout:fixed}"
    "table.full td:first-child,table.full th:first-child{width:3.5em}table.full td:last-child,table.full th:last-child{width:17em}"
)


def page(title, body, style=""):
    """A whole HTML document: title (plain text), body (HTML) and the page's own style beyond the common one."""
    head = f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title><style>{STYLE}{style}</style>"
    return f"{head}\n<body>\n{body}\n</body></html>\n"


@dataclass(frozen=True)
class Links:
    """Where a class page links a student id to: their feedback page of the assignment's first notebook, in OUT's
    feedback/ or, after grade --course, in the course's (prefix: the way there from OUT, core/layout.links_prefix)."""

    assignment: str
    notebook: str
    prefix: str = ""

    @classmethod
    def of(cls, assignment, prefix=""):
        return cls(assignment.name, assignment.notebook_names[0], prefix)

    def student(self, student_id):
        """The student id, linked to their feedback page."""
        href = feedback_link(student_id, self.assignment, self.notebook, self.prefix)
        return f"<a href='{html.escape(href)}'>{html.escape(printable(student_id))}</a>"


def table(header, rows, numeric=(), full=False):
    """An HTML table: header (plain text cells), rows (lists of HTML cells); columns in numeric are right-aligned;
    full: as wide as the page, so that the tables of one section line up."""
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table{' class=full' if full else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
