"""DBC301-DBC305: foreign keys, relationships and primary keys that hold together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Optional

from dbcheck.findings import SAFE, UNSAFE, Edit, Finding, Fix
from dbcheck.schema.model import ColumnModel, ForeignKeyModel, Location, RelationshipModel, TableModel
from dbcheck.rules.base import Rule, column_label, dedupe_by_site

if TYPE_CHECKING:
    from dbcheck.rules.context import RuleContext
    from dbcheck.schema.index import ClassInfo, ProjectIndex

_BASE = '''
from sqlalchemy import Column, ForeignKey, Integer, Index, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
class Base(DeclarativeBase): pass
'''


def _is_inheritance_key(index: "ProjectIndex", table: TableModel, column: ColumnModel, fk: ForeignKeyModel) -> bool:
    """The key of joined-table inheritance (child.id -> parent.id) needs no relationship."""
    if table.parent_class is None or not column.primary_key:
        return False
    parents = index.mapped_classes_named(table.parent_class)
    return any(p.table is not None and p.table.name == fk.target_table for p in parents)


def _class_names(index: "ProjectIndex", table: TableModel) -> set[str]:
    names = {i.ref.fact.name for i in index.classes_of_table(table)}
    if table.class_name:
        names.add(table.class_name)
    return names


def _target_simple(rel: RelationshipModel) -> Optional[str]:
    return rel.target.rsplit(".", 1)[-1] if rel.target else None


class ForeignKeyWithoutRelationship(Rule):
    code = "DBC301"
    name = "fk-without-relationship"
    summary = "An ORM foreign key with no `relationship()` linking the two models in either direction."
    message = ("{label} is a foreign key to {target!r} but no relationship() links {model} and {target_class}: "
               "add relationship(back_populates=...) on one side (or backref)")
    what_it_does = """
Flags a foreign key column of a mapped class when no `relationship()` links the two
models in either direction (a `relationship` on either class, a `backref`, or a
`back_populates` pair). With several foreign keys to the same table, a relationship that
names `foreign_keys=` (or a `primaryjoin`) covers only the keys it names. The key of
joined-table inheritance and keys of imperative `Table()`s are not flagged."""
    why_bad = """
Code that cannot navigate a key joins by hand, and hand-written joins are where the
tenant filter gets lost; ORM-level cascades and eager loading also need the relationship.
A key nothing navigates is often a leftover."""
    known_problems = """
Projects that deliberately avoid relationships (pure Core queries) should ignore this rule."""
    example = """
class Task(Base):
    project_id = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)  # DBC301
"""
    use_instead = """
class Task(Base):
    project_id = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    project: Mapped["Project"] = relationship(back_populates="tasks")
