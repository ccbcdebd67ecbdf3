"""Command line: python -m autograder {build,grade} ..."""

import argparse
import sys

from . import build, demo


def parser():
    top = argparse.ArgumentParser(prog="python -m autograder", description="Real NVP course tooling")
    commands = top.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="regenerate the notebooks from the master")
    build_cmd.add_argument("--check", action="store_true", help="fail if a committed generated notebook is stale")
    build_cmd.add_argument("--no-execute", action="store_true", help="do not execute the solution notebook")
    build_cmd.set_defaults(run=build.main)
    demo_cmd = commands.add_parser("demo", help="run the solution headless on the bundled data and report")
    demo_cmd.add_argument("--out", default="out/demo", help="folder for the executed notebook and figures")
    demo_cmd.set_defaults(run=demo.main)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
