"""The bank of planted-bug submissions and valid variants in tests/banks/<exercise>/: parse an entry, grade the bank.

An entry is a Python file named bug_<what>.py or variant_<what>.py:

    \"\"\"One line: the mistake this submission makes (or the valid variant it is).\"\"\"
    # expect_lost: test_coupling_forward, test_coupling_inverse      (or: # expect_lost: none)
    # train: stub
    # caught_visibly: test_coupling_forward                          (bugs only: the tests whose visible checks fail, or no)
    # expect_message: test_coupling_inverse: subtract t first        (optional, any number of lines)

    # %% answer: coupling
    <the full replacement source of that answer cell>

Each `# %% answer: <grade_id>` section replaces one answer cell of the master; the other answer cells keep
the master's solution. `train` says what the training cell runs:
- stub: an untrained 4-layer flow (seconds instead of a training run); test_train is then not scored;
- quick: the bundled examples' short recipe (about 10 s; passes test_train with a correct flow);
- real: the master's own training cell;
- answer: the entry's own `# %% answer: train` section.
`caught_visibly` records which tests' visible checks alone (what a student sees before submitting) catch the bug.

The whole bank is graded as one class by the grader itself (autograder.grader.runs.grade.grade_batch, what
`python -m autograder grade` runs): each entry becomes the released notebook with its answers filled in.
"""

import ast
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat

from autograder.course.examples import answers as example_answers
from autograder.course.examples import filled
from autograder.grader.core.masters import notebook_named
from autograder.grader.pipeline.execute import Limits
from autograder.grader.runs.grade import Options, grade_batch
from autograder.notebooks import solution_answers

BANKS = Path(__file__).resolve().parent.parent / "banks"
TRAIN_MODES = ("stub", "quick", "real", "answer")
# The bank checks what the tests catch, not the time budget: a loaded machine must not turn a slow cell into
# a lost point (the grader's own timeouts are tested elsewhere).
BANK_LIMITS = Limits(cell_timeout=300, timeouts={"train": 600}, wall_timeout=1800)
_SECTION = re.compile(r"^# %% answer: *(\S*) *$", re.MULTILINE)
_SETTING = re.compile(r"^# (expect_lost|train|caught_visibly): *(.*?) *$", re.MULTILINE)
_MESSAGE = re.compile(r"^# expect_message: *(\S+?): *(.*?) *$", re.MULTILINE)


def exercises_with_banks():
    """The exercises that have a bank: one folder each under tests/banks/."""
    return sorted(p.name for p in BANKS.iterdir() if (p / "settings.toml").is_file())


@cache
def bank_settings(exercise):
    """tests/banks/<exercise>/settings.toml, with the exercise's test and answer ids from its master."""
    settings = tomllib.loads((BANKS / exercise / "settings.toml").read_text(encoding="utf-8"))
    declared = notebook_named(exercise)
    settings["test_ids"] = tuple(gid for gid, _ in declared.tests)
    settings["answer_ids"] = declared.answer_ids
    return settings


class BankEntryError(ValueError):
    """A bank entry that does not follow the format above."""


@dataclass
class BankEntry:
    """One parsed entry of an exercise's bank: its kind (bug or variant), the tests it should lose, its answer cells."""

    exercise: str
    name: str
    kind: str
    summary: str
    expect_lost: frozenset
    train: str
    answers: dict = field(default_factory=dict)
    caught_visibly: frozenset = frozenset()  # the tests whose visible checks fail on this bug
    messages: dict = field(default_factory=dict)  # test grade_id -> text its failure message must contain

    def graded_answers(self):
        """grade_id -> source for every answer cell: the entry's, else the master's solution (train per mode)."""
        answers = solution_answers(notebook_named(self.exercise).nb)
        answers.update(self.answers)
        if self.train == "stub":
            answers["train"] = bank_settings(self.exercise)["stub_train"].lstrip("\n")
        elif self.train == "quick":
            answers["train"] = example_answers(self.exercise, quick=True)["train"]
        return answers

    def scored_tests(self):
        """The test cells whose score this entry pins: all but test_train when training is stubbed."""
        return tuple(t for t in bank_settings(self.exercise)["test_ids"] if not (self.train == "stub" and t == "test_train"))


def _fail(name, message):
    raise BankEntryError(f"bank entry {name}: {message}")


def _header(name, text):
    """(summary, settings) from the text before the first answer section."""
    try:
        summary = ast.get_docstring(ast.parse(text))
    except SyntaxError as error:
        _fail(name, f"the header is not valid Python ({error})")
    if not summary or "\n" in summary.strip():
        _fail(name, "must start with a one-line docstring saying what the submission does")
    settings = {}
    for key, value in _SETTING.findall(text):
        if key in settings:
            _fail(name, f"has two '# {key}:' lines")
        settings[key] = value
    return summary.strip(), settings


