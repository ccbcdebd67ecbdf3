"""Command line: python -m autograder {build,demo,grade,merge,report,similarity,export,gradescope,check} ..."""

import argparse
import sys

from autograder.course import build, demo
from autograder.grader import batch, check, lms_export, outputs, shards
from autograder.grader.gradescope import package


def _shard(text):
    try:
        return shards.parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _term_options(command):
    """--deadlines and --overrides, the same on grade, merge and report (term.py)."""
    command.add_argument("--deadlines", metavar="DEADLINES.csv", help="due times, extensions, late policy (kept in OUT/deadlines.csv)")
    command.add_argument("--overrides", metavar="OVERRIDES.csv", help="instructor's scores with reasons (kept in OUT/overrides.csv)")


def _export_command(commands):
    export_cmd = commands.add_parser("export", help="write OUT's grades in Canvas's or Moodle's own import format")
    export_cmd.add_argument("out", metavar="OUT", help="the OUT folder of a `grade`, `merge` or `report` run")
    export_cmd.add_argument("--format", required=True, choices=("canvas", "moodle"), help="the LMS to import into")
    export_cmd.add_argument("--roster", help="the LMS's export of the class (Canvas: its gradebook export; Moodle: a grade export)")
    export_cmd.add_argument("--title", required=True, help="the assignment's title in the LMS")
    export_cmd.add_argument("--assignment-id", help="Canvas's assignment id: the column is titled 'TITLE (ID)'")
    export_cmd.add_argument("--assignment", help="the exercise (a master's name or path); default: the one the records name")
    export_cmd.add_argument(
        "--moodle-id", choices=("username", "idnumber", "email"), default="username", help="Moodle's identifier column (default username)"
    )
    export_cmd.add_argument("--output", help="the CSV to write (default OUT/canvas.csv or OUT/moodle.csv)")
    export_cmd.add_argument("--bom", action="store_true", help="start the file with a UTF-8 byte-order mark (for Excel)")
    export_cmd.set_defaults(run=lms_export.main)


def parser():
    top = argparse.ArgumentParser(prog="python -m autograder", description="Course tooling: build the notebooks, grade a class")
    commands = top.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="regenerate the notebooks from the masters")
    build_cmd.add_argument("names", nargs="*", help="the exercises to build (default: every master)")
    build_cmd.add_argument("--check", action="store_true", help="fail if a committed generated notebook is stale")
    build_cmd.add_argument("--no-execute", action="store_true", help="do not execute the solution notebook")
    build_cmd.set_defaults(run=build.main)
    demo_cmd = commands.add_parser("demo", help="run every exercise's solution headless on the bundled data and report")
    demo_cmd.add_argument("--out", default="out/demo", help="folder for the executed notebook and figures")
    demo_cmd.set_defaults(run=demo.main)
    grade_cmd = commands.add_parser("grade", help="grade a folder or .zip of submissions into OUT")
    grade_cmd.add_argument("submissions", help="folder of <student>.ipynb, nbgrader's <student>/<assignment>/ layout, or a .zip")
    grade_cmd.add_argument("--out", required=True, help="folder for grades.csv, feedback/, records/, gradebook.db")
    grade_cmd.add_argument("--workers", type=int, default=None, help="parallel kernels (default: number of cores)")
    grade_cmd.add_argument("--assignment", help="the exercise (its master's name); default: found from the notebooks")
    grade_cmd.add_argument("--timeout", type=int, default=60, help="seconds per cell whose master sets none (default 60)")
    grade_cmd.add_argument(
        "--cell-timeout", action="append", default=[], metavar="GRADE_ID=S", help="seconds for one cell, over the master's (repeatable)"
    )
    grade_cmd.add_argument("--wall-timeout", type=int, default=600, help="seconds per submission in all (default 600)")
    grade_cmd.add_argument("--memory", type=float, default=4.0, help="GiB of address space per kernel (default 4)")
    grade_cmd.add_argument("--force", action="store_true", help="grade again students that already have a result")
    grade_cmd.add_argument("--gradescope", action="store_true", help="also write results/<student>.json for Gradescope")
    grade_cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    grade_cmd.add_argument(
        "--shard", type=_shard, default=None, metavar="K/N", help="grade every N-th submission from the K-th (auto/N: the array job's)"
    )
    grade_cmd.add_argument(
        "--only", action="append", default=[], metavar="ID", help="regrade just this student, keep the others' records (repeatable)"
    )
    _term_options(grade_cmd)
    grade_cmd.add_argument("--no-similarity", action="store_true", help="do not write similarity.csv and similarity.html")
    grade_cmd.set_defaults(run=batch.main)
    merge_cmd = commands.add_parser("merge", help="merge the OUT folders of `grade --shard` runs into one OUT")
    merge_cmd.add_argument("shards", nargs="+", metavar="SHARD_OUT", help="the OUT folder of each shard")
    merge_cmd.add_argument("--out", required=True, help="folder for the merged grades.csv, feedback/, records/, gradebook.db")
    _term_options(merge_cmd)
    merge_cmd.add_argument("--no-similarity", action="store_true", help="do not write similarity.csv and similarity.html")
    merge_cmd.set_defaults(run=shards.main)
    report_cmd = commands.add_parser(
        "report", help="fold the gradebook's manual scores into OUT's records and rewrite every report (grades.csv, feedback, ...)"
    )
    report_cmd.add_argument("out", metavar="OUT", help="the OUT folder of a `grade` or `merge` run")
    report_cmd.add_argument("--assignment", help="the exercise (a master's name or path); default: the one the records name")
    _term_options(report_cmd)
    report_cmd.add_argument("--no-similarity", action="store_true", help="do not write similarity.csv and similarity.html")
    report_cmd.set_defaults(run=outputs.main)
    similarity_cmd = commands.add_parser("similarity", help="compare what the students of OUT wrote: OUT/similarity.csv and .html")
    similarity_cmd.add_argument("out", metavar="OUT", help="the OUT folder of a `grade` or `merge` run")
    similarity_cmd.set_defaults(run=outputs.similarity_main)
    _export_command(commands)
    gradescope_cmd = commands.add_parser("gradescope", help="build Gradescope's autograder zip: OUT/gradescope/<assignment>.zip")
    gradescope_cmd.add_argument("--assignment", default=None, help="the exercise (a master's name); default: one zip per exercise")
    gradescope_cmd.add_argument("--out", default="out", help="folder under which gradescope/<assignment>.zip is written (default out)")
    gradescope_cmd.add_argument(
        "--torch-index", default="", help="pip index URL of PyTorch's CPU wheels for setup.sh (default: pip's default index)"
    )
    gradescope_cmd.set_defaults(run=package.main)
    check_cmd = commands.add_parser("check", help="run one notebook with its visible tests only, in a fresh kernel, and print each result")
    check_cmd.add_argument("notebook", help="the notebook to check (.ipynb)")
    check_cmd.add_argument("--assignment", help="the exercise (its master's name); default: found from the notebook")
    check_cmd.add_argument("--timeout", type=int, default=60, help="seconds per cell whose master sets none (default 60, as grade)")
    check_cmd.add_argument(
        "--cell-timeout", action="append", default=[], metavar="GRADE_ID=S", help="seconds for one cell, over the master's (repeatable)"
    )
    check_cmd.add_argument("--wall-timeout", type=int, default=600, help="seconds for the whole notebook (default 600)")
    check_cmd.add_argument("--quiet", action="store_true", help="no progress line")
    check_cmd.set_defaults(run=check.main)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
