"""Train the course's recipe and the solution's recipe side by side, on one thread; print NLL, time, ratio, PASS/FAIL.

Both recipes run in this one process, on the master's own classes (its given cells and its solution's answers),
with the thread count its setup cell sets (one). The solution's recipe is the master's training cell as written
(--recipe and --width try another); the course's recipe (6 couplings, nets 2-256-256-2, Adam 1e-4, 5001 steps of
100 fresh points) is coded below. Both are scored on 100,000 fresh points drawn independently of the shipped
splits, beside the exact density's own score on them (the floor: no model does better in expectation). The
course's run sits between the solution's seeds, so a change of load on a shared machine falls on both. Each run
is timed by the wall clock and by this thread's CPU time (which a loaded machine inflates least); a time target
is met only when both meet it.

    python bench/bench_training.py                        # the course's recipe once, the solution's over 5 seeds
    python bench/bench_training.py --write bench/moons_training.json   # and keep the run (docs/self-learners.md quotes it)
    python bench/bench_training.py --seeds 20 --course-steps 0     # the solution's spread only
    python bench/bench_training.py --width 32 --recipe "N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 12, 2500, 512, 5e-3"
    python bench/bench_training.py --master ../elsewhere/autograder/master/realnvp.py
    python bench/bench_training.py --course-steps 0 --seed-list 0,4,7 --zero-last \
        --recipe "N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 10, 1600, 512, 1.2e-2"

Targets (issue 13): time(solution) / time(course) <= 0.25, mean held-out NLL <= 0.300 nats and worst seed <= 0.305,
the solution's training <= 25 s.
"""

import argparse
import contextlib
import io
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from autograder.notebooks import grade_id, read_master, solution_answers  # noqa: E402

GIVEN = ("setup", "check_helpers", "explorer_kit", "data", "nets_prior", "true_density", "snapshots")  # in the notebook's order
ANSWERS = ("masks", "coupling", "realnvp", "nll")
RECIPE_LINE = re.compile(r"^N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = .*$", re.M)
WIDTH_LINE = re.compile(r"^WIDTH = .*$", re.M)
INDEPENDENT_SEED = 20_261_129
RATIO_TARGET, MEAN_NLL_TARGET, WORST_NLL_TARGET, SECONDS_TARGET = 0.25, 0.300, 0.305, 25.0


@dataclass
class Run:
    """One training run: held-out NLL on the fresh points (and on the shipped test split), seconds of wall and CPU."""

    nll: float
    test_nll: float
    wall: float
    cpu: float


def replaced(source, pattern, line, what):
    """source with the one line matching pattern replaced by line; an error says which cell lost that line."""
    if not pattern.search(source):
        raise SystemExit(f"the master's {what} cell has no line matching {pattern.pattern!r}: --recipe/--width cannot apply")
    return pattern.sub(line, source)


ZERO_LAST = """

def _zero_last(net):  # --zero-last: the net's last Linear starts at zero, so that each coupling starts as the identity
    last = [module for module in net if isinstance(module, nn.Linear)][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return net


_nets, _nett = nets, nett
nets, nett = (lambda: _zero_last(_nets())), (lambda: _zero_last(_nett()))
"""


def master_sources(master, recipe=None, width=None, zero_last=False):
    """grade_id -> source of the master's given cells and solution answers, with the recipe or width replaced."""
    nb = read_master(master)
    sources = {grade_id(c): c.source for c in nb.cells if grade_id(c)}
    sources.update(solution_answers(nb))
    missing = [name for name in (*GIVEN, *ANSWERS, "train") if name not in sources]
    if missing:
        raise SystemExit(f"{master} has no cell with grade_id {', '.join(missing)}: update GIVEN/ANSWERS in this bench")
    if recipe:
        sources["train"] = replaced(sources["train"], RECIPE_LINE, recipe, "train")
    if width:
        sources["nets_prior"] = replaced(sources["nets_prior"], WIDTH_LINE, f"WIDTH = {width}", "nets_prior")
    if zero_last:
        sources["nets_prior"] += ZERO_LAST
    return sources


