"""Kernel launcher: confine one student's kernel, then exec it. Standard library only (it runs before the kernel).

    python autograder/sandbox.py --memory BYTES [--uid U] [--hide PATH ...] [--keep PATH ...] -- KERNEL COMMAND

In order: a new session (so the grader can kill the process group); when root, a private mount namespace in
which every --hide path is covered by an empty tmpfs and every --keep path (the Python installation, the
submission's own scratch folder) is bind-mounted back; then the OS limits (address space, processes, file
size, no core dumps); when root, a switch to the unprivileged --uid, which can neither undo the mounts nor
touch the grader's processes; finally exec of the kernel command.
"""

import argparse
import ctypes
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
FILE_SIZE_LIMIT = 256 * 2**20
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    encode = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


SYSTEM = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/dev", "/sys", "/run", "/var")


def _system(path):
    """True for / and the folders the system needs (or their parents): never hidden."""
    return any(s == path or s.startswith(path.rstrip("/") + "/") or path.startswith(s + "/") for s in SYSTEM) or path == "/"


def outermost(paths):
    """The paths that are not inside another of them (hiding a folder hides its contents); system ones left out."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)} - {"/"})
    real = [p for p in real if not _system(p)]
    return [p for p in real if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in real)]


def hide_paths(hide, keep):
    """In a new mount namespace: tmpfs over each hide path, each keep path bind-mounted back in place."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = [os.path.realpath(k) for k in keep if os.path.exists(k)]
    handles = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep}  # reachable after they are hidden
    covered = outermost(hide)
    for path in covered:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    for k, fd in handles.items():
        if any(k == c or k.startswith(c.rstrip("/") + "/") for c in covered):
            os.makedirs(k, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
        os.close(fd)
    for path in covered:
        _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def limit(memory, nproc):
    """OS limits for this process and everything it starts."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def drop_to(uid, owned):
    """Become uid (and gid uid) with no supplementary groups; give it the paths it must write or read."""
    for path in owned:
        for folder, _, files in os.walk(path):
            os.chown(folder, uid, uid)
            for name in files:
                os.chown(os.path.join(folder, name), uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", type=int, required=True, help="address-space limit in bytes")
    parser.add_argument("--nproc", type=int, default=0, help="process limit of the kernel's user (0: unchanged)")
    parser.add_argument("--uid", type=int, help="unprivileged uid to run the kernel as (root only)")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("--own", action="append", default=[], help="paths handed to --uid (the scratch folder)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if os.getsid(0) != os.getpid():
        os.setsid()
    if os.geteuid() == 0 and args.hide:
        hide_paths(args.hide, args.keep)
    limit(args.memory, args.nproc)
    if os.geteuid() == 0 and args.uid is not None:
        drop_to(args.uid, args.own)
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
