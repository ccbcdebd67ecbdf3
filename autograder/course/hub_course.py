"""The instructor's nbgrader course on the course hub: the course directory, its gradebook's students, the releases.

`hub.sh up` runs it as the instructor (never as root: nbgrader's exchange refuses folders their caller does not own),
with the hub's Python, from the instructor's copy of the course tooling:

    python -m autograder.course.hub_course COURSE --course-id ID --students a,b,c --release realnvp realnvp_digits

For each exercise it stages what `python -m autograder build` generated (the nbgrader source notebook, and the data
files its master declares, in data/ beside it) in COURSE/source/<exercise>/, then runs nbgrader's own
generate_assignment and release_assignment, so that students fetch it from the exchange in JupyterLab's Assignments
tab. An exercise released again later (after a fix to its master and a build) goes the same way.
"""

import argparse
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.course.build import generated_paths
from autograder.grader.core.masters import notebook_named
from autograder.notebooks import without_rubric

# nbgrader's default is 30 s per cell; the training cell takes up to a minute alone, more when the class validates at once
VALIDATE_CELL_TIMEOUT = 180

COURSE_CONFIG = '''"""nbgrader's settings for the course {course_id} (written by autograder/course/hub_course.py)."""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.Execute.timeout = {timeout}
'''


def write_config(course, course_id):
    """COURSE/nbgrader_config.py, and ~/.jupyter/nbgrader_config.py naming the course for formgrader (whose server
    starts in the home folder, not in the course)."""
    course.mkdir(parents=True, exist_ok=True)
    text = COURSE_CONFIG.format(root=str(course), course_id=course_id, timeout=VALIDATE_CELL_TIMEOUT)
    (course / "nbgrader_config.py").write_text(text)
    user_config = Path.home() / ".jupyter" / "nbgrader_config.py"
    user_config.parent.mkdir(parents=True, exist_ok=True)
    user_config.write_text(text)


def nbgrader(course, *args):
    """Run one nbgrader command in the course directory; CalledProcessError with its output if it fails."""
    command = [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"]
    done = subprocess.run(command, cwd=course, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def add_students(course, students):
    """The students in the gradebook (nbgrader db student import), so that formgrader lists them before they submit."""
    table = course / "students.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id"])
        writer.writerows([student] for student in students)
    nbgrader(course, "db", "student", "import", str(table))


def stage_source(course, name):
    """COURSE/source/<name>/: the generated nbgrader source notebook and, in data/ beside it, the master's data files."""
    folder = course / "source" / name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    shutil.copy(generated_paths(name)["source"], folder / f"{name}.ipynb")
    for path in notebook_named(name).data_files():
        shutil.copy(path, folder / "data" / path.name)
    return folder


def strip_rubrics(release_folder):
    """Drop the rubrics from the released notebooks: nbgrader releases every cell's metadata, and a rubric is for the
    instructors (the build strips them from notebooks/ in the same way)."""
    for path in Path(release_folder).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            without_rubric(cell)
        nbformat.write(nb, path)


def release(course, name, stage=True):
    """Generate the student version of one exercise (staged from this repository's build, or, not stage, an nbgrader
    source folder already in the course's source/) and release it to the exchange."""
    if stage:
        stage_source(course, name)
    nbgrader(course, "generate_assignment", name, "--force")
    strip_rubrics(course / "release" / name)
    nbgrader(course, "release_assignment", name, "--force")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.course.hub_course", description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="the course directory (created if missing)")
    parser.add_argument("--course-id", required=True, help="nbgrader's course id (the exchange's folder)")
    parser.add_argument("--students", default="", help="comma-separated student ids (Unix user names) for the gradebook")
    parser.add_argument("--release", nargs="*", default=[], metavar="EXERCISE", help="exercises to release (masters' names)")
    parser.add_argument("--release-source", nargs="*", default=[], metavar="NAME", help="assignments already in source/ to release")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    write_config(course, args.course_id)
    students = [s for s in args.students.split(",") if s]
    if students:
        add_students(course, students)
    for name in args.release:
        release(course, name)
        print(f"released {name} to the course {args.course_id}")
    for name in args.release_source:
        release(course, name, stage=False)
        print(f"released {name} to the course {args.course_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
