"""What a dialect - an ORM or a library that extends one - tells dbcheck, behind one
interface (``Dialect``). The schema builder, name resolution and the query analysis read
the union of every registered dialect (``dbcheck.dialects.KNOWLEDGE``), never a library's
names directly; a new dialect is one module declaring a ``DIALECT`` (see CONTRIBUTING.md).

Names are canonical: a library's qualified name ``sqlalchemy.orm.mapped_column`` becomes
``<prefix>:<last part>`` (``sa:mapped_column``) through ``packages``, so every re-export
and import style of one library means the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Optional, Protocol


class BaseRole(NamedTuple):
    """What inheriting a library base (or a class decorator) makes a class."""

    style: str  # "declarative" | "flask" | "sqlmodel": how its attributes map to columns
    is_root: Optional[bool]  # the declarative root itself (None: says nothing about it)


class LibraryColumn(NamedTuple):
    name: str
    type_name: str
    nullable: bool
    primary_key: bool
    foreign_key: Optional[str]  # "table.column"


class LibraryModel(NamedTuple):
    """A mapped base a library ships, with the columns it declares."""

    table: Optional[str]
    columns: tuple[LibraryColumn, ...]


class QueryApi(NamedTuple):
    """A query API as the query analysis reads it: which methods refine a statement,
    filter it, join, run it, or hand back one row."""

    pass_through: frozenset[str] = frozenset()  # return the statement, same FROM list
    filters: frozenset[str] = frozenset()  # where(...), filter(...)
    joins: frozenset[str] = frozenset()
    execute: frozenset[str] = frozenset()  # session methods that run a statement
    one_row: frozenset[str] = frozenset()  # hand back one row (an owner check can follow)
    terminal_read: frozenset[str] = frozenset()  # run the statement they are called on
    executor_functions: frozenset[str] = frozenset()  # functions that run the statement handed in
    subquery: frozenset[str] = frozenset()  # make it part of another statement
    db_methods: frozenset[str] = frozenset()  # methods of a session-owning object (Flask's db)


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    # import package -> the canonical prefix of its names
    @property
    def packages(self) -> tuple[tuple[str, str], ...]: ...

    # canonical base class -> what inheriting it makes a class
    @property
    def bases(self) -> Mapping[str, BaseRole]: ...

    # canonical class decorator -> what it makes the class it decorates
    @property
    def class_decorators(self) -> Mapping[str, BaseRole]: ...

    # calls that return a declarative base (``Base = declarative_base()``)
    @property
    def base_factories(self) -> frozenset[str]: ...

    # library bases that add methods, never columns (the class stays complete)
    @property
    def neutral_bases(self) -> frozenset[str]: ...

    # name prefixes whose bases add no columns dbcheck cannot see (``sa:``, ``typing:``)
    @property
    def neutral_families(self) -> tuple[str, ...]: ...

    @property
    def relationship_functions(self) -> frozenset[str]: ...

    # annotations that wrap a mapped attribute's type (``Mapped[int]``)
    @property
    def mapped_wrappers(self) -> frozenset[str]: ...

    @property
    def library_models(self) -> Mapping[str, LibraryModel]: ...

    # a class of this style is mapped only when it says so with this keyword (SQLModel's table=True)
    @property
    def mapped_keywords(self) -> Mapping[str, str]: ...

    # styles whose base is itself the root (Flask-SQLAlchemy's db.Model)
    @property
    def root_styles(self) -> frozenset[str]: ...

    # column types that encrypt what they store / that store a hash
    @property
    def encrypting_types(self) -> frozenset[str]: ...

    @property
    def hashing_types(self) -> frozenset[str]: ...

    # prefixes whose type names are SQL types (String, Text, LargeBinary...)
    @property
    def type_families(self) -> tuple[str, ...]: ...

    @property
    def query_api(self) -> QueryApi: ...



@dataclass(frozen=True)
class DeclaredDialect:
    """A dialect as plain data: a module declares one, leaving out what it adds nothing to."""

    name: str
    packages: tuple[tuple[str, str], ...] = ()
    bases: Mapping[str, BaseRole] = field(default_factory=dict)
    class_decorators: Mapping[str, BaseRole] = field(default_factory=dict)
    base_factories: frozenset[str] = frozenset()
    neutral_bases: frozenset[str] = frozenset()
    neutral_families: tuple[str, ...] = ()
    relationship_functions: frozenset[str] = frozenset()
    mapped_wrappers: frozenset[str] = frozenset()
    library_models: Mapping[str, LibraryModel] = field(default_factory=dict)
    mapped_keywords: Mapping[str, str] = field(default_factory=dict)
    root_styles: frozenset[str] = frozenset()
    encrypting_types: frozenset[str] = frozenset()
    hashing_types: frozenset[str] = frozenset()
    type_families: tuple[str, ...] = ()
    query_api: QueryApi = QueryApi()


def combine(dialects: tuple[Dialect, ...]) -> DeclaredDialect:
    """Every dialect's knowledge at once (what the rest of dbcheck reads)."""
    def union(attribute: str) -> frozenset[str]:
        return frozenset().union(*(getattr(d, attribute) for d in dialects))

    def merged(attribute: str) -> dict:
        out: dict = {}
        for dialect in dialects:
            out.update(getattr(dialect, attribute))
        return out

    api_fields = QueryApi._fields
    query_api = QueryApi(*(frozenset().union(*(getattr(d.query_api, f) for d in dialects)) for f in api_fields))
    return DeclaredDialect(
        name="+".join(d.name for d in dialects),
        packages=tuple(p for d in dialects for p in d.packages),
        bases=merged("bases"), class_decorators=merged("class_decorators"),
        base_factories=union("base_factories"), neutral_bases=union("neutral_bases"),
        neutral_families=tuple(dict.fromkeys(f for d in dialects for f in d.neutral_families)),
        relationship_functions=union("relationship_functions"), mapped_wrappers=union("mapped_wrappers"),
        library_models=merged("library_models"), mapped_keywords=merged("mapped_keywords"),
        root_styles=union("root_styles"), encrypting_types=union("encrypting_types"),
        hashing_types=union("hashing_types"),
        type_families=tuple(dict.fromkeys(f for d in dialects for f in d.type_families)),
        query_api=query_api,
    )
