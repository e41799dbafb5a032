"""Reading in a pool of worker processes that survives losing a worker.

When a worker dies (the out-of-memory killer sends SIGKILL; nothing in the worker can
catch it), ProcessPoolExecutor marks the whole pool broken and every unfinished job
fails with BrokenProcessPool.  Here the batch goes on instead: the first job not yet
answered (the likely killer) is read again alone, in a fresh process of its own; if that
process dies too, the job gets ``on_killed(job)`` — its verdict — and the remaining jobs
go to a fresh pool, one job per task so that another killer costs little.

Workers also watch their parent: if the main process goes (SIGTERM, SIGKILL, a closed
terminal), they exit within WATCH seconds instead of reading on for nobody.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

WATCH = 0.5  # seconds between a worker's looks at its parent
MAX_WORKERS = 4  # beyond this, reading is bound by the disk and the main process


def default_workers(workers: int | None = None) -> int:
    """``workers`` when given, else one per core (at most MAX_WORKERS)."""
    return workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)


def _watch_parent() -> None:
    """Pool initializer: exit when the process that started the pool is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_watch_parent)


def pooled(function: Callable, jobs: Sequence, *, workers: int, chunksize: int,
           on_killed: Callable) -> Iterator:
    """``function(job)`` for every job, in order, in ``workers`` processes; a job whose
    worker is killed twice (in the pool, then alone) yields ``on_killed(job)``."""
    start = 0
    while start < len(jobs):
        pool = _pool(workers)
        try:
            for result in pool.map(function, jobs[start:], chunksize=chunksize):
                start += 1
                yield result
        except BrokenProcessPool:
            yield _alone(function, jobs[start], on_killed)
            start += 1
            chunksize = 1
        finally:
            pool.shutdown(cancel_futures=True)


def _alone(function: Callable, job, on_killed: Callable):
    pool = _pool(1)
    try:
        return pool.submit(function, job).result()
    except BrokenProcessPool:
        return on_killed(job)
    finally:
        pool.shutdown(cancel_futures=True)
