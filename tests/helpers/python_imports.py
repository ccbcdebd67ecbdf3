"""What a Python file imports, read from its syntax tree without running it: for the checks of how the code's and
the tests' layers import each other (tests/repo/test_layers.py, tests/repo/test_layers_of_tests.py)."""

import ast


def imports(path):
    """Every module path imports, at the top or inside a function, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            yield from ((f"{node.module}.{a.name}", node.lineno) for a in node.names)
        elif isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names)
