"""A course hub on one Linux machine, without Docker: JupyterHub, real Unix accounts for an instructor and the
students, nbgrader's exchange, and every exercise released by the instructor.

    bash scripts/hub.sh install                                   # the hub's venv and its proxy; a no-op once done
    bash scripts/hub.sh up [--students N] [--port P] [--ip IP]    # accounts, course, releases, hub; prints the accounts
    bash scripts/hub.sh status
    bash scripts/hub.sh down [--purge]                            # stop every process; --purge: remove all `up` made

`scripts/hub.sh` runs this module as root with Debian's Python: the standard library only, since it runs before the
hub's venv exists. Everything it installs lives in /opt/realnvp-hub: venv/ (the hub's and the users' Python,
world-readable, rebuilt only when a requirement file changes), proxy/ (configurable-http-proxy from npm) and state/
(the hub's configuration, database, log, pids and the accounts' passwords; root only). docs/hub.md says why each
choice was made and how the same course runs on a real hub.
"""

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HUB_ROOT = Path("/opt/realnvp-hub")
VENV, PROXY, STATE = HUB_ROOT / "venv", HUB_ROOT / "proxy", HUB_ROOT / "state"
STATE_FILE = STATE / "state.json"
SYSTEM_PYTHON = "/usr/bin/python3.11"  # Debian's, readable by every user (the default python lies under /root)
CHP_VERSION = "5.3.0"  # configurable-http-proxy, from npm
NOT_FOR_THE_HUB = ("playwright", "ruff", "pytest")  # test-only tools of requirements.txt
PREFIX = "rnvp-"  # clashes with no real account nor with the tests' autograder-test
INSTRUCTOR = f"{PREFIX}instructor"
MARKER = "realnvp-hub course account"  # the accounts' GECOS field: how `down --purge` finds them, even without state
COURSE_ID = "realnvp-course"
EXCHANGE = Path("/usr/local/share/nbgrader/exchange")  # nbgrader's default Exchange.root
MASTERS = REPO / "autograder" / "master"  # every exercise is released: one master each (grader/exercise.py)
SYSTEM_CONFIG = VENV / "etc" / "jupyter"  # the venv's own config level: every server and nbgrader command of the hub reads it
TEMPLATES = Path(__file__).resolve().parent / "hub_config"
VALIDATE_CELL_TIMEOUT = 180  # as the course directory's (hub_course.py): Validate runs the training cell
ROLES = {  # nbgrader's lab and server extensions per role, as nbgrader's demos enable them
    "instructor": (("formgrader", "create-assignment", "assignment-list", "course-list"), ("formgrader", "assignment_list", "course_list")),
    "student": (("assignment-list",), ("assignment_list",)),
}
LAB_EXTENSIONS = ("formgrader", "create-assignment", "assignment-list", "course-list")  # off for all, on per role
SERVER_EXTENSIONS = ("formgrader", "assignment_list", "course_list")  # validate_assignment stays on for everybody


class HubError(RuntimeError):
    """A step of the hub failed; the message says which and what to do."""


# --- running things ---------------------------------------------------------------------------------------------


def run(command, **kwargs):
    """Run command; HubError with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise HubError(f"{' '.join(map(str, command))} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def user_env(user):
    """The environment a command of user gets: theirs, not root's (no root PATH under /root, no JUPYTER_* of root)."""
    home = pwd.getpwnam(user).pw_dir
    return [f"HOME={home}", f"USER={user}", f"LOGNAME={user}", f"PATH={user_path()}", "LANG=C.UTF-8"]


def as_user(user, command):
    """command, to be run as user with user_env (runuser: a plain uid switch that keeps no privilege)."""
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--", "env", "-i", *user_env(user), *map(str, command)]


def user_path():
    return f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin"


def require_root():
    if os.geteuid() != 0:
        raise HubError("the course hub needs root (it creates Unix users and runs each server as its user): run it with sudo")


# --- install: the venv and the proxy ----------------------------------------------------------------------------


def requirements():
    """The hub venv's requirement lines: the project's, less the test-only tools, and the hub's own."""
    lines = (REPO / "requirements.txt").read_text().splitlines() + (REPO / "requirements-hub.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#") and not line.startswith(NOT_FOR_THE_HUB)]


