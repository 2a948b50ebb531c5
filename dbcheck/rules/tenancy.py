"""DBC101-DBC103: every table is owned by a tenant, through a real, NOT NULL key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from dbcheck.findings import UNSAFE, Edit, Finding, Fix
from dbcheck.schema.model import TableModel
from dbcheck.rules.base import Rule, column_label, dedupe_by_site
from dbcheck.schema.tenancy import is_exempt, owned_through_foreign_key, tenant_columns_of

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext


def _label(table: TableModel) -> str:
    return table.class_name or f"Table({table.name!r})"


class MissingTenantColumn(Rule):
    code = "DBC101"
    name = "missing-tenant-column"
    summary = "A mapped table with no tenant column (default `user_id`)."
    message = ('{model} (table {table!r}) has no {column} column: add {column} = mapped_column(ForeignKey('
               '"{tenant_table}.id", ondelete="CASCADE"), index=True), or list {table!r} in global-tables if it is '
               "shared by all tenants")
    what_it_does = """
Flags a mapped class or `Table()` that has no tenant column (`tenant-column`, default
`user_id`), counting columns inherited from mixins and abstract bases in any file.
Not flagged: the tenant table itself (`tenant-table`, default `users`), tables listed in
`global-tables`, and - unless `tenant-ownership = "direct"` - a table every row of which
belongs to a tenant through a NOT NULL foreign key: to a tenant-owned table (an
association table, a comment that belongs to a task that has `user_id`), or straight to
the tenant table under another name (`created_by_id -> users.id`)."""
    why_bad = """
In a multi-tenant database, a row that says nothing about its owner cannot be scoped to
one: every query on the table either leaks rows between customers or needs a join that
someone will forget. An owner column is what makes `WHERE user_id = :me` possible."""
    known_problems = """
A table whose ownership runs through a nullable foreign key, or through a table outside
the project, is reported; add it to `global-tables` if it really is shared. A model
whose base class comes from an unknown library is skipped (its columns are invisible)."""
    example = """
class Task(Base):  # DBC101
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
"""
    use_instead = """
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str]
"""
    options = "`tenant-column`, `tenant-table`, `tenant-ownership`, `global-tables`."
    valid = (
        # The tenant table itself.
        '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
''',
        # Tenant column inherited from a mixin in another file.
        {
            "app/__init__.py": "",
            "app/mixins.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column
class Owned:
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
''',
            "app/models.py": '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from app.mixins import Owned
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Owned, Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
''',
        },
        # Owned through a NOT NULL foreign key to an owned table.
        '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
''',
        # A configured global table.
        {
            "pyproject.toml": '[tool.dbcheck]\nglobal-tables = ["plans"]\n',
            "models.py": '''
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Plan(Base):
    __tablename__ = "plans"
    id = Column(Integer, primary_key=True)
''',
        },
        # An abstract base and a mixin are not tables.
        '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Timestamped(Base):
    __abstract__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
''',
        # A data migration's frozen copy of a model, declared inside the revision.
        '''
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session, declarative_base
revision = "c3"
down_revision = "b2"
Base = declarative_base()
class Task(Base):  # ok: DBC101
    __tablename__ = "tasks"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String)
def upgrade():
    session = Session(bind=op.get_bind())
    for task in session.query(Task):
        task.title = task.title.strip()
    session.commit()
def downgrade():
    pass
''',
    )
    invalid = (
        '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):  # expect: DBC101
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
''',
        # Owned only through a nullable foreign key.
        '''
from typing import Optional
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Comment(Base):  # expect: DBC101
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
''',
        # Imperative table, reported at Table(.
        '''
from sqlalchemy import Column, Integer, MetaData, Table
metadata = MetaData()
audit = Table(  # expect: DBC101
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        index, config = ctx.index, ctx.config
        for table in ctx.reported_tables():
            if table.name is None or not table.complete or is_exempt(table, config):
                continue
            if tenant_columns_of(table, config):
                continue
            if config.tenant_ownership == "inherited" and owned_through_foreign_key(index, table, config):
                continue
            yield self.finding(table.location, model=_label(table), table=table.name,
                               column=config.tenant_columns[0], tenant_table=config.tenant_table)


class NullableTenantColumn(Rule):
    code = "DBC102"
    name = "nullable-tenant-column"
    summary = "The tenant column is nullable."
    message = ("{column} is the tenant column of {table!r} but is nullable: add nullable=False (a row without an "
               "owner belongs to nobody)")
    what_it_does = """
