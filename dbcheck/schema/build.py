"""Phase 2 of indexing: the facts of every file, interpreted together into a
``ProjectIndex`` of tables, columns, keys, indexes and relationships.

Everything here is a pure function of the per-file facts, so the per-file facts can
come from a cache and the index is rebuilt cheaply. When a declaration cannot be
understood (a base class from an unknown library, a table name computed at run time),
the affected table is marked incomplete and rules that need certainty stay silent.
"""

from __future__ import annotations

import copy
import os
import re
from collections import Counter
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar, cast

from dbcheck.dialects import KNOWLEDGE
from dbcheck.facts.model import UNKNOWN, AttrFact, ClassFact, Expr, ModuleFacts, is_alembic_revision
from dbcheck.schema.model import (
    ColumnModel, ForeignKeyModel, IndexModel, Location, RelationshipModel, TableModel,
)
from dbcheck.schema.index import ClassInfo, ProjectIndex, camel_to_snake
from dbcheck.schema.memory import BuildMemory
from dbcheck.schema.types import TypeInfo, builtin_annotation_type, classify_type_name
from dbcheck.semantic.classes import attributes_in_mro, mro, own_attr, visible_classes
from dbcheck.semantic.symbols import UNSETTLED, ClassAttr, ClassRef, Function, Lib, SymbolTable, Value, lib_name_of

_U = TypeVar("_U")

_SPECIAL_ATTRS = {"__tablename__", "__table_args__", "__mapper_args__", "__abstract__", "__table__",
                  "type_annotation_map", "metadata", "registry", "__allow_unmapped__", "__bind_key__"}

_MISSING = object()


# --------------------------------------------------------------------------- helpers on Expr

def _kw(call: Expr, name: str) -> Optional[Expr]:
    for key, value in call[3]:
        if key == name:
            return value
    return None


def _const(expr: Optional[Expr]) -> object:
    if expr is not None and expr[0] == "c":
        return expr[1]
    return None


def _is_true(expr: Optional[Expr]) -> bool:
    return _const(expr) is True


def _loc(module: ModuleFacts, line: int, col: int = 1) -> Location:
    return Location(module.path, line, col)


def _items(expr: Optional[Expr]) -> list[Expr]:
    if expr is None:
        return []
    if expr[0] in ("tuple", "list", "set"):
        return list(expr[1])
    return [expr]


# --------------------------------------------------------------------------- the builder

