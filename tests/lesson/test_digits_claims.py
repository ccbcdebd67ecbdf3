"""Numbers that the digits notebook's text and docs/students.md state about computed results are those the executed
solution prints: the two Gaussian baselines, quoted with the three decimals it prints (a page that rounds them its
own way drifts from the others)."""

import re

import nbformat
from conftest import REPO

from autograder.notebooks import grade_id

SOLUTION = REPO / "solutions" / "realnvp_digits.ipynb"
MASTER = REPO / "autograder" / "master" / "realnvp_digits.py"
STUDENTS = REPO / "docs" / "students.md"


def printed_baselines():
    """{"full": "2.447", "independent": "2.901"} as the solution's baselines cell prints them."""
    cell = next(c for c in nbformat.read(SOLUTION, as_version=4).cells if grade_id(c) == "baselines")
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return {
        "full": re.search(r"one full-covariance Gaussian\s+(\d\.\d{3})", text).group(1),
        "independent": re.search(r"independent Gaussians per pixel\s+(\d\.\d{3})", text).group(1),
    }


def test_the_baselines_quoted_are_the_baselines_computed():
    printed, master = printed_baselines(), MASTER.read_text(encoding="utf-8")
    constants = re.search(r"^BPD_TARGET, FULL_GAUSSIAN_BPD, INDEPENDENT_BPD = (.*)$", master, re.M).group(1)
    assert [c.strip() for c in constants.split(",")[1:]] == [printed["full"], printed["independent"]]
    assert f"independent Gaussians per pixel score about {printed['independent']} bits/dim" in " ".join(master.split())
    assert f"covariance about {printed['full']}; a flow should beat both" in " ".join(master.split())
    assert f"a full-covariance Gaussian scores {printed['full']})" in STUDENTS.read_text(encoding="utf-8")


def printed(gid):
    cell = next(c for c in nbformat.read(SOLUTION, as_version=4).cells if grade_id(c) == gid)
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_part_4_s_hint_about_the_training_time_is_what_the_solution_printed():
    """The hint says the solution's loop prints its time and finishes its steps within the budget: no number to drift
    (a time quoted in the hint is one the next run of the solution or of the bench no longer prints)."""
    master = " ".join(MASTER.read_text(encoding="utf-8").replace("#", " ").split())
    budget = int(re.search(r"Your training must finish within \*\*(\d+) seconds\*\*", master).group(1))
    steps, seconds = re.search(r"trained (\d+) steps in ([0-9.]+) s", printed("train")).groups()
    assert f"about {int(steps):,} steps (the solution's loop, which prints its time, finishes them within the budget" in master
    assert float(seconds) < budget, (seconds, budget)


def _recipe(master_text):
    """The solution's recipe line of Part 4, as its training cell writes it."""
    return re.search(r"^N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = .*$", master_text, re.M).group(0)


def _recipe_runs():
    import json

    return json.loads((REPO / "bench" / "digits_recipes.json").read_text(encoding="utf-8"))["runs"]


def test_part_4_s_hint_about_plain_adam_quotes_the_step_cost_bench():
    """Plain Adam against the fused one, at the solution's batch: bench/bench_step_costs.py's file, not a remembered "a third"."""
    import json

    costs = json.loads((REPO / "bench" / "step_costs.json").read_text(encoding="utf-8"))["digits"]
    master_text = MASTER.read_text(encoding="utf-8")
    assert f", {costs['batch']}, " in _recipe(master_text), "the bench timed another batch than the recipe's"
    master = " ".join(master_text.replace("#", " ").split())
    assert f"plain Adam loops over the parameters in Python, and a step took {costs['plain_to_fused']:.2f} times as long" in master


def test_part_4_s_hint_about_wider_networks_quotes_the_digits_bench():
    """"hidden=128 with a learning rate of 1e-3 for as many steps ends at ...": bench/bench_digits.py's run of that recipe, with
    the solution's steps and batch, kept in bench/digits_recipes.json."""
    master_text = MASTER.read_text(encoding="utf-8")
    layers, _, steps, batch, _ = (v.strip() for v in _recipe(master_text).split("=")[1].split(","))
    wide = f"N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = {layers}, 128, {steps}, {batch}, 1e-3"
    run = next(r for r in _recipe_runs() if r["recipe"] == wide)
    mean = sum(run["test"]) / len(run["test"])
    master = " ".join(master_text.replace("#", " ").split())
    seeds = len(run["test"])
    assert f"for as many steps ends at {mean:.2f} bits/dim on the test split ({seeds} seeds of `bench/bench_digits.py`)" in master
    solution = next(r for r in _recipe_runs() if r["recipe"] == _recipe(master_text))
    assert f"against {sum(solution['test']) / len(solution['test']):.2f} for the recipe above over {len(solution['test'])} seeds" in master
    assert f"and at {sum(run['train']) / len(run['train']):.2f} on its own training images" in master


