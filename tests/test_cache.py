"""The on-disk cache: warm runs agree with cold ones, concurrent runs share it safely,
broken entries are rebuilt, an unusable folder means one warning and no cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

from tests.helpers import run_dbcheck

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, cache: Path | None = None) -> subprocess.CompletedProcess:
    return run_dbcheck(args, cwd, {"DBCHECK_CACHE_DIR": str(cache)} if cache is not None else None)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "saas", root, ignore=shutil.ignore_patterns(".dbcheck_cache"))
    return root


def test_cache_folder_ignores_itself_and_warm_equals_cold(tmp_path):
    root = _project(tmp_path)
    cold = _run([".", "--format", "json", "--no-cache"], root)
    assert not (root / ".dbcheck_cache").exists()
    first = _run([".", "--format", "json"], root)
    assert (root / ".dbcheck_cache" / ".gitignore").read_text().strip().endswith("*")
    warm = _run([".", "--format", "json"], root)
    assert json.loads(cold.stdout) == json.loads(first.stdout) == json.loads(warm.stdout)
    assert list((root / ".dbcheck_cache" / "results").iterdir())


def test_concurrent_runs_share_one_cache(tmp_path):
    root = _project(tmp_path)
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(REPO), DBCHECK_CACHE_DIR=str(cache))
    commands = [
        [sys.executable, "-m", "dbcheck", ".", "--format", "json"],
        [sys.executable, "-m", "dbcheck", ".", "--format", "json"],
        [sys.executable, "-m", "flake8", "--select", "DBC", "-j", "2", "."],
    ]
    procs = [subprocess.Popen(c, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in commands]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all("Traceback" not in err for _out, err in outs)
    assert json.loads(outs[0][0]) == json.loads(outs[1][0])
    flake8_lines = {line.split(" ")[0] for line in outs[2][0].splitlines()}
    cli_lines = {f"./{f['path']}:{f['line']}:{f['column']}:" for f in json.loads(outs[0][0]) if f["code"] != "DBC001"}
    assert flake8_lines == cli_lines
    # every entry left behind is complete and authenticated
    from dbcheck.cache import Cache

    reader = Cache(cache)
    names = [entry.name for entry in (cache / "facts").iterdir()]
    assert names and all(reader._load("facts", name) is not None for name in names)
    assert not [p for p in cache.rglob("*.tmp")]
    again = _run([".", "--format", "json"], root, cache)
    assert json.loads(again.stdout) == json.loads(outs[0][0])


def test_truncated_and_foreign_entries_are_rebuilt(tmp_path):
    root = _project(tmp_path)
    cache = tmp_path / "cache"
    expected = json.loads(_run([".", "--format", "json"], root, cache).stdout)
    entries = sorted((cache / "facts").iterdir()) + sorted((cache / "results").iterdir())
    for i, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if i % 2 else data[:-1] + bytes([data[-1] ^ 1]))
    result = _run([".", "--format", "json"], root, cache)
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout) == expected
    assert json.loads(_run([".", "--format", "json"], root, cache).stdout) == expected


def test_unwritable_cache_folder_warns_once_and_still_works(tmp_path):
    root = _project(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = _run([".", "--format", "json"], root, blocker / "cache")
    assert result.returncode == 1
    assert json.loads(result.stdout)
    warnings = [l for l in result.stderr.splitlines() if "cache" in l]
    assert len(warnings) == 1, result.stderr
    assert "running without a cache" in warnings[0]


def test_config_change_selects_another_entry(tmp_path):
    root = _project(tmp_path)
    cache = tmp_path / "cache"
    before = json.loads(_run([".", "--format", "json"], root, cache).stdout)
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('global-tables = [', 'global-tables = ["tasks", ', 1))
    after = json.loads(_run([".", "--format", "json"], root, cache).stdout)
    assert after != before
    assert json.loads(_run([".", "--format", "json", "--no-cache"], root).stdout) == after
