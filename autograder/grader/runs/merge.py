"""Grade a class as N shards on any batch scheduler (a SLURM array, a Kubernetes Indexed Job), then merge them.

    python -m autograder grade SUBMISSIONS --out OUT_K --shard K/N     # K = 0 … N-1, or auto/N
    python -m autograder merge OUT_0 OUT_1 … --out OUT

Shard K grades the submissions at positions K, K+N, K+2N, … of the sorted list that `grade` would grade, and
writes OUT_K/shard.json: which shard it is, the students it owns, the master it graded with. The merge reads
every shard's records, keeps the newest record of a student graded twice, refuses to mix assignments or
masters, says which shard or student is missing, and writes one grades.csv, feedback/, records/, code/, autograded/,
gradebook.db, report.html and similarity.html, the same as a one-shot `grade` of the same submissions would. The
scores a person gave written answers in a gradebook (OUT's own, from an earlier merge, or a shard's) are carried
into the merged one.
"""

import filecmp
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grader.core.assignment import AssignmentError
from autograder.grader.core.files import replacing, write_atomic
from autograder.grader.core.layout import (
    autograded_path,
    code_path,
    feedback_path,
    origin,
    read_record,
    record_files,
    record_path,
    results_path,
    write_origin,
)
from autograder.grader.core.masters import assignment_named, load_assignment
from autograder.grader.intake.shards import MANIFEST
from autograder.grader.integrations.gradebook import open_gradebook, record_grades
from autograder.grader.integrations.hand_grades import carry_hand_grades
from autograder.grader.runs.outputs import read_intake, write_intake, write_outputs
from autograder.grader.runs.worker import EXCHANGE_FILES
from autograder.grader.scoring.term import KEPT, Term


@dataclass
class Merged:
    """What merge() found: the winning record of each student (and the folder it came from), and what is wrong."""

    records: dict = field(default_factory=dict)  # student_id -> Record
    sources: dict = field(default_factory=dict)  # student_id -> the shard folder its record came from
    problems: list = field(default_factory=list)  # missing shards, folders or students: merged all the same
    refusals: list = field(default_factory=list)  # mixed assignments or masters: nothing is written
    notes: list = field(default_factory=list)  # a student graded twice: which record was kept
    assignment: Any = None  # the Assignment every shard graded, as this checkout's master declares it (None: none found)


def _read_records(folder, merged):
    """[(Record, graded_at)] of one shard folder; each unreadable record file is a problem, not a stop."""
    found = []
    for path in record_files(folder):
        try:
            record = read_record(path)
        except (OSError, ValueError) as error:
            merged.problems.append(f"{path}: cannot be read ({error}); that student is graded again by a re-run of its shard")
            continue
        found.append((record, record.graded_at or path.stat().st_mtime))
    return found


def _read_manifest(folder, merged):
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None  # a plain `grade` OUT (a regrade of a few students, say) merges too
    except (OSError, ValueError) as error:
        merged.problems.append(f"{folder / MANIFEST}: cannot be read ({error})")
        return None


def _refuse_if_mixed(merged, label, values):
    """Refuse when the records or manifests disagree on label (assignment or master): value -> folders."""
    if len(values) > 1:
        listing = "; ".join(f"{value or 'unknown'} in {', '.join(sorted(map(str, folders)))}" for value, folders in sorted(values.items()))
        merged.refusals.append(f"the shards were graded with different {label}s ({listing}): merge only shards of one {label}")


def _keep_newest(merged, record, graded_at, folder, when):
    previous = merged.records.get(record.student_id)
    if previous is not None:
        older = when[record.student_id] > graded_at
        merged.notes.append(
            f"{record.student_id} was graded in {merged.sources[record.student_id]} and in {folder}: "
            f"kept the newer record, from {merged.sources[record.student_id] if older else folder}"
        )
        if older:
            return
    merged.records[record.student_id], merged.sources[record.student_id], when[record.student_id] = record, folder, graded_at


def _check_complete(merged, manifests):
    """Every shard 0 … N-1 present, and a record for every student a shard owned."""
    counts = {m["of"] for m in manifests.values()}
    if len(counts) > 1:
        merged.problems.append(f"the shards split the class differently (into {' and '.join(map(str, sorted(counts)))}): check the list")
    for n in counts:
        have = {m["shard"] for m in manifests.values() if m["of"] == n}
        merged.problems += [f"shard {k}/{n} is missing: its students are not in the merge" for k in range(n) if k not in have]
    for folder, manifest in manifests.items():
        missing = [s for s in manifest.get("students", []) if s not in merged.records]
        merged.problems += [
            f"{s} (shard {manifest['shard']}/{manifest['of']}, {folder}) has no record: run that shard again" for s in missing
        ]


def _this_checkout(merged, assignments, masters, master_sha256):
    """The assignment the shards graded: the source their OUT/assignment.json names, else this checkout's master of
    its name; its digest joins the comparison."""
    named = [a for a in assignments if a]
    if len(named) != 1:
        return
    kept = [origin(f) for folders in assignments.values() for f in folders if origin(f).get("name") == named[0]]
    source = next((k["source"] for k in kept if k.get("source") and Path(k["source"]).exists()), None)
    try:
        merged.assignment = load_assignment(source) if source else assignment_named(named[0])
    except AssignmentError as error:
        merged.refusals.append(str(error))
        return
    masters.setdefault(master_sha256 or merged.assignment.digest(), set()).add("this checkout")


