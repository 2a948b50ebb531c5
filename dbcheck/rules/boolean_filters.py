"""DBC507: Python's ``and`` / ``or`` / ``not`` / ``if`` on SQL expressions, and a tenant
column compared with the key of the wrong table - filters that read as scoped and are not.

The check reads each function's IR as written (no flow analysis is needed: the operands
of a filter are expressions, and only names that resolve to mapped columns count as SQL),
so it costs one walk over the bodies the index already holds."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

from dbcheck.facts.ir import (
    Assert, Assign, Attr, BoolOp, Call, Compare, Comprehension, Const, Expr, If, IfExp, Local, Loop,
    Name, Not, Return, Sequence,
)
from dbcheck.facts.model import FunctionIR, ModuleFacts
from dbcheck.findings import Finding
from dbcheck.flow.policy import names_identity_loader
from dbcheck.rules.request_input import mapped_tables, walk_ir
from dbcheck.rules.base import Rule, unique_places
from dbcheck.schema.model import ColumnModel, Location, TableModel
from dbcheck.semantic.symbols import ClassAttr, ClassRef, Value

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ProjectIndex

# Methods whose positional arguments are SQL conditions (a join's ON clause included), and
# SQLAlchemy's functions that combine conditions.
_FILTER_METHODS = frozenset({"where", "filter", "having", "join", "outerjoin", "join_from", "outerjoin_from"})
_COMBINERS = frozenset({"and_", "or_", "not_"})
# Methods of a column that build a SQL expression (``T.col.in_(ids)``).
_COLUMN_METHODS = frozenset({
    "in_", "not_in", "notin_", "is_", "is_not", "isnot", "like", "ilike", "not_like", "not_ilike", "notlike",
    "notilike", "startswith", "endswith", "contains", "icontains", "istartswith", "iendswith", "between", "any",
    "has", "match", "regexp_match", "op", "is_distinct_from", "isnot_distinct_from", "is_not_distinct_from",
    "astext", "as_boolean", "as_string",
})
# Who asks, as Flask-Login hands it out: the project's user model.
_FLASK_CURRENT_USER = "flask_login.current_user"


def _is_lib(index: "ProjectIndex", func: Expr, names: frozenset[str]) -> bool:
    lib = index.symbols.lib_name(func) if isinstance(func, Name) else None
    return lib is not None and lib.startswith(("sa:", "sqlmodel:")) and lib.split(":", 1)[1] in names


class _FunctionReader:
    """What one function's expressions are: SQL (built from mapped columns) or Python."""

    def __init__(self, index: "ProjectIndex", config: "Config", module: ModuleFacts, body: FunctionIR) -> None:
        self.index = index
        self.config = config
        self.module = module
        self.body = body
        # what each local is assigned (``cond = T.a == x``): ``cond and ...`` is SQL when
        # every value it is given is
        self.conditions: dict[str, list[Optional[Expr]]] = {}
        self.login_user: Optional[TableModel] = None  # the class of Flask-Login's ``current_user``

    # ------------------------------------------------------------------ what is SQL

    def column(self, expr: Expr) -> Optional[tuple[TableModel, ColumnModel]]:
        """The mapped column ``T.col`` names (``sqlmodel.col(T.col)`` too)."""
        if isinstance(expr, Call) and self.index.symbols.lib_name(expr.func) == "sqlmodel:col" and expr.args:
            return self.column(expr.args[0])
        if isinstance(expr, Attr) and isinstance(expr.value, Local):
            aliased = self._aliased_table(expr.value)  # ``parent = aliased(Task)``; ``parent.user_id``
            column = aliased.column_by_attribute(expr.name) if aliased is not None else None
            return (aliased, column) if aliased is not None and column is not None else None
        if not isinstance(expr, Name):
            return None
        sym = self.index.symbols.lookup(expr)
        if not isinstance(sym, ClassAttr) or len(sym.path) != 1:
            return None
        table = self._table_of(sym.cls)
        column = table.column_by_attribute(sym.path[0]) if table is not None else None
        return (table, column) if table is not None and column is not None else None

    def _aliased_table(self, local: Local) -> Optional[TableModel]:
        values = self.conditions.get(local.name) if local.tag == "local" else None
        if not values or len(values) != 1 or not isinstance(values[0], Call) or not values[0].args:
            return None
        if self.index.symbols.lib_name(values[0].func) not in ("sa:aliased", "sqlmodel:aliased"):
            return None
        sym = self.index.symbols.lookup(values[0].args[0])
        return self._table_of(sym) if isinstance(sym, ClassRef) else None

    def _table_of(self, ref: ClassRef) -> Optional[TableModel]:
        info = self.index.classes.get(ref.qualname)
        return info.table if info is not None and info.mapped else None

    def _column_method(self, expr: Call) -> bool:
        """``T.col.in_(...)``, ``T.rel.any(...)``: a method of a mapped attribute."""
        if isinstance(expr.func, Attr):
            # ``col(T.owner_id).is_(None)``, ``parent.user_id.in_(ids)``
            return expr.func.name in _COLUMN_METHODS and self.column(expr.func.value) is not None
        if not isinstance(expr.func, Name):
            return False
        sym = self.index.symbols.lookup(expr.func)
        if not isinstance(sym, ClassAttr) or len(sym.path) != 2 or sym.path[1] not in _COLUMN_METHODS:
            return False
        table = self._table_of(sym.cls)
        return table is not None and (table.column_by_attribute(sym.path[0]) is not None
                                      or any(r.attribute == sym.path[0] for r in table.relationships))

    def is_sql(self, expr: Expr, depth: int = 0) -> bool:
        """Whether ``expr`` is a SQL expression: Python cannot decide it, SQLAlchemy builds it."""
        if depth > 20:
            return False
        if isinstance(expr, Local) and expr.tag == "local" and expr.name in self.conditions:
            values = self.conditions[expr.name]
            return all(value is not None and self.is_sql(value, depth + 1) for value in values)
        if isinstance(expr, Compare):
            if len(expr.ops) != 1:
                return False
            return any(self.column(side) is not None or self._sql_function(side)
                       for side in (expr.left, expr.ops[0][1]))
        if isinstance(expr, Name):
            return self.column(expr) is not None  # a boolean column: ``T.archived``
        if isinstance(expr, Call):
            # and_() of SQL (``set(a) & set(b)`` is stored as and_() too: its operands decide)
            return self._column_method(expr) or (_is_lib(self.index, expr.func, _COMBINERS)
                                                 and any(self.is_sql(a, depth + 1) for a in expr.args))
        if isinstance(expr, BoolOp):
            return self.is_sql(expr.left, depth + 1) and self.is_sql(expr.right, depth + 1)
        if isinstance(expr, Not):
            return self.is_sql(expr.operand, depth + 1)
        return False

    def _sql_function(self, expr: Expr) -> bool:
        """``func.lower(T.email)``: a SQL function of a column."""
        if not isinstance(expr, Call) or not isinstance(expr.func, Name):
            return False
        lib = self.index.symbols.lib_name(expr.func) or ""
        return lib.startswith(("sa:", "sqlmodel:")) and ".func." in f".{expr.func.qualified}" \
            and any(self.column(arg) is not None for arg in expr.args)

    def sql_operand(self, expr: Expr) -> Optional[Expr]:
        """The SQL expression Python's truth test reads in an ``if`` test: the test itself
        or an operand of its ``and`` / ``or`` / ``not`` (``if not row or T.owner_id != uid``)."""
        if self.is_sql(expr):
            return expr
        if isinstance(expr, BoolOp):
            return self.sql_operand(expr.left) or self.sql_operand(expr.right)
        if isinstance(expr, Not) and expr.python:
            return self.sql_operand(expr.operand)
        return None

    def python_logic(self, expr: Expr) -> Optional[Expr]:
        """The Python ``and`` / ``or`` / ``not`` that decides ``expr``, when every operand
        is SQL (``flag or T.a == x`` is a Python toggle, on purpose)."""
        if isinstance(expr, BoolOp) and self.is_sql(expr):
            return expr
        if isinstance(expr, Not) and expr.python and self.is_sql(expr.operand):
            return expr
        if isinstance(expr, Not):
            return self.python_logic(expr.operand)  # ``~(T.a == x or T.b == y)``
        return None

    # ------------------------------------------------------------------ who the key is of

    def _class_of(self, expr: Expr) -> Optional[TableModel]:
        """The mapped table whose row ``expr`` holds, from what the code says about it: a
        parameter's annotation (``user: User``, ``Annotated[User, Depends(...)]``,
        ``Optional[User]``) or Flask-Login's ``current_user``."""
        if isinstance(expr, Name) and expr.qualified == _FLASK_CURRENT_USER:
            return self.login_user
        if isinstance(expr, Local) and expr.tag == "param":
            return self._annotated_table(self.body.annotations.get(expr.name), 0)
        return None

    def _annotated_table(self, hint: Any, depth: int) -> Optional[TableModel]:
        """The mapped class an annotation names (stored undecoded: plain tuples)."""
        if not isinstance(hint, tuple) or not hint or depth > 3:
            return None
        if hint[0] == "sub":
            base = self.index.symbols.lib_name(hint[1]) or ""
            if base.split(":", 1)[-1] in ("Annotated", "Optional") and hint[2]:
                return self._annotated_table(hint[2][0], depth + 1)
            return None
        sym = self.index.symbols.lookup(hint)
        if isinstance(sym, ClassRef):
            return self._table_of(sym)
        if isinstance(sym, Value) and not sym.rest:
            return self._annotated_table(sym.expr, depth + 1)  # ``CurrentUser = Annotated[User, ...]``
        return None

    def key_of_other_table(self, expr: Compare) -> Optional[tuple[TableModel, ColumnModel, str, TableModel, str]]:
        """``T.org_id == current_user.id`` where ``org_id`` references organizations: the
        tenant column compared with the primary key of a row of another table. (table,
        column, the table it references, the table of the row compared with, the row's
        text)."""
        if len(expr.ops) != 1 or expr.ops[0][0] not in ("==", "!="):
            return None
        for side, other in ((expr.left, expr.ops[0][1]), (expr.ops[0][1], expr.left)):
            found = self.column(side)
            if found is not None:
                return self.wrong_key(found[0], found[1], other)
        return None

    def wrong_key(self, table: TableModel, column: ColumnModel,
                  other: Expr) -> Optional[tuple[TableModel, ColumnModel, str, TableModel, str]]:
        """``column`` (of ``table``) given ``other``, the key of a row of a table its
        foreign key does not point at."""
        if column.name not in self.config.tenant_columns:
            return None
        targets = {fk.target_table for fk in column.foreign_keys}
        if len(targets) != 1 or None in targets:
            return None
        (target,) = targets
        holder, attribute, shown = _row_and_attribute(other)
        if holder is None:
            return None
        row_table = self._class_of(holder)
        if row_table is None or row_table.name is None or row_table.name == target:
            return None
        pk = row_table.column_by_attribute(attribute)
        if pk is None or row_table.primary_key != [pk.name]:
            return None
        if self._shares_key(row_table, pk, target):
            return None
        return table, column, target or "", row_table, shown

    def filter_by_table(self, call: Call) -> Optional[TableModel]:
        """The entity a ``filter_by(...)`` call filters: ``Task.query.filter_by``,
        ``select(Task)...filter_by``, ``session.query(Task)...filter_by``."""
        node: Expr = call.func
        for _ in range(12):
            if isinstance(node, Name):
                sym = self.index.symbols.lookup(node)
                if isinstance(sym, ClassAttr) and sym.path and sym.path[0] == "query":
                    return self._table_of(sym.cls)
                return None
            if isinstance(node, Attr):
                node = node.value
                continue
            if not isinstance(node, Call):
                return None
            opens = (isinstance(node.func, Name) and self.index.symbols.lib_name(node.func) in ("sa:select", "sqlmodel:select")) \
                or (isinstance(node.func, Attr) and node.func.name == "query")
            if opens:
                if len(node.args) != 1:
                    return None
                sym = self.index.symbols.lookup(node.args[0])
                return self._table_of(sym) if isinstance(sym, ClassRef) else None
            node = node.func
        return None

    def _shares_key(self, row_table: TableModel, pk: ColumnModel, target: Optional[str]) -> bool:
        """The row's key is a key of ``target`` too: joined-table inheritance (``users.id``
        references ``principals.id``) or a one-to-one extension either way round."""
        if any(fk.target_table == target for fk in pk.foreign_keys):
            return True
        for target_table in self.index.tables_named(target or ""):
            if len(target_table.primary_key) != 1:
                continue
            target_pk = target_table.column(target_table.primary_key[0])
            if target_pk is not None and any(fk.target_table == row_table.name for fk in target_pk.foreign_keys):
                return True
        return False


