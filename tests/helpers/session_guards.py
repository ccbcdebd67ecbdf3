"""A suite that cannot hang and leaves nothing behind: each test's time bound by its marker, and the processes the
session leaves, found at its end (a pytest plugin: tests/conftest.py takes its hooks; `-p session_guards` loads it
alone, as tests/repo/test_session_guards.py does).

Time bounds: pytest-timeout fails a test that runs past its bound (its fixtures' setup and teardown included), names
it, prints every thread's stack, and the session goes on. The method is "signal" (pyproject.toml): xdist runs each
test in its worker's main thread, where SIGALRM interrupts the test's Python code, so the test fails and its fixtures
tear down (stopping their JupyterLab, kernels, browser); the "thread" method would end the whole worker with
os._exit, skip every teardown (leaving those processes behind), and make xdist start a new worker that computes its
module fixtures again. faulthandler_timeout is the backstop past every bound: if a test outlives its bound (its
Python code could not be interrupted, say a call into C that holds the GIL), faulthandler's own thread dumps every
stack a minute later, so that the log still says where it hangs.

Leftovers: when the session starts, its controller puts a value of its own in SESSION_VAR; its xdist workers and
everything they start with their environment inherit it (JupyterLab and its kernels, Chromium and Playwright's
driver, nbclient's kernels, the grader's subprocesses, SLURM's and the course hub's daemons), and /proc shows it in
each one's environment even after a double fork. After the workers have stopped, any process still holding the value
is a leftover: the session fails, naming each, and they are killed. The grader's sandboxed kernels get a fresh
environment by design: the sandbox kills them itself, and tests/helpers/strays.py finds what hostile submissions start.
"""

import os
import secrets

import psutil
import pytest

SESSION_VAR = "AUTOGRADER_TEST_SESSION"
# Each marker's bound, in seconds, about twice the longest test of that marker measured (docs/benchmarks.md, "The
# suite's groups and time bounds"), so that load does not fail a test and a hang still costs minutes, not the run:
FAST_TIMEOUT_S = 300  # pyproject.toml's `timeout`, for unmarked tests
SLOW_TIMEOUT_S = 1200  # the longest slow test is the planted-bug bank's module setup
BACKSTOP_S = 60  # faulthandler_timeout is the slow bound plus this
GRACE_S = 10  # a process of the session may take this long to exit after its test's teardown


def timeout_for(markers):
    """The bound of a test with these marker names, or None when it sets its own (a `timeout` mark) or is fast."""
    return None if "timeout" in markers else SLOW_TIMEOUT_S if "slow" in markers else None


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist: before any worker starts
        os.environ[SESSION_VAR] = secrets.token_hex(8)


def pytest_collection_modifyitems(config, items):
    for item in items:
        bound = timeout_for({mark.name for mark in item.iter_markers()})
        if bound is not None:
            item.add_marker(pytest.mark.timeout(bound))


def _environment(process):
    try:
        return process.environ()
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return {}


def leftovers(value):
    """The live processes whose environment holds SESSION_VAR=value, but this one."""
    found = []
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        if process.pid != os.getpid() and _environment(process).get(SESSION_VAR) == value:
            found.append(process)
    return found


def describe(process):
    command = " ".join(process.info.get("cmdline") or []) or process.info.get("name") or "?"
    return f"pid {process.pid}: {command[:200]}"


def pytest_terminal_summary(terminalreporter, config):
    """Called once xdist has stopped its workers (their teardown done), before the closing line."""
    value = os.environ.get(SESSION_VAR)
    if hasattr(config, "workerinput") or not value:
        return
    _, alive = psutil.wait_procs(leftovers(value), timeout=GRACE_S)
    if not alive:
        return
    terminalreporter.section("processes left by the test session", red=True)
    for process in alive:
        terminalreporter.write_line(describe(process), red=True)
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    terminalreporter.write_line(f"{len(alive)} process(es) outlived the tests that started them: the session fails (they are killed)")
    terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED
