"""The written answers of a notebook as a PDF: a page or more per question, titled with the question, for a Gradescope
PDF assignment's page matching or for grading on paper (`check NOTEBOOK --pdf FILE`, `grade --written-pdfs`).

Rendered without LaTeX: the answer's Markdown by mistune (nbconvert's own), its maths ($...$, $$...$$) by matplotlib's
mathtext as inline SVG (TeX that mathtext cannot draw is shown as its source), code as code; the page is printed to
PDF by Chromium through Playwright, the browser this project already uses (AUTOGRADER_CHROMIUM, default
/usr/bin/chromium). A question left as released, or missing, says "no answer".
"""

import html
import io
import os
import re
from pathlib import Path

from autograder.notebooks import grade_id, is_manual

CHROMIUM = os.environ.get("AUTOGRADER_CHROMIUM", "/usr/bin/chromium")
PLACEHOLDERS = ("YOUR ANSWER HERE", "*(no answer: this cell is missing from the submission)*")
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
STYLE = (
    "body{font-family:DejaVu Sans,sans-serif;font-size:12pt;line-height:1.45;margin:0 1.5em;color:#111}"
    "section{page-break-after:always}section:last-child{page-break-after:auto}"
    "h1{font-size:16pt;margin:.2em 0 .4em}.prompt{color:#333;border-left:3px solid #888;padding-left:.8em;margin-bottom:1em}"
    ".answer{border:1px solid #999;padding:.6em .9em;min-height:6em}.none{color:#555;font-style:italic}"
    "pre{background:#f2f2f2;padding:.5em;white-space:pre-wrap}svg{vertical-align:middle}"
)


def questions(notebook):
    """[(grade_id, title, prompt)] of each question graded by hand, in order: the title and the text of the Markdown
    cell above its answer (the question as the notebook asks it)."""
    cells, found = notebook.nb.cells, []
    for index, cell in enumerate(cells):
        if not is_manual(cell):
            continue
        above = next((c.source for c in reversed(cells[:index]) if c.cell_type == "markdown" and not is_manual(c)), "")
        lines = above.strip().splitlines()
        heading = lines[0].lstrip("#").strip() if lines and lines[0].startswith("#") else "Written question"
        prompt = "\n".join(lines[1:] if lines and lines[0].startswith("#") else lines).strip()
        found.append((grade_id(cell), heading, prompt))
    return found


def _math_svg(tex, display):
    """tex drawn by matplotlib's mathtext as inline SVG, or its source when mathtext cannot draw it."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buffer = io.StringIO()
    try:
        mathtext.math_to_image(f"${tex.strip()}$", buffer, prop=FontProperties(size=14 if display else 12), format="svg")
    except (ValueError, RuntimeError):
        return f"<code>{html.escape(tex)}</code>"
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return f"<div style='text-align:center'>{svg}</div>" if display else svg


def _rendered(text):
    """An answer's Markdown as HTML, its maths drawn; raw HTML in it is escaped, never run."""
    import mistune

    drawn = []

    def keep(match):
        drawn.append(_math_svg(match.group(1) or match.group(2), match.group(1) is not None))
        return f"MATH{len(drawn) - 1}PLACE"

    markdown = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    body = markdown(MATH.sub(keep, text))
    return re.sub(r"MATH(\d+)PLACE", lambda m: drawn[int(m.group(1))], body)


def _blank(text):
    return text is None or not text.strip() or text.strip() in PLACEHOLDERS


def written_html(notebook, answers, who=""):
    """The page of one student's written answers (answers: grade_id -> their text, None when missing)."""
    sections = []
    for number, (gid, title, prompt) in enumerate(questions(notebook), start=1):
        text = answers.get(gid)
        answer = "<p class=none>no answer</p>" if _blank(text) else _rendered(text)
        sections.append(
            f"<section><h1>Question {number}: {html.escape(title)}</h1><p><small>{html.escape(gid)}"
            f"{' — ' + html.escape(who) if who else ''}</small></p><div class=prompt>{_rendered(prompt)}</div>"
            f"<div class=answer>{answer}</div></section>"
        )
    title = html.escape(f"{notebook.title or notebook.name}: written answers")
    head = f"<head><meta charset=utf-8><title>{title}</title><style>{STYLE}</style></head>"
    return f"<!DOCTYPE html><html lang=en>{head}<body>{''.join(sections)}</body></html>"


def answers_of(nb, notebook):
    """grade_id -> the text of each written answer in a student's notebook (None when the cell is missing)."""
    found = {grade_id(c): c.source for c in nb.cells if grade_id(c)}
    return {gid: found.get(gid) for gid, _, _ in questions(notebook)}


def write_pdfs(pages):
    """Print each (path, html) of pages to its PDF with one Chromium; the paths written."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/install-browser.sh) or set AUTOGRADER_CHROMIUM")
    written = []
    with sync_playwright() as playwright:
        args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            for path, text in pages:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                page.set_content(text, wait_until="load")
                page.pdf(path=str(path), format="A4", margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"})
                written.append(Path(path))
        finally:
            browser.close()
    return written
