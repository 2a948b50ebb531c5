"""The project model index: every mapped class and table of the project, with the
lookups rules and the query analysis make. Built once per run (``dbcheck.schema.build``)
and never changed after: what a run wants to know about one file (the daemon's focus)
or to remember between runs (the query logs) is the engine's, not the index's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from dbcheck.facts.model import Expr, ModuleFacts
from dbcheck.schema.model import TableModel
from dbcheck.semantic.classes import attributes_in_mro, is_protocol
from dbcheck.semantic.symbols import ClassRef, SymbolTable

if TYPE_CHECKING:
    from dbcheck.schema.memory import BuildMemory


def camel_to_snake(name: str) -> str:
    """Flask-SQLAlchemy's automatic table name: ``ApiKey`` -> ``api_key``."""
    name = re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name)
    return name.lower().lstrip("_")


@dataclass
class ClassInfo:
    ref: ClassRef
    style: str  # "declarative" | "flask" | "sqlmodel" | "imperative-registry" | "none"
    is_root: bool = False  # the declarative base itself
    abstract: bool = False
    mapped: bool = False
    table: Optional[TableModel] = None
    complete: bool = True
    mapped_parent: Optional["ClassInfo"] = None
    library_base: Optional[str] = None
    type_map: list[tuple[Expr, Expr]] = field(default_factory=list)


_TEST_DOUBLE = re.compile(r"^(Fake|Mock|Stub|Dummy|InMemory)[A-Z_]")
_TEST_FOLDERS = frozenset({"fakes", "mocks", "stubs", "testing", "tests", "test"})


@dataclass(frozen=True)
class ProjectIndex:
    modules: dict[str, ModuleFacts]
    tables: list[TableModel]
    classes: dict[str, ClassInfo]  # qualname -> info
    symbols: SymbolTable
    class_names: set[str]
    unparsed_class_names: set[str] = field(default_factory=set)
    # what this build leaves for the next one in a long-lived process (see build_index)
    build_memory: Optional["BuildMemory"] = field(default=None, repr=False, compare=False)
    reused_tables: int = 0

    def __post_init__(self) -> None:
        # Lookups every rule makes per column or relationship: dictionaries, so a
        # project with thousands of tables is not quadratic.
        by_table_name: dict[Optional[str], list[TableModel]] = {}
        for table in self.tables:
            by_table_name.setdefault(table.name, []).append(table)
            if table.name is None:
                by_table_name.setdefault(table.key, []).append(table)
        mapped_by_name: dict[str, list[ClassInfo]] = {}
        classes_by_table: dict[int, list[ClassInfo]] = {}
        for info in self.classes.values():
            if info.mapped:
                mapped_by_name.setdefault(info.ref.fact.name, []).append(info)
                if info.table is not None:
                    classes_by_table.setdefault(id(info.table), []).append(info)
        by_backref: dict[str, list[TableModel]] = {}
        for table in self.tables:
            for rel in table.relationships:
                if rel.backref and table not in by_backref.get(rel.backref, ()):
                    by_backref.setdefault(rel.backref, []).append(table)
        object.__setattr__(self, "_by_backref", by_backref)
        object.__setattr__(self, "_by_table_name", by_table_name)
        object.__setattr__(self, "_mapped_by_name", mapped_by_name)
        object.__setattr__(self, "_classes_by_table", classes_by_table)

    def tables_named(self, name: str) -> list[TableModel]:
        return list(self._by_table_name.get(name, ()))  # type: ignore[attr-defined]

    def tables_with_backref(self, name: str) -> list[TableModel]:
        """The tables declaring a relationship whose ``backref=`` is ``name``."""
        return list(self._by_backref.get(name, ()))  # type: ignore[attr-defined]

    def subclasses_of(self, qualname: str) -> list[str]:
        """The project classes that name ``qualname`` among their bases, by qualname, sorted."""
        found = self.__dict__.get("_subclasses")
        if found is None:
            found = {}
            for info in self.classes.values():
                for base in info.ref.fact.bases:
                    sym = self.symbols.lookup(base)
                    if isinstance(sym, ClassRef):
                        found.setdefault(sym.qualname, []).append(info.ref.qualname)
            object.__setattr__(self, "_subclasses", found)
        return sorted(found.get(qualname, ()))

    def implementations_of(self, qualname: str) -> list[str]:
        """The project classes that name ``qualname`` among their bases (the classes
        implementing a ``Protocol``), by qualname, sorted."""
        explicit = self.subclasses_of(qualname)
        protocol = self.classes.get(qualname)
        if explicit or protocol is None:
            return explicit
        return self._structural_implementations(protocol)

    def _structural_implementations(self, protocol: ClassInfo) -> list[str]:
        """Classes that define every method a ``Protocol`` declares without naming it
        (skyvern's ``WorkflowReader``); test doubles (``Fake*``, ``fakes/``) are not."""
        wanted = [m for m in protocol.ref.fact.methods if not m.startswith("__")]
        if not wanted:
            return []
        by_method = self.__dict__.get("_by_method")
        if by_method is None:
            by_method = {}
            for info in self.classes.values():
                for method in info.ref.fact.methods:
                    by_method.setdefault(method, set()).add(info.ref.qualname)
            object.__setattr__(self, "_by_method", by_method)
        candidates = set.intersection(*(by_method.get(m, set()) for m in wanted)) - {protocol.ref.qualname}
        out = []
        for qualname in sorted(candidates):
            info = self.classes[qualname]
            name, path = info.ref.fact.name, info.ref.module.path.replace("\\", "/")
            if _TEST_DOUBLE.match(name) or any(part in _TEST_FOLDERS for part in path.split("/")):
                continue
            if is_protocol(self.symbols, info.ref.fact):
                continue  # another Protocol that extends it
            out.append(qualname)
        return out

    def mapped_classes_named(self, class_name: str) -> list[ClassInfo]:
        return list(self._mapped_by_name.get(class_name.rsplit(".", 1)[-1], ()))  # type: ignore[attr-defined]

    def classes_of_table(self, table: TableModel) -> list[ClassInfo]:
        return list(self._classes_by_table.get(id(table), ()))  # type: ignore[attr-defined]

    def class_attribute_kinds(self, info: ClassInfo) -> dict[str, str]:
        """attribute -> "column" | "relationship" | "other", own and inherited."""
        kinds: dict[str, str] = {}
        for attr, _owner in attributes_in_mro(self.symbols, info.ref, include_mapped=True):
            kinds[attr.name] = "other"
        table = info.table
        if table is not None:
            for col in table.columns:
                if col.attribute:
                    kinds[col.attribute] = "column"
            for rel in table.relationships:
                kinds[rel.attribute] = "relationship"
        return kinds
