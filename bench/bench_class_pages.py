"""Time the class pages for a synthetic class: report.html for N records, similarity for N submissions, one core.

    python bench/bench_class_pages.py              # 1,000 records and 1,000 submissions (targets: 10 s and 60 s)
    python bench/bench_class_pages.py -n 200

The class is tests/helpers/synthetic_class.py's: records in the grader's style, and code where each answer is one of the
known implementations (the master's solution, the banks' variants, the answers written apart) with lines of the
student's own, plus a cell of their own; five students hand in disguised copies. Building it is not timed; what
is timed is what `grade` does at its end: reading OUT (records, code/) and writing the page.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "helpers"))

from similarity_cases import implementations  # noqa: E402
from synthetic_class import student_ids, synthetic_codes, synthetic_records, write_class  # noqa: E402

from autograder.grader.core.files import write_atomic  # noqa: E402
from autograder.grader.core.ids import safe_name  # noqa: E402
from autograder.grader.core.layout import read_records  # noqa: E402
from autograder.grader.core.masters import assignment_named  # noqa: E402
from autograder.grader.reports.class_report import report_html  # noqa: E402
from autograder.grader.reports.similarity import MIN_SHARED, THRESHOLD  # noqa: E402
from autograder.grader.reports.similarity_report import write_similarity  # noqa: E402


def planted(out, n, copies=5):
    """The pairs synthetic_codes planted (the last `copies` students copied the first), where both have code."""
    ids = student_ids(n)
    pairs = [(ids[i], ids[n - copies + i]) for i in range(copies)]
    return {frozenset(p) for p in pairs if all((out / "code" / f"{safe_name(s)}.json").is_file() for s in p)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="students in the class (default 1000)")
    parser.add_argument("--exercise", default="realnvp")
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    exercise = assignment_named(args.exercise)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        records = synthetic_records(exercise, args.n, seed=1)
        write_class(out, exercise, records, synthetic_codes(exercise, args.n, implementations(args.exercise), seed=1))
        print(f"built a synthetic class of {args.n} in {time.perf_counter() - started:.1f} s (not counted)")

        started = time.perf_counter()
        records, _ = read_records(out)
        write_atomic(out / "report.html", report_html(exercise, records))
        report_s = time.perf_counter() - started
        size = (out / "report.html").stat().st_size
        print(f"report.html for {len(records)} records: {report_s:.2f} s (target 10 s), {size / 1024:.0f} KiB")

        started = time.perf_counter()
        write_similarity(out, exercise, records)
        similarity_s = time.perf_counter() - started
        with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        flagged = {
            frozenset((r["student_a"], r["student_b"])) for r in rows if float(r["score"]) >= THRESHOLD and int(r["shared"]) >= MIN_SHARED
        }
        size = (out / "similarity.html").stat().st_size
        print(f"similarity for {len(list((out / 'code').iterdir()))} submissions: {similarity_s:.2f} s on one core (target 60 s), "
              f"{size / 1024:.0f} KiB; {len(flagged)} pairs flagged, {len(flagged & planted(out, args.n))} of the "
              f"{len(planted(out, args.n))} planted copies among them")  # fmt: skip


if __name__ == "__main__":
    main()
