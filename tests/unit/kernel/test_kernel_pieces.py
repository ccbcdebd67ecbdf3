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


@pytest.fixture
def shell():
    """IPython's own shell, as the guard finds it in a kernel (without the kernel: no message handlers)."""
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


@pytest.fixture
def guard_module(shell):
    module = _load("guard")
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


def test_the_guard_undoes_and_reports_what_changes_how_a_cell_runs_and_signs_its_restore(guard_module, shell, tmp_path, capsys):
    import ast
    import functools
    import hashlib
    import hmac

    (tmp_path / "key").write_bytes(b"k" * 32)
    guard = guard_module.Guard(key_file=str(tmp_path / "key"))
    assert not (tmp_path / "key").exists(), "the key's file must be gone before any student code runs"
    shell_class, transformers = type(shell), list(shell.ast_transformers)
    run_cell = shell_class.run_cell
    try:
        shell_class.run_cell = lambda self, cell, *a, **k: None  # the class, not the instance
        shell.ast_transformers.append(ast.NodeTransformer())
        shell.input_transformers_post.append(lambda lines: lines)
        shell.events.register("pre_run_cell", functools.partial(print, "patched"))
        guard.before("test_x", "n0nce", {})
    finally:
        leftover = shell_class.run_cell is not run_cell
        shell_class.run_cell = run_cell
        shell.ast_transformers[:] = transformers
    assert not leftover, "the class-level patch of run_cell was not undone"
    assert shell.input_transformers_post == [] and not shell.events.callbacks["pre_run_cell"]
    guard.report("[report] ")
    printed = capsys.readouterr().out
    signature = hmac.new(b"k" * 32, b"test_x n0nce", hashlib.sha256).hexdigest()[:32]
    assert f"[autograder restored test_x {signature}]" in printed
    report = __import__("json").loads(printed.split("[report] ")[1])
    found = dict(report["tampered"])
    assert found.get(f"{shell_class.__module__}.{shell_class.__qualname__}.run_cell") == "test_x", report
    assert found.get("IPython's ast_transformers") == "test_x" and found.get("IPython's input_transformers_post") == "test_x"
    assert "a pre_run_cell callback" in report["repaired"]


def test_an_honest_guard_finds_nothing_to_undo(guard_module, capsys):
    guard = guard_module.Guard()
    guard.before("test_x", "n", {})
    guard.report("[report] ")
    report = __import__("json").loads(capsys.readouterr().out.split("[report] ")[1])
    assert report["tampered"] == [] and report["subclasses"] == []


def test_what_a_hidden_check_received_is_saved_as_data_and_read_back_outside_the_kernel(guard_module, tmp_path, monkeypatch):
    from autograder.grader.pipeline import replay

    monkeypatch.chdir(tmp_path)
    guard = guard_module.Guard()
    guard.before("test_x", "n", {})
    guard.keep_value("seen before the hidden checks", 1)
    guard.hidden()
    values = [torch.arange(6, dtype=torch.float64).reshape(2, 3), (torch.ones(2), 3), {"a": True, "b": None}, "text", 2.5, object()]
    for n, value in enumerate(values):
        guard.keep_value(f"call {n}", value)
    guard.finished("test_x", "[done]")
    saved = replay.read_evidence(tmp_path / ".autograder-evidence" / "test_x.npz")
    assert [what for what, _ in saved] == [f"call {n}" for n in range(len(values))]
    assert torch.equal(saved[0][1], values[0]) and saved[0][1].dtype == torch.float64
    assert torch.equal(saved[1][1][0], torch.ones(2)) and saved[1][1][1] == 3 and saved[2][1] == {"a": True, "b": None}
    assert saved[3][1] == "text" and saved[4][1] == 2.5
    with pytest.raises(AssertionError, match="returned a object"):
        bool(saved[5][1])


def test_hidden_checks_run_again_on_the_saved_values_pass_and_fail_as_they_did_in_the_kernel(guard_module, tmp_path, monkeypatch):
    from autograder.grader.pipeline import replay

    monkeypatch.chdir(tmp_path)
    source = "value = calling('double(3)', double, 3)\nassert value == 6, f'double(3) is {value}, expected 6'\n"
    verdicts = []
    for answer in (6, 7):
        guard = guard_module.Guard()
        guard.before("t", "n", {})
        guard.hidden()
        guard.keep_value("double(3)", answer)
        guard.finished("t", "[done]")
        verdicts.append(replay.check_one(replay.placeholders(["double"]), source, tmp_path / ".autograder-evidence" / "t.npz"))
    assert verdicts == ["", "double(3) is 7, expected 6"]
    assert "saved nothing" in replay.check_one(replay.placeholders(["double"]), source, None)
    guard.before("t", "n", {})
    guard.hidden()
    guard.keep_value("another call", 6)
    guard.finished("t", "[done]")
    assert "for other calls" in replay.check_one(replay.placeholders(["double"]), source, tmp_path / ".autograder-evidence" / "t.npz")
    with pytest.raises(AssertionError, match="outside calling"):
        replay.placeholders(["double"])["double"](3)
