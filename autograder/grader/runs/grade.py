"""Grade a whole class: a pool of workers, one submission each at a time; results land in OUT atomically.

    python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout S] [--memory GB] [--force] [--shard K/N]
                               [--only ID ...] [--deadlines DEADLINES.csv] [--overrides OVERRIDES.csv] [--no-similarity]

A worker writes what the student wrote (OUT/code/<student>.json, for the similarity check), the student's
graded notebook (OUT/autograded/<student>/<assignment>/, for formgrader), their feedback, then (optionally)
Gradescope results, then the record OUT/records/<student>.json last: a record on disk means the student is graded.
Only the parent writes the gradebook, after each record, and grades.csv (and the class's other pages, runs/outputs.py)
at the end; a re-run (after kill -9, say) grades only the students without a
record (all with --force) and brings the gradebook up to date idempotently. With --shard K/N only every N-th
submission is graded, and OUT/shard.json says which (runs/merge.py merges the N folders). With --only ID
just those students are graded again (forced), everyone else's record is kept, and every report is rewritten.
What was found but not graded (unsafe zip entries, a second notebook, system files) is kept in OUT/intake.json
for OUT/warnings.txt; deadlines and overrides are applied by outputs.write_outputs (scoring/term.py).

A run holds a lock on OUT, its own scratch folder and (as root) its own leased kernel uids until it ends; its
workers die with it, even after kill -9, and take their kernels along (runs/lifetime.py).
"""

import os
import queue
import shutil
import sys
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder import REPO
from autograder.grader.confine.isolation import Isolation, measure
from autograder.grader.confine.sandbox import build_font_cache
from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import similar_ids
from autograder.grader.core.layout import feedback_path, gradebook_path, load_record, record_path, write_origin
from autograder.grader.core.record import Record
from autograder.grader.intake.archive import Unpacked, extract_zip
from autograder.grader.intake.shards import select_shard, write_manifest
from autograder.grader.intake.submissions import Submission, Wanted, discover, survey
from autograder.grader.integrations.gradebook import open_gradebook, record_grades
from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.lifetime import LOCK_NAME, UidLease, run_lock, run_scratch
from autograder.grader.runs.outputs import write_intake, write_outputs
from autograder.grader.runs.pool import run_pool
from autograder.grader.runs.resolve import resolve_assignment
from autograder.grader.runs.worker import (
    copy_exchange_files,
    still_valid,
    ungraded_record,
    with_submission,
)
from autograder.grader.scoring.term import load_term


class _Gradebook:
    """OUT/gradebook.db, opened and written by a thread of its own, the only one that touches it.

    Opening a new gradebook runs nbgrader's `alembic heads` in a subprocess (about 2 s of CPU), which the first
    kernel need not wait for: the thread starts once the workers have started. Records are written in the order
    they come; close() waits for the last and raises what the thread raised."""

    def __init__(self, path, assignment):
        self.path, self.assignment, self.error, self.written = path, assignment, None, False
        self.records = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._write, name="gradebook", daemon=True)

    def start(self) -> None:
        if self.thread.ident is None:  # not started yet
            self.thread.start()

    def put(self, record: Record) -> None:
        self.written = True
        self.records.put(record)

    def _write(self):
        try:
            gb = open_gradebook(self.path, self.assignment)
        except Exception as error:  # raised again by close(), in the run's own thread
            self.error = error
            return
        try:
            while (record := self.records.get()) is not None:
                record_grades(gb, self.assignment, record)
        except Exception as error:
            self.error = error
        finally:
            gb.close()

    def close(self) -> None:
        if not self.written and self.thread.ident is None:
            return  # no record to write (an empty class): the gradebook is neither made nor opened
        self.start()
        self.records.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


