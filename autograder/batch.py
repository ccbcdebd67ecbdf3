"""Grade a whole class: a pool of workers, one submission each at a time; results land in OUT atomically.

    python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout S] [--memory GB] [--force]

A worker writes the student's feedback, then (optionally) Gradescope results, then the record
OUT/records/<student>.json last: a record on disk means the student is graded. Only the parent writes the
gradebook, after each record, and grades.csv at the end; a re-run (after kill -9, say) grades only the
students without a record (all with --force) and brings the gradebook up to date idempotently.
"""

import hashlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from . import ASSIGNMENT, MASTER, REPO
from .answers import NotANotebook, extract, read_cells
from .gradebook import open_gradebook, record_grades
from .grading import is_test
from .hardening import assemble_graded, suspicious
from .isolation import measure
from .lifetime import LOCK_NAME, BatchBusy, UidLease, become_subreaper, die_with_parent, run_lock, run_scratch
from .notebooks import grade_id, nbgrader_meta, read_master
from .report import feedback_html, gradescope_json, summary, write_atomic, write_csv
from .runner import Limits, Sandbox, grade_graded
from .submissions import discover, extract_zip, safe_name

MAX_FILE_BYTES = 20 * 2**20
_worker = {}


def test_cells(master):
    """(grade_id, points) of every graded test cell, in notebook order."""
    return [(grade_id(c), float(nbgrader_meta(c)["points"])) for c in master.cells if is_test(c)]


def _init_worker(parent, slots, scratch_root, limits, hide, isolation):
    die_with_parent(parent)  # kill -9 of the grader takes its workers, and their kernels, along
    become_subreaper()
    slot, uid = slots.get()
    scratch = Path(scratch_root) / f"worker-{slot}"
    scratch.mkdir(parents=True, exist_ok=True)
    scratch.chmod(0o711)  # a kernel's uid reaches its own job folder (0700) through it, without listing it
    _worker.update(sandbox=Sandbox(scratch, uid, limits, isolation, hide), master=read_master(MASTER), limits=limits)
    _worker.update(isolation=isolation.describe())


def _record(submission, master, status, message, tests=None, seconds=0.0, digest=""):
    tests = tests or [{"grade_id": gid, "points": 0.0, "max_points": points, "message": message} for gid, points in test_cells(master)]
    return {
        "student_id": submission.student_id,
        "file": str(submission.path or ""),
        "sha256": digest,
        "status": status,
        "message": message,
        "tests": tests,
        "score": sum(t["points"] for t in tests),
        "max_score": sum(t["max_points"] for t in tests),
        "seconds": seconds,
        "isolation": _worker.get("isolation", ""),
    }


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else ""


def grade_submission(submission, out, gradescope=False):
    """Grade one submission in this worker and write its files; returns its record. Never raises."""
    master, started = _worker["master"], time.monotonic()
    nb, graded = None, None
    try:
        if submission.path is None:
            raise NotANotebook("no file in the student's folder")
        data = submission.path.read_bytes()
        if len(data) > MAX_FILE_BYTES:
            raise NotANotebook(f"the file is {len(data) // 2**20} MiB, more than a notebook for this exercise can be")
        extracted = extract(read_cells(data), master)
        graded = assemble_graded(master, extracted, seed=_worker["limits"].seed)
        outcome = grade_graded(graded, _worker["sandbox"], safe_name(submission.student_id), _worker["limits"])
        nb = outcome.nb
        flags = suspicious(extracted.answers, extracted.extras)
        notes = extracted.notes + outcome.messages + ([f"for review: the code uses {', '.join(flags)}"] if flags else [])
        tests = [{"grade_id": t.grade_id, "points": t.points, "max_points": t.max_points, "message": t.message} for t in outcome.tests]
        record = _record(submission, master, outcome.status, "; ".join(notes), tests, digest=hashlib.sha256(data).hexdigest())
    except NotANotebook as error:
        record = _record(submission, master, "not a notebook", str(error), digest=_digest(submission.path))
    except Exception as error:  # a grader bug must cost one row, not the batch
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        record = _record(submission, master, "grader error", detail[:500], digest=_digest(submission.path))
    record["seconds"] = round(time.monotonic() - started, 1)
    name = safe_name(submission.student_id)
    write_atomic(out / "feedback" / f"{name}.html", feedback_html(record, nb, graded.tokens.values() if graded else ()))
    if gradescope:
        write_atomic(out / "results" / f"{name}.json", gradescope_json(record))
    write_atomic(out / "records" / f"{name}.json", json.dumps(record, ensure_ascii=False, indent=1))
    return record


def load_record(out, submission):
    path = out / "records" / f"{safe_name(submission.student_id)}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _still_valid(record, submission):
    return record is not None and record.get("sha256") == _digest(submission.path)


