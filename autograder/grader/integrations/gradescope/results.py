"""Gradescope's results.json, written from a Record, and a check of a results.json against Gradescope's spec.

The one path from a grading result to Gradescope: `grade --gradescope` (OUT/results/<student>.json) and the
autograder zip's run_autograder both call results(). Every test cell is two entries in "tests": what the student's
own notebook shows them (its visible checks, as Validate runs them: passed, or their failure message), a note
without points that is visible at once; and the test itself (its points, its hidden checks' outcome and message),
visible only after the due date (`hidden_until`, or "after_published", or "visible" for the old behaviour). Gradescope's
specification (gradescope/autograder_samples, docs/specs.md, "Controlling Test Case Visibility") says a test with
its own visibility overrides the top level's, and that "if test cases are hidden, students will not be able to see
their total score": so before the due date the student sees what Validate shows and nothing that would reveal the
hidden checks (the score, the status, the grader's messages are in a summary entry shown with the tests). Outputs
are failure messages (an exception's type and message), never test code. A written answer is one entry: a note
without a score while it awaits a person, its score and the grader's comment once `report` folded them in.
"""

import ast
import json
import math

from autograder.grader.core.record import UNREAD, is_awaiting, points_text
from autograder.notebooks import BEGIN_HIDDEN, END_HIDDEN, grade_id, is_test, without_region

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
TEST_STATUSES = ("passed", "failed")
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
ORDERS = ("asc", "desc")


def test_titles(master):
    """grade_id -> the first line of the test cell's docstring (what it checks), for each test cell of the master."""
    titles = {}
    for cell in master.cells:
        if is_test(cell):
            try:
                doc = ast.get_docstring(ast.parse(without_region(cell.source, BEGIN_HIDDEN, END_HIDDEN)))
            except SyntaxError:
                doc = None
            titles[grade_id(cell)] = doc.strip().splitlines()[0] if doc else ""
    return titles


def _note_entry(test):
    """A written answer no person has graded yet: a note, with no score (Gradescope has no "pending" status)."""
    name = f"{test.grade_id}: written answer, graded by hand ({points_text(test.max_points)})"
    return {"name": name, "output": test.message, "output_format": "text", "visibility": "visible"}


SHOWN_LATER = {
    "after_due_date": "after the due date",
    "after_published": "when your instructor publishes the grades",
    "visible": "now",
}


def _visible_entry(test, titles, hidden_until):
    """What the student's own notebook shows of a test (its visible checks): passed or failed, no points."""
    title = f"{test.grade_id}: {titles[test.grade_id]}" if titles.get(test.grade_id) else test.grade_id
    later = SHOWN_LATER[hidden_until]
    output = f"The checks your notebook shows pass. This test's points and its hidden checks are shown {later}."
    if not test.visible_passed:
        output = test.message or "failed"
    return {
        "name": f"{title} (the checks your notebook shows)",
        "score": 0.0,
        "max_score": 0.0,
        "status": "passed" if test.visible_passed else "failed",
        "output": output,
        "output_format": "text",
        "visibility": "visible",
    }


def _test_entry(test, titles, points, override=None, visibility="visible"):
    if is_awaiting(test) and override is None:
        return _note_entry(test)
    title = "written answer, graded by hand" if test.manual else titles.get(test.grade_id, "")
    passed = points == test.max_points
    output = test.message or ("passed" if passed else "failed")  # a written answer's: the grader's comment
    if override is not None:
        output = f"set by your instructor (the grader gave {test.points:g}): {override.reason}"
    return {
        "name": f"{test.grade_id}: {title}" if title else test.grade_id,
        "score": points,
        "max_score": test.max_points,
        "status": "passed" if passed else "failed",
        "output": output,
        "output_format": "text",
        "visibility": visibility,
    }


