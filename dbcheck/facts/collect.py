"""Phase 1 at scale: which files to parse, and parsing them on every core.

Parsing with libcst is the whole cost of a cold run, so files that cannot matter are
not parsed. A file matters if it mentions a database library or a query-ish name
(first pass), or mentions a name that a relevant file defines - a model, a repository,
a helper, the ``db`` object - so a service module that only uses ``Task.query`` is still
read (further passes, until no new file becomes relevant). Every other file is only syntax-checked with CPython's parser (ten times
cheaper), so DBC001 still covers it; its facts are marked ``skimmed`` with the
identifiers it uses, and are parsed properly once another file makes it relevant.

The files to parse are handed to worker processes, biggest first, one file per task,
so one 5,000-line module does not hold up the rest of the run.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Optional, Sequence

from dbcheck.facts.model import ModuleFacts, interface_digest

_DATABASE_TEXT = re.compile(
    r"sqlalchemy|sqlmodel|flask_sqlalchemy|alembic|\bdown_revision\b|\bsession\b|\bSession\b|select\(|"
    r"\.query\b|db\.Model|"
    # request schemas: which fields a client may send into a model (DBC505)
    r"pydantic|marshmallow|"
    # a star import re-exports names no identifier of the file shows (``from .users import *``
    # in a package's __init__): read it, or imports through the package resolve to nothing
    r"\bimport\s*\*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 40


def mentions_database(text: str) -> bool:
    return _DATABASE_TEXT.search(text) is not None


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENTIFIER.findall(text))


def defined_names(facts: ModuleFacts) -> set[str]:
    """Names a parsed file defines that another file may use."""
    names = {c.name for c in facts.classes}
    names.update(body.name for body in facts.bodies if body.class_name is None)
    names.update(facts.assignments)
    names.update(facts.functions)
    return {n for n in names if len(n) > 1 and not n.startswith("__")}


def skim(text: str, shown: str, module: str, is_package: bool) -> ModuleFacts:
    """A file no other file makes relevant: syntax-checked, not parsed with libcst."""
    from dbcheck.facts.file_noqa import parse_file_noqa
    from dbcheck.facts.hashes import hashed_writes
    from dbcheck.facts.listeners import session_filters
    from dbcheck.syntax.noqa import parse_noqa_lines

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=shown)
    except SyntaxError:
        # a real error, or newer grammar: the full extractor decides
        return extract(text, shown, module, is_package)
    except (RecursionError, MemoryError, ValueError):
        return extract(text, shown, module, is_package)
    facts = ModuleFacts(path=shown, module=module, is_package=is_package)
    facts.skimmed = True
    # interned: the same few thousand names recur in every file of a project
    facts.identifiers = sorted(map(sys.intern, identifiers(text)))
    facts.noqa = parse_noqa_lines(text)
    facts.file_noqa = parse_file_noqa(text)
    # a service module that hashes a password before handing it on names no model
    facts.hashed_names = hashed_writes(text)
    facts.session_filters = session_filters(text)
    return facts


def extract(text: str, shown: str, module: str, is_package: bool) -> ModuleFacts:
    from dbcheck.facts.extract import extract_module

    facts = extract_module(text, shown, module, is_package)
    try:
        facts.interface = interface_digest(facts)
    except (RecursionError, MemoryError):
        # nesting the extractor survived but the digest did not: any edit is then an
        # interface change (never a stale replay)
        import hashlib

        facts.interface = "deep:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return facts


def _extract_task(task: tuple[str, str, str, bool]) -> ModuleFacts:
    try:
        return extract(*task)
    except Exception as err:  # noqa: BLE001 - one file's failure is that file's notice
        facts = ModuleFacts(path=task[1], module=task[2], is_package=task[3])
        facts.notice = f"internal error while reading ({type(err).__name__}: {err})"
        return facts


def worker_count(jobs: Optional[int]) -> int:
    """Processes to use: ``jobs``, else DBCHECK_JOBS, else every core (up to 8); one
    inside a daemonic process (flake8's own workers may have no children)."""
    import multiprocessing

    if jobs is None:
        configured = os.environ.get("DBCHECK_JOBS", "")
        jobs = int(configured) if configured.isdigit() else min(os.cpu_count() or 1, 8)
    if multiprocessing.current_process().daemon:
        return 1  # inside flake8's own worker processes: no children allowed
    return jobs


class Extraction:
    """Files being parsed: in worker processes (started at once, so the caller can load
    cached facts meanwhile), or here when ``result()`` is asked for."""

    def __init__(self, tasks: Sequence[tuple[str, str, str, bool]]) -> None:
        self.tasks = list(tasks)
        self.pool: Optional[ProcessPoolExecutor] = None
        self.futures: list = []

    def result(self) -> list[ModuleFacts]:
        if self.pool is None:
            # parsing leaves cyclic garbage behind: collect it here even while the
            # engine has the collector paused for the rest of the run
            paused = not gc.isenabled()
            gc.enable()
            try:
                return [_extract_task(task) for task in self.tasks]
            finally:
                if paused:
                    gc.disable()
        results: list[ModuleFacts] = []
        try:
            for task, future in zip(self.tasks, self.futures):
                try:
                    results.append(future.result())
                except Exception:  # noqa: BLE001 - a worker lost (killed, out of memory): do it here
                    results.append(_extract_task(task))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return results


def start_extraction(tasks: Sequence[tuple[str, str, str, bool]], jobs: Optional[int] = None,
                     background: bool = True) -> Extraction:
    """Start parsing ``tasks``. Worker processes take a large batch (a cold run) and,
    with ``background``, a small one too: after an edit the one file to parse - and
    libcst's import, as long as the parse - is done on the other core while this one
    loads every other file's facts from the cache."""
    import multiprocessing

    extraction = Extraction(tasks)
    workers = worker_count(jobs)
    if workers <= 1 or not tasks or not hasattr(os, "fork"):
        return extraction
    if len(tasks) < PARALLEL_THRESHOLD and not background:
        return extraction
    if len(tasks) >= PARALLEL_THRESHOLD:
        import libcst  # noqa: F401 - imported once here, inherited by forked workers
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][0]))  # biggest first
    try:
        # a forked worker inherits the paused collector (see engine.collector_paused); a
        # worker parses thousands of files one after another, so it collects as usual
        pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork"),
                                   initializer=gc.enable)
        futures: list = [None] * len(tasks)
        for i in order:
            futures[i] = pool.submit(_extract_task, tasks[i])
    except (OSError, RuntimeError, AssertionError):  # no processes to be had: do it here
        return extraction
    extraction.pool, extraction.futures = pool, futures
    return extraction
