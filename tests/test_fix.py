"""--fix / --unsafe-fixes / --diff: formatting kept, atomic, only code that parses,
idempotent, and the fixed models still build the same MetaData plus the new indexes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbcheck.fix import plan_fixes
from dbcheck.findings import SAFE, Edit, Finding, Fix

pytestmark = pytest.mark.slow

from tests.helpers import copy_fixture, run_dbcheck

REPO = Path(__file__).resolve().parent.parent


def _run(args, cwd):
    return run_dbcheck(args, cwd)


def _findings(cwd) -> list[tuple]:
    return [(f["path"], f["code"], f["message"]) for f in json.loads(_run([".", "--format", "json", "--no-cache"], cwd).stdout)]


def _metadata(root: Path) -> dict:
    code = (
        "import json, sys, importlib, pkgutil\n"
        "sys.path.insert(0, '.')\n"
        "import app.models as m\n"
        "for info in pkgutil.walk_packages(m.__path__, 'app.models.'):\n"
        "    if not info.name.endswith('broken'):\n"
        "        importlib.import_module(info.name)\n"
        "from app.db import Base\n"
        "out = {t.name: {'columns': sorted((c.name, c.nullable) for c in t.columns),\n"
        "                'indexes': sorted(tuple(c.name for c in i.columns) for i in t.indexes)}\n"
        "       for t in Base.metadata.tables.values()}\n"
        "print(json.dumps(out, sort_keys=True))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_fix_on_the_fixture_project(tmp_path):
    root = copy_fixture("saas", tmp_path)
    before = _findings(root)
    meta_before = _metadata(root)
    assert any(code == "DBC303" for _p, code, _m in before)

    diff = _run([".", "--diff", "--no-cache"], root)
    assert diff.returncode == 1 and "+" in diff.stdout and "index=True" in diff.stdout
    assert _findings(root) == before  # --diff writes nothing

    fixed = _run([".", "--fix", "--no-cache"], root)
    assert "Traceback" not in fixed.stderr and "fixed" in fixed.stderr
    after = _findings(root)
    removed = [f for f in before if f not in after]
    assert after == [f for f in before if f[1] != "DBC303" or f in after]
    assert removed and all(code == "DBC303" for _p, code, _m in removed)
    assert not [f for f in after if f not in before]

    for path in root.rglob("*.py"):
        if path.name != "broken.py":
            compile(path.read_text(), str(path), "exec")
    meta_after = _metadata(root)
    assert meta_after.keys() == meta_before.keys()
    for name, table in meta_after.items():
        assert table["columns"] == meta_before[name]["columns"]
        assert set(map(tuple, meta_before[name]["indexes"])) <= set(map(tuple, table["indexes"]))
    assert any(len(meta_after[t]["indexes"]) > len(meta_before[t]["indexes"]) for t in meta_after)

    snapshot = {p: p.read_text() for p in root.rglob("*.py")}
    again = _run([".", "--fix", "--no-cache"], root)
    assert "fixed" not in again.stderr
    assert {p: p.read_text() for p in root.rglob("*.py")} == snapshot


def test_unsafe_fixes_add_ondelete_and_not_null(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "models.py").write_text(
        "from typing import Optional\n"
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n"
        "class Base(DeclarativeBase): pass\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "class Task(Base):\n"
        "    __tablename__ = 'tasks'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey('users.id'), index=True)  # keep me\n"
        "    user: Mapped[User] = relationship()\n")
    safe = _run([".", "--fix", "--no-cache"], tmp_path)
    assert "fixed" not in safe.stderr  # nothing safe to do
    _run([".", "--fix", "--unsafe-fixes", "--no-cache"], tmp_path)
    line = (tmp_path / "models.py").read_text().splitlines()[10]
    assert line == ("    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey('users.id', ondelete=\"CASCADE\"), "
                    "index=True, nullable=False)  # keep me")
    assert not {f[1] for f in _findings(tmp_path)} & {"DBC102", "DBC302"}


COLUMN_STYLES = st.sampled_from([
    "{n}: Mapped[int] = mapped_column(ForeignKey('parents.id', ondelete='CASCADE'))",
    "{n}: Mapped[int] = mapped_column(\n        ForeignKey('parents.id', ondelete='CASCADE'),\n    )",
    "{n}: Mapped[int] = mapped_column(ForeignKey('parents.id', ondelete='CASCADE'), nullable=False)  # note",
    "{n} = Column(Integer, ForeignKey('parents.id', ondelete='CASCADE'))",
    "{n} = Column(\n        Integer,\n        ForeignKey('parents.id', ondelete='CASCADE')\n    )",
    "{n}: Mapped[str] = mapped_column(String(20))",
    "{n}: Mapped[int] = mapped_column(ForeignKey('parents.id', ondelete='CASCADE'), index=False)",
])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(COLUMN_STYLES, min_size=1, max_size=6))
def test_generated_models_round_trip(tmp_path_factory, styles):
    root = tmp_path_factory.mktemp("gen")
    columns = "\n    ".join(style.format(n=f"c{i}") for i, style in enumerate(styles))
    source = (
        "from sqlalchemy import Column, ForeignKey, Integer, String\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "class Base(DeclarativeBase): pass\n"
        "class Parent(Base):\n"
        "    __tablename__ = 'parents'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "class Child(Base):\n"
        "    __tablename__ = 'children'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        f"    {columns}\n"
    )
    lines = source.splitlines()
    findings = [Finding("gen.py", i + 1, 5, "DBC303", "", Fix(SAFE, (Edit("index", i + 1, (f"ix_{i}", f"c{i}")),)))
                for i, line in enumerate(lines) if line.strip().startswith("c") and "ForeignKey" in line]
    (root / "gen.py").write_text(source)
    plans = plan_fixes(findings, False, read=lambda p: (root / p).read_text())
    # a column that states index= itself is left to its author
    assert bool(plans) == any("index=" not in lines[f.line - 1] for f in findings)
    for plan in plans:
        compile(plan.after, "gen.py", "exec")
        assert plan.after.count("index=True") == len(plan.fixed)
        # a second pass over the fixed text changes nothing
        again = plan_fixes(findings, False, read=lambda p, text=plan.after: text)
        assert all(p.after.count("index=True") == plan.after.count("index=True") for p in again)


def test_fix_removes_unused_noqa_codes(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dbcheck]\nextend-select = ["DBC900"]\nglobal-tables = ["t"]\n')
    source = (
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "class Base(DeclarativeBase): pass\n"
        "class T(Base):\n"
        "    __tablename__ = 't'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)  # noqa: DBC305\n"
        "    a_id: Mapped[int] = mapped_column(ForeignKey('a.id', ondelete='CASCADE'), index=True)  # noqa: DBC303, E501\n"
        "    b_id: Mapped[int] = mapped_column(ForeignKey('b.id', ondelete='CASCADE'))  # noqa: DBC303\n"
    )
    (tmp_path / "models.py").write_text(source)
    assert {f[1] for f in _findings(tmp_path)} == {"DBC900"}
    _run([".", "--fix", "--no-cache"], tmp_path)
    lines = (tmp_path / "models.py").read_text().splitlines()
    assert lines[5] == "    id: Mapped[int] = mapped_column(primary_key=True)"
    assert lines[6].endswith("index=True)  # noqa: E501")
    assert lines[7].endswith("ondelete='CASCADE'))  # noqa: DBC303")  # still suppresses a finding
    assert _findings(tmp_path) == []


FALLBACK = '''from typing import Annotated
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

project_fk = Annotated[int, mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))]


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[project_fk]


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = ({"comment": "notes"},)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[project_fk]
'''


def test_columns_that_cannot_take_index_true_get_an_index_in_table_args(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dbcheck]\nglobal-tables = ["tasks", "notes"]\n')
    (tmp_path / "models.py").write_text(FALLBACK)
    assert [f[1] for f in _findings(tmp_path) if f[1] == "DBC303"] == ["DBC303", "DBC303"]
    _run([".", "--fix", "--no-cache"], tmp_path)
    text = (tmp_path / "models.py").read_text()
    assert '    __table_args__ = (Index("ix_tasks_project_id", "project_id"),)' in text
    assert '__table_args__ = (Index("ix_notes_project_id", "project_id"), {"comment": "notes"},)' in text
    assert "from sqlalchemy import Index" in text
    assert not [f for f in _findings(tmp_path) if f[1] == "DBC303"]
    code = ("import sys; sys.path.insert(0, '.'); import models; "
            "print(sorted(i.name for t in models.Base.metadata.tables.values() for i in t.indexes))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "['ix_notes_project_id', 'ix_tasks_project_id']", out.stderr


def test_fixes_come_from_the_check_not_the_message(tmp_path, monkeypatch):
    """Rewording a message changes no fix: the check attached it (in-process, so the
    reworded template is the one the rules run)."""
    from dbcheck import cli
    from dbcheck.rules.relations import ForeignKeyWithoutIndex

    monkeypatch.setattr(ForeignKeyWithoutIndex, "message", "reworded: {label} needs {index} on {column}")
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\nglobal-tables = [\"t\", \"a\"]\n")
    (tmp_path / "m.py").write_text(
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n"
        "class Base(DeclarativeBase): pass\n"
        "class A(Base):\n"
        "    __tablename__ = 'a'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "class T(Base):\n"
        "    __tablename__ = 't'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    a_id: Mapped[int] = mapped_column(ForeignKey('a.id', ondelete='CASCADE'))\n"
        "    a: Mapped[A] = relationship()\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main([".", "--fix", "--no-cache"]) == 0
    assert "mapped_column(ForeignKey('a.id', ondelete='CASCADE'), index=True)" in (tmp_path / "m.py").read_text()


def test_every_attached_fix_is_of_the_safety_its_rule_declares():
    from dbcheck.rules import ALL_RULES
    from dbcheck.schema.model import Location

    for rule_class in ALL_RULES:
        rule = rule_class()
        for safety in (SAFE, "unsafe"):
            fix = Fix(safety, ())
            if safety == rule.fix:
                continue
            with pytest.raises(TypeError, match="declares fixes"):
                rule.finding(Location("x.py", 1, 1), fix=fix, **_fields(rule))
        assert rule.fix_safety().startswith(("Safe fix", "Unsafe fix", "No automatic fix"))
        assert rule.fix_safety() in rule.documentation()


def _fields(rule) -> dict:
    import string

    return {name: "x" for _t, name, _s, _c in string.Formatter().parse(rule.message) if name}
