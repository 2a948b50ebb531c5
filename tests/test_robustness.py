"""dbcheck never falls over: generated modules, mutated fixtures, odd files, crashing rules."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbcheck.config import load_config
from dbcheck.engine import analyze
from dbcheck.facts.collect import extract
from dbcheck.schema.build import build_index
from dbcheck.config import Config
from dbcheck.findings import Finding

pytestmark = pytest.mark.slow

from tests.helpers import run_dbcheck

REPO = Path(__file__).resolve().parent.parent
MODELS = sorted((REPO / "fixtures" / "saas" / "app" / "models").glob("*.py")) + \
    sorted((REPO / "tests" / "fuzz_models").glob("*.py"))


def _analyse_source(source: str) -> None:
    facts = extract(source, "fuzz.py", "fuzz", False)  # phase 1 as the engine runs it (with the interface digest)
    index = build_index({"fuzz": facts})
    from dbcheck.engine import run_rules

    _findings, errors = run_rules(index, Config(root=Path(".")))
    assert not errors, errors


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_any_valid_module_never_crashes(source):
    _analyse_source(source)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(MODELS), st.data())
def test_mutated_fixture_models_never_crash(path, data):
    lines = path.read_text().splitlines(keepends=True)
    start = data.draw(st.integers(0, max(len(lines) - 1, 0)))
    stop = data.draw(st.integers(start, len(lines)))
    mutation = data.draw(st.sampled_from(["drop", "dup", "dedent", "truncate", "garble"]))
    if mutation == "drop":
        lines = lines[:start] + lines[stop:]
    elif mutation == "dup":
        lines = lines[:stop] + lines[start:stop] + lines[stop:]
    elif mutation == "dedent":
        lines = [l.lstrip() if start <= i < stop else l for i, l in enumerate(lines)]
    elif mutation == "truncate":
        lines = lines[:start] + [lines[start][: len(lines[start]) // 2]] if lines else []
    else:
        noise = data.draw(st.text(alphabet="()[]{}:=.,'\"#\\ \tabcXYZ019", max_size=20))
        lines = lines[:start] + [noise + "\n"] + lines[start:]
    _analyse_source("".join(lines))


def _run(args, cwd, env_extra=None):
    return run_dbcheck(args, cwd, env_extra)


def test_huge_generated_file(tmp_path):
    """Over ``max-file-size`` a file is not analysed - exit 2, the file and the limit named -
    instead of the parser taking gigabytes; raised, the same file is checked."""
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    rows = "".join(f"    ({i}, 'name {i}', {i * 7 % 13}),\n" for i in range(200_000))
    (tmp_path / "data.py").write_text("ROWS = [\n" + rows + "]\n")
    size = (tmp_path / "data.py").stat().st_size
    assert size > 5_000_000
    proc = _run([".", "--no-cache"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"dbcheck: error: data.py: not analysed: {size:,} bytes, over the limit of 1,048,576 "
        "(raise max-file-size in [tool.dbcheck], or exclude the file)"]
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\nmax-file-size = 8_000_000\n")
    proc = _run([".", "--no-cache"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "All checks passed!\n"  # the summary, and nothing else


def test_non_utf8_file_name_and_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    name = os.fsdecode(b"mod\xe9l.py")
    (tmp_path / name).write_text("from sqlalchemy import select\nx = (\n")
    proc = _run(["."], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    # printed with the undecodable byte escaped, never a UnicodeEncodeError
    assert "DBC001" in proc.stdout and "mod\\udce9l.py" in proc.stdout

    (tmp_path / "locked.py").write_text("x = 1\n")
    from dbcheck import engine

    real_read = engine.read_regular_file

    def refuse(path, limit):
        if os.path.basename(path) == "locked.py":
            raise PermissionError(13, "Permission denied")
        return real_read(path, limit)

    monkeypatch.setattr(engine, "read_regular_file", refuse)
    monkeypatch.chdir(tmp_path)
    result = analyze([Path(".")], load_config(start=tmp_path))
    assert [f for f in result.findings if f.code == "DBC000"] == [
        Finding("locked.py", 1, 1, "DBC000", "not analysed: cannot read this file (Permission denied)")]


def test_file_deleted_during_the_run(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "gone.py").write_text("y = 2\n")
    from dbcheck import engine

    real_scan = engine.scan_files

    def scan_then_delete(files, *args, **kwargs):
        (tmp_path / "gone.py").unlink()
        return real_scan(files, *args, **kwargs)

    monkeypatch.setattr(engine, "scan_files", scan_then_delete)
    monkeypatch.chdir(tmp_path)
    result = engine.analyze([Path(".")], load_config(start=tmp_path))
    # a file gone since the folder was listed is no longer part of the project
    assert not result.errors and not result.messages
    assert all(f.path != "gone.py" for f in result.findings)


def test_a_crashing_rule_is_one_error_line_and_exit_2(tmp_path, monkeypatch):
    from dbcheck import cli
    from dbcheck.rules.secrets import UnencryptedSecretColumn

    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    shutil.copy(REPO / "fixtures" / "saas" / "app" / "models" / "tokens.py", tmp_path / "tokens.py")

    def boom(self, index, config):
        raise RuntimeError("rule bug")

    monkeypatch.setattr(UnencryptedSecretColumn, "check", boom)
    monkeypatch.chdir(tmp_path)
    code = cli.main([".", "--no-cache", "--format", "json"])
    assert code == 2


def test_libcst_cannot_but_cpython_can_is_not_analysed_exit_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "chain.py").write_text("from sqlalchemy import select\nx = " + " and ".join(["a"] * 1500) + "\n")
    proc = _run([".", "--no-cache", "--format", "json"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert json.loads(proc.stdout) == []
    assert proc.stderr == "dbcheck: error: chain.py: not analysed: a boolean expression too long to analyse\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_same_findings_with_and_without_cache_and_workers(tmp_path, jobs):
    root = tmp_path / "p"
    shutil.copytree(REPO / "fixtures" / "saas", root, ignore=shutil.ignore_patterns(".dbcheck_cache"))
    # enough files to take the parallel path
    for i in range(60):
        (root / "app" / f"util_{i}.py").write_text(f"def helper_{i}(x):\n    return x * {i}\n")
    env = {"DBCHECK_JOBS": jobs}
    cold = _run([".", "--no-cache", "--format", "json"], root, env)
    first = _run([".", "--format", "json"], root, env)
    warm = _run([".", "--format", "json"], root, env)
    assert json.loads(cold.stdout) == json.loads(first.stdout) == json.loads(warm.stdout)
    assert json.loads(cold.stdout)
