"""What comes from the request: which functions are request handlers (FastAPI / Starlette,
Flask / Quart routes, ``MethodView`` methods, the ``request-handlers`` setting), which
classes are input schemas (pydantic, SQLModel without a table, marshmallow, dataclasses
and attrs classes a handler takes) and the fields they declare. Read by DBC504 / DBC505."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from dbcheck.facts.ir import Assign, Attr, Call, Const, Expr, Local, Name
from dbcheck.facts.model import FunctionIR, ModuleFacts
from dbcheck.flow.policy import decorated_by
from dbcheck.semantic.symbols import ClassAttr, ClassRef, FunctionBody, Lib, Value

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.schema.index import ProjectIndex
    from dbcheck.schema.model import TableModel

# ``@router.post("/items")``, ``@bp.route("/x")``, ``@app.websocket("/ws")``
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route",
                            "websocket", "api_view"})
# Objects whose methods register routes.
_ROUTERS = frozenset({"fastapi.APIRouter", "fastapi.FastAPI", "starlette.routing.Router",
                      "starlette.applications.Starlette", "flask.Blueprint", "flask.Flask", "quart.Quart",
                      "quart.Blueprint", "apiflask.APIFlask", "apiflask.APIBlueprint", "flask_smorest.Blueprint",
                      "flask_restx.Namespace", "flask_restx.Api", "sanic.Sanic", "sanic.Blueprint"})
_ROUTER_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _ROUTERS)
# Class-based views: their HTTP-method methods are handlers.
_VIEW_BASES = frozenset({"flask.views.MethodView", "flask.views.View", "flask_restful.Resource",
                         "flask_restx.Resource", "quart.views.MethodView", "starlette.endpoints.HTTPEndpoint"})
_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})
# Decorators that validate a request body into the handler's annotated parameters.
_VALIDATING_DECORATORS = frozenset({"flask_pydantic.validate", "spectree.SpecTree.validate"})

_PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.v1.BaseModel"})
_MARSHMALLOW_BASES = frozenset({"Schema", "SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema"})
_RECORD_DECORATORS = frozenset({"dataclasses.dataclass", "attr.s", "attr.attrs", "attrs.define", "attr.define",
                                "attrs.frozen", "attrs.mutable", "pydantic.dataclasses.dataclass"})


# Who asks, by the names code gives it (besides the tenant columns and the tenant table's).
_ASKER_NAMES = frozenset({"actor", "current_user", "current_actor", "acting_user", "requesting_user", "auth_user",
                          "user", "current_tenant", "tenant", "tenant_id", "current_org"})


def tenant_parameter_names(config: "Config") -> frozenset[str]:
    """The parameter names that say "the tenant" or "who asks" in this project."""
    singular = singular_of_tenant_table(config)
    return _ASKER_NAMES | set(config.tenant_columns) | {singular, f"{singular}_id"}


def singular_of_tenant_table(config: "Config") -> str:
    return config.tenant_table.removesuffix("s") if config.tenant_table.endswith("s") else config.tenant_table


def injected_dependency(index: "ProjectIndex", body: FunctionIR, param: str) -> bool:
    """A dependency a framework resolves for its effect (``current_user: User =
    Depends(get_current_user)``, ``CurrentUser`` aliasing ``Annotated[User, Depends(...)]``):
    asking for it makes the route authenticated, whether or not the body reads it."""
    if is_depends(body.defaults.get(param)):
        return True
    hint = body.annotations.get(param)
    for _ in range(3):
        if hint is None:
            return False
        if hint[0] == "sub":
            return any(is_depends(item) for item in hint[2])
        sym = index.symbols.lookup(hint)
        hint = sym.expr if isinstance(sym, Value) and not sym.rest else None
    return False


def is_depends(expr: object) -> bool:
    """``Depends(...)`` / ``Security(...)``, typed or as a module assignment stores it (plain)."""
    if not isinstance(expr, tuple) or len(expr) < 2 or expr[0] != "call":
        return False
    func = expr[1]
    return isinstance(func, tuple) and func[:1] == ("n",) and isinstance(func[1], str) \
        and func[1].rsplit(".", 1)[-1] in ("Depends", "Security")


@dataclass(frozen=True)
class SchemaField:
    name: str
    line: int
    alias: str = ""  # the key the client sends when it differs (``alias=``, ``data_key=``)
    excluded: bool = False  # ``Field(exclude=True)``: never dumped; ``dump_only=True``: never loaded


@dataclass
class InputSchema:
    ref: ClassRef
    kind: str  # "pydantic" | "sqlmodel" | "marshmallow" | "record"
    fields: dict[str, SchemaField] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.ref.fact.name


def _qualified(index: "ProjectIndex", expr: Any) -> str:
    """The library name an expression resolves to, without the resolver's prefix
    (``ext:pydantic.BaseModel`` -> ``pydantic.BaseModel``); "" when it is not a library's."""
    sym = index.symbols.lookup(expr) if isinstance(expr, tuple) else None
    if isinstance(sym, Lib):
        name = ".".join((sym.name, *sym.rest))
        return name.split(":", 1)[1] if ":" in name else name
    return ""


