"""Resolving a qualified name to what it is across the project: a class, a module-level
assignment, a column factory, or something from a library (given a canonical name such
as ``sa:Column`` so every re-export of SQLAlchemy means the same thing)."""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Protocol, Union

from dbcheck.dialects import KNOWLEDGE
from dbcheck.dialects.flask_sqlalchemy import DB_CLASS, DB_OBJECT
from dbcheck.facts.model import ClassFact, Expr, FunctionFact, FunctionIR, ModuleFacts

# Library packages -> the short prefix their names are canonicalised to (the dialects').
_LIBRARIES = KNOWLEDGE.packages
# Read by a resolution that met a cycle still under way: what it found depends on more
# than the modules noted, so nothing built from it is reused (never a module's name).
UNSETTLED = "<unsettled>"
_LIBRARY_ROOTS = frozenset(package for package, _prefix in _LIBRARIES)


def canonical(qualified: str) -> str:
    """``sqlalchemy.orm.mapped_column`` -> ``sa:mapped_column``; unknown -> ``ext:...``."""
    root = qualified.split(".", 1)[0]
    for package, prefix in _LIBRARIES:
        if root == package:
            return f"{prefix}:{qualified.rsplit('.', 1)[-1]}"
    return f"ext:{qualified}"


@dataclass(frozen=True)
class ClassRef:
    module: ModuleFacts
    fact: ClassFact

    @functools.cached_property
    def qualname(self) -> str:
        return f"{self.module.module}.{self.fact.name}"

    def __hash__(self) -> int:
        return hash(self.qualname)

    def __eq__(self, other: object) -> bool:
        return self is other or isinstance(other, ClassRef) and other.qualname == self.qualname


@dataclass(frozen=True)
class Lib:
    """Something from a library: ``sa:Column``; ``fsa:db`` is a Flask-SQLAlchemy instance."""

    name: str
    rest: tuple[str, ...] = ()


@dataclass(frozen=True)
class Value:
    """A module-level assignment the caller must interpret (declarative_base(), an
    Annotated alias, functools.partial, a Table())."""

    module: ModuleFacts
    name: str
    expr: Expr
    rest: tuple[str, ...] = ()


@dataclass(frozen=True)
class Function:
    module: ModuleFacts
    fact: FunctionFact


@dataclass(frozen=True)
class FunctionBody:
    """A module-level function with a body the query analysis can follow."""

    module: ModuleFacts
    body: "FunctionIR"


@dataclass(frozen=True)
class ClassAttr:
    cls: ClassRef
    path: tuple[str, ...]


Symbol = Union[ClassRef, Lib, Value, Function, FunctionBody, ClassAttr, None]


class SymbolLookup(Protocol):
    """What resolves names: the table itself, or a view that notes what it resolves."""

    def lookup(self, expr: Optional[Expr]) -> "Symbol": ...

    def resolve(self, qualified: str) -> "Symbol": ...

    def lib_name(self, expr: Optional[Expr]) -> Optional[str]: ...

    def extend(self, symbol: "Symbol", tail: tuple[str, ...]) -> "Symbol": ...


