"""Grade N generated submissions with plain serial `nbgrader autograde` and with `python -m autograder grade`,
in one run; print both wall times and their ratio.

    python bench/bench_grading.py                  # 100 submissions, all cores for the grader
    python bench/bench_grading.py -n 6 --workers 2 # a quick check that both paths work
    python bench/bench_grading.py --assignment NAME # another exercise (default: realnvp, the two moons)
    python bench/bench_grading.py --explorers -n 10 --workers 1   # what the explorer cells cost the grader
    python bench/bench_grading.py --against /tmp/base -n 12 --workers 2   # this checkout beside another one

With --explorers, the same submissions are graded twice by `python -m autograder grade`, alternately with the
master and with a copy of it whose explorer cells (grade_ids explorer_kit and explore_*) are removed, and the
time per submission of both is printed: the explorers run in the grader without a frontend.

The submissions are the released notebook with the master's answers and the bundled example's honest, short
training cell (examples.RECIPES[NAME]; for the moons about 6 s on one idle core, passes test_train); one in five
carries the example's classic bug, one in ten is cut in half.
nbgrader runs in a real course folder (source/, submitted/, its own gradebook and config; data/ beside each
notebook, as autograde needs), serially, as it always does.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402

from autograder.course.build import generated_paths  # noqa: E402
from autograder.course.examples import CLASSIC_BUGS, answers, filled, with_bug  # noqa: E402
from autograder.grader.core.masters import notebook_named  # noqa: E402

DEFAULT_ASSIGNMENT = "realnvp"


def submissions(n, assignment):
    """student id -> notebook text."""
    solved = answers(assignment, quick=True)
    good = nbformat.writes(filled(solved, assignment))
    buggy = nbformat.writes(filled(with_bug(solved, *CLASSIC_BUGS[assignment]), assignment))
    return {f"s{i:03d}": buggy if i % 5 == 4 else good[: len(good) // 2] if i % 10 == 9 else good for i in range(n)}


def flat_class(root, notebooks):
    """root/flat/ holding one notebook per student (student id -> notebook text), as `grade` reads a class."""
    flat = Path(root) / "flat"
    flat.mkdir()
    for student, text in notebooks.items():
        (flat / f"{student}.ipynb").write_text(text)
    return flat


def course_folder(root, notebooks, assignment):
    """A plain nbgrader course: source/, the release made by generate_assignment (gradebook), submitted/."""
    (root / "source" / assignment).mkdir(parents=True)
    shutil.copy(generated_paths(assignment)["source"], root / "source" / assignment / f"{assignment}.ipynb")
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 180\n")
    data = notebook_named(assignment).data_files()
    for student, text in notebooks.items():
        folder = root / "submitted" / student / assignment
        (folder / "data").mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(text)
        for path in data:  # staged beside the notebook, as autograde needs and as the grader does
            shutil.copy(path, folder / "data" / path.name)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", assignment, "--force", "--log-level=ERROR"], cwd=root, check=True)
    for student in notebooks:
        subprocess.run([*nbgrader, "db", "student", "add", student, "--log-level=ERROR"], cwd=root, check=True)
    return nbgrader


def without_explorers(master, folder):
    """A copy of the master (in folder) without its explorer cells: everything else, hidden tests included, as is."""
    import jupytext

    nb = jupytext.read(master)
    nb.cells = [c for c in nb.cells if not str(c.metadata.get("nbgrader", {}).get("grade_id", "")).startswith("explore")]
    path = Path(folder) / master.name
    jupytext.write(nb, path, fmt="py:percent")
    return path


def grade_seconds(flat, out, workers, assignment, checkout=None):
    """Wall seconds of `python -m autograder grade` on the folder flat (the grader of checkout, default this one)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "autograder", "grade", str(flat), "--out", str(out), "--workers", str(workers), "--quiet"]
    command += ["--assignment", str(assignment)]
    subprocess.run(command, cwd=checkout or Path(__file__).resolve().parent.parent, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def compare_checkouts(notebooks, workers, assignment, against, rounds=2):
    """Grade the notebooks as one class with this checkout's grader and with against's, alternating the order from
    round to round; print seconds per submission and the ratio of the means."""
    checkouts = {"this checkout": Path(__file__).resolve().parent.parent, str(against): Path(against).resolve()}
    with tempfile.TemporaryDirectory(prefix="bench-checkouts-") as scratch:
        flat = flat_class(Path(scratch), notebooks)
        times = {label: [] for label in checkouts}
        for k in range(rounds):
            for label in list(checkouts)[:: 1 if k % 2 == 0 else -1]:
                out = Path(scratch) / f"out-{k}-{len(times[label])}-{label.replace('/', '_')}"
                times[label].append(grade_seconds(flat, out, workers, assignment, checkouts[label]) / len(notebooks))
    for label, values in times.items():
        print(f"{label:24s}: " + ", ".join(f"{v:.2f}" for v in values) + " s per submission")
    mean = {label: sum(v) / len(v) for label, v in times.items()}
    this, other = mean["this checkout"], mean[str(against)]
    print(f"this checkout grades in {this / other:.3f}x the time of {against} ({this:.2f} s against {other:.2f} s per submission)")


def compare_explorers(notebooks, workers, assignment, rounds=2):
    """Grade the notebooks with and without the master's explorer cells, alternating; print seconds per submission."""
    master = notebook_named(assignment).master_path
    with tempfile.TemporaryDirectory(prefix="bench-explorers-") as scratch:
        root = Path(scratch)
        bare = without_explorers(master, root)
        flat = flat_class(root, notebooks)
        times = {"with explorers": [], "without": []}
        for k in range(rounds):
            for label, path in (("with explorers", master), ("without", bare)):
                times[label].append(grade_seconds(flat, root / f"out-{label}-{k}", workers, path) / len(notebooks))
    for label, values in times.items():
        print(f"{label:15s}: " + ", ".join(f"{v:.2f}" for v in values) + " s per submission")
    mean = {label: sum(v) / len(v) for label, v in times.items()}
    print(
        f"the explorer cells add {mean['with explorers'] - mean['without']:+.2f} s per submission "
        f"({mean['with explorers'] / mean['without']:.3f}x)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="number of submissions (default 100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="workers for the autograder (default: cores)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="time only the autograder (nbgrader takes ~30 s each)")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT, help=f"the exercise (default {DEFAULT_ASSIGNMENT})")
    parser.add_argument("--explorers", action="store_true", help="compare grading with and without the explorer cells")
    parser.add_argument("--against", help="another checkout of this repository (say, the commit before): grade with both")
    args = parser.parse_args(argv)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")  # nbgrader runs alembic
    notebooks = submissions(args.n, args.assignment)
    if args.explorers:
        compare_explorers(notebooks, args.workers, args.assignment)
        return 0
    if args.against:
        compare_checkouts(notebooks, args.workers, args.assignment, args.against)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        root = Path(scratch)
        plain = None
        if not args.skip_nbgrader:
            nbgrader = course_folder(root / "course", notebooks, args.assignment)
            started = time.perf_counter()
            subprocess.run([*nbgrader, "autograde", args.assignment, "--force", "--log-level=ERROR"], cwd=root / "course", check=True)
            plain = time.perf_counter() - started
        flat = flat_class(root, notebooks)
        started = time.perf_counter()
        command = [sys.executable, "-m", "autograder", "grade", str(flat), "--out", str(root / "out")]
        command += ["--workers", str(args.workers), "--quiet"]
        subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, check=True, stdout=subprocess.DEVNULL)
        ours = time.perf_counter() - started
    print(f"{args.n} submissions, {os.cpu_count()} cores")
    if plain is not None:
        print(f"plain nbgrader autograde (serial): {plain:8.1f} s  ({plain / args.n:.1f} s per submission)")
    print(f"python -m autograder grade ({args.workers} workers): {ours:8.1f} s  ({ours / args.n:.1f} s per submission)")
    if plain is not None:
        print(f"speed-up: {plain / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
