"""DBC506: a function that takes the tenant key or who asks, queries a tenant-owned table
without a scope, and never uses that parameter - its name promises a scope that is not
there (``def get_chat_by_id_and_user_id(id, user_id): return db.get(Chat, id)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Optional

from dbcheck.facts.model import FunctionIR, ModuleFacts
from dbcheck.findings import Finding
from dbcheck.flow.policy import decorated_by, mentions_privilege, unscoped_table
from dbcheck.rules.base import Rule, unique_places
from dbcheck.rules.request_input import injected_dependency, singular_of_tenant_table, tenant_parameter_names
from dbcheck.schema.model import Location, TableModel
from dbcheck.schema.tenancy import filtered_by_session, tenant_owned

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.flow.values import QueryUse
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ProjectIndex

# Decorators of functions whose signature is not theirs to choose, or that have no body.
_SIGNATURE_ONLY = frozenset({"overload", "abstractmethod", "abstractproperty"})


def _declared_unused(codes: Optional[tuple[str, ...]]) -> bool:
    """``user: User,  # noqa: ARG001 (lockstep with EE)``: the developers said the parameter
    is unused on purpose (ruff's / flake8-unused-arguments' codes)."""
    return any(code.startswith(("ARG", "U10")) for code in codes or ())


def _signature_only(body: FunctionIR) -> bool:
    return any(decorated_by(d)[1] in _SIGNATURE_ONLY for d in body.decorators)


class _UnscopedRead(NamedTuple):
    table: TableModel
    line: int
    returned: bool  # a lookup handed back to project callers, who judge it (DBC502)


def _unscoped_here(ctx: "RuleContext") -> dict[tuple[str, str], list[_UnscopedRead]]:
    """The tenant-owned tables each function reads or writes without a scope of its own:
    (path, function) -> reads. Judged in the function that builds the query, as written,
    not at its callers: the parameter is unused whatever they pass."""
    index, config = ctx.index, ctx.config
    found: dict[tuple[str, str], list[_UnscopedRead]] = {}
    queries = ctx.queries()
    returned = {(path, line) for path, line, code in queries.moved if code == "DBC502"}
    for use in [*queries.uses, *queries.lookups_unchecked_here]:
        if use.hint == "admin path":
            continue
        table = _unscoped_table_of(index, config, use)
        if table is None or filtered_by_session(table, ctx.session_filter, "read" if use.kind == "get" else use.kind):
            continue
        found.setdefault((use.path, use.function), []).append(
            _UnscopedRead(table, use.line, use.kind == "get" and (use.path, use.line) in returned))
    return found


def _can_scope(config: "Config", param: str, read: _UnscopedRead) -> bool:
    """Whether ``param`` names a key that filters ``read``'s table. A key (``user_id``) must
    be a column of the table, or the tenant table's key beside a tenant column of its own
    (``user_id`` for ``Notebook.owner_id``; ``tenant_id`` says the same): a ``user_id`` cannot scope a workspace's
    documents without a membership join. A row of who asks (``user``, ``actor``) carries
    every key, but a lookup it returns to callers is theirs to check (as DBC502 judges)."""
    if not param.endswith("_id"):
        return not read.returned
    if read.table.column(param) is not None:
        return True
    return param in (f"{singular_of_tenant_table(config)}_id", "tenant_id") \
        and any(read.table.column(c) is not None for c in config.tenant_columns)


def _unscoped_table_of(index: "ProjectIndex", config: "Config", use: "QueryUse") -> Optional[TableModel]:
    if use.kind == "get":
        return tenant_owned(index, config, use.get.table) if use.get is not None else None
    return unscoped_table(index, config, use.query)


class UnusedTenantParameter(Rule):
    code = "DBC506"
    name = "unused-tenant-parameter"
    summary = ("A function that takes the tenant key or who asks, and queries a tenant-owned table without a "
               "scope, never uses that parameter.")
    message = ("{function}() takes {param} but never uses it, and its query of tenant-owned {table} (line {line}) "
               "is not scoped: filter by {param}, or drop the parameter so callers stop relying on it")
    cwe = "CWE-639: Authorization Bypass Through User-Controlled Key"
    fix_description = "whether to filter by the parameter or drop it depends on what its callers expect."
    what_it_does = """
Flags a parameter named like the tenant key or who asks - a `tenant-column` (`user_id`,
`org_id`), the tenant table's singular and its `_id` (`org`, `org_id`), `actor`,
`current_user`, `user`, `tenant`, ... - that the function never reads (nested functions,
lambdas, comprehensions and f-strings included), when the function itself runs a query
of a tenant-owned table that is not scoped (DBC501-503's judgement of the query as
written in that function). Not flagged: parameters starting with `_` or marked unused on
purpose (`# noqa: ARG001` - ruff's and flake8-unused-arguments' codes), a FastAPI
dependency (`Depends(...)` / `Security(...)`, directly or through an `Annotated` alias:
asking for it authenticates the route), `@overload` / `@abstractmethod` stubs, functions
using `locals()`, and functions whose tenant-owned queries are all scoped. A key
parameter (`user_id`) must be able to filter the table: a column of it, or the tenant
key beside a tenant column of its own - a `user_id` beside a workspace's documents is
silent. A row of who asks (`user`, `actor`) beside a primary-key lookup the function
returns to project callers is silent too: the callers check that row (DBC502)."""
    why_bad = """