def ensure_venv():
    """A world-readable venv of Debian's Python with requirements(), rebuilt when they change; its python."""
    wanted = hashlib.sha256("\n".join([SYSTEM_PYTHON, *requirements()]).encode()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.is_file() and stamp.read_text() == wanted:
        return VENV / "bin" / "python"
    print(f"== building the hub's venv in {VENV} (torch, JupyterLab, nbgrader, JupyterHub: a few minutes, once)", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    HUB_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    run([SYSTEM_PYTHON, "-m", "venv", str(VENV)])
    run([VENV / "bin" / "python", "-m", "pip", "install", "--quiet", *requirements()])
    run(["chmod", "-R", "a+rX", str(VENV)])
    stamp.write_text(wanted)
    return VENV / "bin" / "python"


def proxy_command():
    return PROXY / "node_modules" / ".bin" / "configurable-http-proxy"


def ensure_proxy():
    """configurable-http-proxy CHP_VERSION from npm, in the hub's own folder (not npm's global one)."""
    package = PROXY / "node_modules" / "configurable-http-proxy" / "package.json"
    if package.is_file() and json.loads(package.read_text()).get("version") == CHP_VERSION and proxy_command().exists():
        return proxy_command()
    node = shutil.which("node") and run(["node", "--version"]).strip()
    if not shutil.which("npm") or not node or int(node.lstrip("v").split(".")[0]) < 20:
        raise HubError(f"configurable-http-proxy {CHP_VERSION} needs Node.js 20 or newer and npm (node: {node or 'missing'})")
    print(f"== installing configurable-http-proxy {CHP_VERSION} with npm into {PROXY}", flush=True)
    PROXY.mkdir(mode=0o755, parents=True, exist_ok=True)
    run(["npm", "install", "--prefix", str(PROXY), "--no-audit", "--no-fund", "--loglevel=error", f"configurable-http-proxy@{CHP_VERSION}"])
    return proxy_command()


def install():
    require_root()
    ensure_venv()
    ensure_proxy()


# --- accounts ---------------------------------------------------------------------------------------------------


def course_accounts():
    """The names of every account a hub made on this machine (found by MARKER in their GECOS field)."""
    return sorted(entry.pw_name for entry in pwd.getpwall() if entry.pw_gecos == MARKER)


def create_account(name):
    """A Unix user with a private home and a login shell (JupyterLab's terminal uses it); its password."""
    run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", MARKER, "--user-group", name])
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)  # students must not read each other's work, nor the instructor's course
    password = secrets.token_urlsafe(9)
    run(["chpasswd"], input=f"{name}:{password}\n")
    return password


def write_as(user, path, text):
    """Write path (and its missing parents under the user's home) owned by user."""
    entry = pwd.getpwnam(user)
    path, home = Path(path), Path(entry.pw_dir)
    missing = [p for p in reversed(path.parents) if home in (p, *p.parents) and not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for made in [*missing, path]:
        os.chown(made, entry.pw_uid, entry.pw_gid)


def enable_extensions(user, role):
    """Turn on the role's nbgrader extensions in the user's own Jupyter config (what `jupyter labextension enable
    --level=user` and `jupyter server extension enable --user` write), over the venv's config that turns them off."""
    lab, server = ROLES[role]
    jupyter = Path(pwd.getpwnam(user).pw_dir) / ".jupyter"
    page = {"disabledExtensions": {f"@jupyter/nbgrader:{name}": False for name in lab}}
    write_as(user, jupyter / "labconfig" / "page_config.json", json.dumps(page, indent=2))
    extensions = {f"nbgrader.server_extensions.{name}": True for name in server}
    write_as(user, jupyter / "jupyter_server_config.json", json.dumps({"ServerApp": {"jpserver_extensions": extensions}}, indent=2))


# --- the Jupyter and nbgrader configuration every user shares ----------------------------------------------------

STUDENT_NBGRADER_CONFIG = '''"""nbgrader's settings for every user of the course hub (written by autograder/course/hub.py)."""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Execute.timeout = {timeout}  # Validate runs the training cell: nbgrader's default of 30 s per cell cuts it short
'''
# No news or update checks (the machine may be offline, and the toast covers the page), for every user of the venv.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def system_config_files():
    """path -> text of each file `up` writes into the venv's shared config (and `down --purge` removes)."""
    off_lab = {"disabledExtensions": {f"@jupyter/nbgrader:{name}": True for name in LAB_EXTENSIONS}}
    off_server = {"ServerApp": {"jpserver_extensions": {f"nbgrader.server_extensions.{name}": False for name in SERVER_EXTENSIONS}}}
    nbgrader_config = STUDENT_NBGRADER_CONFIG.format(course_id=COURSE_ID, exchange=str(EXCHANGE), timeout=VALIDATE_CELL_TIMEOUT)
    return {
        SYSTEM_CONFIG / "labconfig" / "page_config.json": json.dumps(off_lab, indent=2),
        SYSTEM_CONFIG / "jupyter_server_config.json": json.dumps(off_server, indent=2),
        SYSTEM_CONFIG / "jupyter_server_config.py": (TEMPLATES / "jupyter_server_config.py").read_text(),
        SYSTEM_CONFIG / "nbgrader_config.py": nbgrader_config,
        VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json": json.dumps(LAB_OVERRIDES, indent=2),
    }


def write_system_config():
    for path, text in system_config_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)


def ensure_exchange():
    """nbgrader's exchange root, world-writable (0777, as nbgrader requires); the folders this call made, deepest
    first. Course folders are left to the instructor's release: nbgrader refuses one its caller does not own."""
    made = [str(p) for p in [EXCHANGE, *EXCHANGE.parents] if not p.exists()]
    EXCHANGE.mkdir(parents=True, exist_ok=True)
    EXCHANGE.chmod(0o777)
    return made


# --- the course -------------------------------------------------------------------------------------------------


def course_dir(instructor=INSTRUCTOR):
    return Path(pwd.getpwnam(instructor).pw_dir) / COURSE_ID


def tooling_dir(instructor=INSTRUCTOR):
    """The instructor's private copy of the course tooling (masters, nbgrader sources, data): what they grade with."""
    return Path(pwd.getpwnam(instructor).pw_dir) / "realnvp-grader"


def copy_tooling(instructor):
    """The autograder package (masters and hidden tests included) and the data, into the instructor's home only."""
    dest = tooling_dir(instructor)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("autograder", "data"):
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore, dirs_exist_ok=True)
    entry = pwd.getpwnam(instructor)
    run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(dest)])


