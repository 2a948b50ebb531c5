"""Which functions are request handlers and which classes are request input schemas
(``dbcheck.rules.request_input``, read by DBC504 / DBC505)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dbcheck.config import load_config
from dbcheck.engine import build_project
from dbcheck.rules.request_input import RequestInputs

MODELS = '''
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
'''


def _inputs(tmp_path: Path, views: str, config: str = "") -> RequestInputs:
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n" + config)
    (tmp_path / "models.py").write_text(MODELS)
    # a view module that never touches the database is skipped by the prefilter: it
    # writes no row, so neither rule has anything to say about it
    (tmp_path / "views.py").write_text("from sqlalchemy.orm import Session\n" + textwrap.dedent(views))
    cfg = load_config(start=tmp_path)
    index = build_project([tmp_path], cfg)[0]
    return RequestInputs.build(index, cfg)


def _handlers(inputs: RequestInputs) -> set[str]:
    return {qualname.rsplit(".", 1)[-1] for _path, qualname in inputs.handlers}


def test_framework_routes_and_class_views_are_handlers(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, '''
        from fastapi import APIRouter, FastAPI
        from flask import Blueprint
        from flask.views import MethodView
        from flask_pydantic import validate
        router = APIRouter()
        app = FastAPI()
        bp = Blueprint("x", __name__)
        @router.post("/tasks")
        def create(): ...
        @app.get("/")
        def index(): ...
        @bp.route("/t", methods=["POST"])
        def flask_create(): ...
        @validate()
        def validated(): ...
        class Tasks(MethodView):
            def post(self): ...
            def helper(self): ...
        def service(): ...
        @router.post
        def not_called(): ...
    ''')
    assert _handlers(inputs) == {"create", "index", "flask_create", "validated", "post", "not_called"}


def test_request_handlers_setting_names_decorators_and_view_bases(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, '''
        from myframework import api_view, BaseResource
        @api_view
        def decorated(): ...
        class Tasks(BaseResource):
            def get(self): ...
        def plain(): ...
    ''', 'request-handlers = ["api_view", "BaseResource"]\n')
    assert _handlers(inputs) == {"decorated", "get"}


def test_schemas_their_fields_and_which_are_request_inputs(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, '''
        from dataclasses import dataclass
        from fastapi import APIRouter
        from pydantic import BaseModel, Field
        from sqlmodel import SQLModel
        try:
            from marshmallow import Schema, fields
        except ImportError:  # a stand-in the project ships for its tests
            class Schema:
                pass
            class fields:
                Integer = String = object
        router = APIRouter()
        class TaskBase(BaseModel):
            title: str
        class TaskIn(TaskBase):
            user_id: int = Field(alias="userId")
        class TaskOut(BaseModel):
            user_id: int = Field(exclude=True)
        class NoteIn(SQLModel):
            owner_id: int
        class TaskSchema(Schema):
            user_id = fields.Integer(dump_only=True)
            title = fields.String()
        @dataclass
        class Move:
            project_id: int
        @router.post("/tasks")
        def create(body: TaskIn, move: Move): ...
        @router.post("/notes")
        def note(request):
            data = TaskSchema().load(request.json)
    ''')
    schemas = {s.name: s for s in inputs.schemas.values()}
    assert {name: s.kind for name, s in schemas.items()} == {
        "TaskBase": "pydantic", "TaskIn": "pydantic", "TaskOut": "pydantic", "NoteIn": "sqlmodel",
        "TaskSchema": "marshmallow", "Move": "record"}
    assert set(schemas["TaskIn"].fields) == {"title", "user_id"}  # inherited too
    assert schemas["TaskIn"].fields["user_id"].alias == "userId"
    assert schemas["TaskOut"].fields["user_id"].excluded
    assert schemas["TaskSchema"].fields["user_id"].excluded  # dump_only: never loaded
    inputs_named = {inputs.schemas[q].name for q in inputs.inputs}
    assert inputs_named == {"TaskIn", "Move", "TaskSchema"}  # TaskOut and NoteIn are no handler's input