def _summary(record):
    text = f"Score {record.score:g} / {record.max_score:g} (status: {record.status})."
    if record.late_penalty:
        text += f" Tests {record.raw_score:g}, late penalty -{record.late_penalty:g} ({record.late_rule})."
    total = record.total_override()
    if total is not None:
        text += f" Your instructor set the total to {total.points:g}: {total.reason}"
    return text + (f"\n{record.message}" if record.message else "")


def _extra_data(record):
    """What the final score is made of (Gradescope keeps extra_data with the submission)."""
    return {
        "raw_score": record.raw_score,
        "late_penalty": record.late_penalty,
        "submitted_at": record.submitted_at,
        "submitted_from": record.submitted_from,
        "due": record.due,
        "overrides": [{"test": o.test, "points": o.points, "reason": o.reason} for o in record.overrides],
    }


def _before_the_deadline(record, hidden_until):
    """The top-level text a student sees at once: what their notebook's own checks say, nothing hidden."""
    shown = [t for t in record.tests if not t.manual]
    passed = sum(t.visible_passed for t in shown)
    later = SHOWN_LATER[hidden_until]
    return (
        f"The checks your notebook shows: {passed} of {len(shown)} tests pass (each test's first entry below). "
        f"Your score, the hidden checks and their messages are shown {later}."
    )


def results(record, titles=None, hidden_until="after_due_date"):
    """The results.json content (a dict) for one student's Record: the tests' points after the instructor's
    overrides, and the final score (after the late penalty or a total override) at the top. hidden_until: when the
    student sees the points, the hidden checks and the summary ("visible": at once, every entry)."""
    if hidden_until not in SHOWN_LATER:
        raise ValueError(f"hidden_until is {hidden_until!r}, not one of {tuple(SHOWN_LATER)}")
    points, overrides, titles = record.points(), {o.test: o for o in record.overrides}, titles or {}
    tests = []
    for test in record.tests:
        if hidden_until != "visible" and not test.manual:
            tests.append(_visible_entry(test, titles, hidden_until))
        tests.append(_test_entry(test, titles, points[test.grade_id], overrides.get(test.grade_id), hidden_until))
    data = {
        "score": record.score,
        "execution_time": round(record.seconds, 1),
        # a file that never ran reveals nothing hidden: the student reads why at once
        "output": _summary(record) if hidden_until == "visible" or record.status in UNREAD else _before_the_deadline(record, hidden_until),
        "output_format": "text",
        "stdout_visibility": "hidden",  # the grader's log is for instructors
        "tests": tests,
        "extra_data": _extra_data(record),
    }
    if hidden_until != "visible":
        data["visibility"] = hidden_until
        data["tests"].append({"name": "Summary", "output": _summary(record), "output_format": "text", "visibility": hidden_until})
    if record.leaderboard:
        data["leaderboard"] = [{"name": m.name, "value": m.value, "order": m.order} for m in record.leaderboard]
    return data


def results_json(record, titles=None, hidden_until="after_due_date"):
    return json.dumps(results(record, titles, hidden_until), ensure_ascii=False, indent=1)