def test_self_learners_digits_table_is_the_digits_bench_s_file():
    """docs/self-learners.md's table of the solution's recipe over seeds, and its margins to the target: the run of the master's
    own recipe in bench/digits_recipes.json (it quoted 2.184 over 10 seeds beside a docstring's 2.183 over 20, and no file)."""
    import math
    import statistics

    master_text = MASTER.read_text(encoding="utf-8")
    runs = [r for r in _recipe_runs() if r["recipe"] == _recipe(master_text)]
    assert runs, "bench/digits_recipes.json has no run of the master's recipe: python bench/bench_digits.py --seeds 10 --write"
    run = max(runs, key=lambda r: len(r["seeds"]))
    test, grading = run["test"], run["grading"]
    margins = [f - t for f, t in zip(run["full_gaussian"], test, strict=True)]
    page = " ".join((REPO / "docs" / "self-learners.md").read_text(encoding="utf-8").split())
    assert f"| | held-out bits/dim (test split), {len(test)} seeds |" in page
    spread = f"{statistics.mean(test):.3f} ± {statistics.stdev(test):.3f} ({min(test):.3f} to {max(test):.3f})"
    assert f"| Real NVP, the solution's recipe | {spread} |" in page
    at_least = math.floor(round(min(margins), 6) * 1000) / 1000  # "at least": rounded down (0.2375 is not at least 0.238)
    assert f"| **{statistics.mean(margins):.3f} ± {statistics.stdev(margins):.3f}** (at least {at_least:.3f}) |" in page
    target = float(re.search(r"^BPD_TARGET, .*= ([0-9.]+),", master_text, re.M).group(1))
    worst = max(max(test), max(grading))
    assert f"over these {len(test)} seeds the solution's recipe clears it by at least {target - worst:.3f}" in page
    assert f"| one full-covariance Gaussian | {statistics.mean(run['full_gaussian']):.3f} |" in page
    assert f"| independent Gaussians per pixel | {statistics.mean(run['independent']):.3f} |" in page
    assert f"The solution overfits ({statistics.mean(run['train']):.2f} bits/dim on its training split, the mean over these seeds)" in page


def _cell_seconds(nb):
    """grade_id (or the cell's index) -> seconds the executed cell took, from its metadata.execution timestamps."""
    from datetime import datetime

    seconds = {}
    for k, cell in enumerate(nb.cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            keys = ("iopub.execute_input", "shell.execute_reply")
            start, end = (datetime.fromisoformat(stamps[key].replace("Z", "+00:00")) for key in keys)
            seconds[grade_id(cell) or k] = (end - start).total_seconds()
    return seconds


def test_benchmarks_md_says_where_the_committed_digits_solution_s_time_goes():
    """docs/benchmarks.md's times of the digits solution's cells are those of the committed solution's metadata (it quoted a
    graded training of 14.9 s from one build beside a committed solution that printed 13.3 s)."""
    seconds = _cell_seconds(nbformat.read(SOLUTION, as_version=4))
    page = " ".join((REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8").split())
    quoted = (
        f"The digits, as committed: {sum(seconds.values()):.1f} s in cells, of which the graded training {seconds['train']:.1f} s "
        f"and the multi-scale training {seconds['train_multiscale']:.1f} s, the imports {seconds['setup']:.1f} s"
    )
    assert quoted in page, quoted
    rest = max(v for k, v in seconds.items() if k not in ("train", "train_multiscale", "setup"))
    assert f"the longest other cell {rest:.1f} s" in page
    moons = _cell_seconds(nbformat.read(REPO / "solutions" / "realnvp.ipynb", as_version=4))
    assert f"The moons, as committed: {sum(moons.values()):.1f} s in cells, of which the graded training {moons['train']:.1f} s" in page
