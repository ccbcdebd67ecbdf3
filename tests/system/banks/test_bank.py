"""Each exercise's bank in tests/banks/<exercise>/, graded as one class by the grader itself: each planted bug costs
the points of its own part and no other, each valid variant keeps full marks, each failure message is about its
own test, and each bug is caught by the visible checks it says.
"""

import re
import shutil

import pytest
from bank_entries import BankEntryError, bank_settings, exercises_with_banks, grade_bank, load_bank, parse_entry
from conftest import REPO, exercise_of_test
from report_reading import csv_rows, report_differences
from similarity_cases import flagged_for_own_code

from autograder.grader.core.masters import assignment_named
from autograder.grader.reports.similarity import compare, starter_hashes, starter_sources
from autograder.grader.reports.similarity_report import read_codes

# The first test of each bank grades the whole bank (about 60 notebooks): the slow marker's bound is too short for it
pytestmark = pytest.mark.timeout(2400)
BANKS = {exercise: load_bank(exercise) for exercise in exercises_with_banks()}
ENTRIES = [(exercise, name) for exercise, bank in BANKS.items() for name in bank]
ARTIFACTS = REPO / "artifacts" / "banks"
# Messages that say a test could not even run its checks: never the right message for a planted bug.
NOT_ABOUT_THE_TEST = r"NameError|not run|did not run to its end|is not defined"


def part(exercise, test_id):
    return next(number for prefix, number in bank_settings(exercise)["parts"].items() if test_id.startswith(prefix))


class GradedBanks:
    """exercise -> name -> Record for the selected entries of each exercise's bank, graded in one batch (two workers)
    the first time a test asks for that exercise: each bank is a group of its own (tests/conftest.py), so that the
    two pytest workers grade the two banks side by side.

    Each class lands in artifacts/banks/<exercise>/ (grades.csv, feedback/, records/), for a person to read.
    """

    def __init__(self, selected):
        self.selected, self.done = selected, {}

    def __getitem__(self, exercise):
        if exercise not in self.done:
            mine = [item for item in self.selected if exercise_of_test(item.nodeid) == exercise]
            params = [getattr(item, "callspec", None) for item in mine]
            chosen = {c.params["entry"][1] for c in params if c is not None and "entry" in c.params}
            whole = any("every_hidden_block" in item.name for item in mine) or not chosen
            bank = BANKS[exercise]
            entries = [bank[n] for n in sorted(bank) if whole or n in chosen]  # a test of the whole bank needs every entry
            shutil.rmtree(ARTIFACTS / exercise, ignore_errors=True)
            self.done[exercise] = grade_bank(exercise, entries, ARTIFACTS / exercise)
        return self.done[exercise]


@pytest.fixture(scope="module")
def graded(request):
    return GradedBanks([item for item in request.session.items if item.module is request.module])


def _lost(entry, record):
    return {t.grade_id for t in record.tests if t.grade_id in entry.scored_tests() and t.points < t.max_points}


def _visibly_lost(entry, record):
    return {t.grade_id for t in record.tests if t.grade_id in entry.scored_tests() and not t.visible_passed}


@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_bank_has_enough_bugs_and_variants(exercise):
    kinds, settings = [entry.kind for entry in BANKS[exercise].values()], bank_settings(exercise)
    assert kinds.count("bug") >= settings["min_bugs"], f"{kinds.count('bug')} planted bugs, expected at least {settings['min_bugs']}"
    assert kinds.count("variant") >= settings["min_variants"], f"{kinds.count('variant')} valid variants"


@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_every_common_mistake_is_in_the_bank_and_caught_visibly(exercise):
    must = bank_settings(exercise)["must_be_caught_visibly"]
    missing = [name for name in must if name not in BANKS[exercise]]
    assert not missing, f"planted bugs missing from tests/banks/{exercise}/: {missing}"
    hidden_only = [name for name in must if not BANKS[exercise][name].caught_visibly]
    assert not hidden_only, f"common mistakes the visible tests must catch, declared caught_visibly: no: {hidden_only}"


