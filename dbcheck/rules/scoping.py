"""DBC501-DBC503: every read, lookup and write of a tenant-owned table is scoped to
its tenant (CWE-639, authorization bypass through a user-controlled key)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Iterator

from dbcheck.findings import Finding
from dbcheck.schema.model import Location, TableModel
from dbcheck.flow.interpreter import QueryUse, tenant_owned, unscoped_table
from dbcheck.rules.base import Rule, unique_places
from dbcheck.rules.tenancy import tenant_columns_of
from dbcheck.schema.tenancy import TablesByName, filtered_by_session, owner_link, tenant_proxies

if TYPE_CHECKING:
    from dbcheck.config import Config
    from dbcheck.rules.context import RuleContext

_MODELS = '''
from sqlalchemy import ForeignKey, select, update, delete, or_, and_
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    project: Mapped[Project] = relationship()
'''


# Mistral's shape: one secure-query helper for every model, handed the class; a row is
# its project's or published to all.
_SECURE_GETTERS = '''
from app_context import ctx, has_ctx
class Secure:
    pass
class Note(Base, Secure):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(default="private")
def model_query(model, columns=(), session=None):
    if columns:
        return session.query(*columns)
    return session.query(model)
def _secure_query(model, *columns):
    query = model_query(model, columns)
    if not issubclass(model, Secure):
        return query
    # mine, or published by their owners (``scope == "public"``)
    return query.filter(or_(model.user_id == ctx().user_id, model.scope == "public"))
def _get_by_id(model, id, insecure=False):
    if has_ctx():
        insecure = ctx().is_admin or insecure
    query = model_query(model) if insecure else _secure_query(model)
    return query.filter_by(id=id).first()
'''


# Rows owned through their parent: a comment belongs to whoever owns its task (a NOT
# NULL key to a tenant-owned table), with no user_id column of its own.
_COMMENTS = _MODELS + '''
class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str]
    task: Mapped[Task] = relationship()
'''

# Folders nest (a self-referencing key with a backref): the documents of each folder of
# a tree loaded scoped, counted by a function that recurses into the children.
_FOLDERS = _MODELS + '''
from sqlalchemy import func
class Folder(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"), nullable=True, index=True)
    parent = relationship("Folder", remote_side=[id], backref="children")
class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"), index=True)
    folder = relationship("Folder", backref="docs")
'''

# Tracim's mark_read and move_recursively: a recursion into a folder's children inside
# helpers, reached through another helper (``save_folder``) and through itself. Only the
# queries' line carries a label; each example adds the calls that reach them.
_FOLDER_MOVES = '''
def mark_read(session, folder):
    for doc in session.scalars(select(Doc).where(Doc.folder_id == folder.id)):  # ok: DBC501
        doc.read = True
    for child in folder.children:
        mark_read(session, child)
def save_folder(session, folder):
    session.add(folder)
    mark_read(session, folder)
def move_tree(session, folder, parent):
    folder.parent = parent
    save_folder(session, folder)
    for child in folder.children:
        move_tree(session, child, folder)
'''


# A Celery task queued by request handlers (``export.delay(report.id)``): the worker's
# call, with the arguments the handler queued.
_QUEUED = _MODELS + '''
from celery import shared_task
class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
@shared_task
def export(report_id):
    session = make_session()
    return session.get(Report, report_id)
'''


# Projects keyed by a string, for tables whose primary key pairs a key with the project.
_KEYED_PROJECTS = {"pyproject.toml": '''
[tool.dbcheck]
tenant-column = "project_id"
tenant-table = "projects"
''', "example.py": '''
import uuid
from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, Uuid, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Project(Base):
    __tablename__ = "projects"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
'''}

# Steps belong to their run by a column no foreign key states, declared (AgentGPT's
# agent_task.run_id): judged without inherited-scoping.
_STEPS = {"pyproject.toml": '''
[tool.dbcheck]
owned-through = { "steps" = "run_id -> runs" }
''', "example.py": _MODELS + '''
class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Step(Base):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(index=True)
def steps_of(session, run_id, user):
    run = session.scalars(select(Run).where(Run.id == run_id, Run.user_id == user.id)).one()
    return session.scalars(select(Step).where(Step.run_id == run.id)).all()  # ok: DBC501
def steps_of_any(session, run_id):
    return session.scalars(select(Step).where(Step.run_id == run_id)).all()  # expect: DBC501
'''}

# A project that asks for tables owned through a NOT NULL foreign key to be judged too.
_INHERITED = '''
[tool.dbcheck]
inherited-scoping = true
'''

# A user's private rows in an imperative Table.
_WATCHLIST = '''
from sqlalchemy import Column, ForeignKey, Integer, Table, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
watchlist = Table(
    "watchlist", Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("item_id", Integer, nullable=False, index=True),
)
'''


# Flask-SQLAlchemy models that query themselves; the examples continue Report's body.
_FLASK_REPORTS = '''
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
class Report(db.Model):
    __tablename__ = "reports"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
'''


# An organization-per-tenant service (``tenant-column = "organization_id"``): the shapes
# that real agent servers and SaaS back ends use to stay scoped without a tenant filter
# on every query. Apps own conversations through a plain ``app_id`` column
# (``owned-through``).
_ORG_CONFIG = '''
[tool.dbcheck]
tenant-column = "organization_id"
tenant-table = "organizations"
owned-through = { "conversations" = "app_id -> apps" }
'''

_ORG_MODELS = '''
from typing import Optional
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session
class Base(DeclarativeBase): pass
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(primary_key=True)
class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    organization_id: Mapped[Optional[str]] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
class BlockHistory(Base):
    __tablename__ = "block_history"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
class Block(Base):
    __tablename__ = "blocks"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    current_history_id: Mapped[Optional[str]] = mapped_column(ForeignKey("block_history.id", ondelete="SET NULL"), index=True)
    @property
    def history(self):
        return object_session(self).get(BlockHistory, self.current_history_id)  # ok: DBC502
    def siblings(self, session):
        return session.scalars(select(Block).where(Block.agent_id == self.agent_id)).all()  # ok: DBC501
class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
class App(Base):
    __tablename__ = "apps"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[str] = mapped_column(index=True)
'''


# A group-per-tenant application (mealie's shape): child rows whose model proxies its
# parent's tenant column (``group_id = association_proxy("shopping_list", "group_id")``),
# controllers that build their repositories once (``if not self._repos: ...``) and hold
# the signed-in user (``self.user``), services typed by a ``Protocol`` that one project
# class implements, and CRUD classes that reach their base through ``super()``.
_GROUP_CONFIG = """
[tool.dbcheck]
tenant-column = "group_id"
tenant-table = "groups"
"""

_GROUP_MODELS = """
from typing import Optional
from sqlalchemy import ForeignKey, select, update
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
class Base(DeclarativeBase): pass
class Group(Base):
    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(primary_key=True)
class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
class ShoppingList(Base):
    __tablename__ = "shopping_lists"
    id: Mapped[str] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str]
class ListItem(Base):
    __tablename__ = "list_items"
    id: Mapped[str] = mapped_column(primary_key=True)
    shopping_list_id: Mapped[Optional[str]] = mapped_column(ForeignKey("shopping_lists.id", ondelete="CASCADE"), index=True)
    shopping_list: Mapped[Optional[ShoppingList]] = relationship()
    group_id = association_proxy("shopping_list", "group_id")
class Rating(Base):
    __tablename__ = "ratings"
    id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shopping_list_id: Mapped[str] = mapped_column(ForeignKey("shopping_lists.id", ondelete="CASCADE"), index=True)
    shopping_list: Mapped[ShoppingList] = relationship()
    group_id = association_proxy("shopping_list", "group_id")
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[str] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str]
    list_ref: Mapped[Optional[str]]  # a shopping list's id, with no foreign key
"""

_GROUP_STORE = """
from dataclasses import dataclass
from typing import Optional, Protocol
from app.models import ShoppingList, select, update
class ListStoreProtocol(Protocol):
    def get(self, session, list_id: str, group_id: str) -> Optional[ShoppingList]: ...
    def rename(self, session, list_id: str, name: str) -> None: ...
class CRUDBase:
    def __init__(self, model):
        self.model = model
    def get(self, session, id, group_id):
        return session.scalars(select(self.model).where(self.model.id == id, self.model.group_id == group_id)).one_or_none()
class CRUDList(CRUDBase):
    def get(self, session, id, group_id):
        found = super().get(session, id, group_id)
        if found is None:
            raise LookupError(id)
        return found
crud_list = CRUDList(ShoppingList)
class ListStore(ListStoreProtocol):
    def get(self, session, list_id, group_id):
        return crud_list.get(session, list_id, group_id)
    def rename(self, session, list_id, name):
        session.execute(update(ShoppingList).where(ShoppingList.id == list_id).values(name=name))  # {verdict}: DBC503
@dataclass
class ListService:
    store: ListStoreProtocol
    def rename(self, session, list_id, name, group_id):
        if not self.store.get(session, list_id, group_id):
            raise LookupError(list_id)
        self.store.rename(session, list_id, name)
"""

_GROUP_CONTROLLERS = """
from typing import Optional
from app.models import Rating, select
class RatingRepository:
    def __init__(self, session):
        self.session = session
    def of_user(self, user_id):
        return self.session.scalars(select(Rating).where(Rating.user_id == user_id)).all()  # {verdict}: DBC501
class Repositories:
    def __init__(self, session, group_id):
        self.session = session
        self.group_id = group_id
    @property
    def ratings(self):
        return RatingRepository(self.session)
class BaseController:
    _repos: Optional[Repositories] = None
    @property
    def repos(self):
        if not self._repos:
            self._repos = Repositories(self.session, self.group_id)
        return self._repos
class RatingsController(BaseController):
    def mine(self):
        return self.repos.ratings.of_user(self.user.id)
"""


# A group-per-tenant application (see _GROUP_MODELS): a child filtered by the
# tenant column its model proxies, the signed-in user's own ratings through a
# controller's memoised repositories, a rename after the list was loaded scoped
# through a Protocol and super(), a key with no foreign key compared with the id
# of a row converted by the schema's own from_orm.
_GROUP_VALID = {
    "pyproject.toml": _GROUP_CONFIG,
    "app/__init__.py": "",
    "app/models.py": _GROUP_MODELS,
    "app/store.py": _GROUP_STORE.replace("{verdict}", "ok"),
    "app/controllers.py": _GROUP_CONTROLLERS.replace("{verdict}", "ok"),
    "app/views.py": '''
from pydantic import BaseModel
from app.models import ListItem, ShoppingList, Tag, select
def items_of_group(session, group_id):
    return session.scalars(select(ListItem).where(ListItem.group_id == group_id)).all()  # ok: DBC501
def items_by_keyword(session, group_id, ids):
    return session.scalars(select(ListItem).filter_by(group_id=group_id).where(ListItem.id.in_(ids))).all()  # ok: DBC501
class ListOut(BaseModel):
    id: str
    @classmethod
    def from_orm(cls, row):
        return cls(id=row.id)
def lists_of(session, group_id):
    rows = session.scalars(select(ShoppingList).where(ShoppingList.group_id == group_id)).all()
    result = []
    for row in rows:
        result.append(ListOut.from_orm(row))
    return result
def tag_of(session, shopping_list: ListOut):
    return session.scalars(select(Tag).where(Tag.list_ref == shopping_list.id)).first()  # ok: DBC501
def tags_of_lists(session, group_id):
    tags = []
    for shopping_list in lists_of(session, group_id):
        tags.append(tag_of(session, shopping_list))
    return tags
''',
}

# The same application (see _GROUP_MODELS): proxied children loaded by the
# request's ids alone, another user's ratings, a rename through the Protocol with
# no load before it, a helper handed the model whose column it selects.
_GROUP_INVALID = {
    "pyproject.toml": _GROUP_CONFIG,
    "app/__init__.py": "",
    "app/models.py": _GROUP_MODELS,
    "app/store.py": _GROUP_STORE.replace("{verdict}", "expect") + '''
    def force_rename(self, session, list_id, name):
        self.store.rename(session, list_id, name)
''',
    "app/controllers.py": _GROUP_CONTROLLERS.replace("{verdict}", "expect") + '''
    def of(self, user_id):
        return self.repos.ratings.of_user(user_id)
''',
    "app/views.py": '''
from app.models import ListItem, Tag, select
def delete_items(session, ids):
    for item in session.scalars(select(ListItem).where(ListItem.id.in_(ids))).all():  # expect: DBC501
        session.delete(item)
class SlugResolver:
    def __init__(self, session):
        self.session = session
    def ids_for(self, slugs, model):
        return self.session.scalars(select(model.id).where(model.slug.in_(slugs))).all()
    def tag_ids(self, slugs):
        return self.ids_for(slugs, Tag)  # expect: DBC501
''',
}


# Shelves their owners may publish (calibre-web): mine or public is scoped (public alone
# lists other users' rows), and so is a row checked by a helper that compares its owner
# with who asks, read inside the helper.
_SHELVES = _MODELS + '''
from flask import abort, flash
from flask_login import current_user
class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_public: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str]
def check_shelf_edit_permissions(shelf):
    if not shelf.is_public and not shelf.user_id == int(current_user.id):
        return False
    return True
'''

# An owner check in a module that names no model (it imports only flask_login).
_PERMISSIONS = '''
from flask_login import current_user
def check_task_edit_permissions(task):
    if task.user_id != int(current_user.id):
        return False
    return True
'''

# Rows that hang off a task, and a visibility check of a task.
_SUBTASKS = _MODELS + '''
class Subtask(Base):
    __tablename__ = "subtasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
'''
_TASK_VISIBILITY = _MODELS + '''
class Forbidden(Exception):
    pass
def can_view(task, user):
    return user is not None and task.user_id == user.id
'''

# A service FastAPI injects through an Annotated alias (quivr): its methods are followed,
# and the route's owner check of the row they hand back counts.
_INJECTED = _MODELS + '''
from typing import Annotated
from fastapi import APIRouter, Depends, HTTPException
class TaskRepository:
    def __init__(self, session):
        self.session = session
    def get(self, task_id):
        return self.session.scalars(select(Task).where(Task.id == task_id)).one()  # LABEL
class TaskService:
    def __init__(self, repository: TaskRepository):
        self.repository = repository
    def get_task(self, task_id):
        return self.repository.get(task_id)
TaskServiceDep = Annotated[TaskService, Depends(TaskService)]
router = APIRouter()
'''

# Tags linked to a task through a link table (FitTrackee's workout equipment): rows joined
# to links a held row scopes. Who blocked whom: a row keyed to the asker by a key other than
# the tenant column is another tenant's (its owner is who was blocked).
_LINKS = _MODELS + '''
from sqlalchemy import Column, Table
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
task_tags = Table(
    "task_tags", Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)
class Block(Base):
    __tablename__ = "blocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
'''

# A check that answers with an error for the caller to return (FitTrackee's
# ``can_view_activity(auth_user_id, activity.user_id)``).
_CAN_VIEW = _MODELS + '''
def can_view_task(auth_user_id, task_user_id):
    if auth_user_id != task_user_id:
        return {"message": "You do not have permissions."}, 403
    return None, None
'''

# A helper that extends the conditions its callers hand it (FitTrackee's refresh services).
_REFRESHER = _MODELS + '''
class Refresher:
    def __init__(self, session, project_id=None):
        self.session = session
        self.project_id = project_id
    def _get(self, filters):
        if self.project_id:
            filters.extend([Task.project_id == self.project_id])
        return self.session.scalars(select(Task).where(*filters)).all()  # LABEL
'''

# A merchant platform (polar's customer portal): an organization is the tenant, and its
# customers sign in to a portal. A customer belongs to one organization, so the rows
# keyed to the signed-in customer are that organization's.
_PORTAL = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "organization_id"
tenant-table = "organizations"
""", "example.py": """
from typing import Optional
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
class Base(DeclarativeBase): pass
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(primary_key=True)
class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
class Meter(Base):
    __tablename__ = "meters"
    id: Mapped[str] = mapped_column(primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
class CustomerMeter(Base):
    __tablename__ = "customer_meters"
    id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    meter_id: Mapped[str] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"), index=True)
    meter: Mapped[Meter] = relationship()
def get_customer(auth_subject):
    return auth_subject.subject
def get_customer_id(auth_subject):
    return auth_subject.subject.id
"""}


# A workspace-per-tenant platform (tracecat's shape): organizations own workspaces, rows
# carry workspace_id, keys are surrogate integers beside a unique ``id`` that everything
# references, and a user may belong to several workspaces through memberships.
_WORKSPACES = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = ["workspace_id", "organization_id"]
tenant-table = "organization"
""", "example.py": """
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Organization(Base):
    __tablename__ = "organization"
    id: Mapped[str] = mapped_column(primary_key=True)
class Workspace(Base):
    __tablename__ = "workspace"
    surrogate_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(unique=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
class User(Base):
    __tablename__ = "user"
    id: Mapped[str] = mapped_column(primary_key=True)
class Membership(Base):
    __tablename__ = "membership"
    surrogate_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
class Case(Base):
    __tablename__ = "case"
    surrogate_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(unique=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
class CaseEvent(Base):
    __tablename__ = "case_event"
    surrogate_id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
class CaseNote(Base):
    __tablename__ = "case_note"
    surrogate_id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
class CasesService:
    def __init__(self, session, role):
        self.session = session
        self.workspace_id = role.workspace_id
    def get_case(self, case_id):
        return self.session.scalars(select(Case).where(Case.workspace_id == self.workspace_id, Case.id == case_id)).first()
"""}


# A data-access class that scopes only when handed the tenant's row (Tracim's
# ``ContentApi._base_query(workspace)``: ``if workspace: q = q.filter(...)``).
_DOC_API = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "workspace_id"
tenant-table = "workspaces"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
class Workspace(Base):
    __tablename__ = "workspaces"
    workspace_id = Column(Integer, primary_key=True)
class Doc(Base):
    __tablename__ = "docs"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"), nullable=False, index=True)
    workspace = relationship("Workspace")
class DocApi:
    def __init__(self, session, user):
        self.session = session
        self._user = user
    def _base_query(self, workspace=None):
        q = self.session.query(Doc)
        if workspace:
            q = q.filter(Doc.workspace_id == workspace.workspace_id)
        return q
    def get_all(self, workspace=None):
        return self._base_query(workspace).all()
"""}


# An organisation-per-tenant dashboard (AgentOps'): membership is a link table keyed by
# (user_id, org_id), and views check a project's org with the org's own methods.
_ORGS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "org_id"
tenant-table = "orgs"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, String
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
def normalize_uuid(value):
    return value
class UserModel(Base):
    __tablename__ = "users"
    id = Column(String, primary_key=True)
class OrgModel(Base):
    __tablename__ = "orgs"
    id = Column(String, primary_key=True)
    users = relationship("UserOrgModel", back_populates="org")
    def is_user_member(self, user_id):
        return any(str(m.user_id) == str(user_id) for m in self.users)
    @classmethod
    def get_by_id(cls, orm, org_id):
        return orm.query(cls).filter(cls.id == normalize_uuid(org_id)).first()
class UserOrgModel(Base):
    __tablename__ = "user_orgs"
    user_id = Column(String, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_id = Column(String, ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True, index=True)
    org = relationship("OrgModel", back_populates="users")
class ProjectModel(Base):
    __tablename__ = "projects"
    id = Column(String, primary_key=True)
    name = Column(String)
    org_id = Column(String, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False, index=True)
    org = relationship("OrgModel")
    @classmethod
    def get_by_id(cls, orm, project_id):
        return orm.query(cls).filter(cls.id == normalize_uuid(project_id)).first()
"""}


# Tracim's content model: a row is its latest revision, reached through hybrid
# properties whose SQL side names the revision's columns; the data-access class scopes
# to who asks unless built with the filter turned off.
_REVISIONS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "workspace_id"
tenant-table = "workspaces"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Workspace(Base):
    __tablename__ = "workspaces"
    workspace_id = Column(Integer, primary_key=True)
class Revision(Base):
    __tablename__ = "content_revisions"
    revision_id = Column(Integer, primary_key=True)
    content_id = Column(Integer, ForeignKey("content.id", ondelete="CASCADE"), nullable=False, index=True)
    workspace_id = Column(Integer, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"), index=True)
    label = Column(String)
class Content(Base):
    __tablename__ = "content"
    id = Column(Integer, primary_key=True)
    @hybrid_property
    def workspace_id(self):
        return self.revision.workspace_id
    @workspace_id.expression
    def workspace_id(cls):
        return Revision.workspace_id
    @hybrid_property
    def content_id(self):
        return self.revision.content_id
    @content_id.expression
    def content_id(cls):
        return Revision.content_id
"""}

def _content_api(default: bool, label: str = "") -> str:
    """Tracim's data-access class over ``_REVISIONS``: scoped to the workspaces of who asks
    unless built with the filter off (``default`` is its constructor's default), with
    ``label`` (a ``# ok`` / ``# expect``) on the line its get_by_label() runs."""
    return f'''
class ContentApi:
    def __init__(self, session, current_user, disable_user_workspaces_filter={default}):
        self.session = session
        self._user = current_user
        self._disable_user_workspaces_filter = disable_user_workspaces_filter
    def _base_query(self):
        q = self.session.query(Content).join(Revision, Revision.content_id == Content.id)
        if self._user and not self._disable_user_workspaces_filter:
            ids = [r.workspace_id for r in self._user.roles]
            q = q.filter(Content.workspace_id.in_(ids))
        return q
    def get_by_label(self, label):
        return self._base_query().filter(Revision.label == label).one(){"  " + label if label else ""}'''


# Barbican in 2013: tenants known by their Keystone id, orders owned by a tenant.
_TENANTS_2013 = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "tenant_id"
tenant-table = "tenants"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
class Tenant(Base):
    __tablename__ = "tenants"
    id = Column(Integer, primary_key=True)
    keystone_id = Column(String(255))
    name = Column(String(255))
class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)
    tenant = relationship("Tenant")