def _model_names(index: "ProjectIndex") -> Optional["re.Pattern[bytes]"]:
    """The mapped classes' names, as one pattern over a body's encoded IR (None: too many
    to be worth it)."""
    names = sorted({info.ref.fact.name for info in index.classes.values() if info.mapped})
    if not names or len(names) > 2000:
        return None
    return re.compile(b"|".join(re.escape(name.encode()) for name in names))


def flask_login_user(index: "ProjectIndex") -> Optional[TableModel]:
    """The mapped class Flask-Login's ``current_user`` is a row of: what the project's
    ``@login_manager.user_loader`` returns (its annotation, or the one mapped class its
    ``return`` names), else the one mapped ``UserMixin`` subclass, else the one mapped ``User``."""
    loaded: set[int] = set()
    found: list[TableModel] = []
    for module in index.modules.values():
        for body in module.bodies:
            if not any(names_identity_loader(d) for d in body.decorators):
                continue
            for table in _returned_tables(index, body):
                if id(table) not in loaded:
                    loaded.add(id(table))
                    found.append(table)
    if found:
        return found[0] if len(found) == 1 else None
    mixed = [index.classes[q].table for q in index.subclasses_of("flask_login.UserMixin")
             if q in index.classes and index.classes[q].mapped and index.classes[q].table is not None]
    if not mixed:
        mixed = [info.table for info in index.mapped_classes_named("User") if info.table is not None]
    return mixed[0] if len(mixed) == 1 and mixed[0] is not None else None