class SymbolTable:
    """Name resolution over every module of the project, memoised for one build."""

    def __init__(self, modules: dict[str, ModuleFacts], by_suffix: Optional[dict[str, Optional[str]]] = None) -> None:
        self.modules = modules
        self._memo: dict[str, Symbol] = {}
        # While reads are tracked (``track_reads``): each resolved name -> the modules its
        # resolution read, and the open ``reading`` frames collecting them.
        self._reads: Optional[dict[str, frozenset[str]]] = None
        self._frames: list[set[str]] = []
        # Files outside a regular package chain (namespace packages, sys.path tricks)
        # are also reachable by the dotted tails of their path: server/app/models.py
        # answers to "app.models". An ambiguous tail resolves to nothing. The tails come
        # from the absolute path: the shown one is relative to wherever dbcheck was run,
        # and `cd keep && dbcheck .` must still find keep/api/models/db/x.py (a namespace
        # package) as "keep.api.models.db.x". As from an import root, the file nearest
        # the root takes a tail several files share (old Faraday's server/models.py, not
        # persistence/server/models.py, is "server.models"); files equally near: nothing.
        # (``by_suffix``: the last build's, when the modules and their paths are the same)
        self._by_suffix: dict[str, Optional[str]] = by_suffix if by_suffix is not None else {}
        if by_suffix is not None:
            return
        nearest: dict[str, int] = {}
        for key, facts in modules.items():
            path = os.path.abspath(facts.path).replace("\\", "/")
            if path.endswith(".py"):
                path = path[:-3]
            if path.endswith("/__init__"):
                path = path[: -len("/__init__")]
            parts = [p for p in path.split("/") if p not in ("", ".", "..")]
            for i in range(len(parts)):
                suffix = ".".join(parts[i:])
                if suffix in modules:
                    continue
                if suffix not in nearest or i < nearest[suffix]:
                    nearest[suffix], self._by_suffix[suffix] = i, key
                elif i == nearest[suffix]:
                    self._by_suffix[suffix] = None

    @property
    def by_suffix(self) -> dict[str, Optional[str]]:
        """The dotted path tails files answer to (for the next build of the same layout)."""
        return self._by_suffix

    def _module(self, dotted: str) -> Optional[ModuleFacts]:
        found = self.modules.get(dotted)
        if found is None:
            alias = self._by_suffix.get(dotted)
            found = self.modules.get(alias) if alias else None
            if found is not None and self._frames:
                self._frames[-1].add(alias)  # type: ignore[arg-type]
        elif self._frames:
            self._frames[-1].add(dotted)
        return found

    # ---- which modules a computation read (the daemon's incremental index)

    def track_reads(self) -> None:
        """From now on, note which modules each resolution reads (``reading``)."""
        self._memo.clear()
        self._reads = {}

    def stop_tracking(self) -> None:
        self._reads = None
        self._frames.clear()

    @contextmanager
    def reading(self) -> Iterator[set[str]]:
        """The names of the modules whose facts the resolutions inside read (memoised
        ones included), ``UNSETTLED`` among them when one met a cycle still under way.
        Frames nest: an inner one's reads are the outer one's too."""
        frame: set[str] = set()
        self._frames.append(frame)
        try:
            yield frame
        finally:
            self._frames.pop()
            if self._frames:
                self._frames[-1].update(frame)

    def note(self, reads: Iterable[str]) -> None:
        """Reads made earlier (a memoised result's) count for the open frame too."""
        if self._frames:
            self._frames[-1].update(reads)

    def resolve(self, qualified: str, depth: int = 0) -> Symbol:
        if qualified in self._memo:
            if self._frames and self._reads is not None:
                self._frames[-1].update(self._reads.get(qualified, (UNSETTLED,)))
            return self._memo[qualified]
        self._memo[qualified] = None  # a cycle resolves to nothing
        if self._reads is None:
            result = self._resolve(qualified, depth)
        else:
            with self.reading() as frame:
                result = self._resolve(qualified, depth)
            self._reads[qualified] = frozenset(frame)
        self._memo[qualified] = result
        return result

    def _resolve(self, qualified: str, depth: int) -> Symbol:
        if depth > 20 or qualified.startswith("?."):
            return None
        parts = qualified.split(".")
        if parts[0] in _LIBRARY_ROOTS:
            return Lib(canonical(qualified))
        for i in range(len(parts), 0, -1):
            module = self._module(".".join(parts[:i]))
            if module is not None:
                if i > 1 and (i == len(parts) or not _binds(module, parts[i])):
                    # ``from .PipelineRun import PipelineRun`` in a package's __init__: the
                    # package's attribute is the class, not the submodule of that name
                    # (``models.PipelineRun.user_id`` too - but ``models.PipelineRun.
                    # PipelineRun``, what that import names, is the submodule's class)
                    package = self._module(".".join(parts[:i - 1]))
                    if package is not None and package.is_package and _binds(package, parts[i - 1]):
                        return self._in_module(package, tuple(parts[i - 1:]), depth)
                return self._in_module(module, tuple(parts[i:]), depth)
        return Lib(canonical(qualified))

    def _in_module(self, module: ModuleFacts, rest: tuple[str, ...], depth: int) -> Symbol:
        if not rest:
            return None
        name, tail = rest[0], rest[1:]
        if name in module.assignments and _mentions(module.assignments[name], f"{module.module}.{name}"):
            # ``class Base: ...`` then ``Base = declarative_base(cls=Base)``: the assignment
            # uses the class, so it comes after it and rebinds the name
            return self._value(module, name, tail, depth)
        for cls in reversed(module.classes):
            if cls.name == name:
                ref = ClassRef(module, cls)
                return ClassAttr(ref, tail) if tail else ref
        if name in module.functions and not tail:
            return Function(module, module.functions[name])
        if not tail:
            for body in module.bodies:
                if body.class_name is None and body.name == name:
                    return FunctionBody(module, body)
        if name in module.assignments:
            return self._value(module, name, tail, depth)
        if name in module.imports:
            target = module.imports[name]
            return self.resolve(".".join((target,) + tail), depth + 1)
        for star in module.star_imports:
            found = self.resolve(".".join((star,) + rest), depth + 1)
            if found is not None and not (isinstance(found, Lib) and found.name.startswith("ext:")):
                return found
        return None

    def _value(self, module: ModuleFacts, name: str, tail: tuple[str, ...], depth: int) -> Symbol:
        expr = module.assignments[name]
        # ``Column = sa.Column`` / ``String = db.String``: an alias resolves through.
        if expr[0] == "n":
            target = self.resolve(expr[1], depth + 1)
            return self.extend(target, tail)
        if expr[0] == "call" and expr[1][0] == "n":
            func = self.resolve(expr[1][1], depth + 1)
            if isinstance(func, Lib) and func.name == DB_CLASS:
                return Lib(DB_OBJECT, tail)
            if isinstance(func, ClassRef) and self.is_subclass_of_lib(func, DB_CLASS):
                return Lib(DB_OBJECT, tail)
        return Value(module, name, expr, tail)

    def extend(self, symbol: Symbol, tail: tuple[str, ...]) -> Symbol:
        if not tail:
            return symbol
        if isinstance(symbol, Lib):
            return Lib(symbol.name, symbol.rest + tail)
        if isinstance(symbol, ClassRef):
            return ClassAttr(symbol, tail)
        if isinstance(symbol, ClassAttr):
            return ClassAttr(symbol.cls, symbol.path + tail)
        if isinstance(symbol, Value):
            return Value(symbol.module, symbol.name, symbol.expr, symbol.rest + tail)
        return None

    def is_subclass_of_lib(self, ref: ClassRef, lib_name: str, depth: int = 0) -> bool:
        if depth > 30:
            return False
        for base in ref.fact.bases:
            sym = self.lookup(base)
            if isinstance(sym, Lib) and sym.name == lib_name and not sym.rest:
                return True
            if isinstance(sym, ClassRef) and self.is_subclass_of_lib(sym, lib_name, depth + 1):
                return True
        return False

    def lookup(self, expr: Optional[Expr]) -> Symbol:
        """What an expression names: follows names, and subscripts like ``Base[T]``."""
        if expr is None:
            return None
        if expr[0] == "n":
            return self.resolve(expr[1])
        if expr[0] == "sub":
            return self.lookup(expr[1])
        if expr[0] == "attr":
            inner = self.lookup(expr[1])
            return self.extend(inner, (expr[2],))
        return None

    def lib_name(self, expr: Optional[Expr]) -> Optional[str]:
        """The canonical library name an expression denotes, seeing through a
        Flask-SQLAlchemy instance: ``db.Column`` -> ``sa:Column``."""
        sym = self.lookup(expr)
        return lib_name_of(sym)


