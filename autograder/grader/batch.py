"""Grade a whole class: a pool of workers, one submission each at a time; results land in OUT atomically.

    python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout S] [--memory GB] [--force] [--shard K/N]
                               [--only ID ...] [--deadlines DEADLINES.csv] [--overrides OVERRIDES.csv] [--no-similarity]

A worker writes what the student wrote (OUT/code/<student>.json, for the similarity check), the student's
graded notebook (OUT/autograded/<student>/<assignment>/, for formgrader), their feedback, then (optionally)
Gradescope results, then the record OUT/records/<student>.json last: a record on disk means the student is graded.
Only the parent writes the gradebook, after each record, and grades.csv (and the class's other pages, outputs.py)
at the end; a re-run (after kill -9, say) grades only the students without a
record (all with --force) and brings the gradebook up to date idempotently. With --shard K/N only every N-th
submission is graded, and OUT/shard.json says which (shards.py merges the N folders). With --only ID
just those students are graded again (forced), everyone else's record is kept, and every report is rewritten.
What was found but not graded (unsafe zip entries, a second notebook, system files) is kept in OUT/intake.json
for OUT/warnings.txt; deadlines and overrides are applied by outputs.write_outputs (term.py).

A run holds a lock on OUT, its own scratch folder and (as root) its own leased kernel uids until it ends; its
workers die with it, even after kill -9, and take their kernels along (lifetime.py).
"""

import hashlib
import multiprocessing
import os
import sys
import time
import traceback
import unicodedata
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import nbformat
from tqdm import tqdm

from autograder import REPO
from autograder.grader.answers import NotANotebook, extract, read_cells
from autograder.grader.archive import ArchiveError, extract_zip
from autograder.grader.assemble import assemble_graded, suspicious
from autograder.grader.autograded import autograded_notebook, autograded_path
from autograder.grader.csv_table import TableError
from autograder.grader.execute import Limits, Sandbox, TestResult, grade_graded
from autograder.grader.exercise import ExerciseError, exercise_named, load_exercise, master_paths
from autograder.grader.gradebook import open_gradebook, record_grades
from autograder.grader.gradescope.results import results_json, test_titles
from autograder.grader.isolation import measure
from autograder.grader.leaderboard import leaderboard
from autograder.grader.lifetime import LOCK_NAME, BatchBusy, UidLease, become_subreaper, die_with_parent, run_lock, run_scratch
from autograder.grader.manual import pending
from autograder.grader.outputs import closing_lines, print_warnings, write_intake, write_outputs
from autograder.grader.record import Record, master_digest
from autograder.grader.report import feedback_html, isolation_summary, summary, write_atomic
from autograder.grader.shards import select_shard, write_manifest
from autograder.grader.similarity_report import code_json
from autograder.grader.submissions import discover, safe_name, similar_ids, survey
from autograder.grader.term import load_term

MAX_FILE_BYTES = 20 * 2**20
_worker = {}


def _init_worker(parent, slots, scratch_root, limits, hide, isolation, master_path):
    die_with_parent(parent)  # kill -9 of the grader takes its workers, and their kernels, along
    become_subreaper()
    slot, uid = slots.get()
    scratch = Path(scratch_root) / f"worker-{slot}"
    scratch.mkdir(parents=True, exist_ok=True)
    scratch.chmod(0o711)  # a kernel's uid reaches its own job folder (0700) through it, without listing it
    exercise = load_exercise(master_path)
    sandbox = Sandbox(scratch, uid, limits, isolation, hide)
    _worker.update(sandbox=sandbox, exercise=exercise, limits=limits, master_sha256=master_digest(exercise.master_path))
    _worker.update(titles=test_titles(exercise.nb), isolation=isolation.describe())


def ungraded_record(student_id, exercise, status, message, file="", digest="", master_sha256=""):
    """The record of a submission that could not be run: every test cell at 0 points, with the reason."""
    tests = [TestResult(gid, 0.0, points, message) for gid, points in exercise.tests] + pending(exercise, message)
    record = Record(student_id, status, message, tests, file, digest, assignment=exercise.name, master_sha256=master_sha256)
    record.graded_at, record.isolation = time.time(), _worker.get("isolation", "")
    return record


