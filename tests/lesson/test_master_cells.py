"""The master's test cells stand alone: none reads a name that only another test cell defines."""

import ast

import nbformat

from autograder.grader.pipeline.names import defined_names
from autograder.notebooks import grade_id, is_test


def _names_read(source):
    """Every name a cell loads, anywhere in it (functions and comprehensions included)."""
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def borrowed_names(nb):
    """test grade_id -> the names it reads that only other test cells define."""
    tests = [c for c in nb.cells if is_test(c)]
    defined_by_test = {grade_id(c): set(defined_names(c.source)) for c in tests}
    defined_elsewhere = {n for c in nb.cells if c.cell_type == "code" and not is_test(c) for n in defined_names(c.source)}
    borrowed = {}
    for cell in tests:
        others = set().union(*(names for gid, names in defined_by_test.items() if gid != grade_id(cell)))
        found = (_names_read(cell.source) & others) - defined_by_test[grade_id(cell)] - defined_elsewhere
        if found:
            borrowed[grade_id(cell)] = sorted(found)
    return borrowed


def test_no_test_cell_reads_a_name_that_only_another_test_cell_defines(master):
    assert borrowed_names(master) == {}


def test_a_test_cell_that_reads_another_test_cell_s_name_is_reported(master):
    nb = nbformat.from_dict(master)
    tests = [c for c in nb.cells if is_test(c)]
    name = next(n for n in defined_names(tests[0].source) if n not in defined_names(tests[1].source) and n.endswith("_seen"))
    tests[1].source += f"\nprint({name})"
    assert borrowed_names(nb) == {grade_id(tests[1]): [name]}
