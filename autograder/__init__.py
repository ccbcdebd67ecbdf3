"""Course tooling for the Real NVP exercises: the masters, the course build (course/), the grader (grader/) and
the code that runs in or launches a student's kernel (kernel/).

Nothing here names an exercise: the build and the grader read every exercise from its master
(grader/exercise.py); the tests and benches name the ones they use.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL = Path(__file__).resolve().parent / "kernel"  # what runs in or launches the student's kernel: read or run, never imported
