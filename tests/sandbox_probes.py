"""Hostile submissions that try to get out of the sandbox, and what they report.

Each probe is a cell of the student's own, inserted after an answer cell of an otherwise correct notebook (the
master's answers, without training). It never raises: it prints one line `SANDBOX PROBE <name> <base64 JSON>`
saying what it could do, which the tests read back from the feedback page. The attempts:
  network    connect to a TCP server the test runs on 127.0.0.1; list the network interfaces and the netns
  read       open the master, the gradebook and a submission by absolute path; look for files in /tmp,
             $HOME, OUT, the submissions and the course
  write      create a file in OUT, OUT/records, the submissions, the course, $HOME and /tmp
  processes  list /proc; SIGTERM a process of the grader's user (a canary the test started); signal 0 the rest
  strays     leave processes behind: a daemon (double fork, new session), a new session, plain children
"""

import base64
import json
import re
from dataclasses import dataclass

from hostile_bank import _base, _with_extra

MARKER = "SANDBOX PROBE"
STRAY_MARK = "9734"  # `sleep 9734.x`: looked for after the run
CANARY_MARK = "9733.7"  # `sleep 9733.7`: the grader's user's process the probe tries to kill

_REPORT = f"""
import base64 as _b64, json as _json
print({MARKER!r}, NAME, _b64.b64encode(_json.dumps(found).encode()).decode())
"""

NETWORK = """
import os, socket
NAME = "network"
found = {"interfaces": sorted(name for _, name in socket.if_nameindex()), "netns": os.stat("/proc/self/ns/net").st_ino}
try:
    with socket.create_connection(("127.0.0.1", PORT), timeout=3) as connection:
        connection.sendall(b"escaped")
    found["connect"] = "connected"
except OSError as error:
    found["connect"] = type(error).__name__
"""

READ = """
import os, sys
NAME = "read"
found = {"opened": {}, "files": []}
for path in SECRETS:
    try:
        with open(path, "rb") as handle:
            found["opened"][path] = len(handle.read())
    except OSError as error:
        found["opened"][path] = type(error).__name__
# its own: the worker's scratch folder (the job, its sockets), the Python installation
mine = (os.path.dirname(os.path.dirname(os.getcwd())), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))
for top in FOLDERS:
    for folder, dirs, files in os.walk(top):
        if folder.startswith(mine):
            dirs[:] = []
            continue
        found["files"] += [os.path.join(folder, name) for name in files][:50]
"""

WRITE = """
import os
NAME = "write"
found = {"wrote": [], "refused": {}}
for folder in FOLDERS:
    try:
        with open(os.path.join(folder, "pwned.txt"), "w") as handle:
            handle.write("pwned")
        found["wrote"].append(folder)
    except OSError as error:
        found["refused"][folder] = type(error).__name__
"""

PROCESSES = """
import os, signal
NAME = "processes"
found = {"seen": {}, "signalled": {}}
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                found["seen"][name] = handle.read().replace(b"\\0", b" ").decode(errors="replace")[:300]
        except OSError:
            found["seen"][name] = "?"
for pid in [CANARY, *map(int, found["seen"])]:
    if pid in (os.getpid(), 1):
        continue
    try:
        os.kill(pid, signal.SIGTERM if pid == CANARY else 0)
        found["signalled"][str(pid)] = "sent"
    except OSError as error:
        found["signalled"][str(pid)] = type(error).__name__
"""

STRAYS = f"""
import os, subprocess
NAME = "strays"
subprocess.Popen(["sleep", "{STRAY_MARK}.1"], start_new_session=True)
if os.fork() == 0:  # a daemon: double fork, new session
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{STRAY_MARK}.2"])
    os._exit(0)
children = [subprocess.Popen(["sleep", "{STRAY_MARK}.3"]) for _ in range(3)]
found = {{"started": 5}}
"""


@dataclass
class Targets:
    """What the probes aim at: the test's TCP port and canary, the paths that must stay out of reach."""

    port: int
    canary: int
    secrets: list  # files: the master, the gradebook, a submission
    folders: list  # folders: OUT, the submissions, the course, $HOME, /tmp


def _cell(code, **values):
    header = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    return header + code + _REPORT


def hostile_notebook(targets):
    """One notebook, every probe in a cell of its own after a different answer; the answers are correct."""
    nb = _with_extra(_base(), "masks", _cell(NETWORK, PORT=targets.port))
    cells = [
        ("coupling", _cell(READ, SECRETS=targets.secrets, FOLDERS=targets.folders)),
        ("realnvp", _cell(WRITE, FOLDERS=targets.folders)),
        ("nll", _cell(PROCESSES, CANARY=targets.canary)),
        ("train", _cell(STRAYS)),
    ]
    import nbformat

    notebook = nbformat.reads(nb.decode(), as_version=4)
    for after, source in cells:
        index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nbformat.writes(notebook).encode()


def reports(feedback_html):
    """{probe name: what it reported} from a feedback page."""
    found = re.findall(rf"{MARKER} (\w+) ([A-Za-z0-9+/=]+)", feedback_html)
    return {name: json.loads(base64.b64decode(data)) for name, data in found}
