"""Train the digits solution's recipe over several seeds; print held-out bits/dim beside the two Gaussian baselines.

Everything comes from the master (autograder/master/realnvp_digits.py): its given cells, its solution answers, its
training cell (the recipe on its one `N_LAYERS, HIDDEN, ... = ...` line, which --recipe can replace), the scoring
function of its training test (`pixels_bpd`, in a cell of its own: the test's own dequantization and logit) and its baselines class.

    python bench/bench_digits.py --seeds 10 --write              # the solution's recipe, seeds 0-9, kept in the file
    python bench/bench_digits.py --seeds 20 --start 100          # the student target's check on 20 other seeds
    python bench/bench_digits.py --seeds 5 --recipe "N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = 8, 64, 1000, 128, 5e-4"

With --write a run is kept in bench/digits_recipes.json under its recipe line and seeds (a run of the same recipe and
seeds replaces the earlier one): docs/self-learners.md's table and Part 4's hint about wider networks quote that file,
and tests/lesson/test_digits_claims.py holds them together. (Numbers once written here drifted from the pages that quoted them.)
"""

import argparse
import ast
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
import torch  # noqa: E402

from autograder.notebooks import BEGIN_SOLUTION, END_SOLUTION, grade_id, read_master, without_markers  # noqa: E402

MASTER = ROOT / "autograder" / "master" / "realnvp_digits.py"
RESULTS = ROOT / "bench" / "digits_recipes.json"
GIVEN = ("setup", "data", "check_helpers", "alpha", "stand_ins", "flow_model")
ANSWERS = ("checkerboard", "dequantize", "logit", "bpd")
RECIPE_LINE = re.compile(r"^N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = .*$", re.M)


def definition(source, name):
    """The source of the top-level function or class `name` in a cell's source."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return ast.get_source_segment(source, node)
    raise LookupError(f"{name} is not defined in that cell")


def master_namespace():
    """The notebook's definitions with the solution's answers, the test's scorer and the baselines; and the training cell."""
    sources = {grade_id(c): without_markers(c.source, BEGIN_SOLUTION, END_SOLUTION) for c in read_master(MASTER).cells if grade_id(c)}
    namespace = {"__name__": "digits_bench"}
    for name in GIVEN + ANSWERS:
        exec(compile(sources[name], f"<{name}>", "exec"), namespace)
        if name == "setup":  # the data cell shows its figure with the explorer kit's show_figure: no display here
            namespace["show_figure"] = lambda figure, alt: namespace["plt"].close(figure)
    exec(compile(sources["pixels_bpd"], "<pixels_bpd>", "exec"), namespace)  # the training test's scorer (its own cell)
    for name in ("GaussianBaseline", "heldout_score"):
        exec(definition(sources["baselines"], name), namespace)
    target = float(re.search(r"^BPD_TARGET, .*= ([0-9.]+),", sources["test_train"], re.M).group(1))
    return namespace, sources["train"], target


def baselines(ns, seed):
    """Held-out bits/dim of the independent and full-covariance Gaussians fitted to 10 dequantizations of x_train."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        w_fit = torch.cat([ns["logit_transform"](ns["dequantize"](ns["x_train"].double()))[0] for _ in range(10)])
    return tuple(ns["heldout_score"](ns["GaussianBaseline"](w_fit, full=full), ns["x_test"]) for full in (False, True))


def run_seed(ns, train_source, seed, x_grading):
    torch.manual_seed(seed)
    np.random.seed(seed)
    started = time.perf_counter()
    exec(compile(train_source, "<train>", "exec"), ns)
    seconds = time.perf_counter() - started
    flow = ns["flow"]
    scores = {split: ns["pixels_bpd"](flow, x) for split, x in (("test", ns["x_test"]), ("grading", x_grading), ("train", ns["x_train"]))}
    scores["test_shown"] = ns["heldout_score"](flow, ns["x_test"])  # what the notebook prints, through the answers
    independent, full = baselines(ns, seed)
    return seconds, scores, independent, full


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--recipe", help="replace the training cell's recipe line")
    parser.add_argument("--write", action="store_true", help="keep the run in bench/digits_recipes.json (by recipe and seeds)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ns, train_source, target = master_namespace()
    if args.recipe:
        train_source = RECIPE_LINE.sub(args.recipe, train_source)
    print(f"recipe: {RECIPE_LINE.search(train_source).group(0)}; target {target} bits/dim; load {os.getloadavg()[0]:.1f}")
    x_grading = ns["load_digit_split"]("grading")[0]
    rows = []
    for seed in range(args.start, args.start + args.seeds):
        seconds, scores, independent, full = run_seed(ns, train_source, seed, x_grading)
        rows.append((scores["test"], scores["grading"], full, independent, seconds, scores["train"]))
        print(
            f"seed {seed:3d}: {seconds:5.1f} s  flow test {scores['test']:.3f} (shown {scores['test_shown']:.3f})"
            f" grading {scores['grading']:.3f} train {scores['train']:.3f} | full Gaussian {full:.3f}"
            f" independent {independent:.3f} | margin over full {full - scores['test']:.3f},"
            f" under target {target - max(scores['test'], scores['grading']):.3f}",
            flush=True,
        )
    test, grading, full, independent, seconds, _ = (np.array(column) for column in zip(*rows, strict=True))
    print(f"\n{len(rows)} seeds; mean (std) [min, max]:")
    columns = [("flow test", test), ("flow grading", grading), ("full Gaussian", full), ("independent", independent)]
    for name, values in [*columns, ("margin flow vs full Gaussian", full - test), ("seconds", seconds)]:
        spread = values.std(ddof=1) if len(values) > 1 else 0.0
        print(f"  {name:30s} {values.mean():.3f} ({spread:.3f}) [{values.min():.3f}, {values.max():.3f}]")
    worst = np.maximum(test, grading)
    passed = (worst < target).sum()
    print(f"  target {target}: passed {passed}/{len(rows)} seeds (test and grading); smallest margin {target - worst.max():.3f} bits/dim")
    if args.write:
        write(RECIPE_LINE.search(train_source).group(0), list(range(args.start, args.start + args.seeds)), rows)


def write(recipe, seeds, rows):
    """Keep this run in RESULTS under its recipe line (a run of the same recipe and seeds replaces the earlier one)."""
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {"runs": []}
    columns = ("test", "grading", "full_gaussian", "independent", "seconds", "train")
    run = {"recipe": recipe, "seeds": seeds, **{k: [round(float(r[i]), 4) for r in rows] for i, k in enumerate(columns)}}
    results["runs"] = [r for r in results["runs"] if (r["recipe"], r["seeds"]) != (recipe, seeds)] + [run]
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
