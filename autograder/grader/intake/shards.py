"""A class split into N shards: which submissions shard K grades, and the manifest that says so."""

import json
import os
from pathlib import Path

from autograder.grader.core.files import write_atomic

MANIFEST = "shard.json"


# Where an array job puts the task's index: SLURM (--array) and Kubernetes (Indexed Jobs).
INDEX_VARIABLES = ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX")


def parse_shard(text, environ=None):
    """(k, n) from "K/N", where K may be "auto": the array job's index (SLURM_ARRAY_TASK_ID, counted from
    SLURM_ARRAY_TASK_MIN, or JOB_COMPLETION_INDEX). Raises ValueError with a message an instructor can act on."""
    environ = os.environ if environ is None else environ
    k_text, _, n_text = text.partition("/")
    if not n_text.strip().isdigit() or int(n_text) < 1:
        raise ValueError(f"--shard {text!r}: expected K/N with N a whole number of shards, e.g. 0/4 or auto/4")
    n = int(n_text)
    if k_text.strip() == "auto":
        k_text = _array_index(environ)
    if not k_text.strip().isdigit() or not 0 <= int(k_text) < n:
        raise ValueError(f"--shard {text!r}: K must be a whole number from 0 to {n - 1}")
    return int(k_text), n


def _array_index(environ):
    if environ.get("SLURM_ARRAY_TASK_ID", "").isdigit():
        return str(int(environ["SLURM_ARRAY_TASK_ID"]) - int(environ.get("SLURM_ARRAY_TASK_MIN", "0") or 0))
    if environ.get("JOB_COMPLETION_INDEX", "").isdigit():
        return environ["JOB_COMPLETION_INDEX"]
    raise ValueError(f"--shard auto/N: none of {', '.join(INDEX_VARIABLES)} is set: this is not an array job; give K/N")


def select_shard(submissions, k, n):
    """The k-th of n shards of submissions, which discover() returns sorted by student id: a stable order."""
    return list(submissions)[k::n]


def write_manifest(out, k, n, mine, assignment, master_sha256):
    """OUT/shard.json, written before grading starts, so a merge knows whom a crashed shard owed."""
    manifest = {"shard": k, "of": n, "assignment": assignment, "master_sha256": master_sha256, "students": [s.student_id for s in mine]}
    write_atomic(Path(out) / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
