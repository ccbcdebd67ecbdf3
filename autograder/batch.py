"""Grade a whole class: a pool of workers, one submission each at a time; results land in OUT atomically.

    python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout S] [--memory GB] [--force] [--shard K/N]

A worker writes the student's feedback, then (optionally) Gradescope results, then the record
OUT/records/<student>.json last: a record on disk means the student is graded. Only the parent writes the
gradebook, after each record, and grades.csv at the end; a re-run (after kill -9, say) grades only the
students without a record (all with --force) and brings the gradebook up to date idempotently. With --shard K/N
only every N-th submission is graded, and OUT/shard.json says which (shards.py merges the N folders).
"""

import hashlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from . import ASSIGNMENT, MASTER
from .answers import NotANotebook, extract, read_cells
from .gradebook import open_gradebook, record_grades
from .gradescope.results import results_json, test_titles
from .grading import TestResult, is_test
from .hardening import assemble_graded, suspicious
from .leaderboard import leaderboard, leaderboard_spec
from .notebooks import grade_id, nbgrader_meta, read_master
from .record import Record, master_digest
from .report import feedback_html, summary, write_atomic, write_csv
from .runner import Limits, Sandbox, grade_graded
from .shards import select_shard, write_manifest
from .slots import claim_slots, release
from .submissions import discover, extract_zip, safe_name

MAX_FILE_BYTES = 20 * 2**20
_worker = {}


def test_cells(master):
    """(grade_id, points) of every graded test cell, in notebook order."""
    return [(grade_id(c), float(nbgrader_meta(c)["points"])) for c in master.cells if is_test(c)]


def _init_worker(slots, scratch_root, limits, hide):
    slot = slots.get()
    scratch = Path(scratch_root) / f"worker-{slot}"
    scratch.mkdir(parents=True, exist_ok=True)
    master = read_master(MASTER)
    _worker.update(sandbox=Sandbox(scratch, slot, limits, hide), master=master, limits=limits, master_sha256=master_digest())
    _worker.update(titles=test_titles(master), leaderboard=leaderboard_spec(master))


def ungraded_record(student_id, master, status, message, file="", digest="", master_sha256=""):
    """The record of a submission that could not be run: every test cell at 0 points, with the reason."""
    tests = [TestResult(gid, 0.0, points, message) for gid, points in test_cells(master)]
    return Record(student_id, status, message, tests, file=file, sha256=digest, master_sha256=master_sha256, graded_at=time.time())


def _record(submission, master, status, message, tests=None, digest=""):
    if tests is None:
        return ungraded_record(submission.student_id, master, status, message, str(submission.path or ""), digest, _worker["master_sha256"])
    return Record(submission.student_id, status, message, tests, str(submission.path or ""), digest, master_sha256=_worker["master_sha256"])


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else ""


def grade_submission(submission, out, gradescope=False):
    """Grade one submission in this worker and write its files; returns its record. Never raises."""
    master, started = _worker["master"], time.monotonic()
    nb, graded, metrics = None, None, []
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
        metrics = leaderboard(nb, outcome.tests, _worker["leaderboard"]) if outcome.status == "ok" else []
        record = _record(submission, master, outcome.status, "; ".join(notes), outcome.tests, digest=hashlib.sha256(data).hexdigest())
    except NotANotebook as error:
        record = _record(submission, master, "not a notebook", str(error), digest=_digest(submission.path))
    except Exception as error:  # a grader bug must cost one row, not the batch
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        record = _record(submission, master, "grader error", detail[:500], digest=_digest(submission.path))
    record.seconds, record.leaderboard, record.graded_at = round(time.monotonic() - started, 1), metrics, time.time()
    name = safe_name(submission.student_id)
    write_atomic(out / "feedback" / f"{name}.html", feedback_html(record, nb, graded.tokens.values() if graded else ()))
    if gradescope:
        write_atomic(out / "results" / f"{name}.json", results_json(record, _worker["titles"]))
    write_atomic(out / "records" / f"{name}.json", record.to_json())
    return record


