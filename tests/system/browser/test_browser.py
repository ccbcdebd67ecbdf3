"""The student's experience in a real browser: JupyterLab 4 with nbgrader's extensions, driven by Playwright.

Blank notebook -> NotImplementedError at the first blank; solved notebook -> visible tests pass and the
Validate button says Success; a planted bug -> Validate reports it; solution notebook -> figures render.
Screenshots of each step go to artifacts/browser/ (printed at the start), for a person to look at.
"""

import os
import shutil

import jupyterlab_browser as lab
import nbformat
import pytest
from conftest import REPO, SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK

from autograder.course import examples
from autograder.grader.core.masters import notebook_named
from autograder.notebooks import grade_id, is_answer, is_manual, is_test, solution_answers, written_answers

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "artifacts" / "browser"
SOLVED, PLANTED_BUG = "notebooks/realnvp_solved.ipynb", "notebooks/realnvp_planted_bug.ipynb"
# The second exercise: its blank notebook, and a solved copy with the examples' short training recipe.
DIGITS, DIGITS_SOLVED = "notebooks/realnvp_digits.ipynb", "notebooks/realnvp_digits_solved.ipynb"
# The coupling explorer run on a layer whose log_det has the wrong sign (no test cells: Run All reaches it).
BROKEN_COUPLING = "notebooks/realnvp_broken_coupling.ipynb"
LOG_DET_SIGN = ("return x * torch.exp(s) + t, s.sum(dim=1)", "return x * torch.exp(s) + t, -s.sum(dim=1)")
STUDENT, SOLUTION = f"notebooks/{STUDENT_NOTEBOOK.name}", f"solutions/{SOLUTION_NOTEBOOK.name}"
# A common mistake: the loss as a Python float. Its test cell says so; training then fails at loss.backward().
BUG = ("return -flow.log_prob(x).mean()", "return -flow.log_prob(x).mean().item()")
BUG_MESSAGE = "nll_loss should return a tensor, got float: do not call .item()"
RUN_ALL_TIMEOUT_S, VALIDATE_TIMEOUT_S = 300, 300  # generous: the machine may be shared
# the widest figure (the moons' layer by layer, 14.8 in at 100 dpi for 10-pt labels) is 1480 px: wider than a 1280-px
# JupyterLab's output area, which scales it down (left open: narrower small multiples); one screen high
MAX_FIGURE_PX = (1500, 800)
FIGURE_CELLS = (
    "data", "explore_1d", "explore_coupling", "plot_four_panels", "plot_density", "plot_layers", "plot_training", "plot_snapshots",
    "explore_flow", "plot_filament", "ablations",
)  # fmt: skip


def _require_chromium():
    if lab.CHROMIUM.exists():
        return
    message = f"{lab.CHROMIUM} not found: run scripts/install-browser.sh (Debian's chromium package)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _notebook_with_answers(answers):
    """The student notebook with its answer cells, written answers included, replaced by answers (grade_id -> source).

    Validate lists a written answer left blank ("You did not provide a response"), as any unanswered cell."""
    nb = nbformat.read(STUDENT_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if is_answer(cell) or is_manual(cell):
            cell.source = answers[grade_id(cell)]
    return nb


def _course_copy(root, master):
    """A scratch copy of what a student has, plus the student notebook filled in: solved, and with one bug."""
    for folder in ("notebooks", "solutions", "data"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "nbgrader_config.py", root)
    answers = {**solution_answers(master), **written_answers(master)}
    nbformat.write(_notebook_with_answers(answers), root / SOLVED)
    assert BUG[0] in answers["nll"], "the planted bug no longer applies to the master's nll_loss: update BUG"
    nbformat.write(_notebook_with_answers({**answers, "nll": answers["nll"].replace(*BUG)}), root / PLANTED_BUG)
    digits = {**examples.answers("realnvp_digits", quick=True), **written_answers(notebook_named("realnvp_digits").nb)}
    nbformat.write(examples.filled(digits, "realnvp_digits"), root / DIGITS_SOLVED)  # its written answers too
    assert LOG_DET_SIGN[0] in answers["coupling"], "the planted log_det bug no longer applies to the master's coupling layer"
    broken = _notebook_with_answers({**answers, "coupling": answers["coupling"].replace(*LOG_DET_SIGN)})
    until = [grade_id(c) for c in broken.cells].index("explore_coupling")
    broken.cells = [c for c in broken.cells[: until + 1] if not is_test(c)]
    nbformat.write(broken, root / BROKEN_COUPLING)


@pytest.fixture(scope="module")
def artifacts(request):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nbrowser test screenshots: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="module")
def server(master, tmp_path_factory, artifacts):
    _require_chromium()
    scratch = tmp_path_factory.mktemp("jupyterlab")
    root = scratch / "course"
    root.mkdir()
    _course_copy(root, master)
    try:
        with lab.jupyterlab(root, scratch) as (url, token):
            yield url, token, root
    finally:
        if (scratch / "jupyterlab.log").exists():
            shutil.copy(scratch / "jupyterlab.log", artifacts / "jupyterlab.log")


