"""The SLURM recipe of docs/grading-at-scale.md ("Grading on a cluster"), run for real on a one-node cluster of this
machine.

scripts/slurm.sh starts munged, slurmctld and slurmd with every file under a temporary folder; the test writes
grade-array.sh byte for byte from the page's block (the one bash block of README.md and docs/*.md that holds
`#SBATCH --array`: the recipe is shown once), submits it and the merge as the page's second block says, with one
change only: a two-task array, which the page says is how the number of shards changes. The tasks are 1 and 2,
not 0 and 1, since the grader counts K from the array's first index. The merged grades.csv must be a plain `grade`
run's of the same download.zip, row for row.
Needs root and Debian's slurm-wlm and munge (scripts/slurm.sh install): skipped outside CI without them, failed in CI.
"""

import contextlib
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from conftest import REPO
from report_reading import row_differences

from autograder.course.examples import EXAMPLES

SLURM_SH = REPO / "scripts" / "slurm.sh"
ARRAY, TASKS = "--array=1-2", (1, 2)  # the one change to the recipe's command line: two shards
NEEDED = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "munged")
ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}
JOBS_TIMEOUT_S = 600  # ten times the array job's time here (docs/benchmarks.md), for a shared machine
ZIP_TIME = (2025, 3, 14, 9, 30, 0)  # every entry's, so that the download is the same file on every run
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


def _need(message):
    pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)


def _require_root_and_slurm():
    """Root, and the packages (installed now when they are missing and this is root: scripts/slurm.sh install)."""
    if os.geteuid() != 0:
        _need("needs root: slurmd runs the jobs, munged runs as the munge user")
    if all(shutil.which(name) for name in NEEDED):
        return
    installed = subprocess.run(["bash", str(SLURM_SH), "install"], capture_output=True, text=True, timeout=900)
    missing = [name for name in NEEDED if not shutil.which(name)]
    if missing:
        said = (installed.stdout + installed.stderr).strip()
        _need(f"{', '.join(missing)} not found, and `bash scripts/slurm.sh install` (slurm-wlm, munge) did not install them: {said}")


# --- the recipe's blocks ------------------------------------------------------------------------------------------


def fenced_blocks(text, language="bash"):
    """The text of every fenced code block of language in a markdown text, each line as written (less the fence's
    indent, as in a list item), ending with a newline."""
    blocks, inside, lines = [], None, []
    for line in text.splitlines():
        if inside is None:
            match = FENCE.match(line)
            if match and match["info"].split()[:1] == [language]:
                inside, lines = match, []
        elif re.fullmatch(rf"{re.escape(inside['fence'][0])}{{{len(inside['fence'])},}}", line.strip()):  # a closing fence
            blocks.append("".join(f"{part}\n" for part in lines))
            inside = None
        else:
            lines.append(line[len(inside["indent"]) :] if line.startswith(inside["indent"]) else line.lstrip())
    return blocks


def recipe_block(containing, root=REPO):
    """The one bash block of README.md and docs/*.md that contains the text `containing` (the recipe lives in
    docs/grading-at-scale.md): exactly one copy across the pages, so that no second copy can drift from the one
    this test runs."""
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    found = []
    for page in filter(Path.exists, pages):
        for block in fenced_blocks(page.read_text(encoding="utf-8")):
            if containing in block:
                found.append((page.relative_to(root), block))
    if len(found) != 1:
        where = "; ".join(f"{at}: {block[:60]!r}…" for at, block in found)
        pytest.fail(
            f"expected one ```bash block containing {containing!r} in README.md and docs/*.md "
            f"(the SLURM recipe of docs/grading-at-scale.md, 'Grading on a cluster'), found {len(found)}{': ' + where if where else ''}"
        )
    return found[0][1]


def with_array(submission, array=ARRAY):
    """The recipe's submission block with `array` given to the sbatch that submits grade-array.sh: nothing else."""
    changed, count = re.subn(r"\bsbatch\b(?=[^\n]*\bgrade-array\.sh\b)", f"sbatch {array}", submission)
    if count != 1:
        pytest.fail(f"expected one `sbatch … grade-array.sh` in the recipe's submission block, found {count}:\n{submission}")
    return changed


# --- the cluster --------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """A cluster that scripts/slurm.sh started in folder; env points the SLURM clients at it."""

    folder: Path
    env: dict
    started_s: float = 0.0
    daemons: list = field(default_factory=list)  # psutil.Process of munged, slurmctld and slurmd

    def run(self, *command, cwd=None, timeout=60):
        return subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def stop(self):
        return self.run("bash", str(SLURM_SH), "stop", str(self.folder), timeout=120)

    def leftovers(self):
        """Every process of this cluster still running: its daemons, their children (slurmscriptd, slurmstepd), the
        jobs (all of which carry this cluster's SLURM_CONF) and anything whose command line names the folder."""
        left = [p for p in self.daemons if _running(p)]
        for process in psutil.process_iter(["cmdline", "environ"]):
            cmdline, environ = process.info["cmdline"] or [], process.info["environ"] or {}
            ours = environ.get("SLURM_CONF") == self.env["SLURM_CONF"] or any(str(self.folder) in arg for arg in cmdline)
            if ours and _running(process) and process.pid != os.getpid() and process not in left:
                left.append(process)
        return left


