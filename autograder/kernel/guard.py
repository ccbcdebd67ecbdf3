"""Runs inside the student's kernel (its source is injected as a cell; the kernel cannot import the grader).

Everything here is defence in depth: the student's code runs in this process and can undo any of it (Python's audit
hooks and snapshots are no sandbox). The verdict that holds is computed outside the kernel (pipeline/recheck.py); what
this file does is make tampering visible and restore what it can before each test.

Guard(given_names, key_file) snapshots, before any student code runs, the attributes of the modules and classes the
tests rely on, the builtins, the exception hooks, the notebook's given names, and the machinery IPython and the kernel
run a cell with (their classes and bases, the AST and input transformers, event callbacks, trace and profile
functions, import hooks, the kernel's message handlers); it reads a key the grader wrote for this run, and deletes
its file. guard.before(label, nonce, globals()) runs as a request of its own before each test and given cell: it
restores all of it, records what it found changed, and prints a token signed with the key, which no cell's source
holds: a test whose restore token is missing or wrong earns nothing. guard.hidden() marks where a test's hidden checks
start; guard.passed(token) ends each test cell: it saves the values the hidden checks received from the student's code
(calling(), in the shared checks) for the grader to check again outside the kernel, then prints a token the student's
code never saw. guard.report() prints, as JSON, what was repaired, what was tampered with and where, the new
subclasses of tensor or number types that fake comparisons, and what the audit hook saw.
"""

import builtins
import copy
import functools
import hashlib
import hmac
import importlib
import json
import os
import sys
import threading
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
# Built-in types a test compares or converts: a subclass of one is flagged when it redefines what that calls
FAKING = {
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__", "__index__", "__abs__",
    "__len__", "__contains__", "__iter__", "__getitem__", "__sub__", "__rsub__", "__add__", "__radd__", "__hash__",
}  # fmt: skip
# The packages whose event callbacks and import hooks are the kernel's own, not the notebook's
LIBRARY_PACKAGES = {
    "IPython", "ipykernel", "ipywidgets", "matplotlib", "matplotlib_inline", "tqdm", "comm", "jupyter_client", "traitlets",
    "debugpy", "zmq", "tornado", "asyncio", "torch", "numpy", "sklearn", "scipy", "importlib", "_frozen_importlib",
    "_frozen_importlib_external", "zipimport", "six", "_distutils_hack", "setuptools", "pkg_resources", "__editable___finder",
}  # fmt: skip
# What the audit hook reports (Python's audit events table); for review, never a verdict by itself
AUDITED = {
    "sys.settrace": "a trace function (sys.settrace)",
    "sys.setprofile": "a profile function (sys.setprofile)",
    "gc.get_referrers": "the garbage collector's referrers (gc.get_referrers)",
    "gc.get_referents": "the garbage collector's referents (gc.get_referents)",
    "gc.get_objects": "the garbage collector's objects (gc.get_objects)",
    "sys.addaudithook": "an audit hook of its own (sys.addaudithook)",
}
EVIDENCE = ".autograder-evidence"  # in the kernel's working folder: the values a test's hidden checks received


def _all_subclasses(cls):
    """Every class below cls, by identity."""
    seen, todo = {}, [cls]
    while todo:
        for sub in _subclasses(todo.pop()):
            if id(sub) not in seen:
                seen[id(sub)] = sub
                todo.append(sub)
    return set(seen.values())


def _redefined(cls, only=None):
    names = (name for name, value in vars(cls).items() if callable(value) or isinstance(value, (classmethod, staticmethod)))
    return sorted(name for name in names if only is None or name in only)


def _student_defined(cls, only=None):
    """A class the notebook made (not one a library created on import) that overrides behaviour."""
    module = getattr(cls, "__module__", None)
    return (module == "__main__" or module not in sys.modules) and bool(_redefined(cls, only))


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