def _record(submission, exercise, status, message, tests=None, digest=""):
    file, master_sha256 = str(submission.path or ""), _worker["master_sha256"]
    message = "; ".join(part for part in [message, *submission.notes] if part)
    if tests is None:
        record = ungraded_record(submission.student_id, exercise, status, message, file, digest, master_sha256)
    else:
        record = Record(submission.student_id, status, message, tests, file, digest, assignment=exercise.name, master_sha256=master_sha256)
        record.isolation = _worker.get("isolation", "")
    return with_submission(record, submission)


def with_submission(record, submission):
    """record with what the submission's files say: when it was handed in, from where, the LMS's marks and id."""
    record.submitted_at, record.submitted_from = submission.submitted_at, submission.submitted_from
    record.lms_marks, record.lms_id = submission.lms_marks, submission.lms_id
    return record


class Unreadable(Exception):
    """The submitted file is not read: a link, not a regular file, or the system refuses to read it."""


def _digest(path):
    """sha256 of a regular file path ("" for none, a link, a pipe, or a file that cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() and not path.is_symlink() else ""
    except OSError:
        return ""


def grade_submission(submission, out, gradescope=False):
    """Grade one submission in this worker and write its files; returns its record. Never raises."""
    exercise, started = _worker["exercise"], time.monotonic()
    nb, metrics, name = None, [], safe_name(submission.student_id)
    (out / "code" / f"{name}.json").unlink(missing_ok=True)  # what an earlier run read from an older file
    try:
        if submission.refused:
            raise Unreadable(submission.refused)
        if submission.path is None:
            raise NotANotebook("no file in the student's folder")
        try:
            data = submission.path.read_bytes()
        except OSError as error:
            raise Unreadable(f"{submission.path.name} cannot be read ({error.strerror or error}): not graded") from None
        if len(data) > MAX_FILE_BYTES:
            raise NotANotebook(f"the file is {len(data) // 2**20} MiB, more than a notebook for this exercise can be")
        extracted = extract(read_cells(data), exercise)
        write_atomic(out / "code" / f"{name}.json", code_json(submission.student_id, extracted))
        graded = assemble_graded(exercise, extracted, seed=_worker["limits"].seed)
        outcome = grade_graded(graded, _worker["sandbox"], safe_name(submission.student_id), _worker["limits"], exercise)
        nb = autograded_notebook(outcome.nb, graded, exercise)
        flags = suspicious(extracted.answers, extracted.extras)
        notes = extracted.notes + outcome.messages + ([f"for review: the code uses {', '.join(flags)}"] if flags else [])
        metrics = leaderboard(outcome.nb, outcome.tests, exercise.leaderboard) if outcome.status == "ok" else []
        tests = outcome.tests + pending(exercise)
        record = _record(submission, exercise, outcome.status, "; ".join(notes), tests, digest=hashlib.sha256(data).hexdigest())
    except NotANotebook as error:
        record = _record(submission, exercise, "not a notebook", str(error), digest=_digest(submission.path))
    except Unreadable as error:
        record = _record(submission, exercise, "unreadable", str(error))
    except Exception as error:  # a grader bug must cost one row, not the batch
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        record = _record(submission, exercise, "grader error", detail[:500], digest=_digest(submission.path))
    record.seconds, record.leaderboard, record.graded_at = round(time.monotonic() - started, 1), metrics, time.time()
    autograded = autograded_path(out, submission.student_id, exercise.name)
    if nb is not None:
        write_atomic(autograded, nbformat.writes(nb))
    else:
        autograded.unlink(missing_ok=True)  # a graded notebook of an earlier file is not this one's
    write_atomic(out / "feedback" / f"{name}.html", feedback_html(record, nb, title=exercise.title, rubrics=exercise.rubrics))
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


def _run_pool(todo, out, options, scratch_root, hide, isolation, gb, bar, exercise):
    """Grade todo in a pool; returns the submissions left over if the pool broke."""
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for slot in range(options.workers):
        slots.put((slot, isolation.uids[slot] if isolation.uids else None))
    initargs = (os.getpid(), slots, str(scratch_root), options.limits, hide, isolation, str(exercise.master_path))
    with ProcessPoolExecutor(options.workers, mp_context=context, initializer=_init_worker, initargs=initargs) as pool:
        futures = {pool.submit(grade_submission, s, out, options.gradescope): s for s in todo}
        left = []
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                left.append(futures[future])
                continue
            record_grades(gb, exercise.name, record)
            bar.set_postfix_str(f"{record.student_id[:20]}: {record.status}", refresh=False)
            bar.update()
    return left


class Options:
    def __init__(
        self, workers=None, limits=None, force=False, gradescope=False, progress=True, assignment=None, shard=None, similarity=True, **term
    ):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.similarity = similarity  # write similarity.csv and similarity.html at the end
        self.limits, self.force, self.gradescope, self.progress = limits or Limits(), force, gradescope, progress
        self.assignment = assignment  # the exercise's name (or its master's path); None: found from the notebooks
        self.shard = shard  # (k, n): grade only every n-th submission from the k-th on; None: all
        self.only = tuple(term.get("only") or ())  # student ids to regrade (forced), keeping everyone else's record
        self.deadlines, self.overrides = term.get("deadlines"), term.get("overrides")  # CSV paths, or None: OUT's copies
        self.isolation = None  # measured by grade_batch


class UnknownStudent(ValueError):
    """--only names a student the submissions do not hold."""


def _grade_ids(path):
    """The grade_ids a submitted file's cells carry (none when it is not a readable notebook)."""
    try:
        return {c["meta"].get("grade_id") for c in read_cells(path.read_bytes()) if isinstance(c["meta"].get("grade_id"), str)}
    except (OSError, NotANotebook):
        return set()


