"""Kernel launcher: confine one student's kernel, then exec it. Standard library only (it runs before the kernel).

    python autograder/kernel/launcher.py --memory BYTES [--parent PID] [--nproc N] [--uid U] [--own PATH ...]
                                 [--bwrap BWRAP --ro PATH ... --rw PATH ... --hide PATH ... --shm PATH] -- KERNEL COMMAND

In order: a new session (the grader kills the process group); death with the grader's worker (--parent); when
root, --own paths handed to the unprivileged --uid; the OS limits (address space, file size, no core dumps).
Then, with --bwrap, the kernel runs under bubblewrap in its own mount, network, PID, IPC and UTS namespaces:
a read-only root that holds only the system folders, the Python installation (--ro) and its scratch folders
(--rw, read-write), each at its own path; a loopback of its own and nothing else; a PID namespace whose
processes all die with it. As an ordinary user bwrap also makes a user namespace (the host must allow
unprivileged ones); as root it needs none, and the kernel switches to --uid inside. In both modes the process
limit (--nproc) is set inside the sandbox, so that it counts the sandbox's processes only.
Without --bwrap (namespaces refused): when root, the process limit and the switch to --uid, then the kernel.

AUTOGRADER_DENY_NAMESPACES=1 in the environment makes the bwrap step fail as a host that refuses namespaces
does (EPERM): the grader's probe then takes its fallback, as it would in a locked-down container.
"""

import argparse
import ctypes
import os
import resource
import sys

FILE_SIZE_LIMIT = 256 * 2**20
DENY_ENV = "AUTOGRADER_DENY_NAMESPACES"
PR_SET_PDEATHSIG = 1
SIGKILL = 9
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the dynamic loader and Python read from /etc; the rest of /etc (users, hosts, keys) stays out.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives", "/etc/fonts")
# Run by the kernel's own Python inside the sandbox: the process limit, then (root) the switch to the uid.
INNER = (
    "import os, resource, sys\n"
    "nproc, uid = int(sys.argv[1]), int(sys.argv[2])\n"
    "if nproc:\n"
    "    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))\n"
    "if uid >= 0:\n"
    "    os.setgroups([])\n"
    "    os.setgid(uid)\n"
    "    os.setuid(uid)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


def die_with_parent(parent):
    """SIGKILL this process when the thread that started it dies (Linux): a grader killed by kill -9 leaves no kernel."""
    if not parent or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def give_to(uid, paths):
    """Hand paths (the scratch folders) to uid, recursively, so that the kernel can write them."""
    for path in paths:
        os.chown(path, uid, uid)
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(folder, name), uid, uid)


def limit(memory):
    """OS limits for this process and everything it starts."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def drop_to(uid):
    """Become uid (and gid uid) with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _ancestors(path):
    """The folders above path, outermost first, / excluded."""
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _system_binds():
    """The system folders, read-only, each as on the host (a folder, or a symlink such as /lib -> usr/lib)."""
    args = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args + ["--proc", "/proc", "--dev", "/dev"]


def _namespaces(as_root):
    """bwrap's options for the namespaces and the process's life."""
    args = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try"]
    if not as_root:  # an ordinary user needs a user namespace to make the others; root keeps its real uid switch
        args += ["--unshare-user", "--disable-userns"]
    # ipykernel exits when its parent looks like init: in a PID namespace it is (bwrap's pid 1). The namespace
    # dies with the grader anyway, so the kernel need not watch its parent.
    return args + ["--unsetenv", "JPY_PARENT_PID"]


def _mounts(ro, rw, covered):
    """The binds and covers, outermost first: a cover inside the Python installation goes over its bind, and a
    bind inside a cover (a .venv inside a hidden course) goes over the cover."""
    ops = [(p, ["--ro-bind", p, p]) for p in ro] + [(p, ["--bind", p, p]) for p in rw] + [(p, ["--tmpfs", p]) for p in covered]
    return [arg for _, op in sorted(ops, key=lambda item: item[0].rstrip("/").split("/")) for arg in op]


def bwrap_command(bwrap, ro, rw, hide, shm, as_root):
    """bwrap's command line: an allow-list root (system, ro, rw), with every hide path that falls inside it covered."""
    ro = sorted({os.path.realpath(p) for p in ro if os.path.exists(p)})
    rw = sorted({os.path.realpath(p) for p in rw})
    bound = [*SYSTEM_DIRS, *ro]
    covered = sorted({os.path.realpath(h) for h in hide if any(_inside(os.path.realpath(h), b) for b in bound)} - {"/"})
    args = [bwrap, *_namespaces(as_root), *_system_binds()]
    made = set(SYSTEM_DIRS)
    for path in ro + rw:
        for folder in _ancestors(path):
            if folder not in made and not any(_inside(folder, b) for b in bound + covered):
                args += ["--perms", "0755", "--dir", folder]  # bwrap would make them 0700: closed to the uid
                made.add(folder)
    args += _mounts(ro, rw, covered)
    if shm:  # on disk, not in memory
        args += ["--bind", shm, "/dev/shm"]
    for path in covered:
        args += ["--remount-ro", path]
    return args + ["--remount-ro", "/dev", "--remount-ro", "/"]


def inner_command(nproc, uid, command):
    """The command bwrap runs: the kernel's Python sets the process limit (and the uid), then execs the kernel."""
    return [command[0], "-I", "-c", INNER, str(nproc or 0), str(-1 if uid is None else uid), *command]


def parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", type=int, required=True, help="address-space limit in bytes")
    parser.add_argument("--parent", type=int, default=0, help="pid of the grader's worker: die with it")
    parser.add_argument("--nproc", type=int, default=0, help="process limit inside the sandbox (0: unchanged)")
    parser.add_argument("--uid", type=int, help="unprivileged uid to run the kernel as (root only)")
    parser.add_argument("--own", action="append", default=[], help="paths handed to --uid (the scratch folders)")
    parser.add_argument("--bwrap", help="bubblewrap executable: confine the kernel in namespaces")
    parser.add_argument("--ro", action="append", default=[], help="read-only in the sandbox (the Python installation)")
    parser.add_argument("--rw", action="append", default=[], help="read-write in the sandbox (the scratch folders)")
    parser.add_argument("--hide", action="append", default=[], help="never visible, even inside an --ro path")
    parser.add_argument("--shm", help="folder bound on /dev/shm in the sandbox")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if os.getsid(0) != os.getpid():
        os.setsid()
    die_with_parent(args.parent)
    root = os.geteuid() == 0
    if root and args.uid is not None:
        give_to(args.uid, args.own)
    limit(args.memory)
    if args.bwrap:
        if os.environ.get(DENY_ENV):
            sys.stderr.write(f"bwrap: Creating new namespace failed: Operation not permitted ({DENY_ENV} is set)\n")
            return 1
        inner = inner_command(args.nproc, args.uid if root else None, command)
        os.execv(args.bwrap, [*bwrap_command(args.bwrap, args.ro, args.rw, args.hide, args.shm, root), "--", *inner])
    if root and args.uid is not None:
        if args.nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
        drop_to(args.uid)
        die_with_parent(args.parent)  # a change of uid clears the parent-death signal
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
