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
from dbcheck.incremental.memo import decode_op, encode_op
from dbcheck.incremental.reads import Reads, RecordingIndex, project_interface

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


def analyze_queries(index: "ProjectIndex", config: "Config", memo: Optional[MemoStore] = None) -> QueryIndex:
    """Every query the project builds and runs. ``memo``: where the previous run's
    per-module logs are kept, or None for a full analysis."""
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
    for module in index.modules.values():
        if not interpreted(module):
            continue
        own = _own_key(module) if module.key and previous is not None else ""
        if own and _replay(analyzer, view, previous, decoded, module.path, own, interface_unchanged):
            new_memo[module.path] = previous[module.path]  # type: ignore[index]
            analyzer.result.replayed.append(module.path)
            continue
        reads = Reads()
        view.stack.append(reads)
        analyzer.log = []
        try:
            analyzer.interpret_module(module)
        finally:
            view.stack.pop()
        if own:
            new_memo[module.path] = (own, reads.encode(), tuple(encode_op(op) for op in analyzer.log))
        analyzer.log = None
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


def _replay(analyzer: QueryAnalyzer, view: RecordingIndex, previous: Optional[dict], decoded: Optional[dict],
            path: str, own: str, interface_unchanged: bool) -> bool:
    """Apply a module's logged operations if nothing it read has changed."""
    entry = previous.get(path) if previous is not None else None
    if entry is None:
        return False
    try:
        key, reads, log = entry
        if key != own or not view.digests.still_valid(reads, interface_unchanged):
            return False
        known = decoded.get(path) if decoded is not None else None
        if known is not None and known[0] is log:
            ops = known[1]
        else:
            ops = [decode_op(op) for op in log]
            if decoded is not None:
                decoded[path] = (log, ops)
    except (TypeError, ValueError, KeyError, IndexError):
        return False  # an entry of another shape: analysed again
    for op in ops:
        analyzer.apply(op)
    return True


def _own_key(module: ModuleFacts) -> str:
    return hashlib.sha256(f"{module.key}\0{module.path}".encode("utf-8", "surrogateescape")).hexdigest()
