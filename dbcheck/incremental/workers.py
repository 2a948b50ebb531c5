"""The query analysis on every core: modules interpreted in worker processes.

A cold run of application code spends as long interpreting function bodies as parsing
them, and the interpretation of one module needs nothing another module's produced:
what it adds to the shared state is a log of operations (``QueryAnalyzer.apply``), the
same log a warm run replays (see ``dbcheck.incremental.queries``). So the modules to
interpret are handed to forked workers, which inherit the index instead of receiving it,
one module per task. Each sends back what it read and its log, encoded; the parent
applies the logs in module order, reaching the state a sequential run reaches, operation
for operation. The tasks are handed out in module order too, so a log rarely waits in
the parent's memory for its turn (handed out biggest first, the waiting logs raised the
parent's peak from 397 to 409 MB at 8,000 files, for no gain in time).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Optional, Sequence

from dbcheck.facts.collect import worker_count
from dbcheck.facts.model import ModuleFacts
from dbcheck.flow.interpreter import QueryAnalyzer
from dbcheck.incremental.memo import encode_op
from dbcheck.incremental.reads import Reads, RecordingIndex

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.schema.index import ProjectIndex

# Below this many modules to interpret, starting workers costs more than it saves (a warm
# run interprets the few modules an edit touched).
PARALLEL_THRESHOLD = 40

Logged = tuple[tuple, tuple]  # (the encoded reads, the encoded operations)


def interpret_here(analyzer: QueryAnalyzer, view: RecordingIndex, module: ModuleFacts, record: bool,
                   keep_log: bool = False) -> Logged:
    """Interpret ``module`` with ``analyzer``, applying its operations; with ``record``,
    what it read and its operations, encoded for the memo (else two empty tuples; with
    ``keep_log``, the operations all the same: a worker's parent needs them)."""
    reads = Reads()
    if record:
        view.stack.append(reads)
    analyzer.log = []
    try:
        analyzer.interpret_module(module)
        log = tuple(encode_op(op) for op in analyzer.log) if record or keep_log else ()
        return (reads.encode() if record else ()), log
    finally:
        if record:
            view.stack.pop()
        analyzer.log = None


class Elsewhere:
    """Modules being interpreted in worker processes, each one's ``Logged`` by path."""

    def __init__(self, pool: ProcessPoolExecutor, futures: dict[str, Future]) -> None:
        self.pool = pool
        self.futures = futures

    def result(self, path: str) -> Optional[Logged]:
        """The module's reads and log; None when no worker did it (the caller then
        interprets it itself: a worker lost, killed or out of memory)."""
        future = self.futures.pop(path, None)
        try:
            return future.result() if future is not None else None
        except Exception:  # noqa: BLE001 - any failure of a worker: done here instead
            return None
        finally:
            if not self.futures:
                self.close()

    def close(self) -> None:
        """Stop the workers, the modules not yet done dropped: called once every result was
        taken, and by the caller whatever happens (an error while it applies the logs must
        not leave workers running the rest of the project)."""
        self.futures.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)


def interpret_elsewhere(index: "ProjectIndex", config: "Config", modules: Sequence[tuple[ModuleFacts, bool]],
                        jobs: Optional[int]) -> Optional[Elsewhere]:
    """Start interpreting ``modules`` (each with whether to record its reads) in worker
    processes; None when they are too few, one process is asked for, or none can be had.
    A worker's log always comes back (the parent needs the operations), encoded."""
    workers = worker_count(jobs)
    if workers <= 1 or len(modules) < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return None
    try:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(modules)),
                                   mp_context=multiprocessing.get_context("fork"),
                                   initializer=_start_worker, initargs=(index, config))
    except (OSError, RuntimeError, AssertionError):  # no processes to be had: done here
        return None
    try:
        futures = {module.path: pool.submit(_interpret_task, module.path, record) for module, record in modules}
    except (OSError, RuntimeError, AssertionError):  # a worker could not start: all done here
        pool.shutdown(wait=True, cancel_futures=True)
        return None
    return Elsewhere(pool, futures)


class _Worker:
    """A worker's own view of the index it inherited when it was forked."""

    def __init__(self, index: "ProjectIndex", config: "Config") -> None:
        self.view = RecordingIndex(index)
        self.config = config


# Set once in each worker process by its initializer (a forked child's own memory):
# the pool's tasks are plain functions, handed only a module's path.
_worker: Optional[_Worker] = None


def _start_worker(index: "ProjectIndex", config: "Config") -> None:
    global _worker
    _worker = _Worker(index, config)


def _interpret_task(path: str, record: bool) -> Logged:
    worker = _worker
    assert worker is not None, "a worker started without its initializer"
    # A fresh analyzer per module: a module's interpretation reads nothing another
    # module's left behind, and a sequential run's result must not depend on how the
    # modules were shared out.
    view = worker.view
    return interpret_here(QueryAnalyzer(view, worker.config), view, view.digests.by_path[path], record,
                          keep_log=True)
