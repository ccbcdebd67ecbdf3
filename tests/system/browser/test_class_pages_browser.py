"""report.html and similarity.html opened from disk in headless Chromium: the figures are drawn, every link to a
student's feedback opens an existing page, and the layout fits the window. Screenshots go to
artifacts/class-pages/ for a person to look at: the bundled examples as graded, and a synthetic class of 60."""

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import jupyterlab_browser as lab
import pytest
from conftest import REPO
from similarity_cases import implementations
from synthetic_class import synthetic_codes, synthetic_records, write_class

from autograder.grader.core.masters import assignment_named
from autograder.grader.runs.outputs import write_outputs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "artifacts" / "class-pages"
PAGES = ("report", "similarity")
MAX_FIGURE_PX = 1000  # a figure fits the page's column


@pytest.fixture(scope="module")
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def synthetic_out(tmp_path_factory):
    """The OUT of a synthetic moons class of 60 (five disguised copies), as grading leaves it."""
    exercise, out = assignment_named("realnvp"), tmp_path_factory.mktemp("synthetic-class")
    records = synthetic_records(exercise, 60, seed=11)
    write_class(out, exercise, records, synthetic_codes(exercise, 60, implementations("realnvp"), seed=11))
    write_outputs(out, exercise, records)
    return out


@pytest.fixture(scope="module")
def tab():
    if not lab.CHROMIUM.exists():
        message = f"{lab.CHROMIUM} not found: run scripts/install-browser.sh (Debian's chromium package)"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(lab.CHROMIUM), args=lab.CHROMIUM_ARGS)
        try:
            yield chromium.new_page(viewport=lab.VIEWPORT)
        finally:
            chromium.close()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("which", ["examples", "synthetic"])
def test_the_page_draws_its_figures_links_existing_feedback_and_fits_the_window(tab, artifacts, request, which, page):
    out = request.getfixturevalue("examples_one_shot")[0] if which == "examples" else request.getfixturevalue("synthetic_out")
    tab.goto((out / f"{page}.html").as_uri())
    tab.screenshot(path=artifacts / f"{which}-{page}.png", full_page=True)
    figures = tab.locator("svg")
    assert figures.count() >= (2 if page == "report" else 1)
    for i in range(figures.count()):
        box = figures.nth(i).bounding_box()
        assert box and 0 < box["width"] <= MAX_FIGURE_PX and box["height"] > 0, box
    assert tab.locator("svg rect[data-count]").count() > 0
    links = tab.eval_on_selector_all("a[href^='feedback/']", "links => links.map(a => a.href)")
    assert links, "no link to a student's feedback"
    missing = [link for link in links if not Path(unquote(urlparse(link).path)).is_file()]
    assert missing == []
    assert tab.evaluate("document.documentElement.scrollWidth") <= lab.VIEWPORT["width"], "the page scrolls sideways"


@pytest.mark.slow
def test_a_feedback_link_opens_the_students_page(tab, examples_one_shot):
    out = examples_one_shot[0]
    tab.goto((out / "report.html").as_uri())
    link = tab.locator("a[href^='feedback/']").first
    student = link.inner_text()
    link.click()
    tab.wait_for_load_state()
    assert f"feedback for {student}" in tab.locator("h1").inner_text()