def _origin(function):
    """The top-level package a callable comes from, through partials and bound methods."""
    for _ in range(10):
        if isinstance(function, functools.partial):
            function = function.func
        elif hasattr(function, "__func__"):
            function = function.__func__
        else:
            break
    kind = function if isinstance(function, type) else None
    module = getattr(kind or function, "__module__", None) or ""
    return module.split(".")[0]


def _signer(key_file):
    """sign(label, nonce): an HMAC under the key the grader wrote for this run (the file is read once, then deleted)."""
    key = b""
    try:
        with open(key_file, "rb") as handle:
            key = handle.read()
        os.remove(key_file)
    except (OSError, TypeError):
        pass

    def sign(label, nonce):
        return hmac.new(key, f"{label} {nonce}".encode(), hashlib.sha256).hexdigest()[:32] if key else "no-key"

    return sign


def _audit_hook(seen):
    def hook(event, args):
        if event in AUDITED or event.startswith("ctypes."):
            label = AUDITED.get(event, "ctypes")
            if label not in seen:
                seen.append(label)

    return hook


def _restore_dict(owner, pristine, drop_new):
    """Put owner's attributes back as pristine; the names changed (torch's own later wrappers taken as pristine)."""
    changed, current = [], vars(owner)
    for name, value in pristine.items():
        if name in VOLATILE or current.get(name, pristine) is value:
            continue
        if _library_wrapper(value, current.get(name)):
            pristine[name] = current[name]  # torch's own, since torch._dynamo was imported: the new pristine
            continue
        try:
            setattr(owner, name, value)
            changed.append(name)
        except (AttributeError, TypeError):
            pass
    if drop_new:
        for name in [n for n in list(current) if n not in pristine and n not in VOLATILE]:
            try:
                delattr(owner, name)
                changed.append(f"{name} (added)")
            except (AttributeError, TypeError):
                pass
    return changed


class Machinery:
    """What IPython and the kernel run a cell with, as it was before the student's first cell."""

    OBJECTS = ("compile", "input_transformer_manager", "events", "displayhook", "display_pub", "history_manager")

    def __init__(self, shell):
        self.shell, self.kernel = shell, getattr(shell, "kernel", None)
        roots = [type(shell), type(shell.compile), type(shell.input_transformer_manager), type(shell.events)]
        roots += [type(self.kernel)] if self.kernel is not None else []
        classes = []
        for root in roots:
            classes += [c for c in root.__mro__ if c is not object and c not in classes]
        self.classes = [(c, dict(vars(c))) for c in classes]
        self.objects = {name: getattr(shell, name, None) for name in self.OBJECTS}
        self.lists = {name: list(value) for name, value in self._lists().items()}
        self.callbacks = {event: list(found) for event, found in shell.events.callbacks.items()}
        self.trace = self._traces()
        self.hooks = {"meta_path": list(sys.meta_path), "path_hooks": list(sys.path_hooks)}
        self.handlers = {n: dict(getattr(self.kernel, n)) for n in ("shell_handlers", "control_handlers") if hasattr(self.kernel, n)}
        names = ("builtins", "sys", "ast", "codeop", "IPython.core.interactiveshell", "IPython.core.compilerop", "ipykernel.zmqshell",
                 "ipykernel.ipkernel", "ipykernel.kernelbase", "torch", "numpy")  # fmt: skip
        self.modules = {name: sys.modules[name] for name in names if name in sys.modules}

    def _lists(self):
        manager = self.shell.input_transformer_manager
        return {
            "ast_transformers": self.shell.ast_transformers,
            "input_transformers_post": self.shell.input_transformers_post,
            "input_transformers_cleanup": manager.cleanup_transforms,
            "line_transforms": manager.line_transforms,
            "token_transformers": manager.token_transformers,
        }

    @staticmethod
    def _traces():
        return (sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile())

    def restore(self, tampered, repaired):
        """Put back whatever differs: tampered(what) for what changes how a cell runs, repaired(what) for the rest."""
        for cls, pristine in self.classes:
            for name in _restore_dict(cls, pristine, drop_new=True):
                tampered(f"{cls.__module__}.{cls.__qualname__}.{name}")
        for name, value in self.objects.items():
            if getattr(self.shell, name, None) is not value:
                setattr(self.shell, name, value)
                tampered(f"the shell's {name}")
        for name, current in self._lists().items():
            if list(current) != self.lists[name]:
                current[:] = self.lists[name]
                tampered(f"IPython's {name}")
        for event, found in self.shell.events.callbacks.items():
            for callback in [c for c in found if c not in self.callbacks.get(event, []) and _origin(c) not in LIBRARY_PACKAGES]:
                found.remove(callback)
                repaired(f"a {event} callback")
        self._restore_traces(tampered)
        for name, pristine in self.hooks.items():
            current = getattr(sys, name)
            for hook in [
                h for h in current if h not in pristine and _origin(h if isinstance(h, type) else type(h)) not in LIBRARY_PACKAGES
            ]:
                current.remove(hook)
                tampered(f"an import hook (sys.{name})")
        for name, pristine in self.handlers.items():
            current = getattr(self.kernel, name)
            if current != pristine:
                current.clear()
                current.update(pristine)
                tampered(f"the kernel's {name}")
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                tampered(f"sys.modules[{name!r}]")

    def _restore_traces(self, tampered):
        if self._traces() != self.trace:
            sys.settrace(self.trace[0])
            sys.setprofile(self.trace[1])
            threading.settrace(self.trace[2])
            threading.setprofile(self.trace[3])
            tampered("a trace or profile function (sys.settrace, sys.setprofile)")


