"""What one module's query analysis reads from the rest of the project.

The analysis of a module's functions is replayed from the last run's log (see
``dbcheck.flow.interpreter``) while everything it read is unchanged. It reads the project
through a ``RecordingIndex``, which notes each read together with a digest of what it
returned: the names it resolved (and the interface of the module each resolved into),
the mapped classes, the tables by name, and the bodies of the functions it followed.
Digests leave line numbers out, except for function bodies (the positions of a
helper's queries end up in its callers' logs), so moving a model down a file keeps
every log, and adding a column to one table invalidates only the modules whose
queries touched that table.
"""

from __future__ import annotations

import hashlib
import operator
from typing import TYPE_CHECKING, Any, Iterable, Optional

from dbcheck.facts.model import ModuleFacts, _without_positions
from dbcheck.semantic.symbols import ClassAttr, ClassRef, Function, FunctionBody, Lib, Symbol, SymbolTable, Value

if TYPE_CHECKING:
    from dbcheck.schema.index import ClassInfo, ProjectIndex
    from dbcheck.schema.model import TableModel


class Reads:
    """One analysis' reads, each kind a dict key -> digest of what was read."""

    __slots__ = ("bodies", "names", "heads", "classes", "tables", "mapped", "implementations", "subclasses",
                 "backrefs")
    KINDS = ("bodies", "names", "heads", "classes", "tables", "mapped", "implementations", "subclasses", "backrefs")

    def __init__(self) -> None:
        for kind in self.KINDS:
            setattr(self, kind, {})

    def update(self, other: "Reads") -> None:
        for kind in self.KINDS:
            getattr(self, kind).update(getattr(other, kind))

    def encode(self) -> tuple:
        return tuple(tuple(sorted(getattr(self, kind).items())) for kind in self.KINDS)


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode("utf-8", "surrogatepass")).hexdigest()[:20]


_ATOMS = frozenset({str, int, bool, float, type(None)})
_FIELDS: dict[type, Any] = {}  # model class -> a getter of its fields but its location


def _plain(value: object) -> object:
    """A model object (``dbcheck.schema.model``) as plain tuples, its declared
    locations left out. Runs over every column of the project after a model edit, so
    plain values are passed through without a call."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list or kind is tuple:
        return tuple([v if type(v) in _ATOMS else _plain(v) for v in value])  # type: ignore[attr-defined]
    getter = _FIELDS.get(kind)
    if getter is None:
        if not hasattr(value, "__dataclass_fields__"):
            return value
        names = [f for f in value.__dataclass_fields__ if f != "location"]
        getter = _FIELDS[kind] = operator.attrgetter(*names) if len(names) > 1 else (lambda v, n=names[0]: (getattr(v, n),))
    return tuple([v if type(v) in _ATOMS else _plain(v) for v in getter(value)])


class ProjectDigests:
    """Digests of the current project's parts, each computed once per run."""

    def __init__(self, index: "ProjectIndex") -> None:
        self.index = index
        self.by_path = {m.path: m for m in index.modules.values()}
        self._memo: dict[tuple[str, str], str] = {}
        self._tables: dict[int, str] = {}  # id(table) -> digest: classes and names share tables

    def current(self, kind: str, key: str) -> str:
        memo_key = (kind, key)
        found = self._memo.get(memo_key)
        if found is None:
            found = self._memo[memo_key] = self._compute(kind, key)
        return found

    def _compute(self, kind: str, key: str) -> str:
        index = self.index
        if kind == "bodies":
            module = self.by_path.get(key)
            return module.key if module is not None else ""
        if kind == "heads":
            module = self.by_path.get(key)
            return module.interface if module is not None else ""
        if kind == "names":
            return _digest(symbol_shape(index.symbols.resolve(key)))
        if kind == "classes":
            return _digest(self._class_shape(index.classes.get(key)))
        if kind == "tables":
            return _digest([self._table(table) for table in index.tables_named(key)])
        if kind == "mapped":
            return _digest([self._class_shape(info) for info in index.mapped_classes_named(key)])
        if kind == "implementations":
            return _digest(index.implementations_of(key))
        if kind == "subclasses":
            return _digest(index.subclasses_of(key))
        if kind == "backrefs":
            return _digest([self._table(table) for table in index.tables_with_backref(key)])
        raise ValueError(kind)

    def _table(self, table: Optional["TableModel"]) -> Optional[str]:
        if table is None:
            return None
        found = self._tables.get(id(table))
        if found is None:
            found = self._tables[id(table)] = _digest(_plain(table))
        return found

    def _class_shape(self, info: Optional["ClassInfo"]) -> object:
        """A mapped class as the analysis sees it, its table's columns and relationships
        included (they may come from a mixin or a parent in another module)."""
        if info is None:
            return None
        return (info.ref.qualname, info.style, info.is_root, info.abstract, info.mapped,
                self._table(info.table), info.complete,
                info.mapped_parent.ref.qualname if info.mapped_parent is not None else None,
                info.library_base, _without_positions(tuple(info.type_map)))

    def still_valid(self, encoded: tuple, interface_unchanged: bool = False) -> bool:
        """Whether every read of a log would read the same now. While no module's
        interface changed, nothing the index derives from them did: only the bodies
        followed need checking."""
        for kind, pairs in zip(Reads.KINDS, encoded):
            if interface_unchanged and kind != "bodies":
                continue
            for key, digest in pairs:
                if self.current(kind, key) != digest:
                    return False
        return True


