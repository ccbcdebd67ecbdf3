"""The documentation holds to the repository: README.md (the front page) and every page of docs/.

- every relative link leads to a file that exists (and, with a #fragment, to a heading of that page);
- every command line of a fenced code block that runs the grader (`python -m autograder`, `.venv/bin/python -m
  autograder`, `realnvp-autograder`) parses with the grader's own command line, `autograder.cli.parser()`; a line
  continued with `\\` is joined first; a line that runs a module below autograder (`python -m autograder.course.
  examples`) names a module that exists;
- every `bash scripts/...` shown names a script that exists;
- the README stays a front page, and names the two commands a newcomer runs exactly.

Parsing touches no file: OUT, SUBMISSIONS, download.zip are fine as they are. A line with a shell variable whose
value the parser checks (`--shard "auto/$SLURM_ARRAY_TASK_COUNT"`) cannot parse here; such lines are listed in
UNPARSED, each with its reason, and a line that fails without being listed fails the test.
"""

import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO

from autograder.cli import parser

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 150
THE_TWO_COMMANDS = ("bash scripts/demo.sh", "bash scripts/test.sh")
PREFIXES = (".venv/bin/python -m autograder", "python -m autograder", "realnvp-autograder")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCRIPT = re.compile(r"\bbash\s+(scripts/[\w./-]*\w)")
# Lines that cannot parse here because a shell variable stands for a value the parser checks: (page, text in the
# line) -> why. Each must still be found, so that a fixed or moved line does not leave a stale entry.
UNPARSED = {
    ("grading-at-scale.md", '--shard "auto/$SLURM_ARRAY_TASK_COUNT"'): "SLURM sets the number of shards when the task runs",
}


def _page_id(page):
    return str(page.relative_to(REPO))


def split_fences(text):
    """(prose, [code blocks]) of a markdown text: prose with every fenced block removed, and each block's lines."""
    prose, blocks, inside, block = [], [], None, []
    for line in text.splitlines():
        match = FENCE.match(line)
        if inside is None and match:
            inside, block = match.group(1), []
        elif inside is not None and match and line.strip().startswith(inside[0] * len(inside)) and not line.strip().strip(inside[0]):
            blocks.append(block)
            inside = None
        elif inside is not None:
            block.append(line)
        else:
            prose.append(line)
    return "\n".join(prose), blocks


def without_code_spans(text):
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text, flags=re.S)


def joined_lines(block):
    """The lines of a code block with each `\\` continuation joined to the next line."""
    lines, current = [], ""
    for line in block:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
        else:
            lines.append((current + line).strip())
            current = ""
    if current:
        lines.append(current.strip())
    return lines


def grader_commands(page):
    """[(line, argv or None, module or None)] of every command line in the page's code blocks that runs the grader:
    argv for `python -m autograder VERB ...` (the verb's arguments), module for `python -m autograder.MODULE`."""
    found = []
    for block in split_fences(page.read_text(encoding="utf-8"))[1]:
        for line in joined_lines(block):
            prefix = next((p for p in PREFIXES if line.startswith(p)), None)
            if prefix is None:
                continue
            rest = line[len(prefix) :]
            if prefix != "realnvp-autograder" and rest.startswith("."):
                found.append((line, None, "autograder" + rest.split()[0]))
            elif not rest or rest[0].isspace():
                found.append((line, shlex.split(rest, comments=True), None))
    return found


def parse_problem(argv):
    """Why the grader's command line refuses argv ("" when it parses)."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
            parser().parse_args(argv)
    except SystemExit as stop:
        return "" if stop.code == 0 else said.getvalue().strip().splitlines()[-1]
    return ""


def _listed(page, line):
    return next((key for key in UNPARSED if key[0] == page.name and key[1] in line), None)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped (but - and _), spaces as hyphens."""
    text = re.sub(r"[`*_]{1,2}(?=\S)|(?<=\S)[`*_]{1,2}", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page):
    prose = split_fences(page.read_text(encoding="utf-8"))[0]
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_relative_link_leads_to_a_file(page):
    prose = without_code_spans(split_fences(page.read_text(encoding="utf-8"))[0])
    broken = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.name}")
    assert not broken, f"{_page_id(page)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_grader_command_shown_parses(page):
    problems, unparsed = [], []
    for line, argv, module in grader_commands(page):
        if module is not None:
            if importlib.util.find_spec(module) is None:
                problems.append(f"{line}\n    no module {module}")
            continue
        problem = parse_problem(argv)
        if problem and "$" in line and _listed(page, line):
            unparsed.append(line)
        elif problem:
            problems.append(f"{line}\n    {problem}")
    assert not problems, f"{_page_id(page)}: command lines the grader refuses:\n" + "\n".join(problems)
    stale = [key for key in UNPARSED if key[0] == page.name and not any(key[1] in line for line in unparsed)]
    assert not stale, f"UNPARSED lists lines of {page.name} that are gone or parse now: {stale}"


def test_the_pages_show_grader_commands():
    """The parse check sees the commands it should: the pages show one of each verb at least."""
    shown = {argv[0] for page in PAGES for _, argv, _ in grader_commands(page) if argv}
    verbs = set(parser()._subparsers._group_actions[0].choices)
    assert verbs - {"demo"} <= shown, f"no command line shown for {sorted(verbs - {'demo'} - shown)}"


def test_the_parse_check_refuses_a_typo():
    """A misspelt option or verb, as a page might show it, is caught (and a right one is not)."""
    assert parse_problem(shlex.split("grade download.zip --out grading/realnvp --workers 2")) == ""
    assert "--wokers" in parse_problem(shlex.split("grade download.zip --out grading/realnvp --wokers 2"))
    assert "invalid choice" in parse_problem(shlex.split("grdae download.zip --out grading/realnvp"))
    assert "required" in parse_problem(shlex.split("merge grading/shards/0"))


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_script_shown_exists(page):
    missing = sorted({s for s in SCRIPT.findall(page.read_text(encoding="utf-8")) if not (REPO / s).is_file()})
    assert not missing, f"{_page_id(page)} shows scripts that do not exist: {missing}"


def test_the_readme_is_a_front_page():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES, f"README.md has {len(text.splitlines())} lines: move the rest to docs/"
    shown = {line.split("#")[0].strip() for block in split_fences(text)[1] for line in block}
    for command in THE_TWO_COMMANDS:
        assert command in shown, f"README.md no longer shows {command!r} as a command line of its own"
    assert 'bash scripts/test.sh -m "not slow"' in shown, "README.md no longer shows the fast lane"
    assert "sudo bash scripts/hub.sh up" in shown, "README.md no longer shows the course hub's one command"


def test_every_docs_page_is_linked_from_the_readme():
    prose = split_fences((REPO / "README.md").read_text(encoding="utf-8"))[0]
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(prose)}
    unlinked = [page.name for page in PAGES[1:] if page.name not in linked]
    assert not unlinked, f"docs pages the README's 'Where to go next' does not name: {unlinked}"
