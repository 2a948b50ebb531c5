"""DBC401-DBC402: filters an index can serve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Optional

from dbcheck.findings import Finding
from dbcheck.schema.model import Location, TableModel
from dbcheck.flow.interpreter import QueryUse, Term
from dbcheck.rules.base import Rule, unique_places

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ProjectIndex

_SARGABLE = frozenset({"==", "in", "range", "is", "notnull"})

_MODELS = '''
from sqlalchemy import ForeignKey, Index, String, func, select, cast, Date
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_user_status", "user_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str]
    title: Mapped[str]
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(index=True)
    due: Mapped[str]
Index("ix_tasks_lower_title", func.lower(Task.title))
'''


def _table(index: "ProjectIndex", name: str) -> Optional[TableModel]:
    tables = index.tables_named(name)
    return tables[0] if len(tables) == 1 and tables[0].complete else None


def _single_table_terms(index: "ProjectIndex", use: QueryUse) -> Optional[tuple[TableModel, list[Term]]]:
    query = use.query
    if query is None or query.opaque or query.partial or query.joined or len(query.tables) != 1:
        return None
    table = _table(index, query.tables[0])
    if table is None:
        return None
    terms = [t for t in query.terms if t.table == table.name and table.column(t.column) is not None]
    if len(terms) != len([t for t in query.terms if t.table == table.name]):
        return None  # a term on something that is not a plain column (a hybrid property)
    return table, terms


class UnindexedFilter(Rule):
    code = "DBC401"
    name = "unindexed-filter"
    summary = "A query that filters a table only by columns no index can serve: a full scan."
    message = ("query filters {table!r} only by {columns}, which no index serves (a full scan): "
               'add Index("{index}", "{column}") to {model}')
    messages = {"unusable": ("query filters {table!r} only by {columns} with terms no b-tree index can use "
                             "(!=, NOT, LIKE '%...', contains) (a full scan): add an equality, IN or range term "
                             "on an indexed column, or a partial or trigram (gin_trgm_ops) index that matches")}
    what_it_does = """
Flags a single-table query whose AND-ed filter terms (equality, `IN`, ranges, `IS NULL`)
include none on the leading column of an index, a unique constraint or the primary key
of the table: the database has to read every row. The message names the columns and the
index to add. Queries with `or_()`, `text()` or filters the analysis cannot list are not
reported, and neither are queries without a filter."""
    why_bad = """
A sequential scan is invisible on a developer's 100-row table and an outage on the
production one: latency grows with the table, and a hot endpoint holds locks and I/O
for everyone else."""
    known_problems = """
Small lookup tables are scanned cheaply by design; `# noqa: DBC401` them. The rule reads
the indexes declared in the models, not those created only by hand in a migration."""
    example = """
select(Task).where(Task.status == "open")  # DBC401: no index starts with status
"""
    use_instead = """
class Task(Base):
    __table_args__ = (Index("ix_tasks_status", "status"),)
"""
    fix_description = "which index to add is a design decision."
    valid = (
        # An Index assigned in the class body names the class's columns: SQLAlchemy
        # attaches it to the table.
        '''
from sqlalchemy import Column, DateTime, Index, Integer, select
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Certificate(Base):
    __tablename__ = "certificates"
    id = Column(Integer, primary_key=True)
    not_after = Column(DateTime)
    not_after_ix = Index("ix_certificates_not_after", not_after.desc())
def expiring(session, end):
    return session.scalars(select(Certificate).where(Certificate.not_after <= end)).all()  # ok: DBC401
''',
        _MODELS + '''
def by_user(session, uid):
    return session.scalars(select(Task).where(Task.user_id == uid, Task.title == "x")).all()  # ok: DBC401

def by_slug(session, slug):
    return session.scalars(select(Task).where(Task.slug == slug)).first()  # ok: DBC401

def by_pk(session, ids):
    return session.scalars(select(Task).where(Task.id.in_(ids))).all()  # ok: DBC401

def everything(session):
    return session.scalars(select(Task)).all()  # ok: DBC401

def with_email(session):
    # IS NOT NULL: the index on email serves it
    return session.scalars(select(Task).where(Task.email != None)).all()  # ok: DBC401

def with_email_too(session):
    return session.scalars(select(Task).where(Task.email.isnot(None))).all()  # ok: DBC401
''',
    )
    invalid = (
        # A model that also takes flask_login's UserMixin (methods only, no columns).
        '''
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
class Account(db.Model, UserMixin):
    __tablename__ = "accounts"
    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.Integer, nullable=False)
    email = db.Column(db.String(320), nullable=False)
    __table_args__ = (db.Index("accounts_org_id_email", "org_id", "email", unique=True),)
def by_email(email):
    return Account.query.filter(Account.email == email).first()  # expect: DBC401
''',
        _MODELS + '''
def by_status(session, status):
    return session.scalars(select(Task).where(Task.status == status)).all()  # expect: DBC401

def second_column_only(session, title):
    stmt = select(Task).where(Task.title == title)  # expect: DBC401
    return session.scalars(stmt).all()

def scheduled(session):
    return session.scalars(select(Task).where(Task.due.is_not(None))).all()  # expect: DBC401

def not_this_email(session, email):
    return session.scalars(select(Task).where(Task.email != email)).all()  # expect: DBC401
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        yield from unique_places(self._findings(ctx), by_message=True)

    def _findings(self, ctx: "RuleContext") -> Iterator[Finding]:
        index = ctx.index
        for use in ctx.reported_uses(ctx.queries().uses):
            found = _single_table_terms(index, use)
            if found is None:
                continue
            table, terms = found
            if not terms:
                continue
            leading = table.leading_index_columns()
            if any(t.op in _SARGABLE and _served(table, t, leading) for t in terms):
                continue
            if all(t.wrapped not in (None, "expression") and t.column in leading for t in terms):
                continue  # every term wraps an indexed column: DBC402's case
            columns = list(dict.fromkeys(t.column for t in terms if t.column not in leading)) or \
                list(dict.fromkeys(t.column for t in terms))
            sargable = [t for t in terms if t.op in _SARGABLE and t.wrapped is None and t.column not in leading]
            sargable.sort(key=lambda t: t.op in ("range", "notnull"))  # an equality narrows most
            where = Location(use.path, use.line, use.column)
            if not sargable:
                yield self.finding(where, "unusable", table=table.name, columns=", ".join(columns))
            else:
                best = sargable[0].column
                yield self.finding(where, table=table.name, columns=", ".join(columns), index=f"ix_{table.name}_{best}",
                                   column=best, model=table.class_name or table.name)


class NonSargableFilter(Rule):
    code = "DBC402"
    name = "non-sargable-filter"
    summary = "A filter that wraps an indexed column (`func.lower(col)`, `ilike`, `like('%...')`, `cast`) so its index cannot be used."
    message = ("{how} cannot use the index on {table}.{column}: compare the bare column, or add "
               'Index("ix_{table}_{function}_{column}", func.{function}({model}.{column}))')
    messages = {"pattern": ("{how} cannot use the index on {table}.{column}: compare the bare column, or add an "
                            "expression or trigram (gin_trgm_ops) index that matches")}
    what_it_does = """
