"""Query shapes: every query the project's functions build and run, with the tables it
reads or writes, the tenant filters applied to it on every path, and its AND-ed filter
terms. Computed once from the function IR and the model index; the scoping rules
(DBC5xx) and the index-coverage rules (DBC4xx) read it.

The analysis is a small abstract interpreter over each function's IR. A local holds a
set of possible values, one per path; an ``if`` interprets both branches and joins
them, and a branch that returns or raises does not reach the code after it. So
``stmt = select(T)``; ``if x: stmt = stmt.where(T.user_id == uid)``; ``run(stmt)``
reaches ``run`` with two possibilities, one of them unscoped.

Project functions that take or build queries are summarised per call (with what the
call passes, so ``read(id, actor=None)`` scoped only ``if actor`` scopes the calls
that pass an actor). Anything the analysis cannot follow makes the query opaque, and
opaque queries are never reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Union

from dbcheck.index.extract import Expr, FunctionIR, ModuleFacts
from dbcheck.index.models import TableModel
from dbcheck.index.symbols import ClassAttr, ClassRef, Function, Lib, Value, lib_name_of

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.index.build import ClassInfo, ProjectIndex

# Methods that return a new statement with the same FROM list.
_PASS_THROUGH = frozenset({
    "order_by", "limit", "offset", "options", "group_by", "having", "distinct", "with_for_update",
    "execution_options", "params", "correlate", "add_columns", "with_only_columns", "returning",
    "values", "unique", "slice", "enable_eagerloads", "populate_existing", "yield_per",
    "with_entities", "prefix_with", "suffix_with", "limit_by", "fetch", "set_label_style",
    "ordered_values", "with_hint", "autoflush", "order_by_nulls", "add_cte", "with_statement_hint",
    "undefer", "load_only", "execution_option", "inline",
})
_FILTERS = frozenset({"where", "filter"})
_JOINS = frozenset({"join", "outerjoin", "join_from", "outerjoin_from"})
_EXECUTE = frozenset({"execute", "scalars", "scalar", "exec", "stream", "stream_scalars"})
_TERMINAL_READ = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "paginate",
                            "first_or_404", "one_or_404", "scalar_one", "scalar_one_or_none", "__iter__"})
_EXECUTOR_FUNCTIONS = frozenset({"paginate", "apaginate", "fetch_all", "fetch_one", "fetch_val",
                                 "read_sql", "read_sql_query", "first_or_404", "one_or_404"})
_CHECK_WORDS = ("check", "authori", "permission", "access", "owner", "ensure", "verify", "assert",
                "can_", "allowed", "policy", "require", "guard", "validate")
_SUBQUERY = frozenset({"subquery", "cte", "exists", "scalar_subquery", "alias", "lateral", "label",
                       "as_scalar", "union", "union_all", "except_", "intersect"})
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Term:
    """One AND-ed filter term: ``T.col <op> value`` on a known table."""

    table: str
    column: str
    op: str  # "==", "in", "range", "is", "!=", "like", "other"
    wrapped: Optional[str]  # "lower", "ilike", "like%", "cast": the column is wrapped
    line: int
    column_offset: int
    constant: bool


@dataclass(frozen=True)
class QueryVal:
    kind: str  # "read" | "update" | "delete"
    tables: tuple[str, ...]  # entity tables (by name)
    joined: tuple[str, ...] = ()
    scoped: frozenset[str] = frozenset()
    terms: tuple[Term, ...] = ()
    line: int = 0
    column: int = 0
    path: str = ""
    opaque: bool = False
    param: Optional[str] = None  # derived from this parameter of the function analysed
    partial: bool = False  # a filter whose terms we could not list (or_, text(), a local)
    note: str = ""  # how it was built, for messages ("built by TaskRepo.base()")
    filtered: bool = False  # some filter was applied


@dataclass(frozen=True)
class GetVal:
    table: str
    line: int
    column: int
    path: str


@dataclass(frozen=True)
class ClassVal:
    table: str


@dataclass(frozen=True)
class ExprVal:
    """A local holding an expression (a condition built before ``.where(cond)``)."""

    expr: Expr


@dataclass(frozen=True)
class ParamVal:
    name: str
    truthy: Optional[bool] = None


@dataclass(frozen=True)
class InstanceVal:
    """An instance of a project class (a repository): its methods can be followed."""

    qualname: str


Val = Union[QueryVal, GetVal, ClassVal, ExprVal, ParamVal, InstanceVal, None]


@dataclass(frozen=True)
class QueryUse:
    """A query that runs: read, write, or a primary-key lookup."""

    kind: str  # "read" | "update" | "delete" | "get"
    query: Optional[QueryVal]
    get: Optional[GetVal]
    path: str
    line: int
    column: int
    function: str
    hint: str = ""  # "admin path" when the code around it says so


@dataclass
class QueryIndex:
    uses: list[QueryUse] = field(default_factory=list)
    unchecked_gets: list[QueryUse] = field(default_factory=list)


class _Env:
    """Locals -> possible values, plus which Get results had their owner checked."""

    def __init__(self) -> None:
        self.vars: dict[str, frozenset] = {}
        self.checked: set[str] = set()

    def copy(self) -> "_Env":
        env = _Env()
        env.vars = dict(self.vars)
        env.checked = set(self.checked)
        return env

    @staticmethod
    def join(envs: list["_Env"]) -> "_Env":
        out = _Env()
        keys = set().union(*(e.vars for e in envs)) if envs else set()
        for key in keys:
            values: set = set()
            for env in envs:
                values |= env.vars.get(key, frozenset({None}))
            out.vars[key] = frozenset(values)
        # a Get counts as checked if any path checks it ("never checked" is the rule)
        out.checked = set().union(*(e.checked for e in envs)) if envs else set()
        return out


@dataclass
class _Context:
    module: ModuleFacts
    function: FunctionIR
    cls: Optional["ClassInfo"]
    depth: int = 0
    summary: bool = False  # interpreting a callee: record returns, not uses
    executed: set = field(default_factory=set)  # parameters the callee runs as queries
    privileged: int = 0  # inside ``if user.is_superuser:`` and the like


class QueryAnalyzer:
    def __init__(self, index: "ProjectIndex", config: "Config") -> None:
        self.index = index
        self.config = config
        self.result = QueryIndex()
        self._summaries: dict[tuple, tuple[frozenset, bool]] = {}
        self._tables_by_name: dict[str, TableModel] = {}
        for table in index.tables:
            if table.name and table.name not in self._tables_by_name:
                self._tables_by_name[table.name] = table
        self._gets: dict[tuple[str, int, int], tuple[GetVal, str, str]] = {}
        self._returned_gets: dict[str, list[tuple[str, int, int]]] = {}
        self._called: set[str] = set()

    # ------------------------------------------------------------------ driver

    def run(self) -> QueryIndex:
        for module in self.index.modules.values():
            for body in module.bodies:
                cls = self._class_of(module, body)
                ctx = _Context(module, body, cls)
                env = _Env()
                for p in body.params:
                    env.vars[p] = frozenset({ParamVal(p)})
                returns: list = []
                self._block(body.body, env, ctx, returns)
                for value in _flatten(returns):
                    if isinstance(value, GetVal):
                        self._returned_gets.setdefault(body.qualname, []).append(
                            (value.path, value.line, value.column))
        # A lookup returned to a project caller is judged at the caller's call, where
        # the owner may be checked; one returned to a framework (a view) is judged here.
        for qualname, keys in self._returned_gets.items():
            if qualname in self._called:
                for key in keys:
                    self._gets.pop(key, None)
        for get, var, function in self._gets.values():
            if var != "__checked__":
                self.result.unchecked_gets.append(
                    QueryUse("get", None, get, get.path, get.line, get.column, function))
        return self.result

    def _class_of(self, module: ModuleFacts, body: FunctionIR) -> Optional["ClassInfo"]:
        if body.class_name is None:
            return None
        return self.index.classes.get(f"{module.module}.{body.class_name}")

    # ------------------------------------------------------------------ statements

    def _block(self, stmts: tuple, env: _Env, ctx: _Context, returns: list) -> Optional[_Env]:
        """Interpret a block; None when every path through it leaves the function."""
        for stmt in stmts:
            kind = stmt[0]
            if kind == "assign":
                _k, targets, value, _line = stmt
                result = self._eval(value, env, ctx)
                for target in targets:
                    if target:
                        env.vars[target] = result
            elif kind == "expr":
                value = stmt[1]
                self._eval(value, env, ctx)
                if _is_abort(value):
                    return None
            elif kind == "return":
                if stmt[1] is not None:
                    returns.append(self._eval(stmt[1], env, ctx))
                return None
            elif kind == "raise":
                return None
            elif kind == "assert":
                self._eval(stmt[1], env, ctx)
                self._note_owner_check(stmt[1], env, ctx)
            elif kind == "if":
                _k, test, then, orelse, _line = stmt
                self._eval(test, env, ctx)
                truth = self._truth(test, env)
                # Only a check whose branch leaves the function counts, in either form:
                # ``if t.user_id != me: abort(403)`` or ``if t.user_id == me: return t``.
                self._note_owner_check(test, env, ctx, only_if_exits=then)
                then_env = env.copy()
                outs = []
                privileged = _mentions_privilege(test)
                if truth is not False:
                    ctx.privileged += privileged
                    outs.append(self._block(then, then_env, ctx, returns))
                    ctx.privileged -= privileged
                if truth is not True:
                    outs.append(self._block(orelse, env.copy(), ctx, returns))
                live = [e for e in outs if e is not None]
                if not live:
                    return None
                env = self._replace(env, _Env.join(live))
            elif kind == "loop":
                _k, targets, iterable, body, orelse, _line = stmt
                value = self._eval(iterable, env, ctx) if iterable is not None else frozenset()
                for item in value:
                    if isinstance(item, QueryVal):
                        self._use(item, ctx, "read")
                for target in targets:
                    env.vars[target] = frozenset({None})
                after = self._block(body, env.copy(), ctx, returns)
                after_else = self._block(orelse, env.copy(), ctx, returns) if orelse else None
                env = self._replace(env, _Env.join([env] + [e for e in (after, after_else) if e is not None]))
            elif kind == "with":
                _k, items, body, _line = stmt
                for expr, name in items:
                    value = self._eval(expr, env, ctx)
                    if name:
                        env.vars[name] = value
                out = self._block(body, env, ctx, returns)
                if out is None:
                    return None
                env = self._replace(env, out)
            elif kind == "try":
                _k, body, handlers, orelse, final, _line = stmt
                start = env.copy()
                out = self._block(body, env.copy(), ctx, returns)
                if out is not None and orelse:
                    out = self._block(orelse, out, ctx, returns)
                outs = [out] + [self._block(h, start.copy(), ctx, returns) for h in handlers]
                live = [e for e in outs if e is not None]
                if final:
                    self._block(final, start.copy(), ctx, returns)
                if not live:
                    return None
                env = self._replace(env, _Env.join(live))
            elif kind == "branches":
                outs = [self._block(b, env.copy(), ctx, returns) for b in stmt[2]]
                live = [e for e in outs if e is not None] + [env]
                env = self._replace(env, _Env.join(live))
        return env

    @staticmethod
    def _replace(target: _Env, source: _Env) -> _Env:
        target.vars = source.vars
        target.checked = source.checked
        return target

    def _truth(self, test: Expr, env: _Env) -> Optional[bool]:
        """What we know of a test on a parameter whose truthiness the caller fixed."""
        negate = False
        if test[0] == "not":
            negate, test = True, test[1]
        if test[0] == "cmp" and len(test[2]) == 1 and test[2][0][1] == ("c", None) and test[2][0][0] in ("is", "is not"):
            value = self._truth(test[1], env)
            if value is None:
                return None
            result = value if test[2][0][0] == "is not" else not value
            return (not result) if negate else result
        if test[0] in ("param", "local"):
            values = env.vars.get(test[1], frozenset())
            truths = {v.truthy for v in values if isinstance(v, ParamVal)}
            if len(values) == 1 and len(truths) == 1 and None not in truths:
                truth = truths.pop()
                return (not truth) if negate else truth
        return None

    # ------------------------------------------------------------------ owner checks (DBC502)

    def _note_owner_check(self, test: Expr, env: _Env, ctx: _Context, only_if_exits: Optional[tuple] = None) -> None:
        if only_if_exits is not None and not _exits(only_if_exits):
            return
        for var in _owner_checked_locals(test, self.config, self.index):
            env.checked.add(var)
            for value in env.vars.get(var, frozenset()):
                if isinstance(value, GetVal):
                    self._mark_checked(value)

    def _mark_checked(self, get: GetVal) -> None:
        key = (get.path, get.line, get.column)
        if key in self._gets:
            self._gets[key] = (get, "__checked__", "")

    # ------------------------------------------------------------------ expressions

    def _eval(self, expr: Optional[Expr], env: _Env, ctx: _Context) -> frozenset:
        if expr is None:
            return frozenset({None})
        kind = expr[0]
        if kind in ("local", "param"):
            return env.vars.get(expr[1], frozenset({None}))
        if kind == "n":
            return frozenset({self._name_value(expr, ctx)})
        if kind == "attr":
            return self._attribute(expr, env, ctx)
        if kind == "call":
            return self._call(expr, env, ctx)
        if kind in ("tuple", "list", "set"):
            for item in expr[1]:
                self._eval(item, env, ctx)
            return frozenset({None})
        if kind in ("cmp", "bool", "not"):
            for part in expr[1:]:
                if isinstance(part, tuple) and part and isinstance(part[0], str):
                    self._eval(part, env, ctx)
            if kind == "cmp":
                for _op, right in expr[2]:
                    self._eval(right, env, ctx)
            return frozenset({ExprVal(expr)})
        return frozenset({None})

    def _name_value(self, expr: Expr, ctx: _Context) -> Val:
        sym = self.index.symbols.lookup(expr)
        table = self._class_table(sym)
        if table is not None:
            return ClassVal(table)
        if isinstance(sym, ClassAttr) and sym.path and sym.path[-1] == "query" and len(sym.path) == 1:
            table = self._class_table(sym.cls)
            if table is not None:
                return QueryVal("read", (table,), line=0, path=ctx.module.path)
        return None

    def _class_table(self, sym: object) -> Optional[str]:
        if isinstance(sym, ClassRef):
            info = self.index.classes.get(sym.qualname)
            if info is not None and info.mapped and info.table is not None and info.table.name:
                return info.table.name
        return None

    def _attribute(self, expr: Expr, env: _Env, ctx: _Context) -> frozenset:
        base = self._eval(expr[1], env, ctx)
        name = expr[2]
        out: set = set()
        for value in base:
            if isinstance(value, ClassVal) and name == "query":
                out.add(QueryVal("read", (value.table,), path=ctx.module.path))
            elif isinstance(value, ParamVal) and value.name in ("self", "cls") and ctx.cls is not None:
                out.add(self._self_attribute(ctx.cls, name))
            else:
                out.add(None)
        return frozenset(out)

    def _self_attribute(self, cls: "ClassInfo", name: str) -> Val:
        """``self.model`` in a repository: the class attribute (or the type argument
        of a generic base) naming a mapped class."""
        from dbcheck.index.build import _attributes_in_mro, _mro

        for attr, _owner in _attributes_in_mro(self.index.symbols, cls.ref, include_mapped=True):
            if attr.name == name and attr.value is not None:
                table = self._class_table(self.index.symbols.lookup(attr.value))
                return ClassVal(table) if table else None
        if name in ("model", "model_class", "model_cls", "entity", "__model__"):
            for ref in _mro(self.index.symbols, cls.ref):
                for base in ref.fact.bases:
                    if base[0] == "sub":
                        for arg in base[2]:
                            table = self._class_table(self.index.symbols.lookup(arg))
                            if table:
                                return ClassVal(table)
        return None

    # ------------------------------------------------------------------ calls

    def _call(self, expr: Expr, env: _Env, ctx: _Context) -> frozenset:
        _c, func, args, kwargs, line, col = expr
        # A name chain like ``Task.query.filter_by`` or ``select``: resolve it whole.
        if func[0] == "n":
            sym = self.index.symbols.lookup(func)
            lib = lib_name_of(sym)
            if lib is not None:
                return self._library_call(lib, expr, env, ctx)
            if isinstance(sym, ClassAttr):
                return self._class_attr_call(sym, expr, env, ctx)
            if isinstance(sym, Function):
                return self._project_call(sym.module, sym.fact.name, None, expr, env, ctx)
            if isinstance(sym, ClassRef):
                self._eval_args(expr, env, ctx)
                return frozenset({InstanceVal(sym.qualname)})
            body = self._function_body(sym)
            if body is not None:
                return self._project_call(body[0], body[1].name, body[1], expr, env, ctx)
            if "." in func[1] and sym is None or isinstance(sym, (Lib, Value)):
                # db.session.execute(stmt), session.get(T, id) on a module-level session
                return self._method_call(None, func[1].rsplit(".", 1)[-1], expr, env, ctx, func)
            return self._unknown_call(func, expr, env, ctx)
        if func[0] == "attr":
            method = func[2]
            receivers = self._eval(func[1], env, ctx)
            out: set = set()
            for receiver in receivers:
                out |= self._method_call(receiver, method, expr, env, ctx, func)
            return frozenset(out)
        self._eval_args(expr, env, ctx)
        return frozenset({None})

    def _function_body(self, sym: object) -> Optional[tuple[ModuleFacts, FunctionIR]]:
        from dbcheck.index.symbols import FunctionBody

        if isinstance(sym, FunctionBody):
            return sym.module, sym.body
        return None

    def _eval_args(self, expr: Expr, env: _Env, ctx: _Context) -> list[frozenset]:
        values = []
        for arg in expr[2]:
            values.append(self._eval(arg[1] if arg[0] == "star" else arg, env, ctx))
        for _key, value in expr[3]:
            self._eval(value, env, ctx)
        return values

    def _library_call(self, lib: str, expr: Expr, env: _Env, ctx: _Context) -> frozenset:
        _c, _func, args, _kwargs, line, col = expr
        name = lib.split(":", 1)[-1]
        if lib.startswith("sa:") or lib.startswith("sqlmodel:"):
            if name == "select":
                self._eval_args(expr, env, ctx)
                tables = self._entities(args, ctx)
                return frozenset({QueryVal("read", tables, line=line, column=col, path=ctx.module.path,
                                           opaque=not tables and bool(args) and self._has_unknown_entity(args))})
            if name in ("update", "delete") and args:
                tables = self._entities(args[:1], ctx)
                if tables:
                    return frozenset({QueryVal(name, tables, line=line, column=col, path=ctx.module.path)})
        self._eval_args(expr, env, ctx)
        return frozenset({None})

    def _has_unknown_entity(self, args: tuple) -> bool:
        return any(a[0] in ("local", "param", "attr") for a in args)

    def _entities(self, args: Iterable[Expr], ctx: _Context) -> tuple[str, ...]:
        tables: list[str] = []
        for arg in args:
            if arg[0] == "n":
                sym = self.index.symbols.lookup(arg)
                table = self._class_table(sym)
                if table is None and isinstance(sym, ClassAttr) and len(sym.path) == 1:
                    table = self._class_table(sym.cls)
                if table and table not in tables:
                    tables.append(table)
            elif arg[0] == "attr" and arg[1] == ("param", "self") and ctx.cls is not None:
                value = self._self_attribute(ctx.cls, arg[2])
                if isinstance(value, ClassVal) and value.table not in tables:
                    tables.append(value.table)
        return tuple(tables)

    def _class_attr_call(self, sym: ClassAttr, expr: Expr, env: _Env, ctx: _Context) -> frozenset:
        table = self._class_table(sym.cls)
        path = sym.path
        if table is None or not path:
            self._eval_args(expr, env, ctx)
            return frozenset({None})
        if path[0] == "query" and len(path) >= 2:
            # Task.query.filter_by(...).first(): rebuild the chain on a query value
            value: Val = QueryVal("read", (table,), line=expr[4], column=expr[5], path=ctx.module.path)
            for method in path[1:-1]:
                value = next(iter(self._method_call(value, method, ("call", None, (), (), expr[4], expr[5]),
                                                    env, ctx, None)), None)
            return self._method_call(value, path[-1], expr, env, ctx, None)
        self._eval_args(expr, env, ctx)
        return frozenset({None})

    def _unknown_call(self, func: Expr, expr: Expr, env: _Env, ctx: _Context) -> frozenset:
        values = self._eval_args(expr, env, ctx)
        name = func[1].rsplit(".", 1)[-1] if func[0] == "n" else ""
        self._arguments_escape(name, values, expr, env, ctx)
        return frozenset({None})

    def _arguments_escape(self, name: str, values: list[frozenset], expr: Expr, env: _Env, ctx: _Context) -> None:
        lowered = name.lower()
        for value in values:
            for item in value:
                if isinstance(item, QueryVal) and name in _EXECUTOR_FUNCTIONS:
                    self._use(item, ctx, item.kind)
                elif isinstance(item, GetVal) and any(w in lowered for w in _CHECK_WORDS):
                    self._mark_checked(item)
        if any(w in lowered for w in _CHECK_WORDS):
            for arg in expr[2]:
                if arg[0] == "local":
                    env.checked.add(arg[1])

    def _method_call(self, receiver: Val, method: str, expr: Expr, env: _Env, ctx: _Context,
                     func: Optional[Expr]) -> frozenset:
        _c, _f, args, kwargs, line, col = expr
        if isinstance(receiver, QueryVal):
            return frozenset({self._query_method(receiver, method, expr, env, ctx)})
        if isinstance(receiver, ClassVal) and method == "query":
            return frozenset({None})
        if isinstance(receiver, ParamVal) and receiver.name in ("self", "cls") and ctx.cls is not None:
            found = self._find_method(ctx.cls, method)
            if found is not None:
                module, body = found
                return self._project_call(module, body.name, body, expr, env, ctx, self_cls=ctx.cls)
        if isinstance(receiver, InstanceVal):
            info = self.index.classes.get(receiver.qualname)
            found = self._find_method(info, method) if info is not None else None
            if found is not None:
                return self._project_call(found[0], found[1].name, found[1], expr, env, ctx, self_cls=info)
        if isinstance(receiver, ParamVal) and receiver.truthy is not False and (
                method in _FILTERS or method in _JOINS or method in _PASS_THROUGH or method == "filter_by"):
            # A statement handed in by the caller, refined here.
            return frozenset({self._query_method(QueryVal("read", (), param=receiver.name, line=-1),
                                                 method, expr, env, ctx)})
        values = self._eval_args(expr, env, ctx)
        # session.execute(stmt) / scalars / exec ...
        if method in _EXECUTE and values:
            for item in values[0]:
                if isinstance(item, QueryVal):
                    self._use(item, ctx, item.kind)
                elif isinstance(item, ParamVal) and ctx.summary:
                    ctx.executed.add(item.name)
            return frozenset({None})
        if method in ("query",) and args:
            tables = self._entities(args, ctx)
            if tables:
                return frozenset({QueryVal("read", tables, line=line, column=col, path=ctx.module.path)})
            return frozenset({None})
        if method in ("get", "get_or_404") and len(args) >= 2:
            tables = self._entities(args[:1], ctx)
            if tables:
                return frozenset({self._get(tables[0], line, col, ctx)})
        if method in ("first_or_404", "one_or_404", "paginate") and values:
            for item in values[0]:
                if isinstance(item, QueryVal):
                    self._use(item, ctx, item.kind)
            return frozenset({None})
        if self._is_scope_helper(method, func):
            return frozenset(self._scope_all(v) for value in values[:1] for v in value) or frozenset({None})
        self._arguments_escape(method, values, expr, env, ctx)
        return frozenset({None})

    def _get(self, table: str, line: int, col: int, ctx: _Context) -> GetVal:
        get = GetVal(table, line, col, ctx.module.path)
        if not ctx.summary:
            key = (get.path, line, col)
            self._gets.setdefault(key, (get, "", ctx.function.qualname))
        return get

    def _query_method(self, query: QueryVal, method: str, expr: Expr, env: _Env, ctx: _Context) -> Val:
        _c, _f, args, kwargs, line, col = expr
        if query.line == 0:
            query = replace(query, line=line, column=col)
        if query.line == -1:
            query = replace(query, line=0)
        if method in _FILTERS:
            for arg in args:
                query = self._apply_filter(query, arg, env, ctx)
            return query
        if method == "filter_by":
            return self._filter_by(query, kwargs, env, ctx, line, col)
        if method in _JOINS or method == "select_from":
            tables = self._entities(args, ctx) or self._relationship_targets(args)
            if not tables and args:
                return replace(query, opaque=True)
            if method == "select_from":
                return replace(query, tables=query.tables + tuple(t for t in tables if t not in query.tables))
            return replace(query, joined=query.joined + tables)
        if method in _PASS_THROUGH:
            self._eval_args(expr, env, ctx)
            return query
        if method in _TERMINAL_READ:
            self._eval_args(expr, env, ctx)
            self._use(query, ctx, "read")
            return None
        if method in ("update", "delete") and query.kind == "read":
            self._eval_args(expr, env, ctx)
            self._use(replace(query, kind=method), ctx, method)
            return None
        if method in ("get", "get_or_404") and args and query.tables:
            if query.filtered:
                return None
            return self._get(query.tables[0], query.line or line, query.column or col, ctx)
        if method in _SUBQUERY:
            return None
        if self._is_scope_helper(method, None):
            return self._scope_all(query)
        # An unknown method may filter: the query is no longer ours to judge.
        self._eval_args(expr, env, ctx)
        return replace(query, opaque=True)

    def _relationship_targets(self, args: tuple) -> tuple[str, ...]:
        tables: list[str] = []
        for arg in args:
            if arg[0] != "n":
                continue
            sym = self.index.symbols.lookup(arg)
            if isinstance(sym, ClassAttr) and len(sym.path) == 1:
                info = self.index.classes.get(sym.cls.qualname)
                if info is None or info.table is None:
                    continue
                rel = next((r for r in info.table.relationships if r.attribute == sym.path[0]), None)
                if rel is not None and rel.target:
                    targets = self.index.mapped_classes_named(rel.target)
                    if len(targets) == 1 and targets[0].table is not None and targets[0].table.name:
                        tables.append(targets[0].table.name)
        return tuple(tables)

    # ------------------------------------------------------------------ filters

    def _apply_filter(self, query: QueryVal, arg: Expr, env: _Env, ctx: _Context) -> QueryVal:
        scoped, terms, opaque = self._condition(arg, env, ctx, top=True)
        return replace(query, scoped=query.scoped | scoped, terms=query.terms + tuple(terms),
                       opaque=query.opaque or opaque, filtered=True,
                       partial=query.partial or opaque or not terms)

    def _condition(self, expr: Expr, env: _Env, ctx: _Context, top: bool = False
                   ) -> tuple[frozenset[str], list[Term], bool]:
        """(tables scoped by the condition, its AND-ed terms, whether it is opaque)."""
        kind = expr[0]
        if kind == "local":
            values = env.vars.get(expr[1], frozenset())
            conds = [v.expr for v in values if isinstance(v, ExprVal)]
            if len(conds) == 1 and len(values) == 1:
                return self._condition(conds[0], env, ctx, top)
            return frozenset(), [], True
        if kind == "param":
            return frozenset(), [], True
        if kind == "cmp":
            return self._comparison(expr, env, ctx)
        if kind == "call":
            func = expr[1]
            lib = self.index.symbols.lib_name(func) if func[0] == "n" else None
            if lib in ("sa:and_",):
                scoped: set[str] = set()
                terms: list[Term] = []
                opaque = False
                for arg in expr[2]:
                    s, t, o = self._condition(arg, env, ctx)
                    scoped |= s
                    terms += t
                    opaque = opaque or o
                return frozenset(scoped), terms, opaque
            if lib in ("sa:or_",):
                results = [self._condition(arg, env, ctx) for arg in expr[2]]
                if not results:
                    return frozenset(), [], False
                scoped_sets = [r[0] for r in results]
                common = frozenset.intersection(*scoped_sets) if scoped_sets else frozenset()
                return common, [], any(r[2] for r in results)
            if lib in ("sa:text", "sa:literal_column"):
                return frozenset(), [], True
            return self._call_condition(expr, env, ctx)
        if kind == "bool":
            return frozenset(), [], True
        if kind == "not":
            return frozenset(), [], False
        if kind == "n":
            return frozenset(), [], False  # a boolean column: T.is_active
        return frozenset(), [], True

    def _column(self, expr: Expr, ctx: _Context) -> Optional[tuple[str, str, Optional[str]]]:
        """(table, column, wrapper) for ``T.col``, ``func.lower(T.col)``, ``cast(T.col, X)``."""
        if expr[0] == "n":
            sym = self.index.symbols.lookup(expr)
            if isinstance(sym, ClassAttr) and len(sym.path) == 1:
                info = self.index.classes.get(sym.cls.qualname)
                if info is not None and info.table is not None and info.table.name:
                    col = info.table.column_by_attribute(sym.path[0])
                    if col is not None:
                        return info.table.name, col.name, None
                    if not sym.path[0].startswith("_") and info.table.complete is not None:
                        # a hybrid_property / column_property (CTFd's account_id): it can
                        # scope, but no index serves it
                        return info.table.name, sym.path[0], "expression"
            return None
        if expr[0] == "attr" and expr[1] in (("param", "self"), ("param", "cls")) and ctx.cls is not None:
            return None
        if expr[0] == "call":
            func = expr[1]
            lib = self.index.symbols.lib_name(func) if func[0] == "n" else None
            if lib == "sqlmodel:col" and expr[2]:
                return self._column(expr[2][0], ctx)  # SQLModel's typing helper, not a wrapper
            if func[0] == "n" and (func[1].rsplit(".", 1)[-1] in ("lower", "upper", "trim", "date", "coalesce")
                                   and (lib or "").startswith("sa:") and expr[2]):
                inner = self._column(expr[2][0], ctx)
                if inner is not None:
                    return inner[0], inner[1], func[1].rsplit(".", 1)[-1]
            if lib == "sa:cast" and expr[2]:
                inner = self._column(expr[2][0], ctx)
                if inner is not None:
                    return inner[0], inner[1], "cast"
        return None

    def _is_constant(self, expr: Expr) -> bool:
        if expr[0] == "c":
            return True
        if expr[0] in ("tuple", "list", "set"):
            return all(self._is_constant(e) for e in expr[1])
        if expr[0] == "n":
            sym = self.index.symbols.lookup(expr)
            if isinstance(sym, Lib) and sym.name.startswith(("sa:true", "sa:false", "sa:null")):
                return True
        return False

    def _comparison(self, expr: Expr, env: _Env, ctx: _Context) -> tuple[frozenset[str], list[Term], bool]:
        _k, left, targets, line, col = expr
        if len(targets) != 1:
            return frozenset(), [], False
        op, right = targets[0]
        left_col, right_col = self._column(left, ctx), self._column(right, ctx)
        if left_col is None and right_col is not None:
            left_col, right, left = right_col, left, right
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        elif left_col is not None and right_col is not None:
            return frozenset(), [], False  # a join condition
        if left_col is None:
            return frozenset(), [], left[0] in ("local", "param")
        table, column, wrapped = left_col
        constant = self._is_constant(right)
        kind = {"==": "==", "<": "range", ">": "range", "<=": "range", ">=": "range",
                "is": "is", "!=": "!=", "is not": "!="}.get(op, "other")
        term = Term(table, column, kind, wrapped, line, col, constant)
        scoped = frozenset()
        if op == "==" and not constant and column in self.config.tenant_columns and wrapped in (None, "expression"):
            scoped = frozenset({table})
        return scoped, [term], False

    def _call_condition(self, expr: Expr, env: _Env, ctx: _Context) -> tuple[frozenset[str], list[Term], bool]:
        """``T.col.in_(ids)``, ``T.col.is_(None)``, ``T.col.ilike(x)``, ``T.col.between(a, b)``."""
        func = expr[1]
        if func[0] != "n" or "." not in func[1]:
            return frozenset(), [], True
        base, method = func[1].rsplit(".", 1)
        column = self._column(("n", base), ctx)
        if column is None:
            # func.lower(T.col).like(...) and friends
            return frozenset(), [], True
        table, name, _wrapped = column
        args = expr[2]
        constant = all(self._is_constant(a) for a in args)
        line, col = expr[4], expr[5]
        if method == "in_":
            scoped = frozenset({table}) if name in self.config.tenant_columns and args and not constant else frozenset()
            return scoped, [Term(table, name, "in", None, line, col, constant)], False
        if method in ("is_", "isnot", "is_not"):
            return frozenset(), [Term(table, name, "is", None, line, col, True)], False
        if method in ("between",):
            return frozenset(), [Term(table, name, "range", None, line, col, constant)], False
        if method == "ilike":
            return frozenset(), [Term(table, name, "like", "ilike", line, col, constant)], False
        if method in ("like", "startswith", "contains", "endswith"):
            pattern = args[0] if args else None
            leading_wildcard = method in ("contains", "endswith") or (
                pattern is not None and pattern[0] == "c" and isinstance(pattern[1], str) and pattern[1].startswith("%"))
            wrapped = "like%" if leading_wildcard else None
            kind = "like" if leading_wildcard or pattern is None or pattern[0] != "c" else "range"
            return frozenset(), [Term(table, name, kind, wrapped, line, col, constant)], False
        return frozenset(), [], False

    def _filter_by(self, query: QueryVal, kwargs: tuple, env: _Env, ctx: _Context, line: int, col: int) -> QueryVal:
        # filter_by applies to the last joined entity, else the first one.
        target = query.joined[-1] if query.joined else (query.tables[0] if query.tables else None)
        if target is None:
            return replace(query, opaque=True)
        table = self._tables_by_name.get(target)
        scoped = set(query.scoped)
        terms = list(query.terms)
        for key, value in kwargs:
            if key == "**":
                return replace(query, opaque=True)
            column = table.column_by_attribute(key) if table is not None else None
            name = column.name if column is not None else key
            constant = self._is_constant(value)
            if name in self.config.tenant_columns and not constant:
                scoped.add(target)
            terms.append(Term(target, name, "==", None, line, col, constant))
        return replace(query, scoped=frozenset(scoped), terms=tuple(terms), filtered=True)

    # ------------------------------------------------------------------ scope helpers

    def _is_scope_helper(self, name: str, func: Optional[Expr]) -> bool:
        for helper in self.config.scope_helpers:
            if helper == name or helper.rsplit(".", 1)[-1] == name:
                return True
        return False

    def _scope_all(self, value: Val) -> Val:
        if isinstance(value, QueryVal):
            return replace(value, scoped=frozenset(value.tables) | frozenset(value.joined) | value.scoped,
                           filtered=True)
        return value

    # ------------------------------------------------------------------ project functions

    def _find_method(self, cls: "ClassInfo", name: str) -> Optional[tuple[ModuleFacts, FunctionIR]]:
        from dbcheck.index.build import _mro

        for ref in _mro(self.index.symbols, cls.ref):
            for body in ref.module.bodies:
                if body.class_name == ref.fact.name and body.name == name:
                    return ref.module, body
        return None

    def _project_call(self, module: ModuleFacts, name: str, body: Optional[FunctionIR], expr: Expr,
                      env: _Env, ctx: _Context, self_cls: Optional["ClassInfo"] = None) -> frozenset:
        values = self._eval_args(expr, env, ctx)
        if body is None:
            body = next((b for b in module.bodies if b.class_name is None and b.name == name), None)
        if self._is_scope_helper(name, None) or (body is not None and self._is_scope_helper(body.qualname, None)):
            return frozenset(self._scope_all(v) for value in values[:1] for v in value) or frozenset({None})
        if body is None or ctx.depth >= _MAX_DEPTH:
            self._arguments_escape(name, values, expr, env, ctx)
            return frozenset({None})
        self._called.add(body.qualname)
        params = [p for p in body.params if p not in ("self", "cls")] if body.class_name else list(body.params)
        bound: dict[str, frozenset] = {}
        for param, value in zip(params, values):
            bound[param] = value
        for key, value_expr in expr[3]:
            if key in params:
                bound[key] = self._eval(value_expr, env, ctx)
        # What the caller tells us about each parameter: given and not None, None, or unknown.
        signature = []
        for param in params:
            value = bound.get(param)
            if value is None:
                default = body.defaults.get(param)
                truth = False if default == ("c", None) or default == ("c", False) else None
            else:
                truth = None
                consts = [v for v in value if isinstance(v, ExprVal) and v.expr[0] == "c"]
                if len(value) == 1 and consts:
                    truth = bool(consts[0].expr[1])
                elif value and all(isinstance(v, (QueryVal, GetVal, ClassVal)) for v in value):
                    truth = True
            signature.append(truth)
        results, escapes = self._summary(module, body, tuple(signature), self_cls or ctx.cls, ctx.depth + 1)
        out: set = set()
        for result in results:
            if isinstance(result, QueryVal) and result.param is not None:
                for arg in bound.get(result.param, frozenset({None})):
                    if isinstance(arg, QueryVal):
                        out.add(replace(arg, scoped=arg.scoped | result.scoped, terms=arg.terms + result.terms,
                                        opaque=arg.opaque or result.opaque, filtered=arg.filtered or result.filtered))
                    else:
                        out.add(None)
            elif isinstance(result, QueryVal):
                out.add(replace(result, line=expr[4], column=expr[5], path=ctx.module.path,
                                note=result.note or f"built by {body.qualname.rsplit('.', 2)[-2] + '.' if body.class_name else ''}{body.name}()"))
            elif isinstance(result, GetVal):
                out.add(self._get(result.table, expr[4], expr[5], ctx))
            elif isinstance(result, ParamVal) and result.name in bound:
                out |= bound[result.name]
            else:
                out.add(result)
        # A query handed to a callee that runs it is the caller's query running.
        for param in escapes:
            for arg in bound.get(param, frozenset()):
                if isinstance(arg, QueryVal):
                    self._use(arg, ctx, arg.kind)
        return frozenset(out) or frozenset({None})

    def _summary(self, module: ModuleFacts, body: FunctionIR, signature: tuple, cls: Optional["ClassInfo"],
                 depth: int) -> tuple[frozenset, frozenset]:
        key = (module.path, body.qualname, signature, cls.ref.qualname if cls else None)
        if key in self._summaries:
            return self._summaries[key]
        self._summaries[key] = (frozenset({None}), frozenset())  # recursion resolves to nothing
        ctx = _Context(module, body, cls, depth, summary=True)
        env = _Env()
        params = [p for p in body.params if p not in ("self", "cls")] if body.class_name else list(body.params)
        for p in body.params:
            env.vars[p] = frozenset({ParamVal(p)})
        for param, truth in zip(params, signature):
            env.vars[param] = frozenset({ParamVal(param, truth)})
        returns: list = []
        self._block(body.body, env, ctx, returns)
        flat = frozenset(_flatten(returns))
        result = (flat, frozenset(ctx.executed))
        self._summaries[key] = result
        return result

    # ------------------------------------------------------------------ uses

    def _use(self, query: QueryVal, ctx: _Context, kind: str) -> None:
        if ctx.summary:
            if query.param is not None:
                ctx.executed.add(query.param)
            return
        if query.param is not None:
            return
        hint = "admin path" if ctx.privileged or any(_mentions_privilege(d) for d in ctx.function.decorators) else ""
        self.result.uses.append(QueryUse(kind, query, None, ctx.module.path, query.line, query.column,
                                         ctx.function.qualname, hint))

def _flatten(values: Iterable[frozenset]) -> Iterator[Val]:
    for value in values:
        yield from value


_PRIVILEGE_WORDS = ("admin", "superuser", "staff", "internal", "backoffice", "is_root")


def _mentions_privilege(expr: object) -> bool:
    """Does a test or decorator say the code runs for administrators?"""
    if not isinstance(expr, tuple):
        return False
    if expr and isinstance(expr[0], str) and expr[0] in ("n", "c") and isinstance(expr[1], str):
        lowered = expr[1].lower()
        return any(word in lowered for word in _PRIVILEGE_WORDS)
    if expr and isinstance(expr[0], str) and expr[0] == "attr":
        if any(word in expr[2].lower() for word in _PRIVILEGE_WORDS):
            return True
    return any(_mentions_privilege(part) for part in expr[1:] if isinstance(part, tuple)) or (
        bool(expr) and not isinstance(expr[0], str) and any(_mentions_privilege(p) for p in expr))


def _exits(block: tuple) -> bool:
    for stmt in block:
        if stmt[0] in ("raise", "return"):
            return True
        if stmt[0] == "expr" and _is_abort(stmt[1]):
            return True
    return False


def _is_abort(expr: Expr) -> bool:
    if expr[0] != "call":
        return False
    func = expr[1]
    name = func[1].rsplit(".", 1)[-1] if func[0] == "n" else (func[2] if func[0] == "attr" else "")
    return name in ("abort", "abort_404", "abort_403") or name.startswith("raise_")


def _owner_checked_locals(test: Expr, config: "Config", index: "ProjectIndex") -> set[str]:
    """Locals whose tenant column (or owner relationship) the test compares."""
    out: set[str] = set()
    owner_words = set(config.tenant_columns) | {"owner", "user", "owner_id", "author_id", "created_by",
                                                  "created_by_id", config.tenant_table.rstrip("s")}

    def walk(node: object) -> None:
        if not isinstance(node, tuple) or not node:
            return
        if not isinstance(node[0], str):
            for part in node:
                walk(part)
            return
        if node[0] == "cmp":
            sides = [node[1]] + [t[1] for t in node[2]]
            for side in sides:
                base = _owner_attribute_base(side, owner_words)
                if base is not None:
                    out.add(base)
        for part in node[1:]:
            if isinstance(part, tuple):
                walk(part)

    walk(test)
    return out


def _owner_attribute_base(expr: Expr, owner_words: set[str]) -> Optional[str]:
    """``task.user_id`` / ``task.owner.id`` / ``task.user`` -> "task"."""
    while expr[0] == "attr":
        if expr[2] in owner_words and expr[1][0] in ("local", "param"):
            return expr[1][1]
        if expr[1][0] == "attr" and expr[1][2] in owner_words and expr[1][1][0] in ("local", "param"):
            return expr[1][1][1]
        expr = expr[1]
    return None


def analyze_queries(index: "ProjectIndex", config: "Config") -> QueryIndex:
    return QueryAnalyzer(index, config).run()