def released_exercises():
    """The name of every master, as grader/exercise.py's master_paths() finds them (this module has no nbgrader)."""
    return [path.stem for path in sorted(MASTERS.glob("*.py"))]


def set_up_course(instructor, students):
    """The instructor's course directory, the students in its gradebook, every exercise released, all as the instructor."""
    copy_tooling(instructor)
    command = [VENV / "bin" / "python", "-m", "autograder.course.hub_course", course_dir(instructor), "--course-id", COURSE_ID,
               "--students", ",".join(students), "--release", *released_exercises()]  # fmt: skip
    print(run(as_user(instructor, command), cwd=tooling_dir(instructor)), end="", flush=True)


def release_source(folder, instructor=INSTRUCTOR):
    """Release an nbgrader source folder (any assignment, as Create Assignment writes it) to the hub's students: copied
    into the instructor's course as source/<its name>/, then generated and released by the instructor."""
    folder = Path(folder).resolve()
    if not folder.is_dir() or not any(folder.glob("*.ipynb")):
        raise HubError(f"{folder}: not an nbgrader source folder (no notebook in it)")
    try:
        entry = pwd.getpwnam(instructor)
    except KeyError:
        raise HubError("no course on this machine: run `bash scripts/hub.sh up` first") from None
    target = course_dir(instructor) / "source" / folder.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(target)])
    command = [VENV / "bin" / "python", "-m", "autograder.course.hub_course", course_dir(instructor), "--course-id", COURSE_ID,
               "--release-source", folder.name]  # fmt: skip
    print(run(as_user(instructor, command), cwd=tooling_dir(instructor)), end="", flush=True)


# --- the hub process --------------------------------------------------------------------------------------------


def free_port(ip, wanted=None):
    """wanted if it is free on ip (HubError if not), else a port the kernel picks."""
    with socket.socket() as probe:
        # as the servers bind: a port whose last connections wait out TCP's TIME_WAIT is free for them
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, wanted or 0))
        except OSError as error:
            raise HubError(f"port {wanted} on {ip} is taken ({error}): pick another with --port") from None
        return probe.getsockname()[1]


def write_hub_config(ip, port, students):
    """state/jupyterhub_config.py (the template) and state/hub.json (this hub's values); the hub's public URL."""
    settings = {
        "bind_url": f"http://{ip}:{port}", "hub_port": free_port("127.0.0.1"), "proxy_api_port": free_port("127.0.0.1"),
        "proxy": str(proxy_command()), "singleuser": str(VENV / "bin" / "jupyterhub-singleuser"), "user_path": user_path(),
        "instructor": INSTRUCTOR, "students": students,
    }  # fmt: skip
    (STATE / "hub.json").write_text(json.dumps(settings, indent=2))
    shutil.copy(TEMPLATES / "jupyterhub_config.py", STATE / "jupyterhub_config.py")
    host = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
    return f"http://{host}:{port}"


