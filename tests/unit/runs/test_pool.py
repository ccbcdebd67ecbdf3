"""runs/pool.py: a run interrupted while its workers grade (Ctrl-C, a test's time bound) ends at once, its workers
killed, instead of waiting for workers that may never return."""

import signal
import threading
import time
from types import SimpleNamespace

import psutil
import pytest

from autograder.grader.runs import pool


def _forever(*args):
    time.sleep(3600)


class _Interrupted(Exception):
    pass


def _interrupt(signum, frame):
    raise _Interrupted()


def test_an_interrupted_run_kills_its_workers_and_returns_at_once(monkeypatch):
    monkeypatch.setattr(pool, "init_worker", lambda context: None)
    monkeypatch.setattr(pool, "grade_submission", _forever)  # the forked workers inherit both
    options = SimpleNamespace(workers=2, limits=None, gradescope=False)
    isolation = SimpleNamespace(uids=[])
    helpers = (SimpleNamespace(start=lambda: None, put=lambda record: None), None)
    # SIGUSR2 stands for the interrupt (SIGALRM is pytest-timeout's)
    previous = signal.signal(signal.SIGUSR2, _interrupt)
    main = threading.get_ident()
    timer = threading.Timer(3, lambda: signal.pthread_kill(main, signal.SIGUSR2))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(_Interrupted):
            pool.run_pool(["ann", "bob"], "out", options, "scratch", [], isolation, helpers, None, None)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR2, previous)
    assert time.monotonic() - started < 15, "the run waited for its workers"
    _, alive = psutil.wait_procs(psutil.Process().children(recursive=True), timeout=5)
    assert not [p for p in alive if "python" in p.name()], "a worker outlived the interrupted run"
