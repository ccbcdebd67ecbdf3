"""course/examples.py: the bundled example submissions, generated from the masters."""

from autograder.course import examples
from autograder.grader.core.masters import master_paths


def test_bundled_examples_are_generated_from_the_masters_and_up_to_date():
    for master in master_paths():
        for name, text in examples.example_files(master.stem).items():
            path = examples.EXAMPLES / master.stem / name
            assert path.is_file() and path.read_text(encoding="utf-8") == text, f"{path} is stale: python -m autograder.course.examples"