@dataclass(frozen=True, kw_only=True)
class Options:
    """How a run grades: every setting a command gives grade_batch, fixed before the run starts."""

    workers: int | None = None  # parallel kernels; None or 0: one per core (at least 1, read back as an int)
    limits: Limits = field(default_factory=Limits)  # each kernel's timeouts, memory and seed
    force: bool = False  # grade again the students that already have a valid record
    gradescope: bool = False  # also write OUT/results/<student>.json for Gradescope
    progress: bool = True  # a progress bar, and the isolation line, on stderr
    assignment: str | None = None  # the assignment's name (or its source's path); None: found from the notebooks
    shard: tuple[int, int] | None = None  # (k, n): grade only every n-th submission from the k-th on; None: all
    similarity: bool = True  # write similarity.csv and similarity.html at the end
    course: Path | None = None  # an nbgrader course directory (its sources, its files); resolved to an absolute path
    # the term's settings
    only: tuple[str, ...] = ()  # student ids to regrade (forced), keeping everyone else's record
    deadlines: str | Path | None = None  # the deadlines CSV, or None: OUT's kept copy
    overrides: str | Path | None = None  # the overrides CSV, or None: OUT's kept copy

    def __post_init__(self) -> None:
        # the given values, normalised once (a frozen dataclass sets its own fields through object.__setattr__)
        object.__setattr__(self, "workers", max(1, self.workers or os.cpu_count() or 1))
        object.__setattr__(self, "limits", self.limits if self.limits is not None else Limits())
        object.__setattr__(self, "only", tuple(self.only or ()))
        object.__setattr__(self, "course", Path(self.course).resolve() if self.course else None)


@dataclass(frozen=True)
class Batch:
    """What a run of grade_batch leaves: the records of every student graded or kept, and the confinement it measured."""

    records: list[Record]
    isolation: Isolation


class UnknownStudent(ValueError):
    """--only names a student the submissions do not hold."""


def grade_batch(submissions: str | Path, out: str | Path, options: Options) -> list[Record]:
    """Grade every submission in the folder or zip at submissions into out; returns the records (run_batch: with
    the isolation measured too)."""
    return run_batch(submissions, out, options).records


def run_batch(submissions: str | Path, out: str | Path, options: Options) -> Batch:
    """Grade every submission in the folder or zip at submissions into out; returns the records and the isolation.

    BatchBusy if another run is grading into out. The run holds out, a scratch folder and (root) its uids until
    it ends; whatever kills it, the locks go with it and so do its workers and kernels.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out), run_scratch() as scratch_root, _uids(options.workers) as uids:
        return _grade_all(Path(submissions).resolve(), out, options, scratch_root, uids)


def _font_cache(todo, options, scratch_root, hide, isolation):
    """A thread that builds the run's matplotlib font list, when some worker will start more than one kernel (the first
    kernels start without it: for one kernel per worker the build would cost more than it saves)."""
    if len(todo) <= options.workers:
        return None
    uid = isolation.uids[0] if isolation.uids and os.geteuid() == 0 else None
    args = (scratch_root, uid, isolation, hide, options.limits.memory_bytes)
    return threading.Thread(target=build_font_cache, args=args, name="font cache", daemon=True)


def _uids(n):
    """Throwaway uids for the kernels when root (one per worker, leased to this run alone), else none."""
    return UidLease(n if os.geteuid() == 0 else 0)


def _measure_isolation(submissions, folder, out, scratch_root, uids, options, assignment):
    """Measure what confines the kernels on this host, say it once, and keep it for the records and summary."""
    hide = [str(out), str(folder), str(submissions), str(submissions.parent if submissions.is_file() else submissions)]
    course = [str(options.course)] if options.course else []
    hide += course + ([str(assignment.source)] if not str(assignment.source).startswith(str(REPO)) else [])
    secrets = [str(assignment.source), str(out / LOCK_NAME), str(submissions), str(scratch_root / LOCK_NAME), *course]
    isolation = measure(scratch_root, uids.uids, hide, secrets, private=[str(REPO), str(out), str(submissions), *course])
    if isolation.missing or options.progress:
        print(f"isolation: {isolation.describe()}", file=sys.stderr)
    return isolation, hide


def _unpacked(submissions, scratch_root):
    """The Unpacked folder to read: a .zip unpacked into the run's scratch, a single notebook copied into a folder of
    its own there (a class of one), a folder as it is."""
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        unpacked = extract_zip(submissions, scratch_root / "unpacked")
        (scratch_root / "unpacked").chmod(0o700)
        return unpacked
    if submissions.is_file():
        folder = scratch_root / "single"
        folder.mkdir(mode=0o700)
        shutil.copy2(submissions, folder / submissions.name)
        return Unpacked(folder)
    return Unpacked(submissions)


def select_only(found: list[Submission], only: Iterable[str]) -> list[Submission]:
    """The submissions --only names; UnknownStudent names the unknown ids and the known ones."""
    by_id = {s.student_id: s for s in found}
    unknown = [i for i in only if unicodedata.normalize("NFC", i) not in by_id]
    if unknown:
        hints = {i: similar_ids(i, by_id) for i in unknown}
        said = "; ".join(f"{i!r}" + (f" (did you mean {', '.join(hints[i])}?)" if hints[i] else "") for i in unknown)
        raise UnknownStudent(f"--only: no submission of {said}; the students are: {', '.join(sorted(by_id)) or 'none'}")
    return [by_id[unicodedata.normalize("NFC", i)] for i in dict.fromkeys(only)]


def _to_grade(found, out, options, assignment):
    """(the submissions to grade now, the records kept): --only's students, else those without a valid record."""
    done = {s: load_record(out, s.student_id) for s in found}
    if options.only:
        chosen = set(select_only(found, options.only))
        return [s for s in found if s in chosen], {s: r for s, r in done.items() if s not in chosen and r is not None}
    digest = assignment.digest()
    todo = [s for s in found if options.force or not still_valid(done[s], s, assignment, digest)]
    return todo, {s: done[s] for s in found if s not in todo}


