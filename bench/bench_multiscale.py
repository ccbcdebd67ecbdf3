"""Checkerboard-only flow (Part 4's solution) beside the multi-scale flow (Parts 5-8), over seeds: held-out bits/dim and time.

Everything comes from the master (autograder/master/realnvp_digits.py): its given cells, its solution answers, its two
training cells (Part 4's `train` and the given `train_multiscale`, each run as it is, with the seed changed) and the
scoring of its comparison (`heldout_score`: the notebook's `bits_per_dim`, 4 seeded dequantizations of the test split).
Both flows are trained one after the other in the same process, on one thread. Their training time ("seconds") is
the recipe's number of steps times the CPU time of one step, the two flows' steps timed in alternation after the
training (`step_costs`), so that other work on a shared machine weighs on both alike; the CPU time of each whole
training cell, run one after the other, is kept too ("cpu_seconds"), and varies by a quarter from seed to seed here.

    python bench/bench_multiscale.py --seeds 5            # seeds 0-4; writes bench/multiscale_digits.json

The notebook quotes the file's numbers and tests/lesson/test_multiscale_bench.py holds the notebook and the file together.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from autograder.notebooks import BEGIN_SOLUTION, END_SOLUTION, grade_id, read_master, without_markers  # noqa: E402

MASTER = ROOT / "autograder" / "master" / "realnvp_digits.py"
RESULTS = ROOT / "bench" / "multiscale_digits.json"
GIVEN = ("setup", "data", "alpha", "stand_ins", "flow_model", "standard_normal", "multiscale_model")
RECIPE_LINE = re.compile(r"^N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = .*$", re.M)
ANSWERS = ("checkerboard", "dequantize", "logit", "bpd", "squeeze", "channel_masks", "actnorm", "multiscale")


def master_cells():
    """grade_id -> the cell's source with the solution in."""
    return {grade_id(c): without_markers(c.source, BEGIN_SOLUTION, END_SOLUTION) for c in read_master(MASTER).cells if grade_id(c)}


def heldout_score_source(baselines):
    """The `heldout_score` function of the master's baselines cell (the comparison scores both flows with it)."""
    start = baselines.index("def heldout_score")
    end = baselines.index("\n\n\n", start)
    return baselines[start:end]


def run(seed, cells):
    """Train both flows at one seed in a fresh namespace: {flow: (held-out bits/dim, training seconds)}."""
    namespace = {"__name__": "multiscale_bench"}
    exec(compile(cells["setup"], "setup", "exec"), namespace)
    namespace["show_figure"] = lambda figure, alt: namespace["plt"].close(figure)  # no display here: the figure is dropped
    exec(compile(cells["data"], "data", "exec"), namespace)
    for name in GIVEN[2:] + ANSWERS:
        exec(compile(cells[name], name, "exec"), namespace)
    exec(heldout_score_source(cells["baselines"]), namespace)
    namespace["SEED"] = seed
    namespace["torch"].manual_seed(seed)
    started = time.process_time()
    exec(compile(cells["train"], "train", "exec"), namespace)
    checkerboard_seconds = time.process_time() - started
    started = time.process_time()
    exec(compile(cells["train_multiscale"], "train_multiscale", "exec"), namespace)
    multiscale_seconds = time.process_time() - started
    score = namespace["heldout_score"]
    scores = {
        "checkerboard": score(namespace["flow"], namespace["x_test"]),
        "multiscale": score(namespace["multiscale_flow"], namespace["x_test"]),
    }
    per_step = step_costs(namespace)
    steps = {"checkerboard": training_steps(cells["train"]), "multiscale": namespace["MS_STEPS"]}
    return {
        "checkerboard": (scores["checkerboard"], checkerboard_seconds, steps["checkerboard"] * per_step["checkerboard"]),
        "multiscale": (scores["multiscale"], multiscale_seconds, steps["multiscale"] * per_step["multiscale"]),
    }


def training_steps(train_source):
    """N_STEPS of Part 4's solution recipe."""
    namespace = {}
    exec(RECIPE_LINE.search(train_source).group(0), namespace)
    return namespace["N_STEPS"]


def step_costs(namespace, rounds=7):
    """CPU seconds of one training step of each trained flow, the two timed in alternation (blocks of about 1 s each), median
    over rounds: a load that comes and goes on a shared machine then weighs on both alike."""
    torch, bits_per_dim, dequantize, x_train = (namespace[k] for k in ("torch", "bits_per_dim", "dequantize", "x_train"))
    batches = {"checkerboard": namespace["BATCH"], "multiscale": namespace["MS_BATCH"]}  # each recipe's own batch size
    flows = {"checkerboard": (namespace["flow"], 140), "multiscale": (namespace["multiscale_flow"], 25)}
    optimizers = {name: torch.optim.Adam(list(flow.parameters()), lr=1e-5, fused=True) for name, (flow, _) in flows.items()}
    costs = {name: [] for name in flows}
    for _ in range(rounds):
        for name, (flow, steps) in flows.items():
            started = time.process_time()
            for _ in range(steps):
                loss = bits_per_dim(flow, dequantize(x_train[torch.randint(len(x_train), (batches[name],))]))
                optimizers[name].zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(list(flow.parameters()), max_norm=10.0, foreach=True)
                optimizers[name].step()
            costs[name].append((time.process_time() - started) / steps)
    return {name: float(np.median(values)) for name, values in costs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    cells = master_cells()
    runs = []
    for seed in range(args.seeds):
        result = run(seed, cells)
        quantities = ("bpd", "cpu_seconds", "seconds")
        runs.append({"seed": seed, **{f"{k}_{q}": round(v[i], 4) for k, v in result.items() for i, q in enumerate(quantities)}})
        print(runs[-1], flush=True)
    summary = {}
    for kind in ("checkerboard", "multiscale"):
        for quantity in ("bpd", "cpu_seconds", "seconds"):
            values = np.array([r[f"{kind}_{quantity}"] for r in runs])
            summary[f"{kind}_{quantity}_mean"], summary[f"{kind}_{quantity}_std"] = (
                round(float(values.mean()), 4),
                round(float(values.std(ddof=1)), 4),
            )
    ratios = [r["multiscale_seconds"] / r["checkerboard_seconds"] for r in runs]
    summary["time_ratio_max"] = round(max(ratios), 3)
    for key, value in summary.items():
        print(f"{key:28s} {value}")
    if args.write:
        RESULTS.write_text(json.dumps({"runs": runs, "summary": summary}, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
