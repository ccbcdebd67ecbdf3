"""Grading a class: from what students handed in to the grades, feedback and reports, in layers.

Each folder is a layer; a module imports from its own layer and the layers below it, never above
(tests/repo/test_layers.py fails when one does). Bottom to top:

    core          the types every layer shares and OUT's layout: an assignment and its notebooks as their source
                  declares them, a student's Record and its TestResults, where each file of OUT lives, the one
                  atomic writer, student ids, a cell's text outputs, times in a zone, an instructor's CSV tables
    intake        what was handed in: an LMS download unpacked, the survey of submissions (who, which file, when),
                  Canvas's file names, timestamp.txt, which shard grades whom
    confine       what confines a student's kernel: the sandbox it runs in, the isolation this host allows
                  (measured through the launcher), how a worker and its kernels end with the grader
    pipeline      one submission from its file to scored tests: its answers extracted, the graded notebook
                  assembled around them, run in a confined kernel, scored, its hidden checks run again outside it
    scoring       the final score: deadlines and late penalties, the instructor's overrides (the term)
    reports       what people read, written from records alone: the feedback page, grades.csv, the summary, the
                  class report, the similarity check and their pages
    integrations  the systems the grader meets: nbgrader's gradebook, hand grades and formgrader's course
                  directory, Gradescope's results.json and zip, Canvas's and Moodle's import files
    runs          a run of the grader: a class graded by a pool of workers (runs/pool.py; the run's lock, scratch
                  folder and uid leases), one notebook's steps, shards merged, every class-level file of OUT
                  written again, one notebook checked

Grading one notebook is written once, as its steps in order, in runs/notebook.py: read the file, extract the
answers, assemble the graded notebook, execute it confined, score it (the hidden checks run again outside the
kernel), the flags for review, the leaderboard, formgrader's view. `grade`'s workers (runs/worker.py: one
submission, its notebooks matched and staged, its files written) and `check` (runs/check.py) both go through it.

Above them, autograder/cli/ holds one thin module per verb of `python -m autograder`. Beside the grader,
autograder/course/ builds the notebooks from the masters, and autograder/kernel/ runs inside or launches the
student's kernel: the grader reads or runs those files, never imports them.

Where a change goes: a new file in OUT or a new field of a record, core; a new LMS download format, intake; how a
kernel runs or a test is scored, pipeline; a new late policy, scoring; a new page or column, reports; a new system
to export to, integrations; how a kernel is confined, confine; a new verb, runs (what it does) and cli (its options).
"""

LAYERS = ("core", "intake", "confine", "pipeline", "scoring", "reports", "integrations", "runs")