"""
    valid = (
        _BASE + '''
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    tasks = relationship("Task", backref="project")
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)  # ok: DBC301
''',
        # An association object used as secondary= by a many-to-many relationship on a
        # third class: its keys are navigated through that relationship.
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[list[User]] = relationship(secondary="group_members")
class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)  # ok: DBC301
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)  # ok: DBC301
''',
        # Joined-table inheritance: the child's key to its parent needs no relationship.
        _BASE + '''
class Employee(Base):
    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(primary_key=True)
class Manager(Employee):
    __tablename__ = "managers"
    id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)  # ok: DBC301
''',
        # Two keys to one table, each covered by a relationship naming it.
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # ok: DBC301
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # ok: DBC301
    author = relationship("User", foreign_keys=[author_id])
    assignee = relationship("User", foreign_keys="Task.assignee_id")
''',
        # An association object that is also the secondary table of a relationship,
        # named through its class.
        _BASE + '''
class Rating(Base):
    __tablename__ = "ratings"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)  # ok: DBC301
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), primary_key=True, index=True)
    stars: Mapped[int]
    book: Mapped["Book"] = relationship()
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    rated_books: Mapped[list["Book"]] = relationship(secondary=Rating.__tablename__, viewonly=True)
class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
''',
        # A relationship written inside ``typing.cast`` for the type checker (KitchenOwl).
        _BASE + '''
from typing import cast
class Recipe(Base):
    __tablename__ = "recipes"
    id: Mapped[int] = mapped_column(primary_key=True)
class History(Base):
    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"), index=True)  # ok: DBC301
    recipe: Mapped["Recipe"] = cast(Mapped["Recipe"], relationship("Recipe", uselist=False))
''',
    )
    invalid = (
        _BASE + '''
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)  # expect: DBC301
''',
        # A composite key in __table_args__ is a key too; reported at the constraint.
        _BASE + '''
from sqlalchemy import ForeignKeyConstraint
class Skill(Base):
    __tablename__ = "skills"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
class Preference(Base):
    __tablename__ = "preferences"
    __table_args__ = (ForeignKeyConstraint(["skill_id", "skill_name"], ["skills.id", "skills.name"], ondelete="CASCADE"),)  # expect: DBC301
    id: Mapped[int] = mapped_column(primary_key=True)
    skill_id: Mapped[int] = mapped_column(index=True)
    skill_name: Mapped[str]
''',
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # expect: DBC301
    author = relationship("User", foreign_keys=[author_id])
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        index = ctx.index
        # A many-to-many relationship through a table covers every key of that table.
        secondaries = {r.secondary_table for t in index.tables for r in t.relationships if r.secondary_table}
        for table in ctx.reported_tables():
            if table.is_imperative or table.class_name is None or table.name in secondaries:
                continue
            ours = _class_names(index, table)
            for local, fk in table.all_foreign_keys():
                found = [table.column(name) for name in local]
                columns = [c for c in found if c is not None]
                if not columns or len(columns) != len(found) or any(c.from_library for c in columns):
                    continue
                column = columns[0]
                if not fk.target_table or _is_inheritance_key(index, table, column, fk):
                    continue
                targets = index.tables_named(fk.target_table)
                if not targets or any(t.is_imperative or not t.complete for t in targets) or not table.complete:
                    continue
                theirs = set().union(*(_class_names(index, t) for t in targets))
                if self._covered(columns, table, targets, ours, theirs):
                    continue
                target = next((t for t in targets if t.class_name), targets[0])
                target_class = target.class_name or fk.target_table
                label = column_label(table, column) if len(columns) == 1 else \
                    f"{table.class_name}({', '.join(local)})"
                other_side = (target.location, f"{target_class}, the other side: the relationship() may go on "
                                               f"either model")
                yield self.finding(column.location if len(columns) == 1 else fk.location, label=label,
                                   target=fk.target_table, model=table.class_name, target_class=target_class,
                                   related=(other_side,)), table.name or "?"

    @staticmethod
    def _covered(columns: list[ColumnModel], table: TableModel, targets: list[TableModel],
                 ours: set[str], theirs: set[str]) -> bool:
        names = {c.attribute for c in columns} | {c.name for c in columns}
        candidates = [r for r in table.relationships if _target_simple(r) in theirs]
        for target in targets:
            candidates += [r for r in target.relationships if _target_simple(r) in ours]
        for rel in candidates:
            if rel.target is None:
                return True
            if rel.foreign_keys is None and not rel.primaryjoin:
                return True
            mentioned = set(rel.foreign_keys or []) | set(rel.primaryjoin_columns)
            if names & mentioned:
                return True
        # A relationship whose target we cannot read might be the one.
        return any(r.target is None for r in table.relationships)


class ForeignKeyWithoutOndelete(Rule):
    code = "DBC302"
    name = "fk-without-ondelete"
    summary = "A foreign key that does not state `ondelete=`."
    what_it_does = """
Flags every foreign key - `ForeignKey(...)` in a column, a `ForeignKeyConstraint`, a
SQLModel `Field(foreign_key=...)` - that does not state `ondelete=`."""
    why_bad = """
The default (`NO ACTION`) makes deleting a tenant, a project or a user fail with an
integrity error as soon as anything references it, or leaves the application to delete
children by hand in the right order. Say what should happen: `CASCADE` for owned rows,
`SET NULL` for optional links, `RESTRICT` when deletion must be refused."""
    known_problems = "ORM-level `cascade=\"all, delete-orphan\"` is not a substitute: bulk deletes bypass it."
    example = """
project_id = mapped_column(ForeignKey("projects.id"))  # DBC302
"""
    use_instead = """
