"""How a grading worker and the kernels it starts end together, on Linux: a worker dies when the grader dies,
adopts the orphans of its kernels (when no PID namespace of their own holds them) so that it can kill them, and
reaps them as it exits. The throwaway uids the kernels run as (as root) lie in one range, far from any account's."""

from __future__ import annotations

import ctypes
import os
import sys

import psutil

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SIGKILL = 9
# Far above the uids that distributions, systemd (DynamicUser: 61184-65519) and subordinate uid maps hand out,
# and below 2**31, where some tools take uids for negative numbers.
UID_BASE, UID_SPAN = 2_000_000_000, 10_000


def _prctl(option, value):
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies (Linux); exit now if the parent is already gone."""
    _prctl(PR_SET_PDEATHSIG, SIGKILL)
    if sys.platform.startswith("linux") and os.getppid() != parent:
        os._exit(1)


def become_subreaper() -> None:
    """Orphaned descendants (a kernel's daemons, when no PID namespace holds them) are re-parented to this process."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def reap_children(timeout: float = 5) -> None:
    """Wait for this process's children (orphans it adopted as a subreaper included) and reap them, for up to timeout
    seconds. A worker calls it as it exits: a kernel's process that died after its kill was checked would otherwise be
    a zombie handed to init, which reaps slowly on some hosts (the run would then seem to leave processes behind)."""
    try:
        psutil.wait_procs(psutil.Process().children(), timeout=timeout)
    except psutil.Error:
        pass