def _library_name(index: "ProjectIndex", expr: Any) -> str:
    """``_qualified``, or the name as written when no definition settles it (a ``try:
    from marshmallow import Schema`` / ``except ImportError: class Schema: ...`` stand-in)."""
    found = _qualified(index, expr)
    if found or not (isinstance(expr, tuple) and expr[:1] == ("n",) and len(expr) == 2 and isinstance(expr[1], str)):
        return found
    sym = index.symbols.lookup(expr)
    if sym is None:
        return expr[1]
    # the stand-in class itself (``class Schema:`` under ``except ImportError``), or its
    # attribute (``fields.String``): the name its module imports under that name
    ref, path = (sym.cls, sym.path) if isinstance(sym, ClassAttr) else (sym, ()) if isinstance(sym, ClassRef) else (None, ())
    imported = ref.module.imports.get(ref.fact.name, "") if ref is not None else ""
    if imported and imported.split(".", 1)[0] not in index.modules:
        return ".".join((imported, *path))
    return ""


def _router_method(index: "ProjectIndex", func: Any) -> Optional[str]:
    """``router.post`` -> "post" when ``router`` is a framework's router or app."""
    sym = index.symbols.lookup(func) if isinstance(func, tuple) else None
    if isinstance(sym, Value) and len(sym.rest) == 1 and sym.rest[0] in _ROUTE_METHODS \
            and isinstance(sym.expr, tuple) and sym.expr[:1] == ("call",):
        if _qualified(index, sym.expr[1]) in _ROUTERS or _unresolved_named(index, sym.expr[1], _ROUTER_NAMES):
            return sym.rest[0]
    if isinstance(sym, Lib) and sym.rest and sym.rest[-1] in _ROUTE_METHODS:
        return sym.rest[-1]  # ``app.get`` on an app object the resolver sees as the library's
    return None


def is_request_handler(index: "ProjectIndex", config: "Config", module: ModuleFacts, body: FunctionIR) -> bool:
    """A function the web framework calls with the request's data."""
    for decorator in body.decorators:
        func, last = decorated_by(decorator)
        if last in config.request_handlers or _router_method(index, func) is not None:
            return True
        if _qualified(index, func) in _VALIDATING_DECORATORS:
            return True
    if body.class_name is not None and body.name in _HTTP_METHODS:
        cls = next((c for c in module.classes if c.name == body.class_name), None)
        if cls is not None and _is_view_class(index, config, module, cls.name, 0):
            return True
    return False


