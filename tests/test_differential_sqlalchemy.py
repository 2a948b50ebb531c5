"""Differential test: the schema dbcheck extracts (without importing anything) must
equal the MetaData SQLAlchemy builds when the fixture models are really imported.

For every table of the importable fixture modules, compared with zero differences
allowed: column names, nullability, primary key, foreign-key targets ("table.column")
and ``ondelete`` per column, and the set of (leading column, unique) of all indexes and
unique constraints. Tables that dbcheck reports from ``broken_models/`` are ignored
(SQLAlchemy cannot build them; see test_mapper_failures.py).

Run ``python tests/test_differential_sqlalchemy.py [saas|flask_app|sqlmodel_app]`` to
print the SQLAlchemy side as JSON.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

pytestmark = pytest.mark.oracle

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"

# (leading column or None for an expression, unique)
IndexKey = tuple[Optional[str], bool]


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class FixtureProject:
    name: str
    package: str  # the top-level package inside fixtures/<name>/
    metadata: Callable[[], Any]  # called after the modules are imported

    @property
    def root(self) -> Path:
        return FIXTURES / self.name


def _saas_metadata() -> Any:
    return importlib.import_module("app.db").Base.metadata


def _flask_metadata() -> Any:
    return importlib.import_module("helpdesk.extensions").db.metadata


def _sqlmodel_metadata() -> Any:
    return importlib.import_module("sqlmodel").SQLModel.metadata


PROJECTS = {
    p.name: p
    for p in (
        FixtureProject("saas", "app", _saas_metadata),
        FixtureProject("flask_app", "helpdesk", _flask_metadata),
        FixtureProject("sqlmodel_app", "notes", _sqlmodel_metadata),
    )
}


def _is_excluded(rel: Path) -> bool:
    """broken_models/ fail at mapping by design; a module that does not compile is a DBC001 case."""
    return "broken_models" in rel.parts


def importable_modules(project: FixtureProject) -> list[str]:
    """Every module of the fixture package that is meant to be imported."""
    modules = []
    for path in sorted((project.root / project.package).rglob("*.py")):
        rel = path.relative_to(project.root)
        if _is_excluded(rel):
            continue
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError:
            continue  # the deliberately unparsable module (DBC001)
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


def _sqlmodel_state() -> tuple[Any, Any, set[str], int] | None:
    if "sqlmodel" not in sys.modules:
        return None
    sqlmodel = sys.modules["sqlmodel"]
    registry = sys.modules["sqlmodel.main"].default_registry
    return sqlmodel.SQLModel.metadata, registry, set(sqlmodel.SQLModel.metadata.tables), len(registry.mappers)


@contextlib.contextmanager
def imported(project: FixtureProject) -> Iterator[Any]:
    """Import the project's importable modules; yield its MetaData; undo everything."""
    root = str(project.root)
    before_modules = set(sys.modules)
    # SQLModel keeps one process-wide registry and MetaData: remember what was there.
    importlib.import_module("sqlmodel")
    sm_metadata, sm_registry, sm_tables, sm_mapper_count = _sqlmodel_state()
    from sqlalchemy.orm import registry as Registry

    sys.path.insert(0, root)
    registries: list[Any] = []
    try:
        for module in importable_modules(project):
            importlib.import_module(module)
        metadata = project.metadata()
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
        yield metadata
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(root)
        new_modules = [
            name
            for name in set(sys.modules) - before_modules
            if name == project.package or name.startswith(project.package + ".")
        ]
        for name in new_modules:
            module = sys.modules.pop(name)
            for value in vars(module).values():
                reg = getattr(value, "registry", None)
                if isinstance(reg, Registry) and reg is not sm_registry and reg not in registries:
                    registries.append(reg)
        for reg in registries:
            with contextlib.suppress(Exception):
                reg.dispose()
        for name in set(sm_metadata.tables) - sm_tables:
            sm_metadata.remove(sm_metadata.tables[name])
        if sm_mapper_count == 0 and len(sm_registry.mappers):
            sm_registry.dispose()


# --------------------------------------------------------------------------- shapes


