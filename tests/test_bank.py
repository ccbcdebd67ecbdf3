"""The bank in tests/bank/, graded as one class by the grader itself: each planted bug costs the points of its own
part and no other, each valid variant keeps full marks, and each failure message is about its own test.
"""

import re
import shutil

import pytest
from bank_entries import ANSWER_IDS, TEST_IDS, BankEntryError, grade_bank, load_bank, parse_entry
from conftest import REPO

BANK = load_bank()
ARTIFACTS = REPO / "artifacts" / "bank"
MIN_BUGS, MIN_VARIANTS = 30, 7
# The part a test cell belongs to, by its grade_id's prefix (a new test cell's grade_id starts with one of these).
PARTS = {"test_masks": 1, "test_coupling": 2, "test_realnvp": 3, "test_nll": 4, "test_train": 5}
# Words one of which a failure message of each test cell must use: what that test is about.
ABOUT = {
    "test_masks": r"mask",
    "test_coupling_forward": r"forward|log_det|\by\b|coordinates",
    "test_coupling_inverse": r"inverse",
    "test_realnvp_inverse": r"\bf\b|\bg\b|f\(|g\(|layer|nets|networks|parameters",
    "test_realnvp_log_prob": r"log_prob",
    "test_realnvp_sample": r"sample",
    "test_nll": r"nll_loss|loss",
    "test_train": r"NLL|flow|train",
}
# Messages that say a test could not even run its checks: never the right message for a planted bug.
NOT_ABOUT_THE_TEST = r"NameError|not run|did not run to its end|is not defined"
# The common mistakes that must fail a visible test (what a student sees before submitting).
MUST_BE_CAUGHT_VISIBLY = (
    "bug_log_det_sign",
    "bug_log_det_per_dimension",
    "bug_log_det_summed_over_batch",
    "bug_log_det_of_exp_s",
    "bug_f_log_det_last_layer_only",
    "bug_s_without_one_minus_b",
    "bug_t_without_one_minus_b",
    "bug_nets_fed_x",
    "bug_inverse_exp_plus_s",
    "bug_inverse_t_after_scaling",
    "bug_inverse_t_unmasked",
    "bug_forward_in_place",
    "bug_g_layers_not_reversed",
    "bug_sample_returns_z",
    "bug_sample_calls_f",
    "bug_log_prob_minus_log_det",
    "bug_log_prob_prior_missing",
    "bug_masks_all_equal",
    "bug_masks_transposed",
    "bug_masks_hard_coded_dim_2",
    "bug_loss_without_minus",
    "bug_loss_summed",
    "bug_train_left_blank",
    "bug_layers_plain_list",
)


def part(test_id):
    return next(number for prefix, number in PARTS.items() if test_id.startswith(prefix))


@pytest.fixture(scope="module")
def graded(request):
    """name -> record for every selected entry, all graded in one batch (two workers) by the grader.

    The class lands in artifacts/bank/ (grades.csv, feedback/, records/), for a person to read.
    """
    selected = [item for item in request.session.items if item.module is request.module]
    names = {item.callspec.params["name"] for item in selected if "name" in getattr(item, "callspec", pytest).__dict__.get("params", {})}
    whole_bank = any("every_hidden_block" in item.name for item in selected)  # that test needs every entry
    entries = list(BANK.values()) if whole_bank or not names else [BANK[name] for name in sorted(names)]
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    return grade_bank(entries, ARTIFACTS)


def _lost(entry, record):
    return {t.grade_id for t in record.tests if t.grade_id in entry.scored_tests() and t.points < t.max_points}


def _visibly_lost(entry, record):
    return {t.grade_id for t in record.tests if t.grade_id in entry.scored_tests() and not t.visible_passed}


def test_bank_has_enough_bugs_and_variants():
    kinds = [entry.kind for entry in BANK.values()]
    assert kinds.count("bug") >= MIN_BUGS, f"{kinds.count('bug')} planted bugs, expected at least {MIN_BUGS}"
    assert kinds.count("variant") >= MIN_VARIANTS, f"{kinds.count('variant')} valid variants, expected at least {MIN_VARIANTS}"


