"""Two graders on one machine never share a worker slot (and so never a kernel uid), and a dead one frees its slots."""

import os
import subprocess
import sys

import pytest

from autograder.slots import FIRST_SLOT, claim_slots, release

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="slots matter only as root: kernels then run as UID_BASE + slot")


@pytest.fixture(autouse=True)
def _from_slot_0(monkeypatch):
    monkeypatch.delenv(FIRST_SLOT, raising=False)  # each test has its own lock folder: no other grader in it


def test_two_graders_at_once_get_different_slots_and_a_released_slot_is_free_again(tmp_path):
    first, first_locks = claim_slots(2, tmp_path)
    second, second_locks = claim_slots(3, tmp_path)
    assert len(set(first) | set(second)) == 5
    release(first_locks)
    again, again_locks = claim_slots(2, tmp_path)
    assert again == first
    release(second_locks + again_locks)


def test_a_grader_killed_with_sigkill_leaves_no_slot_taken(tmp_path):
    script = f"import time, pathlib, autograder.slots as s; held = s.claim_slots(2, pathlib.Path({str(tmp_path)!r}))"
    holder = subprocess.Popen(
        [sys.executable, "-c", script + "; print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    taken, locks = claim_slots(1, tmp_path)
    assert taken == [2]
    holder.kill()
    holder.wait()
    release(locks)
    assert claim_slots(2, tmp_path)[0] == [0, 1]
