"""Write the two-moons splits the notebooks read: data/moons_<split>.csv and data/SHA256SUMS.

Each split is sklearn's make_moons(size, noise=0.05, random_state=seed), stored as float32 with nine
significant digits (enough to read back the same float32 values) and the moon label. The sizes and seeds
are the notebook's DATA_SPLITS; tests/lesson/test_data.py checks that both agree and that the files are current.

    python data/make_data.py            # rewrite the files
    python data/make_data.py --check    # exit 1 if a file differs from what this script makes
"""

import argparse
import hashlib
import io
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_moons

NOISE = 0.05
SPLITS = {"train": (100_000, 1), "grading": (5_000, 2), "test": (100_000, 3)}  # split: (size, seed)
DATA_DIR = Path(__file__).resolve().parent


def split_arrays(split):
    """Points (n, 2) float32 and labels (n,) int64 of one split, exactly as the notebook regenerates them."""
    size, seed = SPLITS[split]
    x, label = make_moons(size, noise=NOISE, random_state=seed)
    return x.astype(np.float32), label.astype(np.int64)


def split_csv(split):
    """The CSV text of one split: header x1,x2,moon then one row per point."""
    x, label = split_arrays(split)
    buffer = io.StringIO()
    buffer.write("x1,x2,moon\n")
    for (x1, x2), moon in zip(x.tolist(), label.tolist()):
        buffer.write(f"{x1:.9g},{x2:.9g},{moon}\n")
    return buffer.getvalue()


def expected_files():
    """File name -> bytes for every data file, SHA256SUMS included."""
    files = {f"moons_{split}.csv": split_csv(split).encode() for split in SPLITS}
    sums = "".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, body in expected_files().items():
        path = DATA_DIR / name
        if args.check:
            if not path.is_file() or path.read_bytes() != body:
                stale.append(name)
        else:
            path.write_bytes(body)
            print(f"wrote {path.relative_to(DATA_DIR.parent)} ({len(body) / 1024:.0f} KiB)")
    if stale:
        print("stale data files (run python data/make_data.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