class _Builder:
    def __init__(self, modules: dict[str, ModuleFacts], encrypted_types: Iterable[str],
                 by_suffix: Optional[dict[str, Optional[str]]] = None) -> None:
        self.modules = modules
        self.symbols = SymbolTable(modules, by_suffix)
        self.encrypted_types = tuple(encrypted_types)
        self.infos: dict[str, ClassInfo] = {}
        self.tables: list[TableModel] = []
        self._model_names: Optional[set[str]] = None
        self._type_cache: dict[str, TypeInfo] = {}
        # (attribute, declaring class, type map) -> (the attribute, its column): see _inherited_column
        self._inherited_columns: dict[tuple, tuple[AttrFact, ColumnModel]] = {}
        self._memos: dict[str, dict] = {}
        self.spelled: set[str] = set()  # classes named by the project-wide spelling
        self.reused: set[str] = set()  # classes whose table came from the last build
        self.memory: Optional[BuildMemory] = None
        # With a memory to keep (the daemon): the modules each class's classification and
        # table read (see SymbolTable.reading), and what each memoised result read.
        self._tracking = False
        self._classified: dict[str, frozenset[str]] = {}
        self._built: dict[str, frozenset[str]] = {}
        self._memo_reads: dict[tuple, frozenset[str]] = {}
        # the last build's classifications and the modules changed since (see _kept_info)
        self._kept: Optional[tuple[BuildMemory, set[str]]] = None
        # class -> the project classes among its bases, each as (module name, place in its classes)
        self._base_classes: dict[str, tuple[tuple[str, int], ...]] = {}
        self._fresh_infos: set[str] = set()  # classes classified again (not kept)
        self._name_by_path: dict[str, str] = {}

    # ---- classification

    def classify(self, ref: ClassRef, depth: int = 0) -> ClassInfo:
        known = self.infos.get(ref.qualname)
        if known is not None:
            if self._tracking:
                self.symbols.note(self._classified.get(ref.qualname, (UNSETTLED,)))
            return known
        if not self._tracking:
            return self._classify(ref, depth)
        if self._kept is not None:
            kept = self._kept_info(ref)
            if kept is not None:
                return kept
        self._fresh_infos.add(ref.qualname)
        with self.symbols.reading() as frame:
            info = self._classify(ref, depth)
        frame.add(self._name_by_path.get(ref.module.path, UNSETTLED))
        self._classified[ref.qualname] = frozenset(frame)
        return info

    def _place(self, ref: ClassRef) -> tuple[str, int]:
        name = self._name_by_path.get(ref.module.path, UNSETTLED)
        return name, next(i for i, fact in enumerate(ref.module.classes) if fact is ref.fact)

    def _kept_info(self, ref: ClassRef) -> Optional[ClassInfo]:
        """The last build's classification of ``ref``, when no module it read changed: a
        copy, linked to this build's classes (its bases classified first, as
        ``_classify`` would, so the classes come in the same order)."""
        assert self._kept is not None
        previous, changed = self._kept
        qualname = ref.qualname
        old = previous.infos.get(qualname)
        reads = previous.classified.get(qualname)
        if old is None or reads is None or not changed.isdisjoint(reads):
            return None
        bases = previous.base_classes.get(qualname, ())
        if any(name not in self.modules or place >= len(self.modules[name].classes) for name, place in bases):
            return None  # cannot be while the modules read are unchanged: classified again, to be safe
        info = object.__new__(ClassInfo)  # a shallow copy (copy.copy is slow for thousands of classes)
        info.__dict__.update(old.__dict__)
        info.ref, info.table = ref, None
        self.infos[qualname] = info
        self._classified[qualname] = reads
        self.symbols.note(reads)
        self._base_classes[qualname] = bases
        for module_name, place in bases:
            # what resolving the bases found last time: nothing they read changed
            module = self.modules[module_name]
            self.classify(ClassRef(module, module.classes[place]))
        if old.mapped_parent is not None:
            parent = self.infos.get(old.mapped_parent.ref.qualname)
            if parent is None:  # cannot be: the parent is one of the bases classified above
                del self.infos[qualname]
                return None
            info.mapped_parent = parent
        return info

    def _classify(self, ref: ClassRef, depth: int) -> ClassInfo:
        info = ClassInfo(ref, "none")
        self.infos[ref.qualname] = info  # cycle guard
        fact = ref.fact
        foreign_base = False
        for dec in fact.decorators:
            role = KNOWLEDGE.class_decorators.get(lib_name_of(self._decorator_symbol(dec)) or "")
            if role is not None:
                info.style = role.style
                info.is_root = info.is_root if role.is_root is None else role.is_root
        for base in fact.bases:
            sym = self.symbols.lookup(base)
            name = lib_name_of(sym)
            role = KNOWLEDGE.bases.get(name or "")
            if role is not None:
                info.style = role.style
                info.is_root = info.is_root if role.is_root is None else role.is_root
            elif name in KNOWLEDGE.library_models:
                info.library_base = name
            elif isinstance(sym, ClassRef):
                parent = self.classify(sym, depth + 1)
                if self._tracking:
                    self._base_classes[ref.qualname] = self._base_classes.get(ref.qualname, ()) + (self._place(sym),)
                if parent.style != "none" and info.style == "none":
                    info.style = parent.style
                if parent.library_base and not info.library_base:
                    info.library_base = parent.library_base
                if not parent.complete:
                    info.complete = False
                if parent.mapped and info.mapped_parent is None:
                    info.mapped_parent = parent
                info.type_map = info.type_map or parent.type_map
            elif isinstance(sym, Value) and self._is_declarative_value(sym):
                info.style = "declarative"
            elif name in KNOWLEDGE.neutral_bases or (name or "").startswith(KNOWLEDGE.neutral_families):
                continue
            else:
                # A base class from a library we do not know: its columns are invisible.
                info.complete = False
                foreign_base = True
        assumed_root = info.style == "none" and foreign_base and self._declares_table(fact)
        if assumed_root:
            # ``from sqlalchemy_helpers import Base``: a declarative base from a library we do
            # not know, recognised by what the class itself declares
            info.style = "declarative"
        if fact.dynamic:
            info.complete = False
        own_map = own_attr(fact, "type_annotation_map")
        if own_map is not None and own_map.value is not None and own_map.value[0] == "dict":
            info.type_map = list(own_map.value[1]) + info.type_map
        info.abstract = _is_true((own_attr(fact, "__abstract__") or AttrFact("", 0, 0, None, None)).value)
        keyword = KNOWLEDGE.mapped_keywords.get(info.style)
        if keyword is not None:
            info.mapped = _is_true(fact.keywords.get(keyword))
        elif info.style != "none":
            info.mapped = not info.is_root and not info.abstract and (
                assumed_root or self._has_mapped_root(ref) or info.mapped_parent is not None)
        if info.library_base and info.style == "none":
            # e.g. class User(SQLAlchemyBaseUserTableUUID, Base) where Base is unknown
            info.complete = False
        if info.mapped and is_alembic_revision(ref.module):
            # A model declared inside a migration is a frozen copy of the schema for that
            # revision's data migration, not the project's model of the table: it must
            # neither be reported on nor shadow the real model when queries name the table.
            info.mapped = False
        return info

    def _declares_table(self, fact: ClassFact) -> bool:
        """A literal ``__tablename__`` and a ``Column(...)`` / ``mapped_column(...)`` of its own."""
        name = own_attr(fact, "__tablename__")
        if name is None or _const_str(name.value) is None:
            return False
        return any(self._callee(attr.value)[1] in ("sa:Column", "sa:mapped_column") for attr in fact.attrs
                   if attr.value is not None)

    def _decorator_symbol(self, dec: Expr):
        target = dec[1] if dec[0] == "call" else dec
        sym = self.symbols.lookup(target)
        if isinstance(sym, Value) and sym.rest:
            # ``@mapper_registry.mapped`` where mapper_registry = registry()
            func = self.symbols.lookup(sym.expr[1]) if sym.expr[0] == "call" else None
            if lib_name_of(func) == "sa:registry":
                return Lib(f"sa:{sym.rest[-1]}")
        return sym

    def _has_mapped_root(self, ref: ClassRef) -> bool:
        for cls in mro(self.symbols, ref)[1:] + [ref]:
            info = self.infos.get(cls.qualname)
            if info is None:
                continue
            if info.is_root or info.style in KNOWLEDGE.root_styles:
                return True
            for base in cls.fact.bases:
                sym = self.symbols.lookup(base)
                role = KNOWLEDGE.bases.get(lib_name_of(sym) or "")
                if role is not None and (role.is_root or role.style in KNOWLEDGE.root_styles):
                    return True
                if isinstance(sym, Value) and self._is_declarative_value(sym):
                    return True
        for dec in ref.fact.decorators:
            if lib_name_of(self._decorator_symbol(dec)) in KNOWLEDGE.class_decorators:
                return True
        return False

    def _is_declarative_value(self, value: Value) -> bool:
        """``Base = declarative_base()``, ``Base = registry().generate_base()``,
        ``db.Model`` where ``db = SQLAlchemy()`` (handled as Lib), ``Model = db.Model``."""
        expr = value.expr
        if value.rest:
            return False
        if expr[0] == "call":
            func = expr[1]
            name = self.symbols.lib_name(func)
            if name in KNOWLEDGE.base_factories:
                return True
            if func[0] == "attr" and func[2] == "generate_base":
                return True
            if func[0] == "n" and func[1].endswith(".generate_base"):
                return True
        return False

    # ---- tables of classes

    def build_class_tables(self, previous: Optional["BuildMemory"] = None, remember: bool = False,
                           layout: Optional[tuple] = None) -> None:
        """``layout``: ``project_layout(self.modules)``, when the caller has it already."""
        self._tracking = remember or previous is not None
        layout = project_layout(self.modules) if layout is None else layout
        same_layout = previous is not None and previous.layout == layout
        # the modules whose facts changed since the last build (UNSETTLED reads count too)
        changed: set[str] = set()
        if self._tracking:
            self.symbols.track_reads()
            self._name_by_path = {m.path: name for name, m in self.modules.items()}
            if same_layout and previous is not None:
                changed = {name for name, m in self.modules.items() if previous.keys.get(name) != _facts_key(m)}
                changed.add(UNSETTLED)
                self._kept = (previous, changed)
        refs = [ClassRef(m, c) for m in self.modules.values() for c in m.classes]
        for ref in refs:
            self.classify(ref)
        self._kept = None
        classified: dict[str, ClassInfo] = {}
        if remember:
            kept_infos = previous.infos if previous is not None else {}
            classified = {q: copy.copy(i) if q in self._fresh_infos else kept_infos[q] for q, i in self.infos.items()}
        mapped_names = {q for q, i in self.infos.items() if i.mapped}
        reusable = self._reusable_tables(previous, mapped_names, changed) \
            if same_layout and previous is not None else set()
        copies: dict[str, TableModel] = {}
        # Parents before children, so single-table inheritance finds the parent's table.
        pending = [self.infos[r.qualname] for r in refs if self.infos[r.qualname].mapped]
        done: set[str] = set()
        while pending:
            progressed = False
            waiting: list[ClassInfo] = []
            for info in pending:
                parent = info.mapped_parent
                if parent is not None and parent.ref.qualname not in done and parent.mapped:
                    waiting.append(info)
                    continue
                owner = previous.owners.get(info.ref.qualname) if previous is not None else None
                if owner in reusable and (owner == info.ref.qualname or owner in copies):
                    self._reuse_table(info, owner, previous, copies)  # type: ignore[arg-type]
                else:
                    self._tracked_table(info, mapped_names)
                done.add(info.ref.qualname)
                progressed = True
            pending = waiting
            if not progressed:
                for info in pending:
                    info.complete = False
                    self._tracked_table(info, mapped_names)
                break
        if remember:
            self.memory = self._remember(previous, mapped_names, reusable, layout, classified)
        self._tracking = False
        self.symbols.stop_tracking()

    def _tracked_table(self, info: ClassInfo, mapped_names: set[str]) -> None:
        if not self._tracking:
            self._class_table(info, mapped_names)
            return
        with self.symbols.reading() as frame:
            self._class_table(info, mapped_names)
        qualname = info.ref.qualname
        self._built[qualname] = self._built.get(qualname, frozenset()) | frame
        owner = info.table.qualname if info.table is not None else None
        if owner and owner != qualname:  # a single-table child's columns are its parent's table's too
            self._built[owner] = self._built.get(owner, frozenset()) | frame | self._classified.get(qualname, {UNSETTLED})

    # ---- reusing the last build's class tables (the daemon: one file edited at a time)

    def _shared_inputs(self, mapped_names: set[str]) -> tuple:
        """What every class table may depend on besides the modules its names reach."""
        models = frozenset(info.ref.fact.name for info in self.infos.values() if info.style != "none")
        return frozenset(mapped_names), models, self.encrypted_types

    def _reusable_tables(self, previous: "BuildMemory", mapped_names: set[str], changed: set[str]) -> set[str]:
        """The classes whose table the last build made and this one would make again,
        identical: no module its making read changed (its classification, its table,
        and - to be safe from reads no frame saw - everything the classes of those
        modules read, see ``_dependencies``), no project-wide input changed, and every
        class sharing the table (single-table inheritance) is unchanged too. The modules
        and their paths are the same as the last build's (resolution by path tails
        depends on them)."""
        if self._shared_inputs(mapped_names) != previous.shared:
            return set()
        blocked = {owner for qualname, owner in previous.owners.items()
                   if qualname in previous.spelled or not changed.isdisjoint(previous.reads.get(qualname, (UNSETTLED,)))}
        for qualname in self._fresh_infos:  # a class classified again may join a table it was not in
            parent = self.infos[qualname].mapped_parent
            while parent is not None:
                blocked.add(previous.owners.get(parent.ref.qualname, ""))
                parent = parent.mapped_parent
        return {owner for owner in previous.tables if owner not in blocked}

    def _dependencies(self) -> dict[str, frozenset[str]]:
        """Each mapped class -> the modules its table depends on: its own, what its
        classification and its table read, and, closed over, what every class of each of
        those modules read (a class's table reads other classes' classifications and
        tables - a mixin, a foreign key's target - not always through a resolution)."""
        own = {q: self._name_by_path.get(i.ref.module.path, UNSETTLED) for q, i in self.infos.items()}
        by_module: dict[str, set[str]] = {}
        for qualname, module in own.items():
            by_module.setdefault(module, set()).update(self._classified.get(qualname, (UNSETTLED,)),
                                                       self._built.get(qualname, ()))
        out: dict[str, frozenset[str]] = {}
        for qualname, info in self.infos.items():
            if not info.mapped:
                continue
            if qualname in self.reused:
                out[qualname] = self._built[qualname]  # the last build's, whose reads are unchanged
                continue
            start = {own[qualname], *self._classified.get(qualname, (UNSETTLED,)), *self._built.get(qualname, ())}
            seen: set[str] = set()
            stack = list(start)
            while stack:
                module = stack.pop()
                if module in seen:
                    continue
                seen.add(module)
                stack.extend(by_module.get(module, ()))
            out[qualname] = frozenset(seen)
        return out

    def _reuse_table(self, info: ClassInfo, owner: str, previous: "BuildMemory", copies: dict[str, TableModel]) -> None:
        if owner == info.ref.qualname:
            table = _copy_table(previous.tables[owner])
            copies[owner] = table
            self.tables.append(table)
        else:
            table = copies[owner]  # single-table inheritance: the parent's copy, children included
        info.table = table
        self.reused.add(info.ref.qualname)
        if self._tracking:
            self._built[info.ref.qualname] = previous.reads.get(info.ref.qualname, frozenset((UNSETTLED,)))

    def _remember(self, previous: Optional["BuildMemory"], mapped_names: set[str], reusable: set[str],
                  layout: tuple, infos: dict[str, ClassInfo]) -> "BuildMemory":
        owners: dict[str, str] = {}
        modules: dict[str, str] = {}
        tables: dict[str, TableModel] = {}
        for qualname, info in self.infos.items():
            if not info.mapped or info.table is None or info.table.qualname is None:
                continue
            owners[qualname] = info.table.qualname
            modules[qualname] = self._name_by_path.get(info.ref.module.path, info.ref.module.module)
        built = Counter(t.qualname for t in self.tables if t.qualname is not None and not t.is_imperative)
        twice = {qualname for qualname, count in built.items() if count > 1}
        for table in self.tables:
            if table.qualname is None or table.is_imperative or table.qualname in twice:
                continue  # a class defined twice under one name (both are built) is built again
            if previous is not None and table.qualname in reusable and table.qualname in self.reused:
                tables[table.qualname] = previous.tables[table.qualname]  # as built, never handed out
            else:
                tables[table.qualname] = _copy_table(table)
        return BuildMemory(
            keys={name: _facts_key(m) for name, m in self.modules.items()},
            layout=layout,
            shared=self._shared_inputs(mapped_names),
            reads=self._dependencies(), infos=infos, classified=dict(self._classified),
            base_classes=dict(self._base_classes), by_suffix=self.symbols.by_suffix,
            owners=owners, modules=modules, tables=tables, spelled=set(self.spelled),
        )

    def _table_name(self, info: ClassInfo, mapped_names: set[str]) -> tuple[Optional[str], bool]:
        """(table name, has own table). Own table False means single-table inheritance."""
        fact = info.ref.fact
        own = own_attr(fact, "__tablename__")
        if info.style == "flask" and info.mapped_parent is not None and not self._declares_primary_key(info):
            # Flask-SQLAlchemy drops the __tablename__ of a subclass without its own
            # primary key: it is single-table inheritance.
            return None, False
        if own is not None:
            return self._tablename_value(own, info), True
        given = own_attr(fact, "__table__")
        if given is not None:
            table_expr = given.value
            if table_expr and table_expr[0] == "call" and table_expr[2]:
                name = _const(table_expr[2][0])
                return (name if isinstance(name, str) else None), True
            return None, True
        if info.style == "sqlmodel":
            return fact.name.lower(), True
        if info.library_base and info.mapped_parent is None:
            inherited = self._inherited_tablename(info, mapped_names)
            if inherited is not None:
                return inherited
            return KNOWLEDGE.library_models[info.library_base].table, True
        inherited = self._inherited_tablename(info, mapped_names)
        if info.style == "flask":
            if info.mapped_parent is None:
                return inherited[0] if inherited else camel_to_snake(fact.name), True
            # Flask-SQLAlchemy: a subclass that declares its own primary key gets its own
            # table (joined inheritance); otherwise it shares the parent's.
            if self._declares_primary_key(info):
                return inherited[0] if inherited else camel_to_snake(fact.name), True
            return None, False
        if inherited is not None and not (info.mapped_parent is not None and inherited[0] == "__sti__"):
            return inherited
        if info.mapped_parent is not None:
            return None, False
        return None, True

    def _inherited_tablename(self, info: ClassInfo, mapped_names: set[str]) -> Optional[tuple[Optional[str], bool]]:
        for cls in visible_classes(self.symbols, info.ref, False, mapped_names)[1:]:
            attr = own_attr(cls.fact, "__tablename__")
            if attr is None:
                continue
            if attr.declared_attr and info.mapped_parent is not None and self._guards_inherited_table(attr):
                return ("__sti__", False)
            return self._tablename_value(attr, info), True
        return None

    def _guards_inherited_table(self, attr: AttrFact) -> bool:
        # ``if has_inherited_table(cls): return None`` makes subclasses share the table;
        # the function body is not kept, so treat a declared_attr whose value is unknown
        # as that idiom.
        return attr.value is None

    def _tablename_value(self, attr: AttrFact, info: ClassInfo) -> Optional[str]:
        value = attr.value
        name = _const(value)
        if isinstance(name, str):
            return name
        if value is not None and value[0] == "call" and value[1][0] == "n":
            func = value[1][1]
            if func.endswith(("cls.__name__.lower", "?.self.__name__.lower")):
                # (timesketch's base names its declared_attr's parameter ``self``)
                return info.ref.fact.name.lower()
        if value is not None and any(n[1].endswith(("cls.__name__", "?.self.__name__"))
                                     for n in _name_references([value])):
            # ``return resolve_table_name(cls.__name__)``, ``inflection.underscore(...)``,
            # an inline join: some spelling of the class name, told by the project's own
            # foreign keys (or unknown, as before, when they name none of them).
            spell = self._class_name_spelling or self._spelling_in_code(value)
            self.spelled.add(info.ref.qualname)  # depends on every module's foreign keys
            self.symbols.note((UNSETTLED,))  # and so does whatever reads this name
            return spell(info.ref.fact.name) if spell is not None else None
        return None

    def _spelling_in_code(self, value: Expr) -> Optional[Callable[[str], str]]:
        """The spelling the code computing a table name says, when the foreign keys do
        not tell: a CamelCase split (a ``[A-Z]`` pattern given to ``re.sub`` / ``re.split``
        / ``re.findall``, a helper named like ``camel_to_snake`` / ``underscore``), else a
        ``.lower()``; a ``+ "s"`` makes it plural. The helper it calls is read too."""
        exprs: list[Any] = [value]
        for name in _name_references([value]):
            found = self.symbols.resolve(name[1])
            if isinstance(found, Function):
                exprs.append(found.fact.returns)
            else:
                body = self._module_function_body(name[1])
                if body is not None:
                    exprs.append(body)
        names: list[str] = []
        strings: list[str] = []
        plural = False
        for node in _subexpressions(exprs):
            if node[0] == "n" and isinstance(node[1], str):
                names.append(node[1].rsplit(".", 1)[-1].lower())
            elif node[0] == "attr" and isinstance(node[2], str):
                names.append(node[2].lower())
            elif node[0] == "c" and isinstance(node[1], str):
                strings.append(node[1])
            elif node[0] == "add" and _const(node[2]) == "s":
                plural = True
        split = any("A-Z" in text for text in strings) or any(
            word in name for name in names for word in ("snake", "underscore", "camel", "tablename", "table_name"))
        if split:
            return _CLASS_NAME_SPELLINGS[3] if plural else camel_to_snake
        if "lower" in names:
            return _CLASS_NAME_SPELLINGS[4] if plural else str.lower
        return None

    def _module_function_body(self, qualified: str) -> Optional[tuple]:
        """The IR of a module-level function of the project, by its qualified name."""
        module_name, _, name = qualified.rpartition(".")
        module = self.modules.get(module_name)
        if module is None:
            return None
        for body in module.bodies:
            if body.class_name is None and body.name == name:
                return tuple(body.body)
        return None

    @cached_property
    def _class_name_spelling(self) -> Optional[Callable[[str], str]]:
        """The spelling of class names as table names that the most foreign-key targets
        of the project agree with (ties: snake_case, the usual convention)."""
        referenced = _foreign_key_tables(self.modules.values())
        names = {info.ref.fact.name for info in self.infos.values()}
        best, best_count = None, 0
        for spell in _CLASS_NAME_SPELLINGS:
            count = sum(1 for name in names if spell(name) in referenced)
            if count > best_count:
                best, best_count = spell, count
        return best

    @cached_property
    def _schema_modules(self) -> list[ModuleFacts]:
        """The modules whose tables are the project's: not Alembic revisions (see classify)."""
        return [m for m in self.modules.values() if not is_alembic_revision(m)]

    def _declares_primary_key(self, info: ClassInfo) -> bool:
        for attr in info.ref.fact.attrs:
            call = attr.value
            if call is not None and call[0] == "call" and _is_true(_kw(call, "primary_key")):
                return True
        return False

    def _class_table(self, info: ClassInfo, mapped_names: set[str]) -> None:
        ref = info.ref
        name, own_table = self._table_name(info, mapped_names)
        parent_table = info.mapped_parent.table if info.mapped_parent is not None else None
        if not own_table and parent_table is not None:
            table = parent_table
            table.subclasses.append(ref.fact.name)
        else:
            table = TableModel(
                name=name, class_name=ref.fact.name, qualname=ref.qualname,
                location=_loc(ref.module, ref.fact.line, ref.fact.column),
                complete=info.complete and name is not None,
            )
            if info.mapped_parent is not None:
                table.parent_class = info.mapped_parent.ref.fact.name
            self.tables.append(table)
        info.table = table
        if not info.complete:
            table.complete = False
        if info.library_base and info.mapped_parent is None:
            self._library_columns(info, table)
        self._class_attributes(info, table, mapped_names)
        given = own_attr(ref.fact, "__table__")
        call, name, _d = self._callee(given.value) if given is not None and given.value is not None else (None, None, None)
        if name == "sa:Table" and call is not None and given is not None and table.class_name == ref.fact.name:
            # ``__table__ = Table("events", metadata, Column(...))``: the columns are the
            # Table's; annotations in the class body only type them
            table.columns = []
            self._table_items(table, ref.module, list(call[2][1:]), given.line, given.column, mapped=True)
        for cls in mro(self.symbols, ref):
            for attribute, transforms in cls.fact.validators.items():
                column = table.column_by_attribute(attribute)
                if column is not None and transforms:
                    column.hashed_on_write = True
        mapper_args = self._find_attr(info, "__mapper_args__", mapped_names)
        if mapper_args is not None and mapper_args.value is not None and mapper_args.value[0] == "dict":
            for key, _value in mapper_args.value[1]:
                if _const(key) == "primary_key":
                    table.mapper_primary_key = True

    def _find_attr(self, info: ClassInfo, name: str, mapped_names: set[str]) -> Optional[AttrFact]:
        for cls in visible_classes(self.symbols, info.ref, False, mapped_names):
            attr = own_attr(cls.fact, name)
            if attr is not None:
                return attr
        return None

    def _library_columns(self, info: ClassInfo, table: TableModel) -> None:
        base = info.library_base
        assert base is not None
        columns = KNOWLEDGE.library_models[base].columns
        for col_name, type_name, nullable, pk, fk in columns:
            fks = []
            if fk:
                t, c = fk.split(".")
                fks.append(ForeignKeyModel(t, c, "cascade", True, table.location))
            table.columns.append(ColumnModel(
                name=col_name, attribute=col_name, type_name=type_name,
                type_kind=classify_type_name(type_name), encrypted=False, nullable=nullable,
                primary_key=pk, unique=col_name == "email", indexed=col_name in ("email", "created_at"),
                foreign_keys=fks, location=table.location, declared_in=base,
                from_library=True))

    def _class_attributes(self, info: ClassInfo, table: TableModel, mapped_names: set[str]) -> None:
        ref = info.ref
        table_args: Optional[tuple[AttrFact, ClassRef]] = None
        for attr, owner in attributes_in_mro(self.symbols, ref, False, mapped_names):
            if attr.name == "__table_args__":
                table_args = (attr, owner)
                continue
            if attr.name in _SPECIAL_ATTRS or (attr.name.startswith("__") and attr.name.endswith("__")):
                continue
            self._attribute(info, table, attr, owner)
        if table_args is not None and (table.class_name == ref.fact.name):
            self._table_args(table, table_args[0], table_args[1])
            _primary_key_not_null(table)

    # ---- one attribute

    def _attribute(self, info: ClassInfo, table: TableModel, attr: AttrFact, owner: ClassRef) -> None:
        value = attr.value
        call, func_name, defaults = self._callee(value)
        annotation = attr.annotation
        wrapper, inner = self._memoised("mapped", annotation, self._unwrap_mapped, annotation)
        alias_call: Optional[Expr] = None
        if inner is not None:
            inner, alias_call = self._memoised("annotated", inner, self._unwrap_annotated, inner)
            if alias_call is not None and self._callee(alias_call)[1] != "sa:mapped_column":
                alias_call = None
            if alias_call is not None and call is None:
                call, func_name, defaults = self._callee(alias_call)
        if func_name in KNOWLEDGE.relationship_functions:
            table.relationships.append(self._relationship(attr, owner, call, func_name, inner, defaults))
            return
        if func_name in ("sa:Index", "sa:UniqueConstraint") and call is not None:
            # ``not_after_ix = Index("ix_not_after", not_after.desc())`` in the class body:
            # SQLAlchemy attaches it to the table of the columns it names
            self._constraint(table, call, owner.module, attr.line, owner)
            return
        if func_name in ("sa:column_property", "sa:deferred") and call[2]:
            # column_property(Column(...)) / deferred(Column(...)) map a real column
            inner_call, inner_name, inner_defaults = self._callee(call[2][0])
            if inner_name != "sa:Column":
                return
            call, func_name, defaults = inner_call, inner_name, inner_defaults
        if func_name == "sa:association_proxy" and call is not None and len(call[2]) >= 2:
            relationship, remote = _const_str(call[2][0]), _const_str(call[2][1])
            if relationship and remote:
                # group_id = association_proxy("shopping_list", "group_id"): the row's
                # tenant is its list's (read by the tenancy policy)
                table.proxies[attr.name] = (relationship, remote)
            return
        if func_name in ("sa:association_proxy", "sa:synonym", "sa:hybrid_property", "sa:column_property",
                         "sa:query_expression", "sa:composite", "sa:deferred"):
            return
        if func_name in ("sa:Column", "sa:mapped_column"):
            if alias_call is not None and call is not alias_call and func_name == "sa:mapped_column":
                # Annotated[int, mapped_column(...)] merged with the attribute's own call
                call = ("call", call[1], tuple(alias_call[2]) + tuple(call[2]),
                        tuple(alias_call[3]) + tuple(defaults) + tuple(call[3]), call[4], call[5])
                defaults = ()
            table.columns.append(self._inherited_column(info, attr, owner, call, func_name, defaults, inner))
            return
        if func_name == "sqlmodel:Field" or (info.style == "sqlmodel" and annotation is not None and wrapper is None):
            if info.style != "sqlmodel" or annotation is None:
                return
            if self._is_classvar(annotation) or func_name in KNOWLEDGE.relationship_functions:
                return
            if self._names_model(annotation):
                return
            table.columns.append(self._sqlmodel_column(info, attr, owner, call if func_name == "sqlmodel:Field" else None, defaults))
            return
        if wrapper is not None and value is None and inner is not None:
            if attr.declared_attr:
                # a @declared_attr whose return could not be read: its annotation only
                # types it (the class is already marked incomplete)
                return
            if self._names_model(inner):
                # Mapped["User"] with no relationship(): SQLAlchemy 2 makes it a relationship.
                table.relationships.append(self._relationship(attr, owner, None, "sa:relationship", inner, ()))
                return
            synthetic = ("call", ("n", "sqlalchemy.orm.mapped_column"), (), (), attr.line, attr.column)
            table.columns.append(self._column(info, attr, owner, synthetic, "sa:mapped_column", (), inner))
            return
        if value is not None and func_name is None and value[0] == "call":
            # A call we could not resolve might create a column: stay honest about it.
            if self._could_be_column(value):
                table.complete = False

    def _could_be_column(self, call: Expr) -> bool:
        func = self.symbols.lookup(call[1])
        if func is None:
            return call[1][0] == "n" and not call[1][1].startswith("?.")
        if isinstance(func, Lib) and func.name.startswith("ext:"):
            return True
        return isinstance(func, Function)

    def _callee(self, value: Optional[Expr], depth: int = 0) -> tuple[Any, Optional[str], tuple]:
        """(call, canonical function name, default kwargs) seeing through project column
        factories: ``functools.partial(db.Column, nullable=False)`` and single-return
        functions that return ``mapped_column(...)``."""
        if value is None or value[0] != "call" or depth > 5:
            return None, None, ()
        sym = self.symbols.lookup(value[1])
        name = lib_name_of(sym)
        if name in ("typing:cast", "typing_extensions:cast") and len(value[2]) == 2:
            # ``recipe: Mapped["Recipe"] = cast(Mapped["Recipe"], db.relationship(...))``
            # (KitchenOwl): the value is the second argument, for the type checker only
            return self._callee(value[2][1], depth + 1)
        if name is not None:
            return value, name, ()
        if isinstance(sym, Value) and not sym.rest and sym.expr[0] == "call":
            partial_of = self.symbols.lib_name(sym.expr[1])
            if partial_of == "functools:partial" and sym.expr[2]:
                target = sym.expr[2][0]
                inner = ("call", target, tuple(sym.expr[2][1:]) + tuple(value[2]), value[3], value[4], value[5])
                call, fname, defaults = self._callee(inner, depth + 1)
                return call, fname, tuple(sym.expr[3]) + tuple(defaults)
        if isinstance(sym, Function):
            returned = _substitute(sym.fact, value)
            if returned is not None and returned[0] == "call":
                call, fname, defaults = self._callee(returned, depth + 1)
                if call is not None:
                    call = ("call", call[1], call[2], call[3], value[4], value[5])
                return call, fname, defaults
        return value, None, ()

    def _unwrap_mapped(self, annotation: Optional[Expr]) -> tuple[Optional[str], Optional[Expr]]:
        if annotation is None:
            return None, None
        if annotation[0] == "c" and isinstance(annotation[1], str):
            # "Mapped[int]" as a string annotation
            text = annotation[1].strip()
            match = re.match(r"^(?:\w+\.)*(Mapped|WriteOnlyMapped|DynamicMapped)\[(.*)\]$", text)
            if match:
                return f"sa:{match.group(1)}", ("c", match.group(2))
            return None, None
        if annotation[0] == "sub":
            name = self.symbols.lib_name(annotation[1])
            if name in KNOWLEDGE.mapped_wrappers and annotation[2]:
                return name, annotation[2][0]
        return None, None

    def _unwrap_annotated(self, inner: Expr) -> tuple[Expr, Optional[Expr]]:
        """``Annotated[int, mapped_column(primary_key=True)]`` (directly or through a
        module-level alias such as ``intpk``) -> (int, the mapped_column call)."""
        for _ in range(5):
            if inner[0] == "n":
                sym = self.symbols.lookup(inner)
                if isinstance(sym, Value) and not sym.rest and sym.expr[0] == "sub":
                    inner = sym.expr
                    continue
                return inner, None
            if inner[0] == "sub" and self.symbols.lib_name(inner[1]) == "typing:Annotated":
                items = inner[2]
                call = next((i for i in items[1:] if i[0] == "call"), None)
                return items[0], call
            return inner, None
        return inner, None

    def _is_classvar(self, annotation: Expr) -> bool:
        return annotation[0] == "sub" and self.symbols.lib_name(annotation[1]) == "typing:ClassVar"

    def _names_model(self, annotation: Expr) -> bool:
        """Does a type annotation name a mapped class (or a collection of them)?"""
        target = _annotation_target(annotation, self.symbols)
        if target is None:
            return False
        if target in _ANNOTATION_PRIMITIVES:
            return False
        if self._model_names is None:
            self._model_names = {info.ref.fact.name for info in self.infos.values() if info.style != "none"}
        return target.rsplit(".", 1)[-1] in self._model_names

    def _memoised(self, kind: str, key: object, compute: Callable, *args: object) -> Any:
        """``compute(*args)``, once per build for each ``key``: the same annotation or
        column type is read for thousands of columns. Every result kept is a pure
        function of its key and the project (``_type`` does not depend on the class it
        is called for); keys are values (expressions), never object ids."""
        memo = self._memos.setdefault(kind, {})
        try:
            found = memo.get(key, _MISSING)
        except TypeError:  # an unhashable constant
            return compute(*args)
        if found is _MISSING:
            found = memo[key] = self._with_reads((kind, key), lambda: compute(*args))
        else:
            self._replay_reads((kind, key))
        return found

    def _with_reads(self, key: tuple, compute: Callable[[], _U]) -> _U:
        """``compute()``, a result kept for reuse within this build: while reads are
        tracked, what it read is kept under ``key`` for ``_replay_reads``."""
        if not self._tracking:
            return compute()
        with self.symbols.reading() as frame:
            found = compute()
        self._memo_reads[key] = frozenset(frame)
        return found

    def _replay_reads(self, key: tuple) -> None:
        """A kept result reused: what computing it read counts for the open frame."""
        if self._tracking:
            self.symbols.note(self._memo_reads.get(key, (UNSETTLED,)))

    # ---- columns

    def _inherited_column(self, info: ClassInfo, attr: AttrFact, owner: ClassRef, call: Expr, func_name: str,
                          defaults: tuple, inner: Optional[Expr]) -> ColumnModel:
        """``_column``, read once per mixin attribute and type map rather than once per
        class that inherits it (a copy each: tables change their own columns later). The
        column depends on the class only through its type annotation map."""
        if owner.fact is info.ref.fact:
            return self._column(info, attr, owner, call, func_name, defaults, inner)
        # the attribute is kept with its column: an id is only unique among live objects
        key = (id(attr), owner.qualname, tuple(info.type_map))
        known = self._inherited_columns.get(key)
        if known is None or known[0] is not attr:
            column = self._with_reads(("inherited", key),
                                      lambda: self._column(info, attr, owner, call, func_name, defaults, inner))
            known = self._inherited_columns[key] = (attr, column)
        else:
            self._replay_reads(("inherited", key))
        return copy.copy(known[1])

    def _column(self, info: ClassInfo, attr: AttrFact, owner: ClassRef, call: Expr, func_name: str,
                defaults: tuple, inner: Optional[Expr]) -> ColumnModel:
        kwargs = dict(defaults)
        kwargs.update(dict(call[3]))
        args = list(call[2])
        name = attr.name
        if args and isinstance(_const(args[0]), str):
            name = str(_const(args.pop(0)))
        if isinstance(_const(kwargs.get("name")), str):
            name = str(_const(kwargs["name"]))
        type_expr: Optional[Expr] = kwargs.get("type_")
        fks: list[ForeignKeyModel] = []
        for arg in args:
            sub, sub_name, _d = self._callee(arg)
            if sub_name == "sa:ForeignKey":
                fks.append(self._foreign_key(sub, _loc(owner.module, attr.line, attr.column)))
            elif type_expr is None and arg[0] in ("n", "call", "attr") and sub_name not in ("sa:Sequence", "sa:Identity", "sa:Computed", "sa:FetchedValue", "sa:CheckConstraint"):
                type_expr = arg
        primary_key = _is_true(kwargs.get("primary_key"))
        nullable_expr = kwargs.get("nullable")
        if nullable_expr is not None and isinstance(_const(nullable_expr), bool):
            nullable: Optional[bool] = _const(nullable_expr)  # type: ignore[assignment]
        elif nullable_expr is not None:
            nullable = None
        elif func_name == "sa:mapped_column" and inner is not None:
            # SQLAlchemy derives it from the annotation even for a primary key:
            # Mapped[Optional[int]] = mapped_column(primary_key=True) is nullable.
            nullable = self._memoised("optional", inner, _annotation_optional, inner, self.symbols)
        elif primary_key:
            nullable = False
        else:
            nullable = True
        if type_expr is not None:
            # a call's position is no part of the type it names
            key = type_expr[:3] if type_expr[0] == "call" else type_expr
            tinfo = self._memoised("type", key, self._type, type_expr, owner)
        elif inner is not None:
            tinfo = self._memoised("annotation", (inner, tuple(info.type_map)), self._annotation_type, inner, info)
        elif fks:
            tinfo = TypeInfo(None, "other", False)  # SQLAlchemy copies the referenced column's type
        else:
            tinfo = TypeInfo(None, "unknown", False)
        encrypted = tinfo.encrypted or _info_encrypted(kwargs.get("info"))
        return ColumnModel(
            name=name, attribute=attr.name, type_name=tinfo.name, type_kind=tinfo.kind,
            encrypted=encrypted, nullable=nullable, primary_key=primary_key,  # type: ignore[arg-type]
            unique=_is_true(kwargs.get("unique")), indexed=_is_true(kwargs.get("index")),
            foreign_keys=fks, location=_loc(owner.module, attr.line, attr.column),
            declared_in=owner.fact.name,
        )

    def _sqlmodel_column(self, info: ClassInfo, attr: AttrFact, owner: ClassRef,
                         call: Optional[Expr], defaults: tuple) -> ColumnModel:
        kwargs = dict(defaults)
        if call is not None:
            kwargs.update(dict(call[3]))
        sa_column = kwargs.get("sa_column")
        if sa_column is not None:
            col_call, col_name, col_defaults = self._callee(sa_column)
            if col_name == "sa:Column":
                return self._column(info, attr, owner, col_call, col_name, col_defaults, None)
        annotation = attr.annotation
        primary_key = _is_true(kwargs.get("primary_key"))
        nullable_kw = kwargs.get("nullable")
        if nullable_kw is not None and isinstance(_const(nullable_kw), bool):
            nullable: Optional[bool] = _const(nullable_kw)  # type: ignore[assignment]
        elif primary_key:
            nullable = False
        else:
            nullable = _annotation_optional(annotation, self.symbols) if annotation is not None else True
        fks = []
        target = _const(kwargs.get("foreign_key"))
        if isinstance(target, str):
            fks.append(_fk_from_string(target, kwargs.get("ondelete"), _loc(owner.module, attr.line, attr.column)))
        sa_kw = kwargs.get("sa_column_kwargs")
        extra = dict(sa_kw[1]) if sa_kw is not None and sa_kw[0] == "dict" else {}
        extra = {_const(k): v for k, v in extra.items()}
        if kwargs.get("sa_type") is not None:
            tinfo = self._type(kwargs["sa_type"], owner)
        else:
            tinfo = self._annotation_type(annotation, info, sqlmodel=True) if annotation is not None else TypeInfo(None, "unknown", False)
        return ColumnModel(
            name=attr.name, attribute=attr.name, type_name=tinfo.name, type_kind=tinfo.kind,
            encrypted=tinfo.encrypted or _info_encrypted(extra.get("info")),
            nullable=nullable, primary_key=primary_key,  # type: ignore[arg-type]
            unique=_is_true(kwargs.get("unique")), indexed=_is_true(kwargs.get("index")),
            foreign_keys=fks, location=_loc(owner.module, attr.line, attr.column),
            declared_in=owner.fact.name,
        )

    def _foreign_key(self, call: Expr, loc: Location) -> ForeignKeyModel:
        ondelete = _kw(call, "ondelete")
        target = call[2][0] if call[2] else _kw(call, "column")
        if target is not None and isinstance(_const(target), str):
            return _fk_from_string(str(_const(target)), ondelete, loc)
        table, column = self._column_reference(target)
        return ForeignKeyModel(table, column, _const_str(ondelete), ondelete is not None, loc)

    def _column_reference(self, expr: Optional[Expr]) -> tuple[Optional[str], Optional[str]]:
        """``User.id`` / ``users.c.id`` / ``User.__table__.c.id`` -> (table, column)."""
        if expr is None:
            return None, None
        sym = self.symbols.lookup(expr)
        if isinstance(sym, ClassAttr) and sym.path:
            info = self.classify(sym.cls)
            if self._tracking and info.table is not None:
                self.symbols.note(self._built.get(info.table.qualname or "", (UNSETTLED,)))
            path = [p for p in sym.path if p not in ("__table__", "c", "columns")]
            if len(path) == 1:
                table_name = self._class_table_name(info)
                col = info.table.column_by_attribute(path[0]) if info.table else None
                return table_name, col.name if col else path[0]
        if isinstance(sym, Value) and sym.expr[0] == "call" and len(sym.rest) == 2 and sym.rest[0] in ("c", "columns"):
            if self.symbols.lib_name(sym.expr[1]) == "sa:Table" and sym.expr[2]:
                name = _const(sym.expr[2][0])
                return (name if isinstance(name, str) else None), sym.rest[1]
        return None, None

    def _class_table_name(self, info: ClassInfo) -> Optional[str]:
        if info.table is not None:
            return info.table.name
        name, _own = self._table_name(info, {q for q, i in self.infos.items() if i.mapped})
        return name

    # ---- types

    def _type(self, expr: Expr, owner: ClassRef) -> TypeInfo:
        if expr[0] == "call" and expr[1][0] == "attr":
            # String(50).with_variant(...): the base type decides
            return self._type(expr[1][1], owner)
        target = expr[1] if expr[0] == "call" else expr
        sym = self.symbols.lookup(target)
        if isinstance(sym, ClassRef):
            return self._project_type(sym)
        name = lib_name_of(sym)
        qualified = target[1] if target[0] == "n" else None
        if qualified and self._is_configured_encrypted(qualified, name):
            return TypeInfo(qualified, "string", True)
        if name is None:
            return TypeInfo(None, "unknown", False)
        short = name.split(":", 1)[-1]
        if name in KNOWLEDGE.encrypting_types:
            return TypeInfo(short, "string", True)
        if name in KNOWLEDGE.hashing_types:
            return TypeInfo(short, "hash", False)
        if short in ("CHAR", "NCHAR") and expr[0] == "call" and expr[2] and _const(expr[2][0]) in _HEX_DIGEST_LENGTHS:
            # A fixed-width column exactly as wide as a hex SHA-1/256/512 digest holds a digest.
            return TypeInfo(short, "hash", False)
        if name.startswith(KNOWLEDGE.type_families):
            return TypeInfo(short, classify_type_name(short), False)
        return TypeInfo(short, "unknown", False)

    def _is_configured_encrypted(self, qualified: str, lib: Optional[str]) -> bool:
        for configured in self.encrypted_types:
            if qualified == configured or qualified.endswith("." + configured.rsplit(".", 1)[-1]) and (
                    configured.rsplit(".", 1)[-1] == qualified.rsplit(".", 1)[-1]):
                return True
        return False

    def _project_type(self, ref: ClassRef) -> TypeInfo:
        key = ref.qualname
        if key in self._type_cache:
            self._replay_reads(("project_type", key))
            return self._type_cache[key]
        self._type_cache[key] = TypeInfo(ref.fact.name, "unknown", False)
        return self._with_reads(("project_type", key), lambda: self._project_type_of(ref, key))

    def _project_type_of(self, ref: ClassRef, key: str) -> TypeInfo:
        result = TypeInfo(ref.fact.name, "unknown", False)
        if any(key == c or key.endswith("." + c) or ref.fact.name == c for c in self.encrypted_types):
            result = TypeInfo(key, "string", True)
        elif re.search(r"encrypt|crypt|cipher|fernet|seal|vault|kms", ref.fact.name, re.IGNORECASE):
            result = TypeInfo(key, "string", True)
        else:
            for cls in mro(self.symbols, ref):
                for base in cls.fact.bases:
                    base_name = self.symbols.lib_name(base)
                    if base_name in KNOWLEDGE.encrypting_types:
                        result = TypeInfo(key, "string", True)
                impl = own_attr(cls.fact, "impl")
                if impl is not None and impl.value is not None and result.kind == "unknown":
                    inner = self._type(impl.value, cls)
                    result = TypeInfo(key, inner.kind, inner.encrypted)
                if result.kind != "unknown":
                    break
            if result.kind == "unknown":
                for cls in mro(self.symbols, ref):
                    for base in cls.fact.bases:
                        base_type = self._type(base, cls)
                        if base_type.kind != "unknown":
                            result = TypeInfo(key, base_type.kind, base_type.encrypted)
        self._type_cache[key] = result
        return result

    def _annotation_type(self, inner: Expr, info: ClassInfo, sqlmodel: bool = False) -> TypeInfo:
        core = _strip_optional(inner, self.symbols)
        if core is None:
            return TypeInfo(None, "unknown", False)
        for key, value in info.type_map:
            if _same_name(key, core, self.symbols):
                return self._type(value, info.ref)
        sym = self.symbols.lookup(core)
        if isinstance(sym, ClassRef):
            return TypeInfo(sym.fact.name, "other", False)  # an Enum or similar
        name = lib_name_of(sym)
        if name is None:
            return TypeInfo(None, "unknown", False)
        builtin = builtin_annotation_type(name, sqlmodel)
        if builtin is not None:
            return builtin
        if self._is_configured_encrypted(core[1] if core[0] == "n" else "", name):
            return TypeInfo(name, "string", True)
        return TypeInfo(name.split(":", 1)[-1], "other", False)

    # ---- relationships

    def _relationship(self, attr: AttrFact, owner: ClassRef, call: Optional[Expr], func_name: str,
                      inner: Optional[Expr], defaults: tuple) -> RelationshipModel:
        kwargs: dict[str, Expr] = dict(defaults)
        args: list[Expr] = []
        if call is not None:
            kwargs.update(dict(call[3]))
            args = list(call[2])
        if func_name == "sqlmodel:Relationship":
            extra = kwargs.get("sa_relationship_kwargs")
            if extra is not None and extra[0] == "dict":
                for key, value in extra[1]:
                    if isinstance(_const(key), str):
                        kwargs.setdefault(_const(key), value)  # type: ignore[arg-type]
            if kwargs.get("link_model") is not None:
                kwargs.setdefault("secondary", kwargs["link_model"])
            sa_rel = kwargs.get("sa_relationship")
            if sa_rel is not None and sa_rel[0] == "call":
                kwargs.update(dict(sa_rel[3]))
                args = list(sa_rel[2])
        if func_name != "sqlmodel:Relationship" and len(args) > 1 and args[1][0] != "star":
            kwargs.setdefault("secondary", args[1])  # relationship(argument, secondary, ...)
        target: Optional[str] = None
        target_expr = args[0] if args else kwargs.get("argument")
        if target_expr is not None:
            target = self._class_name_of(target_expr)
        else:
            annotation = inner if inner is not None else attr.annotation
            if annotation is not None:
                target = _annotation_target(annotation, self.symbols)
        backref = kwargs.get("backref")
        backref_name = _const(backref)
        if backref is not None and backref[0] == "call" and backref[2]:
            backref_name = _const(backref[2][0])
        foreign_keys = kwargs.get("foreign_keys")
        fk_names: Optional[list[str]] = None
        if foreign_keys is not None:
            fk_names = _column_names_in(foreign_keys)
        primaryjoin = kwargs.get("primaryjoin")
        return RelationshipModel(
            attribute=attr.name, target=target,
            back_populates=_const_str(kwargs.get("back_populates")),
            backref=backref_name if isinstance(backref_name, str) else None,
            secondary=kwargs.get("secondary") is not None,
            secondary_table=self._secondary_name(kwargs.get("secondary")),
            primaryjoin=primaryjoin is not None,
            foreign_keys=fk_names,
            primaryjoin_columns=_column_names_in(primaryjoin) if primaryjoin is not None else [],
            viewonly=_is_true(kwargs.get("viewonly")),
            location=_loc(owner.module, attr.line, attr.column), declared_in=owner.fact.name,
        )

    def _secondary_name(self, expr: Optional[Expr]) -> Optional[str]:
        if expr is None:
            return None
        expr, written = _named_in_string(expr)
        if written is not None:
            return written
        sym = self.symbols.lookup(expr)
        if isinstance(sym, Value) and not sym.rest and sym.expr[0] == "call" and sym.expr[2]:
            name = _const(sym.expr[2][0])
            return name if isinstance(name, str) else None
        if isinstance(sym, ClassAttr) and sym.path in (("__table__",), ("__tablename__",)):
            return self._class_table_name(self.classify(sym.cls))
        if isinstance(sym, ClassRef):  # SQLModel's link_model=, or secondary=Model.__table__
            return self._class_table_name(self.classify(sym))
        return None

    def _class_name_of(self, expr: Expr) -> Optional[str]:
        expr, written = _named_in_string(expr)
        if written is not None:
            return written
        sym = self.symbols.lookup(expr)
        if isinstance(sym, ClassRef):
            return sym.fact.name
        return None

    # ---- __table_args__ and module-level constraints

    def _table_args(self, table: TableModel, attr: AttrFact, owner: ClassRef) -> None:
        value = attr.value
        if value is None:
            if attr.declared_attr:
                table.complete = False
            return
        if value[0] == "dict":
            return
        if value[0] not in ("tuple", "list"):
            table.complete = False
            return
        for item in value[1]:
            if item[0] == "dict":
                continue
            self._constraint(table, item, owner.module, attr.line, owner)

    def _constraint(self, table: TableModel, item: Expr, module: ModuleFacts, line: int,
                    owner: Optional[ClassRef]) -> None:
        call, name, _defaults = self._callee(item)
        if call is None:
            if item[0] == "star":
                table.complete = False
            return
        loc = _loc(module, call[4] or line, call[5])
        if name == "sa:Index":
            index_name = _const(call[2][0]) if call[2] else None
            cols = [self._constraint_column(e, table) for e in call[2][1:]]
            exprs = [_render(e) for e in call[2][1:] if self._constraint_column(e, table) is None]
            table.indexes.append(IndexModel(
                index_name if isinstance(index_name, str) else None, cols,
                _is_true(_kw(call, "unique")), loc, exprs, _const_str(_kw(call, "postgresql_using"))))
        elif name == "sa:UniqueConstraint":
            cols = [self._constraint_column(e, table) for e in call[2]]
            table.unique_constraints.append(IndexModel(_const_str(_kw(call, "name")), cols, True, loc))
        elif name == "sa:PrimaryKeyConstraint":
            cols = [self._constraint_column(e, table) for e in call[2]]
            table.primary_key_constraint = [c for c in cols if c]
        elif name == "sa:ForeignKeyConstraint" and len(call[2]) >= 2:
            local = [self._constraint_column(e, table) for e in _items(call[2][0])]
            remote = [_const(e) for e in _items(call[2][1])]
            ondelete = _kw(call, "ondelete")
            first = remote[0] if remote and isinstance(remote[0], str) else None
            fk = _fk_from_string(first, ondelete, loc) if first else ForeignKeyModel(None, None, _const_str(ondelete), ondelete is not None, loc)
            table.extra_foreign_keys.append(([c for c in local if c], fk))

    def _constraint_column(self, expr: Expr, table: TableModel) -> Optional[str]:
        const = _const(expr)
        if isinstance(const, str):
            return const
        if expr[0] == "self":
            col = table.column_by_attribute(expr[1])
            return col.name if col else expr[1]
        if expr[0] == "call" and expr[1][0] == "attr" and expr[1][2] in ("desc", "asc", "nulls_last", "nulls_first"):
            return self._constraint_column(expr[1][1], table)
        if expr[0] == "call" and expr[1][0] == "n" and expr[1][1].rsplit(".", 1)[-1] in ("desc", "asc"):
            base = ("n", expr[1][1].rsplit(".", 1)[0])
            return self._constraint_column(base, table)
        if expr[0] in ("n", "attr"):
            _table, column = self._column_reference(expr)
            return column
        return None

    def module_tables(self) -> None:
        """Imperative ``Table()`` calls, then module-level ``Index`` / ``UniqueConstraint``."""
        for module in self._schema_modules:
            for call_fact in module.calls:
                call, name, _d = self._callee(call_fact.value)
                if name == "sa:Table":
                    self._imperative_table(module, call, call_fact.line, call_fact.column, call_fact.target)
        for module in self._schema_modules:
            for call_fact in module.calls:
                call, name, _d = self._callee(call_fact.value)
                if name in ("sa:Index", "sa:UniqueConstraint") and call is not None:
                    table = self._table_of_constraint(call)
                    if table is not None:
                        self._constraint(table, call, module, call_fact.line, None)

    def _table_of_constraint(self, call: Expr) -> Optional[TableModel]:
        args = call[2][1:] if call[2] and isinstance(_const(call[2][0]), str) else call[2]
        for arg in _name_references(args):
            sym = self.symbols.lookup(arg)
            if isinstance(sym, ClassAttr):
                info = self.infos.get(sym.cls.qualname)
                if info is not None and info.table is not None:
                    return info.table
            if isinstance(sym, Value) and sym.expr[0] == "call" and self.symbols.lib_name(sym.expr[1]) == "sa:Table":
                name = _const(sym.expr[2][0]) if sym.expr[2] else None
                for table in self.tables:
                    if table.is_imperative and table.name == name:
                        return table
        return None

    def _imperative_table(self, module: ModuleFacts, call: Expr, line: int, column: int,
                          variable: Optional[str] = None) -> None:
        args = list(call[2])
        name = _const(args[0]) if args else None
        table = TableModel(
            name=name if isinstance(name, str) else None, class_name=None, qualname=None,
            location=_loc(module, call[4] or line, call[5] or column), is_imperative=True,
            complete=isinstance(name, str), variable=variable,
        )
        self.tables.append(table)
        self._table_items(table, module, args[1:], line, column, mapped=False)

    def imperative_mappings(self) -> None:
        """``registry.map_imperatively(Doc, doc_table, properties={...})`` and 1.x's
        ``mapper(Doc, doc_table)``: the plain class is mapped to the imperative table."""
        tables = {(t.location.path, t.location.line, t.location.column): t for t in self.tables if t.is_imperative}
        for module in self._schema_modules:
            for call_fact in module.calls:
                call = call_fact.value
                if call is None or call[0] != "call" or len(call[2]) < 2 or not self._is_mapping_call(call[1]):
                    continue
                cls = self.symbols.lookup(call[2][0])
                given = self.symbols.lookup(call[2][1])
                if not isinstance(cls, ClassRef) or not isinstance(given, Value) or given.rest \
                        or given.expr[0] != "call":
                    continue
                table = tables.get((given.module.path, given.expr[4], given.expr[5]))
                info = self.infos.get(cls.qualname)
                if table is None or info is None or info.mapped or table.class_name is not None:
                    continue
                info.style, info.mapped, info.table = "imperative-registry", True, table
                # from here on the table is the class's, as a declarative class's is
                table.class_name, table.qualname, table.is_imperative = cls.fact.name, cls.qualname, False
                properties = _kw(call, "properties")
                for key, value in (properties[1] if properties is not None and properties[0] == "dict" else ()):
                    name = _const(key)
                    rel, rel_name, defaults = self._callee(value)
                    if isinstance(name, str) and rel_name in KNOWLEDGE.relationship_functions:
                        attr = AttrFact(name, rel[4] or call_fact.line, rel[5] or 1, None, rel)
                        table.relationships.append(self._relationship(attr, cls, rel, rel_name, None, defaults))

    def _is_mapping_call(self, func: Expr) -> bool:
        sym = self.symbols.lookup(func)
        if lib_name_of(sym) in ("sa:mapper", "sa:map_imperatively"):
            return True
        if isinstance(sym, Value) and sym.rest == ("map_imperatively",) and sym.expr[0] == "call":
            return self.symbols.lib_name(sym.expr[1]) == "sa:registry"  # registry().map_imperatively
        return False

    def _table_items(self, table: TableModel, module: ModuleFacts, args: list, line: int, column: int,
                     mapped: bool) -> None:
        """The columns and constraints of a ``Table(name, metadata, ...)`` call."""
        fake_owner = ClassRef(module, ClassFact("Table", line, column, [], {}, [], []))
        # Flask-SQLAlchemy's db.Table takes no MetaData: anything that is not a schema
        # item is skipped rather than counted by position.
        for arg in args:
            sub, sub_name, defaults = self._callee(arg)
            if sub_name == "sa:Column":
                # a name that is no string constant stays unknown (None), as the column's name
                name = cast(str, _const_str(sub[2][0])) if sub[2] else "?"
                col_attr = AttrFact(name, sub[4] or line, sub[5] or 1, None, sub)
                col = self._column(ClassInfo(fake_owner, "declarative"), col_attr, fake_owner, sub, sub_name, defaults, None)
                col.attribute = col.name if mapped else None
                col.declared_in = f"Table({table.name!r})"
                table.columns.append(col)
            elif sub_name in ("sa:Index", "sa:UniqueConstraint", "sa:PrimaryKeyConstraint", "sa:ForeignKeyConstraint"):
                self._constraint(table, sub, module, line, None)
            elif arg[0] == "star":
                table.complete = False
        _primary_key_not_null(table)


