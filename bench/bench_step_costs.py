"""What one training step costs, for the lessons' claims about it: batch sizes and the optimizer's switches, one thread.

The lessons' hints say what a step costs against another: the moons (Part 5), a step of 512 points against one of 100
with the solution's 10 layers, and what `fused=True` for Adam and `foreach=True` for the clipping (given a list of the
parameters built once) save; the digits (Part 4), what plain Adam costs against the fused one with the solution's
checkerboard flow and batch (its recipe line). Each flow is built from the master's own cells (its given cells and its
solution answers) and stepped as the solution's training cell steps it; every variant of a comparison is timed in
alternation (blocks of about a second, this thread's CPU time), and the best of the rounds is kept, so that other work
on a shared machine weighs on each alike and a burst of it does not count.

    python bench/bench_step_costs.py            # prints; --write writes bench/step_costs.json

tests/lesson/test_moons_lesson.py and tests/lesson/test_digits_claims.py hold the lessons' sentences and the file together.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_digits  # noqa: E402
import bench_training  # noqa: E402

torch = bench_training.torch
ROOT = bench_training.REPO
RESULTS = ROOT / "bench" / "step_costs.json"


def stepper(flow, loss_of, batches, fused, foreach, max_norm):
    """One training step of flow as a function: a batch drawn by batches(), Adam (fused or not), clipping (foreach or not)."""
    listed = list(flow.parameters())
    optimizer = torch.optim.Adam(listed, lr=1e-5, fused=fused)

    def step():
        loss = loss_of(flow, batches())
        optimizer.zero_grad()
        loss.backward()
        if foreach:
            torch.nn.utils.clip_grad_norm_(listed, max_norm=max_norm, foreach=True)
        else:  # the plain way: the module tree walked and each tensor clipped in its own call, every step
            torch.nn.utils.clip_grad_norm_(flow.parameters(), max_norm=max_norm, foreach=False)
        optimizer.step()

    return step


def best_ms(steps, rounds, block):
    """{name: best over rounds of the mean CPU milliseconds of one step}, the variants timed in alternation."""
    for step in steps.values():  # warm up each: first calls allocate
        for _ in range(5):
            step()
    costs = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            started = time.thread_time()
            for _ in range(block[name]):
                step()
            costs[name].append(1000 * (time.thread_time() - started) / block[name])
    return {name: round(min(values), 2) for name, values in costs.items()}


def moons(rounds):
    """The moons solution's flow (10 layers): batches of 100 and 512 with both switches, and 512 with neither."""
    master = ROOT / "autograder" / "master" / "realnvp.py"
    ns = bench_training.master_namespace(master, bench_training.master_sources(master))
    x_train, nll_loss = ns["x_train"], ns["nll_loss"]

    def flow():
        torch.manual_seed(0)
        return ns["RealNVP"](ns["nets"], ns["nett"], ns["make_masks"](10, ns["DIM"]), ns["prior"])

    def draws(n):
        return lambda: x_train[torch.randint(len(x_train), (n,))]

    steps = {
        "batch_100": stepper(flow(), nll_loss, draws(100), fused=True, foreach=True, max_norm=1.0),
        "batch_512": stepper(flow(), nll_loss, draws(512), fused=True, foreach=True, max_norm=1.0),
        "batch_512_plain": stepper(flow(), nll_loss, draws(512), fused=False, foreach=False, max_norm=1.0),
    }
    ms = best_ms(steps, rounds, dict.fromkeys(steps, 80))
    return {
        **{f"{name}_ms": value for name, value in ms.items()},
        "ratio_512_to_100": round(ms["batch_512"] / ms["batch_100"], 2),
        "switches_saving": round(1 - ms["batch_512"] / ms["batch_512_plain"], 3),
    }


def digits(rounds):
    """The digits solution's checkerboard flow and batch (its training cell's recipe line): fused Adam against plain Adam."""
    ns, train_source, _ = bench_digits.master_namespace()
    recipe = {}
    exec(bench_digits.RECIPE_LINE.search(train_source).group(0), recipe)
    x_train, bits_per_dim, dequantize = ns["x_train"], ns["bits_per_dim"], ns["dequantize"]

    def flow():
        torch.manual_seed(0)
        return ns["ImageFlow"](ns["checkerboard_masks"](recipe["N_LAYERS"], ns["HEIGHT"], ns["WIDTH"]), recipe["HIDDEN"])

    def draws():
        return dequantize(x_train[torch.randint(len(x_train), (recipe["BATCH"],))])

    steps = {
        "fused": stepper(flow(), bits_per_dim, draws, fused=True, foreach=True, max_norm=10.0),
        "plain_adam": stepper(flow(), bits_per_dim, draws, fused=False, foreach=True, max_norm=10.0),
    }
    ms = best_ms(steps, rounds, dict.fromkeys(steps, 120))
    return {
        "batch": recipe["BATCH"],
        **{f"{name}_ms": value for name, value in ms.items()},
        "plain_to_fused": round(ms["plain_adam"] / ms["fused"], 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    load = round(os.getloadavg()[0], 1)
    results = {"rounds": args.rounds, "load": load, "moons": moons(args.rounds), "digits": digits(args.rounds)}
    results["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(results, indent=1))
    if args.write:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