"""}


# Barbican's repositories: a base class runs the query each subclass's hook builds.
_HOOKED_REPOS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "project_id"
tenant-table = "projects"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Project(Base):
    __tablename__ = "projects"
    id = Column(Integer, primary_key=True)
    external_id = Column(String, unique=True)
class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
class Consumer(Base):
    __tablename__ = "consumers"
    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
class BaseRepo:
    def get(self, entity_id, external_project_id=None, session=None):
        query = self._do_build_get_query(entity_id, external_project_id, session)
        return query.filter_by(deleted=False).one()
    def _do_build_get_query(self, entity_id, external_project_id, session):
        return None
class OrderRepo(BaseRepo):
    def _do_build_get_query(self, entity_id, external_project_id, session):
        return session.query(Order).filter_by(id=entity_id).join(Project).filter(
            Project.external_id == external_project_id)
"""}


# A vulnerability manager's shape (faraday's): workspaces are the tenants, named in the
# URL, and views built on generic mixins whose routes call the views' overrides.
_HOSTS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "workspace_id"
tenant-table = "workspace"
""", "example.py": """
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, delete, select, update
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
class Workspace(Base):
    __tablename__ = "workspace"
    id = Column(Integer, primary_key=True)
    name = Column(String, unique=True, nullable=False)
    label = Column(String)
    active = Column(Boolean)
class Host(Base):
    __tablename__ = "host"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    workspace = relationship(Workspace)
class BulkDeleteMixin:
    model = None
    def _get_objects(self, session, workspace_name, ids):
        try:
            return session.scalars(select(self.model).join(Workspace).where(
                Workspace.name == workspace_name, self.model.id.in_(ids))).all()
        except LookupError:
            return []
    def bulk_delete(self, session, workspace_name, ids):
        if not self.__class__.model == Workspace:
            ids = [row.id for row in self._get_objects(session, workspace_name, ids)]
        return self._perform_bulk_delete(session, ids)
    def _perform_bulk_delete(self, session, values):
        session.execute(delete(self.model).where(self.model.id.in_(values)))
class BulkUpdateMixin(BulkDeleteMixin):
    def bulk_update(self, session, workspace_name, ids):
        rows = self._get_objects(session, workspace_name, ids)
        if rows and isinstance(rows[0], Workspace):
            ids = [row.name for row in rows]
        else:
            ids = [row.id for row in rows]
        return self._perform_bulk_update(session, ids)
    def _perform_bulk_update(self, session, ids):
        session.execute(update(self.model).where(self.model.id.in_(ids)).values(seen=True))
        self._post_bulk_update(session, ids)
    def _post_bulk_update(self, session, ids):
        pass
"""}


# pgAdmin's shape: per-user rows behind a mixin whose query puts who asks under the
# column name it works out, and a single-user (desktop) mode that sees every row.
_SERVERS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "user_id"
tenant-table = "user"
""", "example.py": """
from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import or_
import config
db = SQLAlchemy()
class User(db.Model):
    __tablename__ = "user"
    id = db.Column(db.Integer, primary_key=True)
class UserScopedMixin:
    @classmethod
    def _user_column_name(cls):
        return "user_id" if hasattr(cls, "user_id") else "uid"
    @classmethod
    def for_user(cls, user_id=None, **kwargs):
        uid = user_id if user_id is not None else current_user.id
        kwargs[cls._user_column_name()] = uid
        return cls.query.filter_by(**kwargs)
class Process(db.Model, UserScopedMixin):
    __tablename__ = "process"
    id = db.Column(db.Integer, primary_key=True)
    pid = db.Column(db.String, nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
class ServerGroup(db.Model):
    __tablename__ = "servergroup"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
class Server(db.Model):
    __tablename__ = "server"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    group_id = db.Column(db.Integer, db.ForeignKey("servergroup.id", ondelete="CASCADE"), nullable=False, index=True)
    shared = db.Column(db.Boolean, nullable=False)
"""}


# FMN's shape: the declarative base comes from a library dbcheck does not know
# (``sqlalchemy_helpers``); the models are told by what they declare.
_HELPERS_BASE = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "user_id"
tenant-table = "users"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer, UnicodeText, select
from sqlalchemy.orm import relationship
from sqlalchemy_helpers import Base
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(UnicodeText, nullable=False, unique=True)
class Rule(Base):
    __tablename__ = "rules"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey(User.id, ondelete="CASCADE"), nullable=False, index=True)
    user = relationship(User)
"""}


# I Hate Money's shape: projects are the tenants; the models carry a Flask-SQLAlchemy
# ``query_class`` of their own whose ``get`` adds the project, and the project's members
# are declared from its side (``backref="project"``).
# cabotage: organizations own projects, which own applications and their images; views
# load rows by id and ask Flask-Principal whether who asks may see the row's application,
# or take the rows a lookup helper checked and handed back in a tuple.
_APPS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "organization_id"
tenant-table = "organizations"
inherited-scoping = true
""", "example.py": '''
from flask import abort
from flask_principal import Permission
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
class Organization(db.Model):
    __tablename__ = "organizations"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String, unique=True)
    @property
    def active_projects(self):
        return [p for p in self.projects if p.slug]
class Project(db.Model):
    __tablename__ = "projects"
    id = db.Column(db.Integer, primary_key=True)
    organization_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True)
    slug = db.Column(db.String)
    organization = db.relationship("Organization", backref="projects")
    @property
    def active_applications(self):
        return [a for a in self.applications if a.slug]
class Application(db.Model):
    __tablename__ = "applications"
    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(db.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
    slug = db.Column(db.String)
    project = db.relationship("Project", backref="applications")
class Image(db.Model):
    __tablename__ = "images"
    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    application = db.relationship("Application", backref="images")
class Resource(db.Model):
    __tablename__ = "resources"
    id = db.Column(db.Integer, primary_key=True)
    application_id = db.Column(db.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True)
    slug = db.Column(db.String)
    type = db.Column(db.String)
    __mapper_args__ = {"polymorphic_on": type, "polymorphic_identity": "resource"}
class PostgresResource(Resource):
    __tablename__ = "resources_postgres"
    id = db.Column(db.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    __mapper_args__ = {"polymorphic_identity": "postgres"}
class ViewOrganizationPermission(Permission):
    def __init__(self, organization_id):
        super().__init__(("view-organization", organization_id))
class ViewApplicationPermission(Permission):
    def __init__(self, application_id):
        super().__init__(("view-application", application_id))
def lookup(org_slug, project_slug, app_slug):
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    application = Application.query.filter_by(project_id=project.id, slug=app_slug).first_or_404()
    if not ViewApplicationPermission(application.id).can():
        abort(403)
    return organization, project, application
'''}


# KitchenOwl: a model's own access check (a mixin's ``checkAuthorized()``) that asks about
# the request's user and raises when they are no member of the row's household.
_HOUSEHOLDS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "household_id"
tenant-table = "household"
""", "example.py": '''
from flask_jwt_extended import current_user
from flask_sqlalchemy import SQLAlchemy
db = SQLAlchemy()
class Forbidden(Exception):
    pass
class AuthorizeMixin:
    def isAuthorized(self):
        member = HouseholdMember.query.filter_by(household_id=self.household_id, user_id=current_user.id).first()
        return member is not None
    def checkAuthorized(self):
        if not self.isAuthorized():
            raise Forbidden()
    def check_access_quietly(self):
        return self.isAuthorized()
class Household(db.Model):
    __tablename__ = "household"
    id = db.Column(db.Integer, primary_key=True)
class HouseholdMember(db.Model):
    __tablename__ = "household_member"
    household_id = db.Column(db.ForeignKey("household.id", ondelete="CASCADE"), primary_key=True)
    user_id = db.Column(db.Integer, primary_key=True)
class Category(db.Model, AuthorizeMixin):
    __tablename__ = "category"
    id = db.Column(db.Integer, primary_key=True)
    household_id = db.Column(db.ForeignKey("household.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String)
    @classmethod
    def find_by_id(cls, id):
        return cls.query.filter(cls.id == id).first()
    def authorize_writes(self, write=False):
        if write and not self.isAuthorized():
            raise Forbidden()
    def merge_into(self, other):
        # does nothing for another household's row - and its caller goes on with it
        if self.household_id != other.household_id:
            return
        other.name = self.name
'''}


_BUDGETS = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = "project_id"
tenant-table = "project"
owned-through = { "bill" = "payer_id -> person" }
""", "example.py": """
from flask import g
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.query import Query
db = SQLAlchemy()
class Project(db.Model):
    id = db.Column(db.String(64), primary_key=True)
    members = db.relationship("Person", backref="project")
class Person(db.Model):
    class PersonQuery(Query):
        def get(self, id, project=None):
            if not project:
                project = g.project
            return Person.query.filter(Person.id == id).filter(Person.project_id == project.id).one_or_none()
    query_class = PersonQuery
    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(db.String(64), db.ForeignKey("project.id"))
    name = db.Column(db.UnicodeText)
    @classmethod
    def get_or_create(cls, **kwargs):
        return cls.query.filter_by(**kwargs).first() or cls(**kwargs)
class Bill(db.Model):
    class BillQuery(Query):
        def get(self, project, id):
            return self.join(Person).filter(Bill.payer_id == Person.id).filter(Person.project_id == project.id) \\
                .filter(Bill.id == id).one_or_none()
        def delete(self, project, id):
            bill = self.get(project, id)
            if bill:
                db.session.delete(bill)
            return bill
    query_class = BillQuery
    id = db.Column(db.Integer, primary_key=True)
    payer_id = db.Column(db.Integer, db.ForeignKey("person.id"))
"""}


# OpenMemory's shape: per-user memories narrowed in Python before they are acted on.
_MEMORIES = {"pyproject.toml": """
[tool.dbcheck]
tenant-column = ["user_id", "owner_id"]
tenant-table = "users"
""", "example.py": """
from sqlalchemy import Column, ForeignKey, Integer, String, func
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
class App(Base):
    __tablename__ = "apps"
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String)
class Memory(Base):
    __tablename__ = "memories"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    app_id = Column(Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True)
    state = Column(String)
def may_read(db, memory, app_id):
    return memory.app_id == app_id
"""}


def _label(table: TableModel) -> str:
    return table.class_name or table.name or "?"


def _described(table: TableModel) -> str:
    """``Task ('tasks')`` for a mapped class, ``table 'watchlist'`` for a Table()."""
    if table.class_name:
        return f"{table.class_name} ({table.name!r})" if table.name else table.class_name
    return f"table {table.name!r}"


def _column_ref(table: TableModel, column: str) -> str:
    """How the code names the column: ``Task.user_id``, ``topic_tracker.c.user_id``."""
    if table.class_name:
        return f"{table.class_name}.{column}"
    return f"{table.variable or table.name}.c.{column}"


def _scope_advice(index: "TablesByName", config: "Config", table: TableModel) -> tuple[str, str]:
    """(what the query is not filtered by, the filter to add): the table's tenant column,
    or - for a table owned through a parent (an agent's executions) - the key to a row of
    that parent loaded scoped."""
    if tenant_columns_of(table, config):
        column = _tenant_attribute(table, config)
        ref = _column_ref(table, column)
        return ref, f".where({ref} == <current {column}>)"
    proxied = sorted(tenant_proxies(table, config), key=lambda name: (name not in config.tenant_columns, name))
    if proxied:
        # ``group_id = association_proxy("shopping_list", "group_id")``: filterable as is
        ref = _column_ref(table, proxied[0])
        return ref, f".where({ref} == <current {proxied[0]}>)"
    link = owner_link(index, config, table)
    if link is None:  # not reached: the table was judged as owned through one
        return "its owner", "a filter by its owner"
    key, parent_name = link
    parents = index.tables_named(parent_name)
    parent = (parents[0].class_name or parent_name) if parents else parent_name
    attribute = next((c.attribute or c.name for c in table.columns if c.name == key), key)
    ref = _column_ref(table, attribute)
    return (f"its owner {parent} ({ref})",
            f".where({ref} == <the id of a {parent} loaded scoped>) or a join to a scoped {parent}")


def _tenant_attribute(table: TableModel, config: "Config") -> str:
    """The table's own tenant column (the first configured one it has), as the model
    names it: with ``tenant-column = ["user_id", "owner_id"]`` a table keyed by
    ``owner_id`` is to be filtered by that, not by a column it lacks."""
    columns = tenant_columns_of(table, config)
    if not columns:
        return config.tenant_columns[0]
    first = min(columns, key=lambda c: config.tenant_columns.index(c.name))
    return first.attribute or first.name


def _unscoped_once(uses: Iterable[QueryUse], index: TablesByName,
                   config: "Config") -> list[tuple[QueryUse, TableModel]]:
    """The uses that leave a tenant-owned table unscoped, with that table. A statement
    built one way or another (``q = T.query`` then ``q = q.join(...)`` under an ``if``)
    and run by one call is one query: its unscoped ways are reported once, where the last
    of them was built, not again at a step only one path takes."""
    chosen: dict[tuple, tuple[QueryUse, TableModel]] = {}
    order: list[tuple] = []  # the key of each use (its own position, or its statement's ways)
    for position, use in enumerate(uses):
        table = unscoped_table(index, config, use.query)
        if table is None:
            continue
        if not use.run or use.via:
            chosen[(position,)] = (use, table)
            order.append((position,))
            continue
        key = (use.path, use.function, use.run, use.kind, use.query.tables if use.query is not None else ())
        kept = chosen.get(key)
        if kept is None:
            chosen[key] = (use, table)
            order.append(key)
            continue
        this = (use, table)
        later, other = (this, kept) if (use.line, use.column) > (kept[0].line, kept[0].column) else (kept, this)
        # the calls that reach it unscoped, whichever way they were seen
        chosen[key] = (replace(later[0], callers=tuple(sorted(set(later[0].callers) | set(other[0].callers))),
                               hint=later[0].hint or other[0].hint), later[1])
    return [chosen[key] for key in order]


def _where(use: QueryUse) -> str:
    function = use.function.rsplit(".", 1)[-1]
    where = f" in {function}()" if function else ""
    if use.hint:
        where += f" ({use.hint}: if it is cross-tenant on purpose, say so with a noqa and a reason)"
    callers = use.callers
    if callers:
        named = ", ".join(f"{name}()" for name in callers[:3])
        more = f" and {len(callers) - 3} more" if len(callers) > 3 else ""
        where += f" (called unscoped from {named}{more})"
    return where


_SESSION_FILTER = '''
from sqlalchemy import event
from sqlalchemy.orm import Session
from web.context import current_user_id
def install_tenant_filter():
    @event.listens_for(Session, "do_orm_execute")
    def _scope(state):
        if not state.is_select:
            return  # bulk writes are left alone: they must filter themselves
        for table in state.statement.get_final_froms():
            if "user_id" in table.c:
                state.statement = state.statement.where(table.c.user_id == current_user_id())
'''


