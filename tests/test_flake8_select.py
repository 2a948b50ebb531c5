"""flake8's own selection turns on the codes dbcheck leaves off unless named (DBC900):
``flake8 --select DBC900`` shows the unused ``# noqa``, ``flake8 --select DBC`` does not,
as ``dbcheck --select DBC900`` and ``dbcheck --select DBC`` do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from dbcheck.flake8_plugin import DbcheckPlugin, opt_in_selectors
from tests.helpers import REPO, run_dbcheck
from tests.helpers import write_project as _write_project

MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()  # noqa: DBC501
'''


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    return _write_project(root, {"pyproject.toml": '[tool.dbcheck]\nglobal-tables = ["projects"]\n',
                                 "app/__init__.py": "", "app/models.py": MODELS})


def _flake8(root: Path, *args: str) -> set[tuple[str, int, str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO), DBCHECK_CACHE_DIR=str(root.parent / "cache"))
    proc = subprocess.run([sys.executable, "-m", "flake8", "--format", "%(path)s\t%(row)d\t%(code)s", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    return {(os.path.normpath(path), int(row), code) for path, row, code in rows}


def _cli(root: Path, *args: str) -> set[tuple[str, int, str]]:
    result = run_dbcheck([".", "--no-cache", "--format", "json", *args], cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return {(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)}


def _noqa_line() -> int:
    return next(n for n, line in enumerate(MODELS.splitlines(), 1) if "noqa" in line)  # as written


def test_the_selectors_that_name_an_opt_in_code():
    assert opt_in_selectors(["DBC900"]) == ("DBC900",)
    assert opt_in_selectors(["E", "dbc9", " DBC90 "]) == ("DBC9", "DBC90")
    assert opt_in_selectors(["DBC", "DBC5", "DBC901", "E", "DB"]) == ()
    assert opt_in_selectors([]) == ()


def test_parse_options_reads_select_and_extend_select(monkeypatch):
    monkeypatch.setattr(DbcheckPlugin, "_selected_opt_in", ())
    DbcheckPlugin.parse_options(SimpleNamespace(select=["E", "F"], extend_select=["DBC900"]))
    assert DbcheckPlugin._selected_opt_in == ("DBC900",)
    DbcheckPlugin.parse_options(SimpleNamespace(select=None, extend_select=None))
    assert DbcheckPlugin._selected_opt_in == ()


def test_in_process_the_plugin_makes_what_flake8_selects(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setenv("DBCHECK_NO_CACHE", "1")
    monkeypatch.setattr(DbcheckPlugin, "_projects", {})
    lines = (project / "app" / "models.py").read_text().splitlines(keepends=True)

    def codes(selected: tuple[str, ...]) -> list[tuple[int, str]]:
        monkeypatch.setattr(DbcheckPlugin, "_selected_opt_in", selected)
        return [(row, text.split()[0]) for row, _col, text, _type in DbcheckPlugin(None, "app/models.py", lines).run()]

    assert (_noqa_line(), "DBC900") not in codes(())
    assert (_noqa_line(), "DBC900") in codes(("DBC9",))


@pytest.mark.slow
def test_flake8_select_dbc900_shows_the_unused_noqa(project):
    expected = {("app/models.py", _noqa_line(), "DBC900")}
    assert _flake8(project, "--select", "DBC900", "app/models.py") == expected
    assert _cli(project, "--select", "DBC900") == expected
    assert _flake8(project, "--select", "DBC90", ".") == expected
    assert ("app/models.py", _noqa_line(), "DBC900") in _flake8(project, "--select", "E,F,DBC", "--extend-select",
                                                                "DBC9", "app/models.py")


@pytest.mark.slow
def test_flake8_select_dbc_does_not(project):
    assert not any(code == "DBC900" for _p, _r, code in _flake8(project, "--select", "DBC", "app/models.py"))
    assert not any(code == "DBC900" for _p, _r, code in _cli(project, "--select", "DBC"))