def lib_name_of(sym: Symbol) -> Optional[str]:
    if not isinstance(sym, Lib):
        return None
    if sym.name == DB_OBJECT:
        # db.Model is Flask-SQLAlchemy's base; every other attribute is SQLAlchemy's name
        if not sym.rest:
            return DB_OBJECT
        if sym.rest == ("Model",):
            return "fsa:Model"
        if len(sym.rest) == 1:
            return f"sa:{sym.rest[0]}"
        if sym.rest[0] in ("orm", "types", "sql", "schema", "dialects", "func"):
            return f"sa:{sym.rest[-1]}"
        return None
    if sym.rest:
        # sa.orm.relationship reached as ``orm.relationship`` via ``from sqlalchemy import orm``
        if sym.name.startswith("sa:") and len(sym.rest) >= 1:
            return f"sa:{sym.rest[-1]}"
        if sym.name.startswith("sqlmodel:"):
            return _sqlmodel_name(sym.rest[-1])
        if sym.name.startswith("sau:"):
            return f"sau:{sym.rest[-1]}"
        if sym.name.startswith("typing:"):
            return f"typing:{sym.rest[-1]}"
        return f"{sym.name}.{'.'.join(sym.rest)}"
    if sym.name.startswith("sqlmodel:"):
        return _sqlmodel_name(sym.name[len("sqlmodel:"):])
    return sym.name


# SQLModel re-exports SQLAlchemy's schema constructs: ``from sqlmodel import Column``
# is ``sqlalchemy.Column`` (keep's ``Field(sa_column=Column(..., ForeignKey(...)))``).
_SQLMODEL_REEXPORTS = frozenset({"Column", "ForeignKey", "Index", "UniqueConstraint", "PrimaryKeyConstraint",
                                 "ForeignKeyConstraint", "CheckConstraint", "Table", "MetaData"})


def _sqlmodel_name(name: str) -> str:
    return f"sa:{name}" if name in _SQLMODEL_REEXPORTS else f"sqlmodel:{name}"


def _mentions(expr: object, qualified: str) -> bool:
    """Whether a stored expression names ``qualified``."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if not isinstance(node, tuple) or not node:
            continue
        if node[0] == "n" and len(node) == 2 and node[1] == qualified:
            return True
        stack.extend(part for part in node if isinstance(part, tuple))
    return False


def _binds(module: ModuleFacts, name: str) -> bool:
    """Whether the module's own code binds ``name`` (an import, a class, an assignment)."""
    return name in module.imports or name in module.assignments or name in module.functions \
        or any(cls.name == name for cls in module.classes)
