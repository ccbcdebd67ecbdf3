"""The pool of grading workers a run grades its submissions in: forked with the grader's modules imported, each worker
given a slot (and its throwaway uid), and stopped at once when the run is interrupted."""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from autograder.grader.runs.worker import WorkerContext, grade_submission, init_worker


def pool_context():
    """fork on Linux: a worker starts with the grader's modules imported and the assignment read (spawn re-imported the
    grader in each worker, and each then finalised a whole interpreter at its end: seconds per run). Nothing a worker
    uses is held by another thread at the fork: the gradebook's thread only touches the gradebook, tqdm's monitor
    only its bars. Elsewhere (macOS: fork is unsafe with its system libraries) spawn."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def run_pool(todo, out, options, scratch_root, hide, isolation, helpers, bar, assignment):
    """Grade todo in a pool; returns the submissions left over if the pool broke. helpers: the gradebook and the font
    cache's threads, started once the workers have started (a fork beside a running thread is avoided)."""
    context = pool_context()
    slots = context.SimpleQueue()  # no feeder thread in this process: nothing runs beside the fork
    for slot in range(options.workers):
        slots.put((slot, isolation.uids[slot] if isolation.uids else None))
    worker = WorkerContext(
        parent=os.getpid(),
        slots=slots,
        scratch_root=str(scratch_root),
        limits=options.limits,
        hide=hide,
        isolation=isolation,
        assignment=assignment,
    )
    pool = ProcessPoolExecutor(options.workers, mp_context=context, initializer=init_worker, initargs=(worker,))
    try:
        futures = {pool.submit(grade_submission, s, out, options.gradescope): s for s in todo}  # the workers start here
        gradebook, fonts = helpers
        gradebook.start()
        if fonts is not None and fonts.ident is None:
            fonts.start()
        left = []
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                left.append(futures[future])
                continue
            gradebook.put(record)
            bar.set_postfix_str(f"{record.student_id[:20]}: {record.status}", refresh=False)
            bar.update()
    except BaseException:
        _stop_workers(pool)  # interrupted (Ctrl-C, a time bound): waiting for the workers could be waiting for ever
        raise
    pool.shutdown()
    return left


def _stop_workers(pool):
    """Kill the pool's workers (their kernels die with them) and let the pool go without waiting for them."""
    for process in list((pool._processes or {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
