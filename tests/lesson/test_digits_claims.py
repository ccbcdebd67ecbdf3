"""Numbers that the digits notebook's text and docs/students.md state about computed results are those the executed
solution prints: the two Gaussian baselines, quoted with the three decimals it prints (a page that rounds them its
own way drifts from the others)."""

import re

import nbformat
from conftest import REPO

from autograder.notebooks import grade_id

SOLUTION = REPO / "solutions" / "realnvp_digits.ipynb"
MASTER = REPO / "autograder" / "master" / "realnvp_digits.py"
STUDENTS = REPO / "docs" / "students.md"


def printed_baselines():
    """{"full": "2.447", "independent": "2.901"} as the solution's baselines cell prints them."""
    cell = next(c for c in nbformat.read(SOLUTION, as_version=4).cells if grade_id(c) == "baselines")
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return {
        "full": re.search(r"one full-covariance Gaussian\s+(\d\.\d{3})", text).group(1),
        "independent": re.search(r"independent Gaussians per pixel\s+(\d\.\d{3})", text).group(1),
    }


def test_the_baselines_quoted_are_the_baselines_computed():
    printed, master = printed_baselines(), MASTER.read_text(encoding="utf-8")
    constants = re.search(r"^BPD_TARGET, FULL_GAUSSIAN_BPD, INDEPENDENT_BPD = (.*)$", master, re.M).group(1)
    assert [c.strip() for c in constants.split(",")[1:]] == [printed["full"], printed["independent"]]
    assert f"independent Gaussians per pixel score about {printed['independent']} bits/dim" in " ".join(master.split())
    assert f"covariance about {printed['full']}; a flow should beat both" in " ".join(master.split())
    assert f"a full-covariance Gaussian scores {printed['full']})" in STUDENTS.read_text(encoding="utf-8")


def printed(gid):
    cell = next(c for c in nbformat.read(SOLUTION, as_version=4).cells if grade_id(c) == gid)
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_part_4_s_hint_about_the_training_time_is_what_the_solution_printed():
    """The hint says the solution's loop prints its time and finishes its steps within the budget: no number to drift
    (a time quoted in the hint is one the next run of the solution or of the bench no longer prints)."""
    master = " ".join(MASTER.read_text(encoding="utf-8").replace("#", " ").split())
    budget = int(re.search(r"Your training must finish within \*\*(\d+) seconds\*\*", master).group(1))
    steps, seconds = re.search(r"trained (\d+) steps in ([0-9.]+) s", printed("train")).groups()
    assert f"about {int(steps):,} steps (the solution's loop, which prints its time, finishes them within the budget" in master
    assert float(seconds) < budget, (seconds, budget)
