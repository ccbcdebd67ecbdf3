"""Which assignment a command means, and which of its notebooks a file is: one rule for grade, check, report and export.

An assignment is named (--assignment: a master's name or path, or with --course one of the course's), kept by a graded
OUT (OUT/assignment.json, the names its records carry), or found: the one whose grade_ids the notebooks carry most often.
"""

from pathlib import Path

from autograder.grader.core.assignment import Assignment, AssignmentError, Notebook
from autograder.grader.core.layout import origin
from autograder.grader.core.masters import assignment_named, load_assignment, master_paths, source_folders
from autograder.grader.intake.submissions import Submission
from autograder.grader.pipeline.answers import NotANotebook, read_cells


def grade_ids(path: Path) -> set[str]:
    """The grade_ids a submitted file's cells carry (none when it is not a readable notebook)."""
    try:
        cells = read_cells(Path(path).read_bytes())
    except (OSError, NotANotebook):
        return set()
    return {gid for c in cells if isinstance(gid := c["meta"].get("grade_id"), str) and gid}


def resolve_assignment(
    name: str | None = None,
    *,
    course: str | Path | None = None,
    submissions: list[Submission] | tuple = (),
    candidates: list | None = None,
    records: list | None = None,
    out: str | Path | None = None,
) -> Assignment:
    """The assignment a command means.

    With records (a graded OUT's, out its folder): the one name names (AssignmentError when the records name another;
    with OUT graded in a course, that course's), else the one OUT/assignment.json keeps, else this checkout's master
    the records name. Otherwise: the one name names (a master's name or path, or with course one of the course's),
    else, of the candidates (paths of masters or source folders; default the course's, or this checkout's masters),
    the one whose grade_ids the submissions' notebooks carry most often.
    """
    if records is not None:
        return _of_records(records, name, out)
    if name:
        return assignment_named(name, course=course)
    if candidates is None:
        candidates = source_folders(course) if course else master_paths()
    return _most_carried(submissions, candidates)


def _most_carried(submissions, paths):
    """Of the sources at paths, the assignment whose grade_ids the submissions carry most often."""
    assignments = [load_assignment(p) for p in paths]
    seen = [grade_ids(s.path) for s in submissions if s.path is not None]
    ids = {a.name: {g for g, _ in a.tests} | set(a.answer_ids) | set(a.manual_ids) for a in assignments}
    votes = {a.name: sum(len(found_ids & ids[a.name]) for found_ids in seen) for a in assignments}
    best = max(votes.values(), default=0)
    winners = [a for a in assignments if votes[a.name] == best]
    if len(winners) == 1 and (best > 0 or len(assignments) == 1):
        return winners[0]
    known = ", ".join(a.name for a in assignments) or "none"
    raise AssignmentError(f"cannot tell which assignment these notebooks are (known: {known}): name it with --assignment NAME")


def _of_records(records, name, out):
    kept = origin(out) if out is not None else {}
    course = kept.get("course")
    names = sorted({r.assignment for r in records if r.assignment})
    if name:
        chosen = assignment_named(name, course=course)
        others = [n for n in names if n != chosen.name]
        if others:
            raise AssignmentError(f"--assignment {name} is {chosen.name}, but records name {', '.join(others)}")
        return chosen
    if len(names) > 1 or not names and not kept:
        raise AssignmentError(f"the records name {'no assignment' if not names else 'several assignments: ' + ', '.join(names)}")
    if kept.get("source") and Path(kept["source"]).exists() and (not names or names == [kept.get("name")]):
        return load_assignment(kept["source"])
    if not names:
        raise AssignmentError(f"the records name no assignment, and {kept.get('source')} (OUT/assignment.json) is gone")
    return assignment_named(names[0], course=course)


def notebook_of(assignment: Assignment, path: str | Path) -> Notebook | Assignment:
    """Which of assignment's notebooks the file at path is: the only one, else the one of the file's name, else the one
    whose grade_ids the file carries (read from that notebook's own source)."""
    if len(assignment.notebooks) == 1:
        return assignment.notebooks[0]
    by_name = [nb for nb in assignment.notebooks if nb.name == Path(path).stem]
    submission = Submission(Path(path).stem, Path(path))
    return by_name[0] if by_name else _most_carried([submission], [nb.master_path for nb in assignment.notebooks])
