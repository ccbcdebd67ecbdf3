"""What grading one notebook in the full sandbox costs beyond executing it plainly, and where that time goes.

    python bench/bench_overhead.py                       # 3 rounds, the three notebooks, this checkout
    python bench/bench_overhead.py --against /tmp/base   # also another checkout (say, the commit before), alternating
    python bench/bench_overhead.py --rounds 1 --no-phases

Per round and notebook, alternating the order from round to round so that a busy machine weighs on every command:
`python -c pass` (the floor), `jupyter nbconvert --to notebook --execute --allow-errors` of the notebook in a folder
that holds it and the exercise's data (as the grader stages them), and `python -m autograder grade FOLDER --out X
--workers 1 --quiet` (a fresh OUT each time) of each checkout. The notebooks: the blank student notebook, the
bundled correct submission and the one with the classic bug (examples/realnvp/). It prints the median wall times and
the ratio grade / nbconvert.

Then, unless --no-phases, where the grader's time goes: each phase of `grade` timed by calling the functions `grade`
calls, in the same order, in a fresh process per checkout (rounds alternate between checkouts; each phase's fastest
round is printed, the least disturbed by the machine's other work):

    cli imports       importing the CLI's modules, beyond `python -c pass` (a subprocess)
    exercise          finding and reading the exercise (resolve_assignment: every master, jupytext)
    gradebook         opening a new OUT/gradebook.db and writing one record (nbgrader runs `alembic heads`)
    probe             the isolation probe (the launcher once, as a kernel is run)
    pool start-up     starting a one-worker pool as `grade` does and getting one result back, then its shutdown
    kernel start      starting a confined kernel and running one empty cell (execute_confined), and the same
                      kernel started plainly by nbclient, as nbconvert does (kernel start, plain)
    kernel imports    the setup cell (torch, matplotlib, ...) in a confined kernel with a fresh MPLCONFIGDIR beyond the
                      empty cell; the same with the run's font list copied in; the same plainly (nbconvert's warm cache)
    font cache        building the run's matplotlib font list in the sandbox (build_font_cache: once per run)
    guard cell        the guard's snapshot cell after the setup cell (it imports torch._dynamo), beyond the setup cell
    assembly          extracting the answers and assembling the graded notebook
    execute+score     the blank notebook's run_graded (kernel, cells, scoring), and score_graded alone
    feedback          the autograded notebook and the feedback page, written as the worker writes them
    outputs           write_outputs: grades.csv, report.html, similarity, for one record
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = {
    "blank": REPO / "notebooks" / "realnvp.ipynb",
    "correct": REPO / "examples" / "realnvp" / "ada_correct.ipynb",
    "classic bug": REPO / "examples" / "realnvp" / "ben_inverse_bug.ipynb",
}
JUPYTER = Path(sys.executable).parent / "jupyter"


def _wall(command, cwd, env=None):
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _prepare(scratch):
    """{notebook: (folder to grade, folder to execute in)}: each notebook alone, and beside the data for nbconvert."""
    data = sorted((REPO / "data").glob("moons_*.csv"))
    folders = {}
    for i, (name, path) in enumerate(NOTEBOOKS.items()):
        graded, plain = scratch / f"grade-{i}", scratch / f"plain-{i}"
        (plain / "data").mkdir(parents=True)
        graded.mkdir()
        shutil.copy(path, graded / path.name)
        shutil.copy(path, plain / path.name)
        for csv in data:
            shutil.copy(csv, plain / "data" / csv.name)
        folders[name] = (graded, plain / path.name)
    return folders


def _commands(repos, folders, scratch):
    """{(notebook, label): callable returning seconds}; label 'python -c pass', 'nbconvert', or 'grade (checkout)'."""
    runs = {}
    for name, (graded, notebook) in folders.items():
        runs[(name, "python -c pass")] = lambda: _wall([sys.executable, "-c", "pass"], scratch)
        convert = [str(JUPYTER), "nbconvert", "--to", "notebook", "--execute", "--allow-errors", notebook.name, "--output", "out.ipynb"]
        runs[(name, "nbconvert")] = lambda convert=convert, cwd=notebook.parent: _wall(convert, cwd)
        for label, repo in repos.items():

            def grade(graded=graded, repo=repo, label=label):
                out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
                command = [sys.executable, "-m", "autograder", "grade", str(graded), "--out", str(out), "--workers", "1", "--quiet"]
                seconds = _wall(command, repo)
                shutil.rmtree(out, ignore_errors=True)
                return seconds

            runs[(name, f"grade ({label})")] = grade
    return runs


def _alternate(runs, rounds):
    """Run every command once per round, in an order reversed every other round; {key: [seconds]}."""
    times = {key: [] for key in runs}
    keys = list(runs)
    for round_ in range(rounds):
        for key in keys if round_ % 2 == 0 else keys[::-1]:
            times[key].append(runs[key]())
            print(f"  round {round_ + 1}: {key[0]:>11} {key[1]:<24} {times[key][-1]:6.1f} s", file=sys.stderr)
    return times


def _table(times, repos):
    heads = " ".join(f"{'grade (' + r + ')':>18} {'ratio':>6}" for r in repos)
    lines = [f"{'notebook':<12} {'python -c pass':>15} {'nbconvert':>10} {heads}"]
    for name in NOTEBOOKS:
        floor, plain = statistics.median(times[(name, "python -c pass")]), statistics.median(times[(name, "nbconvert")])
        row = f"{name:<12} {floor:>14.2f}s {plain:>9.1f}s "
        for label in repos:
            graded = statistics.median(times[(name, f"grade ({label})")])
            row += f"{graded:>17.1f}s {graded / plain:>6.2f}"
        lines.append(row)
    return "\n".join(lines)


# --- the phases, run in a child process with a checkout's own autograder on sys.path ------------------------------


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def _one_cell(source):
    import nbformat

    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def _plain_kernel(nb, folder):
    """nbclient as nbconvert runs it: the notebook's own kernel, in folder."""
    from nbclient import NotebookClient

    NotebookClient(nb, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()


def _pool_start(grade, worker, exercise, scratch, limits, isolation):
    """A one-worker pool as `grade` starts it (its context, its initializer), one trivial result back, shutdown."""
    import inspect
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        from autograder.grader.runs.pool import pool_context
    except ImportError:  # checkouts before runs/pool.py: grade's own, or none (spawn)
        pool_context = getattr(grade, "_pool_context", None)
    context = pool_context() if pool_context else multiprocessing.get_context("spawn")
    slots = context.SimpleQueue() if pool_context else context.Queue()
    slots.put((0, isolation.uids[0] if isolation.uids else None))
    if hasattr(worker, "WorkerContext"):
        context_args = dict(parent=os.getpid(), slots=slots, scratch_root=str(scratch), limits=limits, hide=[], isolation=isolation)
        initargs = (worker.WorkerContext(**context_args, assignment=exercise),)
    else:  # older checkouts: seven positional arguments, the last a path before it was the assignment
        last = list(inspect.signature(worker.init_worker).parameters)[-1]
        exercise_arg = exercise if last in ("exercise", "assignment") else str(exercise.source)
        initargs = (os.getpid(), slots, str(scratch), limits, [], isolation, exercise_arg)
    with ProcessPoolExecutor(1, mp_context=context, initializer=worker.init_worker, initargs=initargs) as pool:
        pool.submit(os.getpid).result()


def _feedback(outcome, graded, exercise, record, out):
    """The autograded notebook and the feedback page, written as a worker writes them."""
    import nbformat

    from autograder.grader.core.files import write_atomic
    from autograder.grader.core.layout import autograded_path
    from autograder.grader.integrations.formgrader import autograded_notebook
    from autograder.grader.reports.feedback import feedback_html

    nb = autograded_notebook(outcome.nb, graded, exercise)
    write_atomic(autograded_path(out, record.student_id, exercise.name), nbformat.writes(nb))
    write_atomic(out / "feedback" / "student.html", feedback_html(record, nb, title=exercise.title, rubrics=exercise.rubrics))


def _gradebook(out, exercise, record):
    from autograder.grader.integrations.gradebook import open_gradebook, record_grades

    gb = open_gradebook(out / "gradebook.db", exercise)
    record_grades(gb, exercise.name, record)
    gb.close()


def phases(folder, scratch):
    """{phase: seconds} for grading folder's one notebook, each phase timed as `grade` runs it."""
    from autograder.grader.confine.isolation import measure
    from autograder.grader.confine.sandbox import Sandbox
    from autograder.grader.core.record import Record
    from autograder.grader.intake.submissions import discover, survey
    from autograder.grader.pipeline.answers import extract, read_cells
    from autograder.grader.pipeline.assemble import assemble_graded
    from autograder.grader.pipeline.execute import Limits, execute_confined, staged_files
    from autograder.grader.pipeline.score import score_graded
    from autograder.grader.runs import grade, worker
    from autograder.grader.runs.lifetime import UidLease, run_scratch
    from autograder.grader.runs.outputs import write_outputs
    from autograder.grader.scoring.term import load_term

    found = {}
    if hasattr(grade, "identify_exercise"):  # older checkouts
        found["exercise"], exercise = _timed(lambda: grade.identify_exercise(discover(folder, None)))
    else:
        try:
            from autograder.grader.runs.resolve import resolve_assignment
        except ImportError:  # checkouts before runs/assignment.py was named for what it does
            from autograder.grader.runs.assignment import resolve_assignment

        found["exercise"], exercise = _timed(lambda: resolve_assignment(submissions=discover(folder, None)))
    notebook = exercise.notebooks[0] if hasattr(exercise, "notebooks") else exercise  # an assignment's one notebook
    submission = survey(folder, exercise.name, {}).submissions[0]
    limits, out = Limits(), scratch / "out"
    out.mkdir()
    with run_scratch(scratch) as root, UidLease(1 if os.geteuid() == 0 else 0) as uids:
        probe = lambda: measure(root, uids.uids, [str(out), str(folder)], [str(exercise.source)], private=[])  # noqa: E731
        found["probe"], isolation = _timed(probe)
        found["pool start-up"], _ = _timed(_pool_start, grade, worker, exercise, root / "pool", limits, isolation)
        sandbox = Sandbox(root / "worker", uids.uids[0] if uids.uids else None, limits, isolation, [str(out), str(folder)])
        (root / "worker").mkdir()
        (root / "worker").chmod(0o711)
        found["assembly"], graded = _timed(lambda: assemble_graded(notebook, extract(read_cells(submission.path.read_bytes()), notebook)))
        setup = next(c.source for c in notebook.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
        for label, source in (("empty", "pass"), ("setup", setup)):
            confined = assemble_graded(notebook, extract(read_cells(submission.path.read_bytes()), notebook))
            confined.nb.cells = [_one_cell(source).cells[0]]
            found[f"confined {label}"], _ = _timed(execute_confined, confined, sandbox, f"k-{label}", limits, notebook)
            plain = scratch / f"plain-{label}"
            shutil.copytree(REPO / "data", plain / "data")
            found[f"plain {label}"], _ = _timed(_plain_kernel, _one_cell(source), plain)
        try:
            from autograder.grader.confine.sandbox import build_font_cache
        except ImportError:  # a checkout from before the run's font cache
            found["font cache"] = found["confined setup, cached fonts"] = float("nan")
        else:
            found["font cache"], _ = _timed(build_font_cache, root, sandbox.uid, isolation, [str(out), str(folder)], limits.memory_bytes)
            confined.nb.cells = [_one_cell(setup).cells[0]]
            found["confined setup, cached fonts"], _ = _timed(execute_confined, confined, sandbox, "k-fonts", limits, notebook)
        guard_cell = next(c for c in graded.nb.cells if c.metadata.get("autograder", {}).get("kind") == "guard")
        confined.nb.cells = [_one_cell(setup).cells[0], guard_cell]
        found["confined setup, guard"], _ = _timed(execute_confined, confined, sandbox, "k-guard", limits, notebook)
        try:
            from autograder.grader.runs.notebook import run_graded
        except ImportError:  # a checkout from before runs/notebook.py
            from autograder.grader.pipeline.score import grade_graded

            found["execute+score"], outcome = _timed(grade_graded, graded, sandbox, "student", limits, notebook)
        else:
            files = staged_files(notebook)
            run = lambda: run_graded(graded, notebook, sandbox=sandbox, job="student", limits=limits, files=files)  # noqa: E731
            found["execute+score"], outcome = _timed(run)
        found["score alone"], _ = _timed(score_graded, outcome.nb, graded)
        record = Record(submission.student_id, outcome.status, "", outcome.tests, str(submission.path), "", assignment=exercise.name)
        found["feedback"], _ = _timed(_feedback, outcome, graded, notebook, record, out)
        found["gradebook"], _ = _timed(_gradebook, out, exercise, record)
        found["outputs"], _ = _timed(write_outputs, out, exercise, [record], load_term(out, exercise))
    return found


def _phases_of(repo, folder, scratch):
    command = [sys.executable, str(Path(__file__).resolve()), "--phases-child", str(folder), str(scratch)]
    done = subprocess.run(command, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, check=True, capture_output=True, text=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    floor = min(_wall([sys.executable, "-c", "pass"], repo) for _ in range(3))
    imports = [sys.executable, "-c", "import autograder.cli.grade, autograder.grader.runs.grade"]  # what grade's run() imports
    found["cli imports"] = _wall(imports, repo, {**os.environ, "PYTHONPATH": str(repo)}) - floor
    return found


PHASES = [
    ("cli imports", "cli imports"),
    ("exercise", "exercise"),
    ("gradebook", "gradebook"),
    ("probe", "probe"),
    ("pool start-up", "pool start-up"),
    ("kernel start (confined)", "confined empty"),
    ("kernel start (plain)", "plain empty"),
    ("kernel imports (confined)", None),
    ("  with the run's fonts", None),
    ("kernel imports (plain)", None),
    ("font cache (once a run)", "font cache"),
    ("guard cell (in the kernel)", None),
    ("assembly", "assembly"),
    ("execute+score (blank)", "execute+score"),
    ("score alone", "score alone"),
    ("feedback", "feedback"),
    ("outputs", "outputs"),
]


def _phase_table(runs, repos):
    def value(found, key, label):
        if label == "kernel imports (confined)":
            return found["confined setup"] - found["confined empty"]
        if label == "  with the run's fonts":
            return found["confined setup, cached fonts"] - found["confined empty"]
        if label == "guard cell (in the kernel)":
            cached = found["confined setup, cached fonts"]
            return found["confined setup, guard"] - (cached if cached == cached else found["confined setup"])  # nan: no font cache
        if label == "kernel imports (plain)":
            return found["plain setup"] - found["plain empty"]
        return found[key]

    # each measurement's least disturbed round (on a shared machine a time only grows with the load), then the phases
    # that are differences of two measurements
    lines = [f"{'phase (fastest round, s)':<26} " + " ".join(f"{r:>12}" for r in repos)]
    fastest = {r: {key: min(f[key] for f in runs[r]) for key in runs[r][0]} for r in repos}
    for label, key in PHASES:
        shown = [value(fastest[r], key, label) for r in repos]
        lines.append(f"{label:<26} " + " ".join(f"{m:>12.2f}" if m == m else f"{'-':>12}" for m in shown))  # nan: not in that checkout
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every command (default 3; 0: the phases only)")
    parser.add_argument("--against", type=Path, help="another checkout to grade with, alternating with this one")
    parser.add_argument("--phase-rounds", type=int, default=3, help="rounds of the phase timings per checkout (default 3)")
    parser.add_argument("--no-phases", action="store_true", help="skip the breakdown")
    parser.add_argument("--phases-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phases_child:
        print(json.dumps(phases(*args.phases_child)))
        return 0
    repos = {"this": REPO, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-", dir="/tmp") as scratch:
        scratch = Path(scratch)
        folders = _prepare(scratch)
        for label, repo in repos.items():
            print(f"  {label}: {repo} at {_commit(repo)}")
        if args.rounds:
            times = _alternate(_commands(repos, folders, scratch), args.rounds)
            print(f"{args.rounds} rounds, one worker, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
            print(_table(times, repos))
        if not args.no_phases:
            runs = {label: [] for label in repos}
            for round_ in range(args.phase_rounds):
                for label in repos if round_ % 2 == 0 else list(repos)[::-1]:
                    work = Path(tempfile.mkdtemp(prefix="phases-", dir=scratch))
                    runs[label].append(_phases_of(repos[label], folders["blank"][0], work))
            load = os.getloadavg()[0]
            print(f"\nwhere the time goes ({args.phase_rounds} rounds per checkout, alternating; the blank notebook; load {load:.1f})")
            print(_phase_table(runs, repos))
    return 0


def _commit(repo):
    done = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return (done.stdout.strip()[:60] or "?") + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