class UnscopedQuery(Rule):
    code = "DBC501"
    name = "unscoped-query"
    summary = "A read of a tenant-owned table that is never filtered by the tenant column."
    message = ("query on tenant-owned {table}{built}{where} is not filtered by {column}: add {remedy}, "
               "or '# noqa: DBC501 <reason>' if it is cross-tenant on purpose")
    cwe = "CWE-639: Authorization Bypass Through User-Controlled Key"
    what_it_does = """
Flags a read - `select(...)`, `session.query(...)`, `Model.query`, `session.exec(...)` -
of a tenant-owned table (one with the tenant column; also one whose rows belong to such
a row through an `owned-through` key, or - with `inherited-scoping = true` - a NOT NULL
foreign key: a task's comments, scoped by a join to a scoped task, the id of a task
loaded scoped, `.has()` on it, their own key to who asks, or a check of the task's owner
through the relationship) that is not filtered by the tenant column with a non-constant
value (`T.user_id == current_user.id`, `.in_(ids)`, `filter_by(user_id=...)`, `(T.user_id
== me) & ...`, or a project function that returns such a condition) on every path to
where it runs, directly or through a join to a scoped tenant-owned table. A term inside `or_(...)` counts only if every branch
scopes. The analysis follows a statement through its function (`stmt = stmt.where(...)`)
and into project functions that add the filter or run it (however many helpers hand the
statement on), and trusts `scope-helpers`; a mixin's classmethod that queries `cls` is
judged at each call, on the class it is called on. A query that
loads one row (`.first()`, `.one_or_none()`, `session.execute(...).scalar_one()`) whose
owner the function then checks, leaving when it is not the current tenant's
(`if row is None or row.user_id != me: raise NotFound`, `if not can_edit(user, row): abort(403)`,
`ensure_owner(current_user, row)` - not an `assert`, which `python -O` drops), is scoped by
that check, also when a helper loads the row and returns it and every call of the helper
checks it, or when the row's tenant column is handed to a check-named call
(`check_permission(session, auth, doc.workspace_id, ...)`). A model whose tenant column
is an `association_proxy` through its parent is owned through that parent and scoped by
the proxy; with an organization as the tenant, rows keyed to who signs in
(`Order.customer_id == get_customer_id(auth_subject)`, `self.user.id`) are scoped. A helper's query is judged at
its calls, from up to three calls above when the call sits in a function the project
calls: a call handed the id of a row its caller holds (loaded scoped, converted to a schema
object, collected in a list) is scoped. A project whose `do_orm_execute` listener filters
every read by the tenant column has its reads scoped by it. Raw SQL (`text(...)`) scopes
when every string it may hold compares the tenant column with a bound value in an AND-ed
conjunct (`text(f"({access_filter})")`, `" AND ".join(clauses)`); the grants of who asks
(a membership or access table filtered by their own key) and one row by its key that who
asks wrote are scoped."""
    why_bad = """
One missing `WHERE user_id = :me` returns every customer's rows to whoever asks: the
classic insecure direct object reference. It passes every test written by a developer
with one account."""
    known_problems = """
Cross-tenant reads on purpose (admin tools, background jobs, authentication look-ups)
are reported too: mark them `# noqa: DBC501 <why>` so the reason is in the code. A path
that an explicit privilege test chose is not (`if not ctx.is_admin: q = q.filter_by(
project_id=...)`, `if ctx.is_admin and ctx.all_tenants: return query`, `model_query(M) if
is_admin() else secure_query(M)`): the code already says the read is for administrators. A query
built or filtered in a way the analysis cannot follow (a library, a dynamic table, a
`text()` filter it cannot read that may name the tenant column) is not reported; one whose
other terms cannot be read is still judged by the terms it can. A tenant-column comparison
scopes whatever value it is compared with: a tenant id taken from the request or a webhook
(rather than from who asks) is not judged here. Tables owned only through a many-to-many
association (a secret linked to its tenant by a `tenant_secret` table) are not known to be
tenant-owned, and two tables of the same name in different schemas are read as one. A
subclass hook's query run by its base class is judged without the ids its base's callers
pass. Rows a model `@property` hands back from a held row (`project.active_applications`)
are held when it returns rows of one table through a list or the row itself; rows a model
method or generator hands back (`content.get_valid_children()`) and a property built with
`next(...)` are not. The rows a tenant-table row reaches (`organization.projects`) are
held only where that row was checked (a membership or permission check that stops the
function): a tenant looked up by a slug from the URL may be anyone's. Two rows whose tenant
columns are compared with each other check neither until one of them is checked first; a
row kept only when a link row ties it to a checked one (`if not Link.find(list.id,
item.id): return`) is not known to be checked; and an owner check made on one branch
(`if recipe.visibility == PRIVATE: recipe.checkAuthorized()`) counts for the row on every
branch."""
    example = """
def list_tasks(session, user):
    return session.scalars(select(Task)).all()  # DBC501
"""
    use_instead = """
def list_tasks(session, user):
    return session.scalars(select(Task).where(Task.user_id == user.id)).all()
"""
    options = "`tenant-column`, `tenant-table`, `global-tables`, `scope-helpers`, `owned-through`, `inherited-scoping`."
    valid = (
        # Barbican after 7b220725 (2013): joined to the tenant named by its keystone_id - an
        # identifier, though no unique constraint says so.
        {**_TENANTS_2013, "example.py": _TENANTS_2013["example.py"] + """def orders_of(session, keystone_id):
    return session.query(Order).join(Tenant, Order.tenant).filter(Tenant.keystone_id == keystone_id).all()  # ok: DBC501
"""},
        # A legacy Query sliced or indexed runs (Barbican's paging, 2013): scoped here.
        _MODELS + '''
def page_mine(session, user, offset, limit):
    query = session.query(Task).filter(Task.user_id == user.id)  # ok: DBC501
    return query[offset:offset + limit]
''',
        # Barbican: the query a subclass's hook builds for the base's get() is judged as
        # the hook builds it - filtered by the project here.
        _HOOKED_REPOS,
        # Tracim: the revisions of a content row the caller loaded scoped, by the row's
        # hybrid content_id (its latest revision's key to it); and the object's own
        # ``self._user_id`` is who it acts for.
        {**_REVISIONS, "example.py": _REVISIONS["example.py"] + '''
class User(Base):
    __tablename__ = "users"
    user_id = Column(Integer, primary_key=True)
class ContentApi:
    def __init__(self, session, current_user):
        self.session = session
        self._user = current_user
        self._user_id = current_user.user_id
    def get_one(self, content_id):
        user = self.session.query(User).get(self._user_id)
        ids = [r.workspace_id for r in user.roles]
        return self.session.query(Content).join(Revision, Revision.content_id == Content.id).filter(
            Content.workspace_id.in_(ids), Revision.content_id == content_id).one()
    def mark_unread(self, content):
        return self.session.query(Revision).filter(Revision.content_id == content.content_id).all()  # ok: DBC501
def put_unread(session, current_user, item_id):
    api = ContentApi(session, current_user)
    item = api.get_one(item_id)
    return api.mark_unread(item)
'''},
        # AgentOps: the memberships of an account (a link table keyed by the account and
        # the tenant together), whatever it is named, are what scoping is computed from;
        # a project whose org is asked, by its own method, whether who asks is a member
        # (the function stops when not); and that project, or one created in a checked
        # org, loaded again by its id.
        {**_ORGS, "example.py": _ORGS["example.py"] + '''
def get_all_for_user(orm, user_id):
    return orm.query(UserOrgModel).filter(UserOrgModel.user_id == normalize_uuid(user_id)).all()  # ok: DBC501
def get_project(request, orm, project_id):
    project = ProjectModel.get_by_id(orm, project_id)  # ok: DBC501
    if not project or not project.org.is_user_member(request.state.session.user_id):
        raise LookupError(project_id)
    return project
def rename_project(request, orm, project_id, name):
    project = ProjectModel.get_by_id(orm, project_id)  # ok: DBC501
    if not project:
        raise LookupError(project_id)
    if not project.org.is_user_member(request.state.session.user_id):
        raise PermissionError(project_id)
    project.name = name
    orm.commit()
    return ProjectModel.get_by_id(orm, project.id)  # ok: DBC501
def create_project(request, orm, org_id, name):
    org = OrgModel.get_by_id(orm, org_id)
    if not org or not org.is_user_member(request.state.session.user_id):
        raise LookupError(org_id)
    project = ProjectModel(name=name, org_id=org_id)
    orm.add(project)
    orm.commit()
    return ProjectModel.get_by_id(orm, project.id)  # ok: DBC501
class DeploymentModel(Base):
    __tablename__ = "deployments"
    id = Column(String, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    org_id = Column(String, ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False, index=True)
    @classmethod
    def get_by_id(cls, orm, project_id):
        return orm.query(cls).filter(cls.id == normalize_uuid(project_id)).first()
def get_deployment(request, orm, project_id):
    # the id the checked project was looked up by (through normalize_uuid) is its id
    if not (project := ProjectModel.get_by_id(orm, project_id)):
        raise LookupError(project_id)
    if not project.org.is_user_member(request.state.session.user_id):
        raise LookupError(project_id)
    return DeploymentModel.get_by_id(orm, project_id)  # ok: DBC501
'''},
        # Tracim: a hybrid property's SQL side is the revision's tenant column, and a flag
        # the constructor defaults to False leaves who asks' filter on.
        {**_REVISIONS, "example.py": _REVISIONS["example.py"] + _content_api(default=False, label="# ok: DBC501") + '''
def in_workspace(session, workspace_id):
    return session.query(Content).join(Revision, Revision.content_id == Content.id).filter(  # ok: DBC501
        Content.workspace_id == workspace_id).all()
'''},
        # Closures (FMN's ``async def _doit()`` inside a CLI command): the free variables
        # are what the enclosing function held at the ``def`` - who asks, or a row it
        # loaded scoped - and a local rebound later keeps its value at the ``def``.
        _MODELS + '''
import asyncio
def my_tasks(session, user):
    async def _doit():
        return (await session.scalars(select(Task).where(Task.user_id == user.id))).all()  # ok: DBC501
    return asyncio.run(_doit())
def tasks_of(session, user, project_id):
    project = session.scalars(select(Project).where(Project.id == project_id, Project.user_id == user.id)).one()
    def children():
        return session.scalars(select(Task).where(Task.project_id == project.id)).all()  # ok: DBC501
    return children()
def titles(session, user):
    rows = session.scalars(select(Project).where(Project.user_id == user.id)).all()
    # a callback handed rows the function holds: what its calls pass is not followed
    def tasks_of(project):
        return session.scalars(select(Task).where(Task.project_id == project.id)).all()  # ok: DBC501
    return [tasks_of(p) for p in rows]
''',
        # A row the caller loaded, handed to a helper that scopes ``if workspace:``: a
        # mapped object is truthy, so the filter applies.
        {**_DOC_API, "example.py": _DOC_API["example.py"] + '''
def docs_in(session, user, wid):
    workspace = session.query(Workspace).filter(Workspace.workspace_id == wid).one()
    return DocApi(session, user).get_all(workspace)  # ok: DBC501
'''},
        # A row handed back inside a dict (mindsdb's ``_get_model_info``): its keys are
        # the row's.
        _MODELS + '''
def task_info(session, user, task_id):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).first()
    if not task:
        return None
    return {"task": task, "label": str(task_id)}
def project_of(session, task):
    return session.scalars(select(Project).filter_by(id=task.project_id)).first()  # ok: DBC501
def show(session, user, task_id):
    info = task_info(session, user, task_id)
    return project_of(session, info["task"])
''',
        # exists() takes its FROM from its filter.
        _MODELS + '''
from sqlalchemy import exists
def has_tasks(session, user, project_id):
    return session.scalar(select(exists().where(Task.user_id == user.id, Task.project_id == project_id)))  # ok: DBC501
''',
        # A filter helper that returns one list of conditions or another (tracecat's
        # service accounts, workspace- or organization-wide): what both scope.
        _MODELS + '''
class TaskService:
    shared = False
    def __init__(self, session, user):
        self.session = session
        self.user_id = user.id
        self.project_id = None
    def _filters(self):
        if self.shared:
            return (Task.user_id == self.user_id, Task.project_id == self.project_id)
        return (Task.user_id == self.user_id,)
    def get(self, task_id):
        return self.session.scalars(select(Task).where(Task.id == task_id, *self._filters())).first()  # ok: DBC501
''',
        # The caller's own workspace row; children by the unique id of a case loaded
        # scoped, also when the id is handed on under another name.
        {**_WORKSPACES, "example.py": _WORKSPACES["example.py"] + '''
    def my_workspace(self):
        return self.session.scalars(select(Workspace).where(Workspace.id == self.workspace_id)).one()  # ok: DBC501
    def events_of(self, case):
        return self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()  # ok: DBC501
    def history(self, case_id, parent_first=False):
        case = self.get_case(case_id)
        if case is None:
            return []
        source_id = case_id
        return self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == source_id)).all()  # ok: DBC501
def list_events(session, role, case_id):
    service = CasesService(session, role)
    case = service.get_case(case_id)
    if case is None:
        raise LookupError(case_id)
    return service.events_of(case)
'''},
        # Rows the function already holds vouch for what hangs off them (through a foreign
        # key or an ``owned-through`` column, to a tenant-owned parent): a parent loaded
        # scoped or owner-checked, a re-load of a held row, ids taken from a scoped select,
        # a row just inserted. Global rows (``organization_id IS NULL``), rows a loop skips
        # unless they are the tenant's, a conversion handed back to a caller that checks
        # it, a filter list that always holds the tenant term, a helper scoped when told who
        # asks and never called without, a model class passed by callers that scope.
        {
            "pyproject.toml": _ORG_CONFIG,
            "app/__init__.py": "",
            "app/models.py": _ORG_MODELS,
            "app/held.py": '''
from pydantic import BaseModel
from sqlalchemy import select
from app.models import Agent, App, Block, Conversation, Message
def read_agent(session, agent_id, actor):
    return session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).one()
def messages_of(session, agent_id, actor):
    agent = read_agent(session, agent_id, actor)
    return session.scalars(select(Message).where(Message.agent_id == agent.id)).all()  # ok: DBC501
def messages_by_id(session, agent_id, actor):
    read_agent(session, agent_id, actor)
    return session.scalars(select(Message).where(Message.agent_id == agent_id)).all()  # ok: DBC501
def held_again(session, agent_id, actor):
    agent = read_agent(session, agent_id, actor)
    return session.scalars(select(Agent).where(Agent.id == agent.id)).one()  # ok: DBC501
def from_scoped_ids(session, actor):
    ids = session.scalars(select(Agent.id).where(Agent.organization_id == actor.organization_id)).all()
    return session.scalars(select(Message).where(Message.agent_id.in_(ids))).all()  # ok: DBC501
def just_inserted(session, actor):
    agent = Agent(name="new", organization_id=actor.organization_id)
    session.add(agent)
    session.flush()
    return session.scalars(select(Agent).where(Agent.id == agent.id)).one()  # ok: DBC501
class AgentDTO(BaseModel):
    id: str
def _as_dto(model):
    return AgentDTO(id=model.id)
def read_dto(session, agent_id, actor):
    agent = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).first()
    return _as_dto(agent)
def messages_of_dto(session, agent_id, actor):
    # a row converted to a schema object is still that row: its id is held
    dto = read_dto(session, agent_id, actor)
    return session.query(Message).filter_by(agent_id=dto.id).all()  # ok: DBC501
def conversations_of(session, app_id, actor):
    app = session.scalars(select(App).where(App.id == app_id, App.organization_id == actor.organization_id)).one()
    return session.scalars(select(Conversation).where(Conversation.app_id == app.id)).all()  # ok: DBC501
''',
            "app/shared.py": '''
from typing import Optional
from pydantic import BaseModel
from sqlalchemy import or_, select
from app.models import Agent
def templates(session, actor):
    return session.scalars(select(Agent).where(or_(  # ok: DBC501
        Agent.organization_id == actor.organization_id, Agent.organization_id.is_(None)))).all()
def global_templates(session):
    return session.scalars(select(Agent).where(Agent.organization_id.is_(None))).all()  # ok: DBC501
def visible(session, actor):
    out = []
    for agent in session.scalars(select(Agent)).all():  # ok: DBC501
        if agent.organization_id != actor.organization_id:
            continue
        out.append(agent)
    return out
class AgentOut(BaseModel):
    id: str
    organization_id: Optional[str]
def loaded(session, agent_id):
    agent = session.scalars(select(Agent).where(Agent.id == agent_id)).first()
    return AgentOut.model_validate(agent)
# A repository built for one organization scopes when it was given one (mealie's
# ``if self.group_id:``): who built it is out of reach, the query is as scoped as it.
class AgentRepository:
    def __init__(self, session, organization_id=None):
        self.session = session
        self.organization_id = organization_id
    def newest(self, limit=5):
        stmt = select(Agent).order_by(Agent.id.desc()).limit(limit)  # ok: DBC501
        if self.organization_id:
            stmt = stmt.where(Agent.organization_id == self.organization_id)
        return self.session.scalars(stmt).all()
    def first_newest(self):
        return self.newest(1)[0]  # ok: DBC501
# A project's get_or_create / find_one filtering by the keywords each call passes
# (keep's db_utils), and a helper re-selecting the rows its caller loaded scoped.
def get_or_create(session, model, **kwargs):
    query = select(model)
    for key, value in kwargs.items():
        query = query.where(getattr(model, key) == value)
    found = session.scalars(query).first()
    if found is None:
        found = model(**kwargs)
        session.add(found)
    return found
def agent_named(session, name, actor):
    return get_or_create(session, Agent, organization_id=actor.organization_id, name=name)  # ok: DBC501
def find_one(session, model, **filters):
    return session.query(model).filter_by(**filters).first()
def agent_by_name(session, name, actor):
    return find_one(session, Agent, organization_id=actor.organization_id, name=name)  # ok: DBC501
async def names_of(session, agents):
    return (await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_([a.id for a in agents])))).all()  # ok: DBC501
async def listed(session, actor):
    stmt = select(Agent).where(Agent.organization_id == actor.organization_id)
    agents = (await session.execute(stmt)).scalars().all()
    return agents, await names_of(session, agents)  # ok: DBC501
def shown(session, agent_id, actor):
    out = loaded(session, agent_id)  # ok: DBC501
    if out.organization_id != actor.organization_id:
        raise PermissionError()
    return out
def by_name(session, name, actor, only_mine=False):
    filters = [Agent.name == name, Agent.organization_id == actor.organization_id]
    if only_mine:
        filters.append(Agent.id == actor.agent_id)
    return session.query(Agent).filter(*filters).all()  # ok: DBC501
def list_for(session, name, actor=None):
    stmt = select(Agent).where(Agent.name == name)  # ok: DBC501
    if actor:
        stmt = stmt.where(Agent.organization_id == actor.organization_id)
    return session.scalars(stmt).all()
def rows_of(session, model_class, organization_id):
    return session.scalars(select(model_class).where(model_class.organization_id == organization_id)).all()
def agents_of(session, actor):
    return rows_of(session, Agent, actor.organization_id)  # ok: DBC501
''',
        },
        # Loops: a statement refined on every iteration stays scoped; a row a loop skips
        # unless it is the user's is checked, as a raise would check it.
        _MODELS + '''
def refined(session, user, titles):
    stmt = select(Task).where(Task.user_id == user.id)  # ok: DBC501
    for title in titles:
        stmt = stmt.where(Task.project_id != title)
    return session.scalars(stmt).all()

def through_their_project(session, user):
    out = []
    for task in session.scalars(select(Task)).all():  # ok: DBC501
        project = task.project
        if project.user_id != user.id:
            continue
        out.append(task)
    return out

def each_checked(session, user, ids):
    for task_id in ids:
        task = session.execute(select(Task).where(Task.id == task_id)).scalar_one_or_none()  # ok: DBC501
        if task is None or task.user_id != user.id:
            continue
        task.done = True
''',
        _MODELS + '''
def scoped(session, user):
    return session.scalars(select(Task).where(Task.user_id == user.id)).all()  # ok: DBC501

def stepwise(session, user, done):
    stmt = select(Task)
    if done:
        stmt = stmt.where(Task.id > 0)
    stmt = stmt.where(Task.user_id == user.id)
    return session.scalars(stmt).all()  # ok: DBC501

def my_orphans(session, user):
    stmt = select(Task).where(~Task.project.has(), Task.user_id == user.id)
    return session.scalars(stmt).all()  # ok: DBC501

def through_join(session, user):
    stmt = select(Task).join(Project).where(Project.user_id == user.id)
    return session.execute(stmt).all()  # ok: DBC501

def by_or(session, user, ids):
    stmt = select(Task).where(or_(Task.user_id == user.id, Task.user_id.in_(ids)))
    return session.scalars(stmt).all()  # ok: DBC501

def tenant_table_itself(session, email):
    return session.scalars(select(User).where(User.id > 0)).first()  # ok: DBC501

def legacy(session, user):
    return session.query(Task).filter_by(user_id=user.id).all()  # ok: DBC501

def for_user(stmt, user):
    return stmt.where(Task.user_id == user.id)

def via_helper(session, user):
    return session.scalars(for_user(select(Task), user)).all()  # ok: DBC501

def semi_join(session, user):
    mine = select(Project.id).where(Project.user_id == user.id)
    return session.scalars(select(Task).where(Task.project_id.in_(mine))).all()  # ok: DBC501

def through_the_tenant_row(session, user_id):
    stmt = select(Task).join(User, Task.user_id == User.id).where(User.id == user_id)  # ok: DBC501
    return session.scalars(stmt).all()

def in_the_on_clause(session, user):
    stmt = select(Project, Task).outerjoin(Task, and_(Task.project_id == Project.id, Task.user_id == user.id))  # ok: DBC501
    return session.execute(stmt.where(Project.user_id == user.id)).all()
''',
        # An outer-joined table that is not selected returns no rows of its own.
        _MODELS + '''
class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
def comments_of(session, task_id, user):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).one()
    stmt = select(Comment).where(Comment.task_id == task.id).outerjoin(Project)
    return session.scalars(stmt).all()  # ok: DBC501
''',
        # A table owned through its parent is scoped by the parent: joined and filtered,
        # the id of one loaded scoped, a scoped semi-join, or its key to who asks.
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def on_my_tasks(session, user):
    return session.scalars(select(Comment).join(Task).where(Task.user_id == user.id)).all()  # ok: DBC501
def on_task(session, task_id, user):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).one()
    return session.scalars(select(Comment).where(Comment.task_id == task.id)).all()  # ok: DBC501
def on_mine(session, user):
    mine = select(Task.id).where(Task.user_id == user.id)
    return session.scalars(select(Comment).where(Comment.task_id.in_(mine))).all()  # ok: DBC501
def written_by_me(session, user):
    return session.scalars(select(Comment).where(Comment.author_id == user.id)).all()  # ok: DBC501
def through_has(session, user):
    return session.scalars(select(Comment).where(Comment.task.has(Task.user_id == user.id))).all()  # ok: DBC501
# A row owned through its parent is checked by checking the parent's owner through the
# relationship (SurfSense's ``model.connection.workspace_id != workspace_id``).
def one(session, comment_id, user):
    comment = session.scalars(select(Comment).where(Comment.id == comment_id)).first()  # ok: DBC501
    if comment is None or comment.task.user_id != user.id:
        raise LookupError(comment_id)
    return comment
def checked(session, comment_id, user):
    comment = session.scalars(select(Comment).where(Comment.id == comment_id)).one()  # ok: DBC501
    check_permission(session, user, comment.task.project.user_id)
    return comment
def check_permission(session, user, owner_id):
    if owner_id != user.id:
        raise PermissionError()
# A condition helper is read where it is used, as if written there; ``&`` is SQL's AND;
# an id converted with int() is the same id.
def mine(user):
    return Task.user_id == user.id
