"""python -m autograder merge SHARD_OUT ... --out OUT: the OUT folders of `grade --shard` runs as one OUT (runs/merge.py)."""

import sys
from pathlib import Path

from autograder.cli import options

HELP = "merge the OUT folders of `grade --shard` runs into one OUT"


def add(command):
    command.add_argument("shards", nargs="+", metavar="SHARD_OUT", help="the OUT folder of each shard")
    command.add_argument("--out", required=True, help="folder for the merged grades.csv, feedback/, records/, gradebook.db")
    options.term(command)
    options.no_similarity(command)


def run(args):
    from autograder.grader.core.ids import printable, printable_lines
    from autograder.grader.core.tables import TableError
    from autograder.grader.reports.summary import summary
    from autograder.grader.runs.merge import merge, shard_term_files, write_merged
    from autograder.grader.runs.outputs import closing_lines, print_warnings
    from autograder.grader.scoring.term import load_term

    out = Path(args.out).resolve()
    if any(Path(f).resolve() == out for f in args.shards):
        print(f"merge: --out {args.out} is one of the shard folders: give a new folder", file=sys.stderr)
        return 2
    merged = merge(args.shards)
    if not merged.refusals and merged.assignment is None:
        merged.refusals.append("no record or manifest names the exercise: nothing to merge")
    for line in merged.refusals:
        print(f"merge refused: {printable(line)}", file=sys.stderr)
    if merged.refusals:
        return 2
    try:
        kept = shard_term_files(args.shards, out)
        term = load_term(out, merged.assignment, args.deadlines or kept.get("deadlines"), args.overrides or kept.get("overrides"))
    except (ValueError, TableError) as error:
        print(f"merge refused: {printable_lines(error)}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for line in term.said:
        print(line)
    records = write_merged(merged, out, term, args.shards, similarity=not args.no_similarity)
    print_warnings(out)
    for line in merged.notes:
        print(f"note: {printable(line)}")
    print(summary(records))
    for line in merged.problems:
        print(f"problem: {printable(line)}", file=sys.stderr)
    print(f"\n{len(records)} students merged from {len(args.shards)} folders into {out / 'grades.csv'}")
    print(closing_lines(out, not args.no_similarity))
    return 1 if merged.problems else 0