def _expect_lost(name, value, test_ids):
    if value is None:
        _fail(name, "has no '# expect_lost: ...' line (a comma-separated list of test grade_ids, or 'none')")
    if value == "none":
        return frozenset()
    lost = frozenset(t.strip() for t in value.split(",") if t.strip())
    unknown = sorted(lost - set(test_ids))
    if not lost or unknown:
        _fail(name, f"expect_lost names unknown test grade_ids {unknown or [value]}; known: {', '.join(test_ids)}")
    return lost


def _answers(name, text, answer_ids):
    """grade_id -> source of each '# %% answer:' section of text."""
    parts = _SECTION.split(text)
    answers = {}
    for answer_id, source in zip(parts[1::2], parts[2::2], strict=True):
        if answer_id not in answer_ids:
            _fail(name, f"unknown answer grade_id {answer_id!r}; known: {', '.join(answer_ids)}")
        if answer_id in answers:
            _fail(name, f"replaces the answer {answer_id!r} twice")
        if not source.strip():
            _fail(name, f"the answer section {answer_id!r} is empty")
        answers[answer_id] = source.strip("\n") + "\n"
    if not answers:
        _fail(name, "replaces no answer cell (add a '# %% answer: <grade_id>' section)")
    return answers


def _caught_visibly(name, kind, value, expect_lost):
    """The tests whose visible checks catch a bug, from its '# caught_visibly:' line ('no': none)."""
    if kind == "variant":
        if value is not None:
            _fail(name, "'# caught_visibly:' is for bugs only")
        return frozenset()
    if value is None:
        _fail(name, "a bug must say which tests' visible checks catch it ('# caught_visibly: test_a, test_b') or 'no'")
    caught = frozenset() if value == "no" else frozenset(t.strip() for t in value.split(",") if t.strip())
    if not caught <= expect_lost:
        _fail(name, f"caught_visibly names tests it does not expect to lose: {sorted(caught - expect_lost)}")
    return caught


def parse_entry(name, text, exercise="realnvp"):
    """A BankEntry from the text of tests/banks/<exercise>/<name>.py; raises BankEntryError naming what is wrong."""
    settings_of_bank = bank_settings(exercise)
    kind = name.split("_", 1)[0]
    if kind not in ("bug", "variant"):
        _fail(name, "the file name must start with bug_ or variant_")
    first_section = _SECTION.search(text)
    summary, settings = _header(name, text[: first_section.start()] if first_section else text)
    expect_lost = _expect_lost(name, settings.get("expect_lost"), settings_of_bank["test_ids"])
    train = settings.get("train")
    if train not in TRAIN_MODES:
        _fail(name, f"'# train:' must be one of {', '.join(TRAIN_MODES)}, got {train!r}")
    answers = _answers(name, text, settings_of_bank["answer_ids"])
    if kind == "bug" and not expect_lost:
        _fail(name, "a bug must lose at least one test (expect_lost: none is for variants)")
    caught = _caught_visibly(name, kind, settings.get("caught_visibly"), expect_lost)
    messages = dict(_MESSAGE.findall(text[: first_section.start()] if first_section else text))
    unknown = sorted(set(messages) - set(expect_lost))
    if unknown:
        _fail(name, f"expect_message names tests it does not expect to lose: {unknown}")
    if (train == "answer") != ("train" in answers):
        _fail(name, "'# train: answer' and a '# %% answer: train' section go together")
    if kind == "variant" and expect_lost:
        _fail(name, "a valid variant must keep full marks (expect_lost: none)")
    if train == "stub" and "test_train" in expect_lost:
        _fail(name, "test_train is not scored with '# train: stub'")
    return BankEntry(exercise, name, kind, summary, expect_lost, train, answers, caught, messages)


def load_bank(exercise):
    """Every entry of the exercise's bank, by name, in file-name order."""
    return {path.stem: parse_entry(path.stem, path.read_text(), exercise) for path in sorted((BANKS / exercise).glob("*.py"))}


def grade_bank(exercise, entries, folder, workers=2):
    """Grade entries of the exercise's bank as one class with the grader: {entry name: Record}."""
    submissions, out = Path(folder) / "submissions", Path(folder) / "out"
    submissions.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        notebook = filled(entry.graded_answers(), exercise)
        (submissions / f"{entry.name}.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
    records = grade_batch(submissions, out, Options(workers=workers, limits=BANK_LIMITS, progress=False, assignment=exercise))
    return {record.student_id: record for record in records}
