"""axe-core in headless Chromium, for the accessibility tests: the WCAG 2.1 A and AA rules over a page opened from disk.

axe-core is installed by scripts/install-browser.sh (a pinned version from the npm registry, into .venv/axe); nothing
is downloaded here. A page is opened from its file, axe.min.js is added to it, and axe.run checks the whole document
with the rules tagged wcag2a, wcag2aa, wcag21a and wcag21aa (axe's WCAG 2.0 and 2.1 A and AA rules).
"""

import json
import re
import subprocess
import sys

import nbformat
from conftest import REPO

AXE_VERSION = "4.14.1"  # scripts/install-browser.sh installs this one
AXE = REPO / ".venv" / "axe" / "node_modules" / "axe-core"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# How a solution is rendered for the web (docs/instructors.md, "Accessibility"), with nbconvert's own options:
# - the classic template: the lab template (the default) never writes an image's alt (nbconvert 7.17: its data_png
#   block has no alt; the classic one reads the output's image/png metadata, then the cell's), so every figure would
#   read "No description has been provided for this image";
# - no prompts: their colours fail WCAG AA's 4.5:1 (lab #b0b0b0 on white 2.16:1, classic's Out #d84315 4.43:1);
# - the Pygments style "xcode", the one of Pygments' styles whose every token colour passes 4.5:1 on the code cells'
#   grey (the templates' own: numbers #008800 4.25:1, `in` and `is` #aa22ff 4.39 to 4.47:1, comments #408080 4.17:1).
NBCONVERT_OPTIONS = ["--template", "classic", "--no-prompt", "--CSSHTMLHeaderPreprocessor.style=xcode"]
# Markup that another project writes, excluded from one rule each: (rule, the start of the element's HTML, why).
THIRD_PARTY = [
    (
        "label",
        '<input class="anim-slider"',
        "matplotlib's FuncAnimation.to_jshtml() writes its frame slider without a label (its own HTML template; the "
        "buttons beside it are labelled)",
    ),
]
NO_ALT = "No description has been provided for this image"  # what nbconvert writes in an image that has no alt


def axe_installed():
    """The installed axe-core's version, or None when scripts/install-browser.sh has not installed it."""
    package = AXE / "package.json"
    return json.loads(package.read_text())["version"] if package.is_file() else None


def violations(page, path):
    """axe's violations of the WCAG 2.1 A and AA rules on the page at path: [{id, impact, help, nodes: [target, html]}]."""
    page.goto(path.resolve().as_uri())
    page.add_script_tag(path=str(AXE / "axe.min.js"))
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    found = page.evaluate("options => axe.run(document, options)", options)["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [{"target": n["target"], "html": n["html"][:200], "summary": n.get("failureSummary", "")[:300]} for n in v["nodes"]],
        }
        for v in found
    ]


def described(found):
    """The violations in a few lines each: rule, impact, help, the first elements."""
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        lines += [f"    {n['target']} {n['html'][:120]!r}" for n in v["nodes"][:3]]
    return "\n".join(lines)


MISSING_ALT = re.compile(r"Alternative text is missing on (\d+) image")


def ours(found):
    """found without the elements of THIRD_PARTY's markup, each from its rule alone."""
    kept = []
    for v in found:
        nodes = [n for n in v["nodes"] if not any(v["id"] == rule and n["html"].startswith(start) for rule, start, _ in THIRD_PARTY)]
        if nodes:
            kept.append({**v, "nodes": nodes})
    return kept


def nbconvert_html(notebook, folder, options=NBCONVERT_OPTIONS):
    """`jupyter nbconvert --to html` of notebook into folder: (the page, nbconvert's log)."""
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", *options, "--output-dir", str(folder), str(notebook)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / f"{notebook.stem}.html", done.stderr


def figures_without_alt(notebook, page):
    """The cells whose images nbconvert rendered without alternative text, one line each: the cell's id, its first
    line, how many images (page: nbconvert's HTML of notebook, whose cells carry their ids: id="cell-id=ID")."""
    from bs4 import BeautifulSoup

    first_lines = {c.get("id"): (c.source.strip().splitlines() or [""])[0] for c in nbformat.read(notebook, as_version=4).cells}
    counts = {}
    for image in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img", alt=NO_ALT):
        cell = image.find_parent(id=re.compile("^cell-id="))
        key = cell["id"].removeprefix("cell-id=") if cell else None
        counts[key] = counts.get(key, 0) + 1
    return [f"cell {key!r} ({first_lines.get(key, 'outside any cell')[:70]}): {n} image(s)" for key, n in counts.items()]