def _is_view_class(index: "ProjectIndex", config: "Config", module: ModuleFacts, class_name: str,
                   depth: int) -> bool:
    """A class-based view: a framework's view base, or a base ``request-handlers`` names."""
    info = index.classes.get(f"{module.module}.{class_name}")
    if info is None or depth > 5:
        return False
    for base in info.ref.fact.bases:
        written = base[1].rsplit(".", 1)[-1] if isinstance(base, tuple) and base[:1] == ("n",) else ""
        if written and written in config.request_handlers:
            return True
        sym = index.symbols.lookup(base)
        if isinstance(sym, ClassRef):
            if _is_view_class(index, config, sym.module, sym.fact.name, depth + 1):
                return True
        elif _qualified(index, base) in _VIEW_BASES:
            return True
    return False


@dataclass
class RequestInputs:
    """The project's request handlers and input schemas, computed once per run."""

    index: "ProjectIndex"
    config: "Config"
    schemas: dict[str, InputSchema] = field(default_factory=dict)  # qualname -> schema
    handlers: set[tuple[str, str]] = field(default_factory=set)  # (path, qualname)
    inputs: set[str] = field(default_factory=set)  # schema qualnames a handler takes or builds from the request

    @classmethod
    def build(cls, index: "ProjectIndex", config: "Config") -> "RequestInputs":
        found = cls(index, config)
        for qualname, info in index.classes.items():
            if not info.mapped:
                schema = found._schema(info.ref, 0)
                if schema is not None:
                    found.schemas[qualname] = schema
        for module in index.modules.values():
            for body in module.bodies:
                if is_request_handler(index, config, module, body):
                    found.handlers.add((module.path, body.qualname))
                    found.inputs.update(found._taken(body))
        return found

    def is_handler(self, module: ModuleFacts, body: FunctionIR) -> bool:
        return (module.path, body.qualname) in self.handlers

    # ---------------------------------------------------------------- schemas

    def _schema(self, ref: ClassRef, depth: int) -> Optional[InputSchema]:
        if depth > 6:
            return None
        kind = self._kind(ref, depth)
        if kind is None:
            return None
        schema = InputSchema(ref, kind)
        for base in ref.fact.bases:
            sym = self.index.symbols.lookup(base)
            if isinstance(sym, ClassRef):
                inherited = self._schema(sym, depth + 1)
                if inherited is not None:
                    schema.fields.update(inherited.fields)
        for attr in ref.fact.attrs:
            declared = self._field(kind, attr.name, attr.annotation, attr.value, attr.line)
            if declared is not None:
                schema.fields[attr.name] = declared
        return schema

    def _kind(self, ref: ClassRef, depth: int) -> Optional[str]:
        info = self.index.classes.get(ref.qualname)
        if info is not None and info.mapped:
            return None
        for decorator in ref.fact.decorators:
            func, _last = decorated_by(decorator)
            if _qualified(self.index, func) in _RECORD_DECORATORS:
                return "record"
        for base in ref.fact.bases:
            sym = self.index.symbols.lookup(base)
            if isinstance(sym, ClassRef) and not _library_name(self.index, base):
                inherited = self._kind(sym, depth + 1) if depth < 6 else None
                if inherited is not None:
                    return inherited
                continue
            if isinstance(sym, Lib) and sym.name == "sqlmodel:SQLModel":
                return "sqlmodel"
            qualified = _library_name(self.index, base)
            if qualified in _PYDANTIC_BASES or _unresolved_named(self.index, base, frozenset({"BaseModel"})):
                return "pydantic"
            if qualified.startswith(("marshmallow", "flask_marshmallow", "marshmallow_sqlalchemy")) \
                    and qualified.rsplit(".", 1)[-1] in _MARSHMALLOW_BASES:
                return "marshmallow"
            if isinstance(sym, Value) and sym.rest and sym.rest[-1] in _MARSHMALLOW_BASES \
                    and _qualified(self.index, sym.expr[1] if sym.expr[:1] == ("call",) else sym.expr) \
                    == "flask_marshmallow.Marshmallow":
                return "marshmallow"  # ``ma.Schema`` of ``ma = Marshmallow(app)``
        return None

    def _field(self, kind: str, name: str, annotation: Any, value: Any, line: int) -> Optional[SchemaField]:
        if name.startswith("_") or name in ("model_config", "Config", "Meta"):
            return None
        call = value if isinstance(value, tuple) and value[:1] == ("call",) else None
        keywords = dict(kw for kw in call[3] if kw[0] != "**") if call is not None else {}
        if kind == "marshmallow":
            if call is None or not _library_name(self.index, call[1]).startswith("marshmallow.fields") \
                    and not _is_marshmallow_field(self.index, call[1]):
                return None
            alias = _text(keywords.get("data_key"))
            return SchemaField(name, line, alias, excluded=_true(keywords.get("dump_only")))
        if annotation is None or _is_classvar(self.index, annotation):
            return None
        alias = _text(keywords.get("validation_alias")) or _text(keywords.get("alias"))
        return SchemaField(name, line, alias, excluded=_true(keywords.get("exclude")))

    # ---------------------------------------------------------------- inputs

    def schema_of_annotation(self, hint: Any, depth: int = 0) -> Optional[InputSchema]:
        """The input schema an annotation names (``Optional``, ``Annotated``, ``list``,
        ``X | None`` and module aliases followed)."""
        if not isinstance(hint, tuple) or not hint or depth > 4:
            return None
        if hint[0] == "sub":
            for inner in hint[2]:
                found = self.schema_of_annotation(inner, depth + 1)
                if found is not None:
                    return found
            return None
        if hint[0] == "or":
            return self.schema_of_annotation(hint[1], depth + 1) or self.schema_of_annotation(hint[2], depth + 1)
        sym = self.index.symbols.lookup(hint)
        if isinstance(sym, ClassRef):
            return self.schemas.get(sym.qualname)
        if isinstance(sym, Value) and not sym.rest:
            return self.schema_of_annotation(sym.expr, depth + 1)
        return None

    def schema_of_class(self, expr: Any) -> Optional[InputSchema]:
        sym = self.index.symbols.lookup(expr) if isinstance(expr, tuple) else None
        return self.schemas.get(sym.qualname) if isinstance(sym, ClassRef) else None

    def _taken(self, body: FunctionIR) -> Iterator[str]:
        """The schemas a handler takes: annotated parameters, and schemas it builds from the
        request (``TaskIn(**request.get_json())``, ``TaskSchema().load(request.json)``)."""
        for param in body.params:
            schema = self.schema_of_annotation(body.annotations.get(param))
            if schema is not None:
                yield schema.ref.qualname
        for node in walk_ir(body.body):
            if isinstance(node, Call) and _mentions_request(node):
                built = self.built_schema(node)
                if built is not None:
                    yield built.ref.qualname

    def built_schema(self, call: Call) -> Optional[InputSchema]:
        """The schema a call builds or validates: ``S(...)``, ``S.model_validate(...)``,
        ``S.parse_obj(...)``, ``S().load(...)``."""
        func = call.func
        schema = self.schema_of_class(func)
        if schema is not None:
            return schema
        if isinstance(func, Name):
            sym = self.index.symbols.lookup(func)
            if isinstance(sym, ClassAttr) and len(sym.path) == 1 and sym.path[0] in _BUILDERS:
                return self.schemas.get(sym.cls.qualname)
        if isinstance(func, Attr) and func.name in ("load", "loads") and isinstance(func.value, Call):
            return self.schema_of_class(func.value.func)  # marshmallow: ``TaskSchema().load(data)``
        return None