# --------------------------------------------------------------------------- pure helpers

def _split_at_capitals(name: str) -> str:
    return "_".join(part.lower() for part in re.split("(?=[A-Z])", name) if part)


_CLASS_NAME_SPELLINGS: tuple[Callable[[str], str], ...] = (
    camel_to_snake,  # ApiKey -> api_key, HTTPLog -> http_log
    _split_at_capitals,  # HTTPLog -> h_t_t_p_log
    str.lower,  # ApiKey -> apikey
    lambda name: camel_to_snake(name) + "s",  # ApiKey -> api_keys
    lambda name: name.lower() + "s",
)


def _foreign_key_tables(modules: Iterable[ModuleFacts]) -> set[str]:
    """The table part of every ``ForeignKey("table.column")`` (and
    ``ForeignKeyConstraint``) string in the project's classes and module-level calls."""
    exprs = [e for m in modules for e in (
        *(part for c in m.classes for a in c.attrs for part in (a.value, a.annotation)),
        *(call.value for call in m.calls))]
    found: set[str] = set()
    for expr in _subexpressions(exprs):
        if expr[0] != "call" or len(expr) != 6 or not isinstance(expr[1], tuple):
            continue
        func = expr[1]
        name = func[1] if func[0] == "n" else func[2] if func[0] == "attr" else ""
        last = name.rsplit(".", 1)[-1] if isinstance(name, str) else ""
        targets = expr[2][:1] if last == "ForeignKey" else _items(expr[2][1]) if (
            last == "ForeignKeyConstraint" and len(expr[2]) > 1) else ()
        for target in targets:
            text = _const(target)
            if isinstance(text, str) and "." in text:
                found.add(text.rsplit(".", 1)[0].rsplit(".", 1)[-1])
    return found


