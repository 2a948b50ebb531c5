"""Baselines: accepted findings stay silent through unrelated edits; new ones are reported."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_dbcheck

REPO = Path(__file__).resolve().parent.parent

MODELS = '''from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship()
'''

NEW_MODEL = '''

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship()
    api_token: Mapped[str]
'''


def _run(args, cwd):
    return run_dbcheck(args, cwd)


def test_only_new_findings_after_unrelated_edits(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    models = tmp_path / "models.py"
    models.write_text(MODELS)
    before = _run([".", "--format", "json"], tmp_path)
    assert {f["code"] for f in json.loads(before.stdout)} == {"DBC302", "DBC303"}

    written = _run([".", "--write-baseline", "baseline.json"], tmp_path)
    assert written.returncode == 0, written.stderr
    data = json.loads((tmp_path / "baseline.json").read_text())
    assert len(data["findings"]) == 2 and all("line" not in e for e in data["findings"])
    assert _run([".", "--baseline", "baseline.json"], tmp_path).returncode == 0

    # 20 blank lines above the accepted findings, and a new bad model
    source = models.read_text().replace("class Base(", "\n" * 20 + "class Base(")
    models.write_text(source + NEW_MODEL)
    after = _run([".", "--baseline", "baseline.json", "--format", "json"], tmp_path)
    assert after.returncode == 1
    assert [(f["code"], f["message"].split(" ")[0]) for f in json.loads(after.stdout)] == [("DBC201", "Note.api_token")]

    # the configuration key does the same, and a fixed finding leaves the baseline on rewrite
    (tmp_path / "pyproject.toml").write_text('[tool.dbcheck]\nbaseline = "baseline.json"\n')
    assert len(json.loads(_run([".", "--format", "json"], tmp_path).stdout)) == 1
    models.write_text(models.read_text().replace('ForeignKey("users.id"))', 'ForeignKey("users.id", ondelete="CASCADE"))'))
    _run([".", "--write-baseline", "baseline.json"], tmp_path)
    codes = sorted(e["code"] for e in json.loads((tmp_path / "baseline.json").read_text())["findings"])
    assert codes == ["DBC201", "DBC303"]


def test_broken_baseline_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "baseline.json").write_text("{not json")
    proc = _run([".", "--baseline", "baseline.json"], tmp_path)
    assert proc.returncode == 2 and "not a dbcheck baseline" in proc.stderr and "Traceback" not in proc.stderr
