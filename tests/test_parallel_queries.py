"""The query analysis in worker processes gives what the sequential one gives: the same
operations per module, the same findings, the same memo for the next (warm) run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dbcheck.cache import Cache
from dbcheck.config import load_config
from dbcheck.engine import analyze, build_project, effective_config
from dbcheck.flow.interpreter import QueryAnalyzer, interpreted
from dbcheck.incremental.reads import RecordingIndex
from dbcheck.incremental.workers import PARALLEL_THRESHOLD, interpret_elsewhere, interpret_here

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import generate  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes are forked")


@pytest.fixture(scope="module")
def dense(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dense")
    generate(root, scale=0.04, profile="dense")  # 8 packages, about 70 modules with functions
    return root


def test_each_module_logs_the_same_operations_in_a_worker(dense):
    config = load_config(start=dense)
    index, _messages, _errors, _given = build_project([dense], config)
    config = effective_config(index, config)
    modules = [m for m in index.modules.values() if interpreted(m)]
    assert len(modules) >= PARALLEL_THRESHOLD
    elsewhere = interpret_elsewhere(index, config, [(m, True) for m in modules], jobs=2)
    assert elsewhere is not None, "enough modules and two processes: the workers must be used"
    view = RecordingIndex(index)
    for module in modules:
        here = interpret_here(QueryAnalyzer(view, config), view, module, record=True)
        assert elsewhere.result(module.path) == here, module.path
    assert not elsewhere.futures


def test_too_few_modules_or_one_process_stay_here(dense):
    config = load_config(start=dense)
    index, _messages, _errors, _given = build_project([dense], config)
    modules = [(m, False) for m in index.modules.values() if interpreted(m)]
    assert interpret_elsewhere(index, config, modules, jobs=1) is None
    assert interpret_elsewhere(index, config, modules[: PARALLEL_THRESHOLD - 1], jobs=2) is None


def test_findings_and_the_next_run_match_the_sequential_analysis(dense, tmp_path, monkeypatch):
    monkeypatch.setenv("DBCHECK_CACHE_DIR", str(tmp_path / "cache"))
    config = load_config(start=dense)
    sequential = analyze([dense], config, jobs=1).findings
    assert sum(f.code == "DBC501" for f in sequential) >= 8  # the corpus's unscoped jobs and purges
    assert analyze([dense], config, jobs=2).findings == sequential
    # A cold run with a cache keeps the logs the workers sent back; after an edit, the next
    # run replays them for every module the edit did not reach
    assert analyze([dense], config, cache=Cache.for_project(config.root), jobs=2).findings == sequential
    service = dense / "pkg3" / "service_1.py"
    original = service.read_text()
    try:
        service.write_text(original + "\n\ndef leak(session):\n    return session.scalars(select(Item3x2)).all()\n")
        edited = analyze([dense], config, jobs=1).findings
        assert len(edited) == len(sequential) + 1
        config_memo = load_config(start=dense)
        from dbcheck.engine import analyse_project, project_files

        cache = Cache.for_project(config.root)
        analysis = analyse_project(project_files([dense], config_memo, cache=cache), config_memo, cache, jobs=2)
        queries = analysis.queries(config_memo)
        assert len(queries.replayed) > PARALLEL_THRESHOLD  # the modules the edit did not reach
        assert analyze([dense], config, cache=Cache.for_project(config.root), jobs=2).findings == edited
    finally:
        service.write_text(original)


def test_every_operation_the_analyzer_applies_survives_encoding():
    """A worker's log and the memo's are encoded: an operation kind ``decode_op`` does not
    know would make a module unreplayable (its cache entry silently analysed again) and a
    worker's result unusable. Every kind ``QueryAnalyzer.apply`` handles must round-trip."""
    import inspect
    import re

    from dbcheck.flow.values import GetVal, QueryUse, QueryVal
    from dbcheck.incremental.memo import decode_op, encode_op

    kinds = set(re.findall(r'kind == "(\w+)"', inspect.getsource(QueryAnalyzer.apply)))
    assert {"use", "get", "recur", "rret", "icond"} <= kinds
    where = ("app/x.py", 3, 5)
    query = QueryVal("read", ("tasks",), line=3, column=5, path="app/x.py")
    use = QueryUse("read", query, None, "app/x.py", 3, 5, "app.x.f")
    get = GetVal("tasks", 3, 5, "app/x.py")
    samples = {
        "use": ("use", use), "get": ("get", where, get, "app.x.f", "task_id"), "check": ("check", where, get),
        "obs": ("obs", where, use, query), "fwd": ("fwd", where, use), "ret": ("ret", "app.x.f", where),
        "pcall": ("pcall", "app.x.f", "task_id", True, "app.y.g"), "called": ("called", "app.x.f"),
        "guarded": ("guarded", "app.x.f"),
    }
    for kind in sorted(kinds):
        op = samples.get(kind, (kind, where))
        assert decode_op(encode_op(op)) == op, kind


def test_an_error_while_the_logs_are_applied_stops_the_workers(dense, monkeypatch):
    """The parent applies the workers' logs; if that fails, the error is the run's, and no
    worker is left interpreting the rest of the project."""
    import multiprocessing

    import dbcheck.incremental.queries as queries

    config = load_config(start=dense)
    index, _messages, _errors, _given = build_project([dense], config)
    calls = {"n": 0}
    real = queries.decode_op

    def failing(op):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError("a log the parent cannot read")
        return real(op)

    monkeypatch.setattr(queries, "decode_op", failing)
    with pytest.raises(ValueError):
        queries.analyze_queries(index, effective_config(index, config), None, jobs=2)
    assert multiprocessing.active_children() == []