def _primary_key_not_null(table: TableModel) -> None:
    """The columns a ``PrimaryKeyConstraint`` names are NOT NULL, as SQLAlchemy makes
    them (and as PostgreSQL requires of a primary key)."""
    for name in table.primary_key_constraint or ():
        column = table.column(name)
        if column is not None:
            column.nullable = False


_HEX_DIGEST_LENGTHS = (40, 64, 128)
_ANNOTATION_PRIMITIVES = {"int", "str", "bool", "float", "bytes", "dict", "list", "datetime", "date",
                          "Decimal", "UUID", "uuid.UUID", "Any", "None", "time", "timedelta"}


def _subexpressions(exprs: Iterable[Optional[Expr]]) -> Iterator[Expr]:
    """Every node inside the expressions, outermost first (a tuple of nodes, such as a
    call's arguments, is walked through)."""
    for expr in exprs:
        if not isinstance(expr, tuple) or not expr:
            continue
        if not isinstance(expr[0], str):
            yield from _subexpressions(expr)
            continue
        yield expr
        yield from _subexpressions(p for p in expr[1:] if isinstance(p, tuple))


def _name_references(exprs: Iterable[Expr]) -> Iterator[Expr]:
    """Every name inside the expressions, outermost first: ``func.lower(User.email)``
    yields ``func.lower`` then ``User.email``."""
    return (expr for expr in _subexpressions(exprs) if expr[0] == "n")


