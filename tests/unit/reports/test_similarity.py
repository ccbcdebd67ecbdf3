"""The similarity check (no kernel): a disguised copy is the top pair, submissions written apart are not flagged,
starter code and code the class shares never count, and OUT/code, similarity.csv and similarity.html hold up."""

import csv
import json
import random

import nbformat
import pytest
from bank_entries import exercises_with_banks, load_bank
from similarity_cases import bank_class, copied, disguised, flagged_for_own_code, moons_class, variants, written_apart
from synthetic_class import synthetic_codes, synthetic_records, write_class

from autograder.cli import main, parser
from autograder.course.build import generated_paths
from autograder.course.examples import EXAMPLES
from autograder.grader.core.masters import assignment_named, master_paths, notebook_named
from autograder.grader.reports.similarity import (
    MIN_SHARED,
    THRESHOLD,
    Code,
    K,
    W,
    compare,
    kgram_hashes,
    most_similar_first,
    normalise,
    released_answer,
    starter_hashes,
    starter_sources,
    winnow,
)
from autograder.grader.reports.similarity_report import COLUMNS
from autograder.grader.runs.outputs import write_outputs
from autograder.grader.runs.worker import ungraded_record
from autograder.notebooks import grade_id, is_answer, is_test, solution_answers

# Measured (docs/instructors.md, "After grading"): alone, the answers written apart score 0.30 against the master's and
# disguised copies at least 0.93; the threshold sits at 0.6, with this margin on either side.
MARGIN = 0.2


def _starter(exercise):
    return starter_hashes(starter_sources(assignment_named(exercise)))


def _alone(a, b, exercise="realnvp"):
    """The Pair of two submissions compared as a class of two: the rarity rule can drop nothing."""
    comparison = compare([a, b], _starter(exercise))
    return next(iter(comparison.pairs.values()), None)


# --- normalising and fingerprinting ---------------------------------------------------------------------------


def test_renamed_recommented_and_reformatted_code_normalises_to_the_same_tokens():
    source = written_apart()["coupling"]
    tokens = [t for t, _ in normalise(source)]
    renamed = source.replace("keep", "kp").replace("log_scale", "ls").replace("shift", "translation")
    commented = "\n".join(line + "  # why not" if line.strip() else "\n" for line in renamed.splitlines())
    assert [t for t, _ in normalise(commented)] == tokens
    assert "V" in tokens and "N" in tokens and "def" in tokens and "shift" not in tokens


def test_code_that_is_not_whole_python_is_read_line_by_line_and_magics_are_dropped():
    tokens = normalise("%timeit f(x)\n!ls -la\nx = [1, 2\ny = f(x)\n")
    assert [t for t, _ in tokens] == ["V", "=", "[", "N", ",", "N", "V", "=", "V", "(", "V", ")", ";"]
    assert normalise("") == [] and normalise("'''unterminated") == []


def test_winnowing_finds_every_shared_run_of_k_plus_w_minus_one_tokens():
    rng = random.Random(0)
    for _ in range(200):
        run = [(rng.choice("abcdefgh"), 1) for _ in range(K + W - 1)]
        a = (
            [(rng.choice("abcdefgh"), 1) for _ in range(rng.randint(0, 40))]
            + run
            + [(rng.choice("abcdefgh"), 1) for _ in range(rng.randint(0, 40))]
        )
        b = [(rng.choice("abcdefgh"), 1) for _ in range(rng.randint(0, 40))] + run
        ha, hb = kgram_hashes(a), kgram_hashes(b)
        assert {ha[i][0] for i in winnow(ha)} & {hb[i][0] for i in winnow(hb)}


def test_winnowing_keeps_about_two_in_w_plus_one_hashes():
    tokens = [(str(i), 1) for i in range(5000)]
    hashes = kgram_hashes(tokens)
    assert 1.6 / (W + 1) < len(winnow(hashes)) / len(hashes) < 2.4 / (W + 1)


# --- who is flagged -------------------------------------------------------------------------------------------


def test_a_copy_with_renamed_variables_reordered_methods_and_new_comments_is_the_top_pair():
    comparison = compare(moons_class(), _starter("realnvp"))
    top = min(comparison.pairs.values(), key=most_similar_first)
    assert {top.a, top.b} == {"copier", "variant_written_apart"} and top.flagged
    assert comparison.closest()["copier"] is top and comparison.closest()["variant_written_apart"] is top


def test_no_bank_variant_and_no_independent_pair_is_flagged_in_a_class_with_the_copy():
    flagged = compare(moons_class(), _starter("realnvp")).flagged()
    assert [{p.a, p.b} for p in flagged] == [{"copier", "variant_written_apart"}]  # the bank's 49 entries flag nothing


