"""The whole term on the course hub (scripts/hub.sh), in headless Chromium: real Unix users, nbgrader's exchange.

`hub.sh up` makes an instructor and three students; each student logs in, fetches the moons exercise in JupyterLab's
Assignments tab, puts in answers (written through their own server's contents API), opens the notebook, clicks
Validate and Submit: student 1 all correct, student 2 with the inverse's classic exp(+s), student 3 correct and
submitting twice, the second time after the due time. The instructor, as their own Unix user, collects, grades and
releases the feedback; each student fetches theirs and opens it; the instructor opens formgrader, where the written
answers await a person. `hub.sh down --purge` must then leave nothing behind, so that the test passes again.

The grading step is grade() below: the project's grader writing into the nbgrader course directory (`--course`);
HUB_TEST_GRADER=nbgrader runs nbgrader's own autograde and generate_feedback there instead (proof that the hub and
the exchange work independently of our grader). Screenshots go to artifacts/hub/ (printed), and are also copied to
$HUB_TEST_SCREENS when it names a folder.
"""

import json
import math
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jupyterlab_browser as lab
import nbgrader
import pytest
from conftest import REPO

from autograder.course import examples, hub
from autograder.grader.core.masters import notebook_named
from autograder.notebooks import written_answers

pytestmark = [pytest.mark.slow, pytest.mark.browser]

GRADER = os.environ.get("HUB_TEST_GRADER", "autograder")  # or "nbgrader": nbgrader's own autograde + generate_feedback
ARTIFACTS = REPO / "artifacts" / "hub"
EXERCISE = notebook_named("realnvp")
NAME = EXERCISE.name
STUDENTS = [f"{hub.PREFIX}s{i}" for i in (1, 2, 3)]
BUGGY, LATE = STUDENTS[1], STUDENTS[2]
INVERSE_BUG = ("return (y - t) * torch.exp(-s)", "return (y - t) * torch.exp(s)")
INVERSE_MESSAGE = "the inverse multiplies by exp(+s): divide by exp(s), that is multiply by exp(-s)"
# The failure as raised: the hint alone is also in the test cell's source, which the feedback pages show to everybody
INVERSE_FAILURE = re.compile(r"AssertionError:\s*" + re.escape(INVERSE_MESSAGE))
SUCCESS = "Success! Your notebook passes all the tests."
PENALTY = "10% per started day"  # of the exercise's maximum: a late submission loses 0.1 * max_score
VALIDATE_TIMEOUT_S, GRADE_TIMEOUT_S = 600, 1200  # three Validates at once on two shared cores; nbgrader grades serially
WAIT_MS = 120_000


