"""The stray processes that hostile submissions and probes start (`sleep MARK.n`), found by their exact command line.

A substring of any argument is not enough: while the browser tests ran on the other worker, a Chromium command line
held the sandbox probes' mark among its random handles, and the stray check counted eight Chromium processes."""

import os

import psutil


def is_stray(cmdline, mark):
    """True for `sleep MARK.n` (any path to sleep), the only processes the banks and probes start to outlive a run."""
    return len(cmdline or []) == 2 and os.path.basename(cmdline[0]) == "sleep" and cmdline[1].startswith(f"{mark}.")


def stray_processes(mark):
    return [p for p in psutil.process_iter(["cmdline"]) if is_stray(p.info["cmdline"], mark)]
