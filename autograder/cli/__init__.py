"""The command line, `python -m autograder VERB ...`: one module per verb, on top of every layer.

Each verb's module holds `HELP`, `add(parser)` (its options) and `run(args)` (what it does, returning the exit
code). A verb module imports nothing heavy at the top, only inside `run`: building the parser, `--help` and a
mistyped option cost no import of nbformat, nbgrader or torch, and each verb imports what it uses alone.
"""

import argparse
import importlib
import sys

VERBS = ("build", "demo", "grade", "merge", "report", "similarity", "export", "gradescope", "check")


def parser():
    top = argparse.ArgumentParser(prog="python -m autograder", description="Course tooling: build the notebooks, grade a class")
    commands = top.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        module = importlib.import_module(f"autograder.cli.{verb}")
        command = commands.add_parser(verb, help=module.HELP)
        module.add(command)
        command.set_defaults(run=module.run)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
