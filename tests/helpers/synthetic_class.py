"""Synthetic classes for the class-page tests and bench/bench_class_pages.py: records and code, no kernel.

Records look like the grader's (the statuses it writes, an ungraded record built by the batch's own function,
messages in the tests' style with varying numbers, leaderboard numbers for a passing training test), seeded.
Code is what a class writes: each answer from one of the known implementations (the master's solution, the banks'
variants, the answers written apart), with a few statements of the student's own added, and a cell of their own.
"""

import ast
import json
import random

from similarity_cases import copied

from autograder.grader.core.ids import safe_name
from autograder.grader.core.layout import feedback_path
from autograder.grader.core.record import Metric, Record, TestResult
from autograder.grader.runs.worker import ungraded_record
from autograder.notebooks import solution_answers

STATUSES = (("ok", 88), ("timeout", 4), ("not a notebook", 4), ("kernel died", 2), ("memory", 2))
ISOLATION = "full: hidden files, no network, own processes, own uid"


def _message(rng, gid, hidden):
    batch, dim = rng.choice((64, 128, 256)), rng.choice((2, 3, 5, 7))
    text = rng.choice(
        (
            f"{gid}: log_det has shape ({batch}, {dim}), expected ({batch},): sum over the dimensions",
            f"{gid}: off by up to {rng.uniform(0.01, 5):.3g} (tolerance 1e-05): check the sign of the log-determinant",
            f"{gid}: NameError: name '{rng.choice(['z', 'mask', 'flow'])}' is not defined",
            f"{gid}: got tensor([{rng.random():.4f}, {rng.random():.4f}]), expected the masked coordinates unchanged",
        )
    )
    return f"a hidden test failed (the visible checks passed): dim {dim}, {text}" if hidden else text


def _tests(rng, assignment, difficulty):
    tests = []
    for gid, points in assignment.tests:
        roll = rng.random()
        if roll > difficulty[gid]:
            tests.append(TestResult(gid, points, points, "", True))
        else:
            hidden = roll > 0.75 * difficulty[gid]
            tests.append(TestResult(gid, 0.0, points, _message(rng, gid, hidden), hidden))
    return tests


def student_ids(n):
    """n student ids, a few of them with the spaces, accents and symbols an LMS export holds."""
    odd = ["José Ñúñez", "o'Brien & co", "李 雷", "a/b <c>", "50% done"]
    return [odd[i] if i < len(odd) else f"student{i:04d}" for i in range(n)]


def synthetic_records(assignment, n, seed=0):
    """n Records of exercise: mostly graded, some not a notebook or timed out; each test failed by some."""
    rng = random.Random(seed)
    difficulty = {gid: rng.uniform(0.05, 0.5) for gid, _ in assignment.tests}
    records = []
    for student in student_ids(n):
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        if status == "not a notebook":
            corrupt = "not a notebook (corrupt JSON: Expecting value: line 1 column 1 (char 0))"
            record = ungraded_record(student, assignment, status, corrupt)
        else:
            message = "" if status == "ok" else f"cell {rng.randint(3, 30)}: {status}"
            record = Record(student, status, message, _tests(rng, assignment, difficulty), assignment=assignment.name)
        record.seconds, record.isolation = round(rng.lognormvariate(3.2, 0.35), 1), ISOLATION
        spec = assignment.leaderboard
        if spec and record.points().get(spec["grade_id"]) == dict(assignment.tests)[spec["grade_id"]]:
            record.leaderboard = [Metric(spec["name"], round(rng.uniform(0.3, 0.45), 4), spec.get("order", "asc"))]
        records.append(record)
    return records


def _statement(rng, depth=0):
    """A random line of Python in a student's style: assignments of calls, arithmetic, prints, asserts."""
    name = lambda: rng.choice(["x", "z", "tmp", "out", "h", "acc", "val", "b"])  # noqa: E731
    atom = lambda: rng.choice([name(), str(rng.randint(0, 9)), f"{name()}.{rng.choice(['sum', 'mean', 'exp', 'shape'])}"])  # noqa: E731

    def expr(d):
        kind = rng.randrange(5 if d < 3 else 1)
        if kind == 0:
            return atom()
        if kind == 1:
            return f"{expr(d + 1)} {rng.choice('+-*/')} {expr(d + 1)}"
        if kind == 2:
            return f"{name()}({', '.join(expr(d + 1) for _ in range(rng.randint(0, 3)))})"
        if kind == 3:
            return f"[{expr(d + 1)} for {name()} in range({rng.randint(1, 9)})]"
        return f"({expr(d + 1)})[{rng.randint(0, 3)}]"

    return rng.choice([f"{name()} = {expr(0)}", f"print({expr(0)})", f"assert {expr(0)} {rng.choice(['<', '==', '>='])} {expr(0)}"])


def _with_own_lines(rng, source, tries=20):
    """source with a few random statements of the student's own inserted (where the code stays valid Python)."""
    lines = source.splitlines()
    for _ in range(rng.randint(1, 4)):
        for _ in range(tries):
            at = rng.randrange(len(lines) + 1)
            above = next((line for line in reversed(lines[:at]) if line.strip()), "")
            indent = above[: len(above) - len(above.lstrip())] + ("    " if above.rstrip().endswith(":") else "")
            candidate = [*lines[:at], indent + _statement(rng), *lines[at:]]
            try:
                ast.parse("\n".join(candidate))
            except SyntaxError:
                continue
            lines = candidate
            break
    return "\n".join(lines) + "\n"


def synthetic_codes(assignment, n, implementations, seed=0, copies=5):
    """{student_id: {"answers", "extras"}} for n students: each answer one of implementations[grade_id] with lines
    of their own, and an added cell of their own; the last `copies` students hand in a disguised copy of one of the
    first `copies` (similarity_cases.disguised: renamed, reordered, reformatted, commented)."""
    rng = random.Random(seed)
    solution = solution_answers(assignment.notebooks[0].nb)
    codes, ids = {}, student_ids(n)
    for i, student in enumerate(ids):
        if i >= n - copies:
            original = codes[ids[i - n + copies]]
            codes[student] = {"answers": copied(original["answers"], seed=i), "extras": original["extras"]}
            continue
        answers = {gid: _with_own_lines(rng, rng.choice(implementations.get(gid, []) + [solution[gid]])) for gid in solution}
        extras = ["\n".join(_statement(rng) for _ in range(rng.randint(3, 15)))]
        codes[student] = {"answers": answers, "extras": extras}
    return codes


def write_class(out, assignment, records, codes=None):
    """An OUT folder as grading leaves it: records/, code/ (for the students in codes) and feedback/ pages."""
    from autograder.grader.reports.feedback import feedback_html

    for folder in ("records", "code", "feedback"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for record in records:
        name = safe_name(record.student_id)
        (out / "records" / f"{name}.json").write_text(record.to_json(), encoding="utf-8")
        page = feedback_path(out, record.student_id, assignment.name, assignment.name)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_html(record, title=assignment.title), encoding="utf-8")
        if codes and record.student_id in codes and record.status != "not a notebook":
            text = json.dumps({"student_id": record.student_id, **codes[record.student_id]}, ensure_ascii=False)
            (out / "code" / f"{name}.json").write_text(text, encoding="utf-8")