def _require_machine():
    """Root (accounts), Chromium, Debian's python3.11 and npm: skip without them, fail in CI."""
    missing = [what for what, ok in [
        ("root", os.geteuid() == 0), (str(lab.CHROMIUM), lab.CHROMIUM.exists()),
        (hub.SYSTEM_PYTHON, Path(hub.SYSTEM_PYTHON).exists()), ("npm", shutil.which("npm")),
    ] if not ok]  # fmt: skip
    if missing:
        message = f"the course hub test needs {', '.join(missing)} (scripts/test.sh installs the rest as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _hub_sh(*args, timeout=900):
    done = subprocess.run(["bash", REPO / "scripts" / "hub.sh", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"hub.sh {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _note(request, line):
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    with open(ARTIFACTS / "timings.txt", "a") as handle:
        handle.write(line + "\n")


@pytest.fixture(scope="module")
def course_hub(request):
    """The hub that `hub.sh up` starts (its state: url, accounts, ports); `hub.sh down --purge` at the end, always."""
    _require_machine()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    _note(request, f"\ncourse hub test ({GRADER}): screenshots in {ARTIFACTS}")
    if hub.hub_pids(hub.read_state()) or hub.course_accounts():
        pytest.fail(f"a course hub (or its accounts: {hub.course_accounts()}) is already on this machine: the test would remove it. "
                    "Stop it first: bash scripts/hub.sh down --purge")  # fmt: skip
    started = time.monotonic()
    try:
        _hub_sh("up", "--students", str(len(STUDENTS)))
        _note(request, f"hub.sh up: {time.monotonic() - started:.1f} s")
        state = hub.read_state()
        state["uids"] = hub.account_uids(a["name"] for a in state["accounts"])
        state["ports"] = {k: v for k, v in json.loads((hub.STATE / "hub.json").read_text()).items() if k.endswith("port")}
        state["ports"]["public"] = state["port"]
        yield state
    finally:
        _copy_screens()
        done = subprocess.run(["bash", REPO / "scripts" / "hub.sh", "down", "--purge"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:  # the last test checks the purge; this one runs when an earlier step failed
            _note(request, f"hub.sh down --purge failed:\n{done.stdout}{done.stderr}")


def _copy_screens():
    target = os.environ.get("HUB_TEST_SCREENS")
    if target and ARTIFACTS.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ARTIFACTS, target)


# --- the browser: one context (cookies) per account -------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(course_hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(lab.CHROMIUM), args=lab.CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def explained(page, what):
    """On a timeout or a failed check in the block: a screenshot, and the end of the hub's log (the users' servers
    log there too) in the message."""
    try:
        yield
    except Exception as error:
        shot = ARTIFACTS / f"failed-{re.sub(r'[^A-Za-z0-9]+', '-', what)}.png"
        try:
            page.screenshot(path=shot)
        except Exception:  # the page itself may be gone
            shot = "(no screenshot)"
        raise AssertionError(f"{what}: {error}\nscreenshot: {shot}\nthe end of the hub's log:\n{hub.log_tail(chars=6000)}") from error


def _log_in_all(browser, course_hub, names):
    """Log each account in through the hub's login form, all at once; {name: page} once each JupyterLab has loaded."""
    passwords = {a["name"]: a["password"] for a in course_hub["accounts"]}
    pages = {}
    for name in names:
        page = browser.new_context(viewport=lab.VIEWPORT).new_page()
        page.goto(f"{course_hub['url']}/hub/login")
        page.fill("#username_input", name)
        page.fill("#password_input", passwords[name])
        page.click("#login_submit")  # the hub starts the server; the spawns run in parallel
        pages[name] = page
    for name, page in pages.items():
        with explained(page, f"{name} logs in and JupyterLab loads"):
            page.wait_for_url(f"**/user/{name}/lab**", timeout=WAIT_MS)
            page.locator(".jp-LabShell").wait_for(timeout=WAIT_MS)
    return pages


def _nbgrader_menu(page, item):
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item", has_text=re.compile(rf"^{item}\s*$")).click()


def _row(page, section, assignment):
    """The row of an assignment in one section (released, fetched, submitted) of the Assignments tab."""
    rows = page.locator(f"#{section}_assignments_list > .list_item")
    return rows.filter(has=page.locator(".item_name").get_by_text(assignment, exact=True))


def _base(course_hub, name):
    return f"{course_hub['url']}/user/{name}"


def _write_answers(page, course_hub, name, answers):
    """Put answers (grade_id -> source) into the fetched notebook through the user's server (its contents API)."""
    url, context = f"{_base(course_hub, name)}/api/contents/{NAME}/{NAME}.ipynb", page.context
    reply = context.request.get(f"{url}?content=1")
    assert reply.ok, f"GET {url}: {reply.status} {reply.text()[:500]}"
    nb = reply.json()["content"]
    assert "rubric" not in json.dumps(nb), "the released notebook carries the instructors' rubrics"
    filled = 0
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell["source"], filled = answers[meta["grade_id"]], filled + 1
    assert filled == len(answers), f"found {filled} of the {len(answers)} answer cells in the released notebook"
    xsrf = next(c["value"] for c in context.cookies() if c["name"] == "_xsrf" and c["path"].startswith(f"/user/{name}"))
    body = json.dumps({"type": "notebook", "format": "json", "content": nb})
    reply = context.request.put(url, data=body, headers={"Content-Type": "application/json", "X-XSRFToken": xsrf})
    assert reply.ok, f"PUT {url}: {reply.status} {reply.text()[:500]}"


def _answers_of(name):
    solved = {**examples.answers(NAME, quick=True), **written_answers(EXERCISE.nb)}  # the examples' short training recipe
    return examples.with_bug(solved, "coupling", *INVERSE_BUG) if name == BUGGY else solved


def _fetch_and_open(page, course_hub, name):
    """Assignments tab: Fetch the exercise, put the answers in, open its notebook from the tab, wait for its kernel."""
    with explained(page, f"{name} fetches {NAME} in the Assignments tab"):
        _nbgrader_menu(page, "Assignment List")
        _row(page, "released", NAME).locator("button", has_text="Fetch").click()
        fetched = _row(page, "fetched", NAME)
        fetched.wait_for(timeout=WAIT_MS)
    _write_answers(page, course_hub, name, _answers_of(name))
    with explained(page, f"{name} opens {NAME}.ipynb from the Assignments tab"):
        fetched.locator(".assignment-notebooks-link").click()
        fetched.locator(".nested_list_item a").get_by_text(NAME, exact=True).click()
        page.wait_for_function(lab.KERNEL_IDLE_JS, timeout=WAIT_MS, polling=250)


def _start_validate(page):
    page.locator("jp-button.validate-button").click()


def _validate_result(page, name):
    """Wait for Validate's dialog; ('success' or 'error', its text); a screenshot of it."""
    dialog = page.locator(".nbgrader-SuccessDialog, .nbgrader-ErrorDialog")
    with explained(page, f"{name}'s Validate"):
        dialog.wait_for(timeout=VALIDATE_TIMEOUT_S * 1000)
    kind = "success" if "nbgrader-SuccessDialog" in dialog.get_attribute("class") else "error"
    text = dialog.locator("#validation-message").inner_text()
    if kind == "error":  # the message, below the failing cell's source
        dialog.locator(".jp-RenderedText").last.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / f"{name}-1-validate.png")
    page.locator(".jp-Dialog button.jp-Dialog-button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")
    return kind, text


def _submit(page, name, count):
    """Click Submit in the Assignments tab; wait until the tab lists count submissions; the time it was clicked."""
    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    clicked = datetime.now(UTC)
    with explained(page, f"{name} submits ({count})"):
        _row(page, "fetched", NAME).locator("button", has_text="Submit").click()
        page.locator("#submitted_assignments_list .nested_list_item").nth(count - 1).wait_for(timeout=WAIT_MS)
    return clicked


# --- the term ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def students(browser, course_hub, request):
    """Every student fetched, answered, validated and submitted (the late one twice); (pages, validations, due)."""
    started = time.monotonic()
    pages = _log_in_all(browser, course_hub, STUDENTS)
    for name, page in pages.items():
        _fetch_and_open(page, course_hub, name)
    for page in pages.values():  # the three Validates run at once, as in a class
        _start_validate(page)
    validations = {name: _validate_result(page, name) for name, page in pages.items()}
    for name, page in pages.items():
        _submit(page, name, 1)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)  # after every first submission
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1.0)
    resubmitted = _submit(pages[LATE], LATE, 2)
    assert resubmitted > due
    for name, page in pages.items():
        page.screenshot(path=ARTIFACTS / f"{name}-2-assignments-submitted.png")
    _note(request, f"students log in, fetch, validate and submit: {time.monotonic() - started:.1f} s")
    return pages, validations, due


