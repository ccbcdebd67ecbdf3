"""Submissions that change how their own kernel runs a cell, and honest ones that use IPython as students do.

Each tampering case is a way for the student's code to turn a failing test into a passing one by changing the
kernel it runs in (not the answers): rewriting how IPython runs a cell (the shell's class, an AST or input transformer,
the kernel's execute handler), or a given helper the tests compare with. Graded by code from before the kernel's
verdicts were checked, each scored points its answers do not earn; now each scores what its answers earn, flagged
as tampering. The honest cases use IPython's features (magics, display, widgets, their own classes) and must never
be flagged.
"""

import nbformat
from hostile_bank import CORRECT_WITHOUT_TRAINING, Case, _base, _with_extra

from autograder import REPO
from autograder.course.examples import with_bug
from autograder.notebooks import grade_id

# the grader's lines in a cell start with its guard's name: keep only those of a test cell (no assertion runs)
RUN_CELL = """
_shell_class = type(get_ipython())
_original_run_cell = _shell_class.run_cell
def _run_cell(self, raw_cell, *args, **kwargs):
    if "passed(" in raw_cell or "finished(" in raw_cell:
        raw_cell = "\\n".join(line for line in raw_cell.splitlines() if line.startswith("_ag_"))
    return _original_run_cell(self, raw_cell, *args, **kwargs)
_shell_class.run_cell = _run_cell
"""
AST_TRANSFORMER = """
import ast
class _Quiet(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Expr(self, node):
        call = node.value
        named = isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
        if named and (call.func.id.startswith("check") or "assert" in call.func.id):
            return ast.Pass()
        return self.generic_visit(node)
get_ipython().ast_transformers.append(_Quiet())
"""
INPUT_TRANSFORMER = """
def _grader_lines_only(lines):
    if any("passed(" in line or "finished(" in line for line in lines):
        return [line for line in lines if line.startswith("_ag_")]
    return lines
get_ipython().input_transformers_post.append(_grader_lines_only)
"""
DO_EXECUTE = """
_kernel_class = type(get_ipython().kernel)
_original_do_execute = _kernel_class.do_execute
async def _do_execute(self, code, *args, **kwargs):
    if "passed(" in code or "finished(" in code:
        code = "\\n".join(line for line in code.splitlines() if line.startswith("_ag_"))
    return await _original_do_execute(self, code, *args, **kwargs)
_kernel_class.do_execute = _do_execute
"""
# f applies the layers from the last to the first (g consistently undoes it), and the given class the tests compare
# f with is changed to agree: the kernel's own checks pass, the same checks outside it do not
REVERSED_F = (
    "        for layer in self.layers:\n            x, layer_log_det = layer(x)",
    "        for layer in reversed(self.layers):\n            x, layer_log_det = layer(x)",
)
FORWARD_G = (
    "        for layer in reversed(self.layers):\n            z = layer.inverse(z)",
    "        for layer in self.layers:\n            z = layer.inverse(z)",
)
STAND_IN_STACK_AGREES = """
_original_stack_init = StandInStack.__init__
def _reversed_stack_init(self, layers):
    _original_stack_init(self, list(layers)[::-1])
StandInStack.__init__ = _reversed_stack_init
"""
HONEST = {
    "timeit": "%timeit -n 1 -r 1 make_masks(4, 2)",
    "cell magic time": "%%time\nmasks_tried = make_masks(6, 2)",
    "display": 'from IPython.display import HTML, Markdown, display\ndisplay(HTML("<b>masks</b>"), Markdown("*two moons*"))',
    "widget": "import ipywidgets as widgets\nfrom IPython.display import display\ndisplay(widgets.IntSlider(value=3, min=1, max=8))",
    "own classes": (
        "from dataclasses import dataclass\nfrom typing import NamedTuple\n\n\n@dataclass\nclass Config:\n    lr: float = 1e-3\n\n\n"
        "class Pair(NamedTuple):\n    a: int\n    b: int\n\n\n"
        "class Registry(dict):\n    def names(self):\n        return sorted(self)\n\n\n"
        "class Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.lin = nn.Linear(2, 2)\n\n"
        "    def forward(self, x):\n        return self.lin(x)\n\n\n"
        "config, pair, registry, tiny = Config(), Pair(1, 2), Registry(a=1), Tiny()"
    ),
    "autoreload": "%load_ext autoreload\n%autoreload 2",
    "matplotlib inline": "%matplotlib inline\nplt.plot([1, 2, 3])\nplt.show()",
    "capture": '%%capture captured\nprint("quiet")',
    "config and precision": '%config InlineBackend.figure_format = "retina"\n%precision 3',
    "tqdm": "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass",
    "clear output": 'from IPython.display import clear_output\nprint("x")\nclear_output()\n%who_ls',
    "xmode env stderr": '%xmode Minimal\n%env MY_SETTING=1\nimport sys\nprint("to stderr", file=sys.stderr)',
}
TAMPERED = "tampering"


def _blank_with(source):
    """The released notebook, left blank, with its first answer cell replaced by source."""
    nb = nbformat.read(REPO / "notebooks" / "realnvp.ipynb", as_version=4)
    first = next(c for c in nb.cells if grade_id(c) == "change_of_variables")
    first.source = source
    return nbformat.writes(nb).encode()


def tampering_cases():
    base = _base()
    nothing = {gid: 0 for gid in CORRECT_WITHOUT_TRAINING}
    reversed_f = with_bug(with_bug(base, "realnvp", *REVERSED_F), "realnvp", *FORWARD_G)
    inverse_bug = with_bug(base, "coupling", "return (y - t) * torch.exp(-s)", "return (y - t) * torch.exp(s)")
    return [
        Case("blank, run_cell rewritten at the shell's class", _blank_with(RUN_CELL), TAMPERED, nothing),
        Case("blank, an input transformer keeps the grader's lines", _blank_with(INPUT_TRANSFORMER), TAMPERED, nothing),
        Case("blank, the kernel's do_execute rewritten", _blank_with(DO_EXECUTE), TAMPERED, nothing),
        Case(
            "inverse bug, assertions removed by an AST transformer",
            _with_extra(inverse_bug, "change_of_variables", AST_TRANSFORMER),
            TAMPERED,
            {**CORRECT_WITHOUT_TRAINING, "test_coupling_inverse": 0},
        ),
        Case(
            "f reversed, the given StandInStack changed to agree",
            _with_extra(reversed_f, "realnvp", STAND_IN_STACK_AGREES),
            TAMPERED,
            {**CORRECT_WITHOUT_TRAINING, "test_realnvp_inverse": 0, "test_realnvp_log_prob": 0, "test_realnvp_sample": 0},
        ),
    ]


def honest_cases():
    base = _base()
    return [Case(f"honest {name}", _with_extra(base, "masks", source), "ok", CORRECT_WITHOUT_TRAINING) for name, source in HONEST.items()]