project_id = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
"""
    message = ("{label} is a foreign key to {target!r} without ondelete=: state what deleting the referenced row "
               'does, e.g. ondelete="CASCADE" or "SET NULL"')
    fix = UNSAFE
    fix_description = 'adds `ondelete="CASCADE"` to keys to the tenant table; changes what a delete does.'
    valid = (
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)  # ok: DBC302
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), index=True)  # ok: DBC302
''',
    )
    invalid = (
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)  # expect: DBC302
''',
        '''
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table
metadata = MetaData()
task_tags = Table(
    "task_tags", metadata,
    Column("task_id", ForeignKey("tasks.id"), primary_key=True),  # expect: DBC302
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)
''',
        '''
from typing import Optional
from sqlmodel import Field, SQLModel
class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")  # expect: DBC302
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        config = ctx.config
        for table in ctx.reported_tables():
            for local, fk in table.all_foreign_keys():
                column = table.column(local[0]) if local else None
                if column is not None and column.from_library:
                    continue
                if fk.ondelete_stated:
                    continue
                label = column_label(table, column) if column is not None and len(local) == 1 else \
                    f"{table.name}({', '.join(local)})"
                # a key to the tenant table: deleting the tenant deletes what it owns
                fix = Fix(UNSAFE, (Edit("ondelete", fk.location.line, ('"CASCADE"', config.tenant_table)),)) \
                    if fk.target_table == config.tenant_table and column is not None else None
                yield self.finding(fk.location, fix=fix, label=label, target=fk.target), table.name or "?"


class ForeignKeyWithoutIndex(Rule):
    code = "DBC303"
    name = "fk-without-index"
    summary = "A foreign key column that is not the leading column of any index, unique constraint or primary key."
    what_it_does = """
Flags a foreign key column that is not the leading column of an index, a unique
constraint or the primary key. `index=True`, `unique=True`, `Index(...)` in
`__table_args__` or at module level all count; a composite index counts for its first
column only."""
    why_bad = """
PostgreSQL indexes the referenced side of a foreign key, never the referencing side.
Every join along the key, every `WHERE project_id = ...` and every `ON DELETE` of a
parent scans the child table: fine on day one, an outage at a few million rows."""
    known_problems = "Other databases (MySQL/InnoDB) create the index themselves; the rule assumes PostgreSQL."
    example = """
project_id = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))  # DBC303
"""
    use_instead = """
project_id = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
"""
    message = '{label} is a foreign key without an index: add index=True or an Index("{index}", "{column}")'
    messages = {"table": '{label} is a foreign key without an index: add index=True to Column("{column}", ...) '
                         'or an Index("{index}", "{column}")'}
    fix = SAFE
    fix_description = ("adds `index=True` (or an `Index(...)` in `__table_args__`); `dbcheck fix --migration DIR` writes "
                       "the migration.")
    valid = (
        _BASE + '''
class TaskTag(Base):
    __tablename__ = "task_tags"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)  # ok: DBC303
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)  # ok: DBC303
''',
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_project_created", "project_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))  # ok: DBC303
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)  # ok: DBC303
''',
        # A module-level Index on the class attribute.
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))  # ok: DBC303
Index("ix_tasks_project_id", Task.project_id)
''',
    )
    invalid = (
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_created_project", "created_at", "project_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))  # expect: DBC303
''',
        # column_property(Column(...)) maps a real column (CTFd's solves), and an
        # ``if TYPE_CHECKING:`` block in a mixin does not hide the table's columns.
        _BASE + '''
from typing import TYPE_CHECKING
from sqlalchemy.orm import column_property
class Audited:
    if TYPE_CHECKING:
        note: str
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # expect: DBC303
class Solve(Audited, Base):
    __tablename__ = "solves"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id = column_property(Column(Integer, ForeignKey("users.id", ondelete="CASCADE")), comparator_factory=None)  # expect: DBC303
''',
        # A foreign key in the Table a declarative class gives as __table__.
        _BASE + '''
class Note(Base):
    __table__ = Table("notes", Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))  # expect: DBC303
    user = relationship("User")
''',
        # The second column of a composite primary key is not served by it.
        _BASE + '''
task_tags = Table(
    "task_tags", Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),  # expect: DBC303
)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        return dedupe_by_site(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[tuple[Finding, str]]:
        for table in ctx.reported_tables():
            if not table.complete or table.name is None:
                continue
            leading = table.leading_index_columns()
            for local, fk in table.all_foreign_keys():
                if not local or any(name in leading for name in local):
                    continue
                column = table.column(local[0])
                if column is None or column.from_library:
                    continue
                ix = f"ix_{table.name}_{column.name}"
                fix = Fix(SAFE, (Edit("index", column.location.line, (ix, column.name)),), (ix, table.name, column.name))
                variant = "" if column.attribute and not column.declared_in.startswith("Table(") else "table"
                yield self.finding(column.location, variant, fix, label=column_label(table, column), index=ix,
                                   column=column.name), table.name


class BrokenRelationship(Rule):
    code = "DBC304"
    name = "broken-relationship"
    summary = "A `relationship()` SQLAlchemy cannot configure: unknown target, bad back_populates, no join path."
    message = "{owner}.{attribute}: {problem}"
    what_it_does = """
Flags a `relationship()` (or SQLModel `Relationship`) that SQLAlchemy will refuse when
the mappers are configured: a target class that does not exist in the project, a
`back_populates` naming an attribute the target lacks or one that does not point back,
or two models with no foreign key between their tables and no `secondary` /
`primaryjoin`."""
    why_bad = """
