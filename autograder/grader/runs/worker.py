"""A grading worker: one submission at a time, from its files to every file of the student in OUT.

Each notebook of the assignment runs in its own fresh, confined kernel; the student's record holds the tests of
all of them, each test with its notebook's name.
"""

import hashlib
import multiprocessing.util
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.grader.confine.isolation import Isolation
from autograder.grader.confine.processes import become_subreaper, die_with_parent, reap_children
from autograder.grader.confine.sandbox import Sandbox
from autograder.grader.core.assignment import Assignment
from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import safe_name
from autograder.grader.core.layout import autograded_path, code_path, feedback_path, record_path, results_path
from autograder.grader.core.record import NOT_SUBMITTED, Record, TestResult, pending
from autograder.grader.intake.junk import student_files
from autograder.grader.intake.submissions import Submission
from autograder.grader.integrations.gradescope.results import results_json, test_titles
from autograder.grader.pipeline.answers import NotANotebook
from autograder.grader.pipeline.execute import Limits, staged_files
from autograder.grader.reports.feedback import feedback_html
from autograder.grader.reports.similarity_report import code_json
from autograder.grader.runs.notebook import grade_notebook, not_run
from autograder.grader.runs.resolve import grade_ids

MAX_FILE_BYTES = 20 * 2**20
# A status that says the submission was never run, in the order a record of several notebooks names the worst
NEVER_RAN = ("grader error", "unreadable", "not a notebook")


@dataclass(frozen=True, kw_only=True)
class WorkerContext:
    """What the run gives each of its workers as the pool starts them."""

    parent: int  # the grader's pid: the worker, and its kernels, die with it
    slots: Any  # a queue of (slot, uid or None): each worker takes one (its scratch folder, as root its kernels' uid)
    scratch_root: str  # the run's scratch folder; the worker's own is worker-<slot> inside it
    limits: Limits  # each kernel's timeouts, memory and seed
    hide: list[str]  # folders the kernel must not see (OUT, the submissions, the course, the sources)
    isolation: Isolation  # what confines the kernels on this host, as the run measured it
    assignment: Assignment  # the assignment the run read


@dataclass(frozen=True, kw_only=True)
class _Worker:
    """This worker process, once set up: what grading a submission reads."""

    sandbox: Sandbox  # the confined place its kernels run in
    assignment: Assignment
    limits: Limits
    master_sha256: str  # the assignment's digest, kept in each record
    titles: dict  # Gradescope's test titles
    isolation: str  # the isolation, described for each record


_this: _Worker | None = None  # set by init_worker in a pool's worker; None in the grader's own process


def _worker() -> _Worker:
    if _this is None:
        raise RuntimeError("not a grading worker: init_worker has not run in this process")
    return _this


def init_worker(context: WorkerContext) -> None:
    """Set up this worker: its slot (and uid, as root), its scratch folder and sandbox, the assignment the run read."""
    global _this
    die_with_parent(context.parent)  # kill -9 of the grader takes its workers, and their kernels, along
    become_subreaper()
    multiprocessing.util.Finalize(None, reap_children, exitpriority=10)  # as the worker exits (a forked one: os._exit)
    slot, uid = context.slots.get()
    scratch = Path(context.scratch_root) / f"worker-{slot}"
    scratch.mkdir(parents=True, exist_ok=True)
    scratch.chmod(0o711)  # a kernel's uid reaches its own job folder (0700) through it, without listing it
    assignment = context.assignment
    _this = _Worker(
        sandbox=Sandbox(scratch, uid, context.limits, context.isolation, context.hide),
        assignment=assignment,
        limits=context.limits,
        master_sha256=assignment.digest(),
        titles=test_titles(assignment),
        isolation=context.isolation.describe(),
    )


def ungraded_record(
    student_id: str, assignment: Assignment, status: str, message: str, file: str = "", digest: str = "", master_sha256: str = ""
) -> Record:
    """The record of a submission that could not be run: every test cell at 0 points, with the reason."""
    tests = [TestResult(gid, 0.0, points, message, notebook=nb.name) for nb in assignment.notebooks for gid, points in nb.tests]
    tests += pending(assignment.notebooks, message, True)
    record = Record(student_id, status, message, tests, file, digest, assignment=assignment.name)
    record.master_sha256, record.graded_at, record.isolation = master_sha256, time.time(), _this.isolation if _this else ""
    return record


