"""Runs inside the student's kernel (its source is injected as a cell; the kernel cannot import the grader).

Guard(given_names) snapshots, before any student code runs, the attributes of the modules and classes the
tests rely on, the builtins, the exception hooks, and the notebook's given names (helpers, nets, prior, data).
guard.restore(globals()) puts all of them back; the grader prepends it to every test cell and given cell, so a
test always runs with pristine helpers whatever the answer cells patched. guard.passed(token) ends each test
cell: it prints a token the student's code never saw, so a test whose failure was swallowed earns nothing.
guard.report() prints, as JSON, what restore() had to repair and the new subclasses of tensor or number
types (a way to fake comparisons that restoring cannot undo).
"""

import builtins
import copy
import importlib
import json
import os
import sys
import types

# The libraries whose attributes the tests rely on, snapshot when the notebook already imported them before the
# student's first answer (a notebook that uses neither pays for neither): module names, then classes.
LIBRARIES = {
    "torch": (
        ("torch", "torch.nn", "torch.nn.functional", "torch.testing", "torch.linalg", "torch.autograd", "torch.autograd.functional",
         "torch.random", "torch.distributions"),
        ("torch.Tensor", "torch._C.TensorBase", "torch.nn.Module", "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.Linear",
         "torch.nn.Parameter", "torch.distributions.Distribution"),
        ("torch.Tensor",),
    ),
    "numpy": (("numpy", "numpy.testing", "numpy.linalg"), (), ("numpy.ndarray",)),
}  # fmt: skip


def _resolve(dotted):
    """The object a dotted name such as torch.nn.Tanh names (its module must be imported already)."""
    module, _, attribute = dotted.rpartition(".")
    return getattr(sys.modules[module], attribute)


def _libraries():
    """(modules, classes, fakeable types) of the libraries the notebook imported."""
    modules, classes, fakeable = [builtins, copy, json], [], []
    for library, (names, class_names, fakes) in LIBRARIES.items():
        if library not in sys.modules:
            continue
        modules += [importlib.import_module(name) for name in names]
        classes += [_resolve(name) for name in class_names]
        fakeable += [_resolve(name) for name in fakes]
    return modules, classes, (*fakeable, float, int, str, tuple, list, dict)


def _library_wrapper(pristine, current):
    """True when current is torch's own wrapper of the pristine function: importing torch._dynamo (the first optimizer
    does) wraps torch.manual_seed. The snapshot does not import dynamo itself (two seconds in every kernel): a function
    wrapped so, by code of torch's own files, is taken as the new pristine one instead of being undone."""
    torch = sys.modules.get("torch")
    if torch is None or "torch._dynamo" not in sys.modules or getattr(current, "__wrapped__", None) is not pristine:
        return False
    code = getattr(current, "__code__", None)
    return code is not None and code.co_filename.startswith(os.path.dirname(torch.__file__) + os.sep)


# IPython rewrites these on every cell (last results, input() bound to the request); copy caches __slotnames__
VOLATILE = {"_", "__", "___", "input", "raw_input", "getpass", "__slotnames__"}
SHELL_HOOKS = (
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "run_cell",
    "run_code",
    "run_ast_nodes",
    "run_cell_async",
    "should_run_async",
    "CustomTB",
    "custom_exceptions",
    "set_custom_exc",
)
_subclasses = type.__subclasses__


def _all_subclasses(cls):
    """Every class below cls, by identity."""
    seen, todo = {}, [cls]
    while todo:
        for sub in _subclasses(todo.pop()):
            if id(sub) not in seen:
                seen[id(sub)] = sub
                todo.append(sub)
    return set(seen.values())


def _redefined(cls):
    return sorted(name for name, value in vars(cls).items() if callable(value) or isinstance(value, (classmethod, staticmethod)))


def _student_defined(cls):
    """A class the notebook made (not one a library created on import) that overrides behaviour."""
    module = getattr(cls, "__module__", None)
    return (module == "__main__" or module not in sys.modules) and bool(_redefined(cls))


