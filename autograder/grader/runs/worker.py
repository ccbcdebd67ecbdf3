"""A grading worker: one submission at a time, from its file to every file of the student in OUT."""

import hashlib
import multiprocessing.util
import time
import traceback
from pathlib import Path

import nbformat

from autograder.grader.core.files import write_atomic
from autograder.grader.core.ids import safe_name
from autograder.grader.core.record import Record, TestResult, master_digest, pending
from autograder.grader.integrations.formgrader import autograded_notebook, autograded_path
from autograder.grader.integrations.gradescope.results import results_json, test_titles
from autograder.grader.pipeline.answers import NotANotebook, extract, read_cells
from autograder.grader.pipeline.assemble import assemble_graded, suspicious
from autograder.grader.pipeline.leaderboard import leaderboard
from autograder.grader.pipeline.lifetime import become_subreaper, die_with_parent, reap_children
from autograder.grader.pipeline.sandbox import Sandbox
from autograder.grader.pipeline.score import grade_graded
from autograder.grader.reports.feedback import feedback_html
from autograder.grader.reports.similarity_report import code_json

MAX_FILE_BYTES = 20 * 2**20


_worker = {}


def init_worker(parent, slots, scratch_root, limits, hide, isolation, exercise):
    """Set up this worker: its slot (and uid, as root), its scratch folder and sandbox, the exercise the run read."""
    die_with_parent(parent)  # kill -9 of the grader takes its workers, and their kernels, along
    become_subreaper()
    multiprocessing.util.Finalize(None, reap_children, exitpriority=10)  # as the worker exits (a forked one: os._exit)
    slot, uid = slots.get()
    scratch = Path(scratch_root) / f"worker-{slot}"
    scratch.mkdir(parents=True, exist_ok=True)
    scratch.chmod(0o711)  # a kernel's uid reaches its own job folder (0700) through it, without listing it
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


def still_valid(record, submission):
    return record is not None and record.sha256 == _digest(submission.path)