SQLAlchemy raises these errors only at mapper configuration - the first query at run
time, often in production, often taking every model down with it - not at import."""
    known_problems = """
Targets defined outside the project, and tables whose columns dbcheck cannot see, are
not checked."""
    example = """
owner = relationship("Usr", back_populates="tasks")  # DBC304: no class Usr
"""
    use_instead = """
owner = relationship("User", back_populates="tasks")
"""
    valid = (
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    tasks: Mapped[list["Task"]] = relationship(back_populates="owner")  # ok: DBC304
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner: Mapped["User"] = relationship(back_populates="tasks")  # ok: DBC304
''',
        # One-sided pairs: SQLAlchemy only checks that the named attribute is a
        # relationship back to this class, not that it names this one in return.
        _BASE + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    products: Mapped[list["Product"]] = relationship(back_populates="organization")
    all_products: Mapped[list["Product"]] = relationship(back_populates="organization", viewonly=True)  # ok: DBC304
class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    organization: Mapped[Organization] = relationship(back_populates="products")  # ok: DBC304
''',
        # many-to-many through secondary; no direct key needed
        _BASE + '''
task_tags = Table("task_tags", Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True))
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags: Mapped[list[Tag]] = relationship(secondary=task_tags)  # ok: DBC304
    labels = relationship("Tag", task_tags, viewonly=True)  # ok: DBC304 (secondary, positionally)
''',
    )
    invalid = (
        _BASE + '''
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner = relationship("Usr")  # expect: DBC304
''',
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner: Mapped["User"] = relationship(back_populates="tasks")  # expect: DBC304
''',
        # back_populates names a relationship that points to another class.
        _BASE + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    projects: Mapped[list["Project"]] = relationship(back_populates="owner")
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner: Mapped[User] = relationship(back_populates="projects")
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner: Mapped[User] = relationship(back_populates="projects")  # expect: DBC304
''',
        _BASE + '''
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    projects: Mapped[list[Project]] = relationship()  # expect: DBC304
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        index = ctx.index
        seen: set[tuple[str, int]] = set()
        for info in index.classes.values():
            if not info.mapped or info.table is None or not ctx.reports_on(info.table):
                continue
            for rel in info.table.relationships:
                if rel.declared_in != info.ref.fact.name and (rel.location.path, rel.location.line) in seen:
                    continue
                problem = self._problem(index, info, rel)
                if problem and (rel.location.path, rel.location.line) not in seen:
                    seen.add((rel.location.path, rel.location.line))
                    text, related = problem
                    yield self.finding(rel.location, owner=rel.declared_in, attribute=rel.attribute, problem=text,
                                       related=related)

    def _problem(self, index: "ProjectIndex", info: "ClassInfo", rel: RelationshipModel
                 ) -> Optional[tuple[str, tuple[tuple[Location, str], ...]]]:
        """What is wrong, and the other side's place (the target model, its attribute)."""
        if rel.target is None or rel.from_library:
            return None
        simple = rel.target.rsplit(".", 1)[-1]
        if not simple.isidentifier():
            return None
        if simple not in index.class_names and simple not in index.unparsed_class_names:
            return f"relationship() to {rel.target!r}, but no class {simple} exists in the project", ()
        targets = index.mapped_classes_named(simple)
        if len(targets) != 1 or targets[0].table is None or info.table is None:
            return None
        target = targets[0]
        own_table, target_table = info.table, targets[0].table
        model = ((target_table.location if target_table.class_name == simple else
                  Location(target.ref.module.path, target.ref.fact.line, target.ref.fact.column)), f"the {simple} model"),
        ours = {i.ref.fact.name for i in index.classes_of_table(own_table)} | {info.ref.fact.name}
        if rel.back_populates and target_table.complete and target.complete:
            kinds = index.class_attribute_kinds(target)
            if rel.back_populates not in kinds:
                return (f'back_populates="{rel.back_populates}", but {simple} has no attribute '
                        f'{rel.back_populates}: add {rel.back_populates} = relationship(back_populates="{rel.attribute}") to {simple}'
                        ), model
            if kinds[rel.back_populates] == "column":
                column = target_table.column_by_attribute(rel.back_populates)
                where = ((column.location, f"{simple}.{rel.back_populates}, a column"),) if column is not None else model
                return f'back_populates="{rel.back_populates}" names a column of {simple}, not a relationship', where
            other = next((r for r in target_table.relationships if r.attribute == rel.back_populates), None)
            if other is not None:
                other_target = (other.target or "").rsplit(".", 1)[-1]
                if other.target and other_target not in ours and index.mapped_classes_named(other_target):
                    return (f'back_populates="{rel.back_populates}", but {simple}.{rel.back_populates} '
                            f"points to {other_target}, not back to {info.ref.fact.name}"
                            ), ((other.location, f"{simple}.{rel.back_populates}, the other side"),)
        if rel.secondary or rel.primaryjoin or rel.foreign_keys is not None:
            return None
        if not (own_table.complete and target_table.complete):
            return None
        if not self._has_fk_path(index, own_table, target_table):
            return (f"relationship() to {simple}, but no foreign key joins {own_table.name!r} and "
                    f"{target_table.name!r}: add a ForeignKey, or secondary= / primaryjoin="), model
        return None

    @staticmethod
    def _has_fk_path(index: "ProjectIndex", a: TableModel, b: TableModel) -> bool:
        def family(table: TableModel) -> list[TableModel]:
            out = [table]
            parent = table.parent_class
            while parent:
                found = index.mapped_classes_named(parent)
                if len(found) != 1 or found[0].table is None or found[0].table in out:
                    break
                out.append(found[0].table)
                parent = found[0].table.parent_class
            return out

        fa, fb = family(a), family(b)
        names_a = {t.name for t in fa}
        names_b = {t.name for t in fb}
        for table, other in ((fa, names_b), (fb, names_a)):
            for t in table:
                for _local, fk in t.all_foreign_keys():
                    if fk.target_table is None or fk.target_table in other:
                        return True
        return False


