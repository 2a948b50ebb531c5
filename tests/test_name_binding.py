"""What a name in a model file means: a class body runs while the module is imported,
so it sees the bindings made so far, not the ones the module ends with. Netflix/dispatch
imports ``Service`` (a model), uses ``ForeignKey(Service.id)`` in a class body and later
defines a pydantic ``class Service`` for its API: the key is to the model's table.
Checked against the foreign keys SQLAlchemy itself builds from the same files."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.oracle import dbcheck_schema, on_path

pytest.importorskip("sqlalchemy")

BASE = '''
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
'''

SERVICE = '''
from sqlalchemy import Column, ForeignKey, Integer

from {package}.base import Base


class Project(Base):
    __tablename__ = "project"
    id = Column(Integer, primary_key=True)


class Service(Base):
    __tablename__ = "service"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True)
'''

# ``Service`` means the imported model in Signal's body and the API class afterwards;
# ``Child`` in an annotation is a forward reference (not evaluated under
# ``from __future__ import annotations``), so it means the class defined further down.
SIGNAL = '''
from __future__ import annotations

from typing import List

from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import Mapped, relationship

from {package}.base import Base
from {package}.service import Service


class Signal(Base):
    __tablename__ = "signal"
    id = Column(Integer, primary_key=True)
    oncall_service_id = Column(Integer, ForeignKey(Service.id, ondelete="SET NULL"), index=True)
    oncall_service = relationship(Service)
    children: Mapped[List[Child]] = relationship(back_populates="signal")


class Child(Base):
    __tablename__ = "signal_child"
    id = Column(Integer, primary_key=True)
    signal_id = Column(Integer, ForeignKey(Signal.id, ondelete="CASCADE"), nullable=False, index=True)
    signal: Mapped[Signal] = relationship(back_populates="children")


class Service:
    """What the API returns: shadows the model's name from here on."""

    name: str


import json  # noqa: E402 - an import after the class must not bring the model's name back


def describe(service: Service) -> str:
    return json.dumps(service.name)


def every_service(db):
    return db.query(Service).all()  # the API class: no query
'''


def _project(tmp_path: Path, package: str) -> Path:
    root = tmp_path / package
    (root / package).mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbcheck]\ntenant-column = "project_id"\ntenant-table = "project"\n')
    (root / package / "__init__.py").write_text("")
    for name, text in (("base", BASE), ("service", SERVICE), ("signal", SIGNAL)):
        (root / package / f"{name}.py").write_text(textwrap.dedent(text.format(package=package)))
    return root


def _sqlalchemy_keys(root: Path, package: str) -> dict[str, set[tuple[str, str]]]:
    with on_path(root, package):
        importlib.import_module(f"{package}.service")
        module = importlib.import_module(f"{package}.signal")
        module.Base.registry.configure()  # resolves the relationships; fails on a wrong target
        return {name: {(fk.parent.name, fk.target_fullname) for fk in table.foreign_keys}
                for name, table in module.Base.metadata.tables.items()}


def test_a_class_body_sees_the_names_bound_so_far(tmp_path):
    root = _project(tmp_path, "rebound")
    expected = _sqlalchemy_keys(root, "rebound")
    assert expected["signal"] == {("oncall_service_id", "service.id")}
    tables = dbcheck_schema(root)
    found = {name: {(c["name"], fk["target"]) for c in t["columns"] for fk in c["foreign_keys"]}
             for name, t in tables.items()}
    assert found == expected
    relationships = {(r["attribute"], r["target"]) for r in tables["signal"]["relationships"]}
    assert relationships == {("oncall_service", "Service"), ("children", "Child")}
    # in a function body, Service is the module's last binding of the name: the API class
    proc = subprocess.run([sys.executable, "-m", "dbcheck", ".", "--no-cache", "--select", "DBC5"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.stdout == "", proc.stdout
