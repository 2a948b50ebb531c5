"""Proof that the fixtures' DBC304 / DBC305 cases really break SQLAlchemy, and that
everything else in the fixtures really maps.

Needs SQLAlchemy, Flask-SQLAlchemy, SQLModel and sqlalchemy-utils, never dbcheck.

- DBC305 (missing primary key): executing the module raises ``ArgumentError`` when
  the class is created.
- DBC304 (broken relationship): the module imports, and ``registry.configure()``
  raises (``InvalidRequestError`` / ``ArgumentError`` / ``NoForeignKeysError``).
- Every other fixture module imports and ``configure_mappers()`` succeeds.
- The DBC001 module fails to compile on the line labelled ``# expect: DBC001``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm import registry as Registry

from tests.oracle import on_path

pytestmark = pytest.mark.oracle

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SAAS = FIXTURES / "saas"
BROKEN_DIR = SAAS / "app" / "broken_models"

LABEL = re.compile(r"#\s*(?P<body>(?:expect|ok)\s*:.*)$")
CLAUSE = re.compile(r"(expect|ok)\s*:\s*([A-Z0-9, ]+)")

# module -> (exception type, text the message must contain)
DBC305_CASES = {
    "app.broken_models.missing_pk": (sa_exc.ArgumentError, "could not assemble any primary key columns"),
    "app.broken_models.missing_pk_legacy": (sa_exc.ArgumentError, "could not assemble any primary key columns"),
}
DBC304_CASES = {
    "app.broken_models.unknown_target": (sa_exc.InvalidRequestError, "failed to locate a name ('StaffMember')"),
    "app.broken_models.unknown_annotation": (sa_exc.InvalidRequestError, "failed to locate a name ('Campaign')"),
    "app.broken_models.bad_back_populates": (sa_exc.InvalidRequestError, "has no property 'section'"),
    "app.broken_models.back_populates_mismatch": (sa_exc.ArgumentError, "which does not reference mapper"),
    "app.broken_models.back_populates_column": (sa_exc.InvalidRequestError, "that is not a relationship"),
    "app.broken_models.no_fk_path": (sa_exc.NoForeignKeysError, "no foreign keys linking these tables"),
}

# fixture root -> its top-level package
PROJECT_PACKAGES = {
    SAAS: "app",
    FIXTURES / "flask_app": "helpdesk",
    FIXTURES / "sqlmodel_app": "notes",
}


def labels(path: Path) -> dict[int, dict[str, set[str]]]:
    """line -> {"expect": codes, "ok": codes} for one fixture file."""
    found: dict[int, dict[str, set[str]]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = LABEL.search(line)
        if not match:
            continue
        entry = found.setdefault(number, {"expect": set(), "ok": set()})
        for kind, codes in CLAUSE.findall(match.group("body")):
            entry[kind].update(code.strip() for code in codes.split(",") if code.strip())
    return found


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sqlmodel_cleanup() -> None:
    sqlmodel_main = sys.modules.get("sqlmodel.main")
    if sqlmodel_main is None:
        return
    sqlmodel_main.default_registry.dispose()
    sqlmodel_main.SQLModel.metadata.clear()


# --------------------------------------------------------------------------- the catalogue


def test_every_broken_module_has_a_test_and_every_label_is_covered() -> None:
    """The case tables above and the fixtures' ``# expect: DBC304/DBC305`` labels agree."""
    modules = {
        module_name(SAAS, path)
        for path in BROKEN_DIR.glob("*.py")
        if path.name != "__init__.py"
    }
    assert modules == set(DBC304_CASES) | set(DBC305_CASES)

    for path in sorted(FIXTURES.rglob("*.py")):
        for line, entry in labels(path).items():
            mapping_codes = entry["expect"] & {"DBC304", "DBC305"}
            if not mapping_codes:
                continue
            rel = path.relative_to(FIXTURES)
            assert "broken_models" in rel.parts, (
                f"{rel}:{line}: a DBC304/DBC305 case outside broken_models/ would break the importable models"
            )
            name = module_name(SAAS, path)
            if "DBC305" in mapping_codes:
                assert name in DBC305_CASES, f"{rel}:{line}: DBC305 label in a module not tested as DBC305"
            if "DBC304" in mapping_codes:
                assert name in DBC304_CASES, f"{rel}:{line}: DBC304 label in a module not tested as DBC304"

    for name in set(DBC304_CASES) | set(DBC305_CASES):
        path = SAAS / (name.replace(".", "/") + ".py")
        expected = {code for entry in labels(path).values() for code in entry["expect"]}
        wanted = "DBC305" if name in DBC305_CASES else "DBC304"
        assert expected == {wanted}, f"{path.relative_to(REPO)}: labels {sorted(expected)}, want only {wanted}"


# --------------------------------------------------------------------------- DBC305


@pytest.mark.parametrize("module", sorted(DBC305_CASES))
def test_dbc305_mapping_fails_without_primary_key(module: str) -> None:
    error, text = DBC305_CASES[module]
    with on_path(SAAS, "app"):
        with pytest.raises(error) as info:
            importlib.import_module(module)
    assert text in str(info.value)


# --------------------------------------------------------------------------- DBC304


@pytest.mark.parametrize("module", sorted(DBC304_CASES))
def test_dbc304_configure_fails(module: str) -> None:
    error, text = DBC304_CASES[module]
    with on_path(SAAS, "app"):
        mod = importlib.import_module(module)  # class creation succeeds
        registry = mod.Base.registry
        try:
            with pytest.raises(error) as info:
                registry.configure()
            assert text in str(info.value)
        finally:
            registry.dispose()  # leave no failed mapper behind for configure_mappers()


# --------------------------------------------------------------------------- the rest maps


def _importable(root: Path, package: str) -> list[str]:
    names = []
    for path in sorted((root / package).rglob("*.py")):
        if "broken_models" in path.relative_to(root).parts:
            continue
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError:
            continue
        names.append(module_name(root, path))
    return names


@pytest.mark.parametrize("root", sorted(PROJECT_PACKAGES), ids=lambda p: p.name)
def test_importable_fixture_modules_import_and_configure(root: Path) -> None:
    package = PROJECT_PACKAGES[root]
    modules = _importable(root, package)
    assert modules
    try:
        with on_path(root, package):
            for name in modules:
                importlib.import_module(name)
            configure_mappers()
            for name in modules:
                for value in vars(sys.modules[name]).values():
                    registry = getattr(value, "registry", None)
                    if isinstance(registry, Registry):
                        registry.configure()  # each registry on its own, too
    finally:
        if package == "notes":
            _sqlmodel_cleanup()


def test_only_the_dbc001_module_fails_to_compile() -> None:
    failing = []
    for path in sorted(FIXTURES.rglob("*.py")):
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as error:
            failing.append((path.relative_to(FIXTURES).as_posix(), error.lineno))
    assert [p for p, _ in failing] == ["saas/app/models/broken.py"]


def test_dbc001_label_is_on_cpythons_error_line() -> None:
    path = SAAS / "app" / "models" / "broken.py"
    with pytest.raises(SyntaxError) as info:
        compile(path.read_bytes(), str(path), "exec")
    labelled = [line for line, entry in labels(path).items() if "DBC001" in entry["expect"]]
    assert labelled == [info.value.lineno]