def test_every_common_mistake_is_in_the_bank_and_caught_visibly():
    missing = [name for name in MUST_BE_CAUGHT_VISIBLY if name not in BANK]
    assert not missing, f"planted bugs missing from tests/bank/: {missing}"
    hidden_only = [name for name in MUST_BE_CAUGHT_VISIBLY if not BANK[name].caught_visibly]
    assert not hidden_only, f"common mistakes the visible tests must catch, declared caught_visibly: no: {hidden_only}"


def test_every_bug_is_charged_to_its_own_part_only():
    for entry in BANK.values():
        parts = {part(t) for t in entry.expect_lost if t != "test_train"}
        assert len(parts) <= 1, f"{entry.name} expects to lose tests of parts {sorted(parts)}: a mistake costs the points of one part"


def test_every_test_cell_belongs_to_a_part_and_the_bank_knows_the_master(master):
    assert all(any(t.startswith(prefix) for prefix in PARTS) for t in TEST_IDS), TEST_IDS
    assert set(ANSWER_IDS) == {"masks", "coupling", "realnvp", "nll", "train"}


@pytest.mark.parametrize("name", sorted(BANK))
def test_bank_entry_loses_exactly_the_expected_tests(name, graded):
    entry, record = BANK[name], graded[name]
    assert record.status == "ok", f"{name}: {record.status}: {record.message}"
    assert {t.grade_id for t in record.tests} == set(TEST_IDS)
    lost = _lost(entry, record)
    failed = [t for t in record.tests if t.grade_id in lost]
    report = "\n".join(f"  {t.grade_id}: {t.points:g}/{t.max_points:g} {t.message}" for t in failed)
    assert lost == entry.expect_lost, (
        f"{name} ({entry.summary})\nlost {sorted(lost)}, expected to lose {sorted(entry.expect_lost)}\n"
        f"unexpectedly lost: {sorted(lost - entry.expect_lost)}; unexpectedly kept: {sorted(entry.expect_lost - lost)}\n{report}"
    )


@pytest.mark.parametrize("name", sorted(BANK))
def test_bank_entry_is_caught_by_the_visible_tests_as_recorded(name, graded):
    entry, record = BANK[name], graded[name]
    visibly = _visibly_lost(entry, record)
    assert visibly == entry.caught_visibly, (
        f"{name} ({entry.summary}): declared caught_visibly: {', '.join(sorted(entry.caught_visibly)) or 'no'}, "
        f"but the visible checks that fail are those of {sorted(visibly) or 'none'}"
    )


@pytest.mark.parametrize("name", sorted(n for n, e in BANK.items() if e.kind == "bug"))
def test_each_failure_message_is_about_its_own_test(name, graded):
    entry, record = BANK[name], graded[name]
    for test in record.tests:
        if test.grade_id not in _lost(entry, record):
            continue
        message = test.message
        assert message and not re.search(NOT_ABOUT_THE_TEST, message), f"{name}, {test.grade_id}: {message!r}"
        assert re.search(ABOUT[test.grade_id], message), f"{name}, {test.grade_id}: the message is not about this test: {message!r}"
        expected = entry.messages.get(test.grade_id)
        assert expected is None or expected in message, f"{name}, {test.grade_id}: expected {expected!r} in {message!r}"


def test_every_hidden_block_fails_on_some_planted_bug_that_passes_the_visible_checks(graded):
    """A hidden block that no bug reaches could be a check that cannot fail."""
    proven = {
        t.grade_id
        for name, record in graded.items()
        if BANK[name].kind == "bug"
        for t in record.tests
        if t.visible_passed and t.points < t.max_points and t.grade_id in BANK[name].scored_tests()
    }
    assert set(TEST_IDS) <= proven, f"hidden blocks no planted bug makes fail on its own: {sorted(set(TEST_IDS) - proven)}"


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
