"""DBC504: an id from the request written into a tenant-owned row as a foreign key to
another tenant-owned table, with no look-up of that id before the write - the row the
client names may be another tenant's (a chat gets another user's file attached, a link
row points at another workspace's document).

Read from each request handler's IR as written: where the written value comes from (a path
or query parameter, a body schema's attribute, the raw request body, a local holding one)
and whether anything before the write looks the id up (a query that filters by it, a
``session.get``, a helper or an access check it is handed). Whether that look-up is scoped
is DBC501 / DBC502's to judge; this rule reports ids that are never looked up at all."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from dbcheck.facts.ir import Assert, Attr, BoolOp, Call, Compare, Const, Expr, If, IfExp, Local, Loop, Name, Subscript
from dbcheck.facts.model import FunctionIR, ModuleFacts
from dbcheck.findings import Finding
from dbcheck.rules.base import Rule, unique_places
from dbcheck.rules.request_input import (
    BodyReader, RequestInputs, injected_dependency, is_raw_request, mapped_tables, tenant_parameter_names, walk_ir,
)
from dbcheck.schema.model import ColumnModel, Location, TableModel
from dbcheck.schema.tenancy import is_exempt, owned_by_tenant
from dbcheck.semantic.symbols import ClassRef, FunctionBody, Value

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ProjectIndex

# Calls that hand an id on without looking it up: logging, conversions, responses.
_NOT_LOOKUPS = frozenset({"print", "debug", "info", "warning", "warn", "error", "exception", "critical", "log",
                          "str", "int", "float", "len", "repr", "format", "jsonify", "HTTPException", "abort",
                          "append", "add", "add_all", "dict", "isinstance", "bool", "UUID", "uuid", "UUID4",
                          "setattr", "getattr", "hasattr", "Response", "JSONResponse", "redirect", "url_for",
                          "flash", "render_template", "send", "emit", "delay", "apply_async"})
# Conversions a request value is wrapped in on its way into a row.
_CONVERSIONS = frozenset({"int", "str", "UUID", "uuid.UUID", "ObjectId"})


@dataclass(frozen=True)
class _Origin:
    """Where a written value comes from: ``key`` identifies the id for the look-up search."""

    key: tuple
    shown: str


class _Reader(BodyReader):
    def __init__(self, index: "ProjectIndex", config: "Config", inputs: RequestInputs, module: ModuleFacts,
                 body: FunctionIR, service: bool = False) -> None:
        super().__init__(index, config, inputs, body)
        self.module = module
        # a function handlers call: its parameters are whatever the handlers hand it, so a
        # body schema's parameter is read field by field like a handler's
        self.service = service
        self.askers = tenant_parameter_names(config)
        # ``for project_id in body.project_ids``: a loop's name stands for what it iterates
        self.loop_sources: dict[str, Expr] = {}
        for node in walk_ir(self.statements):
            if isinstance(node, Loop) and not node.is_while and node.iterable is not None and len(node.targets) == 1:
                self.loop_sources.setdefault(node.targets[0], node.iterable)

    def origin(self, expr: Expr, depth: int = 0) -> Optional[_Origin]:
        """The request value ``expr`` is, or None (a row's attribute, who asks, a constant)."""
        if depth > 4:
            return None
        if isinstance(expr, Call) and isinstance(expr.func, Name) and len(expr.args) == 1 \
                and expr.func.qualified.removeprefix("?.").removeprefix("builtins.") in _CONVERSIONS:
            return self.origin(expr.args[0], depth + 1)  # ``int(request.form["project_id"])``
        if isinstance(expr, (BoolOp, IfExp)):
            # ``body.project_id or INBOX_ID``: the client's id when it sent one
            parts = (expr.left, expr.right) if isinstance(expr, BoolOp) else (expr.body, expr.orelse)
            return next(filter(None, (self.origin(part, depth + 1) for part in parts)), None)
        if isinstance(expr, Local):
            if expr.tag == "param":
                return self._parameter(expr.name)
            value = self.single(expr.name)
            if value is None and expr.name in self.loop_sources and not self.assigned.get(expr.name):
                value = self.loop_sources[expr.name]
            return self.origin(value, depth + 1) if value is not None else None
        if isinstance(expr, Attr) and isinstance(expr.value, Local) and self.service and expr.value.tag == "param" \
                and not self._is_held_row(expr.value.name):
            # ``data.document_id`` in a function handlers call: the handler's argument decides
            return _Origin(("field", expr.value.name, expr.name), f"{expr.value.name}.{expr.name}")
        if isinstance(expr, Attr) and isinstance(expr.value, Local):
            schema = self._schema_of(expr.value)
            if schema is not None and expr.name in schema.fields:
                return _Origin(("field", expr.value.name, expr.name), f"{expr.value.name}.{expr.name} (the request body)")
        key = _raw_key(self, expr)
        if key is not None:
            return _Origin(("raw", key), f"the request's '{key}'")
        return None

    def _parameter(self, name: str) -> Optional[_Origin]:
        """A handler's parameter the framework fills from the path or the query string."""
        if name in self.askers or name in ("self", "cls", "session", "db", "request", "req") \
                or injected_dependency(self.index, self.body, name):
            return None
        hint = self.body.annotations.get(name)
        if hint is not None and (self.inputs.schema_of_annotation(hint) is not None or mapped_tables(self.index, hint)):
            return None  # a body (its fields are read one by one) or a row a dependency loaded
        return _Origin(("param", name), f"the parameter {name}")

    def _is_held_row(self, name: str) -> bool:
        hint = self.body.annotations.get(name)
        return name in self.askers or (hint is not None and bool(mapped_tables(self.index, hint)))

    def _schema_of(self, local: Local) -> Any:
        if local.tag == "param":
            return self.inputs.schema_of_annotation(self.body.annotations.get(local.name))
        value = self.single(local.name)
        if isinstance(value, Call):
            return self.inputs.built_schema(value)
        return None

    def keys_in(self, expr: object, depth: int = 0) -> Iterator[tuple]:
        """The request values an expression mentions (what a look-up is handed)."""
        if depth > 6 or not isinstance(expr, tuple):
            return
        if isinstance(expr, (Local, Attr, Subscript, Call)):
            found = self.origin(expr)
            if found is not None:
                yield found.key
                return
        for part in expr:
            if isinstance(part, tuple):
                yield from self.keys_in(part, depth + 1)

    def looked_up_before(self, key: tuple, write: tuple, line: int) -> bool:
        """Whether a call before the write hands the id to a look-up, a helper or a check,
        or a test compares it with what the code holds (``if body.project_id not in mine``)."""
        for node in walk_ir(self.statements):
            if isinstance(node, (If, Assert)) and node.line and node.line < line \
                    and any(self._compared_with_held(c, key) for c in walk_ir(node.test) if isinstance(c, Compare)):
                return True
            if not isinstance(node, Call) or node is write or not node.line or node.line > line:
                continue
            if _callee(node) in _NOT_LOOKUPS or _contains(node, write) or self.write_model(node) is not None:
                continue
            arguments = (*node.args, *(value for _name, value in node.kwargs))
            if any(key in set(self.keys_in(arg)) for arg in arguments):
                return True
        return False

    def _compared_with_held(self, compare: Compare, key: tuple) -> bool:
        """``body.project_id not in my_project_ids`` / ``!= project.id``: the id tested
        against something the code loaded (not a constant: ``== INBOX_ID``, ``is None``)."""
        if len(compare.ops) != 1 or compare.ops[0][0] not in ("==", "!=", "in", "not in"):
            return False
        sides = (compare.left, compare.ops[0][1])
        for side, other in (sides, sides[::-1]):
            if key in set(self.keys_in(side)) and any(isinstance(n, Local) for n in walk_ir(other)) \
                    and not set(self.keys_in(other)):
                return True
        return False

    # ---------------------------------------------------------------- writes

    def write_model(self, call: Call) -> Optional[TableModel]:
        """The table a call constructs a row of (``Link(...)``)."""
        sym = self.index.symbols.lookup(call.func) if isinstance(call.func, Name) else None
        if not isinstance(sym, ClassRef):
            return None
        return self._written(sym)

    def _written(self, ref: ClassRef) -> Optional[TableModel]:
        """A mapped class's table, unless global or the tenant table. A link row need not be
        tenant-owned itself: what its keys point at is (``chat_files(chat_id, file_id)``)."""
        info = self.index.classes.get(ref.qualname)
        if info is None or not info.mapped or info.table is None or info.table.name is None:
            return None
        return None if is_exempt(info.table, self.config) else info.table

    def _table_object(self, expr: Expr) -> Optional[TableModel]:
        """``task_tags = Table("task_tags", ...)``: the Core table a name holds."""
        sym = self.index.symbols.lookup(expr) if isinstance(expr, Name) else None
        if isinstance(sym, ClassRef):
            return self._written(sym)
        if isinstance(sym, Value) and not sym.rest and isinstance(sym.expr, tuple) and sym.expr[:1] == ("call",) \
                and self.index.symbols.lib_name(sym.expr[1]) == "sa:Table" and sym.expr[2] \
                and sym.expr[2][0][:1] == ("c",):
            tables = [t for t in self.index.tables_named(sym.expr[2][0][1]) if not is_exempt(t, self.config)]
            return tables[0] if len(tables) == 1 else None
        return None

    def statement_model(self, call: Call) -> Optional[TableModel]:
        """``insert(Link).values(...)`` / ``update(Link).where(...).values(...)``: Link."""
        target = self.statement_target(call)
        return self._table_object(target) if target is not None else None

    def row_model(self, name: str) -> Optional[TableModel]:
        tables = self.row_tables(name)
        if len(tables) != 1 or is_exempt(tables[0], self.config):
            return None
        return tables[0]


def _raw_key(reader: _Reader, expr: Expr) -> Optional[str]:
    """``request.json["project_id"]``, ``request.get_json().get("project_id")``,
    ``data["project_id"]`` where ``data`` holds the request body: the key."""
    if isinstance(expr, Subscript) and len(expr.items) == 1 and isinstance(expr.items[0], Const) \
            and isinstance(expr.items[0].value, str) and is_raw_request(expr.value, reader.single):
        return expr.items[0].value
    if isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.name == "get" and expr.args \
            and isinstance(expr.args[0], Const) and isinstance(expr.args[0].value, str) \
            and is_raw_request(expr.func.value, reader.single):
        return expr.args[0].value
    if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.qualified.endswith(".get") and expr.args \
            and isinstance(expr.args[0], Const) and isinstance(expr.args[0].value, str) \
            and is_raw_request(Name(expr.func.qualified.rsplit(".", 1)[0]), reader.single):
        return expr.args[0].value  # ``flask.request.form.get("sla_policy_id", type=int)``
    return None


def _callee(call: Call) -> str:
    if isinstance(call.func, Attr):
        return call.func.name
    return call.func.qualified.rsplit(".", 1)[-1] if isinstance(call.func, Name) else ""


def _contains(outer: tuple, inner: tuple) -> bool:
    return any(node is inner for node in walk_ir(outer))


def _references(index: "ProjectIndex", config: "Config", table: TableModel,
                attribute: str) -> Optional[tuple[ColumnModel, TableModel]]:
    """The column ``attribute`` names, when it is a foreign key to another tenant-owned
    table (not the tenant table: who owns the row is DBC505's)."""
    column = table.column_by_attribute(attribute)
    target = _referenced(config, column, lambda name: owned_by_tenant(index, config, name)) \
        if column is not None else None
    return (column, target) if column is not None and target is not None else None


def _referenced(config: "Config", column: ColumnModel,
                owned: Callable[[str], Optional[TableModel]]) -> Optional[TableModel]:
    """The tenant-owned table a foreign key ``column`` (not a tenant column) points at:
    what ``_references`` accepts. ``owned``: ``owned_by_tenant`` of a table's name."""
    if column.name in config.tenant_columns:
        return None
    for fk in column.foreign_keys:
        target = owned(fk.target_table) if fk.target_table else None
        if target is not None:
            return target
    return None


def _may_write_reference(index: "ProjectIndex", config: "Config") -> Callable[[FunctionIR], bool]:
    """Whether a function may write one of the foreign keys ``_references`` accepts: a
    keyword of that name in its IR (``body.code``, where every name is spelled out at its
    first use) or an attribute store of it - a cheap superset of what ``_writes`` finds."""
    # every column of the project is asked: each target table's owner is looked up once
    owned = functools.cache(lambda name: owned_by_tenant(index, config, name))
    names = {name for table in index.tables for column in table.columns
             if column.foreign_keys and _referenced(config, column, owned) is not None
             for name in (column.name, column.attribute or column.name)}
    if not names:
        return lambda body: False
    spelled = re.compile(b"|".join(re.escape(n.encode()) for n in sorted(names)))
    return lambda body: spelled.search(body.code) is not None \
        or any(attribute in names for _local, attribute, _line in body.attribute_stores)


class UncheckedReference(Rule):
    code = "DBC504"
    name = "unchecked-reference"
    summary = ("A request's id written as a foreign key to a tenant-owned table, with no look-up of that row for "
               "who asks before the write.")
    message = ("{model}.{column} is set from {source} and references tenant-owned {target}, but nothing before the "
               "write looks that {target} up for who asks: load it scoped (or check its owner) first")
    cwe = "CWE-639: Authorization Bypass Through User-Controlled Key"
    fix_description = "the look-up to add, and who may reference the row, are the application's to decide."
    what_it_does = """
Flags a write - `Link(document_id=...)`, `row.document_id = ...`,
`insert(Link).values(document_id=...)`, `update(Link)...values(...)`, a Core link table's
`insert(chat_files)` - in a request handler (FastAPI / Starlette and Flask / Quart routes,
`MethodView` methods, the `request-handlers` setting) or in a project function a handler
hands the value to, when the foreign key's value comes from the request (a path or query
parameter, a body schema's field, `request.json[...]`, a local or loop variable holding
one) and references another tenant-owned table, and nothing before the write looks that
id up: no query that filters by it, no `session.get`, no helper (`get_document(id, user)`),
no access check, no test against ids the code loaded (`if body.project_id not in mine`).

Not flagged: ids taken from a row the code holds (`Link(document_id=doc.id)`), from who
asks, or from a dependency that loads the row (`doc: DocumentDep`); foreign keys to the
tenant table or to global tables. Whether the look-up that precedes the write is scoped
is judged by DBC501 / DBC502 at the look-up."""
    why_bad = """
Most cross-tenant fixes in real multi-tenant projects are not unscoped reads: they are ids
the client sends that are written into rows without checking the referenced row belongs to
the caller. Nothing fails - the foreign key exists - and the next read that follows the link
(scoped by the link's owner) hands the client another tenant's document."""
    known_problems = """
Request handlers are read, and the project functions they call directly (one level): a
write in `create_link(session, body, user)` is reported when the handler that hands it
the body looks nothing up before the call. Methods of injected services are not followed,
and a look-up in a helper counts whatever the helper does with the id."""
    example = """
@router.post("/chats/{chat_id}/files")
def attach(chat_id: int, body: AttachIn, session: SessionDep, user: CurrentUser):
    chat = owned_chat(session, chat_id, user)
    session.add(ChatFile(chat_id=chat.id, file_id=body.file_id))
"""
    use_instead = """
@router.post("/chats/{chat_id}/files")
def attach(chat_id: int, body: AttachIn, session: SessionDep, user: CurrentUser):
    chat = owned_chat(session, chat_id, user)
    file = owned_file(session, body.file_id, user)
    session.add(ChatFile(chat_id=chat.id, file_id=file.id))
"""
    valid = (
        '''
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
router = APIRouter()
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
class LinkIn(BaseModel):
    document_id: int
def owned_document(session, document_id, user):
    return session.scalar(select(Document).where(Document.id == document_id, Document.user_id == user.id))
@router.post("/links")
def link(body: LinkIn, session, user: User):
    doc = owned_document(session, body.document_id, user)
    session.add(Link(user_id=user.id, document_id=doc.id))  # ok: DBC504
    session.add(Link(user_id=user.id, document_id=body.document_id))  # ok: DBC504
def create_link(session, data, user):
    session.add(Link(user_id=user.id, document_id=data.document_id))  # ok: DBC504
@router.post("/v2/links")
def link_v2(body: LinkIn, session, user: User):
    owned_document(session, body.document_id, user)
    create_link(session, body, user)
''',
    )
    invalid = (
        '''
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
router = APIRouter()
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
class LinkIn(BaseModel):
    document_id: int
@router.post("/links")
def link(body: LinkIn, session, user: User):
    session.add(Link(user_id=user.id, document_id=body.document_id))  # expect: DBC504
@router.post("/documents/{document_id}/links")
def link_by_path(document_id: int, session, user: User):
    link = Link(user_id=user.id)
    link.document_id = document_id  # expect: DBC504
    session.add(link)
def create_link(session, data, user):
    session.add(Link(user_id=user.id, document_id=data.document_id))  # expect: DBC504
@router.post("/v2/links")
def link_v2(body: LinkIn, session, user: User):
    create_link(session, body, user)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        bodies = [body for m in ctx.reported_modules() for body in m.bodies]
        may_write = _may_write_reference(ctx.index, ctx.config) if bodies else None
        if may_write is None or not any(may_write(body) for body in bodies):
            # no function of the files reported assigns a foreign key to a tenant-owned
            # table: the project's handlers need not be read (an editor's edit of a model)
            return []
        inputs = ctx.request_inputs
        findings: list[Finding] = []
        reported = {m.path for m in ctx.reported_modules()}
        # ``crud.create_link(session, body, user)``: the project functions handlers hand
        # request values to, with the calls that do
        services: dict[str, tuple[FunctionBody, list[tuple[_Reader, Call]]]] = {}
        for module in ctx.index.modules.values():
            for body in module.bodies:
                if not inputs.is_handler(module, body):
                    continue
                reader = _Reader(ctx.index, ctx.config, inputs, module, body)
                if module.path in reported:
                    findings.extend(self._judge_writes(reader))
                for call in (n for n in walk_ir(reader.statements) if isinstance(n, Call)):
                    callee = ctx.index.symbols.lookup(call.func) if isinstance(call.func, Name) else None
                    if isinstance(callee, FunctionBody) and not inputs.is_handler(callee.module, callee.body):
                        services.setdefault(callee.body.qualname, (callee, []))[1].append((reader, call))
        for callee, calls in services.values():
            if callee.module.path in reported:
                service = _Reader(ctx.index, ctx.config, inputs, callee.module, callee.body, service=True)
                findings.extend(self._judge_service(service, calls))
        return unique_places(findings)

    def _writes(self, reader: _Reader) -> Iterator[tuple[tuple, int, TableModel, str, Expr]]:
        """Each foreign-key value a function writes: (write, line, table, attribute, value)."""
        for node in walk_ir(reader.statements):
            if not isinstance(node, Call):
                continue
            model = reader.write_model(node)
            if model is None and isinstance(node.func, Attr) and node.func.name == "values":
                model = reader.statement_model(node)
            if model is not None:
                for name, value in node.kwargs:
                    if name != "**":
                        yield node, node.line, model, name, value
        for local, attribute, line in reader.body.attribute_stores:
            table = reader.row_model(local)
            if table is None:
                continue
            for assign in reader.assign_lines.get(line, []):
                if assign.targets in (("",), (f"{local}[]",)):  # ``link.document_id = document_id``
                    yield assign, line, table, attribute, assign.value

    def _judge_writes(self, reader: _Reader) -> Iterator[Finding]:
        for write, line, table, attribute, value in self._writes(reader):
            reference = _references(reader.index, reader.config, table, attribute)
            origin = reader.origin(value) if reference is not None else None
            if reference is None or origin is None or reader.looked_up_before(origin.key, write, line):
                continue
            yield self._finding(reader, line, table, reference, origin.shown)

    def _judge_service(self, service: _Reader, calls: list[tuple["_Reader", Call]]) -> Iterator[Finding]:
        """A write in a function handlers call, of a value a handler hands it from the request
        that neither the handler (before the call) nor the function looks up."""
        for write, line, table, attribute, value in self._writes(service):
            reference = _references(service.index, service.config, table, attribute)
            origin = service.origin(value) if reference is not None else None
            if reference is None or origin is None or service.looked_up_before(origin.key, write, line):
                continue
            for handler, call in calls:
                argument = _argument(service.body, call, origin.key[1])
                if argument is None:
                    continue
                if origin.key[0] == "field":
                    argument = Attr(argument, origin.key[2])
                outer = handler.origin(argument)
                if outer is not None and not handler.looked_up_before(outer.key, call, call.line):
                    shown = f"{outer.shown}, handed on by {handler.body.name}() ({handler.module.path}:{call.line})"
                    yield self._finding(service, line, table, reference, shown)
                    break

    def _finding(self, reader: _Reader, line: int, table: TableModel, reference: tuple[ColumnModel, TableModel],
                 source: str) -> Finding:
        column, target = reference
        return self.finding(Location(reader.module.path, line, 1), model=table.class_name or table.name,
                            column=column.attribute or column.name, source=source,
                            target=target.class_name or target.name)


def _argument(body: FunctionIR, call: Call, param: str) -> Optional[Expr]:
    """What a call hands a function's parameter (by keyword or by position)."""
    for name, value in call.kwargs:
        if name == param:
            return value
    params = [p for p in body.params if p not in ("self", "cls")]
    if param in params and params.index(param) < len(call.args):
        argument = call.args[params.index(param)]
        return None if isinstance(argument, tuple) and argument[:1] == ("star",) else argument
    return None
