"""What a grading run owns, and how it gives it all back even when killed with kill -9.

- `run_lock(out)`: one run per OUT at a time; a second `grade` on the same OUT is refused with a clear message.
- `run_scratch()`: a scratch folder unique to the run, locked while the run lives; a later run deletes the
  folders of dead runs only (their lock is free), never a live run's.
- `UidLease` (root): throwaway uids that no other live run holds, and no process uses, for the run's kernels.
How a worker and its kernels end with the grader: confine/processes.py.
Locks are `fcntl.flock` locks: the kernel releases them when their holder dies, however it dies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil

from autograder.grader.confine.processes import UID_BASE, UID_SPAN

LOCK_NAME = ".grading.lock"
SCRATCH_PREFIX = "autograder-"
# The kernels' Unix sockets lie in BASE/autograder-XXXXXXXX/worker-N/ipc/k-N: a socket path has at most 107 bytes.
MAX_BASE = 60


class BatchBusy(RuntimeError):
    """Another grading run holds OUT."""


def _try_lock(path, mode=0o600):
    """An open, exclusively flock-ed file descriptor for path, or None when another process holds the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    return fd


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold OUT for this run; BatchBusy if another run holds it (the holder's pid is in the message)."""
    path = Path(out) / LOCK_NAME
    fd = _try_lock(path, 0o644)
    if fd is None:
        holder = path.read_text(encoding="utf-8", errors="replace").strip() or "?"
        raise BatchBusy(
            f"another `python -m autograder grade` (pid {holder}) is grading into {out}: "
            "wait for it to finish (or stop it), or grade into another --out"
        )
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def sweep_dead_scratch(base: str | Path) -> None:
    """Delete the scratch folders that dead runs of this user left in base; a live run's lock keeps its folder."""
    for folder in Path(base).glob(f"{SCRATCH_PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.geteuid():
                continue
            fd = _try_lock(folder / LOCK_NAME) if (folder / LOCK_NAME).exists() else None
        except OSError:
            continue
        if fd is not None:
            shutil.rmtree(folder, ignore_errors=True)
            os.close(fd)


@contextlib.contextmanager
def run_scratch(base: str | Path | None = None) -> Iterator[Path]:
    """A scratch folder for this run alone, locked while the run lives and deleted at its end.

    The folder is made and locked under a name the sweep ignores, then renamed: a sweeping run never finds it
    unlocked. Mode 0711: a kernel's uid can reach its own job folder, not list the others.
    """
    base = Path(base or tempfile.gettempdir())
    if len(str(base)) > MAX_BASE and os.access("/tmp", os.W_OK):
        base = Path("/tmp")
    sweep_dead_scratch(base)
    staging = Path(tempfile.mkdtemp(prefix=f".{SCRATCH_PREFIX}new-", dir=base))
    fd = _try_lock(staging / LOCK_NAME)
    folder = base / staging.name.replace(f".{SCRATCH_PREFIX}new-", SCRATCH_PREFIX)
    os.rename(staging, folder)
    os.chmod(folder, 0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def _lease_folder():
    for base in ("/run/lock", "/run", tempfile.gettempdir()):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            folder = Path(base) / "autograder-uids"
            folder.mkdir(mode=0o700, exist_ok=True)
            return folder
    raise OSError("no folder for the uid leases")


def _uids_of_processes():
    """Every uid a live process runs as (real, effective or saved)."""
    used = set()
    for proc in psutil.process_iter(["uids"]):
        if proc.info["uids"]:
            used.update(proc.info["uids"])
    return used


def _is_account(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


class UidLease:
    """n throwaway uids, leased for the life of this process: no other live run and no process uses them."""

    def __init__(self, n, base=UID_BASE, span=UID_SPAN):
        self.uids, self._fds = [], []
        if n == 0:  # not root: the kernels run as the grader's user
            return
        folder, used = _lease_folder(), _uids_of_processes()
        for uid in range(base, base + span):
            if len(self.uids) == n:
                break
            if uid in used or _is_account(uid):  # a process of an older grader, or somebody's account: not ours
                continue
            fd = _try_lock(folder / f"{uid}.lock")
            if fd is None:
                continue
            self.uids.append(uid)
            self._fds.append(fd)
        if len(self.uids) < n:
            self.release()
            raise OSError(f"fewer than {n} free uids in {base}-{base + span - 1}")

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
