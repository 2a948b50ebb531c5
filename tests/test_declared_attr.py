"""A mixin's ``@declared_attr`` column, as SQLAlchemy builds it: the value of the final
``return`` after statements that only prepare it (fief's ``ExpiresAt`` looks its default
up in a try block); where the returned value cannot be read off the code, the table is
marked incomplete so that rules needing certainty stay silent."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

from tests.oracle import dbcheck_schema, on_path

pytestmark = pytest.mark.oracle

pytest.importorskip("sqlalchemy")

MODELS = '''
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column


class Base(DeclarativeBase):
    pass


class ExpiresAt:
    @declared_attr
    def expires_at(cls) -> Mapped[datetime]:
        """When the row stops being valid."""
        try:
            default = getattr(cls, "__lifetime__")
        except AttributeError:
            default = None
        return mapped_column(DateTime, nullable=False, index=True, default=default)


class ViaLocal:
    @declared_attr
    def owner_id(cls) -> Mapped[int]:
        column = mapped_column(ForeignKey("owners.id"), nullable=False)
        return column


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)


class Session(ExpiresAt, Base):
    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)


class Grant(ViaLocal, Base):
    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
'''


def test_declared_attr_columns_match_sqlalchemy(tmp_path):
    root = tmp_path / "declared"
    (root / "declared").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbcheck]\ntenant-column = "owner_id"\ntenant-table = "owners"\n')
    (root / "declared" / "__init__.py").write_text("")
    (root / "declared" / "models.py").write_text(textwrap.dedent(MODELS))

    with on_path(root, "declared"):
        module = importlib.import_module("declared.models")
        expected = {name: {c.name: (c.nullable, bool(c.index)) for c in table.columns}
                    for name, table in module.Base.metadata.tables.items()}
    assert expected["sessions"]["expires_at"] == (False, True)

    tables = dbcheck_schema(root)
    sessions = tables["sessions"]
    indexed = {c for index in sessions["indexes"] for c in index["columns"]}
    assert sessions["complete"] is True
    assert {c["name"]: (c["nullable"], c["name"] in indexed) for c in sessions["columns"]} == expected["sessions"]
    # ``return column`` names a local: not followed, so the table is not judged as if
    # it had no owner_id (SQLAlchemy has it)
    assert "owner_id" in expected["grants"]
    assert tables["grants"]["complete"] is False

    proc = subprocess.run([sys.executable, "-m", "dbcheck", ".", "--no-cache", "--select", "DBC1"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert "grants" not in proc.stdout, proc.stdout
