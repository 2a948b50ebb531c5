"""The query analysis of a whole project, module by module, replaying each module whose
content and reads did not change since the last run from that run's log.

What interpreting one module's functions adds to the shared state is kept as a log of
operations, with everything the interpretation read from the project
(``dbcheck.incremental.reads``: names, classes, tables, the bodies of the helpers it
followed). On the next run a module whose content and reads are unchanged is replayed
from its log instead of interpreted; the judging that needs every module's uses
(helpers judged at their callers) always runs on the whole. A replay applies the same
operations in the same order, so the result equals a full analysis.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Optional, Protocol

from dbcheck.facts.model import ModuleFacts
from dbcheck.flow.interpreter import QueryAnalyzer, interpreted
from dbcheck.flow.values import QueryIndex
from dbcheck.flow.view import IndexView
from dbcheck.incremental.memo import decode_op
from dbcheck.incremental.reads import RecordingIndex, project_interface
from dbcheck.incremental.workers import interpret_elsewhere, interpret_here

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.schema.index import ProjectIndex


class MemoStore(Protocol):
    """Where the previous run's logs are kept (``dbcheck.cache.QueryMemo``)."""

    loaded: dict

    def load(self) -> dict: ...

    def save(self, entries: dict) -> None: ...


def records_queries(index: "ProjectIndex", config: "Config", module: ModuleFacts) -> bool:
    """Whether interpreting ``module`` records a query, a primary-key lookup or a call
    that runs a helper's query. Every query use, lookup and observed call carries the
    path of the module being interpreted (a helper followed from it only reports through
    its caller's observation), so a module that records none can have no finding of the
    query rules, whatever the rest of the project does: a focused run on it needs no
    project-wide query analysis."""
    if not interpreted(module):
        return False
    analyzer = QueryAnalyzer(IndexView(index), config)
    analyzer.interpret_module(module)
    return analyzer.records_anything()


def analyze_queries(index: "ProjectIndex", config: "Config", memo: Optional[MemoStore] = None,
                    jobs: Optional[int] = 1) -> QueryIndex:
    """Every query the project builds and runs. ``memo``: where the previous run's
    per-module logs are kept, or None for a full analysis. ``jobs``: processes for the
    modules to interpret (None: every core); many modules are interpreted in worker
    processes, their logs applied here in module order (see ``dbcheck.incremental.workers``)."""
    view = RecordingIndex(index)
    analyzer = QueryAnalyzer(view, config)
    previous = memo.load() if memo is not None else None
    settings = config.fingerprint()
    if previous is not None and previous.get(_SETTINGS) != settings:
        # Logs made under other settings: the store is kept per configuration, but the
        # configuration the analysis reads is partly the project's answer (the tenant
        # table the models imply, ``dbcheck.engine.effective_config``), which an edit
        # elsewhere can change while no module's reads did.
        previous = {}
    decoded: Optional[dict] = getattr(memo, "decoded", None)
    interface = project_interface(index.modules.values())
    interface_unchanged = previous is not None and previous.get("") == interface
    new_memo: dict[str, Any] = {"": interface, _SETTINGS: settings}
    # Which modules replay their log and which are interpreted, decided before any is
    # applied: the operations are applied in module order either way.
    steps: list[tuple[ModuleFacts, str, Optional[list]]] = []
    for module in index.modules.values():
        if not interpreted(module):
            continue
        own = _own_key(module) if module.key and previous is not None else ""
        ops = _replayable(view, previous, decoded, module.path, own, interface_unchanged) if own else None
        steps.append((module, own, ops))
    elsewhere = interpret_elsewhere(index, config, [(m, bool(own)) for m, own, ops in steps if ops is None], jobs)
    try:
        for module, own, ops in steps:
            if ops is not None:
                new_memo[module.path] = previous[module.path]  # type: ignore[index]
                for op in ops:
                    analyzer.apply(op)
                analyzer.result.replayed.append(module.path)
                continue
            done = elsewhere.result(module.path) if elsewhere is not None else None
            if done is not None:
                reads, log = done
                for op in log:
                    analyzer.apply(decode_op(op))
            else:
                reads, log = interpret_here(analyzer, view, module, bool(own))
            if own:
                new_memo[module.path] = (own, reads, log)
    finally:
        if elsewhere is not None:
            elsewhere.close()
    result = analyzer.finish()
    # rewritten when a module was analysed again, one is gone, or an interface or the
    # settings changed (new_memo's two entries that are not modules: "" and _SETTINGS)
    if memo is not None and not (len(result.replayed) + 2 == len(new_memo) == len(memo.loaded)
                                 and interface_unchanged):
        memo.save(new_memo)
    return result


# The memo's entry holding the fingerprint of the settings its logs were made under (no
# module's path: a path is never empty nor starts with a NUL).
_SETTINGS = "\0settings"


def _replayable(view: RecordingIndex, previous: Optional[dict], decoded: Optional[dict], path: str, own: str,
                interface_unchanged: bool) -> Optional[list]:
    """A module's logged operations, if nothing it read has changed since they were logged."""
    entry = previous.get(path) if previous is not None else None
    if entry is None:
        return None
    try:
        key, reads, log = entry
        if key != own or not view.digests.still_valid(reads, interface_unchanged):
            return None
        known = decoded.get(path) if decoded is not None else None
        if known is not None and known[0] is log:
            ops: list = known[1]
            return ops
        ops = [decode_op(op) for op in log]
        if decoded is not None:
            decoded[path] = (log, ops)
        return ops
    except (TypeError, ValueError, KeyError, IndexError):
        return None  # an entry of another shape: analysed again


def _own_key(module: ModuleFacts) -> str:
    return hashlib.sha256(f"{module.key}\0{module.path}".encode("utf-8", "surrogateescape")).hexdigest()
