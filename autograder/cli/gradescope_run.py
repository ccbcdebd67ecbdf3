"""What the zip's run_autograder runs in Gradescope's container, for one submission:

    python -m autograder.cli.gradescope_run [--root /autograder] [--wall-timeout S]

It finds the one notebook in ROOT/submission, grades it with `grade`'s own batch (one worker, in a temporary
OUT), and writes ROOT/results/results.json. That file is always written, and always valid: a score of 0 with
the reason when the submission holds no notebook, two notebooks or a broken file, or when the grader itself
fails, so that students never see "The autograder failed to execute correctly". Before grading starts a
provisional score of 0 is written, which stays if Gradescope stops the container at its time limit.
"""

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder.grader.core.exercise import exercise_named
from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import safe_name
from autograder.grader.intake.junk import IGNORED
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
        p for p in folder.rglob("*.ipynb") if p.is_file() and not (IGNORED | {"__MACOSX"}) & set(p.parts) and not p.name.startswith(".")
    )
    if not found:
        return None, f"no notebook (.ipynb) in the submission: upload your {assignment}.ipynb"
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in found)
        return None, f"{len(found)} notebooks in the submission ({names}): upload only your {assignment}.ipynb"
    return found[0], ""


def grade_one(notebook, student, limits, exercise):
    """The Record of one notebook, graded by the batch grader exactly as `grade` grades a class."""
    from autograder.grader.runs.grade import Options, grade_batch  # here: the batch's imports are slow and a failure must be caught

    with tempfile.TemporaryDirectory(prefix="gradescope-") as scratch:
        folder = Path(scratch) / "submission"
        folder.mkdir()
        (folder / f"{safe_name(student)}.ipynb").write_bytes(Path(notebook).read_bytes())
        options = Options(workers=1, limits=limits, progress=False, assignment=str(exercise.master_path))
        records = grade_batch(folder, Path(scratch) / "out", options)
    print(summary(records))
    return records[0]


def graded_results(root, limits, assignment):
    """results.json's content for the submission in root."""
    from autograder.grader.runs.worker import ungraded_record

    exercise = exercise_named(assignment)
    student = student_id(root / "submission_metadata.json")
    notebook, why_not = find_notebook(root / "submission", exercise.name)
    record = grade_one(notebook, student, limits, exercise) if notebook else ungraded_record(student, exercise, "not a notebook", why_not)
    print(f"{student}: {record.status}, {record.score:g} / {record.max_score:g}; {record.message}")
    print(f"isolation: {record.isolation or 'not measured (the notebook was not run)'}")
    return results(record, test_titles(exercise.nb))


def main(argv=None):
    parser = argparse.ArgumentParser(description="grade the submission in Gradescope's /autograder tree")
    parser.add_argument("--root", default="/autograder", help="Gradescope's tree (default /autograder)")
    parser.add_argument("--assignment", required=True, help="the exercise this autograder grades (its master's name)")
    parser.add_argument("--wall-timeout", type=int, default=WALL_TIMEOUT, help=f"seconds for the notebook in all (default {WALL_TIMEOUT})")
    args = parser.parse_args(argv)
    root, started = Path(args.root), time.monotonic()
    target = root / "results" / "results.json"
    stopped = "grading did not finish: the container was stopped (time or memory limit) before the grader was done"
    write_atomic(target, json.dumps(failure_results(stopped)))
    try:
        data = graded_results(root, Limits(wall_timeout=args.wall_timeout), args.assignment)
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