def with_submission(record: Record, submission: Submission) -> Record:
    """record with what the submission's files say: when it was handed in, from where, the LMS's marks and id."""
    record.submitted_at, record.submitted_from = submission.submitted_at, submission.submitted_from
    record.lms_marks, record.lms_id = submission.lms_marks, submission.lms_id
    return record


class Unreadable(Exception):
    """The submitted file is not read: a link, not a regular file, or the system refuses to read it."""


def _digest(paths):
    """sha256 of the regular files at paths, in order ("" when none can be read: none, a link, a pipe)."""
    hasher, read = hashlib.sha256(), False
    for path in paths:
        try:
            if path and path.is_file() and not path.is_symlink():
                hasher.update(path.read_bytes())
                read = True
        except OSError:
            continue
    return hasher.hexdigest() if read else ""


def submitted_files(submission: Submission, assignment: Assignment) -> list[Path | None]:
    """The files of the submission that its grade depends on: its notebooks (a notebook not found, its place kept)."""
    paths = submission.notebook_paths(assignment.notebook_names)
    return [paths[name] for name in assignment.notebook_names] + list(submission.strays)


def _read(path):
    """The bytes of a submitted notebook file; Unreadable or NotANotebook say why not."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Unreadable(f"{path.name} cannot be read ({error.strerror or error}): not graded") from None
    if len(data) > MAX_FILE_BYTES:
        raise NotANotebook(f"the file is {len(data) // 2**20} MiB, more than a notebook for this assignment can be")
    return data


def _one_notebook(notebook, path, submission):
    """NotebookResult of the notebook file path (None: not in the submission) of the notebook."""
    if path is None:
        return not_run(notebook, "not submitted", NOT_SUBMITTED)
    worker = _worker()
    several = len(worker.assignment.notebooks) > 1
    job = safe_name(submission.student_id) + (f"-{notebook.name}" if several else "")
    mine = _student_files(submission, worker.assignment) if notebook.student_files else []
    files = staged_files(notebook, worker.assignment.files, mine)
    try:
        return grade_notebook(notebook, _read(path), sandbox=worker.sandbox, job=job, limits=worker.limits, files=files)
    except NotANotebook as error:
        return not_run(notebook, "not a notebook", f"{path.name}: {error}" if several else str(error))
    except Unreadable as error:
        return not_run(notebook, "unreadable", str(error))


def _matched(submission, assignment):
    """{notebook name: file or None}: the notebooks found by name, then each stray notebook file matched to a missing
    notebook whose grade_ids it carries (a renamed file)."""
    paths = submission.notebook_paths(assignment.notebook_names)
    if len(assignment.notebooks) == 1:
        return paths
    for stray in [*submission.strays, *([submission.path] if submission.path and not submission.notebooks else [])]:
        missing = [nb for nb in assignment.notebooks if paths[nb.name] is None]
        ids = grade_ids(stray)
        votes = {nb.name: len(ids & {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}) for nb in missing}
        best = max(votes, key=votes.get, default=None)
        if best is not None and votes[best] > 0:
            paths[best] = stray
    return paths


def _student_files(submission, assignment):
    """(relative path, file) of the student's own other files beside their notebooks (junk.student_files)."""
    if submission.folder is None or not Path(submission.folder).is_dir():
        return []
    notebooks = {p for p in submission.notebook_paths(assignment.notebook_names).values() if p} | set(submission.strays)
    return student_files(submission.folder, notebooks)


def _combined(results, assignment):
    """(status, message, tests, metrics) of the assignment from its notebooks' results."""
    tests = [t for r in results for t in r.tests]
    metrics = [m for r in results for m in r.metrics]
    ran = [r for r in results if r.status not in ("not submitted", *NEVER_RAN)]
    several = len(assignment.notebooks) > 1
    notes = [
        f"{r.name}: {n}" if several else n for r in results for n in r.notes if not (several and r.status == "not submitted" and not ran)
    ]
    if not ran:  # nothing ran: the worst reason why, for the whole record
        worst = next((s for s in NEVER_RAN if any(r.status == s for r in results)), "not a notebook")
        message = (
            "; ".join(notes) if any(r.status != "not submitted" for r in results) else "no notebook of the assignment in the submission"
        )
        return worst, message, tests, metrics
    status = next((r.status for r in ran if r.status != "ok"), next((r.status for r in results if r.status in NEVER_RAN), "ok"))
    return status, "; ".join(notes), tests, metrics


