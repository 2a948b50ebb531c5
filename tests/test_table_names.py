"""Table names a declarative base computes from the class name (``@declared_attr
__tablename__`` returning some spelling of ``cls.__name__``): dbcheck cannot run the
function, so it takes the spelling the project's foreign keys agree with. Checked
against the names SQLAlchemy itself gives the same models."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.oracle import dbcheck_schema, on_path

pytest.importorskip("sqlalchemy")

NAMING_HELPER = '''
import re


def resolve_table_name(name):
    names = re.split("(?=[A-Z])", name)
    return "_".join([x.lower() for x in names if x])
'''

SPLIT_AT_CAPITALS = '''
from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint, Table
from sqlalchemy.orm import DeclarativeBase, declared_attr, relationship

from {package}.naming import resolve_table_name


class Base(DeclarativeBase):
    @declared_attr.directive
    def __tablename__(cls):
        return resolve_table_name(cls.__name__)


class Project(Base):
    id = Column(Integer, primary_key=True)


class HTTPCheck(Base):
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True)
    project = relationship(Project)


class CheckResult(Base):
    id = Column(Integer, primary_key=True)
    check_id = Column(Integer, ForeignKey("h_t_t_p_check.id", ondelete="CASCADE"), nullable=False, index=True)
    check = relationship(HTTPCheck)


check_tags = Table(
    "check_tags",
    Base.metadata,
    Column("check_id", Integer, ForeignKey("h_t_t_p_check.id", ondelete="CASCADE")),
    Column("tag", Integer),
    PrimaryKeyConstraint("check_id", "tag"),
)
'''

SNAKE_CASE = '''
import re

from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import DeclarativeBase, declared_attr, relationship


class Base(DeclarativeBase):
    @declared_attr
    def __tablename__(cls) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Project(Base):
    id = Column(Integer, primary_key=True)


class ApiKey(Base):
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True)
    project = relationship(Project)


class KeyUse(Base):
    id = Column(Integer, primary_key=True)
    api_key_id = Column(Integer, ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False, index=True)
    api_key = relationship(ApiKey)
'''

# timesketch's base: ``as_declarative`` and a declared_attr whose parameter is ``self``
LOWERED_BY_SELF = '''
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import as_declarative, declared_attr, relationship


@as_declarative()
class Base:
    @declared_attr
    def __tablename__(self):
        return self.__name__.lower()

    id = Column(Integer, primary_key=True)


class Project(Base):
    pass


class SearchIndex(Base):
    project_id = Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True)
    project = relationship(Project)
'''


def _project(tmp_path: Path, package: str, models: str) -> Path:
    root = tmp_path / package
    (root / package).mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbcheck]\ntenant-column = "project_id"\ntenant-table = "project"\n')
    (root / package / "__init__.py").write_text("")
    (root / package / "naming.py").write_text(textwrap.dedent(NAMING_HELPER))
    (root / package / "models.py").write_text(textwrap.dedent(models.format(package=package)))
    return root


def _sqlalchemy_tables(root: Path, package: str) -> dict[str, dict[str, bool]]:
    with on_path(root, package):
        module = importlib.import_module(f"{package}.models")
        return {name: {c.name: c.nullable for c in table.columns}
                for name, table in module.Base.metadata.tables.items()}


def _dbcheck_tables(root: Path) -> dict[str, dict[str, bool]]:
    return {name: {c["name"]: c["nullable"] for c in t["columns"]} for name, t in dbcheck_schema(root).items()}


@pytest.mark.parametrize("package, models", [
    ("splitnames", SPLIT_AT_CAPITALS),
    ("snakenames", SNAKE_CASE),
    ("lowernames", LOWERED_BY_SELF),
])
def test_names_computed_from_the_class_name_match_sqlalchemy(tmp_path, package, models):
    root = _project(tmp_path, package, models)
    expected = _sqlalchemy_tables(root, package)
    assert _dbcheck_tables(root) == expected
    # the spellings differ only where names have consecutive capitals
    assert ("h_t_t_p_check" in expected) == (package == "splitnames")


def test_derived_names_put_the_models_under_the_tenancy_rules(tmp_path):
    root = _project(tmp_path, "splitnames", SPLIT_AT_CAPITALS)
    (root / "splitnames" / "views.py").write_text(textwrap.dedent('''
        from splitnames.models import HTTPCheck

        def get_check(session, check_id):
            return session.query(HTTPCheck).filter(HTTPCheck.id == check_id).first()
    '''))
    proc = subprocess.run([sys.executable, "-m", "dbcheck", ".", "--no-cache", "--select", "DBC1,DBC5"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    # CheckResult and check_tags are owned through NOT NULL keys (the table's primary
    # key constraint included); the unscoped read of a project-owned table is found.
    assert [line.split(" ")[1] for line in lines] == ["DBC501"], proc.stdout
    assert lines[0].startswith("splitnames/views.py:5:")


def test_without_evidence_the_name_stays_unknown(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (root / "models.py").write_text(textwrap.dedent('''
        from sqlalchemy import Column, Integer
        from sqlalchemy.orm import DeclarativeBase, declared_attr

        class Base(DeclarativeBase):
            @declared_attr.directive
            def __tablename__(cls):
                return pluralize(cls.__name__)

        class Person(Base):
            id = Column(Integer, primary_key=True)
    '''))
    assert list(_dbcheck_tables(root)) == [None]
