"""The solution notebooks' headless times as ratios to the course recipe's training, measured in one run.

    python bench/bench_notebooks.py              # 2 rounds: course recipe, moons notebook, digits notebook, alternating
    python bench/bench_notebooks.py --rounds 1 --course-steps 1000

A machine's speed here changes from day to day (the course recipe has taken 86 s and 167 s), so a notebook's time
alone says little: each round trains the course's recipe (bench_training.py's, on the master's classes, one thread;
its time scaled to 5001 steps) and runs each solution notebook headless as the build and the demo run it
(autograder/course/build.execute, a fresh kernel), and the ratios of the medians are compared with the targets:
the moons notebook at most 0.50x the course recipe's training, the digits at most 0.35x (it trains two flows since
issue 27: the checkerboard-only flow and the multi-scale one).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import INDEPENDENT_SEED, REPO, make_moons, master_namespace, master_sources, np, run_course_recipe, torch  # noqa: E402

from autograder.course.build import execute, generated_paths  # noqa: E402

TARGETS = {"realnvp": 0.50, "realnvp_digits": 0.35}


def headless(name):
    """Seconds to run the committed solution notebook name from scratch in a fresh kernel, as the build runs it."""
    path = generated_paths(name)["solution"]
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.perf_counter()
    execute(nb, path.parent)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--course-steps", type=int, default=5001, help="steps of the course's recipe (its time is scaled to 5001)")
    args = parser.parse_args(argv)
    master = REPO / "autograder" / "master" / "realnvp.py"
    namespace = master_namespace(master, master_sources(master))
    x_fresh = torch.from_numpy(make_moons(10_000, noise=0.05, random_state=INDEPENDENT_SEED)[0].astype(np.float32))
    times = {"course recipe": [], **{name: [] for name in TARGETS}}
    print(f"load {os.getloadavg()[0]:.1f}; {args.rounds} rounds", flush=True)
    for round_ in range(args.rounds):
        times["course recipe"].append(run_course_recipe(namespace, round_, args.course_steps, x_fresh).wall)
        for name in TARGETS:
            times[name].append(headless(name))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    course = statistics.median(times["course recipe"])
    ok = True
    for name, target in TARGETS.items():
        ratio = statistics.median(times[name]) / course
        ok &= ratio <= target
        print(f"{name}: headless {statistics.median(times[name]):.1f} s, {ratio:.2f}x the course recipe's {course:.1f} s "
              f"(target {target:.2f}x): {'PASS' if ratio <= target else 'FAIL'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
