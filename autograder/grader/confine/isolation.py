"""Which confinement this host allows, measured once per run through the kernel launcher itself.

`probe` runs the launcher (autograder/kernel/launcher.py) as a real kernel would be run, with a command that reports what it can
see: its network interfaces, the processes in /proc, its uid, and which of the paths it must not see exist.
The run's `Isolation` follows from that report, never from assumptions:

- full: bubblewrap made the namespaces: the course, OUT, the submissions, $HOME and /tmp are out of reach
  (`hidden files`), only a loopback of its own (`no network`), its own PID namespace (`own processes`);
  as root, the kernel also runs as a throwaway uid (`own uid`).
- partial: namespaces refused (no bwrap, a container without CAP_SYS_ADMIN, AUTOGRADER_DENY_NAMESPACES=1).
  As root the kernel still runs as a throwaway uid, and the course, OUT and the submissions are closed to
  other users (chmod o=); as an ordinary user, only the OS limits remain.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import KERNEL

SANDBOX = KERNEL / "launcher.py"  # run as a script, never imported
FULL = ("hidden files", "no network", "own processes")
FACTS = """
import json, os, socket, sys
print(json.dumps({
    "uid": os.getuid(),
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
    "processes": sum(name.isdigit() for name in os.listdir("/proc")) if os.path.isdir("/proc") else -1,
    "visible": [path for path in sys.argv[1:] if os.path.exists(path)],
}))
"""


@dataclass
class Isolation:
    """What confines this run's kernels: bwrap (None: namespaces refused), uids (root), what holds, what is missing."""

    bwrap: str | None = None
    uids: list = field(default_factory=list)
    held: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    why: str = ""

    @property
    def level(self) -> str:
        return "partial" if self.missing else "full"

    def describe(self) -> str:
        """One line for the summary and each record, e.g. 'partial: missing no network, …'."""
        if not self.missing:
            return "full: " + ", ".join(self.held)
        kept = f"; kept: {', '.join(self.held)}" if self.held else ""
        return f"partial: missing {', '.join(self.missing)} ({self.why}){kept}"


def python_paths() -> list[str]:
    """The Python installation the kernel needs, and nothing around it (a .venv inside the course: the .venv only)."""
    return sorted({os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)})


def kernel_python() -> str:
    """The kernel's interpreter by a path that keeps its venv (the venv's bin/python, not the symlink's target)."""
    return os.path.join(os.path.realpath(sys.prefix), "bin", os.path.basename(sys.executable))


def launcher_argv(job: Any, ipc: Any, memory: int, uid: int | None, bwrap: str | None, hide: Iterable, parent: int) -> list[str]:
    """The launcher's command line for a kernel whose scratch folders are job and ipc; the kernel command follows."""
    argv = [sys.executable, str(SANDBOX), "--memory", str(memory), "--parent", str(parent), "--nproc", "256"]
    if uid is not None:
        argv += ["--uid", str(uid), "--own", str(job), "--own", str(ipc)]
    if bwrap:
        argv += ["--bwrap", bwrap, "--shm", str(job / "shm")]
        argv += [a for p in python_paths() for a in ("--ro", p)]
        argv += ["--rw", str(job), "--rw", str(ipc)]
        argv += [a for p in hide for a in ("--hide", p)]
    return argv + ["--"]


def _facts(job, ipc, uid, bwrap, hide, secrets):
    """Run the facts command through the launcher; (facts dict or None, last line of its error output)."""
    for sub in ("shm", "tmp"):
        (job / sub).mkdir(parents=True, exist_ok=True)
    ipc.mkdir(parents=True, exist_ok=True)
    argv = launcher_argv(job, ipc, 2**30, uid, bwrap, hide, os.getpid()) + [kernel_python(), "-I", "-c", FACTS, *secrets]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if os.environ.get("AUTOGRADER_DENY_NAMESPACES"):
        env["AUTOGRADER_DENY_NAMESPACES"] = os.environ["AUTOGRADER_DENY_NAMESPACES"]
    try:
        done = subprocess.run(argv, cwd=job, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None, "the probe timed out"
    lines = (done.stderr or "").strip().splitlines()
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), lines[-1] if lines else ""
    except (ValueError, IndexError):
        return None, lines[-1] if lines else f"exit status {done.returncode}"


def _held_in_namespaces(facts):
    held = []
    if not facts["visible"]:
        held.append("hidden files")
    if facts["interfaces"] == ["lo"]:
        held.append("no network")
    if 0 < facts["processes"] <= 3:
        held.append("own processes")
    return held


def measure(scratch: Path, uids: list[int], hide: list[str], secrets: list[str], private: list[str]) -> Isolation:
    """Measure the confinement the launcher achieves here, falling back where namespaces are refused.

    secrets: existing paths the kernel must not see; private: the course, OUT and the submissions, closed to
    other users when, as root without namespaces, the kernel can run as the throwaway uid.
    """
    uid = uids[0] if uids else None
    job, ipc = scratch / "probe" / "job", scratch / "probe" / "ipc"
    bwrap = shutil.which("bwrap")
    why = "bwrap is not installed: install the bubblewrap package"
    if bwrap:
        facts, why = _facts(job, ipc, uid, bwrap, hide, secrets)
        if facts is not None:
            held = _held_in_namespaces(facts) + (["own uid"] if uid is not None and facts["uid"] == uid else [])
            missing = [p for p in FULL if p not in held]
            return Isolation(bwrap, list(uids), held, missing, "bwrap ran, but this did not hold" if missing else "")
    if uid is None:
        return Isolation(None, [], [], list(FULL), why)
    facts, trouble = _facts(job, ipc, uid, None, hide, secrets)
    if facts is None or facts["uid"] != uid:
        return Isolation(None, [], [], list(FULL), f"{why}; the kernel runs as root: uid {uid} could not start Python ({trouble})")
    closed = close_to_others(private, python_paths())
    held = ["own uid"] + ([f"{len(closed)} paths of the course, OUT and the submissions closed to other users"] if closed else [])
    return Isolation(None, list(uids), held, list(FULL), why)


def close_to_others(paths: Iterable[str], keep: Iterable[str]) -> list[str]:
    """chmod o= on each path, or, where a kept path (the Python installation) lies inside it, o=x on it and o= on
    its other entries, recursively. Used as root without namespaces, where the kernel runs as another uid."""
    closed = []
    for path in {os.path.realpath(p) for p in paths if os.path.exists(p)}:
        closed += _close(path, [os.path.realpath(k) for k in keep])
    return sorted(closed)


def _close(path, keep):
    inner = [k for k in keep if k == path or k.startswith(path.rstrip("/") + "/")]
    if path in keep or os.path.islink(path):
        return []
    mode = os.stat(path).st_mode & 0o7777
    if not inner:
        os.chmod(path, mode & ~0o007)
        return [path]
    os.chmod(path, (mode & ~0o007) | 0o001)  # others may pass through, to the Python installation only
    closed = []
    for entry in os.scandir(path):
        closed += _close(entry.path, inner)
    return closed
