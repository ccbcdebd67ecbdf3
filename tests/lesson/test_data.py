"""The shipped two-moons splits: checksums, freshness, and the notebook's regeneration fallback."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from autograder.notebooks import grade_id

DATA = REPO / "data"


def test_data_files_match_their_checksums():
    listed = dict(line.split()[::-1] for line in (DATA / "SHA256SUMS").read_text().splitlines())
    assert sorted(listed) == ["moons_grading.csv", "moons_test.csv", "moons_train.csv"]
    for name, digest in listed.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, f"{name} changed: rerun data/make_data.py"


def test_data_files_are_what_the_script_makes():
    result = subprocess.run([sys.executable, str(DATA / "make_data.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _notebook_loader(master):
    """load_moons and DATA_SPLITS as the notebook's data cell defines them (without running its plot)."""
    source = next(c.source for c in master.cells if grade_id(c) == "data")
    definitions = source.split("x_train, label_train =")[0]
    namespace = {}
    exec("import numpy as np\nimport torch\nfrom pathlib import Path\nfrom sklearn.datasets import make_moons\n" + definitions, namespace)
    return namespace


def test_notebook_splits_agree_with_the_data_script(master):
    sys.path.insert(0, str(DATA))
    try:
        import make_data
    finally:
        sys.path.remove(str(DATA))
    namespace = _notebook_loader(master)
    assert namespace["DATA_SPLITS"] == make_data.SPLITS
    assert namespace["MOONS_NOISE"] == make_data.NOISE


@pytest.mark.parametrize("split", ["train", "grading", "test"])
def test_notebook_fallback_regenerates_identical_arrays(master, split, tmp_path, monkeypatch):
    load_moons = _notebook_loader(master)["load_moons"]
    monkeypatch.chdir(REPO / "notebooks")
    x_file, label_file = load_moons(split)
    monkeypatch.chdir(tmp_path)  # no data folder here or one level up: the notebook regenerates the split
    assert not (tmp_path / "data").exists() and not (tmp_path.parent / "data").exists()
    x_regenerated, label_regenerated = load_moons(split)
    assert x_file.dtype == x_regenerated.dtype and x_file.shape == x_regenerated.shape
    assert np.array_equal(x_file.numpy(), x_regenerated.numpy())
    assert np.array_equal(label_file.numpy(), label_regenerated.numpy())
