"""What the project model index knows about the schema: tables, columns, keys, indexes
and relationships, each carrying the place it was declared so a rule can report there."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

_PATH = operator.attrgetter("location.path")


class Location(NamedTuple):
    """Where something is declared (a named tuple: the index makes one per column)."""

    path: str
    line: int
    column: int = 1


@dataclass
class ForeignKeyModel:
    target_table: Optional[str]  # None when the target cannot be read statically
    target_column: Optional[str]
    ondelete: Optional[str]
    ondelete_stated: bool
    location: Location

    @property
    def target(self) -> str:
        return f"{self.target_table or '?'}.{self.target_column or '?'}"


@dataclass
class ColumnModel:
    name: str  # the SQL column name
    attribute: Optional[str]  # the Python attribute on the model (None for Table() columns)
    type_name: Optional[str]  # the resolved SQL type, e.g. "String", "app.crypto.EncryptedText"
    type_kind: str  # "string" | "binary" | "json" | "other" | "unknown" (see index.types)
    encrypted: bool
    nullable: bool
    primary_key: bool
    unique: bool
    indexed: bool
    foreign_keys: list[ForeignKeyModel]
    location: Location
    declared_in: str  # the class (or "Table") that declares it: "OwnedMixin", "Task"
    from_library: bool = False  # synthesised from a known library base: no line to fix
    hashed_on_write: bool = False  # the model, or code building this model, hashes or encrypts what is stored
    # the project stores hashes under this name into objects of a class it does not show
    # (``new_user.password = hash_password(...)``): evidence for passwords, too weak for
    # tokens, which projects hash in one table and keep replayable in another
    hashed_by_name: bool = False


@dataclass
class IndexModel:
    name: Optional[str]
    columns: list[Optional[str]]  # None stands for an expression
    unique: bool
    location: Location
    expressions: list[str] = field(default_factory=list)  # e.g. "lower(email)"
    using: Optional[str] = None  # postgresql_using: "gin", "gist", ...

    @property
    def leading_column(self) -> Optional[str]:
        return self.columns[0] if self.columns else None


@dataclass
class RelationshipModel:
    attribute: str
    target: Optional[str]  # class name as written ("User", "app.models.User") or None if dynamic
    back_populates: Optional[str]
    backref: Optional[str]
    secondary: bool
    secondary_table: Optional[str]
    primaryjoin: bool
    foreign_keys: Optional[list[str]]  # column names named in foreign_keys=, None when absent
    primaryjoin_columns: list[str]
    viewonly: bool
    location: Location
    declared_in: str
    from_library: bool = False


@dataclass
class TableModel:
    """A mapped class or an imperative ``Table()``; several classes may share one table
    (single-table inheritance): then ``classes`` lists all of them."""

    name: Optional[str]  # None when the table name is computed at run time
    class_name: Optional[str]  # None for Table()
    qualname: Optional[str]  # module.Class
    location: Location  # class line / Table( line
    columns: list[ColumnModel] = field(default_factory=list)
    indexes: list[IndexModel] = field(default_factory=list)
    unique_constraints: list[IndexModel] = field(default_factory=list)
    primary_key_constraint: Optional[list[str]] = None
    relationships: list[RelationshipModel] = field(default_factory=list)
    extra_foreign_keys: list[tuple[list[str], ForeignKeyModel]] = field(default_factory=list)
    complete: bool = True  # every base and attribute understood: absence can be trusted
    variable: Optional[str] = None  # the module-level name a Table() is assigned to
    is_imperative: bool = False
    subclasses: list[str] = field(default_factory=list)  # single-table inheritance children
    parent_class: Optional[str] = None  # mapped parent (inheritance)
    mapper_primary_key: bool = False
    # association_proxy("shopping_list", "group_id") attributes: name -> (relationship, remote attribute)
    proxies: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """How the query analysis names the table: its name, or - computed at run time
        and not read off the code - its class (tenancy needs the columns, not the name)."""
        return self.name or f"<{self.qualname or self.class_name or '?'}>"

    def column(self, name: str) -> Optional[ColumnModel]:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def column_by_attribute(self, attribute: str) -> Optional[ColumnModel]:
        for col in self.columns:
            if col.attribute == attribute:
                return col
        return self.column(attribute)

    @property
    def primary_key(self) -> list[str]:
        if self.primary_key_constraint is not None:
            return list(self.primary_key_constraint)
        return [c.name for c in self.columns if c.primary_key]

    def leading_index_columns(self) -> set[str]:
        """Columns an index can serve on their own: the first column of every index,
        unique constraint and the primary key."""
        leading = {c.name for c in self.columns if c.indexed or c.unique}
        for idx in self.indexes + self.unique_constraints:
            if idx.leading_column:
                leading.add(idx.leading_column)
        pk = self.primary_key
        if pk:
            leading.add(pk[0])
        return leading

    def paths(self) -> set[str]:
        """Every file that declares a part of the table (a mixin's columns live in the
        mixin's file): where its findings can be reported."""
        found = {self.location.path}
        found.update(c.location.path for c in self.columns)
        found.update(fk.location.path for c in self.columns for fk in c.foreign_keys)
        found.update(i.location.path for i in self.indexes + self.unique_constraints)
        found.update(r.location.path for r in self.relationships)
        found.update(fk.location.path for _local, fk in self.extra_foreign_keys)
        return found

    def declared_in(self, paths: frozenset[str]) -> bool:
        """Whether any of ``paths`` declares a part of the table (``paths()`` meets
        them), without building the set: asked of every table on every focused run."""
        if self.location.path in paths or not paths.isdisjoint(map(_PATH, self.columns)):
            return True
        for column in self.columns:
            if column.foreign_keys and not paths.isdisjoint(map(_PATH, column.foreign_keys)):
                return True
        if not (paths.isdisjoint(map(_PATH, self.indexes)) and paths.isdisjoint(map(_PATH, self.unique_constraints))
                and paths.isdisjoint(map(_PATH, self.relationships))):
            return True
        return any(fk.location.path in paths for _local, fk in self.extra_foreign_keys)

    def all_foreign_keys(self) -> list[tuple[list[str], ForeignKeyModel]]:
        """Every FK as (local columns, key): column-level and constraint-level."""
        out = [([c.name], fk) for c in self.columns for fk in c.foreign_keys]
        return out + list(self.extra_foreign_keys)