def identify_exercise(found, paths=None):
    """The exercise the submissions belong to: the master whose grade_ids the notebooks carry most often."""
    exercises = [load_exercise(p) for p in (paths if paths is not None else master_paths())]
    seen = [_grade_ids(s.path) for s in found if s.path is not None]
    votes = {e.name: sum(len(ids & ({g for g, _ in e.tests} | set(e.defines) | set(e.manual_ids))) for ids in seen) for e in exercises}
    best = max(votes.values(), default=0)
    winners = [e for e in exercises if votes[e.name] == best]
    if len(winners) == 1 and (best > 0 or len(exercises) == 1):
        return winners[0]
    known = ", ".join(e.name for e in exercises) or "none"
    raise ExerciseError(f"cannot tell which exercise these notebooks are (masters: {known}): name it with --assignment NAME")


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


def _isolation(submissions, folder, out, scratch_root, uids, options, exercise):
    """Measure what confines the kernels on this host, say it once, and keep it for the records and summary."""
    hide = [str(out), str(folder), str(submissions), str(submissions.parent if submissions.is_file() else submissions)]
    secrets = [str(exercise.master_path), str(out / LOCK_NAME), str(submissions), str(scratch_root / LOCK_NAME)]
    isolation = measure(scratch_root, uids.uids, hide, secrets, private=[str(REPO), str(out), str(submissions)])
    if isolation.missing or options.progress:
        print(f"isolation: {isolation.describe()}", file=sys.stderr)
    options.isolation = isolation
    return isolation, hide


def _exercise_of(folder, options):
    return exercise_named(options.assignment) if options.assignment else identify_exercise(discover(folder, None))


def _unpacked(submissions, scratch_root):
    """(folder to read, the zip's warnings, the zip entries' times): a .zip is unpacked into the run's scratch."""
    if not (submissions.is_file() and submissions.suffix.lower() == ".zip"):
        return submissions, [], {}
    unpacked = extract_zip(submissions, scratch_root / "unpacked")
    (scratch_root / "unpacked").chmod(0o700)
    return unpacked.folder, unpacked.warnings, unpacked.times


def select_only(found, only):
    """The submissions --only names; UnknownStudent names the unknown ids and the known ones."""
    by_id = {s.student_id: s for s in found}
    unknown = [i for i in only if unicodedata.normalize("NFC", i) not in by_id]
    if unknown:
        hints = {i: similar_ids(i, by_id) for i in unknown}
        said = "; ".join(f"{i!r}" + (f" (did you mean {', '.join(hints[i])}?)" if hints[i] else "") for i in unknown)
        raise UnknownStudent(f"--only: no submission of {said}; the students are: {', '.join(sorted(by_id)) or 'none'}")
    return [by_id[unicodedata.normalize("NFC", i)] for i in dict.fromkeys(only)]