def _returned_tables(index: "ProjectIndex", body: FunctionIR) -> list[TableModel]:
    """The mapped classes a loader returns: its annotation, else what its ``return``s name."""
    hint = body.annotations.get("return")
    returned = [hint] if hint is not None else [node for node in walk_ir(body.body) if isinstance(node, Return)]
    return mapped_tables(index, tuple(returned))


def _row_and_attribute(expr: Expr) -> tuple[Optional[Expr], str, str]:
    """``user.id`` -> (user, "id", "user.id"); ``current_user.id`` likewise."""
    if isinstance(expr, Attr) and isinstance(expr.value, Local):
        return expr.value, expr.name, f"{expr.value.name}.{expr.name}"
    if isinstance(expr, Name) and "." in expr.qualified:
        base, attribute = expr.qualified.rsplit(".", 1)
        return Name(base), attribute, f"{base.rsplit('.', 1)[-1]}.{attribute}"
    return None, "", ""


def _tested(node: tuple) -> Optional[tuple[str, int, Expr]]:
    """The statement or expression that hands ``node``'s condition to Python's truth test:
    (keyword, line - 0 when the node has none, condition)."""
    if isinstance(node, If):
        return "if", node.line, node.test
    if isinstance(node, Assert):
        return "assert", node.line, node.test
    if isinstance(node, Loop) and node.is_while and node.iterable is not None:
        return "while", node.line, node.iterable
    if isinstance(node, IfExp):
        return "if", 0, node.test
    return None