def _flat(value, arrays, prefix="a"):
    """A JSON-able description of value, its tensors and arrays copied into arrays (keys starting with prefix); other
    objects only named."""
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return {"py": value}
    if torch is not None and kind in (torch.Tensor, torch.nn.Parameter):
        key, tensor = f"{prefix}{len(arrays)}", value.detach().cpu()
        arrays[key] = tensor.numpy().copy()
        return {"tensor": key, "dtype": str(tensor.dtype).replace("torch.", "")}
    if np is not None and kind is np.ndarray and value.dtype != object:
        key = f"{prefix}{len(arrays)}"
        arrays[key] = value.copy()
        return {"ndarray": key}
    if np is not None and isinstance(value, np.generic) and kind.__module__ == "numpy":
        return {"py": value.item()}
    if isinstance(value, (tuple, list)) and (kind.__module__ in ("builtins", "torch.return_types") or kind.__qualname__ == "Size"):
        return {"seq": "list" if isinstance(value, list) else "tuple", "items": [_flat(v, arrays, prefix) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"dict": [[k, _flat(v, arrays, prefix)] for k, v in value.items()]}
    return {"object": getattr(kind, "__name__", "?")}


class Guard:
    def __init__(self, protect=(), key_file=None):
        """protect: dotted names of library classes to restore beyond the libraries' own (the master lists them);
        key_file: the key the grader wrote for this run (read, then deleted)."""
        self.repaired, self.tampered, self.audit = [], [], []
        modules, classes, fakeable = _libraries()
        self.modules = [(m, dict(vars(m))) for m in modules]
        self.classes = [(c, dict(vars(c))) for c in dict.fromkeys([*classes, *map(_resolve, protect)])]
        self.fakeable = fakeable
        self.known_subclasses = {cls: _all_subclasses(cls) for cls in fakeable}
        self.hooks = (sys.excepthook, sys.displayhook, sys.stdout, sys.stderr)
        self.shell = get_ipython()  # noqa: F821 - the kernel's shell
        self.shell_hooks = {name: self.shell.__dict__.get(name) for name in SHELL_HOOKS if name in self.shell.__dict__}
        self.machinery = Machinery(self.shell)
        self.given, self.functions = {}, {}
        self.where, self.evidence, self.keeping, self.visible = "the grader's setup", [], False, set()
        self.folder = os.path.abspath(EVIDENCE)  # the working folder's, wherever the student's code moves the kernel
        self._sign = _signer(key_file)
        sys.addaudithook(_audit_hook(self.audit))

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

    def _tamper(self, what):
        if not any(seen == what for seen, _ in self.tampered):
            self.tampered.append((what, self.where))

    def _restore_shell(self):
        sys.excepthook, sys.displayhook, sys.stdout, sys.stderr = self.hooks
        for name in SHELL_HOOKS:
            value = self.shell.__dict__.get(name)
            if name in self.shell_hooks and value is not self.shell_hooks[name]:
                self.shell.__dict__[name] = self.shell_hooks[name]
                self._tamper(f"IPython shell.{name}")
            elif name not in self.shell_hooks and name in self.shell.__dict__:
                del self.shell.__dict__[name]
                self._tamper(f"IPython shell.{name}")
        if self.shell.custom_exceptions:
            self.shell.custom_exceptions = ()
            self._tamper("IPython custom exception handler")

    def restore(self, namespace):
        for module, pristine in self.modules:
            for name in _restore_dict(module, pristine, drop_new=False):
                self._note(f"{module.__name__}.{name}")
        for cls, pristine in self.classes:
            for name in _restore_dict(cls, pristine, drop_new=True):
                self._note(f"{cls.__name__}.{name}")
        self._restore_shell()
        self.machinery.restore(self._tamper, self._note)
        for name, (kind, value) in self.given.items():
            if kind == "copy":
                namespace[name] = copy.deepcopy(value)
                continue
            if namespace.get(name) is not value:
                self._note(name)
            namespace[name] = value
        for name, (function, code, defaults, kwdefaults) in self.functions.items():
            if (function.__code__, function.__defaults__, function.__kwdefaults__) != (code, defaults, kwdefaults):
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
                self._note(f"{name}.__code__")

    def before(self, label, nonce, namespace):
        """A request of its own before the cell label: restore everything, then print the signed token that says so."""
        self.where = label
        self.restore(namespace)
        namespace["_autograder_keep"] = self.keep_value
        self.evidence, self.keeping = [], False
        self.visible.discard(label)
        print(f"[autograder restored {label} {self._sign(label, nonce)}]")

    def hidden(self):
        """The test's hidden checks start: what calling() hands over from here on is kept."""
        self.evidence, self.keeping = [], True

    def keep_value(self, what, value):
        """A value the student's code returned to a hidden check, copied as it is now."""
        if self.keeping:
            arrays = {}
            self.evidence.append((str(what), _flat(value, arrays, f"v{len(self.evidence)}_"), arrays))

    def passed(self, token):
        print(token)

    def visible_passed(self, label, token):
        """The test's visible checks ran to their end: the hidden ones may run."""
        self.visible.add(label)
        print(token)

    def after_visible(self, label):
        """The hidden checks of a test whose visible checks failed do not run (as in one nbgrader cell)."""
        if label not in self.visible:
            raise AssertionError("not run: the visible checks of this test failed")

    def finished(self, label, token):
        """The test ran to its end: save what its hidden checks received, then print its token."""
        self._save(label)
        print(token)

    def _save(self, label):
        np = sys.modules.get("numpy")
        if np is None:
            return
        manifest, arrays = [[what, flat] for what, flat, _ in self.evidence], {}
        for _, _, values in self.evidence:
            arrays.update(values)
        os.makedirs(self.folder, exist_ok=True)
        payload = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
        np.savez(os.path.join(self.folder, f"{label}.npz"), __manifest__=payload, **arrays)

    def report(self, marker):
        new = []
        for cls, known in self.known_subclasses.items():
            only = None if cls.__module__ in ("torch", "numpy") else FAKING
            for sub in _all_subclasses(cls) - known:
                if _student_defined(sub, only):
                    new.append(f"{sub.__name__}, a {cls.__name__} subclass that redefines {', '.join(_redefined(sub, only))}")
        tampered = [[what, where] for what, where in self.tampered]
        print(marker + json.dumps({"repaired": self.repaired, "subclasses": sorted(set(new)), "tampered": tampered, "audit": self.audit}))