def my_open_tasks(session, user):
    return session.scalars(select(Task).where(mine(user) & (Task.id > 0))).all()  # ok: DBC501
def comments_of(session, task_id):
    return session.scalars(select(Comment).where(Comment.task_id == task_id)).all()  # ok: DBC501
# A generic repository handed its model by its constructor (mealie's
# ``RepositoryGeneric(session, PK_ID, Recipe, ...)``): ``self.model`` is that class.
class Repository:
    def __init__(self, session, model):
        self.session = session
        self.model = model
    def owned_by(self, user):
        return self.session.scalars(select(self.model).where(self.model.user_id == user.id)).all()
def my_tasks(session, user):
    return Repository(session, Task).owned_by(user)  # ok: DBC501
class Repositories:
    session = None
    @property
    def tasks(self):
        return Repository(self.session, Task)
class TaskService:
    def __init__(self, repos: Repositories):
        self.tasks = repos.tasks
    def mine(self, user):
        return self.tasks.owned_by(user)  # ok: DBC501
def mine_through_property(user):
    return Repositories().tasks.owned_by(user)  # ok: DBC501
# Rows handed back in a tuple stay held where the caller unpacks them (keep's
# ``incidents, total = get_last_incidents(...)``).
def page_of(session, user):
    tasks = session.scalars(select(Task).where(Task.user_id == user.id).limit(20)).all()
    return tasks, len(tasks)
def projects_on_page(session, user):
    tasks, count = page_of(session, user)
    project_ids = [t.project_id for t in tasks]
    return session.scalars(select(Project).where(Project.id.in_(project_ids))).all()  # ok: DBC501
def my_task_comments(session, task_id, user):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).one()
    return comments_of(session, int(task.id))  # ok: DBC501
'''},
        # A parent whose tenant column may be NULL has shared rows (a credential an admin
        # made for everyone), and so do the rows hanging off it (onyx's index attempts).
        {"pyproject.toml": _INHERITED, "example.py": _MODELS + '''
from typing import Optional
class Credential(Base):
    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
class Attempt(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), index=True)
def stale_attempts(session):
    return session.scalars(select(Attempt).where(Attempt.id > 0)).all()  # ok: DBC501
'''},
        # Without it, only tables with a tenant column or an owned-through declaration.
        _COMMENTS + '''
def on_task(session, task_id):
    return session.scalars(select(Comment).where(Comment.task_id == task_id)).all()  # ok: DBC501
''',
        # A many-to-one relationship compared to the owner row is its key column in SQL
        # (reports.user_id = :param): Redash scopes every lookup this way.
        _FLASK_REPORTS + '''
    owner = db.relationship(User, backref="reports")
    @classmethod
    def of(cls, user):
        return cls.query.filter(cls.owner == user).all()  # ok: DBC501
    def siblings(self):
        # self.user_id is this row's value, not a column: a scope
        return Report.query.filter(Report.user_id == self.user_id).all()  # ok: DBC501
def mine(user):
    return Report.query.filter(Report.owner == user).all()  # ok: DBC501
def one_of_mine(user, report_id):
    return Report.query.filter_by(id=report_id, owner=user).first()  # ok: DBC501
def how_many_of_mine(user):
    return db.session.scalar(db.select(db.func.count(Report.id)).where(Report.owner == user))  # ok: DBC501
''',
        # The row is loaded by id, then its owner checked before anything else (JupyterHub's
        # handlers): the same guarantee as the filter.
        _MODELS + '''
class NotFound(Exception): pass
def get_task(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # ok: DBC501
    if task is None or task.user_id != user.id:
        raise NotFound()
    return task
def get_project(session, user, project_id):
    result = session.execute(select(Project).where(Project.id == project_id))  # ok: DBC501
    project = result.scalars().one_or_none()
    if project is None or project.user_id != user.id:
        raise NotFound()
    return project
def editable_task(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # ok: DBC501
    if task is None or not can_edit_task(user, task):
        raise NotFound()
    return task
def owned_task(session, current_user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # ok: DBC501
    ensure_owner(current_user, task)
    return task
def all_permitted(session, auth, task_ids):
    tasks = session.scalars(select(Task).where(Task.id.in_(task_ids))).all()  # ok: DBC501
    for owner in {task.user_id for task in tasks}:
        check_permission(session, auth, owner, "tasks:update")
    for task in tasks:
        task.project_id = None
def owners_checked(session, user, task_ids):
    # only the owners are read, to refuse ids of other users' tasks (SuperAGI)
    owners = session.scalars(select(Task.user_id).where(Task.id.in_(task_ids)).distinct()).all()  # ok: DBC501
    if owners != [user.id]:
        raise NotFound()
def permitted_task(session, auth, task_id):
    # the row's owner handed to a check that raises (SurfSense's check_permission)
    task = session.query(Task).filter_by(id=task_id).first()  # ok: DBC501
    check_permission(session, auth, task.user_id, "tasks:read")
    return task
class Repository:
    def __init__(self, session):
        self.session = session
    def get_one_or_none(self, statement):
        return self.session.execute(statement).scalar_one_or_none()
    def get_by_id(self, task_id):
        return self.session.query(Task).filter_by(id=task_id).one_or_none()  # ok: DBC501
def task_for(session, user, task_id):
    task = Repository(session).get_one_or_none(select(Task).where(Task.id == task_id))  # ok: DBC501
    if task is None or task.user_id != user.id:
        raise NotFound()
    other = Repository(session).get_by_id(task_id)
    if other is None or other.user_id != user.id:
        raise NotFound()
    return task, other
''',
        # A session-wide filter (bisheng's tenant_filter.py): every ORM read of a table
        # with the tenant column is scoped by the listener, wherever it is built.
        {
            "web/__init__.py": "",
            "web/models.py": _MODELS,
            "web/tenancy.py": _SESSION_FILTER,
            "web/views.py": '''
from sqlalchemy import select
from web.models import Task
def all_tasks(session):
    return session.scalars(select(Task)).all()  # ok: DBC501
''',
        },
        # A data migration rewrites every tenant's rows on purpose.
        {
            "web/__init__.py": "",
            "web/models.py": _MODELS,
            "alembic/versions/d4_backfill.py": '''
from alembic import op
from sqlalchemy import select
from sqlalchemy.orm import Session
from web.models import Task
revision = "d4"
down_revision = "c3"
def upgrade():
    session = Session(bind=op.get_bind())
    for task in session.scalars(select(Task)):  # ok: DBC501
        task.title = task.title.strip()
    session.commit()
def downgrade():
    pass
''',
        },
        _GROUP_VALID,
        # The grants of who asks (a membership table, IRIS's user_case_access, Mergin's
        # project_member) are what scoping is computed from, not another tenant's data; a
        # row by its key that who asks wrote is theirs.
        {**_WORKSPACES, "example.py": _WORKSPACES["example.py"] + '''
def memberships(session, user):
    return session.scalars(select(Membership).where(Membership.user_id == user.id)).all()  # ok: DBC501
def memberships_of(session, member_id):
    # an account's memberships, by the key it was handed (Tracim's RoleApi): the grants
    # themselves, not another tenant's rows
    return session.scalars(select(Membership).where(Membership.user_id == member_id)).all()  # ok: DBC501
def delete_my_note(session, current_user, note_id):
    # one row, theirs (IRIS's comment deletion): the author deletes what they wrote
    note = session.scalars(select(CaseNote).where(CaseNote.surrogate_id == note_id,  # ok: DBC501
                                                  CaseNote.author_id == current_user.id)).first()
    if note is not None:
        session.delete(note)
'''},
        # ``with_entities`` selects other tables' columns: a scoped link, joined along its
        # relationship, scopes the rows it reaches (IRIS's timeline graph).
        _COMMENTS + '''
class Mention(Base):
    __tablename__ = "mentions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    task: Mapped[Task] = relationship()
def mentioned_tasks(session, user):
    return session.query(Task).with_entities(Mention.id, Task.id).filter(Mention.user_id == user.id).join(Mention.task).all()  # ok: DBC501
''',
        # The ids of scoped rows kept in a dict by another key (Mergin's file paths), read
        # back with ``[key]`` or ``.get(key)``.
        _MODELS + '''
def first_tasks(session, user, keys):
    projects = session.scalars(select(Project).where(Project.user_id == user.id)).all()
    by_key = {str(p.id): p.id for p in projects}
    first = [session.scalars(select(Task).where(Task.project_id == by_key.get(k))).first() for k in keys]  # ok: DBC501
    return first + [session.scalars(select(Task).where(Task.project_id == by_key[k])).first() for k in keys]  # ok: DBC501
''',
        # Raw SQL that compares the tenant column with a bound value on every path, however
        # the string is put together (Morphik's access filters: a helper's strings, an
        # f-string, ``" AND ".join`` of a list that gathers parenthesised pieces).
        _MODELS + '''
from sqlalchemy import text
def access_filter(user):
    if user.is_service:
        return "1=0"
    return "user_id = :uid"
def get_task(session, user, task_id):
    condition = access_filter(user)
    stmt = select(Task).where(Task.id == task_id).where(text(f"({condition})").bindparams(uid=user.id))  # ok: DBC501
    return session.scalars(stmt).first()
def find_tasks(session, user, extra, statuses):
    condition = access_filter(user)
    clauses = [f"({condition})", "project_id IS NOT NULL"]
    if extra:
        clauses.append(f"({extra})")
    if statuses:
        clauses.append("(" + " OR ".join(statuses) + ")")
    where = " AND ".join(clauses) if clauses else "TRUE"
    stmt = select(Task).where(text(where).bindparams(uid=user.id))  # ok: DBC501
    return session.scalars(stmt).all()
''',
        # A folder tree loaded scoped: each folder's documents, counted by a function that
        # recurses into its children (IRIS's note directories); a helper handed each id of
        # a scoped list in a comprehension.
        _FOLDERS + '''
def tree(session, user):
    return [count(session, f) for f in session.scalars(select(Folder).where(Folder.user_id == user.id))]
def count(session, folder):
    n = session.scalar(select(func.count(Doc.id)).where(Doc.folder_id == folder.id))  # ok: DBC501
    return {"n": n, "children": [count(session, c) for c in folder.children]}
def doc_lists(session, user):
    return [docs_in(session, f.id) for f in session.scalars(select(Folder).where(Folder.user_id == user.id))]
def docs_in(session, folder_id):
    return session.scalars(select(Doc).where(Doc.folder_id == folder_id)).all()  # ok: DBC501
def archive_folder(session, user, folder_id):
    folder = session.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user.id)).one()
    return [archived(session, doc.id) for doc in folder.docs]
def archived(session, doc_id):
    return session.scalars(select(Doc).where(Doc.id == doc_id)).one()  # ok: DBC501
def remove_route(session, user, folder_id):
    folder = session.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user.id)).first()
    remove_folder(session, folder)
def remove_folder(session, folder):
    # IRIS's delete_directory: each document, then each subfolder the same way
    for doc in folder.docs:
        doc_to_remove(session, doc.id)
    for child in folder.children:
        remove_folder(session, child)
def doc_to_remove(session, doc_id):
    return session.scalars(select(Doc).where(Doc.id == doc_id)).first()  # ok: DBC501
''' + _FOLDER_MOVES + '''
def move_route(session, user, folder_id, parent_id):
    folder = session.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user.id)).one()
    parent = session.scalars(select(Folder).where(Folder.id == parent_id, Folder.user_id == user.id)).one()
    move_tree(session, folder, parent)
def rename_route(session, user, folder_id, name):
    folder = session.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user.id)).one()
    folder.name = name
    save_folder(session, folder)
''',
        # A row loaded by id and checked with a permission made for its application
        # (``ViewApplicationPermission(image.application.id).can()`` or abort); rows a
        # lookup helper checked and returned as a tuple, each in its place.
        {**_APPS, "example.py": _APPS["example.py"] + '''
def image_detail(org_slug, project_slug, app_slug, image_id):
    organization, project, application = lookup(org_slug, project_slug, app_slug)
    return Image.query.filter_by(id=image_id, application_id=application.id).first_or_404()  # ok: DBC501
def image_by_id(image_id):
    image = Image.query.filter_by(id=image_id).first()  # ok: DBC501
    if image is None:
        abort(404)
    if not ViewApplicationPermission(image.application.id).can():
        abort(403)
    return image
def image_by_key(image_id):
    image = Image.query.filter_by(id=image_id).first_or_404()  # ok: DBC501
    if not ViewApplicationPermission(image.application_id).can():
        abort(403)
    return image
def project_images(org_slug, project_slug):
    # a property of a held row handing back rows it reaches
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    app_ids = [a.id for a in project.active_applications]
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # ok: DBC501
def project_images_appended(org_slug, project_slug):
    # ids appended one by one from rows held
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    app_ids = []
    for a in project.applications:
        app_ids.append(a.id)
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # ok: DBC501
def postgres_detail(org_slug, project_slug, app_slug, slug):
    # joined-table inheritance: the parent's column, on the parent's table the query joins
    organization, project, application = lookup(org_slug, project_slug, app_slug)
    return PostgresResource.query.filter_by(application_id=application.id, slug=slug).first_or_404()  # ok: DBC501
def postgres_list(org_slug, project_slug, app_slug):
    organization, project, application = lookup(org_slug, project_slug, app_slug)
    return PostgresResource.query.filter(PostgresResource.application_id == application.id).all()  # ok: DBC501
def organization_images(org_slug):
    # the rows an organization checked here reaches, through two properties
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    if not ViewOrganizationPermission(organization.id).can():
        abort(403)
    app_ids = [a.id for p in organization.active_projects for a in p.active_applications]
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # ok: DBC501
'''},
        # A row loaded by id, then checked by its model's own access check, which raises.
        {**_HOUSEHOLDS, "example.py": _HOUSEHOLDS["example.py"] + '''
def get_category(id):
    category = Category.find_by_id(id)  # ok: DBC501
    if not category:
        raise Forbidden()
    category.checkAuthorized()
    return category
def rename_category(id, name):
    category = Category.query.filter_by(id=id).first()  # ok: DBC501
    category.checkAuthorized()
    category.name = name
'''},
        # A model's own query class adds the project (``Person.query.get(id, project)``,
        # ``Bill.query.delete(project, id)``); a relationship to the project compared with
        # the project (declared by the project's backref).
        {**_BUDGETS, "example.py": _BUDGETS["example.py"] + '''
def edit_member(member_id):
    return Person.query.get(member_id, g.project)  # ok: DBC502
def delete_bill(bill_id):
    return Bill.query.delete(g.project, bill_id)  # ok: DBC503
def name_taken(name):
    return Person.query.filter(Person.name == name, Person.project == g.project).first()  # ok: DBC501
def member_named(name):
    # timesketch's View.get_or_create(name=..., sketch=sketch): the backref handed through
    return Person.get_or_create(name=name, project=g.project)  # ok: DBC501
'''},
        # Ids kept from the user's own rows (``[i for i in requested if i in mine]``, a
        # sorted set of their apps' ids) scope what is looked up by them.
        {**_MEMORIES, "example.py": _MEMORIES["example.py"] + '''
def delete_memories(db, user, app, requested_ids):
    rows = db.query(Memory).filter(Memory.user_id == user.id).all()
    readable = [m.id for m in rows if may_read(db, m, app.id)]
    for memory_id in [i for i in requested_ids if i in readable]:
        memory = db.query(Memory).filter(Memory.id == memory_id).first()  # ok: DBC501
        memory.state = "deleted"
def export_apps(db, user):
    memories = db.query(Memory).filter(Memory.user_id == user.id).all()
    app_ids = sorted({m.app_id for m in memories if m.app_id})
    return db.query(App).filter(App.id.in_(app_ids)).all()  # ok: DBC501
'''},
        # One workspace's rows by its unique name (``join(Workspace).filter_by(name=...)``,
        # ``Host.workspace.has(name=...)``); ids a mixin's route loaded scoped, handed to a
        # view's overrides of the methods it calls (directly or through the mixin's own), on
        # the paths the view can take (its model is no Workspace, its rows are Hosts).
        {**_HOSTS, "example.py": _HOSTS["example.py"] + '''
def by_name(session, workspace_name, host_id):
    return session.query(Host).join(Workspace).filter_by(name=workspace_name).filter(Host.id == host_id).one()  # ok: DBC501
def by_name_where(session, workspace_name, host_id):
    return session.scalars(select(Host).join(Workspace).where(Workspace.name == workspace_name, Host.id == host_id)).one()  # ok: DBC501
def through_relationship(session, workspace_name):
    return session.scalars(select(Host).where(Host.workspace.has(name=workspace_name))).all()  # ok: DBC501
class Service(Base):
    __tablename__ = "service"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    host_id = Column(Integer, ForeignKey("host.id", ondelete="CASCADE"), nullable=False, index=True)
    host = relationship(Host)
def services_of(session, workspace_id, host_id):
    # timesketch's Facet.query.filter_by(scenario=scenario) after checking the scenario
    host = session.get(Host, host_id)
    if host is None or host.workspace_id != workspace_id:
        raise LookupError("no such host here")
    return session.scalars(select(Service).where(Service.host == host)).all()  # ok: DBC501
class HostView(BulkUpdateMixin):
    model = Host
    def _perform_bulk_delete(self, session, values):
        names = session.scalars(select(Workspace.name).join(Host).where(Host.id.in_(values))).all()  # ok: DBC501
        session.execute(delete(Host).where(Host.id.in_(values)))  # ok: DBC503
        return names
    def _post_bulk_update(self, session, ids):
        return session.scalars(select(Host).where(Host.id.in_(ids))).all()  # ok: DBC501
'''},
        # Who asks, under a column name the mixin works out; a builder whose every path
        # the caller can reach is scoped (mine or shared); a group is shared when it holds
        # a shared server.
        {**_SERVERS, "example.py": _SERVERS["example.py"] + '''
def process_status(pid):
    return Process.for_user(pid=pid).first()  # ok: DBC501
def visible_servers():
    return Server.query.filter(or_(Server.user_id == current_user.id, Server.shared))
def group_nodes(group_id):
    return visible_servers().filter(Server.group_id == group_id).all()  # ok: DBC501
def visible_groups():
    # mine, or holding a server shared with everyone
    shared = db.session.query(Server.id).filter(Server.group_id == ServerGroup.id, Server.shared).exists()
    return ServerGroup.query.filter(or_(ServerGroup.user_id == current_user.id, shared)).all()  # ok: DBC501
'''},
        {**_HELPERS_BASE, "example.py": _HELPERS_BASE["example.py"] + '''
def user_rules(session, username):
    return session.execute(select(Rule).where(Rule.user.has(name=username))).scalars().all()  # ok: DBC501
'''},
        # The signed-in customer's own rows: by a getter of who asks, a local it made, a
        # helper handed the customer, rows joined from the customer's own.
        {**_PORTAL, "example.py": _PORTAL["example.py"] + '''
def my_orders(session, auth_subject):
    return session.scalars(select(Order).where(Order.customer_id == get_customer_id(auth_subject))).all()  # ok: DBC501
def orders_of(session, customer_id):
    return session.scalars(select(Order).where(Order.customer_id == customer_id)).all()  # ok: DBC501
def export(session, auth_subject):
    customer = get_customer(auth_subject)
    return orders_of(session, customer.id)
def my_meters(session, auth_subject):
    customer_id = get_customer_id(auth_subject)
    statement = select(CustomerMeter).join(CustomerMeter.meter).where(CustomerMeter.customer_id == customer_id)  # ok: DBC501
    return session.scalars(statement).all()
'''},
        # The owner check lives in a module that names no model (a permissions module
        # importing only flask_login): it is read all the same, since a file that is read
        # imports a check from it.
        {"permissions.py": _PERMISSIONS, "example.py": _MODELS + '''
from flask import abort
from permissions import check_task_edit_permissions
def rename_task(session, task_id, title):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # ok: DBC501
    if not check_task_edit_permissions(task):
        abort(403)
    task.title = title
'''},
        # ... also when the check is called through its module (``import permissions``).
        {"permissions.py": _PERMISSIONS, "example.py": _MODELS + '''
from flask import abort
import permissions
def rename_task(session, task_id, title):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # ok: DBC501
    if not permissions.check_task_edit_permissions(task):
        abort(403)
    task.title = title
