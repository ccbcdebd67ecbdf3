"""What the sandbox costs per submission: the same submissions graded with the full sandbox and without it.

    python bench/bench_sandbox.py                 # 3 rounds of 4 submissions in each mode, one worker
    python bench/bench_sandbox.py --rounds 1 -n 2 # a quick check

Each round grades the same notebooks (the master's answers, no training: the kernel's start, the imports and
the tests, which is where the sandbox can add time) twice with `python -m autograder grade --workers 1`: once
as is (bubblewrap's namespaces where the host allows them) and once with AUTOGRADER_DENY_NAMESPACES=1, the
fallback without namespaces. The modes alternate, so that a busy machine weighs on both. It prints the
median of the per-submission seconds that each record holds (kernel start to scores, per submission), per mode,
and their difference.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "helpers"))

from hostile_bank import _base, _with_extra  # noqa: E402

MODES = {"sandbox": {}, "no namespaces": {"AUTOGRADER_DENY_NAMESPACES": "1"}}


def grade(folder, out, extra_env):
    """Grade folder into out in a fresh grader; (per-submission seconds, isolation line)."""
    command = [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--workers", "1", "--quiet", "--force"]
    env = {**os.environ, **extra_env}
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "records").glob("*.json")]
    return [r["seconds"] for r in records], records[0]["isolation"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4, help="submissions per round (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each grading in both modes (default 3)")
    args = parser.parse_args(argv)
    seconds, isolation = {mode: [] for mode in MODES}, {}
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as scratch:
        folder = Path(scratch) / "subs"
        folder.mkdir()
        for i in range(args.n):
            (folder / f"s{i}.ipynb").write_bytes(_with_extra(_base(), "masks", "pass"))
        for round_ in range(args.rounds):
            for mode, extra_env in MODES.items():
                found, isolation[mode] = grade(folder, Path(scratch) / f"out-{round_}-{len(seconds[mode])}", extra_env)
                seconds[mode] += found
    print(f"{args.rounds} rounds x {args.n} submissions per mode, one worker, {os.cpu_count()} cores")
    for mode in MODES:
        print(f"{mode:>14}: median {statistics.median(seconds[mode]):5.2f} s per submission  ({isolation[mode]})")
    difference = statistics.median(seconds["sandbox"]) - statistics.median(seconds["no namespaces"])
    print(f"the sandbox adds {difference:+.2f} s per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
