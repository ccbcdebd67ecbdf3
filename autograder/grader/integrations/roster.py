"""A class roster exported from the LMS, and which grading record is which student on it.

A record is matched by its student id (and, for a Canvas download, the Canvas user id its file name carried) to
the first roster column, in the order given, where exactly one row holds it: for Canvas, ID, then SIS User ID,
then SIS Login ID, then Email; for Moodle, username, ID number, email. Logins and emails match without regard to
case. Whoever is left over on either side is listed; nobody is guessed.
"""

import re
from dataclasses import dataclass, field

from autograder.grader.core.tables import TableError, read_table

CASELESS = {"sis login id", "email", "email address", "username"}
CANVAS_TEST_STUDENT = "Student, Test"  # the "student view" user Canvas's gradebook export lists last
_HIDDEN_ROW = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.I)  # Canvas's row of posting policies, no student


@dataclass(frozen=True)
class Person:
    line: int
    cells: dict  # lower-cased column name -> text

    def get(self, column):
        return self.cells.get(column, "")

    def label(self, name_columns):
        name = " ".join(self.get(c) for c in name_columns if self.get(c)) or "(no name)"
        return f"{name} (roster line {self.line})"


@dataclass
class Matching:
    pairs: list = field(default_factory=list)  # (Record, Person), in roster order
    students: list = field(default_factory=list)  # records that match nobody (or several)
    people: list = field(default_factory=list)  # roster rows no record matches
    problems: list = field(default_factory=list)  # ambiguities, each named
    skipped: list = field(default_factory=list)  # rows that are no student (Canvas's test student)


def read_roster(path, required=()):
    """The roster's students (Points Possible and posting-policy rows dropped); TableError names what is missing."""
    rows = read_table(path, required, label=str(path), others=True)
    people = []
    for row in rows:
        values = list(row.cells.values())
        if values and "points possible" in values[0].lower():
            continue
        if all(_HIDDEN_ROW.match(v) for v in values):
            continue
        people.append(Person(row.line, row.cells))
    if not people:
        raise TableError(f"{path}: the roster lists no student")
    return people


def _same(column, value):
    return value.casefold() if column in CASELESS else value


def _keys(record):
    return [k for k in dict.fromkeys([record.lms_id, record.student_id]) if k]


def match(records, people, columns):
    """Matching of records to people by the first of columns (lower-cased names) that identifies exactly one."""
    found = Matching()
    index = {c: {} for c in columns}
    for person in people:
        for column in columns:
            if person.get(column):
                index[column].setdefault(_same(column, person.get(column)), []).append(person)
    taken = {}
    for record in records:
        person = _find(record, columns, index, found)
        if person is not None:
            taken.setdefault(person.line, []).append((record, person))
        else:
            found.students.append(record)
    for line, claims in taken.items():
        if len(claims) > 1:
            names = ", ".join(r.student_id for r, _ in claims)
            found.problems.append(f"roster line {line} matches {len(claims)} submissions ({names}): none of them is exported")
            found.students += [r for r, _ in claims]
        else:
            found.pairs.append(claims[0])
    matched = {p.line for _, p in found.pairs} | set(taken)
    found.people = [p for p in people if p.line not in matched]
    found.pairs.sort(key=lambda pair: pair[1].line)
    return found


def _find(record, columns, index, found):
    for column in columns:
        hits = {p.line: p for key in _keys(record) for p in index[column].get(_same(column, key), [])}
        if len(hits) == 1:
            return next(iter(hits.values()))
        if len(hits) > 1:
            lines = ", ".join(map(str, sorted(hits)))
            found.problems.append(f"{record.student_id} matches roster lines {lines} by {column}: not exported")
            return None
    return None
