"""The main job on the bundled data: run each exercise's solution notebook headless, save its figures, report
what its training and training test printed (the held-out score)."""

import base64
import os
import time

import nbformat

from autograder.course.build import execute, generated_paths
from autograder.grader.pipeline.execute import stage_data
from autograder.notebooks import grade_id


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


def printed_by(nb, grade_ids):
    """The lines the cells with these grade_ids printed, in notebook order."""
    text = "".join(o.get("text", "") for c in nb.cells if grade_id(c) in grade_ids for o in c.get("outputs", []))
    return [line for line in text.splitlines() if line.strip()]


def run_solution(notebook, out):
    """Execute the notebook's solution in out (its data staged there) and report."""
    out.mkdir(parents=True, exist_ok=True)
    stage_data(out, notebook)
    solution = generated_paths(notebook.name)["solution"]
    nb = nbformat.read(solution, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    started = time.perf_counter()
    execute(nb, out)
    seconds = time.perf_counter() - started
    nbformat.write(nb, out / solution.name)
    figures = save_figures(nb, out / "figures")
    print(f"== {notebook.title}: solution notebook executed headless in {seconds:.1f} s: {os.path.relpath(out / solution.name)}")
    training_cells = [gid for gid in notebook.timeouts] + [gid for gid, _ in notebook.tests if gid.startswith("test_train")]
    for line in printed_by(nb, training_cells):
        print(f"   {line}")
    print(f"   {len(figures)} figures in {os.path.relpath(out / 'figures')}/: " + ", ".join(p.name for p in figures))