def _run_pool(todo, out, options, scratch_root, hide, isolation, gb, bar):
    """Grade todo in a pool; returns the submissions left over if the pool broke."""
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for slot in range(options.workers):
        slots.put((slot, isolation.uids[slot] if isolation.uids else None))
    initargs = (os.getpid(), slots, str(scratch_root), options.limits, hide, isolation)
    with ProcessPoolExecutor(options.workers, mp_context=context, initializer=_init_worker, initargs=initargs) as pool:
        futures = {pool.submit(grade_submission, s, out, options.gradescope): s for s in todo}
        left = []
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                left.append(futures[future])
                continue
            record_grades(gb, record)
            bar.set_postfix_str(f"{record['student_id'][:20]}: {record['status']}", refresh=False)
            bar.update()
    return left


class Options:
    def __init__(self, workers=None, limits=None, force=False, gradescope=False, progress=True):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.limits, self.force, self.gradescope, self.progress = limits or Limits(), force, gradescope, progress
        self.isolation = None  # measured by grade_batch


def grade_batch(submissions, out, options):
    """Grade every submission in the folder or zip at submissions into out; returns the records.

    BatchBusy if another run is grading into out. The run holds out, a scratch folder and (root) its uids until
    it ends; whatever kills it, the locks go with it and so do its workers and kernels.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out), run_scratch() as scratch_root, _uids(options.workers) as uids:
        return _grade_all(Path(submissions).resolve(), out, options, scratch_root, uids)


def _uids(n):
    """Throwaway uids for the kernels when root (one per worker, leased to this run alone), else none."""
    return UidLease(n if os.geteuid() == 0 else 0)


def _isolation(submissions, folder, out, scratch_root, uids, options):
    """Measure what confines the kernels on this host, say it once, and keep it for the records and summary."""
    hide = [str(out), str(folder), str(submissions), str(submissions.parent if submissions.is_file() else submissions)]
    secrets = [str(MASTER), str(out / LOCK_NAME), str(submissions), str(scratch_root / LOCK_NAME)]
    isolation = measure(scratch_root, uids.uids, hide, secrets, private=[str(REPO), str(out), str(submissions)])
    if isolation.missing or options.progress:
        print(f"isolation: {isolation.describe()}", file=sys.stderr)
    options.isolation = isolation
    return isolation, hide


def _grade_all(submissions, out, options, scratch_root, uids):
    master = read_master(MASTER)
    folder = submissions
    if folder.is_file() and folder.suffix.lower() == ".zip":
        folder = extract_zip(folder, scratch_root / "unpacked")
        (scratch_root / "unpacked").chmod(0o700)
    found = discover(folder, ASSIGNMENT)
    gb = open_gradebook(out / "gradebook.db", master)
    done = {s: load_record(out, s) for s in found}
    todo = [s for s in found if options.force or not _still_valid(done[s], s)]
    for s in found:
        if s not in todo:
            record_grades(gb, done[s])
    isolation, hide = _isolation(submissions, folder, out, scratch_root, uids, options)
    with tqdm(total=len(todo), desc="grading", unit="nb", disable=not options.progress, file=sys.stderr) as bar:
        for _ in range(3):
            todo = _run_pool(todo, out, options, scratch_root, hide, isolation, gb, bar) if todo else []
    for s in todo:  # the pool broke three times on these: a row each all the same
        record = _record(s, master, "grader error", "the grading worker died three times") | {"isolation": isolation.describe()}
        write_atomic(out / "records" / f"{safe_name(s.student_id)}.json", json.dumps(record, ensure_ascii=False))
        record_grades(gb, record)
    records = [load_record(out, s) for s in found]
    write_csv(out / "grades.csv", records, [gid for gid, _ in test_cells(master)])
    gb.close()
    return records


def isolation_summary(records):
    """The isolation each record was graded under, with counts (a resumed run may mix levels)."""
    counts = {}
    for record in records:
        level = record.get("isolation") or "unknown (graded by an older grader)"
        counts[level] = counts.get(level, 0) + 1
    return "\n".join(f"isolation: {level}" + (f" ({n} submissions)" if len(counts) > 1 else "") for level, n in counts.items())


def main(args):
    limits = Limits(
        cell_timeout=args.timeout, train_timeout=args.train_timeout, wall_timeout=args.wall_timeout, memory_bytes=int(args.memory * 2**30)
    )
    options = Options(args.workers, limits, args.force, args.gradescope, progress=not args.quiet)
    started = time.monotonic()
    try:
        records = grade_batch(args.submissions, args.out, options)
    except BatchBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return 2
    print(summary(records))
    print(isolation_summary(records))
    print(f"\nwall time {time.monotonic() - started:.1f} s with {options.workers} workers; grades in {Path(args.out) / 'grades.csv'}")
    return 0