def _running(process):
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _daemons(folder):
    pid_files = [folder / "munge" / "munged.pid", folder / "run" / "slurmctld.pid", folder / "run" / "slurmd.pid"]
    return [psutil.Process(int(path.read_text())) for path in pid_files]


def _describe(processes):
    def one(p):
        try:
            return f"{p.pid} {' '.join(p.cmdline())}"
        except psutil.Error:
            return str(p.pid)

    return "; ".join(map(one, processes))


@pytest.fixture
def cluster():
    """A fresh cluster in a folder of /tmp (munged, as the munge user, must reach it: pytest's tmp_path is root's
    alone), stopped and its folder removed afterwards, whatever happened."""
    _require_root_and_slurm()
    folder = Path(tempfile.mkdtemp(prefix="realnvp-slurm-"))
    folder.chmod(0o755)
    cluster = Cluster(folder, {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")})
    try:
        began = time.monotonic()
        started = cluster.run("bash", str(SLURM_SH), "start", str(folder), timeout=180)
        assert started.returncode == 0, f"scripts/slurm.sh start failed:\n{started.stdout}{started.stderr}"
        cluster.started_s, cluster.daemons = time.monotonic() - began, _daemons(folder)
        yield cluster
    finally:
        stopped = cluster.stop()
        left = cluster.leftovers()
        for process in left:  # reported below; ended now, by pid, so that the machine is clean for what runs next
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)
        assert stopped.returncode == 0 and not left, f"stop: {stopped.stdout}{stopped.stderr}; still running: {_describe(left)}"


# --- the jobs -----------------------------------------------------------------------------------------------------


def job_folder(folder):
    """What the recipe runs in: the LMS's download.zip (the bundled examples), .venv and grading/."""
    folder.mkdir()
    with zipfile.ZipFile(folder / "download.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        for notebook in sorted((EXAMPLES / "realnvp").glob("*.ipynb")):
            bundle.writestr(zipfile.ZipInfo(notebook.name, ZIP_TIME), notebook.read_bytes())
    (folder / ".venv").symlink_to(REPO / ".venv")
    (folder / "grading").mkdir()
    (folder / "grade-array.sh").write_text(recipe_block("#SBATCH --array"), encoding="utf-8")
    return folder


def jobs(cluster):
    """Every job the controller knows, one dict of scontrol's fields each (ended jobs stay: MinJobAge)."""
    shown = cluster.run("scontrol", "show", "job", "--oneliner")
    assert shown.returncode == 0, shown.stderr
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in shown.stdout.splitlines() if line.startswith("JobId=")]


def wait_for(cluster, job_id, folder):
    """The job's fields once it has ended; a failure names it and shows every job and log."""
    deadline = time.monotonic() + JOBS_TIMEOUT_S
    while time.monotonic() < deadline:
        job = next((j for j in jobs(cluster) if j["JobId"] == job_id), None)
        if job is None:
            pytest.fail(f"job {job_id} is unknown to the controller\n{logs(cluster, folder)}")
        if job.get("JobState") in ENDED:
            return job
        time.sleep(2)
    pytest.fail(f"job {job_id} did not end within {JOBS_TIMEOUT_S} s\n{logs(cluster, folder)}")


def logs(cluster, folder):
    """The jobs, their logs and the daemons' logs, for a failure's message."""
    parts = [cluster.run("scontrol", "show", "job").stdout]
    for path in [*sorted(folder.glob("grading/logs/*")), *sorted(folder.glob("slurm-*.out"))]:
        parts.append(f"--- {path.relative_to(folder)}\n{path.read_text(errors='replace')}")
    for path in sorted((cluster.folder / "log").glob("*.log")):
        parts.append(f"--- {path} (end)\n{''.join(path.read_text(errors='replace').splitlines(True)[-30:])}")
    return "\n".join(parts)


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _when(job, key):
    return time.mktime(time.strptime(job[key], "%Y-%m-%dT%H:%M:%S"))  # scontrol's local time, whole seconds


def _timings(tasks, merge_job, wall_s):
    """How long the array and the merge ran, by the controller's clock, and the whole from submission to the end."""
    each = ", ".join(f"task {j['ArrayTaskId']} {_when(j, 'EndTime') - _when(j, 'StartTime'):.0f} s" for j in tasks)
    array = max(_when(j, "EndTime") for j in tasks) - min(_when(j, "StartTime") for j in tasks)
    merge = _when(merge_job, "EndTime") - _when(merge_job, "StartTime")
    return f"the array {array:.0f} s ({each}), the merge {merge:.0f} s; submission to merged {wall_s:.0f} s"


# --- the test -------------------------------------------------------------------------------------------------------


@pytest.fixture
def plain(tmp_path):
    """(the job folder, a plain `grade` of its download.zip into tmp_path/plain): the reference, which runs while
    the cluster grades (and is stopped if the test ends first)."""
    folder = job_folder(tmp_path / "course")
    command = [sys.executable, "-m", "autograder", "grade", "download.zip", "--out", str(tmp_path / "plain"), "--workers", "2", "--quiet"]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield folder, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def submit(cluster, folder):
    """The recipe's submission block, with a two-task array, run by bash in folder: the merge job's id."""
    submission = with_array(recipe_block("sbatch --dependency"))
    submitted = cluster.run("bash", "-c", submission, cwd=folder)
    merge_id = re.search(r"Submitted batch job (\d+)", submitted.stdout)
    assert submitted.returncode == 0 and merge_id, f"the recipe's submission failed:\n{submission}\n{submitted.stdout}{submitted.stderr}"
    return merge_id[1]


def ended_jobs(cluster, folder, merge_id):
    """(the array's tasks, the merge job) once the merge has ended; each must have completed with exit code 0."""
    merge_job = wait_for(cluster, merge_id, folder)
    tasks = sorted((j for j in jobs(cluster) if "ArrayTaskId" in j), key=lambda j: int(j["ArrayTaskId"]))
    states = [(j["JobId"], j.get("ArrayTaskId", "merge"), j.get("JobState"), j.get("ExitCode")) for j in [*tasks, merge_job]]
    assert [s[2:] for s in states] == [("COMPLETED", "0:0")] * 3, f"(job, task, state, exit code): {states}\n{logs(cluster, folder)}"
    assert [int(j["ArrayTaskId"]) for j in tasks] == list(TASKS)
    assert _when(merge_job, "StartTime") >= max(_when(j, "EndTime") for j in tasks)  # afterany: once every shard ended
    return tasks, merge_job


def check_shards(folder, students):
    """Tasks 1 and 2 graded shards 0/2 and 1/2 (K counted from the array's first index): each a non-empty share, the
    two disjoint, together the class."""
    owned = [_owned(folder / "grading" / "shards" / str(task)) for task in TASKS]
    assert [k for k, _ in owned] == [0, 1]
    shares = [set(mine) for _, mine in owned]
    assert all(shares) and not shares[0] & shares[1] and shares[0] | shares[1] == set(students), owned


def _owned(shard):
    """(K, the students) that shard's shard.json says it graded, each with a record of its own."""
    manifest = json.loads((shard / "shard.json").read_text(encoding="utf-8"))
    assert manifest["of"] == len(TASKS), manifest
    assert sorted(p.stem for p in (shard / "records").glob("*.json")) == sorted(manifest["students"])
    return manifest["shard"], manifest["students"]


def test_the_recipe_is_shown_once_in_docs_with_its_two_blocks():
    """Without a cluster: each block is found once, in docs/grading-at-scale.md, as the run below uses it."""
    array, submission = recipe_block("#SBATCH --array"), recipe_block("sbatch --dependency")
    assert array.startswith("#!/bin/bash\n") and '--shard "auto/$SLURM_ARRAY_TASK_COUNT"' in array
    assert "grade-array.sh" in submission and "merge grading/shards/*" in submission
    assert f"sbatch {ARRAY} --parsable grade-array.sh" in with_array(submission)
    page = (REPO / "docs" / "grading-at-scale.md").read_text(encoding="utf-8")
    assert array in fenced_blocks(page) and submission in fenced_blocks(page)


@pytest.mark.slow
def test_the_slurm_recipe_runs_and_grades_the_class_as_one_grade_run_does(cluster, plain, tmp_path):
    (folder, reference), began = plain, time.monotonic()
    tasks, merge_job = ended_jobs(cluster, folder, submit(cluster, folder))
    output, _ = reference.communicate(timeout=600)
    assert reference.returncode == 0, output

    expected, merged = _rows(tmp_path / "plain" / "grades.csv"), _rows(folder / "grading" / "realnvp" / "grades.csv")
    assert row_differences(expected, merged) == [], logs(cluster, folder)
    check_shards(folder, [row["student_id"] for row in expected])
    for log in [*(f"grading/logs/shard-{task}.log" for task in TASKS), f"slurm-{merge_job['JobId']}.out"]:  # the recipe's
        assert "graded" in (folder / log).read_text(encoding="utf-8"), log  # the summary `grade` and `merge` print

    print(f"\nSLURM: cluster up in {cluster.started_s:.1f} s; {_timings(tasks, merge_job, time.monotonic() - began)}")
    stopped = cluster.stop()
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert cluster.leftovers() == [], f"left running after stop: {_describe(cluster.leftovers())}"