def load_record(out, submission):
    """The student's Record in out, or None when there is none (or it cannot be read: then they are graded again)."""
    path = out / "records" / f"{safe_name(submission.student_id)}.json"
    try:
        return Record.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _still_valid(record, submission):
    return record is not None and record.sha256 == _digest(submission.path)


def _run_pool(todo, out, options, scratch_root, hide, gb, bar, claimed):
    """Grade todo in a pool whose workers take the claimed slots; returns the submissions left over if the pool broke."""
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for slot in claimed:
        slots.put(slot)
    with ProcessPoolExecutor(
        options.workers, mp_context=context, initializer=_init_worker, initargs=(slots, str(scratch_root), options.limits, hide)
    ) as pool:
        futures = {pool.submit(grade_submission, s, out, options.gradescope): s for s in todo}
        left = []
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                left.append(futures[future])
                continue
            record_grades(gb, record)
            bar.set_postfix_str(f"{record.student_id[:20]}: {record.status}", refresh=False)
            bar.update()
    return left


class Options:
    def __init__(self, workers=None, limits=None, force=False, gradescope=False, progress=True, shard=None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.limits, self.force, self.gradescope, self.progress = limits or Limits(), force, gradescope, progress
        self.shard = shard  # (k, n): grade only every n-th submission from the k-th on; None: all


def grade_batch(submissions, out, options):
    """Grade every submission in the folder or zip at submissions into out; returns the records."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    master = read_master(MASTER)
    scratch_root = Path(tempfile.mkdtemp(prefix="autograder-"))
    try:
        folder = Path(submissions).resolve()
        if folder.is_file() and folder.suffix.lower() == ".zip":
            folder = extract_zip(folder, scratch_root / "unpacked")
        found = discover(folder, ASSIGNMENT)
        if options.shard:
            found = select_shard(found, *options.shard)
            write_manifest(out, *options.shard, found, master_digest())
        gb = open_gradebook(out / "gradebook.db", master)
        done = {s: load_record(out, s) for s in found}
        todo = [s for s in found if options.force or not _still_valid(done[s], s)]
        for s in found:
            if s not in todo:
                record_grades(gb, done[s])
        hide = [str(out), str(Path(submissions).resolve().parent if folder.is_file() else folder), str(Path(submissions).resolve())]
        claimed, locks = claim_slots(options.workers)
        try:
            with tqdm(total=len(todo), desc="grading", unit="nb", disable=not options.progress, file=sys.stderr) as bar:
                for _ in range(3):
                    todo = _run_pool(todo, out, options, scratch_root, hide, gb, bar, claimed) if todo else []
        finally:
            release(locks)
        for s in todo:  # the pool broke three times on these: a row each all the same
            record = ungraded_record(s.student_id, master, "grader error", "the grading worker died three times", str(s.path or ""))
            record.master_sha256 = master_digest()
            write_atomic(out / "records" / f"{safe_name(s.student_id)}.json", record.to_json())
            record_grades(gb, record)
        records = [load_record(out, s) for s in found]
        write_csv(out / "grades.csv", records, [gid for gid, _ in test_cells(master)])
        gb.close()
        return records
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)


def main(args):
    limits = Limits(
        cell_timeout=args.timeout, train_timeout=args.train_timeout, wall_timeout=args.wall_timeout, memory_bytes=int(args.memory * 2**30)
    )
    options = Options(args.workers, limits, args.force, args.gradescope, progress=not args.quiet, shard=args.shard)
    started = time.monotonic()
    records = grade_batch(args.submissions, args.out, options)
    print(summary(records))
    print(f"\nwall time {time.monotonic() - started:.1f} s with {options.workers} workers; grades in {Path(args.out) / 'grades.csv'}")
    return 0