@pytest.mark.parametrize("exercise", exercises_with_banks())
def test_no_valid_variant_of_a_bank_is_flagged_for_code_it_wrote_as_the_bank_grades_them(exercise):
    comparison = compare(bank_class(exercise), _starter(exercise))
    assert len(comparison.codes) == len(load_bank(exercise))
    assert flagged_for_own_code(comparison, exercise) == []


def test_the_check_of_a_variants_own_code_fails_when_a_variant_is_copied():
    codes = [*bank_class("realnvp"), Code.of("copier", copied(load_bank("realnvp")["variant_coupling_paper_formula"].graded_answers()), [])]
    comparison = compare(codes, _starter("realnvp"))
    assert flagged_for_own_code(comparison, "realnvp") == [("copier", "variant_coupling_paper_formula", ["coupling"])]


def test_a_disguised_copy_of_the_digits_solution_is_the_top_pair():
    exercise = "realnvp_digits"
    solution = solution_answers(notebook_named(exercise).nb)
    codes = [Code.of("solution", solution, []), Code.of("copier", copied(solution), [])]
    codes += [Code.of(name, answers, []) for (e, name), answers in variants().items() if e == exercise]  # the cells each wrote
    comparison = compare(codes, _starter(exercise))
    assert [{p.a, p.b} for p in comparison.flagged()] == [{"solution", "copier"}]


def test_two_submissions_written_apart_are_not_flagged_even_alone_with_the_measured_margin():
    pair = _alone(Code.of("solution", solution_answers(notebook_named("realnvp").nb), []), Code.of("apart", written_apart(), []))
    assert pair.score <= THRESHOLD - MARGIN and not pair.flagged, pair


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("which", ["solution", "written apart"])
def test_a_disguised_copy_is_flagged_alone_with_the_measured_margin(which, seed):
    answers = solution_answers(notebook_named("realnvp").nb) if which == "solution" else written_apart()
    pair = _alone(Code.of("original", answers, []), Code.of("copy", copied(answers, seed=10 * seed), []))
    assert pair.score >= THRESHOLD + MARGIN and pair.flagged, pair


@pytest.mark.parametrize("answer", ["coupling", "realnvp", "train"])
def test_one_copied_answer_among_answers_of_ones_own_is_flagged_in_that_cell(answer):
    apart = written_apart()
    mixed = {**solution_answers(notebook_named("realnvp").nb), answer: disguised(apart[answer], seed=3)}
    pair = _alone(Code.of("apart", apart, []), Code.of("mixed", mixed, []))
    assert pair.flagged and pair.cells[answer][0] >= THRESHOLD + MARGIN and pair.whole < THRESHOLD, pair


def test_the_starter_code_never_counts_even_pasted_into_a_cell_of_ones_own():
    exercise = notebook_named("realnvp")
    released = nbformat.read(generated_paths("realnvp")["student"], as_version=4)
    templates = {grade_id(c): c.source for c in released.cells if is_answer(c)}  # the blanks as students get them
    given = [c.source for c in released.cells if c.cell_type == "code" and not is_answer(c) and not is_test(c)]
    a, b = Code.of("a", templates, given), Code.of("b", templates, given)
    assert set(templates) == set(exercise.answer_ids) and a.prints
    assert compare([a, b], _starter("realnvp")).pairs == {}
    assert compare([a, b]).pairs, "without the starter subtracted, the same blanks and pasted cells would pair them"


@pytest.mark.parametrize("exercise", [p.stem for p in master_paths()])
def test_the_starter_is_the_release_nbgrader_makes_answer_for_answer(exercise):
    released = nbformat.read(generated_paths(exercise)["student"], as_version=4)
    blanks = {grade_id(c): c.source.strip() for c in released.cells if is_answer(c)}
    assert blanks == {grade_id(c): released_answer(c.source).strip() for c in notebook_named(exercise).nb.cells if is_answer(c)}


def test_code_held_by_more_submissions_than_the_rarity_limit_counts_for_no_one():
    common = written_apart()["train"]
    codes = [Code.of(f"s{i}", {"train": common}, []) for i in range(12)]
    assert compare(codes).pairs == {}  # twelve students share it: it proves nothing
    assert compare(codes[:2]).pairs  # two students sharing it do pair up


# --- OUT/code, similarity.csv, similarity.html and the commands ---------------------------------------------


