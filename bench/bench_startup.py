"""What a command costs before it does any work: each beside `python -c pass`, alternating, in one run.

    python bench/bench_startup.py              # 7 rounds
    python bench/bench_startup.py --rounds 3

Commands: `python -m autograder --help`, `check --help`, and `grade` of an empty folder (an exercise named, so that
the run does everything but grade: the lock, the scratch folder, the uids, the master, the gradebook, the isolation
probe, the class's files). Prints the median wall time of each, and PASS/FAIL against the targets (0.5 s for the
help, 1.5 s for the empty grade).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"python -m autograder --help": 0.5, "python -m autograder check --help": 0.5, "python -m autograder grade EMPTY": 1.5}


def commands(scratch):
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    grade = ["-m", "autograder", "grade", str(empty), "--out", str(scratch / "out"), "--assignment", "realnvp", "--quiet", "--force"]
    return {
        "python -c pass": ["-c", "pass"],
        "python -m autograder --help": ["-m", "autograder", "--help"],
        "python -m autograder check --help": ["-m", "autograder", "check", "--help"],
        "python -m autograder grade EMPTY": grade,
    }


def timed(argv):
    started = time.perf_counter()
    subprocess.run([sys.executable, *argv], cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        todo = commands(Path(scratch))
        times = {name: [] for name in todo}
        for _ in range(args.rounds):
            for name, argv in todo.items():  # alternating: a busy moment weighs on every command alike
                times[name].append(timed(argv))
    floor = statistics.median(times["python -c pass"])
    print(f"{'command':<36} {'median':>8} {'min':>7} {'beside pass':>12}  target")
    for name, seconds in times.items():
        median, target = statistics.median(seconds), TARGETS.get(name)
        verdict = f"{target:g} s {'PASS' if median <= target else 'FAIL'}" if target else ""
        print(f"{name:<36} {median:7.2f}s {min(seconds):6.2f}s {median - floor:+11.2f}s  {verdict}")


if __name__ == "__main__":
    main()