'''},
        # ... and so is the module of a view base whose method checks the owner.
        {"web_base.py": '''
from flask import abort
from flask_login import current_user
class OwnedView:
    def check_owner(self, obj):
        if obj.user_id != current_user.id:
            abort(403)
''', "example.py": _MODELS + '''
from web_base import OwnedView
class TaskView(OwnedView):
    def rename(self, session, task_id, title):
        task = session.scalars(select(Task).where(Task.id == task_id)).first()  # ok: DBC501
        self.check_owner(task)
        task.title = title
'''},
        # A notification keeps the id of the row it is about, of any table (a polymorphic
        # reference, no foreign key): the row it names is as scoped as the notification (FitTrackee).
        _MODELS + '''
class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str]
    event_object_id: Mapped[int]
    def serialize(self, session):
        if self.event_type == "task_comment":
            task = session.scalars(select(Task).where(Task.id == self.event_object_id)).one()  # ok: DBC501
            return {"task": task.id}
        return {}
def my_notifications(session, user):
    return [n.serialize(session) for n in session.scalars(select(Notification).where(Notification.user_id == user.id))]  # ok: DBC501
''',
        # A row a check-named decorator loads, checks and hands the view: its children are
        # as scoped as it is (FitTrackee's @check_workout).
        _SUBTASKS + '''
import functools
from flask import abort
from flask_login import current_user
def check_task(f):
    @functools.wraps(f)
    def wrapper(session, task_id):
        task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == current_user.id)).first()  # ok: DBC501
        if task is None:
            abort(404)
        return f(session, task)
    return wrapper
@check_task
def subtasks(session, task: Task):
    return session.scalars(select(Subtask).where(Subtask.task_id == task.id)).all()  # ok: DBC501
''',
        # A check that fails for anyone but an administrator stops the function for them
        # (FitTrackee's get_workout: ``not can_view(...) and not (allow_admin and
        # user.has_admin_rights)``).
        _TASK_VISIBILITY + '''
def get_task(session, task_id, auth_user, allow_admin=False):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # ok: DBC501
    if not task or (not can_view(task, auth_user) and not (allow_admin and auth_user.is_admin)):
        raise Forbidden()
    return task
''',
        _SHELVES + '''
def visible_shelves(session):
    return session.scalars(select(Shelf).where(or_(Shelf.is_public == True, Shelf.user_id == current_user.id))).all()  # ok: DBC501
def rename_shelf(session, shelf_id, name):
    shelf = session.scalars(select(Shelf).where(Shelf.id == shelf_id)).first()  # ok: DBC501
    if not check_shelf_edit_permissions(shelf):
        abort(403)
    shelf.name = name
def delete_shelf_helper(session, shelf):
    if not shelf or not check_shelf_edit_permissions(shelf):
        return False
    session.delete(shelf)
    return True
def delete_shelf(session, shelf_id):
    shelf = session.scalars(select(Shelf).where(Shelf.id == shelf_id)).first()  # ok: DBC501
    if not delete_shelf_helper(session, shelf):
        flash("not deleted")
''',
        _LINKS + '''
def tags_of(session, user, task_id):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).one()
    return session.scalars(select(Tag).join(task_tags).where(task_tags.c.task_id == task.id)).all()  # ok: DBC501
def delete_task_by(session, task_id):
    task = session.scalars(select(Task).filter_by(id=int(task_id))).one()  # ok: DBC501
    session.delete(task)
def clear_first(session, user, project_id):
    task = session.scalars(select(Task).where(Task.user_id == user.id, Task.project_id == project_id)).first()
    if task is not None:
        delete_task_by(session, str(task.id))