def project_interface(modules: Iterable[ModuleFacts]) -> str:
    """One digest of every module's interface (and of which modules there are)."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(f"{module.path}\0{module.module}\0{module.interface}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def symbol_shape(sym: Symbol) -> object:
    if sym is None or isinstance(sym, Lib):
        return sym if sym is None else ("L", sym.name, sym.rest)
    if isinstance(sym, ClassRef):
        return ("C", sym.qualname)
    if isinstance(sym, ClassAttr):
        return ("A", sym.cls.qualname, sym.path)
    if isinstance(sym, Value):
        return ("V", sym.module.path, sym.name, _without_positions(sym.expr), sym.rest)
    if isinstance(sym, Function):
        return ("F", sym.module.path, sym.fact.name)
    if isinstance(sym, FunctionBody):
        return ("B", sym.module.path, sym.body.qualname)
    return ("?", type(sym).__name__)


def _symbol_module(sym: Symbol) -> Optional[ModuleFacts]:
    if isinstance(sym, ClassRef):
        return sym.module
    if isinstance(sym, ClassAttr):
        return sym.cls.module
    if isinstance(sym, (Value, Function, FunctionBody)):
        return sym.module
    return None


class RecordingIndex:
    """The parts of ``ProjectIndex`` the query analysis uses, each read noted in the
    ``Reads`` on top of the stack (nothing is noted while the stack is empty)."""

    def __init__(self, index: "ProjectIndex") -> None:
        self.index = index
        self.modules = index.modules
        self.tables = index.tables
        self.symbols = _RecordingSymbols(self)
        self.classes = _RecordingClasses(self)
        self.digests = ProjectDigests(index)
        self.stack: list[Reads] = []

    @property
    def tracking(self) -> bool:
        return bool(self.stack)

    def note(self, kind: str, key: str) -> None:
        if self.stack:
            reads = getattr(self.stack[-1], kind)
            if key not in reads:
                reads[key] = self.digests.current(kind, key)

    def open_reads(self) -> None:
        self.stack.append(Reads())

    def close_reads(self) -> object:
        return self.stack.pop()

    def merge_reads(self, reads: object) -> None:
        if self.stack and isinstance(reads, Reads):
            self.stack[-1].update(reads)

    def note_symbol(self, qualified: str, sym: Symbol) -> None:
        if not self.stack:
            return
        self.note("names", qualified)
        module = _symbol_module(sym)
        if module is not None:
            self.note("heads", module.path)

    def tables_named(self, name: str) -> list["TableModel"]:
        self.note("tables", name)
        return self.index.tables_named(name)

    def tables_with_backref(self, name: str) -> list["TableModel"]:
        self.note("backrefs", name)
        return self.index.tables_with_backref(name)

    def mapped_classes_named(self, class_name: str) -> list["ClassInfo"]:
        self.note("mapped", class_name)
        return self.index.mapped_classes_named(class_name)

    def implementations_of(self, qualname: str) -> list[str]:
        self.note("implementations", qualname)
        return self.index.implementations_of(qualname)

    def subclasses_of(self, qualname: str) -> list[str]:
        self.note("subclasses", qualname)
        return self.index.subclasses_of(qualname)


class _RecordingClasses:
    def __init__(self, owner: RecordingIndex) -> None:
        self.owner = owner

    def get(self, qualname: str, /) -> Optional["ClassInfo"]:
        info = self.owner.index.classes.get(qualname)
        self.owner.note("classes", qualname)
        if info is not None:
            self.owner.note("heads", info.ref.module.path)
        return info


class _RecordingSymbols:
    """The project's SymbolTable, each name it resolves noted."""

    # SymbolTable's own walks, through this object's resolve (which notes the name)
    lookup = SymbolTable.lookup
    lib_name = SymbolTable.lib_name

    def __init__(self, owner: RecordingIndex) -> None:
        self.owner = owner
        self.table = owner.index.symbols

    def resolve(self, qualified: str) -> Symbol:
        sym = self.table.resolve(qualified)
        self.owner.note_symbol(qualified, sym)
        return sym

    def extend(self, symbol: Symbol, tail: tuple[str, ...]) -> Symbol:
        return self.table.extend(symbol, tail)