@pytest.mark.parametrize("entry", ENTRIES, ids=["/".join(e) for e in ENTRIES])
def test_every_bug_is_charged_to_its_own_part_only(entry):
    exercise, name = entry
    bank_entry = BANKS[exercise][name]
    parts = {part(exercise, t) for t in bank_entry.expect_lost if t != "test_train"}
    assert len(parts) <= 1, f"{name} expects to lose tests of parts {sorted(parts)}: a mistake costs the points of one part"


@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_every_test_cell_belongs_to_a_part_and_has_words_for_its_messages(exercise):
    settings = bank_settings(exercise)
    for test_id in settings["test_ids"]:
        assert any(test_id.startswith(prefix) for prefix in settings["parts"]), f"{test_id}: no part in settings.toml"
        assert test_id in settings["about"], f"{test_id}: no [about] words in settings.toml"


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=["/".join(e) for e in ENTRIES])
def test_bank_entry_loses_exactly_the_expected_tests(entry, graded):
    exercise, name = entry
    bank_entry, record = BANKS[exercise][name], graded[exercise][name]
    assert record.status == "ok", f"{name}: {record.status}: {record.message}"
    assert {t.grade_id for t in record.tests if not t.manual} == set(bank_settings(exercise)["test_ids"])  # written answers await a person
    lost = _lost(bank_entry, record)
    failed = [t for t in record.tests if t.grade_id in lost]
    report = "\n".join(f"  {t.grade_id}: {t.points:g}/{t.max_points:g} {t.message}" for t in failed)
    assert lost == bank_entry.expect_lost, (
        f"{name} ({bank_entry.summary})\nlost {sorted(lost)}, expected to lose {sorted(bank_entry.expect_lost)}\n"
        f"unexpectedly lost: {sorted(lost - bank_entry.expect_lost)}; unexpectedly kept: {sorted(bank_entry.expect_lost - lost)}\n{report}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=["/".join(e) for e in ENTRIES])
def test_bank_entry_is_caught_by_the_visible_tests_as_recorded(entry, graded):
    exercise, name = entry
    bank_entry, record = BANKS[exercise][name], graded[exercise][name]
    visibly = _visibly_lost(bank_entry, record)
    assert visibly == bank_entry.caught_visibly, (
        f"{name} ({bank_entry.summary}): declared caught_visibly: {', '.join(sorted(bank_entry.caught_visibly)) or 'no'}, "
        f"but the visible checks that fail are those of {sorted(visibly) or 'none'}"
    )


BUGS = [e for e in ENTRIES if e[1].startswith("bug_")]


@pytest.mark.slow
@pytest.mark.parametrize("entry", BUGS, ids=["/".join(e) for e in BUGS])
def test_each_failure_message_is_about_its_own_test(entry, graded):
    exercise, name = entry
    bank_entry, record, about = BANKS[exercise][name], graded[exercise][name], bank_settings(exercise)["about"]
    for test in record.tests:
        if test.grade_id not in _lost(bank_entry, record):
            continue
        message = test.message
        assert message and not re.search(NOT_ABOUT_THE_TEST, message), f"{name}, {test.grade_id}: {message!r}"
        assert re.search(about[test.grade_id], message), f"{name}, {test.grade_id}: the message is not about this test: {message!r}"
        expected = bank_entry.messages.get(test.grade_id)
        assert expected is None or expected in message, f"{name}, {test.grade_id}: expected {expected!r} in {message!r}"


@pytest.mark.slow
@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_every_hidden_block_fails_on_some_planted_bug_that_passes_the_visible_checks(exercise, graded):
    """A hidden block that no bug reaches could be a check that cannot fail."""
    bank = BANKS[exercise]
    proven = {
        t.grade_id
        for name, record in graded[exercise].items()
        if bank[name].kind == "bug"
        for t in record.tests
        if t.visible_passed and t.points < t.max_points and t.grade_id in bank[name].scored_tests()
    }
    test_ids = set(bank_settings(exercise)["test_ids"])
    assert test_ids <= proven, f"hidden blocks no planted bug makes fail on its own: {sorted(test_ids - proven)}"


@pytest.mark.slow
@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_the_banks_class_report_shows_the_numbers_of_its_grades_csv(exercise, graded):
    out = ARTIFACTS / exercise / "out"
    assert len(csv_rows(out / "grades.csv")) == len(graded[exercise])
    assert report_differences((out / "report.html").read_text(encoding="utf-8"), out / "grades.csv", assignment_named(exercise)) == []


@pytest.mark.slow
@pytest.mark.parametrize("exercise", sorted(BANKS))
def test_the_similarity_check_compares_every_entry_of_the_bank_and_flags_no_variant_for_code_it_wrote(exercise, graded):
    """The bank derives every entry from the master's solution, its training cells too: what entries share, the
    class shares. A valid variant must not be flagged for the cells it writes (tests/helpers/similarity_cases.py)."""
    out = ARTIFACTS / exercise / "out"
    records = list(graded[exercise].values())
    codes, missing = read_codes(out, records)
    assert sorted(c.student_id for c in codes) == sorted(graded[exercise]) and missing == {}
    comparison = compare(codes, starter_hashes(starter_sources(assignment_named(exercise))))
    assert flagged_for_own_code(comparison, exercise) == []
    assert len(csv_rows(out / "similarity.csv")) >= len(comparison.flagged()) and (out / "similarity.html").is_file()


GOOD_HEADER = '"""A bug."""\n# expect_lost: test_nll\n# train: stub\n# caught_visibly: test_nll\n\n'
GOOD_NLL = "# %% answer: nll\ndef nll_loss(flow, x):\n    return flow.log_prob(x).mean()\n"


def test_parser_accepts_a_well_formed_entry():
    entry = parse_entry("bug_sample", GOOD_HEADER.replace("\n\n", "\n# expect_message: test_nll: the loss is\n\n") + GOOD_NLL)
    assert (entry.kind, entry.summary, entry.expect_lost, entry.train) == ("bug", "A bug.", frozenset({"test_nll"}), "stub")
    assert entry.caught_visibly == {"test_nll"} and entry.messages == {"test_nll": "the loss is"}
    assert entry.answers == {"nll": "def nll_loss(flow, x):\n    return flow.log_prob(x).mean()\n"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('"""A bug."""\n# train: stub\n# caught_visibly: test_nll\n\n' + GOOD_NLL, "has no '# expect_lost: ...' line"),
        (GOOD_HEADER + "# %% answer: nll_loss\ndef nll_loss(flow, x):\n    return 0\n", "unknown answer grade_id 'nll_loss'"),
        (GOOD_HEADER.replace("test_nll", "test_loss"), "unknown test grade_ids ['test_loss']"),
        (GOOD_HEADER.replace("test_nll", "none") + GOOD_NLL, "a bug must lose at least one test"),
        (GOOD_HEADER.replace("stub", "fast") + GOOD_NLL, "'# train:' must be one of stub, quick, real, answer"),
        (GOOD_HEADER.replace("stub", "answer") + GOOD_NLL, "'# train: answer' and a '# %% answer: train' section go together"),
        (GOOD_HEADER.replace("# caught_visibly: test_nll\n", "") + GOOD_NLL, "which tests' visible checks catch it"),
        (GOOD_HEADER.replace("visibly: test_nll", "visibly: test_masks") + GOOD_NLL, "caught_visibly names tests it does not expect"),
        (GOOD_HEADER.replace("\n\n", "\n# expect_message: test_masks: x\n\n") + GOOD_NLL, "expect_message names tests it does not expect"),
        ("# expect_lost: test_nll\n# train: stub\n\n" + GOOD_NLL, "one-line docstring"),
        (GOOD_HEADER, "replaces no answer cell"),
    ],
    ids=[
        "no-expect-lost",
        "unknown-answer",
        "unknown-test",
        "bug-losing-nothing",
        "unknown-train",
        "answer-without-train",
        "no-caught-visibly",
        "caught-by-a-kept-test",
        "message-for-a-kept-test",
        "no-docstring",
        "no-answer",
    ],
)
def test_parser_rejects_a_malformed_entry_with_a_clear_error(text, error):
    with pytest.raises(BankEntryError, match="^bank entry bug_sample: .*" + re.escape(error)):
        parse_entry("bug_sample", text)
