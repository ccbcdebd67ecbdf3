"""What the zip's run_autograder runs in Gradescope's container, for one submission:

    python -m autograder.cli.gradescope_run [--root /autograder] [--wall-timeout S]

It finds the one notebook in ROOT/submission, grades it with `grade`'s own batch (one worker, in a temporary
OUT), and writes ROOT/results/results.json. That file is always written, and always valid: a score of 0 with
the reason when the submission holds no notebook, two notebooks or a broken file, or when the grader itself
fails, so that students never see "The autograder failed to execute correctly". Before grading starts a
provisional score of 0 is written, which stays if Gradescope stops the container at its time limit.
"""

import argparse
import datetime
import json
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder.grader.core.assignment import AssignmentError
from autograder.grader.core.files import is_ignored, write_atomic
from autograder.grader.core.ids import safe_name
from autograder.grader.core.masters import assignment_named
from autograder.grader.integrations.gradescope.results import failure_results, problems, results, test_titles
from autograder.grader.pipeline.execute import Limits
from autograder.grader.reports.summary import summary

# Under Gradescope's default limit of 10 minutes, so that the grader's own limit fires first and says so.
WALL_TIMEOUT = 480


def student_id(metadata_path):
    """Who submitted, from Gradescope's submission_metadata.json: each user's sid, else email, else name."""
    try:
        users = json.loads(Path(metadata_path).read_text(encoding="utf-8")).get("users") or []
        names = [str(u.get("sid") or u.get("email") or u.get("name") or u.get("id")) for u in users if isinstance(u, dict)]
    except (OSError, ValueError, AttributeError):
        names = []
    return ", ".join(names) or "submission"


def find_notebook(folder, assignment):
    """(the one notebook in folder, "") or (None, why not) when there is none or more than one."""
    folder = Path(folder)
    found = sorted(
        p for p in folder.rglob("*.ipynb") if p.is_file() and not any(is_ignored(part) for part in p.parts) and not p.name.startswith(".")
    )
    if not found:
        return None, f"no notebook (.ipynb) in the submission: upload your {assignment}.ipynb"
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in found)
        return None, f"{len(found)} notebooks in the submission ({names}): upload only your {assignment}.ipynb"
    return found[0], ""


def grade_one(path, student, limits, assignment):
    """The Record of the notebook at path, graded by the batch grader exactly as `grade` grades a class."""
    from autograder.grader.runs.grade import Options, grade_batch  # here: the batch's imports are slow and a failure must be caught

    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        folder = Path(scratch) / "submission"
        folder.mkdir()
        (folder / f"{safe_name(student)}.ipynb").write_bytes(Path(path).read_bytes())
        options = Options(workers=1, limits=limits, progress=False, assignment=str(assignment.source))
        records = grade_batch(folder, Path(scratch) / "out", options)
    print(summary(records))
    return records[0]


def parse_budget(text):
    """(submissions, hours) from "3/24h" (3 graded submissions per 24 hours); None for "" (no budget)."""
    if not text:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*h?\s*", text)
    if not found or int(found.group(1)) < 1:
        raise ValueError(f"a submission budget is written like 3/24h (3 graded submissions per 24 hours), not {text!r}")
    return int(found.group(1)), float(found.group(2))


def _instant(text):
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def over_budget(metadata, budget):
    """(the previous graded submission to carry over, when the next one is graded) when this submission goes past the
    budget (submissions, hours): counted from Gradescope's previous_submissions in the window before this one's time
    (created_at; now without it), leaving out the ones that were themselves over budget; None within it."""
    if budget is None:
        return None
    count, hours = budget
    now = _instant(metadata.get("created_at")) or datetime.datetime.now(datetime.UTC)
    window = datetime.timedelta(hours=hours)
    graded = []
    for previous in metadata.get("previous_submissions") or []:
        when = _instant(previous.get("submission_time")) if isinstance(previous, dict) else None
        carried = isinstance(previous.get("results"), dict) and (previous["results"].get("extra_data") or {}).get("over_budget")
        if when is not None and now - window <= when < now and not carried:
            graded.append((when, previous))
    if len(graded) < count:
        return None
    graded.sort(key=lambda pair: pair[0])
    return graded[-1][1], graded[len(graded) - count][0] + window  # when fewer than count are left in the window


