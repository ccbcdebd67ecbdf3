"""python -m autograder VERB ...: the command line (autograder/cli/)."""

import sys

from autograder.cli import main, parser

__all__ = ["main", "parser"]

if __name__ == "__main__":
    sys.exit(main())