def start_hub():
    """Start JupyterHub (which starts the proxy) in the state folder, detached, its output in state/jupyterhub.log."""
    env = {"PATH": f"{VENV / 'bin'}:{proxy_command().parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
    with open(STATE / "jupyterhub.log", "ab") as log:
        hub = subprocess.Popen(
            [VENV / "bin" / "jupyterhub", "-f", STATE / "jupyterhub_config.py"],
            cwd=STATE, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return hub.pid


def log_tail(path=STATE / "jupyterhub.log", chars=4000):
    try:
        return Path(path).read_text(errors="replace")[-chars:]
    except OSError:
        return f"(no log at {path})"


def wait_until_up(url, pid, timeout=120):
    """Wait until the hub answers through its proxy; HubError with the log's end if it dies or does not answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise HubError(f"JupyterHub exited while starting; the end of {STATE / 'jupyterhub.log'}:\n{log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api", timeout=3) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise HubError(f"JupyterHub did not answer {url}/hub/api within {timeout} s; the end of its log:\n{log_tail()}")


# --- state ------------------------------------------------------------------------------------------------------


def read_state():
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def save_state(state):
    STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))
    STATE_FILE.chmod(0o600)  # the passwords


# --- processes --------------------------------------------------------------------------------------------------


def alive(pid):
    """True if pid runs (a zombie, dead but not yet reaped by its parent, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids_of(uids):
    """Every live process whose real, effective or saved uid is in uids."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        line = next((line for line in status.splitlines() if line.startswith("Uid:")), "Uid:")
        if {int(uid) for uid in line.split()[1:4]} & set(uids) and alive(entry):
            found.append(int(entry))
    return found


def stop(pids, grace=15):
    """SIGTERM each pid, then SIGKILL what is left after grace seconds; the pids that still run (none, normally)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        pids = [pid for pid in pids if alive(pid)]
        if not pids:
            break
    return pids


def hub_pids(state):
    """The hub's and the proxy's pids, where those processes still run what they ran."""
    found = []
    if state.get("pid") and "jupyterhub" in command_line(state["pid"]):
        found.append(state["pid"])
    try:
        proxy = int((STATE / "jupyterhub-proxy.pid").read_text().strip())
    except (OSError, ValueError):
        proxy = None
    if proxy and "configurable-http-proxy" in command_line(proxy):
        found.append(proxy)
    return found


def account_uids(names):
    uids = []
    for name in names:
        try:
            uids.append(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    return uids


# --- the commands -----------------------------------------------------------------------------------------------


def up(students=3, port=None, ip="127.0.0.1"):
    """Make the accounts, the course and the releases, start the hub; the state (url, accounts)."""
    require_root()
    state = read_state()
    if hub_pids(state):
        raise HubError(f"the course hub already runs at {state.get('url')}: `bash scripts/hub.sh down` first")
    if state.get("accounts"):
        return restart(state)
    if course_accounts():
        raise HubError(f"accounts of an earlier hub exist ({', '.join(course_accounts())}): `bash scripts/hub.sh down --purge` first")
    install()
    public_port = free_port(ip, port or (8000 if _free(ip, 8000) else None))
    state = {"accounts": [], "exchange_made": ensure_exchange(), "ip": ip, "port": public_port}
    save_state(state)
    for name, role in [(INSTRUCTOR, "instructor"), *((f"{PREFIX}s{i}", "student") for i in range(1, students + 1))]:
        state["accounts"].append({"name": name, "role": role, "password": create_account(name)})
        save_state(state)  # at once: a failure later must leave `down --purge` able to remove this account
        enable_extensions(name, role)
    write_system_config()
    set_up_course(INSTRUCTOR, [a["name"] for a in state["accounts"] if a["role"] == "student"])
    return launch(state)


def _free(ip, port):
    try:
        free_port(ip, port)
        return True
    except HubError:
        return False


def launch(state):
    """Write the hub's configuration for the accounts in state, start it, wait until it answers."""
    students = [a["name"] for a in state["accounts"] if a["role"] == "student"]
    state["url"] = write_hub_config(state["ip"], state["port"], students)
    state["pid"] = start_hub()
    save_state(state)
    wait_until_up(state["url"], state["pid"])
    return state


def restart(state):
    """Start the hub again on the accounts and course an earlier `up` made (after `down` without --purge)."""
    print("== starting the hub again on the accounts and the course of the last `up` (`down --purge` makes a new one)")
    free_port(state["ip"], state["port"])
    return launch(state)


def down(purge=False):
    """Stop the hub, the proxy and every process of the course's accounts; with purge, remove what `up` made."""
    require_root()
    state = read_state()
    names = sorted({a["name"] for a in state.get("accounts", [])} | set(course_accounts()))
    left = stop(hub_pids(state), grace=30)  # JupyterHub stops the users' servers, then the proxy, on SIGTERM
    left += stop(pids_of(account_uids(names)))  # what it did not: kernels, terminals, a grading run
    if left:
        raise HubError(f"processes {left} would not die: {[command_line(pid) for pid in left]}")
    state.pop("pid", None)
    if not purge:
        if state:
            save_state(state)
        print("== the course hub is stopped (accounts and course kept: `up` starts it again, `down --purge` removes them)")
        return
    for name in names:
        run(["userdel", "--force", "--remove", name], env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    shutil.rmtree(EXCHANGE / COURSE_ID, ignore_errors=True)
    for folder in map(Path, state.get("exchange_made", [])):  # only if empty: another course may use the exchange
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    for path in system_config_files():
        path.unlink(missing_ok=True)
    shutil.rmtree(STATE, ignore_errors=True)
    print(f"== the course hub is stopped and removed: accounts {', '.join(names) or '(none)'}, their homes, "
          f"{EXCHANGE / COURSE_ID} and {STATE} (the venv and the proxy are kept for the next `up`)")  # fmt: skip


def status():
    """Print whether the hub runs, where, its accounts and how many processes each runs; 0 if it runs, 3 if not."""
    state = read_state()
    running = hub_pids(state)
    print(f"course hub: {'running at ' + state.get('url', '?') if running else 'not running'}" + (f" (pids {running})" if running else ""))
    for account in state.get("accounts", []):
        print(f"  {account['role']:<10} {account['name']:<18} {len(pids_of(account_uids([account['name']])))} processes")
    leftovers = sorted(set(course_accounts()) - {a["name"] for a in state.get("accounts", [])})
    if leftovers:
        print(f"  accounts of an earlier hub, not in its state: {', '.join(leftovers)} (`down --purge` removes them)")
    return 0 if running else 3


def print_accounts(state):
    print(f"\nThe course hub runs at {state['url']}  (log: {STATE / 'jupyterhub.log'})")
    released = ", ".join(released_exercises())
    print(f"course {COURSE_ID}: {released} released into {EXCHANGE / COURSE_ID}; the instructor's course: {course_dir()}")
    for account in state["accounts"]:
        print(f"  {account['role']:<10} {account['name']:<18} password {account['password']}")
    print(f"(also in {STATE_FILE}, root only)  Stop it: bash scripts/hub.sh down [--purge]")


def parser():
    top = argparse.ArgumentParser(prog="bash scripts/hub.sh", description="The course on a JupyterHub on this machine (as root).")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install the hub's venv and configurable-http-proxy (a no-op when done)")
    up_cmd = commands.add_parser("up", help="make the accounts and the course, release every exercise, start the hub")
    up_cmd.add_argument("--students", type=int, default=3, help="number of student accounts (default 3)")
    up_cmd.add_argument("--port", type=int, default=None, help="the hub's port (default 8000 if free, else a free one)")
    up_cmd.add_argument("--ip", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; see docs/hub.md before 0.0.0.0)")
    down_cmd = commands.add_parser("down", help="stop the hub and every process of its accounts")
    down_cmd.add_argument("--purge", action="store_true", help="also remove the accounts, their homes, the course's exchange and the state")
    commands.add_parser("status", help="is the hub running, where, with which accounts")
    release_cmd = commands.add_parser("release", help="release an nbgrader source folder (any assignment) to the hub's students")
    release_cmd.add_argument("folder", help="the assignment's source folder, as nbgrader's Create Assignment writes it")
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "install":
            install()
        elif args.command == "up":
            print_accounts(up(args.students, args.port, args.ip))
        elif args.command == "down":
            down(args.purge)
        elif args.command == "release":
            release_source(args.folder)
        else:
            return status()
    except HubError as error:
        print(f"hub.sh {args.command}: {error}", file=sys.stderr)
        if args.command == "up":
            print("hub.sh up: what it made so far stays; `bash scripts/hub.sh down --purge` removes it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
