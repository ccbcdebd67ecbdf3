"""Train the solution's recipe and the course's original recipe side by side; print NLL, time, ratios.

The solution's recipe is the master's own training cell, run on the master's own classes; the course's
recipe (6 couplings, nets 2-256-256-2, Adam 1e-4, 5001 steps of 100 fresh points) uses the same classes.
Both are scored on 100,000 fresh points drawn independently of the shipped splits, beside the exact
density's own score on those points (the floor: no model can do better in expectation).

    python bench/bench_training.py                 # one seed of each recipe
    python bench/bench_training.py --seeds 20      # the solution's recipe over 20 seeds (spread, worst case)
    python bench/bench_training.py --course-steps 1000   # a shorter course run, extrapolated to 5001 steps
    python bench/bench_training.py --master PATH   # another master of the moons exercise (default: the course's)
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from autograder.notebooks import (  # noqa: E402
    grade_id,
    read_master,
    solution_answers,  # noqa: E402
)

GIVEN = ("setup", "data", "check_helpers", "nets_prior", "true_density")
ANSWERS = ("masks", "coupling", "realnvp", "nll")
INDEPENDENT_SEED = 20_261_129
MOONS_MASTER = REPO / "autograder" / "master" / "realnvp.py"


def master_namespace(master_path=MOONS_MASTER):
    """The notebook's definitions, run from the master: given cells, then the solution's answers."""
    master = read_master(master_path)
    sources = {grade_id(c): c.source for c in master.cells if grade_id(c)}
    sources.update(solution_answers(master))
    namespace = {"__name__": "realnvp_bench"}
    cwd = os.getcwd()
    os.chdir(REPO / "notebooks")  # where the notebook finds ../data
    try:
        for name in GIVEN + ANSWERS:
            exec(compile(sources[name], f"<{name}>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace, sources["train"]


def heldout_nll(namespace, flow, x):
    with torch.no_grad():
        return namespace["nll_loss"](flow, x).item()


def run_solution_recipe(namespace, train_source, seed, x_fresh):
    torch.manual_seed(seed)
    np.random.seed(seed)
    started = time.perf_counter()
    exec(compile(train_source, "<train>", "exec"), namespace)
    seconds = time.perf_counter() - started
    flow = namespace["flow"]
    return heldout_nll(namespace, flow, x_fresh), heldout_nll(namespace, flow, namespace["x_test"]), seconds


def course_net(final_tanh):
    layers = [torch.nn.Linear(2, 256), torch.nn.LeakyReLU(), torch.nn.Linear(256, 256), torch.nn.LeakyReLU(), torch.nn.Linear(256, 2)]
    return torch.nn.Sequential(*layers, *([torch.nn.Tanh()] if final_tanh else []))


def run_course_recipe(namespace, seed, steps, x_fresh):
    """The course notebook's recipe on the master's classes; returns NLL, seconds run, seconds per 5001 steps."""
    torch.manual_seed(seed)
    masks = torch.tensor([[0.0, 1.0], [1.0, 0.0]] * 3)
    flow = namespace["RealNVP"](lambda: course_net(True), lambda: course_net(False), masks, namespace["prior"])
    optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=1e-4)
    started = time.perf_counter()
    for step in range(steps):
        batch = torch.from_numpy(make_moons(100, noise=0.05, random_state=seed * 100_003 + step)[0].astype(np.float32))
        loss = namespace["nll_loss"](flow, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    return heldout_nll(namespace, flow, x_fresh), seconds, seconds * 5001 / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="seeds of the solution's recipe")
    parser.add_argument("--course-steps", type=int, default=5001, help="steps of the course's recipe (0: skip it)")
    parser.add_argument("--master", type=Path, default=MOONS_MASTER, help="the moons exercise's master (default: the course's)")
    args = parser.parse_args(argv)
    namespace, train_source = master_namespace(args.master)  # its setup cell sets the thread count both recipes run with
    x_fresh = torch.from_numpy(make_moons(100_000, noise=0.05, random_state=INDEPENDENT_SEED)[0].astype(np.float32))
    floor = -namespace["true_log_density"](x_fresh.numpy()).mean()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); held-out set: 100,000 fresh points "
          f"(random_state={INDEPENDENT_SEED}); the exact density scores {floor:.4f} on them")
    rows = []
    for seed in range(args.seeds):
        fresh, test, seconds = run_solution_recipe(namespace, train_source, seed, x_fresh)
        rows.append((fresh, test, seconds))
        print(f"solution recipe, seed {seed:2d}: held-out NLL {fresh:.4f} (gap {fresh - floor:.4f}; "
              f"shipped test split {test:.4f}), training {seconds:.1f} s")
    fresh = np.array([r[0] for r in rows])
    seconds = np.array([r[2] for r in rows])
    print(f"solution recipe over {len(rows)} seed(s): NLL mean {fresh.mean():.4f}, worst {fresh.max():.4f}, "
          f"best {fresh.min():.4f}; training mean {seconds.mean():.1f} s, worst {seconds.max():.1f} s")
    if args.course_steps:
        course_nll, course_seconds, course_full = run_course_recipe(namespace, 0, args.course_steps, x_fresh)
        note = "" if args.course_steps == 5001 else f" ({args.course_steps} steps in {course_seconds:.1f} s, extrapolated)"
        print(f"course recipe, seed 0, {args.course_steps} steps: held-out NLL {course_nll:.4f}, "
              f"5001 steps take {course_full:.1f} s{note}")
        print(f"ratio course / solution: time {course_full / seconds[0]:.1f}x, "
              f"gap to the exact density {(course_nll - floor) / (fresh[0] - floor):.1f}x "
              f"({course_nll - floor:.4f} vs {fresh[0] - floor:.4f} nats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
