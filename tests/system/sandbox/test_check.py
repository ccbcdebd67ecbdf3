"""`python -m autograder check NOTEBOOK`: a notebook's visible tests only, in a fresh kernel, with Jupyter's messages.

What check prints for each test is compared with what the same notebook shows when nbclient runs it as Jupyter
does (each test cell's printed lines and its error), for every exercise's bundled examples. Hidden-test code and
hidden messages never reach its output: a bug that only hidden tests catch passes, as Validate passes it.
"""

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from bank_entries import load_bank
from conftest import REPO
from nbclient import NotebookClient
from ordinary_user import course_copy, ensure_user, ensure_venv, give, runuser

from autograder.cli import main as cli
from autograder.course.build import generated_paths
from autograder.course.examples import EXAMPLE_NAMES, EXAMPLES, filled
from autograder.course.examples import answers as example_answers
from autograder.grader.core.masters import load_notebook, master_paths, notebook_named
from autograder.grader.core.record import TestResult
from autograder.grader.pipeline.answers import extract, read_cells, redact_hidden
from autograder.grader.pipeline.assemble import assemble_graded
from autograder.grader.pipeline.execute import stage_data
from autograder.grader.pipeline.score import Outcome
from autograder.grader.runs.check import AFTER_TESTS, BLANK, CellProgress, Checked, exit_status, passed_all, report, visible_exercise
from autograder.notebooks import BEGIN_HIDDEN, END_HIDDEN, grade_id, is_test, solution_notebook

TINY = REPO / "tests" / "fixtures" / "tiny_master.py"
TAIL = REPO / "tests" / "fixtures" / "tiny_tail_master.py"  # a training-like answer, a written answer, a cell after the tests
TAIL_BUGS = {  # the tail master's training answer: tests pass but the cell after the tests fails; it stops half-way
    "after": ("    history.append(scaled(float(x)))", "    history.append(scaled(float(x)))\nhistory[-1] = str(history[-1])"),
    "earlier": ("    history.append(scaled(float(x)))", "    history.append(scaled(float(x)))\n    assert x < 1, 'no third'"),
}
TINY_BUGS = {  # the tiny master's visible test checks scaled(1.0) == 3.0, its hidden one scaled(-2.0) == -6.0
    "visible": ("return SCALE * x", "return SCALE * x + 1.0"),
    "hidden": ("return SCALE * x", "return x + 2.0"),
    "syntax": ("def scaled(x):", "def scaled(x)"),
}
EXERCISES = [p.stem for p in master_paths()]
RESULT_LINE = re.compile(r"^(PASSED|FAILED)  (\S+) \(")
STRING = re.compile(r"""(["'])((?:(?!\1)[^\\\n]|\\.)*)\1""")  # a one-line string literal: (quote, body)


