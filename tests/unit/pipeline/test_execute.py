"""pipeline/execute.py's bound on one run: a client that never notices its kernel is gone still ends at the wall
timeout (plus a grace), reported as a wall timeout, instead of keeping its grading worker forever."""

import asyncio
import time
from types import SimpleNamespace

from jupyter_client.kernelspec import KernelSpecManager

from autograder.grader.pipeline import execute


def _spin_in_a_callback(self, **kwargs):
    """What a client stuck on a dead kernel's sockets does: a callback of its event loop that runs again and again."""
    loop = asyncio.new_event_loop()

    def again():
        busy_until = time.monotonic() + 0.2
        while time.monotonic() < busy_until:  # the time is spent inside the callback, where a stop signal lands
            pass
        loop.call_soon(again)

    loop.call_soon(again)
    try:
        loop.run_forever()
    finally:
        loop.close()


def test_a_client_that_spins_past_the_wall_timeout_is_stopped_and_reported_as_a_wall_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(execute._Client, "execute", _spin_in_a_callback)
    monkeypatch.setattr(execute, "STUCK_GRACE_S", 1)
    killed = []
    sandbox = SimpleNamespace(
        kernelspec=lambda job: KernelSpecManager(),
        fresh_ipc=lambda: tmp_path,
        limits=execute.Limits(),
        on_cell=None,
        env=lambda job, token: {},
        kill_all=lambda pid, token: killed.append(token),
    )
    (tmp_path / "job" / "work").mkdir(parents=True)
    graded = SimpleNamespace(guard="_ag_test", key=b"key")
    nb = SimpleNamespace(cells=[])
    started = time.monotonic()
    stopped, why, timed_out = execute._run_once(nb, sandbox, tmp_path / "job", graded, deadline=time.monotonic() + 1)
    assert why == "wall timeout" and time.monotonic() - started < 30
    assert killed, "the kernel's processes are killed at the wall timeout"