@pytest.fixture(scope="module")
def console():
    """What the browser's console printed, as 'type: text' lines, for every tab of the module."""
    return []


@pytest.fixture(scope="module")
def browser(server, artifacts, console):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(lab.CHROMIUM), args=lab.CHROMIUM_ARGS)
        try:
            yield lambda: _new_tab(chromium, console)
        finally:
            chromium.close()
            (artifacts / "console.txt").write_text("\n".join(console) + "\n")


def _new_tab(chromium, console):
    tab = chromium.new_page(viewport=lab.VIEWPORT)
    tab.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    return tab


@pytest.fixture(scope="module")
def page(browser):
    return browser()


@pytest.fixture(scope="module")
def solution_tab(browser, server):
    """The solution notebook, Run All started in a second tab: it trains while the solved student notebook does.

    The notebook sets torch to one thread, so the two kernels share the two cores instead of queueing.
    """
    tab = browser()
    _start(tab, server, SOLUTION)
    return tab


def _start(page, server, path):
    url, token, _ = server
    lab.open_notebook(page, url, token, path)
    lab.start_run_all(page)


def _finish(page, server, path):
    """Wait for Run All to end; return the notebook's cells and what the page shows of each."""
    lab.wait_until_all_ran(page, RUN_ALL_TIMEOUT_S, screenshot_on_timeout=ARTIFACTS / f"timeout-{path.replace('/', '-')}.png")
    notebook = nbformat.read(server[2] / path, as_version=4)
    shown = lab.cells(page)
    assert len(shown) == len(notebook.cells), "the page shows a different number of cells than the notebook holds"
    return notebook.cells, shown


def _open_and_run_all(page, server, path):
    _start(page, server, path)
    return _finish(page, server, path)


def _validate(page):
    """Click nbgrader's Validate button; return the dialog's kind ('success' or 'error') and its text."""
    page.locator("jp-button.validate-button").click()
    dialog = page.locator(".nbgrader-SuccessDialog, .nbgrader-ErrorDialog")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT_S * 1000)
    kind = "success" if "nbgrader-SuccessDialog" in dialog.get_attribute("class") else "error"
    return kind, dialog.locator("#validation-message").inner_text()