def master_namespace(master, sources):
    """The notebook's definitions: given cells, then answers, run where the notebook finds the course's data/."""
    data_root = next((p for p in Path(master).resolve().parents if (p / "data" / "moons_train.csv").is_file()), Path.cwd())
    namespace = {"__name__": "realnvp_bench"}
    cwd = os.getcwd()
    os.chdir(data_root)  # the data cell reads data/moons_*.csv (and regenerates them when there is none)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for name in GIVEN + ANSWERS:
                exec(compile(sources[name], f"<{name}>", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


def heldout_nll(namespace, flow, x):
    with torch.no_grad():
        return namespace["nll_loss"](flow, x).item()


def timed(train):
    """train() -> flow, with its wall-clock and this thread's CPU seconds."""
    wall, cpu = time.perf_counter(), time.thread_time()
    flow = train()
    return flow, time.perf_counter() - wall, time.thread_time() - cpu


def run_solution_recipe(namespace, train_source, seed, x_fresh):
    """The master's training cell, as the notebook runs it, after seeding as its setup cell does."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    code = compile(train_source, "<train>", "exec")

    def train():
        with contextlib.redirect_stdout(io.StringIO()):  # the cell's own progress line
            exec(code, namespace)
        return namespace["flow"]

    flow, wall, cpu = timed(train)
    history = namespace["history"]
    if not history["eval_step"] or history["eval_step"][-1] != history["step"][-1]:
        raise SystemExit("the training cell's history has no test NLL at its last step, as Part 5 asks")
    return Run(heldout_nll(namespace, flow, x_fresh), heldout_nll(namespace, flow, namespace["x_test"]), wall, cpu)


def course_net(final_tanh):
    layers = [torch.nn.Linear(2, 256), torch.nn.LeakyReLU(), torch.nn.Linear(256, 256), torch.nn.LeakyReLU(), torch.nn.Linear(256, 2)]
    return torch.nn.Sequential(*layers, *([torch.nn.Tanh()] if final_tanh else []))


def run_course_recipe(namespace, seed, steps, x_fresh):
    """The course notebook's recipe on the master's classes; its times are scaled to 5001 steps when steps is less."""
    torch.manual_seed(seed)
    masks = torch.tensor([[0.0, 1.0], [1.0, 0.0]] * 3)
    flow = namespace["RealNVP"](lambda: course_net(True), lambda: course_net(False), masks, namespace["prior"])
    optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad], lr=1e-4)

    def train():
        for step in range(steps):
            batch = torch.from_numpy(make_moons(100, noise=0.05, random_state=seed * 100_003 + step)[0].astype(np.float32))
            loss = namespace["nll_loss"](flow, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return flow

    flow, wall, cpu = timed(train)
    scale = 5001 / steps
    return Run(heldout_nll(namespace, flow, x_fresh), heldout_nll(namespace, flow, namespace["x_test"]), wall * scale, cpu * scale)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(runs, course, floor):
    """Print the solution's spread, the ratio to the course's recipe and a PASS/FAIL per target; True if all pass."""
    nll = np.array([r.nll for r in runs])
    wall, cpu = np.array([r.wall for r in runs]), np.array([r.cpu for r in runs])
    spread = nll.std(ddof=1) if len(nll) > 1 else 0.0
    print(
        f"solution recipe over {len(runs)} seed(s): held-out NLL mean {nll.mean():.4f}, worst {nll.max():.4f}, best "
        f"{nll.min():.4f}, spread (std) {spread:.4f}; gap to the exact density {nll.mean() - floor:.4f} nats; "
        f"training mean {wall.mean():.1f} s wall, {cpu.mean():.1f} s CPU"
    )
    checks = [
        (nll.mean() <= MEAN_NLL_TARGET, f"mean held-out NLL {nll.mean():.4f} <= {MEAN_NLL_TARGET}"),
        (nll.max() <= WORST_NLL_TARGET, f"worst seed {nll.max():.4f} <= {WORST_NLL_TARGET}"),
        (cpu.mean() <= SECONDS_TARGET, f"training {cpu.mean():.1f} s of CPU <= {SECONDS_TARGET:.0f} s (wall {wall.mean():.1f} s)"),
    ]
    if course:
        ratios = wall.mean() / course.wall, cpu.mean() / course.cpu
        print(
            f"course recipe: held-out NLL {course.nll:.4f} (gap {course.nll - floor:.4f}), 5001 steps in {course.wall:.1f} s "
            f"wall, {course.cpu:.1f} s CPU"
        )
        checks.append(
            (max(ratios) <= RATIO_TARGET, f"time solution / course {ratios[0]:.3f}x wall, {ratios[1]:.3f}x CPU <= {RATIO_TARGET}x")
        )
    for ok, text in checks:
        print(f"{verdict(ok)}  {text}")
    return all(ok for ok, _ in checks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", type=Path, default=REPO / "autograder" / "master" / "realnvp.py", help="the moons master")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the solution's recipe (0, 1, ...)")
    parser.add_argument("--course-steps", type=int, default=5001, help="steps of the course's recipe (0: skip it)")
    parser.add_argument("--recipe", help="replace the training cell's 'N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = ...' line")
    parser.add_argument("--width", type=int, help="replace the nets' WIDTH")
    parser.add_argument("--seed-list", help="these seeds (comma-separated) in place of 0 .. --seeds - 1")
    parser.add_argument("--zero-last", action="store_true", help="start each net's last Linear at zero")
    parser.add_argument("--write", type=Path, help="keep the run's numbers in this JSON file")
    args = parser.parse_args(argv)
    sources = master_sources(args.master, args.recipe, args.width, args.zero_last)
    seeds = [int(seed) for seed in args.seed_list.split(",")] if args.seed_list else list(range(args.seeds))
    namespace = master_namespace(args.master, sources)  # its setup cell sets the thread count both recipes run with
    x_fresh = torch.from_numpy(make_moons(100_000, noise=0.05, random_state=INDEPENDENT_SEED)[0].astype(np.float32))
    floor = -namespace["true_log_density"](x_fresh.numpy()).mean()
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the first optimizer imports torch._dynamo (~1 s): not a recipe's time
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load {os.getloadavg()[0]:.1f}; held-out set: "
        f"100,000 fresh points (random_state={INDEPENDENT_SEED}), the exact density scores {floor:.4f} on them"
    )
    print(f"solution recipe: {RECIPE_LINE.search(sources['train']).group(0)}; {WIDTH_LINE.search(sources['nets_prior']).group(0)}")
    runs, course = [], None
    for index, seed in enumerate(seeds):
        if args.course_steps and index == len(seeds) // 2:
            course = run_course_recipe(namespace, 0, args.course_steps, x_fresh)
            print(
                f"course recipe, {args.course_steps} steps: held-out NLL {course.nll:.4f}, {course.wall:.1f} s wall, "
                f"{course.cpu:.1f} s CPU (per 5001 steps)",
                flush=True,
            )
        runs.append(run_solution_recipe(namespace, sources["train"], seed, x_fresh))
        r = runs[-1]
        print(
            f"solution recipe, seed {seed}: held-out NLL {r.nll:.4f} (shipped test split {r.test_nll:.4f}), "
            f"{r.wall:.1f} s wall, {r.cpu:.1f} s CPU",
            flush=True,
        )
    passed = report(runs, course, floor)
    if args.write:
        write_run(args.write, sources, seeds, runs, course, floor)
    return 0 if passed else 1


def write_run(path, sources, seeds, runs, course, floor):
    """The run's numbers as JSON: what docs/self-learners.md quotes, and tests/lesson/test_moons_lesson.py compares."""
    import json

    run = {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": round(os.getloadavg()[0], 1),
        "torch": torch.__version__,
        "exact_density_nll": round(floor, 4),
        "solution_recipe": RECIPE_LINE.search(sources["train"]).group(0),
        "solution": [
            {"seed": seed, "nll": round(r.nll, 4), "test_nll": round(r.test_nll, 4), "wall_s": round(r.wall, 2), "cpu_s": round(r.cpu, 2)}
            for seed, r in zip(seeds, runs)
        ],
        "course": None if course is None else {"nll": round(course.nll, 4), "wall_s": round(course.wall, 2), "cpu_s": round(course.cpu, 2)},
    }
    Path(path).write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