# Class methods that build a validated instance from the request's data.
_BUILDERS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate",
                       "model_construct", "construct", "from_dict", "load"})


def _unresolved_named(index: "ProjectIndex", expr: Any, names: frozenset[str]) -> bool:
    """A name no definition settles (``try: from fastapi import APIRouter`` / ``except
    ImportError: class APIRouter: ...`` stand-ins) that is written as one of ``names``."""
    return isinstance(expr, tuple) and expr[:1] == ("n",) and isinstance(expr[1], str) \
        and expr[1].rsplit(".", 1)[-1] in names and index.symbols.lookup(expr) is None


def _is_marshmallow_field(index: "ProjectIndex", func: Any) -> bool:
    sym = index.symbols.lookup(func) if isinstance(func, tuple) else None
    return isinstance(sym, Value) and len(sym.rest) == 1 and sym.rest[0][:1].isupper() \
        and _qualified(index, sym.expr[1] if sym.expr[:1] == ("call",) else sym.expr) == "flask_marshmallow.Marshmallow"


def _is_classvar(index: "ProjectIndex", annotation: Any) -> bool:
    base = annotation[1] if annotation[:1] == ("sub",) else annotation
    return _qualified(index, base).rsplit(".", 1)[-1] == "ClassVar"


def _text(expr: Any) -> str:
    return expr[1] if isinstance(expr, tuple) and expr[:1] == ("c",) and isinstance(expr[1], str) else ""


