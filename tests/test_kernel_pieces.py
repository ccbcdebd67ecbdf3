"""The two files of autograder/kernel/ in the tests' own process, without a kernel: the launcher's bubblewrap command
line and the guard's restore. They run for real inside every sandboxed grade (the slow tests of test_sandbox.py and
the hostile bank); here their logic is pinned in a second, and the fast lane exercises them (scripts/lane_coverage.py).
"""

import builtins
import importlib.util
import sys

import pytest
import torch

from autograder import KERNEL


def _load(name):
    """autograder/kernel/<name>.py as a module of its own (the grader runs or injects it, never imports it)."""
    spec = importlib.util.spec_from_file_location(f"kernel_{name}", KERNEL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launcher = _load("launcher")


def _after(args, flag):
    """The operands that follow each occurrence of flag in args, as tuples (one operand, or two for binds)."""
    width = {"--ro-bind": 2, "--bind": 2, "--symlink": 2}.get(flag, 1)
    return [tuple(args[i + 1 : i + 1 + width]) for i, arg in enumerate(args) if arg == flag]


def test_the_sandbox_root_is_an_allow_list_and_a_hidden_folder_inside_it_is_covered(tmp_path):
    python, job = tmp_path / "venv", tmp_path / "job"
    (python / "course").mkdir(parents=True)
    job.mkdir()
    args = launcher.bwrap_command("/usr/bin/bwrap", [str(python)], [str(job)], [str(python / "course")], str(job / "shm"), False)
    assert args[0] == "/usr/bin/bwrap" and args[-4:] == ["--remount-ro", "/dev", "--remount-ro", "/"]
    for flag in ("--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-user"):
        assert flag in args, f"{flag} missing from {args}"
    assert "--disable-userns" in args  # the kernel cannot make a namespace of its own
    assert (str(python), str(python)) in _after(args, "--ro-bind") and (str(job), str(job)) in _after(args, "--bind")
    bound = {source for source, _ in _after(args, "--ro-bind") + _after(args, "--bind")}
    outside = {"/", "/etc", "/home", "/root", "/tmp", "/var", "/etc/passwd", "/etc/shadow"}
    assert not bound & outside, f"bound beyond the allow-list: {bound & outside}"
    assert [(str(python / "course"),)] == _after(args, "--tmpfs")  # the course inside the Python installation is covered
    assert args.index("--tmpfs") > args.index(str(python))  # over the installation's bind, not under it
    assert (str(python / "course"),) in _after(args, "--remount-ro")


def test_as_root_the_launcher_needs_no_user_namespace_and_the_kernel_switches_to_its_uid():
    args = launcher.bwrap_command("/usr/bin/bwrap", [], [], [], None, True)
    assert "--unshare-user" not in args and "--unshare-pid" in args
    inner = launcher.inner_command(256, 2_000_000_001, ["/venv/bin/python", "-m", "ipykernel_launcher"])
    assert inner[:4] == ["/venv/bin/python", "-I", "-c", launcher.INNER]
    assert inner[4:] == ["256", "2000000001", "/venv/bin/python", "-m", "ipykernel_launcher"]
    assert launcher.inner_command(0, None, ["/p"])[4:6] == ["0", "-1"]  # no limit, no uid switch


def test_the_launcher_parses_its_options_and_the_command_after_the_double_dash():
    args = launcher.parser().parse_args(["--memory", "1024", "--ro", "/a", "--ro", "/b", "--", "python", "-c", "pass"])
    assert (args.memory, args.ro, args.uid, args.bwrap) == (1024, ["/a", "/b"], None, None)
    assert args.command[-3:] == ["python", "-c", "pass"]


class _Shell:
    """What the guard reads of IPython's shell."""

    custom_exceptions = ()


@pytest.fixture
def guard_module():
    module = _load("guard")
    shell = _Shell()
    module.get_ipython = lambda: shell  # in the kernel, IPython's own
    return module


def test_the_guard_restores_patched_library_functions_builtins_and_given_names(guard_module, capsys):
    def helper(x):
        return x + 1

    namespace = {"helper": helper, "data": torch.zeros(3)}
    guard = guard_module.Guard()
    guard.keep(namespace, ["helper", "data"])
    allclose, length = torch.allclose, builtins.len
    try:
        torch.allclose, builtins.len = (lambda *a, **k: True), (lambda x: 0)
        namespace["data"][0] = 5.0
        helper.__code__ = (lambda x: 0).__code__
        torch.Tensor.__eq__new = None  # an attribute added to a guarded class
        guard.restore(namespace)
    finally:
        restored = torch.allclose is allclose and builtins.len is length
        torch.allclose, builtins.len = allclose, length
    assert restored, "torch.allclose and len were not put back"
    assert not hasattr(torch.Tensor, "__eq__new")
    assert namespace["data"].tolist() == [0.0, 0.0, 0.0] and helper(1) == 2
    guard.passed("[token]")
    guard.report("[report] ")
    printed = capsys.readouterr().out
    assert "[token]\n" in printed
    for repaired in ("torch.allclose", "builtins.len", "helper.__code__", "Tensor.__eq__new (added)"):
        assert repaired in printed, f"{repaired} not reported: {printed}"


def test_the_guard_reports_a_tensor_subclass_that_fakes_comparisons(guard_module, capsys):
    guard = guard_module.Guard()
    fake = type("AlwaysEqual", (torch.Tensor,), {"__eq__": lambda self, other: True, "__module__": "__main__"})
    guard.report("[report] ")
    assert "AlwaysEqual, a Tensor subclass that redefines __eq__" in capsys.readouterr().out
    del fake
    assert sys.modules["torch"] is torch