''',
        # Who asks as the authentication middleware left it on the request (agenta).
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def my_comments(request, session):
    return session.scalars(select(Comment).where(Comment.author_id == int(request.state.user_id))).all()  # ok: DBC501
'''},
        # A check that answers with an error the caller returns (FitTrackee's
        # ``can_view_activity(auth_user_id, activity.user_id)``).
        _CAN_VIEW + '''def get_task(auth_user_id, task_id):
    task = Task.query.filter_by(id=task_id).first()  # ok: DBC501
    if task:
        error, code = can_view_task(auth_user_id, task.user_id)
        if error:
            return error, code
    return task, 200
''',
        # Conditions handed to a helper that extends them (FitTrackee's refresh services):
        # a list with the owner's term scopes the helper's query.
        _REFRESHER.replace("# LABEL", "# ok: DBC501") + '''    def refresh(self, user):
        return self._get([Task.user_id == user.id])
''',
        # A service handed to a helper: its annotation names the class, not how the caller
        # built it (here for one user, mealie's scheduler) - only what a framework injects
        # (``Depends``) is followed from the annotation.
        _MODELS + '''
class TaskService:
    def __init__(self, session, user_id=None):
        self.session = session
        self.user_id = user_id
    def done(self):
        stmt = select(Task)
        if self.user_id:
            stmt = stmt.where(Task.user_id == self.user_id)
        return self.session.scalars(stmt).all()  # ok: DBC501
def trim(service: TaskService):
    return service.done()
''',
        _INJECTED.replace("# LABEL", "# ok: DBC501") + '''
@router.put("/tasks/{task_id}")
def rename(task_id: int, name: str, current_user: CurrentUser, service: TaskServiceDep):
    task = service.get_task(task_id)
    if str(task.user_id) != str(current_user.id):
        raise HTTPException(403)
    task.name = name
''',
        # A branch only administrators take is cross-tenant because the code says so (Magnum's
        # ``_add_tenant_filters``, ``if not context.is_admin: query = query.filter_by(...)``,
        # CTFd's ``if is_admin(): ... else: ...filter_by(user_id=...)``).
        _MODELS + '''
from app_auth import is_admin
class Connection:
    def _add_tenant_filters(self, context, query):
        if context.is_admin and context.all_tenants:
            return query
        return query.filter_by(user_id=context.user_id)
    def get_task(self, session, context, task_id):
        query = self._add_tenant_filters(context, session.query(Task))
        return query.filter_by(id=task_id).one()  # ok: DBC501
    def get_by_title(self, session, context, title):
        query = session.query(Task)
        if not context.is_admin:
            query = query.filter_by(user_id=context.user_id)
        return query.filter_by(title=title).one()  # ok: DBC501
    def listing(self, session, context):
        if is_admin(context):
            return session.query(Task).all()  # ok: DBC501
        return session.query(Task).filter_by(user_id=context.user_id).all()  # ok: DBC501
''',
        # Mistral's generic getters: the model handed down two helpers (``*columns`` not
        # passed is an empty tuple), ``issubclass`` of the secure base decided per model, and
        # ``insecure = ctx().is_admin or insecure`` where no caller passes ``insecure``.
        _MODELS + _SECURE_GETTERS + '''
def get_note(id):
    return _get_by_id(Note, id)  # ok: DBC501
''',
    )
    invalid = (
        # ... but not when the other side lets through more than administrators.
        _TASK_VISIBILITY + '''
def get_task(session, task_id, auth_user):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # expect: DBC501
    if not task or (not can_view(task, auth_user) and not auth_user.is_beta_tester):
        raise Forbidden()
    return task
''',
        # Second reader's counter-examples: a decorator named like a check that checks no
        # row (pydantic's validate_call), a shared model's own polymorphic reference, and an
        # id that is a task's on one path and any table's on the other, compared with a key.
        _SUBTASKS + '''
from pydantic import validate_call
@validate_call
def subtasks(session, task: Task):
    return session.scalars(select(Subtask).where(Subtask.task_id == task.id)).all()  # expect: DBC501
class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int]
    def target(self, session):
        return session.scalars(select(Task).where(Task.id == self.object_id)).one()  # expect: DBC501
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[int]
def subtasks_of(session, kind, note_id, project_id, user):
    note = session.scalars(select(Note).where(Note.id == note_id, Note.user_id == user.id)).one()  # ok: DBC501
    project = session.scalars(select(Project).where(Project.id == project_id, Project.user_id == user.id)).one()  # ok: DBC501
    ref = note.object_id if kind == "note" else project.id
    return session.scalars(select(Task).where(Task.project_id == ref)).all()  # expect: DBC501
''',
        # A decorator that is no check hands over a row nobody checked.
        _SUBTASKS + '''
import functools
def log_calls(f):
    @functools.wraps(f)
    def wrapper(*args):
        return f(*args)
    return wrapper
@log_calls
def subtasks(session, task: Task):
    return session.scalars(select(Subtask).where(Subtask.task_id == task.id)).all()  # expect: DBC501
''',
        # A shared row's polymorphic reference (an audit event of any tenant) may name any
        # tenant's row: reading it by that id is not scoped (onyx's sync records).
        _MODELS + '''
class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int]
def audited_task(session, event_id):
    event = session.get(AuditEvent, event_id)
    return session.scalars(select(Task).where(Task.id == event.object_id)).one()  # expect: DBC501
''',
        # What the branch that is not the administrators' leaves unscoped, a helper's insecure
        # path a caller asks for, and a model the secure base does not cover are reported.
        _MODELS + _SECURE_GETTERS + '''
def get_note_anyway(id):
    return _get_by_id(Note, id, insecure=True)  # expect: DBC501
def get_task(id):
    return _get_by_id(Task, id)  # expect: DBC501
def not_for_admins(session, context):
    if not context.is_admin:
        return session.query(Task).all()  # expect: DBC501
    return []
''',
        # A helper handed the caller's query and filtering it by keys none of which is the
        # tenant column (Magnum's ``add_identity_filter(query, id)``) leaves it unscoped.
        _MODELS + '''
def add_identity_filter(query, value):
    if isinstance(value, int):
        return query.filter_by(id=value)
    return query.filter_by(title=value)
def load_task(session, task_id):
    query = session.query(Task)  # expect: DBC501
    query = add_identity_filter(query, task_id)
    return query.one()
''',
        # A fluent method hands back the repository it was called on (mealie's
        # ``recipes.by_user(uid).page_all(...)``): its query is judged at that call.
        _MODELS + '''
class TaskRepo:
    def __init__(self, session):
        self.session = session
        self.user_id = None
    def by_user(self, user_id):
        self.user_id = user_id
        return self
    def titled(self, title, owner=None):
        q = select(Task).where(Task.title == title)
        if owner:
            q = q.where(Task.user_id == owner.id)
        return self.session.scalars(q).all()
def mine(session, user, title):
    return TaskRepo(session).by_user(user.id).titled(title, owner=user)
def anyones(session, user, title):
    return TaskRepo(session).by_user(user.id).titled(title)  # expect: DBC501
''',
        # ... but a tenant's name is no identifier: tenants may share one.
        {**_TENANTS_2013, "example.py": _TENANTS_2013["example.py"] + """def orders_named(session, name):
    return session.query(Order).join(Tenant, Order.tenant).filter(Tenant.name == name).all()  # expect: DBC501
"""},
        # ... and unscoped: every tenant's orders, a page at a time (Barbican before 7b220725).
        _MODELS + '''
def page_all(session, offset, limit):
    query = session.query(Task).order_by(Task.id)  # expect: DBC501
    return query[offset:(offset + limit)]
def first_task(session):
    return session.query(Task)[0]  # expect: DBC501
''',
        # Barbican: a hook that ignores the project it is handed reads any project's rows
        # for the base's get(): reported where the hook builds the query.
        {**_HOOKED_REPOS, "example.py": _HOOKED_REPOS["example.py"] + '''
class ConsumerRepo(BaseRepo):
    def _do_build_get_query(self, entity_id, external_project_id, session):
        query = session.query(Consumer)  # expect: DBC501
        return query.filter_by(id=entity_id, deleted=False)
'''},
        # AgentOps' GitHub callback: the project is only checked to exist; a member check
        # asked about someone else, or whose answer stops nothing, checks nothing.
        {**_ORGS, "example.py": _ORGS["example.py"] + '''
def get_project(request, orm, project_id):
    project = ProjectModel.get_by_id(orm, project_id)
    if not project or not project.org.is_user_member(request.state.session.user_id):
        raise LookupError(project_id)
    return project
def github_callback(request, orm, project_id):
    project = ProjectModel.get_by_id(orm, project_id)  # expect: DBC501
    if not project:
        raise LookupError(project_id)
    return project
def invite_target(request, orm, project_id, invitee_id):
    project = ProjectModel.get_by_id(orm, project_id)  # expect: DBC501
    if not project or not project.org.is_user_member(invitee_id):
        raise LookupError(project_id)
    return project
def project_summary(request, orm, project_id):
    project = ProjectModel.get_by_id(orm, project_id)  # expect: DBC501
    member = project.org.is_user_member(request.state.session.user_id)
    return {"name": project.name, "member": member}
'''},
        # Built with the filter turned off (Tracim's calendar code), the data-access class
        # lists every workspace's contents; built the usual way it does not.
        {**_REVISIONS, "example.py": _REVISIONS["example.py"] + _content_api(default=False) + '''
def any_workspace(session, user, label):
    return ContentApi(session, user, disable_user_workspaces_filter=True).get_by_label(label)  # expect: DBC501
def mine(session, user, label):
    return ContentApi(session, user).get_by_label(label)
'''},
        # The same, reached through helpers whose own callers vary (Tracim's calendar:
        # update_event -> replace -> find_one_by_unique_property): reported once, at the
        # query, as those calls run it - its own run, with the filter on, scopes.
        {**_REVISIONS, "example.py": _REVISIONS["example.py"] + _content_api(default=False, label="# expect: DBC501") + '''
def any_workspace(session, user, label):
    return ContentApi(session, user, disable_user_workspaces_filter=True).get_by_label(label)
def replace_event(session, user, label):
    return any_workspace(session, user, label)
def update_event(session, user, label):
    return replace_event(session, user, label)
def mine(session, user, label):
    return ContentApi(session, user).get_by_label(label)
'''},
        # Built with the filter off by default, the data-access class lists every
        # workspace's contents; a hybrid property compared with nothing scopes nothing.
        {**_REVISIONS, "example.py": _REVISIONS["example.py"] + _content_api(default=True, label="# expect: DBC501") + '''
def unscoped(session):
    return session.query(Content).join(Revision, Revision.content_id == Content.id).filter(  # expect: DBC501
        Content.workspace_id.isnot(None)).all()
'''},
        # Beside a call handed a loaded row (scoped), a call that hands no row lists every
        # tenant's documents - and so does one that hands None on some path (Tracim's
        # CalendarManager.update_event for a user's calendar).
        {**_DOC_API, "example.py": _DOC_API["example.py"] + '''
def docs_in(session, user, wid):
    workspace = session.query(Workspace).filter(Workspace.workspace_id == wid).one()
    return DocApi(session, user).get_all(workspace)
def every_doc(session, user):
    return DocApi(session, user).get_all()  # expect: DBC501
def calendar_docs(session, user, calendar):
    workspace = None
    if calendar.kind == "workspace":
        workspace = calendar.related_object
    return DocApi(session, user).get_all(workspace)  # expect: DBC501
'''},
        _MODELS + '''
import asyncio
def all_tasks(session):
    async def _doit():
        return (await session.scalars(select(Task))).all()  # expect: DBC501
    return asyncio.run(_doit())
def tasks_of(session, project_id):
    def children(*args, **kwargs):
        def page():
            return session.scalars(select(Task).where(Task.project_id == project_id)).all()  # expect: DBC501
        return page()
    return children()
''',
        _MODELS + '''
def task_info(session, task_id):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # expect: DBC501
    return {"task": task}
def project_of(session, task):
    return session.scalars(select(Project).filter_by(id=task.project_id)).first()
def show(session, task_id):
    return project_of(session, task_info(session, task_id)["task"])
''',
        _MODELS + '''
from sqlalchemy import exists
def has_tasks(session, project_id):
    return session.scalar(select(exists().where(Task.project_id == project_id)))  # expect: DBC501
def any_task(session, project_id):
    return session.scalar(select(select(Task.id).where(Task.project_id == project_id).exists()))  # expect: DBC501
def projects_with_tasks(session):
    # an exists() kept in a local and used as a filter scopes nothing by itself
    has_task = exists().where(Task.project_id == Project.id)
    return session.scalars(select(Project).where(Project.id > 0, has_task)).all()  # expect: DBC501
''',
        _MODELS + '''
class TaskService:
    shared = False
    def __init__(self, session, user):
        self.session = session
        self.user_id = user.id
        self.project_id = None
    def _filters(self):
        if self.shared:
            return (Task.user_id == self.user_id,)
        return (Task.project_id == self.project_id,)
    def get(self, task_id):
        return self.session.scalars(select(Task).where(Task.id == task_id, *self._filters())).first()  # expect: DBC501
''',
        # The memberships of a user looked up (not who asks) span workspaces; an id bound
        # anew after the check is not the one checked.
        {**_WORKSPACES, "example.py": _WORKSPACES["example.py"] + '''
    def history(self, case_id, other_id):
        case = self.get_case(case_id)
        if case is None:
            return []
        case_id = other_id
        return self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()  # expect: DBC501
def member_workspaces(session, member_id):
    member = session.get(User, member_id)  # someone looked up, not who asks
    return session.scalars(select(Membership).where(Membership.user_id == member.id)).all()  # expect: DBC501
def their_note(session, author_id, note_id):
    author = session.get(User, author_id)
    return session.scalars(select(CaseNote).where(CaseNote.surrogate_id == note_id,  # expect: DBC501
                                                  CaseNote.author_id == author.id)).first()
def my_notes(session, user):
    # the notes they wrote in every one of them
    return session.scalars(select(CaseNote).where(CaseNote.author_id == user.id)).all()  # expect: DBC501
'''},
        _STEPS,
        _GROUP_INVALID,
        # Raw SQL that leaves the tenant out, or ORs it with something else, or AND-s in a
        # piece that is not parenthesised.
        _MODELS + '''
from sqlalchemy import text
def live_tasks(session):
    return session.scalars(select(Task).where(text("deleted_at IS NULL"))).all()  # expect: DBC501
def visible_tasks(session, user):
    condition = "user_id = :uid"
    return session.scalars(select(Task).where(text(f"{condition} OR is_public").bindparams(uid=user.id))).all()  # expect: DBC501
def filtered_tasks(session, user, extra):
    clauses = ["user_id = :uid"]
    if extra:
        clauses.append(extra)
    return session.scalars(select(Task).where(text(" AND ".join(clauses)).bindparams(uid=user.id))).all()  # expect: DBC501
def widened(session, user):
    where = "user_id = :uid"
    where += " OR is_public"
    return session.scalars(select(Task).where(text(where).bindparams(uid=user.id))).all()  # expect: DBC501
def cleared(session, user, everyone):
    clauses = ["user_id = :uid", "project_id IS NOT NULL"]
    if everyone:
        clauses.clear()
    where = " AND ".join(clauses) if clauses else "TRUE"
    return session.scalars(select(Task).where(text(where).bindparams(uid=user.id))).all()  # expect: DBC501
def public_filter():
    clause = "is_public = true"
    return f"({clause})"
def public_tasks(session, user):
    clause = "user_id = :uid"  # the helper's own local of that name is another string
    where = public_filter()
    return session.scalars(select(Task).where(text(where))).all()  # expect: DBC501
def owner_names(session, task_id):
    # the task's owner for any task: the filter names the task, which is read
    return session.query(Task).with_entities(User.id).filter(Task.id == task_id).join(User, User.id == Task.user_id).first()  # expect: DBC501
def maybe_mine(session, user, mine):
    clauses = []
    if mine:
        clauses.append("user_id = :uid")
    where = " AND ".join(clauses) if clauses else "TRUE"
    return session.scalars(select(Task).where(text(where).bindparams(uid=user.id))).all()  # expect: DBC501
''',
        # A lookup some callers check: the calls that do not are reported; one through a
        # function that checks the row (IRIS's tasks_delete) is not.
        _MODELS + '''
def check_access(owner_id):
    if owner_id != current_user.id:
        raise PermissionError()
def get_task(session, task_id):
    return session.scalars(select(Task).where(Task.id == task_id)).first()
def task_view(session, task_id):
    task = get_task(session, task_id)
    check_access(task.user_id)
    return task
def task_modal(session, task_id):
    return get_task(session, task_id)  # expect: DBC501
def tasks_delete(session, identifier):
    task = get_task(session, identifier)
    if not task:
        raise LookupError(identifier)
    check_access(task.user_id)
    session.delete(task)
def delete_route(session, task_id):
    tasks_delete(session, task_id)
''',
        # A row handed up two calls (IRIS's ``iocs_get``): the route that checks its owner
        # is not one of the calls that leave the lookup unscoped.
        _MODELS + '''
def check_access(owner_id):
    if owner_id != current_user.id:
        raise PermissionError()
def get_task(session, task_id):
    return session.scalars(select(Task).where(Task.id == task_id)).first()  # expect: DBC501
def tasks_get(session, identifier):
    task = get_task(session, identifier)
    if not task:
        raise LookupError(identifier)
    return task
def task_view(session, task_id):
    task = tasks_get(session, task_id)
    check_access(task.user_id)
    return task
def task_export(session, task_id):
    return tasks_get(session, task_id)
''',
        # A service FastAPI hands in through a provider that says what it returns
        # (``db=Depends(get_db)`` with ``def get_db() -> TaskStore``): its methods are followed.
        _MODELS + '''
from fastapi import Depends
class TaskStore:
    def __init__(self, session):
        self.session = session
    def get(self, task_id):
        return self.session.scalars(select(Task).where(Task.id == task_id)).first()
def get_store() -> TaskStore:
    return TaskStore(make_session())
def owned_task(task_id, user, store=Depends(get_store)):
    task = store.get(task_id)
    if task is None or task.user_id != user.id:
        raise LookupError(task_id)
    return task
def read_task(task_id, store=Depends(get_store)):
    return store.get(task_id)  # expect: DBC501
''',
        # A dict of ids the request sent is not one of held ids.
        _MODELS + '''
def first_tasks(session, body, keys):
    by_key = {k: v for k, v in body.items()}
    return [session.scalars(select(Task).where(Task.project_id == by_key.get(k))).first() for k in keys]  # expect: DBC501
''',
        # A recursion is judged by its outside callers: one that walks ids it never checks.
        _FOLDERS + '''
def walk_ids(session, folder_id):
    docs = session.scalars(select(Doc).where(Doc.folder_id == folder_id)).all()  # expect: DBC501
    for child in session.scalars(select(Folder).where(Folder.parent_id == folder_id)):  # expect: DBC501
        docs += walk_ids(session, child.id)
    return docs
''',
        # ... and the same recursion reached through helpers (Tracim's mark_read via save,
        # and move_recursively) from a call that hands it a folder loaded unscoped.
        _FOLDERS + _FOLDER_MOVES + '''
def adopt_route(session, user, folder_id, parent_id):
    parent = session.scalars(select(Folder).where(Folder.id == parent_id, Folder.user_id == user.id)).one()
    folder = session.scalars(select(Folder).where(Folder.id == folder_id)).one()  # expect: DBC501
    move_tree(session, folder, parent)
from flask import request
def collect(session, folder_id, more):
    # a recursion handed something else than what it was given
    docs = session.scalars(select(Doc).where(Doc.folder_id == folder_id)).all()  # expect: DBC501
    if more:
        docs += collect(session, request.args["also"], False)
    return docs
def collect_route(session, user, folder_id):
    folder = session.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user.id)).one()
    return collect(session, folder.id, True)
''',
        # A permission tested without stopping the function, or one made for no row, checks
        # nothing; a tuple's row loaded unscoped is reported where it is loaded.
        {**_APPS, "example.py": _APPS["example.py"] + '''
def image_unchecked(image_id):
    return Image.query.filter_by(id=image_id).first_or_404()  # expect: DBC501
def image_checked_loosely(image_id):
    image = Image.query.filter_by(id=image_id).first_or_404()  # expect: DBC501
    if ViewApplicationPermission(image.application_id).can():
        image.seen = True
    return image
def image_granted_blanket(image_id):
    image = Image.query.filter_by(id=image_id).first_or_404()  # expect: DBC501
    if not Permission(("view-images",)).can():
        abort(403)
    return image
def loose(org_slug, app_id):
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    application = Application.query.filter_by(id=app_id).first_or_404()  # expect: DBC501
    return organization, application
def images_of(org_slug, app_id):
    organization, application = loose(org_slug, app_id)
    return Image.query.filter_by(application_id=application.id).all()
def images_of_project(project_id):
    project = Project.query.filter_by(id=project_id).first_or_404()  # expect: DBC501
    return [Image.query.filter_by(application_id=a.id).all() for a in project.active_applications]  # expect: DBC501
def postgres_by_slug(slug):
    return PostgresResource.query.filter_by(slug=slug).first_or_404()  # expect: DBC501
def images_and_more(org_slug, project_slug, extra_id):
    # a list of held ids that something else was added to
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    app_ids = []
    for a in project.active_applications:
        app_ids.append(a.id)
    app_ids.append(extra_id)
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # expect: DBC501
def images_extended(org_slug, project_slug, extra_ids):
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    app_ids = [a.id for a in project.applications]
    app_ids.extend(extra_ids)
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # expect: DBC501
def organization_images_unchecked(org_slug):
    # an organization looked up by its slug may be anyone's
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    app_ids = [a.id for p in organization.active_projects for a in p.active_applications]
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # expect: DBC501
def either_image(src_id, dst_id):
    # either permission lets the function go on: neither row is checked by itself
    src = Image.query.filter_by(id=src_id).first_or_404()  # expect: DBC501
    dst = Image.query.filter_by(id=dst_id).first_or_404()  # expect: DBC501
    if not (ViewApplicationPermission(src.application_id).can() or ViewApplicationPermission(dst.application_id).can()):
        abort(403)
    return src, dst
def images_plus_request(org_slug, project_slug, extra_ids):
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    project = Project.query.filter_by(organization_id=organization.id, slug=project_slug).first_or_404()
    app_ids = []
    for a in project.applications:
        app_ids.append(a.id)
    app_ids += extra_ids
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # expect: DBC501
def organization_rebound(org_slug, other_slug):
    # the name checked, then bound to another organization
    organization = Organization.query.filter_by(slug=org_slug).first_or_404()
    if not ViewOrganizationPermission(organization.id).can():
        abort(403)
    organization = Organization.query.filter_by(slug=other_slug).first_or_404()
    app_ids = [a.id for p in organization.active_projects for a in p.active_applications]
    return Image.query.filter(Image.application_id.in_(app_ids)).all()  # expect: DBC501
'''},
        # The check covers the row it was asked of, and only when it raises: a second row
        # loaded after it, or a check that answers without raising, checks nothing.
        {**_HOUSEHOLDS, "example.py": _HOUSEHOLDS["example.py"] + '''
def merge_categories(id, other_id):
    category = Category.find_by_id(id)  # ok: DBC501
    category.checkAuthorized()
    other = Category.find_by_id(other_id)  # expect: DBC501
    return category, other
def peek_category(id):
    category = Category.find_by_id(id)  # expect: DBC501
    category.check_access_quietly()
    return category
def merge_route(id, other_id):
    # a model method that returns early for another household's row stops itself only
    category = Category.find_by_id(id)
    category.checkAuthorized()
    other = Category.find_by_id(other_id)  # expect: DBC501
    category.merge_into(other)
    return other
def authorize_for_writes(id):
    # a check that raises only for writes lets reads through
    category = Category.find_by_id(id)  # expect: DBC501
    category.authorize_writes()
    return category
'''},
        # The query class's own method is what runs: one that leaves the project out is
        # unscoped; the project compared on an unjoined table does not scope (I Hate
        # Money's reactivate()).
        {**_BUDGETS, "example.py": _BUDGETS["example.py"] + '''
def reactivate(member_id):
    return Person.query.filter(Person.id == member_id).filter(Project.id == g.project.id).first()  # expect: DBC501
def member_named(name):
    return Person.get_or_create(name=name, project=g.project)
def anyone_named(name):
    return Person.get_or_create(name=name)  # expect: DBC501
'''},
        # Ids the user asked for that are not among theirs; a LEFT JOIN to a subquery of
        # counts keeps every user's apps.
        {**_MEMORIES, "example.py": _MEMORIES["example.py"] + '''
def others(db, user, requested_ids):
    mine = [m.id for m in db.query(Memory).filter(Memory.user_id == user.id).all()]
    for memory_id in [i for i in requested_ids if i not in mine]:
        db.query(Memory).filter(Memory.id == memory_id).first()  # expect: DBC501
def list_apps(db):
    counts = db.query(Memory.app_id, func.count(Memory.id).label("n")).group_by(Memory.app_id).subquery()
    query = db.query(App, func.coalesce(counts.c.n, 0)).outerjoin(counts, App.id == counts.c.app_id)  # expect: DBC501
    return query.all()
'''},
        # The workspace's flag or a label many share does not name one workspace; a class
        # chosen by the request and checked set is a model; a view's override handed ids
        # straight from the request by a mixin's other route.
        {**_HOSTS, "example.py": _HOSTS["example.py"] + '''
def active_host(session, host_id):
    return session.scalars(select(Host).join(Workspace).where(Workspace.active == True, Host.id == host_id)).one()  # expect: DBC501
def labelled(session, label):
    return session.scalars(select(Host).join(Workspace).where(Workspace.label == label)).all()  # expect: DBC501
def parent_of(session, data):
    # old Faraday: a vulnerability's parent looked up by the id in the request
    parent_class = None
    if data["parent_type"] == "Host":
        parent_class = Host
    if not parent_class:
        raise ValueError("unknown parent type")
    return session.query(parent_class).filter_by(id=data["parent"]).first()  # expect: DBC501
class UncheckedDeleteMixin(BulkDeleteMixin):
    def bulk_delete_unchecked(self, session, ids):
        return self._perform_bulk_delete(session, ids)
class HostView(UncheckedDeleteMixin):
    model = Host
    def _perform_bulk_delete(self, session, values):
        session.execute(delete(Host).where(Host.id.in_(values)))  # expect: DBC503
'''},
        # A single-user mode's path that sees every row is the builder's own: reported once,
        # there, not at each caller; a base query no path of which scopes is judged at the
        # callers; a filter dict that holds the owner only when told one is unscoped where
        # the call does not tell it.
        {**_SERVERS, "example.py": _SERVERS["example.py"] + '''
def visible_servers():
    if not config.SERVER_MODE:
        return Server.query  # expect: DBC501
    return Server.query.filter(or_(Server.user_id == current_user.id, Server.shared))
def group_nodes(group_id):
    return visible_servers().filter(Server.group_id == group_id).all()  # ok: DBC501
def all_servers():
    return Server.query
def every_group_node(group_id):
    return all_servers().filter(Server.group_id == group_id).all()  # expect: DBC501
def shared_copies(pid, user_id=None):
    filters = dict(pid=pid)
    if user_id is not None:
        filters["user_id"] = user_id
    return Process.query.filter_by(**filters).all()
def unshare(pid):
    # pgAdmin's delete_shared_server: without a user, every user's copies
    return shared_copies(pid)  # expect: DBC501
def unshare_mine(pid):
    return shared_copies(pid, current_user.id)
def groups_with_shared_servers():
    shared = db.session.query(Server.id).filter(Server.group_id == ServerGroup.id, Server.shared).exists()
    return ServerGroup.query.filter(shared).all()  # expect: DBC501
'''},
        {**_HELPERS_BASE, "example.py": _HELPERS_BASE["example.py"] + '''
def enabled_rules(session):
    return session.execute(select(Rule)).scalars().all()  # expect: DBC501
'''},
        # A customer's id from the request is anyone's customer: the merchant's orders
        # by it are not the signed-in organization's.
        {**_PORTAL, "example.py": _PORTAL["example.py"] + '''
def orders_of(session, customer_id):
    return session.scalars(select(Order).where(Order.customer_id == customer_id)).all()  # expect: DBC501
def customer_orders(session, customer_id: str):
    return orders_of(session, customer_id)
def meters_of(session, customer_id: str):
    statement = select(CustomerMeter).join(CustomerMeter.meter).where(CustomerMeter.customer_id == customer_id)  # expect: DBC501
    return session.scalars(statement).all()
'''},
        # A comment by the id of a task nobody loaded for this user: another user's.
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def on_task(session, task_id):
    return session.scalars(select(Comment).where(Comment.task_id == task_id)).all()  # expect: DBC501
def on_assigned(session, user):
    return session.scalars(select(Comment).join(Task).where(Task.project_id == 3)).all()  # expect: DBC501
def through_has(session):
    return session.scalars(select(Comment).where(Comment.task.has(Task.project_id == 3))).all()  # expect: DBC501
def in_project(project_id):
    return Task.project_id == project_id
def project_tasks(session, project_id):
    return session.scalars(select(Task).where(in_project(project_id) & (Task.id > 0))).all()  # expect: DBC501
def checked_elsewhere(session, comment_id, user):
    comment = session.scalars(select(Comment).where(Comment.id == comment_id)).first()  # expect: DBC501
    print(comment.task.user_id == user.id)
    return comment
'''},
        # What the same service leaks: a child read by an id nobody checked, a helper's
        # unscoped lookup at the calls that neither scope nor check it (named in the
        # message; through a module-level repository and a typed application object), an
        # optional scope a caller leaves out, and an unknown filter term, which cannot
        # scope a query by itself.
        {
            "pyproject.toml": _ORG_CONFIG,
            "app/__init__.py": "",
            "app/models.py": _ORG_MODELS,
            "app/repos.py": '''
from sqlalchemy import select
from app.models import Agent, Message
class AgentTable:
    def get_by_id(self, session, agent_id):
        return session.scalars(select(Agent).where(Agent.id == agent_id)).first()
Agents = AgentTable()
class MessageRepository:
    def list(self, session, agent_id, actor=None):
        stmt = select(Message).where(Message.agent_id == agent_id)
        if actor:
            stmt = stmt.where(Message.organization_id == actor.organization_id)
        return session.scalars(stmt).all()
class AgentRepository:
    def __init__(self, session, organization_id=None, name=None):
        self.session = session
        self.organization_id = organization_id
        self.name = name
    def empty(self):
        # what the object was built for is never applied here (mealie's get_empty())
        return self.session.scalars(select(Agent).where(Agent.name == "")).all()  # expect: DBC501
    def named(self):
        stmt = select(Agent)  # expect: DBC501
        if self.name:  # not who asks: the repository's own filter
            stmt = stmt.where(Agent.name == self.name)
        return self.session.scalars(stmt).all()
class Database:
    def __init__(self):
        self.messages = MessageRepository()
class Server:
    database: Database
''',
            "app/state.py": '''
import typing
if typing.TYPE_CHECKING:
    from app.repos import Server
if typing.TYPE_CHECKING:
    server: Server
else:
    server = None  # set when the application starts
''',
            "app/views.py": '''
from sqlalchemy import select, text
from app.models import Agent, Message
from app.repos import Agents
from app.state import server
def messages_unchecked(session, agent_id):
    return session.scalars(select(Message).where(Message.agent_id == agent_id)).all()  # expect: DBC501
def show(session, agent_id, actor):
    agent = Agents.get_by_id(session, agent_id)  # ok: DBC501
    if agent is None or agent.organization_id != actor.organization_id:
        raise PermissionError()
    return agent
def rename(session, agent_id, name):
    agent = Agents.get_by_id(session, agent_id)  # expect: DBC501
    agent.name = name
def messages_for(session, agent_id, actor):
    return server.database.messages.list(session, agent_id, actor=actor)  # ok: DBC501
def all_messages(session, agent_id):
    return server.database.messages.list(session, agent_id)  # expect: DBC501
def no_actor(session, agent_id):
    return server.database.messages.list(session, agent_id, actor=None)  # expect: DBC501
def search(session, actor, raw):
    stmt = select(Agent)  # expect: DBC501
    if raw:
        stmt = stmt.where(text(raw))
    return session.scalars(stmt).all()
def by_name(session, name):
    filters = [Agent.name == name]
    return session.query(Agent).filter(*filters).all()  # expect: DBC501
def get_or_create(session, model, **kwargs):
    query = select(model)
    for key, value in kwargs.items():
        query = query.where(getattr(model, key) == value)
    return session.scalars(query).first() or model(**kwargs)
class Repository:
    def __init__(self, session, model):
        self.session = session
        self.model = model
    def by_ids(self, ids):
        return self.session.scalars(select(self.model).where(self.model.id.in_(ids))).all()
agents = Repository(None, Agent)
def agents_by_id(ids):
    return agents.by_ids(ids)  # expect: DBC501
class Repositories:
    def __init__(self, session):
        self.session = session
    @property
    def agents(self):
        return Repository(self.session, Agent)
class AgentController:
    session = None
    @property
    def repos(self):
        return Repositories(self.session)
    def delete_many(self, ids):
        return self.repos.agents.by_ids(ids)  # expect: DBC501
class AgentService:
    def __init__(self, repos: Repositories):
        self.agents = repos.agents
    def remove(self, ids):
        return self.agents.by_ids(ids)  # expect: DBC501
def agent_called(session, name):
    return get_or_create(session, Agent, name=name)  # expect: DBC501
def agent_of_constant_org(session, name):
    return get_or_create(session, Agent, organization_id="demo", name=name)  # expect: DBC501
# A helper reading the children of the id it is given: silent at the calls that hand it
# the id of a row they hold (loaded scoped, or each row of a scoped list); as that says
# nothing of the helper's design, it is reported once, where it is, for the others.
def message_rows(session, *, agent_id):
    return session.scalars(select(Message).where(Message.agent_id == agent_id)).all()  # expect: DBC501
def messages_of_held(session, agent_id, actor):
    agent = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).one()
    return message_rows(session, agent_id=agent.id)  # ok: DBC501
def messages_of_each(session, actor):
    agents = list(session.scalars(select(Agent).where(Agent.organization_id == actor.organization_id)))
    out = []
    for agent in agents:
        out.extend(message_rows(session, agent_id=agent.id))  # ok: DBC501
    return out
def messages_of_any(session, agent_id):
    return message_rows(session, agent_id=agent_id)  # ok: DBC501 (reported at the helper)
''',
        },
        # A session kept by a library (fastapi_sqlalchemy's global ``db.session``) runs
        # queries as any session does (SuperAGI's controllers).
        _MODELS + '''
from fastapi_sqlalchemy import db
def show_task(task_id):
    return db.session.query(Task).filter(Task.id == task_id).first()  # expect: DBC501
def my_task(task_id, user):
    return db.session.query(Task).filter(Task.id == task_id, Task.user_id == user.id).first()  # ok: DBC501
''',
        # An owner check that does not stop the function leaves the query unscoped, and
        # so does a helper's whose row one caller checks and another does not.
        _MODELS + '''