@dataclass
class ColumnShape:
    nullable: bool
    foreign_keys: list[tuple[str, Optional[str]]]


@dataclass
class TableShape:
    columns: dict[str, ColumnShape] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    index_keys: set[IndexKey] = field(default_factory=set)


def _ondelete(value: Any) -> Optional[str]:
    return None if value is None else str(value).upper()


def _leading_sqlalchemy(expressions: list[Any]) -> Optional[str]:
    from sqlalchemy import Column

    if not expressions:
        return None
    first = expressions[0]
    if isinstance(first, str):
        return first
    if isinstance(first, Column):
        return first.name
    return None  # a functional / text expression


def sqlalchemy_schema(metadata: Any) -> dict[str, TableShape]:
    from sqlalchemy import UniqueConstraint

    schema: dict[str, TableShape] = {}
    for table in metadata.tables.values():
        shape = TableShape()
        for column in table.columns:
            shape.columns[column.name] = ColumnShape(
                nullable=bool(column.nullable),
                foreign_keys=sorted(
                    ((fk.target_fullname, _ondelete(fk.ondelete)) for fk in column.foreign_keys),
                    key=repr,
                ),
            )
        shape.primary_key = sorted(c.name for c in table.primary_key.columns)
        for index in table.indexes:
            shape.index_keys.add((_leading_sqlalchemy(list(index.expressions)), bool(index.unique)))
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                columns = list(constraint.columns)
                shape.index_keys.add((columns[0].name if columns else None, True))
        schema[table.name] = shape
    return schema


def _leading_dbcheck(columns: Any) -> Optional[str]:
    if not columns:
        return None
    first = columns[0]
    return first if isinstance(first, str) else None


def dbcheck_schema(payload: dict[str, Any]) -> tuple[dict[str, TableShape], list[str]]:
    """The shapes dbcheck reported, without broken_models/; and any structural problems."""
    problems: list[str] = []
    schema: dict[str, TableShape] = {}
    for table in payload.get("tables", []):
        path = Path(str(table.get("path", "")))
        if "broken_models" in path.parts:
            continue
        name = table.get("name")
        if name in schema:
            problems.append(f"dbcheck reports table {name!r} more than once (second: {path}:{table.get('line')})")
            continue
        shape = TableShape()
        declared_pk = set()
        for column in table.get("columns", []):
            shape.columns[column["name"]] = ColumnShape(
                nullable=bool(column.get("nullable")),
                foreign_keys=sorted(
                    ((fk.get("target"), _ondelete(fk.get("ondelete"))) for fk in column.get("foreign_keys", [])),
                    key=repr,
                ),
            )
            if column.get("primary_key"):
                declared_pk.add(column["name"])
        shape.primary_key = sorted(table.get("primary_key") or declared_pk)
        if table.get("primary_key") is not None and set(table["primary_key"]) != declared_pk:
            problems.append(
                f"{name}: table primary_key {sorted(table['primary_key'])} disagrees with the "
                f"columns marked primary_key {sorted(declared_pk)}"
            )
        for index in table.get("indexes", []):
            shape.index_keys.add((_leading_dbcheck(index.get("columns")), bool(index.get("unique"))))
        for constraint in table.get("unique_constraints", []):
            shape.index_keys.add((_leading_dbcheck(constraint.get("columns")), True))
        schema[name] = shape
    return schema, problems


def _fmt_keys(keys: set[IndexKey]) -> str:
    return ", ".join(f"({lead or '<expression>'}, {'unique' if uniq else 'non-unique'})" for lead, uniq in sorted(keys, key=repr))


