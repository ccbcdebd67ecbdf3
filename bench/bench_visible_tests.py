"""How long each test cell's visible checks take in the released student notebook, answered with the solution.

    python bench/bench_visible_tests.py                          # the digits notebook, 3 rounds
    python bench/bench_visible_tests.py --exercise realnvp --rounds 1

Each round fills the released notebook with the master's answers (the short training recipe of the bundled
examples), runs it headless in a fresh kernel as the build runs a notebook, and reads each test cell's time from the
kernel's own timestamps (nbclient's `execution` metadata: from the cell's start to its reply). It prints each test's
median and the total of the parts that issue 27 added to the digits notebook (the image architecture: squeeze, channel
masks, ActNorm, the multi-scale flow), whose budget is 5 s together.
"""

import argparse
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course.build import execute  # noqa: E402
from autograder.course.examples import answers, filled  # noqa: E402

NEW_PARTS = ("test_squeeze", "test_channel_masks", "test_actnorm", "test_multiscale_log_prob", "test_multiscale_sample")
BUDGET_S = 5.0


def test_times(exercise):
    """grade_id -> seconds of each test cell, from one headless run of the answered student notebook."""
    nb = filled(answers(exercise, quick=True), exercise)
    with tempfile.TemporaryDirectory() as folder:
        executed = execute(nb, Path(folder))
    times = {}
    for cell in executed.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        stamps = cell.metadata.get("execution", {})
        if grade_id.startswith("test") and "iopub.execute_input" in stamps:
            started = datetime.fromisoformat(stamps["iopub.execute_input"].replace("Z", "+00:00"))
            ended = datetime.fromisoformat(stamps["shell.execute_reply"].replace("Z", "+00:00"))
            times[grade_id] = (ended - started).total_seconds()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="realnvp_digits")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [test_times(args.exercise) for _ in range(args.rounds)]
    medians = {gid: statistics.median(r[gid] for r in rounds) for gid in rounds[0]}
    for gid, seconds in medians.items():
        print(f"{gid:28s} {seconds:6.2f} s")
    new = [gid for gid in NEW_PARTS if gid in medians]
    if new:
        total = sum(medians[gid] for gid in new)
        verdict = "within" if total <= BUDGET_S else "OVER"
        print(f"the image architecture's visible tests together: {total:.2f} s ({verdict} the budget of {BUDGET_S:g} s)")


if __name__ == "__main__":
    main()