def _named_in_string(expr: Expr) -> tuple[Expr, Optional[str]]:
    """relationship("User") / secondary="task_tags" / lambda: X: (the expression without
    its lambda, the name when it is written as a string)."""
    if expr[0] == "lambda":
        expr = expr[1]
    const = _const(expr)
    return expr, (const.strip() if isinstance(const, str) else None)


def _const_str(expr: Optional[Expr]) -> Optional[str]:
    value = _const(expr)
    return value if isinstance(value, str) else None


def _fk_from_string(target: str, ondelete: Optional[Expr], loc: Location) -> ForeignKeyModel:
    parts = target.split(".")
    if len(parts) >= 2:
        table, column = parts[-2], parts[-1]
    else:
        table, column = None, parts[0]
    return ForeignKeyModel(table, column, _const_str(ondelete), ondelete is not None, loc)


def _info_encrypted(info: Optional[Expr]) -> bool:
    if info is None or info[0] != "dict":
        return False
    return any(_const(k) == "encrypted" and _is_true(v) for k, v in info[1])


def _strip_optional(expr: Expr, symbols: SymbolTable) -> Optional[Expr]:
    """``Optional[str]`` / ``str | None`` / ``Union[str, None]`` -> ``str``."""
    for _ in range(5):
        if expr[0] == "or":
            left, right = expr[1], expr[2]
            if _const(right) is None and right[0] == "c":
                expr = left
                continue
            if _const(left) is None and left[0] == "c":
                expr = right
                continue
            return None
        if expr[0] == "sub":
            name = symbols.lib_name(expr[1])
            if name == "typing:Optional":
                expr = expr[2][0]
                continue
            if name == "typing:Union":
                rest = [i for i in expr[2] if not (i[0] == "c" and i[1] is None)]
                if len(rest) == 1:
                    expr = rest[0]
                    continue
                return None
            if name == "typing:Annotated":
                expr = expr[2][0]
                continue
        if expr[0] == "c" and isinstance(expr[1], str):
            text = expr[1].replace(" ", "")
            text = re.sub(r"^Optional\[(.*)\]$", r"\1", text)
            text = re.sub(r"\|None$|^None\|", "", text)
            return ("n", f"?.{text}") if "." not in text else ("n", text)
        return expr
    return expr