def schema_diff(expected: dict[str, TableShape], actual: dict[str, TableShape]) -> list[str]:
    """Readable differences; ``expected`` is SQLAlchemy's, ``actual`` is dbcheck's."""
    diff: list[str] = []
    for name in sorted(set(expected) - set(actual)):
        diff.append(f"table {name}: in SQLAlchemy's MetaData, missing from dbcheck")
    for name in sorted(set(actual) - set(expected)):
        diff.append(f"table {name}: reported by dbcheck, not in SQLAlchemy's MetaData")
    for name in sorted(set(expected) & set(actual)):
        exp, act = expected[name], actual[name]
        for col in sorted(set(exp.columns) - set(act.columns)):
            diff.append(f"{name}.{col}: column missing from dbcheck")
        for col in sorted(set(act.columns) - set(exp.columns)):
            diff.append(f"{name}.{col}: column reported by dbcheck, not in SQLAlchemy")
        for col in sorted(set(exp.columns) & set(act.columns)):
            e, a = exp.columns[col], act.columns[col]
            if e.nullable != a.nullable:
                diff.append(f"{name}.{col}: nullable is {e.nullable} in SQLAlchemy, {a.nullable} in dbcheck")
            if e.foreign_keys != a.foreign_keys:
                diff.append(f"{name}.{col}: foreign keys {e.foreign_keys} in SQLAlchemy, {a.foreign_keys} in dbcheck")
        if exp.primary_key != act.primary_key:
            diff.append(f"{name}: primary key {exp.primary_key} in SQLAlchemy, {act.primary_key} in dbcheck")
        if exp.index_keys != act.index_keys:
            missing = exp.index_keys - act.index_keys
            extra = act.index_keys - exp.index_keys
            if missing:
                diff.append(f"{name}: indexes/unique constraints missing from dbcheck: {_fmt_keys(missing)}")
            if extra:
                diff.append(f"{name}: indexes/unique constraints only in dbcheck: {_fmt_keys(extra)}")
    return diff


def run_dbcheck_schema(project: FixtureProject, cache_dir: Path) -> dict[str, Any]:
    env = dict(os.environ, DBCHECK_CACHE_DIR=str(cache_dir))
    proc = subprocess.run(
        [sys.executable, "-m", "dbcheck", "schema", f"fixtures/{project.name}", "--format", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), f"dbcheck schema exited {proc.returncode}\nstderr:\n{proc.stderr}"
    try:
        payload = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"dbcheck schema did not print JSON ({exc})\nstdout:\n{proc.stdout[:2000]}\nstderr:\n{proc.stderr}")
    assert isinstance(payload, dict) and isinstance(payload.get("tables"), list), (
        f"dbcheck schema JSON must be an object with a 'tables' list, got: {str(payload)[:500]}"
    )
    return payload


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_sqlalchemy_side_builds(name: str) -> None:
    """The reference side alone: the fixture imports, maps and yields tables."""
    project = PROJECTS[name]
    with imported(project) as metadata:
        schema = sqlalchemy_schema(metadata)
    assert schema, f"{name}: no tables in the MetaData"
    assert all(shape.primary_key for shape in schema.values()), f"{name}: a table without a primary key"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_dbcheck_schema_equals_sqlalchemy_metadata(name: str, tmp_path: Path) -> None:
    project = PROJECTS[name]
    with imported(project) as metadata:
        expected = sqlalchemy_schema(metadata)
    actual, problems = dbcheck_schema(run_dbcheck_schema(project, tmp_path))
    diff = problems + schema_diff(expected, actual)
    if diff:
        pytest.fail(
            f"dbcheck's schema of fixtures/{name} differs from SQLAlchemy's MetaData "
            f"({len(diff)} difference(s)):\n  " + "\n  ".join(diff),
            pytrace=False,
        )


# --------------------------------------------------------------------------- debugging aid


def _shape_as_json(schema: dict[str, TableShape]) -> dict[str, Any]:
    return {
        name: {
            "columns": {
                col: {"nullable": c.nullable, "foreign_keys": [list(fk) for fk in c.foreign_keys]}
                for col, c in shape.columns.items()
            },
            "primary_key": shape.primary_key,
            "index_keys": sorted([list(k) for k in shape.index_keys], key=repr),
        }
        for name, shape in sorted(schema.items())
    }


if __name__ == "__main__":
    for wanted in sys.argv[1:] or sorted(PROJECTS):
        with imported(PROJECTS[wanted]) as md:
            print(json.dumps({wanted: _shape_as_json(sqlalchemy_schema(md))}, indent=2))
