"""What `python -m autograder report OUT` costs for a class: folding a person's scores from the gradebook into the
records, then rewriting grades.csv, every feedback page (from each graded notebook) and every results.json.

    python bench/bench_report.py --out OUT -n 200    # OUT: a graded OUT (e.g. of examples/realnvp) to copy from

It builds a class of n students from the first graded student in OUT (their record, graded notebook and
Gradescope results, under new ids), enters them in a fresh gradebook, scores every written answer of half of
them by hand as formgrader does, then times write_outputs (what grade, merge and report end with; without the
similarity check, which bench_similarity_tools.py measures) twice: the first run folds the scores in and rewrites
those records and pages, the second finds nothing to change.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.grader.core.files import write_atomic  # noqa: E402
from autograder.grader.core.layout import autograded_path, read_records  # noqa: E402
from autograder.grader.integrations.gradebook import open_gradebook, record_grades  # noqa: E402
from autograder.grader.runs.outputs import write_outputs  # noqa: E402
from autograder.grader.runs.resolve import resolve_assignment  # noqa: E402


def build_class(source, out, n):
    """out: n copies of source's first graded student, in a fresh gradebook; returns the exercise."""
    records, _ = read_records(source)
    model = next(r for r in records if autograded_path(source, r.student_id, r.assignment).is_file())
    exercise = resolve_assignment(records=records)
    notebook = autograded_path(source, model.student_id, exercise.name)
    gb = open_gradebook(out / "gradebook.db", exercise)
    for index in range(n):
        model.student_id = f"student {index:04d}"
        write_atomic(out / "records" / f"{model.student_id}.json", model.to_json())
        target = autograded_path(out, model.student_id, exercise.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, target)
        (out / "results").mkdir(exist_ok=True)
        (out / "results" / f"{model.student_id}.json").write_text("{}")
        record_grades(gb, exercise.name, model)
        if index % 2 == 0:
            for gid in exercise.manual_ids:
                grade = gb.find_grade(gid, exercise.name, exercise.name, model.student_id)
                grade.manual_score, grade.needs_manual_grade = 1.0, False
                gb.find_comment(gid, exercise.name, exercise.name, model.student_id).manual_comment = "clear and right"
    gb.db.commit()
    gb.close()
    return exercise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="a graded OUT to copy one student from")
    parser.add_argument("-n", type=int, default=200, help="students in the class (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        started = time.perf_counter()
        exercise = build_class(Path(args.out), out, args.n)
        print(f"built a class of {args.n} ({exercise.name}) in {time.perf_counter() - started:.1f} s")
        size = autograded_path(out, "student 0000", exercise.name).stat().st_size
        print(f"each graded notebook: {size / 1024:.0f} KiB")
        for label in ("first report (folds half the class's scores in)", "second report (nothing to fold)"):
            records, _ = read_records(out)
            started = time.perf_counter()
            write_outputs(out, exercise, records, similarity=False)  # the similarity check has its own bench
            seconds = time.perf_counter() - started
            print(f"{label}: {seconds:.2f} s, {1000 * seconds / args.n:.1f} ms per student")


if __name__ == "__main__":
    main()
