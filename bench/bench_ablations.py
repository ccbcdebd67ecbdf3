"""The ablations the moons solution shows, run long: the solution's own training cell with other masks.

The notebook trains each ablation briefly (a few seconds each) and quotes this bench's table for the long runs:
the same recipe as the solution (its training cell, run on the master's classes), with the masks changed, over
a few seeds, scored on 100,000 fresh points (as bench_training.py scores the solution).

    python bench/bench_ablations.py              # 3 seeds of each row: the table the notebook quotes
    python bench/bench_ablations.py --seeds 1    # a quick look
    python bench/bench_ablations.py --write bench/moons_ablations.json   # and keep the table (the lesson quotes it)
"""

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

os.environ["TQDM_DISABLE"] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_training import INDEPENDENT_SEED, REPO, heldout_nll, master_namespace, master_sources  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

MASKS_CALL = "make_masks(N_LAYERS, DIM)"


def rows(namespace, depth):
    """(label, masks) of each ablation: the same mask everywhere at the solution's depth, alternating masks at several."""
    same = torch.tensor([[1.0, 0.0]] * depth)
    alternating = [(f"{k} layers, alternating masks", namespace["make_masks"](k, namespace["DIM"])) for k in sorted({2, 4, 8, depth})]
    return [(f"{depth} layers, the same mask in each", same), *alternating]


def train_with(namespace, train_source, masks, seed):
    """The solution's training cell with these masks; the trained flow."""
    assert MASKS_CALL in train_source, f"the training cell no longer builds its masks with {MASKS_CALL}"
    namespace["ABLATION_MASKS"] = masks
    torch.manual_seed(seed)
    np.random.seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):  # the cell's own report would break the table
        exec(compile(train_source.replace(MASKS_CALL, "ABLATION_MASKS"), "<train>", "exec"), namespace)
    return namespace["flow"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per row (default 3)")
    parser.add_argument("--master", default=str(REPO / "autograder" / "master" / "realnvp.py"), help="the moons master")
    parser.add_argument("--write", type=Path, help="keep the table in this JSON file")
    args = parser.parse_args(argv)
    sources = master_sources(Path(args.master))
    namespace, train_source = master_namespace(Path(args.master), sources), sources["train"]
    depth = int(next(line for line in train_source.splitlines() if line.startswith("N_LAYERS")).split("=")[1].split(",")[0])
    x_fresh = torch.from_numpy(make_moons(100_000, noise=0.05, random_state=INDEPENDENT_SEED)[0].astype(np.float32))
    floor = -namespace["true_log_density"](x_fresh.numpy()).mean()
    print(f"{args.seeds} seed(s) per row; 100,000 fresh points (random_state={INDEPENDENT_SEED}), exact density {floor:.3f}\n")
    print("| flow (the solution's recipe) | held-out NLL, mean | worst |\n|---|---|---|")
    table = []
    for label, masks in rows(namespace, depth):
        started, scores = time.perf_counter(), []
        for seed in range(args.seeds):
            scores.append(heldout_nll(namespace, train_with(namespace, train_source, masks, seed), x_fresh))
        print(f"| {label} | {np.mean(scores):.3f} | {max(scores):.3f} |", flush=True)
        mean, worst = round(float(np.mean(scores)), 3), round(max(scores), 3)
        table.append({"flow": label, "mean": mean, "worst": worst, "nll": [round(v, 4) for v in scores]})
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.write:
        import json

        run = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": round(os.getloadavg()[0], 1), "seeds": args.seeds}
        run.update(exact_density_nll=round(float(floor), 4), rows=table)
        args.write.write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
