"""The main job on the bundled data: run the solution notebook headless, save its figures, report the NLL."""

import base64
import os
import re
import shutil
import time
from pathlib import Path

import nbformat

from . import MASTER, SOLUTION_NOTEBOOK
from .build import execute
from .exercise import load_exercise
from .notebooks import grade_id
from .runner import stage_data


def save_figures(nb, folder):
    """Write every PNG output of nb to folder as NN-<cell>.png; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                path = folder / f"{len(paths) + 1:02d}-{grade_id(cell) or 'cell'}.png"
                path.write_bytes(base64.b64decode(output["data"]["image/png"]))
                paths.append(path)
    return paths


def printed(nb, pattern):
    """The first match of pattern in the notebook's printed output, or None."""
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    match = re.search(pattern, text)
    return match.group(1) if match else None


def run_solution(out):
    out.mkdir(parents=True, exist_ok=True)
    stage_data(out, load_exercise(MASTER))
    nb = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.perf_counter()
    execute(nb, out)
    seconds = time.perf_counter() - started
    nbformat.write(nb, out / SOLUTION_NOTEBOOK.name)
    figures = save_figures(nb, out / "figures")
    training = printed(nb, r"(trained \d+ steps in [0-9.]+ s)")
    nll = printed(nb, r"held-out NLL on the test split: ([0-9.]+)")
    print(f"solution notebook executed headless in {seconds:.1f} s: {os.path.relpath(out / SOLUTION_NOTEBOOK.name)}")
    print(f"training: {training}")
    print(f"held-out NLL on the test split: {nll} nats per sample (the entropy of the data, about 0.289, is the floor)")
    print(f"{len(figures)} figures in {os.path.relpath(out / 'figures')}/: " + ", ".join(p.name for p in figures))


def main(args):
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    run_solution(out)
    return 0