def warn_only(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    if task.user_id != user.id:
        print("not yours")
    return task
# A lookup helper the project calls is judged at each call: the one that checks the
# row it gets back is silent, the one that hands it on unchecked is reported, naming it.
def load_task(session, task_id):
    return session.query(Task).filter_by(id=task_id).first()  # ok: DBC501
def get_task(session, user, task_id):
    task = load_task(session, task_id)
    if task.user_id != user.id:
        raise PermissionError()
    return task
def peek_task(session, task_id):
    return load_task(session, task_id)  # expect: DBC501
def first_of_all(session, user):
    tasks = session.execute(select(Task)).scalars().all()  # expect: DBC501
    if tasks[0].user_id != user.id:
        raise PermissionError()
    return tasks
def claim(session, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    if task.user_id is not None:
        raise PermissionError("already claimed")
    return task
def published(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    if can_edit_task(user, task):
        task.public = True
    return task
def granted(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    add_task_permissions(user, task)
    return task
def taken_over(session, current_user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    set_owner(current_user, task)
    return task
def owner_logged(session, auth, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    log_access(session, auth, task.user_id)
    return task
def who_has_tasks(session):
    # the tenant column alone, but of every row: a listing of the tenants, not a check
    return session.scalars(select(Task.user_id).where(Task.project_id > 0)).all()  # expect: DBC501
def unowned_projects_skipped(session, user):
    out = []
    for task in session.scalars(select(Task)).all():  # expect: DBC501
        project = task.project
        if project.user_id is None:  # says the project has an owner, not whose it is
            continue
        out.append(task)
    return out
def owners_listed(session, auth, task_ids):
    tasks = session.scalars(select(Task).where(Task.id.in_(task_ids))).all()  # expect: DBC501
    for owner in {task.user_id for task in tasks}:
        log_access(session, auth, owner)
    return tasks
def owner_tested_not_stopped(session, auth, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    allowed = check_permission(session, auth, task.user_id, "tasks:read")
    return task
def asserted(session, user, task_id):
    task = session.query(Task).filter_by(id=task_id).first()  # expect: DBC501
    assert task.user_id == user.id  # gone under python -O
    return task
def checked_then_listed(session, user, task_id):
    tasks = session.query(Task)  # expect: DBC501
    task = tasks.filter_by(id=task_id).first()
    if task is None or task.user_id != user.id:
        raise PermissionError()
    return tasks.all()
''',
        # A repository whose helpers hand the statement on before one runs it (fief's
        # get_one_or_none -> _execute_query -> session.execute).
        _MODELS + '''
class BaseRepository:
    def __init__(self, session):
        self.session = session
    async def get_one_or_none(self, statement):
        result = await self._execute_query(statement)
        return result.scalar_one_or_none()
    async def _execute_query(self, statement):
        return await self.session.execute(statement)
class TaskRepository(BaseRepository):
    async def by_title(self, title):
        return await self.get_one_or_none(select(Task).where(Task.title == title))  # expect: DBC501
    async def mine_by_title(self, user, title):
        return await self.get_one_or_none(select(Task).where(Task.title == title, Task.user_id == user.id))  # ok: DBC501
''',
        # A mixin's classmethod queries whatever class it is called on (JupyterHub's
        # Expiring.purge_expired): judged at each call, where the class is known.
        '''
from sqlalchemy import Column, DateTime, ForeignKey, Integer, func, select
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class Expiring:
    @classmethod
    def purge_expired(cls, db):
        for row in db.query(cls).filter(cls.expires_at < func.now()):
            db.delete(row)
    @classmethod
    def mine(cls, db, user):
        return db.query(cls).filter(cls.user_id == user.id).all()
    @classmethod
    def live(cls, db):
        return db.scalars(select(cls).where(cls.expires_at > func.now())).all()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
class Token(Expiring, Base):
    __tablename__ = "tokens"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    expires_at = Column(DateTime, index=True)
class Region(Expiring, Base):
    __tablename__ = "regions"
    id = Column(Integer, primary_key=True)
    expires_at = Column(DateTime, index=True)
def cleanup(db, user):
    Token.purge_expired(db)  # expect: DBC501
    Region.purge_expired(db)  # ok: DBC501
    Token.live(db)  # expect: DBC501
    return Token.mine(db, user)  # ok: DBC501
''',
        _WATCHLIST + '''
def who_watches(session, item_id):
    return session.execute(select(watchlist).where(watchlist.c.item_id == item_id)).all()  # expect: DBC501
def watcher_ids(session, item_id):
    return session.scalars(select(watchlist.c.user_id).where(watchlist.c.item_id == item_id)).all()  # expect: DBC501
def my_watchlist(session, user):
    return session.execute(select(watchlist).where(watchlist.c.user_id == user.id)).all()  # ok: DBC501
''',
        _MODELS + '''
def everything(session):
    return session.scalars(select(Task)).all()  # expect: DBC501

def conditional(session, user, mine):
    stmt = select(Task)  # expect: DBC501
    if mine:
        stmt = stmt.where(Task.user_id == user.id)
    return session.scalars(stmt).all()

def constant(session):
    return session.scalars(select(Task).where(Task.user_id == 1)).all()  # expect: DBC501

def either(session, kind):
    cls_ = Task if kind == "task" else Project
    return session.scalars(select(cls_)).all()  # expect: DBC501

def either_listed(session, kind):
    if kind == "task":
        cls_ = Task
    else:
        cls_ = Project
    return session.query(cls_).all()  # expect: DBC501

def either_mine(session, user, kind):
    cls_ = Task if kind == "task" else Project
    return session.scalars(select(cls_).where(cls_.user_id == user.id)).all()  # ok: DBC501

def half_or(session, user):
    stmt = select(Task).where(or_(Task.user_id == user.id, Task.id < 10))  # expect: DBC501
    return session.scalars(stmt).all()

def legacy(session, project_id):
    return session.query(Task).filter(Task.project_id == project_id).all()  # expect: DBC501

def orphans(session):
    return session.scalars(select(Task).where(~Task.project.has())).all()  # expect: DBC501

# A helper with an admin path of its own: reported once, at its query, not at every caller.
def load_task(session, task_id, user):
    stmt = select(Task).where(Task.id == task_id)  # expect: DBC501
    if user is not None and not user.is_admin:
        stmt = stmt.where(Task.user_id == user.id)
    return session.scalar(stmt)

def endpoint(session, task_id, user):
    return load_task(session, task_id, user)

def outer(session, task_id, user):
    return endpoint(session, task_id, user)
''',
        # A model imported inside the function (to break an import cycle).
        {
            "web/__init__.py": "",
            "web/models.py": _MODELS,
            "web/jobs.py": '''
from sqlalchemy import select
def export_titles(session):
    from web.models import Task
    return [t.title for t in session.scalars(select(Task))]  # expect: DBC501
def export_counts(session, user):
    import web.models
    return session.scalars(select(web.models.Task).where(web.models.Task.user_id == user.id)).all()  # ok: DBC501
''',
        },
        # Classes mapped imperatively to a Table (CKAN's style).
        {
            "models.py": '''
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text
from sqlalchemy.orm import registry
metadata = MetaData()
mapper_registry = registry(metadata=metadata)
users = Table("users", metadata, Column("id", Integer, primary_key=True))
notes = Table("notes", metadata, Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("body", Text))
class User:
    pass
class Note:
    pass
mapper_registry.map_imperatively(User, users)
mapper_registry.map_imperatively(Note, notes)
''',
            "views.py": '''
from models import Note
def everything(session):
    return session.query(Note).all()  # expect: DBC501
def mine(session, user):
    return session.query(Note).filter(Note.user_id == user.id).all()  # ok: DBC501
''',
        },
        # Flask-SQLAlchemy models that query themselves.
        _FLASK_REPORTS + '''
    team_id = db.Column(db.Integer, nullable=False, index=True)
    @classmethod
    def get_by_id(cls, report_id):
        return cls.query.filter(cls.id == report_id).one()  # expect: DBC501
    @classmethod
    def of_team(cls, team_id):
        return Report.query.filter(Report.team_id == team_id)
def team_reports(team_id):
    return [r.id for r in Report.of_team(team_id)]  # expect: DBC501
def refresh_all():
    for report in Report.query:  # expect: DBC501
        report.refresh()
def ranked(team_id):
    return list(enumerate(sorted(Report.query.filter(Report.team_id == team_id), key=len)))  # expect: DBC501
def status():
    return {"reports": Report.query.count()}  # expect: DBC501
def titles(rows):
    return [row.title for row in rows]
def team_titles(team_id):
    return titles(Report.query.filter(Report.team_id == team_id))  # expect: DBC501
def team_count(team_id):
    return db.session.scalar(db.select(db.func.count(Report.id)).where(Report.team_id == team_id))  # expect: DBC501
def every_title():
    for report in Report.query:  # expect: DBC501
        yield report.title
def index_page():
    return list(every_title())
''',
        # The application's model is the one queries are judged by, not a revision's
        # frozen copy of it (which has no user_id).
        {
            "web/__init__.py": "",
            "web/models.py": '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str]
''',
            "web/views.py": '''
from sqlalchemy import select
from web.models import Task
def search(session, title):
    return session.scalars(select(Task).where(Task.title == title)).all()  # expect: DBC501
''',
            "alembic/versions/c3_strip_titles.py": '''
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base
revision = "c3"
down_revision = "b2"
Base = declarative_base()
class Task(Base):
    __tablename__ = "tasks"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String)
def upgrade():
    pass
def downgrade():
    pass
''',
        },
        # Queries that run only from a loop's second iteration.
        _MODELS + '''
def pages(session, user, count):
    stmt = None
    for page in range(count):
        if stmt is not None:
            session.execute(stmt)
        stmt = select(Task).offset(page * 50)  # expect: DBC501

def drain(session, user):
    stmt = select(Task).where(Task.user_id == user.id)  # ok: DBC501
    while True:
        rows = session.scalars(stmt).all()
        if not rows:
            break
        stmt = select(Project)  # expect: DBC501

def nested(session, groups):
    stmt = None
    for group in groups:
        for task_id in group:
            if stmt is not None:
                session.execute(stmt)
            stmt = select(Task).where(Task.id == task_id)  # expect: DBC501

def after_the_loop(session, user, ids):
    for task_id in ids:
        stmt = select(Task).where(Task.id == task_id)  # expect: DBC501
        if task_id < 0:
            break
    else:
        stmt = select(Task).where(Task.user_id == user.id)  # ok: DBC501
    return session.scalars(stmt).all()
''',
        _SHELVES + '''
def public_shelves(session):
    # other users' shelves (the published ones): cross-tenant on purpose, a noqa says so
    return session.scalars(select(Shelf).where(Shelf.is_public)).all()  # expect: DBC501
def private_shelves(session):
    return session.scalars(select(Shelf).where(or_(Shelf.is_public == False, Shelf.user_id == current_user.id))).all()  # expect: DBC501
def check_shelf_exists(shelf):
    if shelf is None:
        return False
    return True
def rename_any_shelf(session, shelf_id, name):
    shelf = session.scalars(select(Shelf).where(Shelf.id == shelf_id)).first()  # expect: DBC501
    if not check_shelf_exists(shelf):
        abort(404)
    shelf.name = name
def archive_helper(session, shelf):
    session.delete(shelf)
    return check_shelf_edit_permissions(shelf)
def archive(session, shelf_id):
    shelf = session.scalars(select(Shelf).where(Shelf.id == shelf_id)).first()  # expect: DBC501
    archive_helper(session, shelf)
''',
        _LINKS + '''
def tags_of_any(session, task_id):
    return session.scalars(select(Tag).join(task_tags).where(task_tags.c.task_id == task_id)).all()  # expect: DBC501
def whom_i_blocked(session, current_user):
    # the rows of the people I blocked: keyed to me by a key that is not the tenant column
    stmt = select(User).join(Block, User.id == Block.user_id).where(Block.by_user_id == current_user.id)  # expect: DBC501
    return session.scalars(stmt).all()
def delete_task_by(session, task_id):
    task = session.scalars(select(Task).filter_by(id=int(task_id))).one()  # expect: DBC501
    session.delete(task)
def clear_given(session, task_id):
    delete_task_by(session, str(task_id))
''',
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def their_comments(request, session):
    return session.scalars(select(Comment).where(Comment.author_id == int(request.query_params["author"]))).all()  # expect: DBC501
'''},
        # A DAO behind an abstract interface (agenta's ``TriggersDAOInterface(ABC)``): the
        # service's call runs the one implementation, and a filter added only when told
        # the owner is judged at the call that does not tell it.
        _MODELS + '''
from abc import ABC, abstractmethod
class TaskDAOInterface(ABC):
    @abstractmethod
    def active(self, user_id=None): ...
class TaskDAO(TaskDAOInterface):
    def __init__(self, session):
        self.session = session
    def active(self, user_id=None):
        stmt = select(Task)
        if user_id is not None:
            stmt = stmt.where(Task.user_id == user_id)
        return self.session.scalars(stmt).all()
class TaskService:
    def __init__(self, dao: TaskDAOInterface):
        self.dao = dao
    def refresh(self):
        return self.dao.active()  # expect: DBC501
    def mine(self, user):
        return self.dao.active(user_id=user.id)
''',
        _CAN_VIEW + '''def get_task(auth_user_id, task_id):
    task = Task.query.filter_by(id=task_id).first()  # expect: DBC501
    error, code = can_view_task(auth_user_id, task.user_id)
    if error:
        print("viewed by another user", code)
    return task, 200
''',
        _REFRESHER.replace("# LABEL", "# expect: DBC501") + '''    def refresh(self):
        filters = [Task.id != None]
        return self._get(filters)
''',
        # Two rows' owners compared with each other check neither against who asks (lemur's
        # is_duplicate(matching_cert, candidate)).
        _MODELS + '''
def same_owner(task, other):
    if task.user_id != other.user_id:
        return False
    return True
def merge(session, task_id, other):
    task = session.scalars(select(Task).where(Task.id == task_id)).first()  # expect: DBC501
    if not same_owner(task, other):
        return None
    return task
''',
        # One statement built one way or another and run once: one finding, where it runs
        # (FitTrackee's refresh: ``Workout.query``, joined only ``if self.username``).
        _MODELS + '''
def refresh_all(session, only_active=False):
    query = Task.query
    if only_active:
        query = query.join(Project).filter(Project.id > 0)
    return query.filter(Task.id > 0).all()  # expect: DBC501
''',
        _INJECTED.replace("# LABEL", "# expect: DBC501") + '''
@router.get("/tasks/{task_id}")
def show(task_id: int, service: TaskServiceDep):
    return service.get_task(task_id)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        yield from unique_places(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[Finding]:
        index, config = ctx.index, ctx.config
        queries = ctx.queries()
        # one finding per place: a call that reaches several tables' unscoped queries
        # (mealie's page_all() resolving category, tag and tool slugs) names them all
        places: dict[tuple, list[tuple[QueryUse, TableModel]]] = {}
        for use, table in _unscoped_once(ctx.reported_uses(queries.scoping_uses), index, config):
            if use.kind != "read" or use.query is None or filtered_by_session(table, ctx.session_filter):
                continue
            places.setdefault((use.path, use.line, use.column), []).append((use, table))
        for found in places.values():
            found.sort(key=lambda pair: (_described(pair[1]), pair[0].via, pair[0].query.note if pair[0].query else ""))
            use, table = found[0]
            others = sorted({_described(t) for _u, t in found[1:]} - {_described(table)})
            described = _described(table) + (f" (and {', '.join(others)})" if others else "")
            column, remedy = _scope_advice(index, config, table)
            assert use.query is not None
            built = f" via {use.via}" if use.via else (f" ({use.query.note})" if use.query.note else "")
            yield self.finding(Location(use.path, use.line, use.column), table=described, built=built,
                               where=_where(use), column=column, remedy=remedy)


class UnscopedGet(Rule):
    code = "DBC502"
    name = "unscoped-get"
    summary = "A primary-key lookup of a tenant-owned row whose owner is never checked in the same function."
    message = ("primary-key lookup of tenant-owned {table}{via}{where} never checks its owner: add 'if {row} is None or "
               "{row}.{key} != <current {key}>: abort(404)', or '# noqa: DBC502 <reason>' if any tenant may read it")
    cwe = "CWE-639: Authorization Bypass Through User-Controlled Key"
    what_it_does = """
Flags `session.get(T, id)`, `T.query.get(id)`, `T.query.get_or_404(id)` and
`db.get_or_404(T, id)` on a tenant-owned table when the function never checks the
owner of the row it loaded: a comparison of its tenant column (or owner relationship)
in an `if` that leaves the function (`raise`, `return`, `abort(...)`), or an `assert`.
A lookup returned to the caller is judged at the caller's call."""
    why_bad = """
`GET /tasks/<id>` that loads the task by its id alone hands any task to anyone who can
guess or enumerate ids. The id in the URL is user-controlled; the owner check is what
makes it safe."""
    known_problems = """
A check delegated to a helper is recognised by the helper's name (`check_owner`,
`authorize`, `ensure_access`, ...) when the loaded row is passed to it, or stored into
what is passed to it (`context["task"] = task`). A request-wide access check handed the
function's own parameters (`check_access("task_delete", context, data_dict)`, as CKAN's
actions do) counts for every lookup of the function: it cannot tell which rows the
check covers."""
    example = """
def show(session, task_id):
    return session.get(Task, task_id)  # DBC502
"""
    use_instead = """
def show(session, task_id, user):
    task = session.get(Task, task_id)
    if task is None or task.user_id != user.id:
        raise NotFound()
    return task
"""
    options = "`tenant-column`, `global-tables`."
    valid = (
        # Mergin's archive task: queued with the id of a version loaded scoped.
        _QUEUED + '''
def request_export(session, user, report_id):
    report = session.scalars(select(Report).where(Report.user_id == user.id, Report.id == report_id)).one()
    export.delay(report.id)  # ok: DBC502
def request_later(session, user, report_id):
    report = session.scalars(select(Report).where(Report.user_id == user.id, Report.id == report_id)).one()
    export.apply_async(args=[report.id], countdown=5)  # ok: DBC502
''',
        # Checked by membership in the tenant's own collection (timesketch's
        # ``if timeline not in sketch.active_timelines: abort(404)``).
        {**_HOSTS, "example.py": _HOSTS["example.py"] + '''
def host_of(session, workspace_name, host_id):
    workspace = session.scalars(select(Workspace).where(Workspace.name == workspace_name)).one()
    host = session.get(Host, host_id)  # ok: DBC502
    if host not in workspace.hosts:
        raise LookupError("not in this workspace")
    return host
class Service(Base):
    __tablename__ = "service"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    host_id = Column(Integer, ForeignKey("host.id", ondelete="CASCADE"), nullable=False, index=True)
    host = relationship(Host)
def service_of(session, workspace_id, host_id, service_id):
    # timesketch: the facet's scenario is the scenario just checked against the sketch
    host = session.get(Host, host_id)  # ok: DBC502
    if host is None or host.workspace_id != workspace_id:
        raise LookupError("no such host here")
    service = session.get(Service, service_id)  # ok: DBC502
    if service is None or not service.host.id == host.id:
        raise LookupError("not this host's")
    return service
'''},
        # The row looked up only to answer whether it is the tenant's.
        _MODELS + '''
def is_my_task(session, user, task_id):
    task = session.get(Task, task_id)  # ok: DBC502
    return bool(task and task.user_id == user.id)
''',
        # A row re-read by the key of one a reader loaded scoped, the reader typed by a
        # Protocol two project classes implement without naming it (skyvern's
        # WorkflowReader): what either implementation hands back.
        {"pyproject.toml": _GROUP_CONFIG, "app/__init__.py": "", "app/models.py": _GROUP_MODELS, "app/lists.py": '''
from typing import Protocol
from app.models import ShoppingList, select
class ListReader(Protocol):
    def get_list(self, session, list_id, group_id): ...
class ListRepository:
    def get_list(self, session, list_id, group_id):
        return session.scalars(select(ShoppingList).where(ShoppingList.id == list_id, ShoppingList.group_id == group_id)).one_or_none()
class ListService:
    def __init__(self, repository: ListRepository):
        self.repository = repository
    def get_list(self, session, list_id, group_id):
        return self.repository.get_list(session, list_id, group_id)
class Renamer:
    def __init__(self, reader: ListReader):
        self._reader = reader
    def rename(self, session, list_id, group_id, name):
        found = self._reader.get_list(session, list_id, group_id)
        if not found:
            return None
        row = session.get(ShoppingList, found.id)  # ok: DBC502
        row.name = name
        return row
'''},
        # An optional id checked against the tenant in one ``if`` and used in another:
        # on the path where it is falsy it looked nothing up (skyvern's folders).
        _MODELS + '''
def move_task(session, user, task_id=None):
    if task_id:
        found = session.scalar(select(Task.id).where(Task.id == task_id, Task.user_id == user.id))
        if found is None:
            raise LookupError(task_id)
    if task_id:
        return session.get(Task, task_id)  # ok: DBC502
''',
        # Action-style handlers (CKAN): the whole request goes to an access check, or the
        # row is stored into the context an owner check is handed.
        _MODELS + '''
def check_access(action, context, data_dict):
    return context["auth"](action, data_dict)
def ensure_owner(context):
    return context["task"].user_id == context["user"].id
def task_delete(session, context, data_dict):
    task = session.get(Task, data_dict["id"])  # ok: DBC502
    check_access("task_delete", context, data_dict)
    session.delete(task)
def task_show(session, context, data_dict):
    task = session.get(Task, data_dict["id"])  # ok: DBC502
    context["task"] = task
    if not ensure_owner(context):
        raise PermissionError()
    return task
''',
        _MODELS + '''
def show(session, task_id, user):
    task = session.get(Task, task_id)  # ok: DBC502
    if task is None or task.user_id != user.id:
        raise LookupError(task_id)
    return task

def show_assert(session, task_id, user):
    task = session.get(Task, task_id)  # ok: DBC502
    assert task.user_id == user.id
    return task

def user_itself(session, user_id):
    return session.get(User, user_id)  # ok: DBC502

def load(session, task_id):
    return session.get(Task, task_id)

def caller_checks(session, task_id, user):
    task = load(session, task_id)  # ok: DBC502
    if task.user_id != user.id:
        raise PermissionError()
    return task
''',
        # A loop that skips the rows that are not the user's checks each one, as a raise does.
        _MODELS + '''
def mark_done(session, user, task_ids):
    for task_id in task_ids:
        task = session.get(Task, task_id)  # ok: DBC502
        if task is None or task.user_id != user.id:
            continue
        task.done = True

def first_foreign(session, user, task_ids):
    while task_ids:
        task = session.get(Task, task_ids.pop())  # ok: DBC502
        if task.user_id != user.id:
            break
        yield task

def nested(session, user, groups):
    for group in groups:
        for task_id in group:
            task = session.get(Task, task_id)  # ok: DBC502
            if task.user_id != user.id:
                continue
            task.done = True
        else:
            session.commit()

def guarded(session, user, task_ids):
    try:
        for task_id in task_ids:
            task = session.get(Task, task_id)  # ok: DBC502
            if task.user_id != user.id:
                continue
            task.done = True
    finally:
        session.commit()
''',
        # A data-access method by a parameter: judged by what its calls hand it (the id a
        # scoped lookup of the same object just found, agenta's domains).
        _MODELS + '''
class TaskDAO:
    def __init__(self, session):
        self.session = session
    def get_by_id(self, task_id, user_id):
        return self.session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user_id)).first()
    def delete(self, task_id):
        task = self.session.get(Task, task_id)  # ok: DBC502
        self.session.delete(task)
def delete_task(session, task_id, user):
    dao = TaskDAO(session)
    if dao.get_by_id(task_id, user.id) is None:
        raise LookupError(task_id)
    dao.delete(task_id)
''',
    )
    invalid = (
        # The request's id queued as it came.
        _QUEUED + '''
def request_export(report_id):
    export.delay(report_id)  # expect: DBC502
def request_chain(session, user, report_id, next_id):
    report = session.scalars(select(Report).where(Report.user_id == user.id, Report.id == report_id)).one()
    export.delay(report.id)
    return chain(export.si(report.id), export.s(next_id))  # expect: DBC502
''',
        # A recursion is judged by its outside callers: a folder looked up by the request's
        # id is reported where it is looked up, not in the walk it is handed to.
        _FOLDERS + '''
def walk(session, folder):
    docs = session.scalars(select(Doc).where(Doc.folder_id == folder.id)).all()
    for child in folder.children:
        docs += walk(session, child)
    return docs
def requested(session, folder_id):
    return walk(session, session.get(Folder, folder_id))  # expect: DBC502
''',
        # Membership in another collection says nothing of whose the row is.
        {**_HOSTS, "example.py": _HOSTS["example.py"] + '''
def host_listed(session, listed, host_id):
    host = session.get(Host, host_id)  # expect: DBC502
    if host not in listed.items:
        raise LookupError("not listed")
    return host
class Service(Base):
    __tablename__ = "service"
    id = Column(Integer, primary_key=True)
    workspace_id = Column(Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True)
    host_id = Column(Integer, ForeignKey("host.id", ondelete="CASCADE"), nullable=False, index=True)
    host = relationship(Host)
def service_of_any_host(session, host_id, service_id):
    host = session.get(Host, host_id)  # expect: DBC502
    service = session.get(Service, service_id)  # expect: DBC502
    if service.host_id != host.id:
        raise LookupError("not this host's")
    return service
'''},
        _MODELS + '''
def move_task(session, user, task_id=None):
    if task_id:
        return session.get(Task, task_id)  # expect: DBC502
''',
        # A lookup by a key of a row already held, or of an id a scoped helper validated
        # (the model's own ``history`` property is in ``_ORG_MODELS``).
        {
            "pyproject.toml": _ORG_CONFIG,
            "app/__init__.py": "",
            "app/models.py": _ORG_MODELS,
            "app/views.py": '''
from sqlalchemy import select
from app.models import Agent, Block, BlockHistory
def current_history(session, block_id, actor):
    block = session.scalars(select(Block).where(Block.id == block_id, Block.organization_id == actor.organization_id)).one()
    return session.get(BlockHistory, block.current_history_id)  # ok: DBC502
def validate_agent_exists(session, agent_id, actor):
    found = session.scalars(select(Agent.id).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).first()
    if found is None:
        raise LookupError(agent_id)
def validated_then_loaded(session, agent_id, actor):
    validate_agent_exists(session, agent_id, actor)
    return session.get(Agent, agent_id)  # ok: DBC502
def _blocks_of(session, actor, name=None):
    filters = {"organization_id": actor.organization_id}
    if name is not None:
        filters["name"] = name
    return session.query(Block).filter_by(**filters).all()
def first_history(session, actor):
    # a row of a list that filter_by(**filters) scoped: its keys are held
    blocks = _blocks_of(session, actor)
    return session.get(BlockHistory, blocks[0].current_history_id)  # ok: DBC502
def first_history_by_key(session, actor):
    kwargs = {}
    kwargs["organization_id"] = actor.organization_id
    block = session.query(Block).filter_by(**kwargs).all()[0]
    return session.get(BlockHistory, block.current_history_id)  # ok: DBC502
def history_of_param(session, history_id):
    return session.get(BlockHistory, history_id)  # expect: DBC502
''',
        },
        # An active-record model whose classmethod does the lookup (CKAN's Package.get).
        '''
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker
Session = scoped_session(sessionmaker())
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
class Doc(Base):
    __tablename__ = "docs"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    @classmethod
    def get(cls, reference):
        return Session.get(cls, reference)
def show(doc_id):
    return Doc.get(doc_id)  # expect: DBC502
def show_logged(doc_id):
    doc = Doc.get(doc_id)  # expect: DBC502
    log_access("show", doc_id)
    return doc
''',
        _MODELS + '''
def show(session, task_id):
    task = session.get(Task, task_id)  # expect: DBC502
    return task

def show_async(session, task_id):
    return session.get(Task, task_id)

async def view(session, task_id):
    return show_async(session, task_id)  # expect: DBC502

def check_without_exit(session, task_id, user):
    task = session.get(Task, task_id)  # expect: DBC502
    if task.user_id != user.id:
        print("not yours")
    return task

def as_schema(session, task_id):
    task = session.get(Task, task_id)  # expect: DBC502
    return TaskOut.model_validate(task)

def refuses_the_owner(session, task_id, user):
    task = session.get(Task, task_id)  # expect: DBC502
    if task.user_id == user.id:
        raise ValueError("the owner cannot leave their own task")
    return task
''',
        # Skipping an iteration on some other condition checks nothing.
        _MODELS + '''
def mark_done(session, user, task_ids):
    for task_id in task_ids:
        task = session.get(Task, task_id)  # expect: DBC502
        if task is None:
            continue
        task.done = True

def skips_the_owner(session, user, task_ids):
    for task_id in task_ids:
        task = session.get(Task, task_id)  # expect: DBC502
        if task.user_id == user.id:
            continue
        task.done = True
''',
        # A data-access method by a parameter: judged by what its calls hand it (the id a
        # scoped lookup of the same object just found, agenta's domains).
        _MODELS + '''
class TaskDAO:
    def __init__(self, session):
        self.session = session
    def get_by_id(self, task_id, user_id):
        return self.session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user_id)).first()
    def delete(self, task_id):
        task = self.session.get(Task, task_id)  # expect: DBC502
        self.session.delete(task)
def delete_task(session, task_id, user):
    dao = TaskDAO(session)
    if dao.get_by_id(task_id, user.id) is None:
        raise LookupError(task_id)
    dao.delete(task_id)
''' + '''
def purge(session, task_id):
    TaskDAO(session).delete(task_id)
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        yield from unique_places(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[Finding]:
        index, config = ctx.index, ctx.config
        queries = ctx.queries()
        for use in ctx.reported_uses(queries.unchecked_gets):
            table = tenant_owned(index, config, use.get.table) if use.get is not None else None
            if table is None or filtered_by_session(table, ctx.session_filter):
                continue
            column = _tenant_attribute(table, config)
            via = f" via {use.get.via}" if use.get is not None and use.get.via else ""
            yield self.finding(Location(use.path, use.line, use.column), table=_label(table), where=_where(use),
                               row=(table.class_name or "row").lower(), key=column, via=via)


class UnscopedWrite(Rule):
    code = "DBC503"
    name = "unscoped-write"
    summary = "An `update(T)` / `delete(T)` / `query(T)....update()` / `.delete()` of a tenant-owned table not filtered by the tenant column."
    message = ("{kind} of tenant-owned {table}{where} is not filtered by {column}: add {remedy}, "
               "or '# noqa: DBC503 <reason>' if it is cross-tenant on purpose")
    cwe = "CWE-639: Authorization Bypass Through User-Controlled Key"
    what_it_does = """
Flags a bulk `update(T)` / `delete(T)` statement, or a legacy `query(T)....update()` /
`.delete()`, on a tenant-owned table (as DBC501 counts them: owned through a parent too)
that is not filtered by the tenant column - or, for a table owned through a parent, by
that parent - on every path to where it runs. `insert()` and `session.delete(obj)` are not bulk writes."""
    why_bad = """
`UPDATE tasks SET done = true WHERE id = :id` without `AND user_id = :me` lets any user
change any tenant's rows by id; without any filter it changes every tenant's rows."""
    known_problems = "Maintenance jobs that write across tenants on purpose need `# noqa: DBC503 <reason>`."
    example = """
session.execute(delete(Task).where(Task.id == task_id))  # DBC503
"""
    use_instead = """
session.execute(delete(Task).where(Task.id == task_id, Task.user_id == user.id))
"""
    options = "`tenant-column`, `global-tables`, `scope-helpers`, `owned-through`, `inherited-scoping`."
    valid = (
        # A primary key beside the tenant column (Memobase's ``PrimaryKeyConstraint("id",
        # "project_id")``): the key of a row, within its tenant.
        {**_KEYED_PROJECTS, "example.py": _KEYED_PROJECTS["example.py"] + '''
class Buffer(Base):
    __tablename__ = "buffers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id", ondelete="CASCADE"), index=True)
    status: Mapped[str]
    __table_args__ = (PrimaryKeyConstraint("id", "project_id"),)
def flush(session, project_id):
    rows = session.query(Buffer.id).filter(Buffer.project_id == project_id, Buffer.status == "idle").all()
    ids = [row.id for row in rows]
    session.query(Buffer).filter(Buffer.id.in_(ids)).update({Buffer.status: "done"})  # ok: DBC503
'''},
        # Ids of rows a scoped query selected under a label (Memobase's buffer flush:
        # ``T.id.label("buffer_id")``, then ``row.buffer_id``).
        _MODELS + '''
def mark_done(session, user, ids):
    rows = session.query(Task.id.label("task_id"), Task.title).filter(Task.user_id == user.id, Task.id.in_(ids)).all()
    done = [row.task_id for row in rows]
    session.query(Task).filter(Task.id.in_(done)).update({Task.title: "done"})  # ok: DBC503
''',
        # A delete restricted to the ids of a scoped CTE.
        _MODELS + '''
def purge_mine(session, user):
    candidates = select(Task.id.label("id")).where(Task.user_id == user.id).cte("candidates")
    session.execute(delete(Task).where(Task.id.in_(select(candidates.c.id))))  # ok: DBC503
''',
        _GROUP_VALID,
        # The tenant term in a list a helper returns, spread into and_() (skyvern's
        # "still matches the snapshot" writes).
        _MODELS + '''
def _same_task(task):
    return [Task.user_id == task.user_id, Task.id == task.id, same_value(Task.project_id, task.project_id)]
def same_value(column, value):
    return column == value
def close_if_unchanged(session, task):
    session.execute(update(Task).where(and_(*_same_task(task), Task.id > 0)).values(project_id=None))  # ok: DBC503
''',
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def edit_mine(session, comment_id, user, body):
    session.execute(update(Comment).where(Comment.id == comment_id, Comment.author_id == user.id).values(body=body))  # ok: DBC503
def clear_task(session, task_id, user):
    task = session.scalars(select(Task).where(Task.id == task_id, Task.user_id == user.id)).one()
    session.execute(delete(Comment).where(Comment.task_id == task.id))  # ok: DBC503
def clear_mine(session, user):
    session.query(Comment).filter(Comment.task.has(Task.user_id == user.id)).delete()  # ok: DBC503
'''},
        _MODELS + '''
def archive(session, task_id, user):
    session.execute(update(Task).where(Task.id == task_id, Task.user_id == user.id).values(done=True))  # ok: DBC503

def purge(session, user):
    session.query(Task).filter(Task.user_id == user.id).delete()  # ok: DBC503

def remove_one(session, task):
    session.delete(task)  # ok: DBC503
''',
        # A helper's write by an id is scoped when every way the project reaches it hands
        # it the id of a row held (however many calls up); rows collected from a scoped
        # select keep their ids held.
        {
            "pyproject.toml": _ORG_CONFIG,
            "app/__init__.py": "",
            "app/models.py": _ORG_MODELS,
            "app/views.py": '''
from sqlalchemy import delete, select
from app.models import Agent, Message
class MessageStore:
    def purge(self, session, agent_id):
        session.execute(delete(Message).where(Message.agent_id == agent_id))  # ok: DBC503
class AgentService:
    def __init__(self):
        self.store = MessageStore()
    def reset(self, session, agent_id):
        self.store.purge(session, agent_id)  # ok: DBC503
def reset_agent(session, agent_id, actor):
    agent = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).one()
    AgentService().reset(session, agent.id)
def prune_unnamed(session, actor):
    unnamed = []
    for agent in session.scalars(select(Agent).where(Agent.organization_id == actor.organization_id)).all():
        if not agent.name:
            unnamed.append(agent)
    for agent in unnamed:
        session.execute(delete(Agent).where(Agent.id == agent.id))  # ok: DBC503
def _new_agent(session, actor):
    try:
        agent = Agent(name="draft", organization_id=actor.organization_id)
        session.add(agent)
        session.flush()
        return agent.id
    except ValueError:
        return None
def dropped_either_way(session, actor, agent_id, name):
    target = None
    if agent_id is not None:
        target = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).first()
    if target is None:
        target = session.scalars(select(Agent).where(Agent.name == name, Agent.organization_id == actor.organization_id)).first()
    if target is None:
        return
    session.execute(delete(Agent).where(Agent.id == target.id))  # ok: DBC503
def draft_then_dropped(session, actor):
    draft_id = _new_agent(session, actor)
    if draft_id is not None:
        session.execute(delete(Agent).where(Agent.id == draft_id))  # ok: DBC503
''',
        },
    )
    invalid = (
        # A number per tenant beside the tenant column (an issue's ``iid``) names a row in
        # every tenant: closing #7 of one project closes #7 everywhere.
        {**_KEYED_PROJECTS, "example.py": _KEYED_PROJECTS["example.py"] + '''
class Issue(Base):
    __tablename__ = "issues"
    iid: Mapped[int]
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id", ondelete="CASCADE"), index=True)
    title: Mapped[str]
    __table_args__ = (PrimaryKeyConstraint("iid", "project_id"),)
def close_issue(session, project_id, iid):
    issue = session.scalars(select(Issue).where(Issue.project_id == project_id, Issue.iid == iid)).one()
    session.execute(update(Issue).where(Issue.iid == issue.iid).values(title="closed"))  # expect: DBC503
'''},
        # Another column under the name of the key is not the row's id.
        _MODELS + '''
def mark_by_project(session, user, project_ids):
    rows = session.query(Task.project_id.label("id")).filter(Task.user_id == user.id, Task.project_id.in_(project_ids))
    session.query(Task).filter(Task.id.in_([r.id for r in rows])).update({Task.title: "done"})  # expect: DBC503
''',
        _MODELS + '''
def purge_project(session, project_id):
    candidates = select(Task.id).where(Task.project_id == project_id).cte()
    session.execute(delete(Task).where(Task.id.in_(select(candidates.c.id))))  # expect: DBC503
''',
        _GROUP_INVALID,
        _MODELS + '''
def _same_id(task):
    return [Task.id == task.id, same_value(Task.project_id, task.project_id)]
def same_value(column, value):
    return column == value
def close_if_unchanged(session, task):
    session.execute(update(Task).where(and_(*_same_id(task), Task.id > 0)).values(project_id=None))  # expect: DBC503
''',
        {"pyproject.toml": _INHERITED, "example.py": _COMMENTS + '''
def edit(session, comment_id, body):
    session.execute(update(Comment).where(Comment.id == comment_id).values(body=body))  # expect: DBC503
'''},
        _MODELS + '''
def archive(session, task_id):
    session.execute(update(Task).where(Task.id == task_id).values(done=True))  # expect: DBC503

def purge(session, project_id):
    session.query(Task).filter(Task.project_id == project_id).delete()  # expect: DBC503

def wipe(session):
    stmt = delete(Task)  # expect: DBC503
    session.execute(stmt)

def purge_listed(session, task_ids):
    chosen = []
    for task_id in task_ids:
        chosen.append(task_id)  # ids as given, not rows held
    for task_id in chosen:
        session.execute(delete(Task).where(Task.id == task_id))  # expect: DBC503

def checked_then_wiped(session, user, task_id):
    tasks = session.query(Task)  # expect: DBC503
    task = tasks.filter_by(id=task_id).first()
    if task is None or task.user_id != user.id:
        raise PermissionError()
    tasks.delete()
''',
        # The same helper reached from a caller that hands it any id: reported once, at
        # the helper (one of its callers up the chain leaves it unscoped).
        {
            "pyproject.toml": _ORG_CONFIG,
            "app/__init__.py": "",
            "app/models.py": _ORG_MODELS,
            "app/views.py": '''
from sqlalchemy import delete, select
from app.models import Agent, Message
class MessageStore:
    def purge(self, session, agent_id):
        session.execute(delete(Message).where(Message.agent_id == agent_id))  # expect: DBC503
class AgentService:
    def __init__(self):
        self.store = MessageStore()
    def reset(self, session, agent_id):
        self.store.purge(session, agent_id)
def reset_agent(session, agent_id, actor):
    agent = session.scalars(select(Agent).where(Agent.id == agent_id, Agent.organization_id == actor.organization_id)).one()
    AgentService().reset(session, agent.id)
def reset_any(session, agent_id):
    AgentService().reset(session, agent_id)
''',
        },
        # A session-wide filter that only rewrites reads leaves bulk writes unscoped.
        {
            "web/__init__.py": "",
            "web/models.py": _MODELS,
            "web/tenancy.py": _SESSION_FILTER,
            "web/views.py": '''
from sqlalchemy import delete
from web.models import Task
def wipe_done(session):
    session.execute(delete(Task).where(Task.project_id.is_(None)))  # expect: DBC503
''',
        },
        # A user's private rows kept in an imperative Table (flaskbb's topictracker).
        _WATCHLIST + '''
def drop_watchers(session, item_id):
    session.execute(delete(watchlist).where(watchlist.c.item_id == item_id))  # expect: DBC503
def unwatch_all(session, item_id):
    session.execute(watchlist.delete().where(watchlist.c.item_id == item_id))  # expect: DBC503
def unwatch(session, user, item_id):
    session.execute(watchlist.delete().where(watchlist.c.item_id == item_id, watchlist.c.user_id == user.id))  # ok: DBC503
''',
    )

    def check(self, ctx: "RuleContext") -> Iterable[Finding]:
        yield from unique_places(self._findings(ctx))

    def _findings(self, ctx: "RuleContext") -> Iterator[Finding]:
        index, config = ctx.index, ctx.config
        queries = ctx.queries()
        for use, table in _unscoped_once(ctx.reported_uses(queries.scoping_uses), index, config):
            if use.kind not in ("update", "delete") or filtered_by_session(table, ctx.session_filter, use.kind):
                continue
            column, remedy = _scope_advice(index, config, table)
            via = f" via {use.via}" if use.via else ""
            yield self.finding(Location(use.path, use.line, use.column), kind=use.kind, table=_described(table),
                               where=via + _where(use), column=column, remedy=remedy)
