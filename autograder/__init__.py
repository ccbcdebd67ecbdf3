"""Course tooling for the Real NVP exercise: build the notebooks from the master, grade submissions."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "realnvp"
MASTER = REPO / "autograder" / "master" / f"{ASSIGNMENT}.py"
SOURCE_NOTEBOOK = REPO / "autograder" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
STUDENT_NOTEBOOK = REPO / "notebooks" / f"{ASSIGNMENT}.ipynb"
SOLUTION_NOTEBOOK = REPO / "solutions" / f"{ASSIGNMENT}.ipynb"
DATA_DIR = REPO / "data"