def test_validate_says_success_for_correct_work_and_names_the_failing_inverse_test(students):
    _, validations, _ = students
    for name, (kind, text) in validations.items():
        if name == BUGGY:
            assert kind == "error" and INVERSE_FAILURE.search(text), f"{name}: {kind}: {text[:2000]}"
            assert text.count("The following cell failed") == 1, f"{name}: more than the inverse's test failed:\n{text[:3000]}"
        else:
            assert (kind, text.strip()) == ("success", SUCCESS), f"{name}: {kind}: {text[:2000]}"


def test_the_exchange_holds_each_submission_under_its_own_unix_user(students):
    inbound = hub.EXCHANGE / hub.COURSE_ID / "inbound"
    names = sorted(path.name.split("+")[0] for path in inbound.iterdir())
    assert names == sorted([*STUDENTS, LATE]), names


def as_instructor(command, cwd, timeout=600):
    """Run command as the instructor's own Unix user (not root); its output; AssertionError with it if it fails."""
    done = subprocess.run(hub.as_user(hub.INSTRUCTOR, command), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed ({done.returncode}):\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    return done.stdout + done.stderr


def grade(course, due):
    """Grade the collected submissions into the course directory as the instructor; the grader's output."""
    if GRADER == "nbgrader":  # nbgrader's own tools: a late submission scores 0 there, and its feedback says so
        as_instructor(["nbgrader", "db", "assignment", "add", NAME, f"--duedate={due:%Y-%m-%d %H:%M:%S} UTC"], course)
        out = as_instructor(["nbgrader", "autograde", NAME, "--LateSubmissionPlugin.penalty_method=zero"], course, GRADE_TIMEOUT_S)
        return out + as_instructor(["nbgrader", "generate_feedback", NAME], course)
    grading = Path(course).parent / "grading"
    deadlines = grading / "DEADLINES.csv"
    hub.write_as(hub.INSTRUCTOR, deadlines, f"student,due,penalty,cap,grace,reason\n*,{due.isoformat()},{PENALTY},,,\n")
    tooling, python = hub.tooling_dir(), hub.VENV / "bin" / "python"
    usage = as_instructor([python, "-m", "autograder", "grade", "--help"], tooling)
    assert "--course" in usage, "the grader has no --course option yet (HUB_TEST_GRADER=nbgrader tests the hub with nbgrader's tools)"
    command = [python, "-m", "autograder", "grade", course / "submitted", "--course", course, "--assignment", NAME,
               "--out", grading / NAME, "--deadlines", deadlines, "--workers", "2", "--quiet"]  # fmt: skip
    return as_instructor(command, tooling, GRADE_TIMEOUT_S)


@pytest.fixture(scope="module")
def graded(students, request):
    """collect, grade, release_feedback, each as the instructor; (the grader's output, the feedback files released)."""
    started, course = time.monotonic(), hub.course_dir()
    as_instructor(["nbgrader", "collect", "--update", NAME], course)
    output = grade(course, students[2])
    _note(request, f"grading ({GRADER}): {time.monotonic() - started:.1f} s")
    for name in STUDENTS:
        feedback = course / "feedback" / name / NAME
        for needed in (f"{NAME}.html", "timestamp.txt", "submission_secret.txt"):  # what release_feedback reads
            assert (feedback / needed).is_file(), f"no {feedback / needed} after grading: release_feedback needs it\n{output[-3000:]}"
        assert (course / "autograded" / name / NAME / f"{NAME}.ipynb").is_file(), f"no autograded notebook of {name} for formgrader"
    as_instructor(["nbgrader", "release_feedback", NAME], course)
    released = sorted((hub.EXCHANGE / hub.COURSE_ID / "feedback").glob("*.html"))
    (ARTIFACTS / "grader-output.txt").write_text(output)
    return output, released


def test_the_instructor_grades_as_their_own_user_with_the_kernels_fully_isolated(graded):
    output, released = graded
    assert len(released) == len(STUDENTS), f"release_feedback put {len(released)} pages into the exchange: {released}"
    if GRADER == "autograder":
        assert re.search(r"^isolation: full", output, re.M), f"the kernels were not fully confined:\n{output[-3000:]}"


@pytest.fixture(scope="module")
def feedback_pages(students, graded):
    """Each student clicks Fetch Feedback, then (view feedback), and opens the page; name -> the page's text."""
    pages, texts = students[0], {}
    for name, page in pages.items():
        with explained(page, f"{name} fetches and opens the feedback"):
            page.locator(".lm-TabBar-tab", has_text="Assignments").click()
            _row(page, "submitted", NAME).locator("button", has_text="Fetch Feedback").click()
            page.get_by_text("(view feedback)").wait_for(timeout=WAIT_MS)
            page.screenshot(path=ARTIFACTS / f"{name}-3-assignments-feedback.png")
            page.get_by_text("(view feedback)").click()  # the file browser goes to the feedback's folder
            page.locator(".jp-DirListing-item", has_text=f"{NAME}.html").dblclick()
            body = page.frame_locator(".jp-HTMLViewer iframe").last.locator("body")  # JupyterLab's HTML viewer
            body.get_by_text(re.compile(r"Score:")).first.wait_for(timeout=WAIT_MS)
            texts[name] = body.inner_text()
            page.screenshot(path=ARTIFACTS / f"{name}-4-feedback-page.png")
            (ARTIFACTS / f"{name}-4-feedback-page.txt").write_text(texts[name])
            failure = body.get_by_text(INVERSE_FAILURE)
            if failure.count():  # the failing test's message, further down the page
                failure.first.scroll_into_view_if_needed()
                page.screenshot(path=ARTIFACTS / f"{name}-5-feedback-failure.png")
    return texts


def _score(text):
    """The page's first 'Score: x / y' (the total, in nbgrader's page and in ours)."""
    found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
    assert found, f"no score on the feedback page:\n{text[:1500]}"
    return float(found[1]), float(found[2])


def expected_score(name):
    """Written answers await a person (0 so far); the buggy student loses the inverse's test; the late one the penalty
    (ours: 10% of the maximum per started day; nbgrader's `zero` policy: everything)."""
    tests = dict(EXERCISE.tests)
    if name == BUGGY:
        return EXERCISE.auto_max_score - tests["test_coupling_inverse"]
    if name == LATE:
        return 0.0 if GRADER == "nbgrader" else EXERCISE.auto_max_score - 0.1 * EXERCISE.max_score
    return EXERCISE.auto_max_score


def test_each_student_sees_their_own_score_and_their_own_failing_test(feedback_pages):
    for name, text in feedback_pages.items():
        shown, expected = _score(text)[0], expected_score(name)
        assert math.isclose(shown, expected, abs_tol=0.01), f"{name}: {shown} on the page, {expected} expected"
        assert _score(text)[1] == EXERCISE.max_score, f"{name}: {_score(text)}"
        failed = bool(INVERSE_FAILURE.search(text))
        assert failed == (name == BUGGY), f"{name}'s page {'lacks' if name == BUGGY else 'shows'} the inverse's failure"
        if GRADER == "autograder":
            assert f"feedback for {name}" in text, f"{name} was shown another student's page:\n{text[:500]}"


def test_the_late_student_sees_the_lateness_and_nobody_else_does(feedback_pages):
    late_words = re.compile(r"late by|Late submission penalty")
    for name, text in feedback_pages.items():
        assert bool(late_words.search(text)) == (name == LATE), f"{name}'s page: {text[:1500]}"


def test_formgrader_shows_the_written_answers_awaiting_manual_grading(browser, course_hub, graded):
    page = _log_in_all(browser, course_hub, [hub.INSTRUCTOR])[hub.INSTRUCTOR]
    reply = page.context.request.get(f"{_base(course_hub, hub.INSTRUCTOR)}/formgrader")
    assert "frame-ancestors 'self'" in reply.headers.get("content-security-policy", ""), reply.headers
    with explained(page, "formgrader's Manual Grading view in the instructor's JupyterLab"):
        _nbgrader_menu(page, "Formgrader")
        frame = page.frame_locator("iframe").last  # formgrader's panel: blank if the CSP forbids the frame
        frame.get_by_role("link", name="Manual Grading").first.click()
        frame.locator("th", has_text="Assignment ID").wait_for(timeout=WAIT_MS)
        frame.get_by_role("link", name=NAME, exact=True).click()  # the assignment
        frame.locator("th", has_text="Notebook ID").wait_for(timeout=WAIT_MS)
        frame.get_by_role("link", name=NAME, exact=True).click()  # its notebook
        frame.locator("td", has_text=f"Submission #{len(STUDENTS)}").wait_for(timeout=WAIT_MS)
        frame.get_by_role("button", name="Show All Names").click()  # who is who, for the screenshot
        frame.locator("td", has_text=BUGGY).wait_for(timeout=WAIT_MS)
        page.screenshot(path=ARTIFACTS / "instructor-formgrader-manual-grading.png")
        rows = frame.locator("tbody tr")
        awaiting = frame.locator("tbody tr td:nth-child(7) .glyphicon-ok")  # the "Needs Manual Grade?" column
        assert (rows.count(), awaiting.count()) == (len(STUDENTS), len(STUDENTS)), frame.locator("table").inner_text()


def as_student(name, *args, timeout=600):
    """nbgrader, run as the student's own Unix user in their home, with the hub's configuration; its output."""
    home = Path(pwd.getpwnam(name).pw_dir)
    done = subprocess.run(hub.as_user(name, [hub.VENV / "bin" / "python", "-m", "nbgrader", *args]), cwd=home,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert done.returncode == 0, f"nbgrader {' '.join(args)} as {name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return home


def test_a_plain_nbgrader_assignment_is_released_graded_and_its_feedback_fetched(course_hub, graded, request):
    """nbgrader's own example assignment (ps1: two notebooks, an image, a task cell), released with hub.sh release; a
    student fetches it, puts in hacker's answers and submits (nbgrader's commands, as the Assignments tab runs them); the
    instructor collects, grades with grade --course and releases the feedback; the student fetches a page per
    notebook with their score: hacker's 3 of 13, as nbgrader's own autograde gives them (tests/system/test_nbgrader_parity.py)."""
    if GRADER != "autograder":
        pytest.skip("the grader's own path")
    started, student, course = time.monotonic(), STUDENTS[0], hub.course_dir()
    example = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
    _hub_sh("release", example / "source" / "ps1")
    home = as_student(student, "fetch_assignment", "ps1")
    hacker = example / "submitted" / "hacker" / "ps1"
    for notebook in ("problem1", "problem2"):
        hub.write_as(student, home / "ps1" / f"{notebook}.ipynb", (hacker / f"{notebook}.ipynb").read_text())
    as_student(student, "submit", "ps1")
    as_instructor(["nbgrader", "collect", "ps1"], course)
    tooling, python = hub.tooling_dir(), hub.VENV / "bin" / "python"
    out = Path(course).parent / "grading" / "ps1"
    as_instructor([python, "-m", "autograder", "grade", "--course", course, "--assignment", "ps1", "--out", out, "--quiet"], tooling, 600)
    as_instructor(["nbgrader", "release_feedback", "ps1"], course)
    as_student(student, "fetch_feedback", "ps1")
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (home / "ps1" / "feedback").glob("*/*.html")}
    _note(request, f"a plain nbgrader assignment, released, submitted, graded and its feedback fetched: {time.monotonic() - started:.1f} s")
    assert sorted(pages) == ["problem1", "problem2"], pages.keys()
    assert all(f"feedback for {student}" in text and "Score: <b>3 / 13</b>" in text for text in pages.values())


def test_down_purge_leaves_no_process_account_folder_or_port_behind(course_hub, browser, request):
    started = time.monotonic()
    _hub_sh("down", "--purge")
    _note(request, f"hub.sh down --purge: {time.monotonic() - started:.1f} s")
    assert not hub.pids_of(course_hub["uids"]), [hub.command_line(pid) for pid in hub.pids_of(course_hub["uids"])]
    assert not hub.alive(course_hub["pid"]), "JupyterHub still runs"
    assert not hub.course_accounts(), hub.course_accounts()
    for account in course_hub["accounts"]:
        assert not Path("/home", account["name"]).exists(), f"the home of {account['name']} is still there"
    assert not (hub.EXCHANGE / hub.COURSE_ID).exists() and not hub.STATE.exists()
    for label, port in course_hub["ports"].items():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on the {label} port {port}"