def _close_dialog(page):
    page.locator(".jp-Dialog button.jp-Dialog-button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def test_blank_notebook_shows_not_implemented_error_at_the_first_blank_after_clean_given_cells(page, server, artifacts, master):
    cells, shown = _open_and_run_all(page, server, STUDENT)
    lab.screenshot_whole_notebook(page, artifacts / "1-blank-notebook-run-all.png")
    first_failure = next(i for i, cell in enumerate(shown) if cell["stderr"])
    first_test = next(grade_id(cell) for cell in master.cells if is_test(cell))
    assert grade_id(cells[first_failure]) == first_test, f"first error in {grade_id(cells[first_failure])}: {shown[first_failure]}"
    assert "NotImplementedError" in shown[first_failure]["stderr"][0]
    for cell, seen in zip(cells[:first_failure], shown[:first_failure], strict=True):
        if cell.cell_type == "code" and not cell.metadata.get("jupyter", {}).get("source_hidden"):  # a collapsed cell shows no prompt
            assert seen["prompt"].strip("[]: ").isdigit(), f"{grade_id(cell)} did not run: prompt {seen['prompt']!r}"


@pytest.fixture(scope="module")
def solved_run(page, server, artifacts, solution_tab):
    """The solved student notebook after Run All in `page`: (cells, what the page shows of each)."""
    cells, shown = _open_and_run_all(page, server, SOLVED)
    lab.screenshot_whole_notebook(page, artifacts / "2-solved-notebook-run-all.png")
    return cells, shown


def test_solved_notebook_passes_every_visible_test_and_the_validate_button(page, solved_run, artifacts):
    cells, shown = solved_run
    tests = [(grade_id(cell), seen) for cell, seen in zip(cells, shown, strict=True) if is_test(cell)]
    assert len(tests) >= 5
    for name, seen in tests:
        assert seen["prompt"].strip("[]: ").isdigit(), f"{name} did not run: prompt {seen['prompt']!r}"
        assert not seen["stderr"], f"{name} failed in JupyterLab: {seen['stderr']}"
    _assert_progress_bar_rendered(cells, shown)
    kind, text = _validate(page)
    page.screenshot(path=artifacts / "3-validate-success.png")
    _close_dialog(page)
    assert (kind, text.strip()) == ("success", "Success! Your notebook passes all the tests.")


def test_every_explorer_of_the_moons_notebook_redraws_when_a_control_moves(page, solved_run, artifacts, console):
    # right after the solved run, in its page: the next test opens another notebook there
    _check_explorers(page, solved_run[0], artifacts, "8-moons")
    assert not _console_errors(console), _console_errors(console)


def test_validate_button_reports_the_failing_test_of_a_planted_bug(page, server, artifacts):
    url, token, _ = server
    lab.open_notebook(page, url, token, PLANTED_BUG)
    kind, text = _validate(page)
    page.locator(".nbgrader-ErrorDialog .jp-RenderedText").nth(1).scroll_into_view_if_needed()  # the error, below the source
    page.screenshot(path=artifacts / "4-validate-planted-bug.png")
    _close_dialog(page)
    assert kind == "error" and "The following cell failed" in text, text[:2000]
    assert BUG_MESSAGE in text, text[:2000]
    assert "make_masks" not in text.split("The following cell failed")[1], "a test before the bug was reported as failing"


def test_solution_notebook_renders_every_figure_at_a_readable_size(solution_tab, server, artifacts):
    cells, shown = _finish(solution_tab, server, SOLUTION)
    lab.screenshot_whole_notebook(solution_tab, artifacts / "5-solution-notebook-run-all.png")
    figures = {grade_id(cell): seen["images"] for cell, seen in zip(cells, shown, strict=True)}
    for name in FIGURE_CELLS:
        assert figures[name], f"no figure shown by the cell {name}"
        for image in figures[name]:
            assert image["complete"] and image["width"] > 0, f"the figure of {name} did not load: {image}"
            size = (image["width"], image["height"])
            assert all(px <= most for px, most in zip(size, MAX_FIGURE_PX, strict=True)), f"the figure of {name} is {size} px"
    errors = {grade_id(cell): seen["stderr"] for cell, seen in zip(cells, shown, strict=True) if seen["stderr"]}
    assert not errors, f"cells wrote errors or warnings (a red box in JupyterLab): {errors}"
    _assert_progress_bar_rendered(cells, shown)


def test_the_digits_notebook_opens_and_a_solved_copy_passes_the_validate_button(page, server, artifacts):
    url, token, _ = server
    lab.open_notebook(page, url, token, DIGITS)
    page.screenshot(path=artifacts / "6-digits-notebook.png")
    assert "Real NVP on 8" in page.locator(".jp-Notebook").inner_text()[:2000]
    lab.open_notebook(page, url, token, DIGITS_SOLVED)
    kind, text = _validate(page)
    page.screenshot(path=artifacts / "7-digits-validate-success.png")
    _close_dialog(page)
    assert (kind, text.strip()) == ("success", "Success! Your notebook passes all the tests."), text[:2000]


def _assert_progress_bar_rendered(cells, shown):
    """The training loop's tqdm.auto bar is an ipywidget: it must render as a bar, not as an error or a blank."""
    training = shown[[grade_id(cell) for cell in cells].index("train")]
    assert training["widgets"] == 1, f"the training cell shows no progress bar widget: {training['text'][:300]!r}"
    for seen in shown:
        assert "Error displaying widget" not in seen["text"], seen["text"][:300]


def _explorer_cells(cells):
    return [(index, grade_id(cell)) for index, cell in enumerate(cells) if (grade_id(cell) or "").startswith("explore_")]


def _check_explorers(page, cells, artifacts, prefix):
    """Every explorer cell shows a live figure, and moving each of its controls changes the figure's pixels."""
    explorers = _explorer_cells(cells)
    assert explorers, "no explorer cell (grade_id explore_*) in the notebook"
    for index, name in explorers:
        cell = lab.cell_locator(page, index)
        cell.scroll_into_view_if_needed()
        image = lab.explorer_image(cell)
        image.wait_for(timeout=60_000)
        controls = lab.explorer_controls(cell)
        assert controls, f"{name}: the explorer shows no live control"
        outputs = cell.locator(".jp-Cell-outputArea")
        outputs.screenshot(path=artifacts / f"{prefix}-{name}-before.png")
        for kind, control in controls:
            lab.wait_until_idle(page)
            before = image.screenshot()
            was, now = lab.move(page, kind, control)
            lab.wait_for_new_image(image, before, moved=f"{name}'s {kind} from {was} to {now}")
        outputs.screenshot(path=artifacts / f"{prefix}-{name}-after.png")
        caption = cell.locator(".widget-html").last.inner_text()
        assert "raised" not in caption and "not written yet" not in caption, f"{name}: {caption}"
        assert "✗" not in caption, f"{name} reports a disagreement on a correct notebook: {caption}"


def test_a_broken_coupling_layer_shows_as_a_disagreement_in_the_coupling_explorer(browser, server, artifacts):
    tab = browser()
    cells, _ = _open_and_run_all(tab, server, BROKEN_COUPLING)
    index = [grade_id(c) for c in cells].index("explore_coupling")
    cell = lab.cell_locator(tab, index)
    cell.scroll_into_view_if_needed()
    lab.explorer_image(cell).wait_for(timeout=60_000)
    cell.locator(".jp-Cell-outputArea").screenshot(path=artifacts / "9-broken-coupling-explorer.png")
    caption = cell.locator(".widget-html").last.inner_text()
    assert "✗ Your log_det disagrees with autograd" in caption and "inverse" not in caption, caption
    tab.close()


def test_every_explorer_of_the_digits_notebook_redraws_when_a_control_moves(browser, server, artifacts, console):
    tab = browser()
    cells, _ = _open_and_run_all(tab, server, DIGITS_SOLVED)
    _check_explorers(tab, cells, artifacts, "10-digits")
    assert not _console_errors(console), _console_errors(console)
    tab.close()


def _console_errors(console):
    """Browser console errors that come from widgets or the notebook's outputs (JupyterLab's own start-up noise aside)."""
    return [m for m in console if m.startswith("error:") and any(w in m.lower() for w in ("widget", "model", "output", "render"))]