def _method_name(call: Call) -> str:
    if isinstance(call.func, Attr):
        return call.func.name
    return call.func.qualified.rsplit(".", 1)[-1] if isinstance(call.func, Name) else ""


def _filter_method(reader: _FunctionReader, call: Call) -> Optional[str]:
    """The name a call that takes conditions is shown by (``where``, ``and_``), or None."""
    func = call.func
    if isinstance(func, Attr) and func.name in _FILTER_METHODS:
        return func.name
    if isinstance(func, Name):
        last = func.qualified.rsplit(".", 1)[-1]
        if last in _COMBINERS and _is_lib(reader.index, func, _COMBINERS):
            return last
        if last in _FILTER_METHODS and isinstance(reader.index.symbols.lookup(func), ClassAttr):
            return last  # ``Task.query.filter(...)``
    return None


def _shown(reader: _FunctionReader, expr: Expr, depth: int = 0) -> str:
    """A short rendering of a condition for the message: ``Task.status == 'open'``,
    ``func.lower(Member.email) == ...``; request values are shown as ``...``."""
    if depth > 4:
        return "..."
    found = reader.column(expr)
    if found is not None and isinstance(expr, Attr) and isinstance(expr.value, Local):
        return f"{expr.value.name}.{expr.name}"  # an alias: ``parent.user_id``
    if found is not None:
        return f"{found[0].class_name or found[0].name}.{found[1].attribute or found[1].name}"
    if isinstance(expr, Name) and isinstance(reader.index.symbols.lookup(expr), ClassAttr):
        return ".".join(expr.qualified.rsplit(".", 2)[-2:])  # ``TaskStatus.doing``
    if isinstance(expr, Compare) and len(expr.ops) == 1:
        return f"{_shown(reader, expr.left, depth + 1)} {expr.ops[0][0]} {_shown(reader, expr.ops[0][1], depth + 1)}"
    if isinstance(expr, Const) and isinstance(expr.value, (str, int, float, bool, type(None))) \
            and len(repr(expr.value)) <= 24:
        return repr(expr.value)
    if isinstance(expr, Local) and expr.tag == "local" and expr.name in reader.conditions:
        return expr.name  # a condition built before (``cond = ...``)
    if isinstance(expr, Call):
        if isinstance(expr.func, Attr):  # ``col(T.a).is_(None)``
            return f"{_shown(reader, expr.func.value, depth + 1)}.{expr.func.name}(...)"
        if isinstance(expr.func, Name):
            parts = expr.func.qualified.rsplit(".", 3)
            found = reader.column(Name(expr.func.qualified.rsplit(".", 1)[0]))
            if found is not None:  # ``T.a.in_(ids)``
                return f"{found[0].class_name or found[0].name}.{found[1].attribute or found[1].name}.{parts[-1]}(...)"
            inner = ", ".join(_shown(reader, arg, depth + 1) for arg in expr.args[:2])
            return f"{'.'.join(parts[-2:])}({inner})"
    if isinstance(expr, BoolOp):
        return f"({_shown(reader, expr.left, depth + 1)} {expr.op} {_shown(reader, expr.right, depth + 1)})"
    if isinstance(expr, Not):
        return f"not {_shown(reader, expr.operand, depth + 1)}"
    return "..."


