"""Hostile submissions that try to get out of the sandbox, and what they report.

Each probe is a cell of the student's own, inserted after an answer cell of an otherwise correct notebook (the
master's answers, without training). It never raises: it prints one line `SANDBOX PROBE <name> <base64 JSON>`
saying what it could do, which the tests read back from the feedback page (short: outputs are cut at 2,000
characters there). The attempts:
  network    connect to a TCP server the test runs on 127.0.0.1; list the network interfaces and the netns
  read       open the master, the gradebook and a submission by absolute path; look for files in /tmp,
             $HOME, OUT, the submissions and the course
  write      create a file in OUT, OUT/records, the submissions, the course, $HOME and /tmp
  processes  list /proc; SIGTERM a process of the grader's user (a canary the test started); signal 0 the others
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
opened, files = [], []
for path in SECRETS:
    try:
        with open(path, "rb") as handle:
            opened.append(f"read {len(handle.read())} bytes")
    except OSError as error:
        opened.append(type(error).__name__)
# its own: the worker's scratch folder (the job, its sockets), the Python installation
mine = (os.path.dirname(os.path.dirname(os.getcwd())), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))
for top in FOLDERS:
    for folder, dirs, names in os.walk(top):
        if folder.startswith(mine):
            dirs[:] = []
            continue
        files += [os.path.join(folder, name) for name in names]
found = {"opened": opened, "files": len(files), "some files": [path[-80:] for path in files[:3]]}
"""

WRITE = """
import os
NAME = "write"
found = {"wrote": [], "refused": []}
for folder in FOLDERS:
    try:
        with open(os.path.join(folder, "pwned.txt"), "w") as handle:
            handle.write("pwned")
        found["wrote"].append(folder[-80:])
    except OSError as error:
        found["refused"].append(type(error).__name__)
"""

PROCESSES = """
import os, signal
NAME = "processes"
seen = {}
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                seen[int(name)] = handle.read().replace(b"\\0", b" ").decode(errors="replace")
        except OSError:
            seen[int(name)] = "?"
foreign = {pid: cmd for pid, cmd in seen.items() if "ipykernel_launcher" not in cmd and "bwrap" not in cmd}
try:
    os.kill(CANARY, signal.SIGTERM)
    canary = "killed"
except OSError as error:
    canary = type(error).__name__
signalled = 0
for pid in foreign:
    try:
        os.kill(pid, 0)  # permission to signal, nothing sent
        signalled += 1
    except OSError:
        pass
found = {"seen": len(seen), "foreign": len(foreign), "some foreign": [c[:60] for c in list(foreign.values())[:3]],
         "canary": canary, "could signal": signalled}
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
