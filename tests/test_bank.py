"""The bank in tests/bank/: each planted bug loses exactly the tests it should, each valid variant keeps full marks.

Every entry is graded like a submission (the master with the entry's answer cells, executed in a fresh kernel
in its own folder with the data staged), two at a time: each execution is its own kernel process.
"""

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from bank_entries import TEST_IDS, BankEntryError, grade_entry, load_bank, parse_entry

from autograder import grading

BANK = load_bank()
PARALLEL_GRADINGS = 2
MIN_BUGS, MIN_VARIANTS = 18, 7


def _grade_in_scratch(entry, master):
    with tempfile.TemporaryDirectory(prefix=f"bank-{entry.name}-") as workdir:
        return grade_entry(entry, master, workdir)


def _selected_entries(session):
    """The bank entries whose test this session runs (all of them unless -k or a node id narrows it)."""
    names = {
        item.callspec.params["name"] for item in session.items if item.originalname == "test_bank_entry_loses_exactly_the_expected_tests"
    }
    return [BANK[name] for name in sorted(names)]


@pytest.fixture(scope="module")
def graded(master, request):
    """name -> {grade_id: TestResult} for every selected entry, graded PARALLEL_GRADINGS at a time."""
    entries = _selected_entries(request.session)
    with ThreadPoolExecutor(PARALLEL_GRADINGS) as pool:
        futures = {entry.name: pool.submit(_grade_in_scratch, entry, master) for entry in entries}
        return {name: future.result() for name, future in futures.items()}


def test_bank_has_enough_bugs_and_variants():
    kinds = [entry.kind for entry in BANK.values()]
    assert kinds.count("bug") >= MIN_BUGS, f"{kinds.count('bug')} planted bugs, expected at least {MIN_BUGS}"
    assert kinds.count("variant") >= MIN_VARIANTS, f"{kinds.count('variant')} valid variants, expected at least {MIN_VARIANTS}"


def test_every_bug_expects_to_lose_a_test_and_every_variant_none():
    for entry in BANK.values():
        assert bool(entry.expect_lost) == (entry.kind == "bug"), f"{entry.name}: expect_lost {sorted(entry.expect_lost)}"


def test_bank_knows_the_master_s_test_and_answer_cells(master):
    assert tuple(grading.grade_id(c) for c in master.cells if grading.is_test(c)) == TEST_IDS
    assert tuple(grading.grade_id(c) for c in master.cells if grading.is_answer(c)) == grading.ANSWER_IDS


@pytest.mark.parametrize("name", sorted(BANK))
def test_bank_entry_loses_exactly_the_expected_tests(name, graded):
    entry = BANK[name]
    results = graded[name]
    assert set(results) == set(TEST_IDS), f"graded test cells {sorted(results)}"
    lost = {grade_id for grade_id in entry.scored_tests() if results[grade_id].points < results[grade_id].max_points}
    if entry.kind == "bug":
        assert lost, f"{name} ({entry.summary}) lost no points: no test catches this bug"
    report = "\n".join(
        f"  {grade_id}: {results[grade_id].points:g}/{results[grade_id].max_points:g} {results[grade_id].message}"
        for grade_id in sorted(lost)
    )
    assert lost == entry.expect_lost, (
        f"{name} ({entry.summary})\n"
        f"lost {sorted(lost)}, expected to lose {sorted(entry.expect_lost)}\n"
        f"unexpectedly lost: {sorted(lost - entry.expect_lost)}; unexpectedly kept: {sorted(entry.expect_lost - lost)}\n"
        f"{report}"
    )


GOOD_HEADER = '"""A bug."""\n# expect_lost: test_nll\n# train: stub\n\n'
GOOD_NLL = "# %% answer: nll\ndef nll_loss(flow, x):\n    return flow.log_prob(x).mean()\n"


def test_parser_accepts_a_well_formed_entry():
    entry = parse_entry("bug_sample", GOOD_HEADER + GOOD_NLL)
    assert (entry.kind, entry.summary, entry.expect_lost, entry.train) == ("bug", "A bug.", frozenset({"test_nll"}), "stub")
    assert entry.answers == {"nll": "def nll_loss(flow, x):\n    return flow.log_prob(x).mean()\n"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('"""A bug."""\n# train: stub\n\n' + GOOD_NLL, "has no '# expect_lost: ...' line"),
        (GOOD_HEADER + "# %% answer: nll_loss\ndef nll_loss(flow, x):\n    return 0\n", "unknown answer grade_id 'nll_loss'"),
        (GOOD_HEADER.replace("test_nll", "test_loss"), "unknown test grade_ids ['test_loss']"),
        (GOOD_HEADER.replace("test_nll", "none") + GOOD_NLL, "a bug must lose at least one test"),
        (GOOD_HEADER.replace("stub", "quick") + GOOD_NLL, "'# train:' must be one of stub, real, answer"),
        (GOOD_HEADER.replace("stub", "answer") + GOOD_NLL, "'# train: answer' and a '# %% answer: train' section go together"),
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
        "no-docstring",
        "no-answer",
    ],
)
def test_parser_rejects_a_malformed_entry_with_a_clear_error(text, error):
    with pytest.raises(BankEntryError, match="^bank entry bug_sample: .*" + re.escape(error)):
        parse_entry("bug_sample", text)
