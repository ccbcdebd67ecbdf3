"""An ordinary (non-root) user who grades, for the tests that run as root and check the non-root path.

The test user gets a world-readable copy of the course and a virtual environment of Debian's /usr/bin/python3.11
(this machine's default Python lies under /root, closed to other users), with the pinned packages that grading
needs. The environment is kept in /var/tmp while requirements.txt is unchanged: about two minutes to build once.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from conftest import REPO

USER = "autograder-test"
SYSTEM_PYTHON = "/usr/bin/python3.11"
VENV = Path("/var/tmp/autograder-test-venv")
NOT_FOR_GRADING = ("playwright", "ruff", "pytest", "coverage")  # the browser test, lint, tests and coverage run as root only


def ensure_user():
    """The test user (a system account without a home or a login shell); its uid."""
    if subprocess.run(["id", "-u", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    return int(subprocess.run(["id", "-u", USER], capture_output=True, text=True, check=True).stdout)


def _requirements():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#") and not line.startswith(NOT_FOR_GRADING)]


def ensure_venv():
    """A world-readable venv of Debian's Python with the grading packages; its python."""
    wanted = hashlib.sha256("\n".join([SYSTEM_PYTHON, *_requirements()]).encode()).hexdigest()
    stamp = VENV / ".installed"
    if not (stamp.is_file() and stamp.read_text() == wanted):
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *_requirements()], check=True)
        subprocess.run(["chmod", "-R", "a+rX", str(VENV)], check=True)
        stamp.write_text(wanted)
    return VENV / "bin" / "python"


def course_copy(dest):
    """The course (the autograder package, with its master, and the data) in dest, readable by everybody."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "autograder", dest / "autograder", ignore=ignore)
    shutil.copytree(REPO / "data", dest / "data", ignore=ignore)
    subprocess.run(["chmod", "-R", "a+rX", str(dest)], check=True)
    return dest


def give(path, uid):
    """path (a folder) and everything in it to uid."""
    for folder, _, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid)


def runuser(command):
    """command, to be run as the test user (runuser keeps no privilege: a plain uid switch)."""
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", USER, "--", *command]