def budget_results(previous, next_at, budget):
    """The results.json of a submission past the budget: the last graded submission's results and score carried over
    (Gradescope grades with the active submission, the latest: carrying the score over keeps the grade where it was),
    with a note of the budget and of when the next submission is graded."""
    count, hours = budget
    data = dict(previous.get("results") or {}) if isinstance(previous.get("results"), dict) else {}
    data.setdefault("score", float(previous.get("score") or 0))
    data.setdefault("tests", [])
    data.setdefault("stdout_visibility", "hidden")
    data.setdefault("execution_time", 0)
    note = (
        f"Submission budget: {count} graded submission{'s' if count != 1 else ''} per {hours:g} hours. This submission was "
        f"not graded; the next one will be graded from {next_at.strftime('%Y-%m-%d %H:%M %Z')}. What you see here, and "
        f"your score, are your last graded submission's."
    )
    data["output"] = note + ("\n\n" + data["output"] if data.get("output") else "")
    data["output_format"] = "text"
    data["extra_data"] = {**(data.get("extra_data") or {}), "over_budget": True}
    return data


def graded_results(root, limits, assignment, hidden_until="after_due_date", budget=None):
    """results.json's content for the submission in root."""
    from autograder.grader.runs.worker import ungraded_record

    declared = assignment_named(assignment)
    if len(declared.notebooks) != 1:
        raise AssignmentError(f"{assignment} is an assignment of {len(declared.notebooks)} notebooks: Gradescope's autograder grades one")
    notebook = declared.notebooks[0]
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        metadata = {}
    past = over_budget(metadata if isinstance(metadata, dict) else {}, budget)
    if past is not None:
        print(f"over the submission budget {budget}: the last graded submission's results carried over")
        return budget_results(*past, budget)
    student = student_id(root / "submission_metadata.json")
    path, why_not = find_notebook(root / "submission", notebook.name)
    record = grade_one(path, student, limits, declared) if path else ungraded_record(student, declared, "not a notebook", why_not)
    print(f"{student}: {record.status}, {record.score:g} / {record.max_score:g}; {record.message}")
    print(f"isolation: {record.isolation or 'not measured (the notebook was not run)'}")
    return results(record, test_titles(notebook.nb), hidden_until)


def main(argv=None):
    parser = argparse.ArgumentParser(description="grade the submission in Gradescope's /autograder tree")
    parser.add_argument("--root", default="/autograder", help="Gradescope's tree (default /autograder)")
    parser.add_argument("--assignment", required=True, help="the assignment this autograder grades (its master's name)")
    parser.add_argument("--wall-timeout", type=int, default=WALL_TIMEOUT, help=f"seconds for the notebook in all (default {WALL_TIMEOUT})")
    parser.add_argument("--hidden-until", default="after_due_date", choices=("after_due_date", "after_published", "visible"))
    parser.add_argument("--budget", default="", help="graded submissions per hours, like 3/24h (default: no budget)")
    args = parser.parse_args(argv)
    root, started = Path(args.root), time.monotonic()
    target = root / "results" / "results.json"
    stopped = "grading did not finish: the container was stopped (time or memory limit) before the grader was done"
    write_atomic(target, json.dumps(failure_results(stopped)))
    try:
        data = graded_results(root, Limits(wall_timeout=args.wall_timeout), args.assignment, args.hidden_until, parse_budget(args.budget))
        wrong = problems(data)
        if wrong:
            raise ValueError("the grader built an invalid results.json: " + "; ".join(wrong))
    except Exception as error:  # any failure must still give the student a score and a reason
        traceback.print_exc(file=sys.stdout)  # stdout is for instructors only (stdout_visibility hidden)
        detail = f"{type(error).__name__}: {error}"[:300]
        data = failure_results(f"The grader failed on this submission ({detail}), so it is not graded yet. Please tell your instructor.")
    data["execution_time"] = round(time.monotonic() - started, 1)
    write_atomic(target, json.dumps(data, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
