"""DBC505: the tenant column set from the request - an input schema that declares it (or
the raw request body) unpacked into a tenant-owned model, so the client chooses whose row
it writes (mass assignment, CWE-915).

Read from each function's IR as written: where the unpacked value comes from (a handler's
or a service's parameter annotated with an input schema, a schema built from the request,
its ``model_dump()``), what the unpacking leaves out (``exclude=``, an explicit keyword,
``update=``), and whether the function sets the column itself afterwards."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

from dbcheck.facts.ir import Assign, Attr, Call, Const, DictDisplay, Expr, Local, Loop, Name
from dbcheck.facts.model import ModuleFacts
from dbcheck.findings import Finding
from dbcheck.flow.policy import mentions_privilege
from dbcheck.rules.base import Rule, unique_places
from dbcheck.rules.request_input import (
    BodyReader, InputSchema, RequestInputs, constant_strings, is_raw_request, walk_ir,
)
from dbcheck.schema.model import Location, TableModel
from dbcheck.schema.tenancy import tenant_columns_of, tenant_owned
from dbcheck.semantic.symbols import ClassAttr, ClassRef

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ProjectIndex

# ``body.model_dump()`` and its older / other spellings: the instance as a dict.
_DUMPS = frozenset({"model_dump", "dict", "to_dict", "_asdict", "asdict"})
# ``Task.model_validate(body)``: a model built from another object's attributes.
_VALIDATORS = frozenset({"model_validate", "from_orm", "parse_obj", "validate", "model_construct"})
# ``row.sqlmodel_update(body.model_dump())``: a loaded row updated from a dict.
_UPDATERS = frozenset({"sqlmodel_update", "update", "populate_obj", "update_from_dict"})
# What an unpacking's encoded IR must mention (cheaper than decoding every body).
_UNPACKING = re.compile(rb"\*\*|setattr|values|" + b"|".join(n.encode() for n in sorted(_VALIDATORS | _UPDATERS)))


@dataclass(frozen=True)
class _Source:
    """What an unpacked value is: a schema instance or its dict, or the raw request."""

    schema: Optional[InputSchema]
    shown: str
    # the call that says which fields come through: ``model_dump(exclude=...)``, or a
    # marshmallow schema built with ``exclude=`` / ``only=``
    dump: Optional[Call] = None
    raw: bool = False
    holder: str = ""  # the local holding it (``data = body.model_dump()``): keys set into it count


class _Reader(BodyReader):
    # ---------------------------------------------------------------- sources

    def source(self, expr: Expr, depth: int = 0) -> Optional[_Source]:
        if depth > 4:
            return None
        if isinstance(expr, Local):
            if expr.tag == "param":
                schema = self.inputs.schema_of_annotation(self.body.annotations.get(expr.name))
                return _Source(schema, expr.name) if schema is not None and self._is_input(schema) else None
            value = self.single(expr.name)
            found = self.source(value, depth + 1) if value is not None else None
            return _Source(found.schema, expr.name, found.dump, found.raw, expr.name) if found is not None else None
        if isinstance(expr, Call):
            built = self.inputs.built_schema(expr)
            if built is not None and self._is_input(built):
                made = expr.func.value if isinstance(expr.func, Attr) and isinstance(expr.func.value, Call) else None
                return _Source(built, built.name, made)  # ``TaskSchema(exclude=(...)).load(...)``
            if isinstance(expr.func, Attr) and expr.func.name in _DUMPS:
                inner = self.source(expr.func.value, depth + 1)
                if inner is not None and inner.schema is not None:
                    return _Source(inner.schema, f"{inner.shown}.{expr.func.name}()", expr)
            if isinstance(expr.func, Name) and expr.func.qualified.rsplit(".", 1)[-1] in ("dict", "vars", "asdict") \
                    and expr.args:
                inner = self.source(expr.args[0], depth + 1)
                if inner is not None:
                    return _Source(inner.schema, f"{expr.func.qualified.rsplit('.', 1)[-1]}({inner.shown})",
                                   inner.dump, inner.raw)
        if is_raw_request(expr):
            return _Source(None, "the request body", raw=True)
        return None

    def _is_input(self, schema: InputSchema) -> bool:
        return schema.ref.qualname in self.inputs.inputs

    # ---------------------------------------------------------------- rows

    def model_of(self, expr: Expr) -> Optional[TableModel]:
        """The tenant-owned mapped class a call names (``Task(...)``, ``Task.model_validate``)."""
        sym = self.index.symbols.lookup(expr) if isinstance(expr, Name) else None
        if isinstance(sym, ClassAttr) and len(sym.path) == 1:
            sym = sym.cls
        if not isinstance(sym, ClassRef):
            return None
        info = self.index.classes.get(sym.qualname)
        if info is None or not info.mapped or info.table is None or info.table.name is None:
            return None
        return _owned_resource(self.index, self.config, info.table)

    def row_model(self, name: str) -> Optional[TableModel]:
        """The tenant-owned table a local's row is of: its annotation, or the one mapped class
        the expression that loaded it names (``session.get(Task, id)``, ``Task.query...``)."""
        tables = self.row_tables(name)
        if len(tables) != 1 or tables[0].name is None:
            return None
        return _owned_resource(self.index, self.config, tables[0])

    def statement_model(self, call: Call) -> Optional[TableModel]:
        """``insert(Task).values(...)`` / ``update(Task)...values(...)``: Task."""
        target = self.statement_target(call)
        return self.model_of(target) if target is not None else None


# Who belongs to which tenant: setting these rows' tenant column is what provisioning
# endpoints are for (``User(organization_id=...)`` in an admin's user API).
_MEMBERSHIP_CLASSES = frozenset({"User", "Member", "Membership", "UserAccount", "OrganizationMember",
                                 "TeamMember", "WorkspaceMember", "TenantUser"})


def _owned_resource(index: "ProjectIndex", config: "Config", table: TableModel) -> Optional[TableModel]:
    """The table when its rows are a tenant's resources, not its members."""
    if (table.class_name or "") in _MEMBERSHIP_CLASSES or (table.name or "").endswith(("members", "memberships")):
        return None
    return tenant_owned(index, config, table.name or "")