`get_chat_by_id_and_user_id(chat_id, user_id)` reads as scoped to the user, so every
caller hands it the user and trusts it; if the body forgets the filter, each caller is a
cross-tenant read nobody reviews. The unused parameter is the one visible trace."""
    known_problems = """
A query built in a helper the function calls is judged in the helper, not here. A
parameter used only for logging counts as used."""
    example = """
def get_chat_by_id_and_user_id(session, chat_id, user_id):
    return session.scalars(select(Chat).where(Chat.id == chat_id)).first()
"""
    use_instead = """
def get_chat_by_id_and_user_id(session, chat_id, user_id):
    return session.scalars(select(Chat).where(Chat.id == chat_id, Chat.user_id == user_id)).first()
"""
    options = "`tenant-column`, `tenant-table` (the names that count)."
    valid = (
        '''
import abc
from typing import Annotated
from fastapi import Depends
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Chat(Base):
    __tablename__ = "chats"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
def get_current_user() -> User: ...
CurrentUser = Annotated[User, Depends(get_current_user)]
def chat_of(session, chat_id, user_id):  # ok: DBC506
    return session.scalars(select(Chat).where(Chat.id == chat_id, Chat.user_id == user_id)).first()
def logged(session, chat_id, user_id):  # ok: DBC506
    print(f"user {user_id} reads chat {chat_id}")
    return session.scalars(select(Chat).where(Chat.id == chat_id, Chat.user_id == 1)).first()
def admin_chats(session, current_user: CurrentUser):  # ok: DBC501, DBC506
    return session.scalars(select(Chat)).all()  # noqa: DBC501 admins read every chat
def checked(session, chat_id, _user_id):  # ok: DBC506
    return session.get(Chat, chat_id)  # noqa: DBC502 test double
class ChatStore(abc.ABC):
    @abc.abstractmethod
    def chat_of(self, session, chat_id, user_id):  # ok: DBC506
        # the signature subclasses implement; this default is not the point
        return session.get(Chat, chat_id)  # noqa: DBC502 overridden by every store
class Topic(Base):
    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    @classmethod
    def get_topic(cls, session, topic_id, user):  # ok: DBC506
        # a lookup returned to callers, who check it
        return session.get(cls, topic_id)
def view_topic(session, topic_id, user: User):
    topic = Topic.get_topic(session, topic_id, user)
    if topic is None or topic.user_id != user.id:
        raise LookupError(topic_id)
    return topic
''',
        {"pyproject.toml": """
[tool.dbcheck]
tenant-column = ["workspace_id", "user_id"]
tenant-table = "workspaces"
""", "example.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
def reindex(session, document_id, user_id):  # ok: DBC506
    # a user's id cannot scope a workspace's documents (membership decides)
    return session.get(Document, document_id)  # noqa: DBC502 the id comes from a scoped look-up
'''},
    )
    invalid = (
        '''
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Chat(Base):
    __tablename__ = "chats"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
def get_chat_by_id_and_user_id(session, chat_id, user_id):  # expect: DBC506
    return session.scalars(select(Chat).where(Chat.id == chat_id)).first()  # noqa: DBC501
def load_chat(session,
              chat_id,
              user):  # expect: DBC506
    return session.get(Chat, chat_id)  # noqa: DBC502
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        names = tenant_parameter_names(ctx.config)
        unscoped: Optional[dict[tuple[str, str], list[_UnscopedRead]]] = None
        findings: list[Finding] = []
        for module in ctx.reported_modules():
            for body in module.bodies:
                if not any(p in names for p in body.unused_params) or _signature_only(body) \
                        or any(mentions_privilege(d) for d in body.decorators):
                    continue  # an administrators' route takes who asks only to authenticate them
                if unscoped is None:
                    unscoped = _unscoped_here(ctx)  # the query analysis, only once a candidate is seen
                reads = unscoped.get((module.path, body.qualname))
                if reads:
                    findings.extend(self._unused(ctx.index, ctx.config, module, body, names, reads))
        return unique_places(findings)

    def _unused(self, index: "ProjectIndex", config: "Config", module: ModuleFacts, body: FunctionIR,
                names: frozenset[str], reads: list[_UnscopedRead]) -> Iterator[Finding]:
        for param in body.unused_params:
            line_of_param = body.param_lines.get(param, body.line)
            scoped_by_it = [read for read in reads if _can_scope(config, param, read)]
            if param in names and scoped_by_it and not injected_dependency(index, body, param) \
                    and not _declared_unused(module.noqa.get(line_of_param, ())):
                first = min(scoped_by_it, key=lambda read: read.line)
                where = Location(module.path, line_of_param, 1)
                yield self.finding(where, function=body.name, param=param,
                                   table=first.table.class_name or first.table.name or "rows", line=first.line)