def merge(folders: Iterable[str | Path], master_sha256: str | None = None) -> Merged:
    """Read the shard folders; a Merged with the newest record of each student and every problem found."""
    merged, manifests = Merged(), {}
    assignments: dict = {}
    masters: dict = {}
    when: dict = {}
    for folder in map(Path, folders):
        if not (folder / "records").is_dir() and not (folder / MANIFEST).is_file():  # a shard with no students has no records/
            merged.problems.append(f"{folder}: neither records/ nor {MANIFEST}: not the OUT of a `grade` run (or that shard never started)")
            continue
        manifest = _read_manifest(folder, merged)
        if manifest is not None:
            manifests[folder] = manifest
            assignments.setdefault(manifest.get("assignment", ""), set()).add(folder)
            masters.setdefault(manifest.get("master_sha256", ""), set()).add(folder)
        for record, graded_at in _read_records(folder, merged):
            assignments.setdefault(record.assignment, set()).add(folder)
            masters.setdefault(record.master_sha256, set()).add(folder)
            _keep_newest(merged, record, graded_at, folder, when)
    _refuse_if_mixed(merged, "assignment", assignments)
    _this_checkout(merged, assignments, masters, master_sha256)
    _refuse_if_mixed(merged, "master", {k[:12] if k else k: v for k, v in masters.items()})
    _check_complete(merged, manifests)
    return merged


def _copy_if_there(source, target):
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _carry_hand_grades(merged, out, gb, assignment):
    """A person's scores of written answers survive the merge: from each shard's gradebook, then from OUT's own (a
    grading session after an earlier merge), which wins."""
    by_shard = {}
    for student, folder in merged.sources.items():
        by_shard.setdefault(folder, []).append(student)
    for folder, students in sorted(by_shard.items()):
        carry_hand_grades(folder / "gradebook.db", gb, assignment, students)
    carry_hand_grades(out / "gradebook.db", gb, assignment, sorted(merged.records))


def shard_term_files(folders: Iterable[str | Path], out: str | Path) -> dict[str, Path]:
    """{kind: path} of the deadlines and overrides the shards kept, for a merge given none and whose OUT keeps none;
    ValueError when two shards kept different files (merge refuses to guess)."""
    chosen = {}
    for kind, name in KEPT.items():
        copies = [Path(f) / name for f in folders if (Path(f) / name).is_file()]
        if (Path(out) / name).is_file() or not copies:
            continue
        if any(not filecmp.cmp(copies[0], c, shallow=False) for c in copies[1:]):
            raise ValueError(f"the shards kept different {name} ({', '.join(map(str, copies))}): give --{kind} FILE")
        chosen[kind] = copies[0]
    return chosen


def merge_intake(folders: Iterable[str | Path]) -> list[str]:
    """The shards' warnings of what was not graded, each once (every shard surveys the whole download)."""
    return list(dict.fromkeys(line for f in folders for line in read_intake(f)))


def write_merged(
    merged: Merged, out: str | Path, term: Term | None = None, folders: Iterable[str | Path] = (), similarity: bool = True
) -> list[Path]:
    """OUT/records, feedback, results (Gradescope's, when the shards wrote them), code, grades.csv, a fresh gradebook
    and the class's pages; term (default: OUT's kept deadlines and overrides) applied by write_outputs."""
    out, assignment = Path(out), merged.assignment
    write_origin(out, assignment)
    records = [merged.records[s] for s in sorted(merged.records)]
    for record in records:
        student, source = record.student_id, merged.sources[record.student_id]
        code_path(out, student).unlink(missing_ok=True)  # an earlier merge's, from another shard's record
        for path_of in (code_path, results_path):
            _copy_if_there(path_of(source, student), path_of(out, student))
        for name in assignment.notebook_names:
            _copy_if_there(feedback_path(source, student, assignment.name, name), feedback_path(out, student, assignment.name, name))
            _copy_if_there(autograded_path(source, student, assignment.name, name), autograded_path(out, student, assignment.name, name))
        pages = feedback_path(source, student, assignment.name, assignment.notebook_names[0]).parent
        for name in EXCHANGE_FILES:  # what nbgrader's release_feedback reads beside the pages
            _copy_if_there(pages / name, feedback_path(out, student, assignment.name, assignment.notebook_names[0]).parent / name)
        write_atomic(record_path(out, student), record.to_json())
    with replacing(out / "gradebook.db") as fresh:  # a gradebook of earlier merges would keep students no shard has now
        gb = open_gradebook(fresh, assignment)
        for record in records:
            record_grades(gb, assignment, record)
        _carry_hand_grades(merged, out, gb, assignment)
        gb.close()
    write_intake(out, merge_intake(folders))
    write_outputs(out, assignment, records, term, similarity=similarity)
    return records