def _check(notebook, *options, env=None, cwd=REPO, python=sys.executable, user=False, timeout=600):
    """`python -m autograder check NOTEBOOK OPTIONS...` in a subprocess: (exit code, stdout, stderr)."""
    command = [str(python), "-m", "autograder", "check", str(notebook), *options]
    command = runuser(command) if user else command
    environment = {**os.environ, **(env or {})} if not user else {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def results_in(stdout):
    """grade_id -> (PASSED or FAILED, the lines printed under it, unindented) from check's output."""
    results, current = {}, None
    for line in stdout.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            current = results[match.group(2)] = (match.group(1), [])
        elif current and line.startswith("    "):
            current[1].append(line[4:])
        else:
            current = None
    return results


def _tiny_notebook(folder, name, bug=None, test_source=None, master=TINY, written=None):
    """The tiny exercise solved, with a bug (TINY_BUGS, or TAIL_BUGS for the tail master) in its answer, its test cell
    edited, and its written answer replaced, if given."""
    nb = solution_notebook(load_notebook(master).nb)
    for cell in nb.cells:
        if bug and grade_id(cell) in ("scaled", "train"):
            cell.source = cell.source.replace(*(TAIL_BUGS if master == TAIL else TINY_BUGS)[bug])
        if test_source is not None and grade_id(cell) == "test_scaled":
            cell.source = test_source
        if written is not None and grade_id(cell) == "why_linear":
            cell.source = written
    path = folder / f"{name}.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def _hidden_part(source):
    """The lines of source inside its hidden blocks."""
    kept, inside = [], False
    for line in source.splitlines():
        if line.strip() in (BEGIN_HIDDEN, END_HIDDEN):
            inside = line.strip() == BEGIN_HIDDEN
        elif inside:
            kept.append(line)
    return "\n".join(kept)


def _hidden_texts(exercise):
    """The hidden blocks' code lines that no released cell also holds, and the text of their messages (string literals,
    f-string fields cut out) that the visible part of the same cell does not also hold: none of it may appear in
    check's output."""
    lines, texts = set(), set()
    released = "\n".join(redact_hidden(c.source) for c in exercise.nb.cells)  # what any student sees is not hidden
    for cell in (c for c in exercise.nb.cells if is_test(c)):
        visible, hidden = redact_hidden(cell.source), _hidden_part(cell.source)
        lines |= {line.strip() for line in hidden.splitlines() if len(line.strip()) >= 20 and line.strip() not in released}
        for literal in (match.group(2) for match in STRING.finditer(hidden)):
            pieces = (piece.strip() for piece in re.split(r"\{[^}]*\}", literal))
            texts |= {piece for piece in pieces if len(piece) >= 15 and piece not in visible}
    return lines, texts


# --- what check runs: the released test cells, nothing hidden (no kernel) ---


@pytest.mark.parametrize("name", EXERCISES)
def test_check_runs_exactly_the_test_cells_the_released_notebook_shows(name):
    exercise = notebook_named(name)
    released = nbformat.read(generated_paths(name)["student"], as_version=4)
    shown = {grade_id(c): c.source.strip() for c in released.cells if is_test(c)}
    checked = {grade_id(c): c.source.strip() for c in visible_exercise(exercise).nb.cells if is_test(c)}
    assert checked == shown
    assert any(BEGIN_HIDDEN in c.source for c in exercise.nb.cells if is_test(c)), "the master has hidden tests to remove"
    assert exercise.nb.cells == notebook_named(name).nb.cells, "the exercise itself is left as it was"


@pytest.mark.parametrize("name", EXERCISES)
def test_no_hidden_line_reaches_the_notebook_check_executes(name):
    exercise = notebook_named(name)
    solved = nbformat.writes(solution_notebook(exercise.nb)).encode()
    graded = assemble_graded(visible_exercise(exercise), extract(read_cells(solved), exercise))
    executed = "\n".join(c.source for c in graded.nb.cells)
    lines, texts = _hidden_texts(exercise)
    assert lines and texts, "the master's hidden blocks have code and messages to look for"
    assert "HIDDEN TESTS" not in executed
    assert not [line for line in lines if line in executed]
    assert not [text for text in texts if text in executed]


def test_check_assembles_the_cells_after_the_last_test_and_grade_does_not():
    exercise = load_notebook(TAIL)
    extracted = extract(read_cells(nbformat.writes(solution_notebook(exercise.nb)).encode()), exercise)
    graded = {}
    for tail in (False, True):
        graded[tail] = [c.metadata.get("autograder", {}).get("grade_id") for c in assemble_graded(exercise, extracted, tail=tail).nb.cells]
    assert "plot_history" in graded[True] and "plot_history" not in graded[False]
    # the grader's own cells around a given one (grade_id None) come with it
    assert [g for g in graded[True] if g and g != "plot_history"] == [g for g in graded[False] if g]


# --- what check prints (no kernel: a synthetic run) ---


def _synthetic_checked():
    tokens = ["[autograder visible test_a 1234]", "[autograder passed test_a 5678]"]
    cells = []
    for gid, outputs in {
        "test_a": [nbformat.v4.new_output("stream", name="stdout", text=f"a looks right\n{tokens[0]}\n{tokens[1]}\n")],
        "test_b": [
            nbformat.v4.new_output("stream", name="stdout", text="trying b\n"),
            nbformat.v4.new_output("error", ename="AssertionError", evalue="b is off by 2\nsecond line", traceback=[]),
        ],
    }.items():
        cell = nbformat.v4.new_code_cell("")
        cell.metadata["autograder"], cell.outputs = {"kind": "test", "grade_id": gid, "status": "ok"}, outputs
        cells.append(cell)
    answer = nbformat.v4.new_code_cell("")
    answer.metadata["autograder"] = {"kind": "answer", "grade_id": "b_answer"}
    answer.outputs = [nbformat.v4.new_output("error", ename="SyntaxError", evalue="invalid syntax", traceback=[])]
    tests = [TestResult("test_a", 1.0, 1.0, "", True), TestResult("test_b", 0.0, 2.0, "AssertionError: b is off by 2\nsecond line")]
    outcome = Outcome(nb=nbformat.v4.new_notebook(cells=[answer, *cells]), tests=tests)
    return Checked(outcome, tokens, ["answer cell 'c' is missing"], "partial: missing no network (why)")


def test_the_report_shows_printed_lines_and_messages_never_the_grader_s_tokens():
    checked = _synthetic_checked()
    text = report(checked)
    assert results_in(text) == {
        "test_a": ("PASSED", ["a looks right"]),
        "test_b": ("FAILED", ["trying b", "AssertionError: b is off by 2", "second line"]),
    }
    assert "[autograder" not in text
    assert "your answer 'b_answer': SyntaxError: invalid syntax" in text and "answer cell 'c' is missing" in text
    assert "visible checks passed: 1 of 3 points" in text and re.search(r"test_b\s+0 / 2", text)
    assert "hidden tests" in text and "isolation: partial: missing no network" in text
    assert not passed_all(checked)
    checked.outcome.tests[1].points = 2.0
    assert passed_all(checked)


def test_errors_after_the_last_test_and_blank_written_answers_are_reported_and_an_error_there_exits_1():
    checked = _synthetic_checked()
    checked.outcome.tests[1].points = 2.0
    assert exit_status(checked) == 0
    after = nbformat.v4.new_code_cell("")
    after.metadata["autograder"] = {"kind": "given", "grade_id": "plot_training"}
    after.outputs = [nbformat.v4.new_output("error", ename="TypeError", evalue="can't convert a tensor", traceback=[])]
    checked.outcome.nb.cells.append(after)
    checked.blank = ["written_log_det"]
    text = report(checked)
    assert f"{AFTER_TESTS}\n  the course's cell 'plot_training': TypeError: can't convert a tensor" in text
    assert f"{BLANK}\n  written_log_det" in text
    assert "errors in other cells:\n  your answer 'b_answer'" in text and "plot_training" not in text.split(AFTER_TESTS)[0]
    assert passed_all(checked) and exit_status(checked) == 1


def test_the_progress_line_names_each_code_cell_as_it_starts_and_rewrites_itself():
    stream = io.StringIO()
    cells = [nbformat.v4.new_markdown_cell("# part"), nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y")]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.cells[1].metadata["autograder"] = {"kind": "answer", "grade_id": "train"}
    nb.cells[2].metadata["autograder"] = {"kind": "test", "grade_id": "test_train"}
    progress = CellProgress(stream, tick=0.05)
    progress.expect(nb)
    assert stream.getvalue().startswith("\r\033[Kstarting a fresh kernel (0 s)")
    progress.start(0, nb.cells[0])  # nbclient announces Markdown cells too: no line of its own
    progress.start(1, nb.cells[1])
    progress.thread.join(0.2)  # a slow cell: its line is redrawn with the time it has run
    progress.start(2, nb.cells[2])
    progress.close()
    drawn = stream.getvalue().split("\r\033[K")
    assert "cell 1/2: your answer 'train' (0 s)" in drawn and "cell 2/2: test 'test_train' (0 s)" in drawn
    assert drawn.count("cell 1/2: your answer 'train' (0 s)") >= 2 and drawn[-1] == ""
    lines = {line.split(" (")[0] for line in drawn if line}
    assert lines == {"starting a fresh kernel", "cell 1/2: your answer 'train'", "cell 2/2: test 'test_train'"}


# --- nothing to check: exit code 2 (no kernel starts) ---


@pytest.mark.parametrize("name", EXERCISES)
def test_a_broken_example_is_not_a_notebook_exit_2(name, capsys):
    broken = EXAMPLES / name / f"{EXAMPLE_NAMES[name][2]}.ipynb"
    assert cli(["check", str(broken)]) == 2
    captured = capsys.readouterr()
    assert "not a notebook (corrupt JSON" in captured.err and "PASSED" not in captured.out + captured.err


def test_a_folder_a_missing_file_an_unknown_exercise_and_an_unknown_notebook_exit_2(tmp_path, capsys):
    blank = tmp_path / "blank.ipynb"
    blank.write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")
    correct = EXAMPLES / EXERCISES[0] / f"{EXAMPLE_NAMES[EXERCISES[0]][0]}.ipynb"
    cases = {
        "is a folder, not a notebook": [str(tmp_path)],
        "cannot read": [str(tmp_path / "nowhere.ipynb")],
        "no master named 'glow'": [str(correct), "--assignment", "glow"],
        "--assignment NAME": [str(blank)],
    }
    for expected, arguments in cases.items():
        assert cli(["check", *arguments]) == 2, expected
        assert expected in capsys.readouterr().err


# --- a tiny exercise, in a kernel: passed, visibly failed, hidden-only bug; without namespaces ---


@pytest.fixture(scope="module")
def tiny_checks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    runs = {
        "right": (_tiny_notebook(folder, "right"), {"AUTOGRADER_DENY_NAMESPACES": "1"}),
        "visible bug": (_tiny_notebook(folder, "visible", "visible"), None),
        "hidden bug": (_tiny_notebook(folder, "hidden", "hidden"), None),
        "edited": (_tiny_notebook(folder, "edited", "syntax", test_source="pass  # the student made the test pass"), None),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(_check, path, "--assignment", str(TINY), env=env) for name, (path, env) in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def test_a_right_notebook_passes_exit_0_even_without_namespaces(tiny_checks):
    code, out, err = tiny_checks["right"]
    assert code == 0, out + err
    assert results_in(out) == {"test_scaled": ("PASSED", [])}
    assert "visible checks passed: 2 of 2 points" in out and "hidden tests" in out
    assert "isolation: partial: missing" in out


def test_a_visible_failure_prints_the_test_s_message_exit_1(tiny_checks):
    code, out, err = tiny_checks["visible bug"]
    assert code == 1, out + err
    assert results_in(out) == {"test_scaled": ("FAILED", ["AssertionError: scaled(1.0) should be 3.0, got 4.0"])}
    assert re.search(r"test_scaled\s+0 / 2", out)
    assert ("isolation: full" if shutil.which("bwrap") else "isolation: partial") in out


def test_a_bug_only_hidden_tests_catch_passes_and_its_message_never_shows(tiny_checks):
    code, out, err = tiny_checks["hidden bug"]
    assert code == 0, out + err
    assert results_in(out) == {"test_scaled": ("PASSED", [])}
    assert "-6.0" not in out + err and "scaled(-2.0)" not in out + err  # what the grader says of it (test_any_exercise)


def test_the_released_test_cell_runs_whatever_the_student_made_of_it_and_their_errors_are_listed(tiny_checks):
    code, out, err = tiny_checks["edited"]
    assert code == 1, out + err
    status, lines = results_in(out)["test_scaled"]
    # the answer's error first (the test fails because of it), then the test's own
    assert status == "FAILED" and len(lines) == 1, out
    assert re.fullmatch(r"your cell 'scaled' stopped with SyntaxError: .*; NameError: name 'scaled' is not defined", lines[0]), lines
    assert re.search(r"errors in other cells:\n  your answer 'scaled': SyntaxError: ", out), out


@pytest.fixture(scope="module")
def tail_checks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tail")
    runs = {
        "right": _tiny_notebook(folder, "right", master=TAIL),
        "after": _tiny_notebook(folder, "after", "after", master=TAIL, written="YOUR ANSWER HERE"),
        "earlier": _tiny_notebook(folder, "earlier", "earlier", master=TAIL, written="  \n"),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(_check, path, "--assignment", str(TAIL)) for name, path in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def test_check_runs_the_cells_after_the_last_test_as_run_all_does(tail_checks):
    code, out, err = tail_checks["right"]
    assert code == 0, out + err
    assert results_in(out) == {"test_scaled": ("PASSED", []), "test_train": ("PASSED", [])}
    assert AFTER_TESTS not in out and BLANK not in out and "errors in other cells" not in out


def test_an_error_after_the_last_test_and_a_blank_written_answer_are_reported_exit_1(tail_checks):
    code, out, err = tail_checks["after"]
    assert code == 1, out + err
    assert results_in(out) == {"test_scaled": ("PASSED", []), "test_train": ("PASSED", [])}
    assert re.search(re.escape(AFTER_TESTS) + r"\n  the course's cell 'plot_history': ValueError: Unknown format code 'f'", out), out
    assert f"{BLANK}\n  why_linear\n" in out and "visible checks passed: 3 of 3 points" in out


def test_a_test_after_an_answer_that_stopped_names_that_error_first(tail_checks):
    code, out, err = tail_checks["earlier"]
    assert code == 1, out + err
    assert results_in(out)["test_train"] == (
        "FAILED",
        ["your cell 'train' stopped with AssertionError: no third; AssertionError: history should have 3 entries, got 2"],
    )
    assert results_in(out)["test_scaled"] == ("PASSED", [])
    assert "errors in other cells:\n  your answer 'train': AssertionError: no third" in out
    assert f"{BLANK}\n  why_linear\n" in out, "an emptied written answer is blank too"


@pytest.mark.slow  # the test user's venv and a sandboxed kernel as that user: minutes on a loaded machine (docs/benchmarks.md)
def test_an_ordinary_user_checks_a_notebook(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to create the test user (CI runs as root)")
    uid, python = ensure_user(), ensure_venv()
    root = Path(tempfile.mkdtemp(prefix="autograder-check-", dir="/var/tmp"))  # pytest's own folder is closed to others
    root.chmod(0o755)
    try:
        course = course_copy(root / "course")
        (course / "tests" / "fixtures").mkdir(parents=True)
        for name in ("tiny_master.py", "tiny_scale.txt"):
            shutil.copy(REPO / "tests" / "fixtures" / name, course / "tests" / "fixtures" / name)
        home = root / "home"
        home.mkdir()
        notebooks = [_tiny_notebook(home, "right"), _tiny_notebook(home, "visible", "visible")]
        subprocess.run(["chmod", "-R", "a+rX", str(course)], check=True)
        give(home, uid)
        master = str(course / "tests" / "fixtures" / "tiny_master.py")
        env = {"HOME": str(home)}
        done = [_check(nb, "--assignment", master, python=python, cwd=course, user=True, env=env) for nb in notebooks]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert done[0][0] == 0, done[0][1] + done[0][2]
    assert done[1][0] == 1 and "scaled(1.0) should be 3.0, got 4.0" in done[1][1], done[1][1] + done[1][2]
    assert ("isolation: full" if shutil.which("bwrap") else "isolation: partial") in done[0][1]


# --- the bundled examples, against Jupyter's own run of the same notebook ---


def jupyter_shows(notebook, exercise, folder):
    """grade_id -> (PASSED or FAILED, printed lines then the error line) of each test cell, when nbclient runs the
    notebook as Jupyter does (allow_errors: a failing cell does not stop the rest), with the data staged beside it."""
    nb = nbformat.read(notebook, as_version=4)
    stage_data(folder, exercise)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    shown = {}
    for cell in (c for c in nb.cells if is_test(c)):
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        shown[grade_id(cell)] = ("FAILED" if errors else "PASSED", text.splitlines() + "\n".join(errors).splitlines())
    return shown


def _without_numbers(results):
    """Results with every number masked: printed values that depend on the training run (a held-out NLL)."""
    return {gid: (status, [re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", line) for line in lines]) for gid, (status, lines) in results.items()}


EXAMPLE_CASES = [(name, kind) for name in EXERCISES for kind in (0, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("name, kind", EXAMPLE_CASES, ids=[f"{n}-{EXAMPLE_NAMES[n][k]}" for n, k in EXAMPLE_CASES])
def test_check_prints_what_jupyter_shows_for_each_bundled_example(name, kind, tmp_path):
    exercise = notebook_named(name)
    notebook = EXAMPLES / name / f"{EXAMPLE_NAMES[name][kind]}.ipynb"
    with ThreadPoolExecutor(1) as pool:  # check and Jupyter's run side by side
        checking = pool.submit(_check, notebook, "--quiet")
        shown = jupyter_shows(notebook, exercise, tmp_path)
        code, out, err = checking.result()
    printed = results_in(out)
    assert list(printed) == [gid for gid, _ in exercise.tests]
    failed = {gid for gid, (status, _) in shown.items() if status == "FAILED"}
    assert bool(failed) == (kind == 1), f"the {'buggy' if kind else 'correct'} example fails {sorted(failed)} in Jupyter"
    assert {gid: printed[gid] for gid in failed} == {gid: shown[gid] for gid in failed}, "the failing tests' messages"
    assert _without_numbers(printed) == _without_numbers(shown)
    assert code == (1 if failed else 0), out + err
    lines, texts = _hidden_texts(exercise)
    assert not [text for text in lines | texts if text in out + err]


@pytest.mark.slow
def test_a_bank_bug_only_hidden_tests_catch_passes_check_as_validate_would(tmp_path):
    bank = load_bank("realnvp")
    entry = next(e for _, e in sorted(bank.items()) if e.kind == "bug" and not e.caught_visibly)
    answers = {**entry.graded_answers(), "train": example_answers("realnvp", quick=True)["train"]}
    notebook = tmp_path / f"{entry.name}.ipynb"
    notebook.write_text(nbformat.writes(filled(answers, "realnvp")), encoding="utf-8")
    code, out, err = _check(notebook, "--quiet")
    assert code == 0, f"{entry.name}: {out}{err}"
    assert {status for status, _ in results_in(out).values()} == {"PASSED"}
    lines, texts = _hidden_texts(notebook_named("realnvp"))
    assert not [text for text in lines | texts if text in out + err]
    assert "hidden test failed" not in out