class TenantColumnFromInput(Rule):
    code = "DBC505"
    name = "tenant-column-from-input"
    summary = "An input schema that declares the tenant column (or the raw request body) unpacked into a tenant-owned model."
    message = ("{schema}.{field}{sent} sets {model}.{column}: {how} copies it from the request into the row, so the "
               "client chooses whose row it is; exclude it ({exclude}) and set {column} from who asks")
    messages = {
        "raw": ("{how} copies the request body into {model}: the client can set {model}.{column} and choose whose "
                "row it is; build the row from named fields and set {column} from who asks"),
    }
    cwe = "CWE-915: Improperly Controlled Modification of Dynamically-Determined Object Attributes"
    fix_description = "which fields a client may set is a decision about the API, not a mechanical edit."
    what_it_does = """
Flags a tenant-owned model built or updated from an input schema that declares the model's
tenant column - a pydantic `BaseModel`, a SQLModel class without `table=True`, a
marshmallow `Schema`, or a dataclass / attrs class a request handler takes - by
`Model(**body.model_dump())`, `Model(**body.dict())`, `Model.model_validate(body)`,
`row.sqlmodel_update(body.model_dump())`, `for k, v in body: setattr(row, k, v)`,
`insert(Model).values(**data)`, or a marshmallow `Schema().load(...)` dict unpacked into
the model; and the raw request body unpacked the same way (`Task(**request.get_json())`).

The schema must be a request input: a parameter of a request handler (FastAPI / Starlette
and Flask / Quart routes, `MethodView` methods, Flask-Pydantic's `@validate`, the
`request-handlers` setting), or built in a handler from the request. Not flagged: the
field excluded (`model_dump(exclude={"user_id"})`, `include=` without it,
`Field(exclude=True)`, marshmallow `dump_only=True`), the column given explicitly
(`Task(**data, user_id=user.id)`, `model_validate(body, update={"user_id": ...})`), or set
from who asks afterwards in the same function (`task.user_id = user.id`)."""
    why_bad = """
The tenant column says whose row it is. When the request can carry it, a client writes
rows into another tenant's account (or moves its own rows there) by adding one field to
the body - the schema validates it as a well-formed id. Seed projects ask that insert
schemas omit the owner column for exactly this reason."""
    known_problems = """
Only the function that unpacks is read: a schema dumped in one function and unpacked in
another is followed through locals, not through calls; a setter in another function
that fixes the column afterwards is not seen."""
    example = """
@router.post("/tasks")
def create_task(body: TaskIn, session: SessionDep, user: CurrentUser):
    task = Task(**body.model_dump())   # TaskIn declares user_id
"""
    use_instead = """
@router.post("/tasks")
def create_task(body: TaskIn, session: SessionDep, user: CurrentUser):
    task = Task(**body.model_dump(exclude={"user_id"}), user_id=user.id)
"""
    valid = (
        '''
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
router = APIRouter()
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str]
class TaskIn(BaseModel):
    title: str
    user_id: int
class TaskCreate(BaseModel):
    title: str
class TaskImport(BaseModel):
    title: str
    user_id: int = Field(exclude=True)
@router.post("/tasks")
def create(body: TaskIn, session, user: User):
    session.add(Task(**body.model_dump(exclude={"user_id"}), user_id=user.id))  # ok: DBC505
    session.add(Task(**body.model_dump(), user_id=user.id))  # ok: DBC505
    task = Task.model_validate(body)  # ok: DBC505
    task.user_id = user.id
    session.add(task)
@router.post("/tasks/plain")
def create_plain(body: TaskCreate, session, user: User):
    session.add(Task(**body.model_dump(), user_id=user.id))  # ok: DBC505
@router.post("/tasks/import")
def import_task(body: TaskImport, session, user: User):
    task = Task(**body.model_dump())  # ok: DBC505
    session.add(task)
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
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str]
class TaskIn(BaseModel):
    title: str
    user_id: int
@router.post("/tasks")
def create(body: TaskIn, session):
    session.add(Task(**body.model_dump()))  # expect: DBC505
@router.put("/tasks/{task_id}")
def update(task_id: int, body: TaskIn, session, user: User):
    task = session.get(Task, task_id)  # noqa: DBC502
    for key, value in body.model_dump(exclude_unset=True).items():  # expect: DBC505
        setattr(task, key, value)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        inputs: Optional[RequestInputs] = None
        findings: list[Finding] = []
        for module in ctx.reported_modules():
            for body in (inner for outer in module.bodies for inner in outer.with_nested()):
                if _UNPACKING.search(body.code) is None:
                    continue  # no ``**``, validator, updater, ``setattr`` or ``.values(``: nothing unpacks
                if inputs is None:
                    inputs = ctx.request_inputs
                    if not inputs.inputs and not _any_raw_request(ctx.index):
                        return []
                findings.extend(self._check_function(_Reader(ctx.index, ctx.config, inputs, body), module))
        return unique_places(findings)

    def _check_function(self, reader: _Reader, module: ModuleFacts) -> Iterator[Finding]:
        if any(mentions_privilege(d) for d in reader.body.decorators):
            return  # an administrators' route provisions rows for any tenant by design
        for node in walk_ir(reader.statements):
            if isinstance(node, Call):
                yield from self._unpacking_call(reader, module, node)
            elif isinstance(node, Loop) and not node.is_while and node.iterable is not None:
                yield from self._setattr_loop(reader, module, node)

    def _unpacking_call(self, reader: _Reader, module: ModuleFacts, call: Call) -> Iterator[Finding]:
        func = call.func
        explicit = {name for name, _value in call.kwargs if name != "**"}
        model = reader.model_of(func)
        if model is not None and not isinstance(reader.index.symbols.lookup(func), ClassAttr):
            for name, value in call.kwargs:  # ``Task(**body.model_dump())``
                if name == "**":
                    yield from self._judge(reader, module, call, model, value, explicit, f"{_shown(model)}(**...)")
            return
        if model is not None and isinstance(func, Name) and func.qualified.rsplit(".", 1)[-1] in _VALIDATORS \
                and call.args:
            overridden = self._overridden(reader, call)
            method = func.qualified.rsplit(".", 1)[-1]
            yield from self._judge(reader, module, call, model, call.args[0], overridden,
                                   f"{_shown(model)}.{method}()")
            return
        if isinstance(func, Attr) and func.name in _UPDATERS and isinstance(func.value, Local):
            row = reader.row_model(func.value.name)
            if row is not None:
                overridden = explicit | self._overridden(reader, call)  # ``sqlmodel_update(d, update={...})``
                for value in (*call.args[:1], *(v for n, v in call.kwargs if n == "**")):
                    yield from self._judge(reader, module, call, row, value, overridden,
                                           f"{func.value.name}.{func.name}()", row_local=func.value.name)
            return
        if isinstance(func, Attr) and func.name == "values":
            table = reader.statement_model(call)
            if table is not None:
                for value in (*call.args[:1], *(v for n, v in call.kwargs if n == "**")):
                    yield from self._judge(reader, module, call, table, value, explicit, ".values(...)")

    @staticmethod
    def _overridden(reader: _Reader, call: Call) -> set[str]:
        """The keys ``update={...}`` sets (a dict display, or a local holding one)."""
        update = dict(call.kwargs).get("update")
        if isinstance(update, Local) and update.tag == "local":
            update = reader.single(update.name)
        return constant_strings(update) if update is not None else set()

    def _setattr_loop(self, reader: _Reader, module: ModuleFacts, loop: Loop) -> Iterator[Finding]:
        """``for key, value in body.model_dump().items(): setattr(row, key, value)``."""
        iterable = loop.iterable
        if isinstance(iterable, Call) and isinstance(iterable.func, Attr) and iterable.func.name == "items":
            iterable = iterable.func.value
        if iterable is None or not loop.targets or not loop.targets[0]:
            return
        if any(isinstance(c, Const) and c.value in reader.config.tenant_columns for c in walk_ir(loop.body)):
            return  # the loop names the column: it skips or guards it
        for node in walk_ir(loop.body):
            if isinstance(node, Call) and isinstance(node.func, Name) \
                    and node.func.qualified in ("setattr", "?.setattr", "builtins.setattr"):
                if len(node.args) == 3 and isinstance(node.args[0], Local) and isinstance(node.args[1], Local) \
                        and node.args[1].name == loop.targets[0]:
                    row = reader.row_model(node.args[0].name)
                    if row is not None:
                        yield from self._judge(reader, module, loop, row, iterable, set(), "setattr() over its fields",
                                               row_local=node.args[0].name)
                        return

    def _judge(self, reader: _Reader, module: ModuleFacts, at: tuple, model: TableModel, value: Expr,
               explicit: set[str], how: str, row_local: str = "") -> Iterator[Finding]:
        line = getattr(at, "line", 0) or reader.body.line
        display = value
        if isinstance(display, Local) and display.tag == "local":
            display = reader.single(display.name) or display
        for column in tenant_columns_of(model, reader.config):
            key = column.attribute or column.name
            if key in explicit or column.name in explicit:
                continue
            # ``{"user_id": user.id, **body.model_dump()}``: the last entry that sets it wins
            source = _last_setter(reader, display, key) if isinstance(display, DictDisplay) else reader.source(value)
            if source is None:
                continue
            if source.holder and _key_set(reader, source.holder, key, line):
                continue  # ``data["user_id"] = user.id`` before the unpacking
            local = row_local or _assigned_local(reader, at)
            if local and any(store[0] == local and store[1] == key and store[2] >= line
                             for store in reader.body.attribute_stores):
                continue  # ``task.user_id = user.id`` afterwards
            if source.raw:
                yield self.finding(Location(module.path, line, 1), "raw", how=how, model=_shown(model),
                                   column=key)
                continue
            field = _declared(source, key)
            if field is None or _checked_before(reader, source, field.name, line):
                continue  # ``check_permission(session, auth, log.workspace_id, ...)`` first
            sent = f" (sent as '{field.alias}')" if field.alias and field.alias != field.name else ""
            yield self.finding(Location(module.path, line, 1), schema=source.schema.name if source.schema else "",
                               field=field.name, sent=sent, model=_shown(model), column=key, how=how,
                               exclude=f"exclude={{'{field.name}'}}")


def _last_setter(reader: _Reader, display: DictDisplay, key: str) -> Optional[_Source]:
    """The entry of a dict display that decides ``key``: a ``**`` entry whose source sends
    it, or None when a literal key comes after it (or none sends it)."""
    last: Optional[_Source] = None
    for entry_key, entry_value in display.pairs:
        if isinstance(entry_key, Const) and entry_key.value == "**":
            found = reader.source(entry_value)
            if found is not None and (found.raw or _declared(found, key) is not None):
                last = found
        elif isinstance(entry_key, Const) and entry_key.value == key:
            last = None
    return last


def _key_set(reader: _Reader, holder: str, key: str, line: int) -> bool:
    """``data["user_id"] = ...`` or ``data.update(user_id=...)`` before ``line``."""
    for node in walk_ir(reader.statements):
        if isinstance(node, Assign) and f"{holder}{{{key}}}" in node.targets and node.line < line:
            return True
        if isinstance(node, Call) and isinstance(node.func, Attr) and node.func.name in ("update", "setdefault", "pop") \
                and isinstance(node.func.value, Local) and node.func.value.name == holder and node.line < line \
                and (key in {name for name, _v in node.kwargs} or key in constant_strings(node.args[:1])):
            return True
    return False


def _declared(source: _Source, key: str) -> Optional[Any]:
    """The schema field that lands in ``key`` and is not left out of the unpacking."""
    if source.schema is None:
        return None
    dump_kwargs = dict(source.dump.kwargs) if source.dump is not None else {}
    by_alias = isinstance(dump_kwargs.get("by_alias"), tuple) and dump_kwargs["by_alias"][1] is True
    excluded = constant_strings(dump_kwargs["exclude"]) if "exclude" in dump_kwargs else set()
    chosen = dump_kwargs.get("include", dump_kwargs.get("only"))  # ``only=``: a marshmallow schema's
    included = constant_strings(chosen) if chosen is not None else None
    for field in source.schema.fields.values():
        lands = (field.alias if by_alias and field.alias else field.name) == key \
            or (source.schema.kind == "marshmallow" and field.name == key)
        if not lands:
            continue
        if field.name in excluded or (included is not None and field.name not in included):
            return None
        if field.excluded and (source.dump is not None or source.schema.kind == "marshmallow"):
            return None
        return field
    return None


def _checked_before(reader: _Reader, source: _Source, field: str, line: int) -> bool:
    """The field's value handed to a call before the unpacking (an access check, a look-up
    of the tenant it names): the handler decided the client may name that tenant."""
    holder = source.shown.split(".", 1)[0]
    for node in walk_ir(reader.statements):
        if not isinstance(node, Call) or not node.line or node.line >= line:
            continue
        for argument in (*node.args, *(value for _name, value in node.kwargs)):
            for part in walk_ir(argument):
                if isinstance(part, Attr) and part.name == field and isinstance(part.value, Local) \
                        and part.value.name == holder:
                    return True
    return False


def _assigned_local(reader: _Reader, at: tuple) -> str:
    """The local an unpacking's result is assigned to (``task = Task(**data)``)."""
    for name, values in reader.assigned.items():
        if any(value is at or (isinstance(value, tuple) and at in tuple(walk_ir(value))) for value in values):
            return name
    return ""


def _shown(table: TableModel) -> str:
    return table.class_name or table.name or "the model"


def _any_raw_request(index: "ProjectIndex") -> bool:
    return any("request" in module.imports or any(v.endswith(".request") for v in module.imports.values())
               for module in index.modules.values())