def _annotation_optional(expr: Expr, symbols: SymbolTable) -> Optional[bool]:
    """True if the annotation admits None, the way SQLAlchemy derives nullability."""
    for _ in range(5):
        if expr[0] == "or":
            return _contains_none(expr)
        if expr[0] == "sub":
            name = symbols.lib_name(expr[1])
            if name == "typing:Optional":
                return True
            if name == "typing:Union":
                return any(i[0] == "c" and i[1] is None for i in expr[2])
            if name == "typing:Annotated":
                expr = expr[2][0]
                continue
            return False
        if expr[0] == "c" and isinstance(expr[1], str):
            text = expr[1].replace(" ", "")
            return text.startswith("Optional[") or "|None" in text or text.startswith("None|")
        if expr[0] == "c" and expr[1] is None:
            return True
        if expr[0] == "n":
            sym = symbols.lookup(expr)
            if isinstance(sym, Value) and not sym.rest and sym.expr[0] in ("sub", "or"):
                expr = sym.expr
                continue
        return False
    return False


def _contains_none(expr: Expr) -> bool:
    if expr[0] == "or":
        return _contains_none(expr[1]) or _contains_none(expr[2])
    return expr[0] == "c" and expr[1] is None


def _annotation_target(annotation: Expr, symbols: SymbolTable) -> Optional[str]:
    """The class a relationship annotation names: ``Mapped[list["Task"]]`` -> "Task"."""
    expr = annotation
    for _ in range(6):
        if expr[0] == "c" and isinstance(expr[1], str):
            text = expr[1].strip().strip("'\"")
            match = re.match(r"^(?:\w+\.)*(?:Mapped|WriteOnlyMapped|DynamicMapped|List|list|Set|set|Optional|"
                             r"AppenderQuery|Sequence|Collection|Iterable)\[(.*)\]$", text)
            if match:
                expr = ("c", match.group(1))
                continue
            text = re.sub(r"\s*\|\s*None$", "", text)
            return text.strip("'\"") or None
        if expr[0] == "or":
            if _const(expr[2]) is None and expr[2][0] == "c":
                expr = expr[1]
                continue
            return None
        if expr[0] == "sub":
            name = symbols.lib_name(expr[1])
            if name in KNOWLEDGE.mapped_wrappers or name in ("typing:Optional", "typing:List", "typing:Set", "builtins:list",
                                                    "builtins:set", "typing:Sequence", "typing:Collection"):
                expr = expr[2][0]
                continue
            if expr[1][0] == "n" and expr[1][1].rsplit(".", 1)[-1] in ("list", "List", "set", "Set", "Optional"):
                expr = expr[2][0]
                continue
            return None
        if expr[0] == "n":
            sym = symbols.lookup(expr)
            if isinstance(sym, ClassRef):
                return sym.fact.name
            last = expr[1].rsplit(".", 1)[-1]
            return last if last not in _ANNOTATION_PRIMITIVES else None
        return None
    return None


