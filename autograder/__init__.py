"""Course tooling for the Real NVP exercises: the masters, the course build (course/), the grader (grader/) and
the code that runs in or launches a student's kernel (kernel/).

The names below point at the first exercise (two moons), which the tests and benches use as their example; the
grader itself reads every exercise from its master (grader/exercise.py) and names none.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "realnvp"
MASTER = REPO / "autograder" / "master" / f"{ASSIGNMENT}.py"
SOURCE_NOTEBOOK = REPO / "autograder" / "nbgrader_source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
STUDENT_NOTEBOOK = REPO / "notebooks" / f"{ASSIGNMENT}.ipynb"
SOLUTION_NOTEBOOK = REPO / "solutions" / f"{ASSIGNMENT}.ipynb"
DATA_DIR = REPO / "data"