def _true(expr: Any) -> bool:
    return isinstance(expr, tuple) and expr[:1] == ("c",) and expr[1] is True


def _mentions_request(expr: object) -> bool:
    """Whether an expression reads the request: ``flask.request.json``, a ``request``
    parameter, ``await request.json()``."""
    if isinstance(expr, Name):
        return expr.qualified.split(".")[:2] in (["flask", "request"], ["quart", "request"]) \
            or expr.qualified.rsplit(".", 2)[-2:-1] == ["request"]
    if isinstance(expr, Local):
        return expr.name in ("request", "req")
    return isinstance(expr, tuple) and any(_mentions_request(part) for part in expr if isinstance(part, tuple))


def walk_ir(node: object) -> Iterator[tuple]:
    """Every tuple inside an IR node or block, the node included (no order promised)."""
    stack: list = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            yield item
            stack.extend(part for part in item if isinstance(part, tuple))


# Where a request's own, unvalidated data is read (``request.json``, ``request.form``).
RAW_REQUEST = frozenset({"json", "get_json", "form", "args", "values", "data", "query_params", "path_params"})


def is_raw_request(expr: Any, single: Optional[Callable[[str], Optional[Expr]]] = None, depth: int = 0) -> bool:
    """``request.json``, ``request.get_json()``, ``request.form.to_dict()``, ``await
    request.json()``, or (given ``single``) a local assigned one of those once."""
    node: Any = expr
    for _ in range(4):
        if isinstance(node, Call):
            node = node.func
        if isinstance(node, Name):
            parts = node.qualified.split(".")
            return len(parts) >= 2 and "request" in parts[:-1] and parts[parts.index("request") + 1] in RAW_REQUEST
        if isinstance(node, Attr):
            if node.name in RAW_REQUEST and isinstance(node.value, Local) and node.value.name in ("request", "req"):
                return True
            node = node.value
            continue
        if isinstance(node, Local) and node.tag == "local" and single is not None and depth < 3:
            value = single(node.name)
            return value is not None and is_raw_request(value, single, depth + 1)
        return False
    return False


