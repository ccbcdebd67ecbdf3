"""Classes of code for the similarity tests and bench: what students wrote, copied with disguises or written apart.

A disguised copy is what a student who copies and hides it makes: every local name renamed, the methods of each
class in another order, the code reformatted (through ast) and new comments between its lines. The independent
submissions are the master's solution, the banks' entries as the bank grades them (each the solution with the
cells it writes) and tests/banks/realnvp/variant_written_apart.py, every answer written apart from the master's.
"""

import ast
import random
from functools import cache

from bank_entries import exercises_with_banks, load_bank

from autograder.grader.reports.similarity import MIN_SHARED, THRESHOLD, Code

WRITTEN_APART = ("realnvp", "variant_written_apart")
COMMENTS = ("# keep the shapes straight", "# see the lecture notes", "# TODO tidy", "# this part was tricky", "# checked by hand")


class _Renamer(ast.NodeTransformer):
    """Renames every argument and every name assigned inside a function (not the public names a cell defines)."""

    def __init__(self, rng):
        self.rng, self.names = rng, {}

    def _new(self, name):
        if name not in self.names:
            self.names[name] = f"{self.rng.choice(['v', 'tmp', 'val', 'q'])}{len(self.names)}_{name[::-1][:3]}"
        return self.names[name]

    def visit_FunctionDef(self, node):
        for arg in node.args.args[1:] if node.args.args and node.args.args[0].arg == "self" else node.args.args:
            arg.arg = self._new(arg.arg)
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                self._new(inner.id)
        self.generic_visit(node)
        return node

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node


def _reorder_methods(tree, rng):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            methods = [n for n in node.body if isinstance(n, ast.FunctionDef)]
            others = [n for n in node.body if not isinstance(n, ast.FunctionDef)]
            order = methods[:]
            rng.shuffle(order)
            node.body = others + (order if order != methods else methods[::-1])


def disguised(source, seed=0):
    """source copied and hidden: names renamed, methods reordered, reformatted, a comment every few lines."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    _reorder_methods(tree, rng)
    text = ast.unparse(_Renamer(rng).visit(tree))
    lines = []
    for line in text.splitlines():
        if line.strip() and rng.random() < 0.35:
            lines.append(line[: len(line) - len(line.lstrip())] + rng.choice(COMMENTS))
        lines.append(line)
    return "\n".join(lines) + "\n"


def variants():
    """{(exercise, name): {grade_id: source}} of every valid variant of the banks: the cells it writes."""
    return {(e, name): entry.answers for e in exercises_with_banks() for name, entry in load_bank(e).items() if entry.kind == "variant"}


def implementations(exercise):
    """grade_id -> [source] of every variant of that answer in the exercise's bank."""
    found = {}
    for (name, _), answers in variants().items():
        for gid, source in answers.items() if name == exercise else ():
            found.setdefault(gid, []).append(source)
    return found


def written_apart():
    """The answers of tests/banks/realnvp/variant_written_apart.py (every answer cell of the moons exercise)."""
    return variants()[WRITTEN_APART]


def copied(answers, seed=0):
    """A disguised copy of every answer in answers (grade_id -> source)."""
    return {gid: disguised(source, seed=seed + i) for i, (gid, source) in enumerate(answers.items())}


@cache
def bank_class(exercise):
    """(Code, ...) of the exercise's bank as the bank grades it: each entry's answers (the master's solution with
    the cells it changes, its training cell by its train mode), what OUT/code holds after tests/system/banks/test_bank.py."""
    return tuple(Code.of(name, entry.graded_answers(), []) for name, entry in load_bank(exercise).items())


def flagged_for_own_code(comparison, exercise):
    """[(a, b, cells)] of the flagged pairs in which the shared code is a valid variant's own: one of the cells
    that variant writes shares THRESHOLD of its fingerprints, and at least MIN_SHARED (the bank derives the rest
    of each entry from the master's solution, and its training cells from the master's: they may pair entries)."""
    own = {name: set(entry.answers) for name, entry in load_bank(exercise).items() if entry.kind == "variant"}
    found = []
    for pair in comparison.flagged():
        for name in (pair.a, pair.b):
            cells = sorted(c for c in own.get(name, ()) if pair.cells.get(c, (0, 0))[0] >= THRESHOLD and pair.cells[c][1] >= MIN_SHARED)
            found += [(pair.a, pair.b, cells)] if cells else []
    return found


def moons_class():
    """The moons bank as graded, and "copier": a disguised copy of the answers written apart. Only copier and
    variant_written_apart should pair up."""
    return [*bank_class("realnvp"), Code.of("copier", copied(written_apart()), [])]