def failure_results(message, seconds=0.0):
    """A valid results.json for when there is no Record at all (the grader itself failed): score 0 and why."""
    return {
        "score": 0,
        "execution_time": round(seconds, 1),
        "output": message,
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def _is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _test_problems(index, test):
    """What is wrong with one entry of tests; an entry without a score is a note (a written answer not graded yet),
    which then has no max_score and no status either."""
    where = f"tests[{index}]"
    if "score" not in test:
        required = ("name", "output")
        problems = [f"{where} has no score but a {key}: a note has neither" for key in ("max_score", "status") if key in test]
    else:
        required, problems = ("name", "score", "max_score", "status", "output"), []
    problems += [f"{where}.{key} is missing" for key in required if key not in test]
    problems += [f"{where}.{key} is not a number" for key in ("score", "max_score") if key in test and not _is_finite_number(test[key])]
    if _is_finite_number(test.get("score")) and _is_finite_number(test.get("max_score")) and not 0 <= test["score"] <= test["max_score"]:
        problems.append(f"{where}.score {test['score']} is not between 0 and max_score {test['max_score']}")
    for key, allowed in (("status", TEST_STATUSES), ("visibility", VISIBILITIES), ("output_format", OUTPUT_FORMATS)):
        if key in test and test[key] not in allowed:
            problems.append(f"{where}.{key} is {test[key]!r}, not one of {allowed}")
    problems += [f"{where}.{key} is not a string" for key in ("name", "output") if key in test and not isinstance(test[key], str)]
    return problems


def _leaderboard_problems(board):
    if not isinstance(board, list):
        return ["leaderboard is not a list"]
    problems = []
    for index, entry in enumerate(board):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not _is_finite_number(entry.get("value")):
            problems.append(f"leaderboard[{index}] needs a name (string) and a value (number)")
        elif entry.get("order", "desc") not in ORDERS:
            problems.append(f"leaderboard[{index}].order is {entry['order']!r}, not one of {ORDERS}")
    return problems


def _sum_problems(data, tests):
    """The tests' scores must add up to the score; when extra_data says what the score is made of, they add up to
    its raw_score, and the score is raw_score minus the late penalty, or the instructor's total."""
    scores = [t.get("score") for t in tests]
    if not tests or not _is_finite_number(data.get("score")) or not all(map(_is_finite_number, scores)):
        return []
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    if "raw_score" not in extra:
        if math.isclose(data["score"], sum(scores)):
            return []
        return [f"score {data['score']} is not the sum of the tests' scores ({sum(scores)})"]
    raw, penalty = extra["raw_score"], extra.get("late_penalty", 0)
    if not (_is_finite_number(raw) and _is_finite_number(penalty)) or not math.isclose(raw, sum(scores)):
        return [f"extra_data.raw_score {raw} is not the sum of the tests' scores ({sum(scores)})"]
    totals = [o.get("points") for o in extra.get("overrides", []) if isinstance(o, dict) and o.get("test") == "total"]
    expected = totals[0] if totals else max(0.0, raw - penalty)
    if not _is_finite_number(expected) or not math.isclose(data["score"], expected, abs_tol=1e-9):
        return [
            f"score {data['score']} is not the sum of the tests' scores ({sum(scores)}) less the late penalty ({penalty})"
            + (" nor the instructor's total" if totals else "")
        ]
    return []


def problems(data, forbidden=()):
    """What makes data an invalid results.json ([] when valid): missing or mistyped fields, values outside the
    spec's, a score that is not the sum of the tests', and any of the forbidden strings (hidden-test code)."""
    if not isinstance(data, dict):
        return ["results.json is not a JSON object"]
    found = [f"{key} is missing" for key in ("score", "execution_time", "output", "stdout_visibility", "tests") if key not in data]
    found += [f"{key} is not a number" for key in ("score", "execution_time") if key in data and not _is_finite_number(data[key])]
    if "output" in data and not isinstance(data["output"], str):
        found.append("output is not a string")
    if data.get("visibility", "visible") not in VISIBILITIES:
        found.append(f"visibility is {data['visibility']!r}, not one of {VISIBILITIES}")
    if data.get("stdout_visibility", "hidden") not in VISIBILITIES:
        found.append(f"stdout_visibility is {data['stdout_visibility']!r}, not one of {VISIBILITIES}")
    tests = data.get("tests", [])
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        return found + ["tests is not a list of objects"]
    for index, test in enumerate(tests):
        found += _test_problems(index, test)
    found += _sum_problems(data, [t for t in tests if "score" in t])  # a note has none
    found += _leaderboard_problems(data["leaderboard"]) if "leaderboard" in data else []
    text = json.dumps(data, ensure_ascii=False)
    return found + [f"results.json shows {marker!r}" for marker in forbidden if marker in text]