def _grade_all(submissions, out, options, scratch_root, uids):
    unpacked = _unpacked(submissions, scratch_root)
    folder, warnings = unpacked.folder, unpacked.warnings
    found_here = discover(folder, None) if not options.assignment else []
    assignment = resolve_assignment(options.assignment, course=options.course, submissions=found_here)
    term = load_term(out, assignment, options.deadlines, options.overrides)  # a bad CSV stops the run before any grading
    digest = assignment.digest()
    write_origin(out, assignment, options.course)
    found_all = survey(folder, Wanted.for_assignment(assignment, options.course is not None), unpacked.times, unpacked.refused)
    found = found_all.submissions
    if options.shard:
        found = select_shard(found, *options.shard)
    todo, kept = _to_grade(found, out, options, assignment)
    if options.shard:
        write_manifest(out, *options.shard, found, assignment.name, digest)
    for line in term.said:
        print(line, file=sys.stderr)
    never = [s.student_id for s in found if s not in todo and s not in kept]
    unseen = [f"--only: {len(never)} students have no record yet, so no row ({', '.join(never)}): grade them without --only"]
    write_intake(out, warnings + found_all.warnings + (unseen if never else []))
    gradebook = _Gradebook(gradebook_path(out), assignment)
    for record in kept.values():
        gradebook.put(record)
    isolation, hide = _measure_isolation(submissions, folder, out, scratch_root, uids, options, assignment)
    fonts = _font_cache(todo, options, scratch_root, hide, isolation)
    with tqdm(total=len(todo), desc="grading", unit="nb", disable=not options.progress, file=sys.stderr) as bar:
        for _ in range(3):
            todo = run_pool(todo, out, options, scratch_root, hide, isolation, (gradebook, fonts), bar, assignment) if todo else []
    if fonts is not None and fonts.ident is not None:
        fonts.join()  # before the scratch folder goes
    for s in todo:  # the pool broke three times on these: a row each all the same
        died = "the grading worker died three times"
        record = ungraded_record(s.student_id, assignment, "grader error", died, str(s.path or ""), master_sha256=digest)
        record.isolation = isolation.describe()
        write_atomic(record_path(out, s.student_id), record.to_json())
        gradebook.put(record)
    # a kept record takes what its file says now (a timestamp.txt added since, say); write_outputs saves it if changed
    records = [with_submission(r, s) for s, r in ((s, load_record(out, s.student_id)) for s in found) if r is not None]
    for s in found:  # a kept record's pages take the secret of the submission they now stand for (collect --update)
        copy_exchange_files(s, feedback_path(out, s.student_id, assignment.name, assignment.notebook_names[0]).parent)
    gradebook.close()
    write_outputs(out, assignment, records, term, gradescope=options.gradescope, similarity=options.similarity)
    return Batch(records, isolation)
