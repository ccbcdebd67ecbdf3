"""tests/helpers/session_guards.py holds: a test past its bound fails, named, and the others finish (on xdist's workers too); a
process a test leaves fails the session with its name; the bounds, faulthandler's backstop and the markers agree."""

import os
import subprocess
import sys
import tomllib

import psutil
from conftest import REPO
from session_guards import BACKSTOP_S, FAST_TIMEOUT_S, SESSION_VAR, SLOW_TIMEOUT_S, leftovers, timeout_for

TESTS = REPO / "tests" / "helpers"  # where session_guards.py lives


def _pytest(folder, source, *options):
    """pytest run on one test file (source) in folder, with the guards as its only plugin of ours: (exit code, output)."""
    (folder / "test_planted.py").write_text(source, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "session_guards", "-p", "no:cacheprovider", *options, "test_planted.py"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


HANGS = """
import time

def test_hangs():
    time.sleep(600)

def test_after_it():
    assert True
"""


def test_a_test_past_its_bound_fails_named_and_the_others_finish_on_xdist_workers(tmp_path):
    code, out = _pytest(tmp_path, HANGS, "-n", "1", "-o", "timeout=3", "-o", "timeout_method=signal")
    assert code == 1, out
    assert "FAILED test_planted.py::test_hangs" in out and "Timeout (>3.0s) from pytest-timeout" in out and "1 failed, 1 passed" in out


BY_MARKER = """
import time

import pytest

@pytest.mark.slow
def test_slow_takes_two_seconds():
    time.sleep(2)

def test_fast_takes_two_seconds():
    time.sleep(2)
"""


def test_a_slow_test_gets_the_slow_bound_and_an_unmarked_one_the_fast_bound(tmp_path):
    code, out = _pytest(tmp_path, BY_MARKER, "-o", "timeout=1", "-o", "timeout_method=signal")
    assert code == 1, out
    assert "FAILED test_planted.py::test_fast_takes_two_seconds" in out and "1 failed, 1 passed" in out, out


LEAVES = """
import subprocess

def test_leaves_a_process():
    subprocess.Popen(["sleep", "3600.4242"], start_new_session=True)
"""


def test_a_process_a_test_leaves_fails_the_session_with_its_name_and_is_killed(tmp_path):
    try:
        code, out = _pytest(tmp_path, LEAVES, "-n", "1")
        assert code == 1, out
        assert "processes left by the test session" in out and "sleep 3600.4242" in out and "1 passed" in out
        assert not _sleepers(), "the leftover is killed"
    finally:
        for process in _sleepers():
            process.kill()


def test_a_session_that_leaves_nothing_passes(tmp_path):
    code, out = _pytest(tmp_path, "def test_nothing():\n    pass\n", "-n", "1")
    assert code == 0 and "processes left" not in out, out


def _sleepers():
    return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "3600.4242"]]


def test_this_session_marks_its_processes_and_none_of_them_is_a_leftover_yet():
    assert os.environ.get(SESSION_VAR) and leftovers("no session has this value") == []


def test_each_marker_has_its_bound_and_faulthandler_comes_after_every_bound():
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["timeout"] == FAST_TIMEOUT_S < SLOW_TIMEOUT_S and options["timeout_method"] == "signal"
    assert options["faulthandler_timeout"] == SLOW_TIMEOUT_S + BACKSTOP_S
    assert timeout_for({"slow", "browser"}) == SLOW_TIMEOUT_S and timeout_for({"parametrize"}) is None
    assert timeout_for({"slow", "timeout"}) is None, "a test's own timeout mark wins"