Flags a tenant column that allows NULL: `Column(..., nullable=True)` (the default for
`Column`), `Mapped[Optional[int]]`, `Mapped[int | None]`, a SQLModel `Optional[...]`
field."""
    why_bad = """
A row with `user_id IS NULL` belongs to nobody: it is invisible to every tenant-scoped
query, or visible to all of them when someone writes `user_id IS NULL OR ...`. Ownership
must be enforced by the database, not by convention."""
    known_problems = """
Reported once at the declaring line, even when a mixin shares it. With several tenant
columns configured, every one a table has is expected NOT NULL (nested tenancy: a group and
its households); a column that on one table names someone else than the owner (a share's
grantee, NULL when shared with a group) is reported too: mark it
`# noqa: DBC102 <what it holds>`."""
    example = """
user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"))  # DBC102: nullable by default
"""
    use_instead = """
user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
"""
    options = "`tenant-column`."
    fix = UNSAFE
    fix_description = "adds `nullable=False`, which needs a migration and fails on existing NULL rows."
    valid = (
        '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # ok: DBC102
''',
        '''
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Task(Base):
    __tablename__ = "tasks"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
''',
        # An explicit nullable=False wins over Optional[...].
        '''
from typing import Optional
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
''',
    )
    invalid = (
        '''
from typing import Optional
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # expect: DBC102
''',
        '''
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Task(Base):
    __tablename__ = "tasks"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)  # expect: DBC102
''',
        '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # expect: DBC102
''',
        # SQLAlchemy derives nullability from Optional even for a primary-key column.
        '''
from typing import Optional
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class PromptUser(Base):
    __tablename__ = "prompt_users"
    prompt_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)  # expect: DBC102
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        config = ctx.config
        for table in ctx.reported_tables():
            if table.name is None or is_exempt(table, config):
                continue
            for column in tenant_columns_of(table, config):
                if column.nullable is True and not column.from_library:
                    fix = Fix(UNSAFE, (Edit("keyword", column.location.line, ("nullable", "False", "replace")),))
                    yield self.finding(column.location, fix=fix, column=column_label(table, column),
                                       table=table.name), table.name


class TenantColumnWithoutForeignKey(Rule):
    code = "DBC103"
    name = "tenant-column-without-fk"
    summary = "The tenant column is not a foreign key to the tenant table."
    message = '{column} is the tenant column of {table!r} but {problem}: use ForeignKey("{tenant_table}.id", ondelete="CASCADE")'
    what_it_does = """
Flags a tenant column that is not a foreign key to the tenant table (`tenant-table`,
default `users`): a plain integer, or a key to some other table."""
    why_bad = """
Without the foreign key the database accepts owners that do not exist, rows survive the
deletion of their tenant, and nothing ties the column to the table it claims to name."""
    known_problems = """
With several tenant columns configured, only the first must point at `tenant-table`; the
others must be foreign keys to some table."""
    example = """
user_id: Mapped[int] = mapped_column(index=True)  # DBC103
"""
    use_instead = """
user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
"""
    options = "`tenant-column`, `tenant-table`."
    valid = (
        '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # ok: DBC103
''',
        # A composite foreign-key constraint in __table_args__ counts.
        '''
from sqlalchemy import ForeignKeyConstraint, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
''',
    )
    invalid = (
        '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)  # expect: DBC103
''',
        '''
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Task(Base):
    __tablename__ = "tasks"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)  # expect: DBC103
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        config = ctx.config
        primary = config.tenant_columns[0]
        for table in ctx.reported_tables():
            if table.name is None or is_exempt(table, config):
                continue
            for column in tenant_columns_of(table, config):
                if column.from_library:
                    continue
                keys = [fk for local, fk in table.all_foreign_keys() if column.name in local]
                if any(fk.target_table is None for fk in keys):
                    continue  # a key we cannot read: stay silent
                if column.name == primary:
                    ok = any(fk.target_table == config.tenant_table for fk in keys)
                else:
                    ok = bool(keys)
                if ok:
                    continue
                if keys:
                    problem = f"points at {keys[0].target_table!r}, not the tenant table {config.tenant_table!r}"
                else:
                    problem = "is not a foreign key"
                yield self.finding(column.location, column=column_label(table, column), table=table.name,
                                   problem=problem, tenant_table=config.tenant_table), table.name