def _truth(reader: _FunctionReader, expr: Expr) -> Optional[bool]:
    """Python's truth value of a SQL expression: a ``==`` comparison is falsy (its sides
    differ), a ``!=`` one truthy, a mapped attribute truthy (it defines no ``__bool__``);
    anything else raises TypeError (None)."""
    if isinstance(expr, Compare) and expr.ops[0][0] in ("==", "!="):
        return expr.ops[0][0] == "!="
    if reader.column(expr) is not None:
        return True
    return None


def _kept(reader: _FunctionReader, expr: BoolOp) -> Optional[Expr]:
    """The operand Python hands SQLAlchemy, or None when deciding raises TypeError."""
    truth = _truth(reader, expr.left)
    if truth is None:
        return None
    falsy = not truth
    if expr.op == "and":
        return expr.left if falsy else expr.right
    return expr.right if falsy else expr.left


def _negated(reader: _FunctionReader, expr: Expr) -> str:
    """What Python's ``not`` makes of a SQL expression."""
    truth = _truth(reader, expr)
    if truth is None:
        return "a TypeError when it runs"
    return "False (the filter keeps no row)" if truth else "True (the filter keeps every row)"


def _first_line(expr: Expr) -> int:
    """The line of the first positioned node inside ``expr`` (a BoolOp has none itself)."""
    stack: list = [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, (Compare, Call)) and node.line:
            return node.line
        if isinstance(node, tuple):
            stack.extend(part for part in node if isinstance(part, tuple))
    return 0


