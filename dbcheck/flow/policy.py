"""The tenancy policy of the query analysis: what a scoped query is, which tables are
tenant-owned, and how code says it checked a row's owner or runs for administrators.
Word lists are heuristics read off real projects; each is explained where it is used."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

from dbcheck.facts.ir import (
    Attr, Block, BoolOp, Break, Call, Compare, Const, Continue, Expr, ExprStmt, Local, Name, Not, Raise, Return,
)
from dbcheck.flow.values import QueryVal
from dbcheck.schema.model import TableModel
from dbcheck.schema.tenancy import TablesByName, owned_by_tenant

if TYPE_CHECKING:
    from dbcheck.config import Config

TENANT_ROW = "<tenant row>"  # marks a query narrowed to one row of the tenant table
CHECK_WORDS = ("check", "authori", "permission", "access", "owner", "ensure", "verify", "assert",
                "can_", "allowed", "policy", "require", "guard", "validate")
# Calls whose names sound like checks but only convert a row (pydantic, marshmallow)
CONVERSIONS = frozenset({"model_validate", "model_validate_json", "validate", "validate_python", "from_orm",
                          "parse_obj"})
# Names of checks on a whole request (not only on a row handed to them): check_access,
# is_authorized, require_permission - not log_access.
ACCESS_CHECK = re.compile(r"(check|ensure|require|assert|verify|has|can)\w*(access|permission|polic)|authori[sz]")


PRIVILEGE_WORDS = ("admin", "superuser", "staff", "moderator", "internal", "backoffice", "is_root")


_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _says_privilege(text: str) -> bool:
    """``is_admin``, ``AdminOnly``, ``'Administrator'``, ``is_root`` - whole words, so
    ``pgadmin`` or ``badminton`` say nothing."""
    words = [word.lower() for word in _WORD.findall(text)]
    return any(word.rstrip("s") in PRIVILEGE_WORDS or word.startswith("admin") for word in words) \
        or "is_root" in text.lower()


# Flask-Login's callbacks that load who a request is from its session or header.
IDENTITY_LOADERS = frozenset({"user_loader", "request_loader", "header_loader"})


def decorated_by(decorator: object) -> tuple[object, str]:
    """What a decorator (as the facts store it) applies, called or not, and the last name
    it is written with: ``@login_manager.user_loader`` -> ``user_loader``,
    ``@router.post("/x")`` -> ``post``, ``@abstractmethod`` -> ``abstractmethod``."""
    func = decorator[1] if isinstance(decorator, tuple) and decorator[:1] == ("call",) else decorator
    if isinstance(func, tuple) and func[:1] == ("n",) and len(func) > 1 and isinstance(func[1], str):
        return func, func[1].rsplit(".", 1)[-1]
    if isinstance(func, tuple) and func[:1] == ("attr",) and len(func) > 2 and isinstance(func[2], str):
        return func, func[2]
    return func, ""


def names_identity_loader(decorator: object) -> bool:
    """``@login_manager.user_loader``: the decorated function says who asks."""
    return decorated_by(decorator)[1] in IDENTITY_LOADERS


def mentions_privilege(expr: object) -> bool:
    """Does a test or decorator say the code runs for administrators?"""
    if not isinstance(expr, tuple):
        return False
    if expr and isinstance(expr[0], str) and expr[0] == "c" and isinstance(expr[1], str) and "/" in expr[1]:
        # a route's path: whole segments (``/admin/users``, not ``/tickets/<id>/internal-notes``)
        return any(_says_privilege(segment) and not re.search(r"[-_.]", segment) for segment in expr[1].split("/"))
    if expr and isinstance(expr[0], str) and expr[0] in ("n", "c") and isinstance(expr[1], str):
        # whole words of the name and the modules it comes from (``polar.backoffice...``,
        # not ``pgadmin.utils.login_required``)
        return _says_privilege(expr[1])
    if expr and isinstance(expr[0], str) and expr[0] == "attr":
        if _says_privilege(expr[2]):
            return True
    return any(mentions_privilege(part) for part in expr[1:] if isinstance(part, tuple)) or (
        bool(expr) and not isinstance(expr[0], str) and any(mentions_privilege(p) for p in expr))


def privileged_side(test: object) -> Optional[bool]:
    """True when a test holds only for administrators (``ctx.is_admin``, ``user.is_admin
    and all_tenants``, ``role == "admin"``), False when it fails only for them (``not
    ctx.is_admin``, ``not user.is_superuser or x``); None when both outcomes let others
    through (``user is not None and not user.is_admin``: no user at all fails it too)."""
    if isinstance(test, Not):
        side = privileged_side(test.operand)
        return None if side is None else not side
    if isinstance(test, BoolOp):
        sides = (privileged_side(test.left), privileged_side(test.right))
        if test.op == "and":
            return True if True in sides else None
        return False if False in sides else None
    if isinstance(test, Compare):
        if len(test.ops) != 1 or not mentions_privilege(test):
            return None
        op, right = test.ops[0]
        negated = isinstance(right, Const) and right.value in (False, None, 0)
        if op in ("==", "is", "in"):
            return not negated
        if op in ("!=", "is not", "not in"):
            return negated
        return None
    if isinstance(test, (Name, Attr, Call)) and mentions_privilege(test):
        return True
    return None


def exits(block: "Block") -> str:
    """How the block leaves: "return", "raise" (``abort()`` too), "continue" / "break" (the
    rest of a loop's iteration is skipped), or "" when it falls through."""
    for stmt in block:
        if isinstance(stmt, (Raise, Return, Continue, Break)):
            return stmt.tag
        if isinstance(stmt, ExprStmt) and is_abort(stmt.value):
            return "raise"
    return ""


def is_abort(expr: Expr) -> bool:
    if not isinstance(expr, Call):
        return False
    func = expr.func
    name = func.qualified.rsplit(".", 1)[-1] if isinstance(func, Name) else (func.name if isinstance(func, Attr) else "")
    return name in ("abort", "abort_404", "abort_403") or name.startswith("raise_")


# A call that asks whether access is allowed (not add_role_permissions, which grants it).
PREDICATE = re.compile(r"^_*(check|ensure|verify|assert|require|validate|guard|can|may|user_can|is_allowed|is_owner"
                       r"|(is|has)_\w*(member|owner|collaborator|participant))|"
                       + ACCESS_CHECK.pattern)
ASKERS = frozenset({"user", "owner", "actor", "account", "member", "principal", "requester", "viewer",
                    "identity", "me", "caller", "auth"})


def names_who_asks(expr: Expr, config: "Config") -> bool:
    """Whether an argument names who is asking: ``user``, ``current_user.id``,
    ``acting_user``, ``user_id`` (a tenant column), ``org``, ``self.user.id``."""
    if isinstance(expr, Call):
        # ``get_customer_id(auth_subject)``, ``get_current_user()``: a getter of who asks
        func = expr.func
        name = func.name if isinstance(func, Attr) else func.qualified.rsplit(".", 1)[-1] if isinstance(func, Name) else ""
        return bool(_ASKER_GETTER.match(name)) and all(names_who_asks(arg, config) for arg in expr.args)
    first = ""
    chain: list[str] = []
    while isinstance(expr, Attr):
        first, expr = expr.name, expr.value
        chain.append(first)
    if isinstance(expr, Local) and expr.tag == "param" and expr.name == "self" and first:
        # a controller's ``self.user.id``, Tracim's ``self._user_id``: the attribute names
        # who the object acts for
        names = [first, first.lstrip("_").removesuffix("_id")]
    elif isinstance(expr, Local) and expr.name in ("request", "req") and first in ("state", "user", "auth"):
        # ``request.state.user_id``, ``request.user``: set by the authentication (not
        # ``request.user_id`` of a request body named ``request``)
        names = [name.removesuffix("_id") for name in chain]
    elif isinstance(expr, Local) and expr.tag in ("param", "local"):
        names = [expr.name]
    elif isinstance(expr, Name):
        names = expr.qualified.removeprefix("?.").split(".")  # flask_login.current_user.id
    else:
        return False
    tenant = config.tenant_table.rstrip("s")
    return any(name in ASKERS or name.endswith("_user") or name.startswith(("auth_", "current_"))
               or name in config.tenant_columns or name == tenant for name in names)


# get_customer_id / get_current_user / current_member: a function that returns who asks
_ASKER_GETTER = re.compile(r"^_*(get_)?(current_|authenticated_)?(user|customer|member|account|actor|principal)(_id)?$")


# Calls that hand back the same id in another type: ``str(chat.user_id)``, ``UUID(uid)``
ID_CONVERSIONS = frozenset({"int", "str", "uuid.UUID", "builtins.int", "builtins.str"})


# A project's own spelling of one: ``normalize_uuid(user_id)``, ``to_uuid(x)``, ``parse_id(x)``
_ID_CONVERTER = re.compile(r"^_*(?:(?:normali[sz]e|to|as|parse|coerce|ensure|convert)_(?:uuid|id|int|str)"
                           r"|(?:uuid|id)_(?:from_str|of))$")


def unconverted(expr: Expr) -> Expr:
    """``str(chat.user_id)`` -> ``chat.user_id``; ``normalize_uuid(user_id)`` -> ``user_id``."""
    while isinstance(expr, Call) and len(expr.args) == 1 and not expr.kwargs and isinstance(expr.func, Name) \
            and (expr.func.qualified.removeprefix("?.") in ID_CONVERSIONS
                 or _ID_CONVERTER.match(expr.func.qualified.rsplit(".", 1)[-1])):
        expr = expr.args[0]
    return expr


def owner_comparisons(test: Expr, config: "Config", says_owner: Optional[bool] = None) -> list[list[str]]:
    """Per comparison anywhere in the test, the locals whose tenant column (or owner
    relationship) it compares. ``says_owner``: only comparisons true when the row is the
    tenant's (``==``: an ``assert``) or when it is not (``!=``: a branch that refuses)."""
    out: list[list[str]] = []
    owner_words = owner_attributes(config)

    def walk(node: object, negated: bool) -> None:
        if type(node) is tuple:  # a container inside a node: arguments, (op, right) pairs
            for part in node:
                walk(part, negated)
            return
        if not isinstance(node, tuple):
            return
        if isinstance(node, Not):
            walk(node.operand, not negated)
            return
        if isinstance(node, Compare) and len(node.ops) == 1 and node.ops[0][0] in ("in", "not in") \
                and isinstance(node.left, Local) and node.left.tag in ("local", "param") \
                and isinstance(node.ops[0][1], Attr) and names_who_asks(node.ops[0][1].value, config):
            # ``if timeline not in sketch.active_timelines: abort(404)``: one of the tenant's
            if says_owner is None or says_owner == ((node.ops[0][0] == "in") != negated):
                out.append([node.left.name])
            return
        if isinstance(node, Compare):
            sides = [unconverted(side) for side in [node.left] + [right for _op, right in node.ops]]
            group = [base for base in (owner_attribute_base(side, owner_words, config.tenant_columns)
                                       for side in sides) if base is not None]
            positive = all(op in ("==", "is", "in") for op, _right in node.ops) != negated
            # ``t.user_id is not None`` says the row has an owner, not whose it is
            against_constant = any(isinstance(side, Const) for side in sides)
            if group and not against_constant and (says_owner is None or says_owner == positive):
                out.append(group)
        for part in node[1:]:
            walk(part, negated)

    walk(test, False)
    return out


def parent_comparisons(test: Expr, says_owner: Optional[bool] = None) -> list[tuple[str, str]]:
    """``facet.scenario.id == scenario.id`` / ``facet.scenario_id != scenario.id``: (the row
    whose parent is compared, the row it is compared with) - the first is as much the
    tenant's as the second, when the second was checked."""
    out: list[tuple[str, str]] = []

    def base_of(side: Expr, parent: bool) -> Optional[str]:
        # parent: ``scenario.id``; child: ``facet.scenario.id`` or ``facet.scenario_id``
        if not isinstance(side, Attr):
            return None
        if parent:
            return side.value.name if side.name == "id" and isinstance(side.value, Local) else None
        if side.name == "id" and isinstance(side.value, Attr) and isinstance(side.value.value, Local):
            return side.value.value.name
        if side.name.endswith("_id") and isinstance(side.value, Local):
            return side.value.name
        return None

    def walk(node: object, negated: bool) -> None:
        if isinstance(node, Not):
            walk(node.operand, not negated)
            return
        if isinstance(node, Compare) and len(node.ops) == 1 and node.ops[0][0] in ("==", "!="):
            positive = (node.ops[0][0] == "==") != negated
            if says_owner is None or says_owner == positive:
                left, right = unconverted(node.left), unconverted(node.ops[0][1])
                for child_side, parent_side in ((left, right), (right, left)):
                    child, parent = base_of(child_side, False), base_of(parent_side, True)
                    if child and parent and child != parent:
                        out.append((child, parent))
                        break
        elif isinstance(node, BoolOp):
            walk(node.left, negated)
            walk(node.right, negated)

    walk(test, False)
    return out


def owner_attributes(config: "Config") -> set[str]:
    """Attributes of a row that say whose it is."""
    return set(config.tenant_columns) | {"owner", "user", "owner_id", "author_id", "created_by",
                                         "created_by_id", config.tenant_table.rstrip("s")}


def owner_attribute_base(expr: Expr, owner_words: set[str], tenant_columns: tuple[str, ...] = ()) -> Optional[str]:
    """``task.user_id`` / ``task.owner.id`` / ``task.user`` -> "task"; with
    ``tenant_columns``, also the tenant column of a row reached through up to three
    relationships: ``comment.message.thread.workspace_id`` -> "comment" (a row owned
    through its parents is checked by checking them)."""
    if isinstance(expr, Name) and expr.qualified.startswith("?."):
        # ``task.user_id`` where task was bound by a walrus: a folded name chain
        parts = expr.qualified[2:].split(".")
        if len(parts) >= 2 and (parts[1] in owner_words or (len(parts) >= 3 and parts[2] in owner_words)):
            return parts[0]
        if 3 <= len(parts) <= 5 and parts[-1] in tenant_columns:
            return parts[0]
        return None
    if isinstance(expr, Attr) and expr.name in tenant_columns:
        chain, base = 0, expr.value
        while isinstance(base, Attr) and chain < 3:
            chain, base = chain + 1, base.value
        if 1 <= chain <= 3 and isinstance(base, Local) and base.tag in ("local", "param"):
            return base.name
    while isinstance(expr, Attr):
        base = expr.value
        if expr.name in owner_words and isinstance(base, Local) and base.tag in ("local", "param"):
            return base.name
        if isinstance(base, Attr) and base.name in owner_words and isinstance(base.value, Local) \
                and base.value.tag in ("local", "param"):
            return base.value.name
        expr = base
    return None


def unscoped_table(index: TablesByName, config: "Config", query: Optional[QueryVal]) -> Optional[TableModel]:
    """The tenant-owned table a query reads or writes without its tenant filter."""
    if query is None or query.opaque or query.privileged or (query.owner_only and _by_key(index, query)):
        return None
    if TENANT_ROW in query.scoped and config.tenant_table in query.tables + query.joined:
        return None
    # An outer-joined table that is neither selected nor filtered on hands back no rows
    # of its own (Tile.query.outerjoin(Chart) returns tiles, whatever the charts are).
    filtered = {term.table for term in query.terms}
    owned = [(name, owned_by_tenant(index, config, name)) for name in query.tables + query.joined
             if name not in query.outer or name in query.tables or name in query.scoped
             or (name in query.replaced and name in filtered)]
    owned = [(name, table) for name, table in owned if table is not None]
    if not owned:
        return None
    if any(name in query.scoped and name not in query.outer for name in query.joined):
        # ``query(Workout).join(WorkoutEquipment).filter(WorkoutEquipment.c.equipment_id ==
        # equipment.id)``: the rows joined to links a held row scopes (a link table owns
        # nothing itself, and is scoped only by a key to a tenant's row)
        return None
    if query.joined and any(name in query.scoped for name in query.tables):
        # ``select(CustomerMeter).join(CustomerMeter.meter).where(CustomerMeter.customer_id
        # == <who asks>)``: the joined rows are reached through the scoped ones
        return None
    if any(name in query.scoped for name, _t in owned):
        if query.joined:
            return None  # the rest is reached through a join to a scoped table
        for name, table in owned:
            if name not in query.scoped:
                return table
        return None
    return owned[0][1]


def _by_key(index: TablesByName, query: QueryVal) -> bool:
    """Whether the query picks rows by their primary key (``Project.id.in_(ids)``): asked
    only for the owners of given rows, it is an ownership check, not a listing of them."""
    for term in query.terms:
        if term.constant or term.op not in ("==", "in"):
            continue
        if any(table.primary_key == [term.column] for table in index.tables_named(term.table)):
            return True
    return False
