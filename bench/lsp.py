#!/usr/bin/env python3
"""The language server's latency: from ``didChange`` to ``publishDiagnostics`` on a model
file, beside flake8 alone (its own virtualenv, no DBC plugin: baseline.py) on the same file.

    python bench/lsp.py                          # synthetic corpus (bench/corpus.py)
    python bench/lsp.py --corpus DIR --edits 40  # any checkout (with its [tool.dbcheck])

A real ``dbcheck server`` process over stdio, driven by pygls's client: the model file
(``run.py``'s choice) is opened, then edited ``--edits`` times without saving - each edit
adds a column (a copy of one the model has) or takes it away again - and each latency is
the time from sending the change to receiving that version's diagnostics. flake8 runs
``--select E,F`` on the same file, interleaved with the edits, each a whole process. The
server's peak RSS (``VmHWM``) is read at the end. No daemon runs during the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import generate  # noqa: E402
from baseline import plugin_free_flake8  # noqa: E402
from run import add_column, dbcheck, peak_rss, pick_files  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def flake8_alone(command: list[str], root: Path, file: Path) -> float:
    start = time.perf_counter()
    subprocess.run([*command, "--select", "E,F", str(file)], cwd=root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


async def measure(root: Path, model: Path, edits: int, cache: Path, alone: list[str]) -> dict:
    from lsprotocol import types as lsp
    from pygls.lsp.client import BaseLanguageClient
    from pygls.uris import from_fs_path

    client = BaseLanguageClient("dbcheck-bench", "1")
    versions: dict[int, float] = {}
    arrived: dict[int, asyncio.Event] = {}

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        if params.version is not None and params.version in arrived:
            versions[params.version] = time.perf_counter()
            arrived[params.version].set()

    env = {**os.environ, "DBCHECK_CACHE_DIR": str(cache), "DBCHECK_NO_DAEMON": "1"}
    command = dbcheck("server")
    await client.start_io(command[0], *command[1:], env=env, cwd=str(root))
    await client.initialize_async(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=from_fs_path(str(root)),
        initialization_options={"debounce": 0}))
    client.initialized(lsp.InitializedParams())
    uri = from_fs_path(str(model))
    original = model.read_text()
    edited = add_column(original, "lsp")
    arrived[1] = asyncio.Event()
    start = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "python", 1, original)))
    await asyncio.wait_for(arrived[1].wait(), 900)
    first = versions[1] - start
    latencies, flake8 = [], []
    for n in range(2, edits + 2):
        text = edited if n % 2 == 0 else original
        arrived[n] = asyncio.Event()
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(n, uri), [lsp.TextDocumentContentChangeEvent_Type2(text)]))
        await asyncio.wait_for(arrived[n].wait(), 300)
        latencies.append(versions[n] - sent)
        flake8.append(await asyncio.to_thread(flake8_alone, alone, root, model))
    rss = peak_rss(client._server.pid)  # the server process pygls started
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"file": str(model.relative_to(root)), "first_diagnostics_s": round(first, 3),
            "edits": len(latencies),
            "change_to_diagnostics_median_s": round(statistics.median(latencies), 4),
            "change_to_diagnostics_p95_s": round(p95(latencies), 4),
            "flake8_alone_median_s": round(statistics.median(flake8), 4),
            "flake8_alone_p95_s": round(p95(flake8), 4),
            "p95_ratio": round(p95(latencies) / statistics.median(flake8), 3),
            "server_peak_rss_mb": rss,
            "load": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="an existing checkout instead of the synthetic corpus")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.corpus:
            root = args.corpus.resolve()
        else:
            root = Path(scratch) / "corpus"
            generate(root, args.scale)
        model, _plain, _few = pick_files(root)
        result = asyncio.run(measure(root, model, args.edits, Path(scratch) / "cache",
                                     plugin_free_flake8(Path(scratch))))
    result["project"] = str(args.corpus or f"synthetic (scale {args.scale})")
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