class PythonBooleanInFilter(Rule):
    code = "DBC507"
    name = "python-boolean-in-filter"
    summary = ("`and` / `or` / `not` / `if` on SQL expressions (only one operand reaches SQL), or a tenant "
               "column compared with the key of another table.")
    message = ("Python `{op}` between SQL expressions in {call}(): Python decides it, so only {kept} reaches the "
               "query{dropped}; use {instead}")
    messages = {
        "not": ("Python `not` on a SQL expression in {call}(): Python turns `not ({shown})` into {outcome}; "
                "use ~(...) or not_(...)"),
        "test": ("Python `{op}` on a SQL expression ({shown}): it is not the row's value, and the test does not "
                 "do what it reads; compare the loaded row's attribute instead"),
        "key": ("{column} references {target} but is compared with the key of a {other} ({shown}) in {call}(): "
                "the filter matches the wrong rows; compare it with the {target} key of who asks"),
    }
    cwe = "CWE-480: Use of Incorrect Operator"
    fix_description = ("the operand Python dropped is a filter the query never had; adding it changes which rows "
                       "the code returns, a change to review, not to apply blindly.")
    what_it_does = """
Flags Python's `and`, `or` and `not` between SQL expressions - comparisons of mapped
columns (`Task.user_id == uid`), column methods (`Task.id.in_(ids)`), `and_()` / `or_()` -
inside `where()`, `filter()`, `having()`, a join's ON clause, `and_()` / `or_()`, or
anywhere both operands are SQL; and an `if` / `assert` / conditional expression whose test
is a SQL comparison. An operand that is a Python value (`include_archived or
Task.archived.is_(False)`) makes it a deliberate toggle and is not flagged.

Also flags a tenant column compared with the primary key of a row of another table:
`Ticket.org_id == current_user.id` when `org_id` is a foreign key to `organizations` and
`current_user` is a `User` (from its annotation, or Flask-Login's `current_user`)."""
    why_bad = """
SQLAlchemy makes `==` comparisons falsy and `!=` ones truthy as Python booleans, so
`where(Task.id == i and Task.user_id == uid)` compiles to `WHERE tasks.id = :id_1`: the
tenant filter silently vanishes, and every other operator raises TypeError only when the
line runs. `not (Task.user_id == uid)` becomes `True`. A tenant column compared with a
user's id instead of the user's organization id matches another organization's rows (or
none) - and to every scoping check it looks scoped."""
    known_problems = """
Only names that resolve to mapped columns count as SQL: a condition built by a function
and held in a local is not followed, and who a row belongs to is known only from an
annotation or Flask-Login's `current_user`."""
    example = """
stmt = select(Task).where(Task.id == task_id and Task.user_id == user.id)
"""
    use_instead = """
stmt = select(Task).where(Task.id == task_id, Task.user_id == user.id)
"""
    valid = (
        '''
from typing import Optional
from sqlalchemy import ForeignKey, and_, not_, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    archived: Mapped[bool]
def tasks(session, user: User, task_id, include_archived):
    return session.scalars(select(Task).where(
        Task.id == task_id, Task.user_id == user.id,  # ok: DBC507
        include_archived or Task.archived.is_(False),  # ok: DBC507
        and_(Task.id > 0, not_(Task.archived)), ~(Task.id == 0))).all()  # ok: DBC507
def owner_matches(task: Task, user: User):
    if task.user_id == user.id and not task.archived:  # ok: DBC507
        return True
    return False
''',
    )
    invalid = (
        {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "org_id"
tenant-table = "orgs"
""", "example.py": '''
from sqlalchemy import ForeignKey, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
def task(session, task_id, user):
    return session.scalars(select(Task).where(Task.id == task_id and Task.org_id == user.org_id)).one()  # expect: DBC507
def hidden(session, user):
    return session.scalars(select(Task).where(not (Task.org_id == user.org_id))).all()  # expect: DBC507
def wrong_key(session, user: User):
    return session.scalars(select(Task).where(Task.org_id == user.id)).all()  # expect: DBC507
def in_a_closure(session, user, ids):
    def load(task_id):
        return session.scalars(select(Task).where(Task.id == task_id and Task.org_id == user.org_id)).one()  # expect: DBC507
    return [load(i) for i in ids]
'''},
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        findings: list[Finding] = []
        login_user: Optional[TableModel] = None
        looked_for_user = False
        mentions_model = _model_names(ctx.index)
        for module in ctx.reported_modules():
            for body in (inner for outer in module.bodies for inner in outer.with_nested()):
                # only a body that names a mapped class can hold a SQL expression: skip
                # decoding the others (their encoded IR carries every name as written)
                if mentions_model is not None and mentions_model.search(body.code) is None:
                    continue
                if not looked_for_user:  # a walk of every function's decorators: once, if needed
                    login_user, looked_for_user = flask_login_user(ctx.index), True
                findings.extend(self._check_function(ctx.index, ctx.config, module, body, login_user))
        return unique_places(findings)

    def _check_function(self, index: "ProjectIndex", config: "Config", module: ModuleFacts,
                        body: FunctionIR, login_user: Optional[TableModel]) -> Iterator[Finding]:
        reader = _FunctionReader(index, config, module, body)
        reader.login_user = login_user
        statements = body.body
        reader.conditions = _assigned_values(statements)
        yield from self._walk(reader, statements, None)

    def _walk(self, reader: _FunctionReader, node: object, call: Optional[tuple[str, Call]]) -> Iterator[Finding]:
        """Every finding in ``node``; ``call``: the filter call whose argument it is in."""
        if not isinstance(node, tuple):
            return
        tested = _tested(node)
        if tested is not None:
            op, line, condition = tested
            test = reader.sql_operand(condition)
            if test is not None:
                yield self._at(reader, line or _first_line(test), "test", op=op, shown=_shown(reader, test))
        if isinstance(node, Comprehension):
            for comprehension_test in node.tests:
                found = reader.sql_operand(comprehension_test)
                if found is not None:  # ``[t for t in rows if T.status == "open"]``
                    yield self._at(reader, _first_line(found), "test", op="if", shown=_shown(reader, found))
        if isinstance(node, Call):
            if _method_name(node) == "filter_by":
                yield from self._judge_keywords(reader, node)
            method = _filter_method(reader, node)
            if method is not None:
                call = (method, node)
                yield from self._judge_arguments(reader, method, node)
        elif isinstance(node, (BoolOp, Not)) and call is None:
            logic = reader.python_logic(node)
            if logic is not None:
                # ``cond = T.a == x and T.b == y`` outside any filter: reported where it is
                yield from self._judge_logic(reader, logic, "a condition", _first_line(logic))
                return
        for part in node:
            if isinstance(part, tuple):
                yield from self._walk(reader, part, call)

    def _judge_keywords(self, reader: _FunctionReader, call: Call) -> Iterator[Finding]:
        """``filter_by(org_id=member.id)``: the keyword names the column."""
        table = reader.filter_by_table(call)
        if table is None:
            return
        for name, value in call.kwargs:
            column = table.column_by_attribute(name)
            wrong = reader.wrong_key(table, column, value) if column is not None else None
            if wrong is not None:
                yield self._key(reader, "filter_by", call, wrong)

    def _key(self, reader: _FunctionReader, method: str, call: Call,
             wrong: tuple[TableModel, ColumnModel, str, TableModel, str]) -> Finding:
        table, column, target, other, shown = wrong
        return self._at(reader, call.line, "key", column=f"{table.name}.{column.name}", target=target,
                        other=other.class_name or other.name or "row", shown=shown, call=method)

    def _judge_arguments(self, reader: _FunctionReader, method: str, call: Call) -> Iterator[Finding]:
        for arg in _condition_arguments(method, call):
            logic = reader.python_logic(arg)
            if logic is not None:
                yield from self._judge_logic(reader, logic, method, call.line)
            for compare in _comparisons(arg):
                wrong = reader.key_of_other_table(compare)
                if wrong is not None:
                    yield self._key(reader, method, call, wrong)

    def _judge_logic(self, reader: _FunctionReader, logic: Expr, method: str, line: int) -> Iterator[Finding]:
        if isinstance(logic, Not):
            yield self._at(reader, line, "not", call=method, shown=_shown(reader, logic.operand),
                           outcome=_negated(reader, logic.operand))
            return
        assert isinstance(logic, BoolOp)
        kept = _kept(reader, logic)
        if kept is None:
            shown_kept, dropped = "one operand (or a TypeError when it runs)", ""
        else:
            other = logic.right if kept is logic.left else logic.left
            shown_kept = f"`{_shown(reader, kept)}`"
            dropped = f" (`{_shown(reader, other)}` is dropped{_tenant_note(reader, other)})"
        instead = ("separate arguments or and_(...)" if logic.op == "and" else "or_(...)")
        yield self._at(reader, line, "", op=logic.op, call=method, kept=shown_kept, dropped=dropped, instead=instead)

    def _at(self, reader: _FunctionReader, line: int, variant: str, **fields: Any) -> Finding:
        return self.finding(Location(reader.module.path, line or reader.body.line, 1), variant, **fields)


def _tenant_note(reader: _FunctionReader, expr: Expr) -> str:
    for compare in _comparisons(expr):
        for side in (compare.left, *(right for _op, right in compare.ops)):
            found = reader.column(side)
            if found is not None and found[1].name in reader.config.tenant_columns:
                return ": the tenant filter"
    return ""


def _condition_arguments(method: str, call: Call) -> tuple[Expr, ...]:
    if method in ("join", "outerjoin"):
        return call.args[1:]  # the target, then the ON clause
    if method in ("join_from", "outerjoin_from"):
        return call.args[2:]
    return tuple(a[1] if a[0] == "star" and isinstance(a[1], Sequence) else a for a in call.args)


def _comparisons(expr: Expr) -> Iterator[Compare]:
    """The comparisons inside a condition (through ``and_`` / ``or_`` / ``&``)."""
    stack: list = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            yield node
        elif isinstance(node, tuple):
            stack.extend(part for part in node if isinstance(part, tuple))


def _assigned_values(statements: tuple) -> dict[str, list[Optional[Expr]]]:
    """What each local of the function is assigned (None: unpacked, not known)."""
    seen: dict[str, list[Optional[Expr]]] = {}
    stack: list = [statements]
    while stack:
        node = stack.pop()
        if not isinstance(node, tuple):
            continue
        if isinstance(node, Assign):
            for target in node[1]:
                if target:
                    seen.setdefault(target, []).append(node[2] if len(node[1]) == 1 else None)
        stack.extend(part for part in node if isinstance(part, tuple))
    return seen