def _to_grade(found, out, options):
    """(the submissions to grade now, the records kept): --only's students, else those without a valid record."""
    done = {s: load_record(out, s) for s in found}
    if options.only:
        chosen = set(select_only(found, options.only))
        return [s for s in found if s in chosen], {s: r for s, r in done.items() if s not in chosen and r is not None}
    todo = [s for s in found if options.force or not _still_valid(done[s], s)]
    return todo, {s: done[s] for s in found if s not in todo}


def _grade_all(submissions, out, options, scratch_root, uids):
    folder, warnings, times = _unpacked(submissions, scratch_root)
    exercise = _exercise_of(folder, options)
    term = load_term(out, exercise, options.deadlines, options.overrides)  # a bad CSV stops the run before any grading
    digest = master_digest(exercise.master_path)
    found_all = survey(folder, exercise.name, times)
    found = found_all.submissions
    if options.shard:
        found = select_shard(found, *options.shard)
    todo, kept = _to_grade(found, out, options)
    if options.shard:
        write_manifest(out, *options.shard, found, exercise.name, digest)
    for line in term.said:
        print(line, file=sys.stderr)
    never = [s.student_id for s in found if s not in todo and s not in kept]
    unseen = [f"--only: {len(never)} students have no record yet, so no row ({', '.join(never)}): grade them without --only"]
    write_intake(out, warnings + found_all.warnings + (unseen if never else []))
    gb = open_gradebook(out / "gradebook.db", exercise)
    for record in kept.values():
        record_grades(gb, exercise.name, record)
    isolation, hide = _isolation(submissions, folder, out, scratch_root, uids, options, exercise)
    with tqdm(total=len(todo), desc="grading", unit="nb", disable=not options.progress, file=sys.stderr) as bar:
        for _ in range(3):
            todo = _run_pool(todo, out, options, scratch_root, hide, isolation, gb, bar, exercise) if todo else []
    for s in todo:  # the pool broke three times on these: a row each all the same
        died = "the grading worker died three times"
        record = ungraded_record(s.student_id, exercise, "grader error", died, str(s.path or ""), master_sha256=digest)
        record.isolation = isolation.describe()
        write_atomic(out / "records" / f"{safe_name(s.student_id)}.json", record.to_json())
        record_grades(gb, exercise.name, record)
    # a kept record takes what its file says now (a timestamp.txt added since, say); write_outputs saves it if changed
    records = [with_submission(r, s) for s, r in ((s, load_record(out, s)) for s in found) if r is not None]
    gb.close()
    write_outputs(out, exercise, records, term, gradescope=options.gradescope, similarity=options.similarity)
    return records


def _cell_timeout(spec):
    """GRADE_ID=SECONDS from the command line, as (grade_id, seconds)."""
    gid, _, seconds = spec.partition("=")
    try:
        return gid, float(seconds)
    except ValueError:
        raise SystemExit(f"error: --cell-timeout wants GRADE_ID=SECONDS, got {spec!r}") from None


def main(args):
    timeouts = dict(_cell_timeout(spec) for spec in args.cell_timeout)
    limits = Limits(cell_timeout=args.timeout, timeouts=timeouts, wall_timeout=args.wall_timeout, memory_bytes=int(args.memory * 2**30))
    term = {"only": args.only, "deadlines": args.deadlines, "overrides": args.overrides}
    similarity = not args.no_similarity
    options = Options(args.workers, limits, args.force, args.gradescope, not args.quiet, args.assignment, args.shard, similarity, **term)
    started = time.monotonic()
    try:
        records = grade_batch(args.submissions, args.out, options)
    except (ExerciseError, BatchBusy, TableError, ArchiveError, UnknownStudent) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary(records))
    print(isolation_summary(records))
    print_warnings(args.out)
    print(f"\nwall time {time.monotonic() - started:.1f} s with {options.workers} workers; grades in {Path(args.out) / 'grades.csv'}")
    print(closing_lines(args.out, options.similarity))
    return 0
