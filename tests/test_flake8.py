"""The flake8 plugin reports exactly what the CLI reports, run through flake8 itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

from tests.helpers import copy_fixture

REPO = Path(__file__).resolve().parent.parent
PROJECTS = ["saas", "flask_app", "sqlmodel_app", "indexes_app"]


def _env(cache: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), DBCHECK_CACHE_DIR=str(cache))


def _flake8(args: list[str], cwd: Path, env: dict, stdin: str | None = None) -> set[tuple]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "DBC", "--format",
                           "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, input=stdin, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    out = set()
    for line in proc.stdout.splitlines():
        path, row, col, code, text = line.split("\t")
        out.add((os.path.normpath(path), int(row), int(col), code, text))
    return out


def _dbcheck(cwd: Path, env: dict, *paths: str) -> set[tuple]:
    proc = subprocess.run([sys.executable, "-m", "dbcheck", *(paths or (".",)), "--format", "json"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    return {(os.path.normpath(f["path"]), f["line"], f["column"], f["code"], f["message"])
            for f in json.loads(proc.stdout) if f["code"] != "DBC001"}


@pytest.mark.parametrize("name", PROJECTS)
def test_flake8_equals_cli(name, tmp_path):
    root = REPO / "fixtures" / name
    env = _env(tmp_path / "cache")
    expected = _dbcheck(root, env)
    assert expected
    assert _flake8(["."], root, env) == expected


def test_flake8_two_jobs_equals_cli(tmp_path):
    root = REPO / "fixtures" / "saas"
    env = _env(tmp_path / "cache")
    assert _flake8(["-j", "2", "."], root, env) == _dbcheck(root, env)


def test_unsaved_buffer_on_stdin(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "saas", root, ignore=shutil.ignore_patterns(".dbcheck_cache"))
    env = _env(tmp_path / "cache")
    target = Path("app/models/project.py")
    buffer = (root / target).read_text().replace("ondelete=", "onupdate=", 1)
    edited = _flake8(["--stdin-display-name", str(target), "-"], root, env, stdin=buffer)
    on_disk = {f for f in _dbcheck(root, env, str(target))}
    assert edited != on_disk  # the buffer, not the file on disk, was analysed
    assert any(code == "DBC302" for _p, _r, _c, code, _t in edited - on_disk)
    assert (root / target).read_text() != buffer


def test_model_change_is_seen_by_another_file(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "saas", root, ignore=shutil.ignore_patterns(".dbcheck_cache"))
    env = _env(tmp_path / "cache")
    query_file = "app/api/tasks.py"
    before = _flake8([query_file], root, env)
    assert any(code.startswith("DBC5") for _p, _r, _c, code, _t in before)
    # Task loses its tenant column (it came from a mixin): its queries are no longer
    # tenant-scoped reads, so findings in the *query* module change.
    models = root / "app" / "models" / "task.py"
    source = models.read_text()
    assert "class Task(OwnerColumnMixin, TimestampMixin, Model):" in source
    models.write_text(source.replace("class Task(OwnerColumnMixin, TimestampMixin, Model):",
                                     "class Task(TimestampMixin, Model):"))
    after = _flake8([query_file], root, env)
    assert after != before
    assert len(after) < len(before)
    models.write_text(source)
    assert _flake8([query_file], root, env) == before


def test_the_plugin_leaves_flake8s_garbage_collector_as_it_found_it(tmp_path, monkeypatch):
    """The analysis pauses the cyclic collector; inside flake8's own process it must be
    running again afterwards (and stay off if flake8 had turned it off)."""
    import gc

    from dbcheck.flake8_plugin import DbcheckPlugin

    root = copy_fixture("saas", tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setenv("DBCHECK_NO_CACHE", "1")
    monkeypatch.setattr(DbcheckPlugin, "_projects", {})
    target = "app/api/tasks.py"
    lines = (root / target).read_text().splitlines(keepends=True)
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            DbcheckPlugin._projects.clear()
            found = list(DbcheckPlugin(None, target, lines).run())
            assert found and gc.isenabled() is state
    finally:
        (gc.enable if was else gc.disable)()
