"""SQLModel: ``class Hero(SQLModel, table=True)`` is mapped (without ``table=True`` it is
a pydantic schema), ``Field(...)`` declares a column, ``Relationship(...)`` a
relationship; SQLModel re-exports SQLAlchemy's query API (``select``, ``col``)."""

from __future__ import annotations

from dbcheck.dialects.base import BaseRole, DeclaredDialect

DIALECT = DeclaredDialect(
    name="sqlmodel",
    packages=(("sqlmodel", "sqlmodel"),),
    bases={"sqlmodel:SQLModel": BaseRole("sqlmodel", None)},
    mapped_keywords={"sqlmodel": "table"},
    relationship_functions=frozenset({"sqlmodel:Relationship"}),
    type_families=("sqlmodel:",),
)