def _same_name(key: Expr, core: Expr, symbols: SymbolTable) -> bool:
    if key[0] != "n" or core[0] != "n":
        return False
    if key[1] == core[1]:
        return True
    a, b = symbols.lookup(key), symbols.lookup(core)
    if a is not None and a == b:
        return True
    return lib_name_of(a) is not None and lib_name_of(a) == lib_name_of(b)


def _column_names_in(expr: Expr) -> list[str]:
    """Attribute names a foreign_keys= / primaryjoin= expression mentions."""
    out: list[str] = []

    def walk(node: object) -> None:
        if not isinstance(node, tuple) or not node:
            return
        if not isinstance(node[0], str):  # a tuple of expressions
            for part in node:
                walk(part)
            return
        if node[0] == "c" and isinstance(node[1], str):
            for match in re.finditer(r"(?:\w+\.)?(\w+)\b(?!\()", node[1]):
                out.append(match.group(1))
            return
        if node[0] == "self":
            out.append(node[1])
            return
        if node[0] == "n":
            out.append(node[1].rsplit(".", 1)[-1])
            return
        for part in node[1:]:
            if isinstance(part, tuple):
                walk(part)

    walk(expr)
    return out


def _substitute(fact, call: Expr) -> Optional[Expr]:
    """The expression a column factory returns, with its parameters bound."""
    bound: dict[str, Expr] = dict(fact.defaults)
    for name, value in zip(fact.params, call[2]):
        bound[name] = value
    for key, value in call[3]:
        if key in fact.params:
            bound[key] = value

    def sub(node: object) -> object:
        if not isinstance(node, tuple) or not node:
            return node
        if node[0] == "param":
            return bound.get(node[1], UNKNOWN)
        return tuple(sub(p) if isinstance(p, tuple) else p for p in node)

    return sub(fact.returns)  # type: ignore[return-value]