@pytest.fixture
def compared_class(tmp_path):
    """(OUT, copier, original) of a synthetic class (the solution, each with lines of their own) where one student
    copied another's coupling layer (written apart) disguised, one's code file is broken, and one added a cell that
    prints HTML; the class's pages written."""
    exercise = assignment_named("realnvp")
    records = synthetic_records(exercise, 30, seed=5)
    # one not a notebook, whatever is drawn
    records[0] = ungraded_record(records[0].student_id, exercise, "not a notebook", "not a notebook (corrupt JSON)")
    apart, solution = written_apart(), solution_answers(exercise.notebooks[0].nb)
    codes = synthetic_codes(exercise, len(records), {}, seed=5, copies=0)  # the solution, with lines of their own
    original, copier, broken = [r.student_id for r in records if r.status == "ok"][-3:]
    codes[original] = {"answers": {**solution, "coupling": apart["coupling"]}, "extras": ["print('<b>mine</b>')"]}
    codes[copier] = {"answers": {**solution, "coupling": disguised(apart["coupling"], seed=1)}, "extras": []}
    write_class(tmp_path, exercise, records, codes)
    (tmp_path / "code" / f"{broken}.json").write_text("{not json", encoding="utf-8")
    write_outputs(tmp_path, exercise, records)
    return tmp_path, copier, original


def test_similarity_csv_has_the_flagged_pair_first_and_the_columns_of_the_issue(compared_class):
    out, copier, original = compared_class
    with open(out / "similarity.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS == ["student_a", "student_b", "score", "shared", "answers"]
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {copier, original}
    assert float(rows[0]["score"]) >= THRESHOLD and int(rows[0]["shared"]) >= MIN_SHARED and rows[0]["answers"].startswith("coupling ")


def test_similarity_html_shows_the_pair_side_by_side_escapes_code_and_names_who_was_not_compared(compared_class):
    out, _, _ = compared_class
    text = (out / "similarity.html").read_text(encoding="utf-8")
    assert "id=pair-1" in text and "<mark>" in text and "<svg" in text
    assert "&lt;b&gt;mine&lt;/b&gt;" in text and "<b>mine</b>" not in text
    assert "its code file cannot be read" in text  # the broken code file: a row, not a crash
    assert "nothing to compare: not a notebook" in text


def test_the_worker_writes_what_the_student_wrote_and_nothing_of_the_masters(tmp_path):
    from autograder.grader.pipeline.answers import extract, read_cells
    from autograder.grader.reports.similarity_report import code_json

    exercise = notebook_named("realnvp")
    nb = json.loads((EXAMPLES / "realnvp" / "ada_correct.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "print('mine')", "outputs": [], "execution_count": None})
    extracted = extract(read_cells(json.dumps(nb).encode()), exercise)
    data = json.loads(code_json("ada", extracted.answers, [s for sources in extracted.extras.values() for s in sources]))
    assert set(data["answers"]) == set(exercise.answer_ids) and data["extras"] == ["print('mine')"] and data["student_id"] == "ada"


def test_no_similarity_writes_neither_file_and_every_command_takes_the_option(tmp_path):
    exercise = assignment_named("realnvp")
    records = synthetic_records(exercise, 4)
    write_class(tmp_path, exercise, records)
    written = write_outputs(tmp_path, exercise, records, similarity=False)
    assert [p.name for p in written] == ["grades.csv", "warnings.txt", "report.html"] and not (tmp_path / "similarity.csv").exists()
    for argv in (["grade", "x", "--out", "y"], ["merge", "a", "--out", "y"], ["report", "y"]):
        assert parser().parse_args([*argv, "--no-similarity"]).no_similarity is True


def test_the_similarity_command_writes_both_files_from_out_alone(compared_class, capsys):
    out, _, _ = compared_class
    for name in ("similarity.csv", "similarity.html"):
        (out / name).unlink()
    assert main(["similarity", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"similarity: {out / 'similarity.html'}"
    assert (out / "similarity.csv").is_file() and (out / "similarity.html").is_file()
    assert main(["similarity", str(out / "nowhere")]) == 2


def test_merge_copies_each_students_code_and_drops_a_stale_one(tmp_path, monkeypatch):
    from autograder.grader.runs import merge as shards
    from autograder.grader.runs.merge import merge, write_merged

    class NoGradebook:  # the gradebook is tested with the shards; here it would only cost seconds
        def __init__(self, path, exercise):
            path.write_bytes(b"")

        def close(self):
            pass

    monkeypatch.setattr(shards, "open_gradebook", NoGradebook)
    monkeypatch.setattr(shards, "record_grades", lambda *args: None)

    exercise = assignment_named("realnvp")
    records = synthetic_records(exercise, 6, seed=1)
    write_class(tmp_path / "s0", exercise, records[:3], {r.student_id: {"answers": written_apart(), "extras": []} for r in records})
    write_class(tmp_path / "s1", exercise, records[3:])
    stale = tmp_path / "merged" / "code" / "student0005.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    write_merged(merge([tmp_path / "s0", tmp_path / "s1"]), tmp_path / "merged")
    copied_names = sorted(p.name for p in (tmp_path / "merged" / "code").iterdir())
    assert copied_names == sorted(p.name for p in (tmp_path / "s0" / "code").iterdir()) and "student0005.json" not in copied_names