class BodyReader:
    """One function's IR, decoded once (walks compare its nodes by identity), with what
    each local is assigned - what DBC504 and DBC505 read a body through."""

    def __init__(self, index: "ProjectIndex", config: "Config", inputs: "RequestInputs", body: FunctionIR) -> None:
        self.index, self.config, self.inputs, self.body = index, config, inputs, body
        self.statements = body.body
        self.assigned: dict[str, list[Expr]] = {}
        self.assign_lines: dict[int, list[Assign]] = {}
        for node in walk_ir(self.statements):
            if isinstance(node, Assign):
                self.assign_lines.setdefault(node.line, []).append(node)
                if len(node.targets) == 1 and node.targets[0]:
                    self.assigned.setdefault(node.targets[0], []).append(node.value)

    def single(self, name: str) -> Optional[Expr]:
        """The value a local is assigned, when it is assigned once."""
        values = self.assigned.get(name, [])
        return values[0] if len(values) == 1 else None

    def row_tables(self, name: str) -> list["TableModel"]:
        """The mapped classes a local's row may be of: its annotation, or what the expression
        that loaded it names (``session.get(Task, id)``, a helper annotated ``-> Task``)."""
        hint = self.body.annotations.get(name) or self.body.annotations.get(f"local:{name}")
        tables = mapped_tables(self.index, hint) if hint is not None else []
        value = self.single(name)
        if not tables and value is not None:
            tables = loaded_tables(self.index, self.single, value)
        return tables

    def statement_target(self, call: Call) -> Optional[Expr]:
        """``insert(Task).values(...)`` / ``update(Task).where(...).values(...)``: ``Task``."""
        node: Any = call.func.value if isinstance(call.func, Attr) else None
        for _ in range(8):
            if isinstance(node, Call) and isinstance(node.func, Name) \
                    and self.index.symbols.lib_name(node.func) in ("sa:insert", "sa:update", "sqlmodel:insert",
                                                                  "sqlmodel:update") and node.args:
                return node.args[0]
            node = node.func.value if isinstance(node, Call) and isinstance(node.func, Attr) else None
            if node is None:
                return None
        return None


def mapped_tables(index: "ProjectIndex", expr: Any, depth: int = 0) -> list["TableModel"]:
    """The mapped classes an expression or annotation names (``Task``, ``Optional[Task]``,
    ``OwnedTask = Annotated[Task, Depends(...)]`` followed)."""
    found: list["TableModel"] = []
    for node in walk_ir(expr):
        if node[:1] != ("n",) or len(node) != 2 or not isinstance(node[1], str):
            continue
        sym = index.symbols.lookup(node)
        if isinstance(sym, ClassAttr):
            sym = sym.cls
        if isinstance(sym, Value) and not sym.rest and depth < 2:
            found.extend(t for t in mapped_tables(index, sym.expr, depth + 1) if t not in found)
            continue
        info = index.classes.get(sym.qualname) if isinstance(sym, ClassRef) else None
        if info is not None and info.mapped and info.table is not None and info.table not in found:
            found.append(info.table)
    return found


def loaded_tables(index: "ProjectIndex", single: Callable[[str], Optional[Expr]], value: Expr,
                  depth: int = 0) -> list["TableModel"]:
    """The mapped classes an expression that loads a row names: directly, through a local
    (``stmt = select(Notebook)...``; ``session.exec(stmt).first()``), or as a project
    helper's return annotation (``await owned_task(...)`` with ``-> Task``)."""
    tables = mapped_tables(index, value)
    if tables or depth > 3:
        return tables
    for node in walk_ir(value):
        if isinstance(node, Local) and node.tag == "local":
            inner = single(node.name)
            if inner is not None:
                tables.extend(t for t in loaded_tables(index, single, inner, depth + 1) if t not in tables)
        elif isinstance(node, Call) and isinstance(node.func, Name):
            sym = index.symbols.lookup(node.func)
            hint = sym.body.annotations.get("return") if isinstance(sym, FunctionBody) else None
            if hint is not None:
                tables.extend(t for t in mapped_tables(index, hint) if t not in tables)
    return tables


def constant_strings(expr: object) -> set[str]:
    """The string constants of a set / list / tuple / dict display (``exclude={"user_id"}``)."""
    found: set[str] = set()
    if isinstance(expr, Const) and isinstance(expr.value, str):
        found.add(expr.value)
    elif isinstance(expr, tuple):
        for part in expr:
            if isinstance(part, tuple):
                found |= constant_strings(part)
    return found
