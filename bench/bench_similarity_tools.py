"""The similarity check beside the maintained libraries, on the same cases: why the grader has its own.

    pip install copydetect pycode-similar      # into .venv, for this comparison only (not in requirements.txt)
    python bench/bench_similarity_tools.py     # scores on the cases, then the time for N submissions
    python bench/bench_similarity_tools.py -n 300

Cases (tests/helpers/similarity_cases.py), each a pair compared alone: a disguised copy of the answers written apart
(renamed, methods reordered, reformatted, commented), the same answers with one answer copied (the coupling
layer), and two submissions written apart (the master's solution and tests/banks/realnvp/variant_written_apart.py).
Each tool is given the starter code where it takes one. A tool that is not installed is skipped.
"""

import argparse
import io
import itertools
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "helpers"))

from similarity_cases import copied, disguised, written_apart  # noqa: E402
from synthetic_class import synthetic_codes  # noqa: E402

from autograder.grader.core.masters import assignment_named  # noqa: E402
from autograder.grader.reports.similarity import Code, compare, starter_hashes, starter_sources  # noqa: E402
from autograder.notebooks import solution_answers  # noqa: E402


def cases(exercise):
    """name -> (answers of a, answers of b)."""
    apart, solution = written_apart(), solution_answers(exercise.notebooks[0].nb)
    return {
        "disguised copy": (apart, copied(apart, seed=3)),
        "one answer copied": (apart, {**solution, "coupling": disguised(apart["coupling"], seed=3)}),
        "written apart": (solution, apart),
    }


def ours(exercise):
    """(score of a pair, time of a class): the class is compared at once, through its index of fingerprints."""
    starter = starter_hashes(starter_sources(exercise))

    def score(a, b):
        pairs = compare([Code.of("a", a, []), Code.of("b", b, [])], starter).pairs
        return max((p.score for p in pairs.values()), default=0.0)

    def whole_class(codes):
        compare([Code.of(str(i), c, []) for i, c in enumerate(codes)], starter)

    return score, whole_class


def copydetect_tool(exercise):
    """copydetect's API as its CopyDetector uses it: each file fingerprinted once, then every pair compared."""
    from copydetect import CodeFingerprint, compare_files

    starter = list(CodeFingerprint("starter.py", 25, 1, fp=io.StringIO("\n\n".join(starter_sources(exercise)))).hashes)
    fingerprint = lambda answers: CodeFingerprint("x.py", 25, 1, boilerplate=starter, fp=io.StringIO("\n\n".join(answers.values())))  # noqa: E731

    def score(a, b):
        _, (sim_a, sim_b), _ = compare_files(fingerprint(a), fingerprint(b))
        return max(sim_a, sim_b)

    def whole_class(codes):
        prints = [fingerprint(c) for c in codes]
        for a, b in itertools.combinations(prints, 2):
            compare_files(a, b)

    return score, whole_class


def pycode_similar_tool(exercise):
    """pycode-similar's detect: the first file against each of the others (no starter code to give it)."""
    import pycode_similar

    def against(reference, candidates):
        try:
            return [pycode_similar.summarize(diffs) for _, diffs in pycode_similar.detect([reference, *candidates], module_level=True)]
        except (SyntaxError, pycode_similar.NoFuncException):
            return []

    def score(a, b):
        [(_, copied_count, total)] = against("\n\n".join(a.values()), ["\n\n".join(b.values())]) or [(0, float("nan"), 1)]
        return copied_count / total if total else 0.0

    def whole_class(codes):
        texts = ["\n\n".join(c.values()) for c in codes]
        for i in range(len(texts) - 1):
            against(texts[i], texts[i + 1 :])

    return score, whole_class


TOOLS = {"this grader": ours, "copydetect": copydetect_tool, "pycode-similar": pycode_similar_tool}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="submissions for the timing (default 200)")
    args = parser.parse_args()
    exercise = assignment_named("realnvp")
    codes = [c["answers"] for c in synthetic_codes(exercise, args.n, {}, seed=2).values()]
    pairs = args.n * (args.n - 1) // 2
    for name, make in TOOLS.items():
        try:
            score, whole_class = make(exercise)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        found = ", ".join(f"{case} {score(a, b):.2f}" for case, (a, b) in cases(exercise).items())
        started = time.perf_counter()
        whole_class(codes)
        seconds = time.perf_counter() - started
        scale = 1000 / args.n if name == "this grader" else 1000 * 999 / 2 / pairs  # an index grows with n, pairs with n²
        print(f"{name}: {found}; {args.n} submissions in {seconds:.1f} s, about {seconds * scale:.0f} s for 1,000")


if __name__ == "__main__":
    main()
