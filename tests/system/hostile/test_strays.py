"""tests/helpers/strays.py: the check for the processes that hostile submissions start and the batch tests look for
on the whole machine (one of this folder's group: tests/conftest.py)."""

import subprocess

from strays import is_stray, stray_processes


def test_the_stray_check_finds_sleep_strays_and_nothing_that_merely_mentions_the_mark():
    """The check the batch tests end with: a `sleep MARK.n` is found wherever it lives; a process that merely holds the
    digits, such as Chromium with its random `--field-trial-handle` (the browser tests may run on the other worker), is not."""
    mark = "9739"  # a mark no bank uses, so that the batch tests' own checks never see this process
    assert is_stray(["/usr/bin/sleep", f"{mark}.4"], mark) and is_stray(["sleep", f"{mark}.1"], mark)
    assert not is_stray(["/usr/lib/chromium/chromium", f"--field-trial-handle=3,i,1{mark}0,6"], mark)
    assert not is_stray(["sleep", f"1{mark}.1"], mark) and not is_stray(["python", "-c", f"sleep {mark}.1"], mark)
    assert not is_stray(None, mark) and not is_stray([], mark)
    sleeper = subprocess.Popen(["sleep", f"{mark}.5"])
    try:
        assert [p.pid for p in stray_processes(mark)] == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert stray_processes(mark) == []