class MissingPrimaryKey(Rule):
    code = "DBC305"
    name = "missing-primary-key"
    summary = "A mapped table with no primary key."
    message = "{model} (table {table!r}) has no primary key: add id: Mapped[int] = mapped_column(primary_key=True)"
    what_it_does = """
Flags a mapped class that owns a table with no primary key column, no
`PrimaryKeyConstraint` and no `__mapper_args__["primary_key"]`."""
    why_bad = """
SQLAlchemy refuses to map it ("could not assemble any primary key columns") when the
module is imported; and a table without a key cannot be updated or deleted row by row."""
    example = """
class AuditEntry(Base):  # DBC305
    __tablename__ = "audit"
    message: Mapped[str]
"""
    use_instead = """
class AuditEntry(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]
"""
    valid = (
        _BASE + '''
from sqlalchemy import PrimaryKeyConstraint
class Membership(Base):  # ok: DBC305
    __tablename__ = "memberships"
    __table_args__ = (PrimaryKeyConstraint("user_id", "team_id"),)
    user_id: Mapped[int]
    team_id: Mapped[int]
''',
        # Single-table inheritance: the subclass shares the parent's key.
        _BASE + '''
class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "kind"}
class Login(Event):  # ok: DBC305
    __mapper_args__ = {"polymorphic_identity": "login"}
''',
        # Flask-SQLAlchemy ignores the __tablename__ of a subclass without its own
        # primary key: still single-table inheritance (CTFd's Admins).
        '''
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
class Users(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    type = db.Column(db.String(80))
    __mapper_args__ = {"polymorphic_identity": "user", "polymorphic_on": type}
class Admins(Users):  # ok: DBC305
    __tablename__ = "admins"
    __mapper_args__ = {"polymorphic_identity": "admin"}
''',
        # Columns given as a Table: the class body's annotations only type them (CKAN).
        '''
from sqlalchemy import Column, DateTime, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped
class Base(DeclarativeBase): pass
class Hit(Base):  # ok: DBC305
    __table__ = Table("hits", Base.metadata,
        Column("url", Text, primary_key=True), Column("at", DateTime, primary_key=True))
    url: Mapped[str]
''',
        # The key column made by a project function (Redash's primary_key("Query")).
        '''
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
KEY_TYPES = {"Org": (db.Integer, {})}
def primary_key(name):
    key_type, kwargs = KEY_TYPES[name]
    return db.Column(key_type, primary_key=True, **kwargs)
class Org(db.Model):  # ok: DBC305
    __tablename__ = "orgs"
    id = primary_key("Org")
''',
    )
    invalid = (
        _BASE + '''
class AuditEntry(Base):  # expect: DBC305
    __tablename__ = "audit"
    message: Mapped[str]
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        for table in ctx.reported_tables():
            if table.is_imperative or table.class_name is None or not table.complete:
                continue
            if table.primary_key or table.mapper_primary_key:
                continue
            yield self.finding(table.location, model=table.class_name, table=table.name)