def grade_submission(submission: Submission, out: Path, gradescope: bool = False) -> Record:
    """Grade one submission in this worker and write its files; returns its record. Never raises."""
    assignment, started = _worker().assignment, time.monotonic()
    results = []
    code_path(out, submission.student_id).unlink(missing_ok=True)  # what an earlier run read from an older file
    try:
        if submission.refused:
            raise Unreadable(submission.refused)
        if submission.path is None:
            raise NotANotebook("no file in the student's folder")
        paths = _matched(submission, assignment)
        results = [_one_notebook(nb, paths[nb.name], submission) for nb in assignment.notebooks]
        status, message, tests, metrics = _combined(results, assignment)
        record = _record(submission, assignment, status, message, tests, _digest(submitted_files(submission, assignment)))
        record.leaderboard = metrics
        if any(r.nb is not None for r in results):
            answers = {gid: source for r in results for gid, source in r.answers.items()}
            write_atomic(
                code_path(out, submission.student_id), code_json(submission.student_id, answers, [e for r in results for e in r.extras])
            )
    except NotANotebook as error:
        record = _record(submission, assignment, "not a notebook", str(error), digest=_digest([submission.path]))
    except Unreadable as error:
        record = _record(submission, assignment, "unreadable", str(error))
    except Exception as error:  # a grader bug must cost one row, not the batch
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        record = _record(submission, assignment, "grader error", detail[:500], digest=_digest([submission.path]))
        results = []
    record.seconds, record.graded_at = round(time.monotonic() - started, 1), time.time()
    _write_student_files(out, submission, assignment, record, {r.name: r.nb for r in results}, gradescope)
    return record


def _record(submission, assignment, status, message, tests=None, digest=""):
    file, master_sha256 = str(submission.path or ""), _worker().master_sha256
    message = "; ".join(part for part in [message, *submission.notes] if part)
    if tests is None:
        record = ungraded_record(submission.student_id, assignment, status, message, file, digest, master_sha256)
    else:
        record = Record(
            submission.student_id, status, message, tests, file, digest, assignment=assignment.name, master_sha256=master_sha256
        )
        record.isolation = _worker().isolation
    return with_submission(record, submission)


def _write_student_files(out, submission, assignment, record, notebooks, gradescope):
    """The graded notebooks (formgrader's), one feedback page per notebook (nbgrader's layout, with what nbgrader's
    release_feedback needs beside them), Gradescope's results, then the record: a record on disk means graded."""
    student = submission.student_id
    for notebook in assignment.notebooks:
        nb, autograded = notebooks.get(notebook.name), autograded_path(out, student, assignment.name, notebook.name)
        if nb is not None:
            write_atomic(autograded, nbformat.writes(nb))
        else:
            autograded.unlink(missing_ok=True)  # a graded notebook of an earlier file is not this one's
        page = feedback_html(
            record, nb, title=assignment.title, rubrics=assignment.rubrics, notebook=notebook.name, notebooks=assignment.notebook_names
        )
        write_atomic(feedback_path(out, student, assignment.name, notebook.name), page)
    copy_exchange_files(submission, feedback_path(out, student, assignment.name, assignment.notebook_names[0]).parent)
    if gradescope:
        write_atomic(results_path(out, student), results_json(record, _worker().titles))
    write_atomic(record_path(out, student), record.to_json())


EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")  # what nbgrader's release_feedback reads beside the pages


def copy_exchange_files(submission: Submission, folder: str | Path) -> None:
    """Copy the submission's timestamp.txt and submission_secret.txt (nbgrader's exchange wrote them) beside its
    feedback pages, byte for byte: release_feedback names each released page by a hash of the secret, and the
    student's fetch_feedback finds it by the secret of the submission it was graded from. A secret of an earlier
    submission is removed: that feedback is not this one's."""
    source = Path(submission.folder) if submission.folder else None
    for name in EXCHANGE_FILES:
        target = Path(folder) / name
        found = source / name if source is not None else None
        if found is not None and found.is_file() and not found.is_symlink():
            write_atomic(target, found.read_bytes())
        else:
            target.unlink(missing_ok=True)


def still_valid(record: Record | None, submission: Submission, assignment: Assignment, digest: str | None = None) -> bool:
    """True when record was graded from these very files with these very tests (digest: the assignment's, if known):
    a rerun grades again a changed submission, and every submission after the master or the source changed."""
    same_tests = digest is None or not record or not record.master_sha256 or record.master_sha256 == digest
    return record is not None and same_tests and record.sha256 == _digest(submitted_files(submission, assignment))