def _frozen(value):
    """What to keep of a given value: tensors and containers by value, the rest by reference."""
    torch = sys.modules.get("torch")
    by_value = (dict, list, set) + ((torch.Tensor,) if torch else ())
    if type(value) in by_value or torch and isinstance(value, torch.distributions.Distribution):
        try:
            return ("copy", copy.deepcopy(value))
        except Exception:
            pass
    return ("ref", value)


class Guard:
    def __init__(self, protect=()):
        """protect: dotted names of library classes to restore beyond the libraries' own (the master lists them)."""
        self.repaired = []
        modules, classes, fakeable = _libraries()
        self.modules = [(m, dict(vars(m))) for m in modules]
        self.classes = [(c, dict(vars(c))) for c in dict.fromkeys([*classes, *map(_resolve, protect)])]
        self.known_subclasses = {cls: _all_subclasses(cls) for cls in fakeable}
        self.hooks = (sys.excepthook, sys.displayhook, sys.stdout, sys.stderr)
        self.shell = get_ipython()  # noqa: F821 - the kernel's shell
        self.shell_class = type(self.shell)
        self.shell_hooks = {name: self.shell.__dict__.get(name) for name in SHELL_HOOKS if name in self.shell.__dict__}
        self.given = {}
        self.functions = {}

    def keep(self, namespace, names):
        """Snapshot the names a given cell just defined."""
        for name in names:
            if name in namespace:
                value = namespace[name]
                self.given[name] = _frozen(value)
                if isinstance(value, types.FunctionType):
                    self.functions[name] = (value, value.__code__, value.__defaults__, value.__kwdefaults__)

    def _note(self, what):
        if what not in self.repaired:
            self.repaired.append(what)

    def _restore_attributes(self, owner, label, pristine, drop_new):
        current = vars(owner)
        for name, value in pristine.items():
            if name in VOLATILE:
                continue
            if current.get(name, pristine) is not value:
                if _library_wrapper(value, current.get(name)):
                    pristine[name] = current[name]  # torch's own, since torch._dynamo was imported: the new pristine
                    continue
                try:
                    setattr(owner, name, value)
                    self._note(f"{label}.{name}")
                except (AttributeError, TypeError):
                    pass
        if drop_new:
            for name in [n for n in list(current) if n not in pristine and n not in VOLATILE]:
                try:
                    delattr(owner, name)
                    self._note(f"{label}.{name} (added)")
                except (AttributeError, TypeError):
                    pass

    def _restore_shell(self):
        sys.excepthook, sys.displayhook, sys.stdout, sys.stderr = self.hooks
        for name in SHELL_HOOKS:
            value = self.shell.__dict__.get(name)
            if name in self.shell_hooks and value is not self.shell_hooks[name]:
                self.shell.__dict__[name] = self.shell_hooks[name]
                self._note(f"IPython shell.{name}")
            elif name not in self.shell_hooks and name in self.shell.__dict__:
                del self.shell.__dict__[name]
                self._note(f"IPython shell.{name}")
        if self.shell.custom_exceptions:
            self.shell.custom_exceptions = ()
            self._note("IPython custom exception handler")

    def restore(self, namespace):
        for module, pristine in self.modules:
            self._restore_attributes(module, module.__name__, pristine, drop_new=False)
        for cls, pristine in self.classes:
            self._restore_attributes(cls, cls.__name__, pristine, drop_new=True)
        self._restore_shell()
        for name, (kind, value) in self.given.items():
            if kind == "copy":
                namespace[name] = copy.deepcopy(value)
                continue
            else:
                if namespace.get(name) is not value:
                    self._note(name)
                namespace[name] = value
        for name, (function, code, defaults, kwdefaults) in self.functions.items():
            if (function.__code__, function.__defaults__, function.__kwdefaults__) != (code, defaults, kwdefaults):
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
                self._note(f"{name}.__code__")

    def passed(self, token):
        print(token)

    def report(self, marker):
        new = []
        for cls, known in self.known_subclasses.items():
            for sub in _all_subclasses(cls) - known:
                if _student_defined(sub):
                    new.append(f"{sub.__name__}, a {cls.__name__} subclass that redefines {', '.join(_redefined(sub))}")
        print(marker + json.dumps({"repaired": self.repaired, "subclasses": sorted(set(new))}))