Flags a filter term that wraps an indexed column so that its b-tree index cannot be used
- `func.lower(col) == x`, `col.ilike(...)`, `col.like("%...")` / `.contains()` /
`.endswith()`, `cast(col, ...)` - unless an expression index matches (for example
`Index("ix", func.lower(User.email))`)."""
    why_bad = """
The index exists, so the query looks fine in review; but the database compares a
function of the column, which the index does not store, and scans the table."""
    known_problems = """
A trigram (`pg_trgm`) index serves `ilike` and leading wildcards; dbcheck only knows it
is there when it is declared in the models with the column."""
    example = """
select(User).where(func.lower(User.email) == email.lower())  # DBC402
"""
    use_instead = """
Index("ix_users_lower_email", func.lower(User.email))  # and keep the query
"""
    valid = (
        _MODELS + '''
def by_title(session, title):
    return session.scalars(select(Task).where(func.lower(Task.title) == title.lower())).all()  # ok: DBC402

def prefix(session, email):
    return session.scalars(select(Task).where(Task.email.like("abc%"))).all()  # ok: DBC402

def unindexed(session, text):
    return session.scalars(select(Task).where(Task.status.ilike(text))).all()  # ok: DBC402
''',
    )
    invalid = (
        _MODELS + '''
def by_email(session, email):
    return session.scalars(select(Task).where(func.lower(Task.email) == email)).all()  # expect: DBC402

def fuzzy(session, text):
    return session.scalars(select(Task).where(Task.slug.ilike(text))).all()  # expect: DBC402

def suffix(session):
    return session.scalars(select(Task).where(Task.email.like("%@example.com"))).all()  # expect: DBC402
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        yield from unique_places(self._findings(ctx), by_message=True)

    def _findings(self, ctx: "RuleContext") -> Iterator[Finding]:
        index = ctx.index
        for use in ctx.reported_uses(ctx.queries().uses):
            query = use.query
            if query is None or query.opaque:
                continue
            for term in query.terms:
                if term.wrapped in (None, "expression"):
                    continue
                table = _table(index, term.table)
                if table is None or table.column(term.column) is None:
                    continue
                if term.column not in table.leading_index_columns():
                    continue
                if _expression_index(table, term):
                    continue
                how = {
                    "ilike": f".ilike() on {term.column}",
                    "like%": f"a leading-wildcard LIKE on {term.column}",
                    "cast": f"cast({term.column}, ...)",
                }.get(term.wrapped or "", f"{term.wrapped}({term.column})")
                where = Location(use.path, term.line, term.column_offset)
                if term.wrapped in ("ilike", "like%", "cast"):
                    yield self.finding(where, "pattern", how=how, table=table.name, column=term.column)
                else:
                    yield self.finding(where, how=how, table=table.name, column=term.column, function=term.wrapped,
                                       model=table.class_name or table.name)


def _served(table: TableModel, term: Term, leading: set[str]) -> bool:
    """Can an index narrow the rows by this term?"""
    if term.wrapped is None:
        return term.column in leading
    return _expression_index(table, term)


def _expression_index(table: TableModel, term: Term) -> bool:
    """An expression index on exactly this function of the column (``lower(email)``).
    ILIKE and leading wildcards need a trigram index, which a b-tree on lower() is not."""
    for idx in table.indexes:
        if term.wrapped in ("ilike", "like%"):
            if idx.using in ("gin", "gist") and term.column in idx.columns:
                return True
            continue
        if idx.expressions and idx.expressions[0] == f"{term.wrapped}({term.column})":
            return True
    return False