def _render(expr: Expr) -> str:
    """An expression index element as ``lower(email)`` (function and column names)."""
    if expr[0] == "call":
        func = expr[1]
        name = func[1].rsplit(".", 1)[-1] if func[0] == "n" else "expr"
        if name == "Column" and expr[2]:
            return _render(expr[2][0])  # func.lower(Column("email")) names the column
        inner = _render(expr[2][0]) if expr[2] else ""
        return f"{name}({inner})"
    if expr[0] == "n":
        return expr[1].rsplit(".", 1)[-1]
    if expr[0] == "self":
        return expr[1]
    if expr[0] == "c" and isinstance(expr[1], str):
        return expr[1]
    return "expr"


def _mark_hashed_on_write(tables: list[TableModel], modules: Iterable[ModuleFacts]) -> None:
    """A column the project writes a hash into holds hashes, wherever the write happens:
    mealie hashes in its services (``new_user.password = hash_password(...)``), fief
    builds ``SessionToken(token=token_hash)``; the model never sees the plaintext.
    Writes are matched by name, not followed to the model: ``Model(attr=...)`` counts for
    that model's column; a write to an object of unknown class only marks the columns
    so named (``hashed_by_name``)."""
    hashed = {name for module in modules for name in module.hashed_names}
    if not hashed:
        return
    for table in tables:
        classes = [table.class_name, *table.subclasses]
        for column in table.columns:
            attribute = column.attribute or column.name
            if any(f"{cls}.{attribute}" in hashed for cls in classes):
                column.hashed_on_write = True
            elif f".{attribute}" in hashed:
                column.hashed_by_name = True


def _copy_table(table: TableModel) -> TableModel:
    """A table whose lists and columns can change without changing ``table``."""
    new = object.__new__(TableModel)  # a shallow copy: copy.copy is slow for thousands of tables
    new.__dict__.update(table.__dict__)
    columns = []
    for column in table.columns:
        twin = object.__new__(ColumnModel)
        twin.__dict__.update(column.__dict__)
        columns.append(twin)
    new.columns = columns
    new.indexes = list(table.indexes)
    new.unique_constraints = list(table.unique_constraints)
    new.relationships = list(table.relationships)
    new.proxies = dict(table.proxies)
    new.extra_foreign_keys = list(table.extra_foreign_keys)
    new.subclasses = list(table.subclasses)
    if table.primary_key_constraint is not None:
        new.primary_key_constraint = list(table.primary_key_constraint)
    return new


def _facts_key(module: ModuleFacts) -> object:
    """What tells a module's facts changed: a file skimmed in one run and parsed in the
    next keeps its source key."""
    return (module.key, module.skimmed)


def project_layout(modules: dict[str, ModuleFacts]) -> tuple:
    """Every module's name and path, and the folder the paths are relative to: what
    resolution by path tails depends on, besides the modules' content."""
    return (os.getcwd(), *((name, m.path) for name, m in modules.items()))


def build_index(modules: dict[str, ModuleFacts], encrypted_types: Iterable[str] = (),
                previous: Optional[BuildMemory] = None, remember: bool = False) -> ProjectIndex:
    """``previous`` (with ``remember``, the index's ``build_memory`` carries the next
    one): a long-lived process's last build, whose class tables are copied where
    nothing they depend on changed. The index is the same as without it."""
    layout = project_layout(modules)
    same_layout = previous is not None and previous.layout == layout
    builder = _Builder(modules, encrypted_types, previous.by_suffix if same_layout and previous is not None else None)
    builder.build_class_tables(previous, remember, layout)
    builder.module_tables()
    builder.imperative_mappings()
    _mark_hashed_on_write(builder.tables, modules.values())
    class_names = {c.name for m in modules.values() for c in m.classes}
    hints = {name for m in modules.values() for name in m.class_hints}
    return ProjectIndex(modules, builder.tables, builder.infos, builder.symbols, class_names, hints,
                        build_memory=builder.memory, reused_tables=len(builder.reused))
