"""A helper that looks a row up by the id its caller gives is judged at its calls, and
a ``# noqa`` on the helper's own query moves the finding to those calls instead of
silencing them (that call is where real cross-tenant bugs were)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.helpers import run_dbcheck, write_project

MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship()
'''

HELPERS = '''
from sqlalchemy import select

from app.models import Note


def note_by_id(session, note_id):
    return session.scalars(select(Note).where(Note.id == note_id)).first(){noqa}
'''

VIEWS = '''
from flask import abort

from app.helpers import note_by_id


def show_note(session, note_id, user):
    note = note_by_id(session, note_id)
    if note is None or note.user_id != user.id:
        abort(404)
    return note


def leak_note(session, note_id):
    return note_by_id(session, note_id)
'''


def _project(root: Path, noqa: str) -> Path:
    return write_project(root, {"pyproject.toml": '[tool.dbcheck]\nextend-select = ["DBC900"]\n',
                                "app/__init__.py": "", "app/models.py": MODELS,
                                "app/helpers.py": HELPERS.format(noqa=noqa), "app/views.py": VIEWS})


def _tenancy_and_noqa(root: Path) -> list[tuple[str, int, str, str]]:
    result = run_dbcheck([".", "--no-cache", "--format", "json"], cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"], f["message"]) for f in json.loads(result.stdout)
            if f["code"] in ("DBC501", "DBC502", "DBC900")]


def test_the_unchecked_call_is_reported_naming_the_helper(tmp_path: Path) -> None:
    findings = _tenancy_and_noqa(_project(tmp_path, ""))
    assert [(path, line, code) for path, line, code, _ in findings] == [("app/views.py", 15, "DBC501")]
    assert "via note_by_id() (app/helpers.py:8) in leak_note()" in findings[0][3]


def test_a_noqa_on_the_helper_moves_the_finding_to_its_callers(tmp_path: Path) -> None:
    findings = _tenancy_and_noqa(_project(tmp_path, "  # noqa: DBC501 looked up by id; callers check the owner"))
    # the caller that checks stays silent, the one that does not is still reported,
    # and the helper's noqa is in use (no DBC900)
    assert [(path, line, code) for path, line, code, _ in findings] == [("app/views.py", 15, "DBC501")]


CHECKED_HELPER = '''
from pydantic import BaseModel

from app.models import Note


class NoteOut(BaseModel):
    id: int


def set_note(session, note_id, user_id):
    note = session.get(Note, note_id)
    if note is None or note.user_id != user_id or note.id < 0:
        return None
    return NoteOut.model_validate(note)
'''

CHECKED_CALLER = '''
from app.helpers import set_note


def update_note(session, note_id, user):
    return set_note(session, note_id, user.id)
'''


def test_a_lookup_checked_in_the_helper_is_not_judged_again_at_its_calls(tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    (root / "app/helpers.py").write_text(textwrap.dedent(CHECKED_HELPER), encoding="utf-8")
    (root / "app/views.py").write_text(textwrap.dedent(CHECKED_CALLER), encoding="utf-8")
    assert _tenancy_and_noqa(root) == []


NO_FOREIGN_KEYS = '''
from sqlalchemy import Column, String
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Workflow(Base):
    __tablename__ = "workflows"
    workflow_id = Column(String, primary_key=True)
    organization_id = Column(String, nullable=False, index=True)


class WorkflowRun(Base):
    __tablename__ = "workflow_runs"
    workflow_run_id = Column(String, primary_key=True)
    workflow_id = Column(String, nullable=False, index=True)
    organization_id = Column(String, nullable=False, index=True)
'''

RUN_WORKFLOW = '''
from sqlalchemy import select

from app.models import Workflow, WorkflowRun


def run_flags(session, run_id, organization_id):
    run = session.scalars(select(WorkflowRun).where(
        WorkflowRun.workflow_run_id == run_id, WorkflowRun.organization_id == organization_id)).first()
    workflow = session.get(Workflow, run.workflow_id)
    return workflow.workflow_id


def any_workflow(session, workflow_id):
    return session.get(Workflow, workflow_id)


def runs_of(session, workflow_id, organization_id):
    workflow = session.scalars(select(Workflow).where(
        Workflow.workflow_id == workflow_id, Workflow.organization_id == organization_id)).one()
    # the key column has no foreign key: the run rows of the workflow held here
    return session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id)).all()


def runs_of_any(session, workflow_id):
    return session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id)).all()
'''


def test_a_key_named_after_a_tables_primary_key_reaches_that_table(tmp_path: Path) -> None:
    """Schemas without foreign keys: ``run.workflow_id`` is the id of the run's own
    workflow, as scoped as the run; a request's ``workflow_id`` is not."""
    write_project(tmp_path, {
        "pyproject.toml": '[tool.dbcheck]\ntenant-column = "organization_id"\ntenant-table = "organizations"\n',
        "app/__init__.py": "", "app/models.py": NO_FOREIGN_KEYS, "app/views.py": RUN_WORKFLOW})
    assert [(path, line, code) for path, line, code, _ in _tenancy_and_noqa(tmp_path)] == [
        ("app/views.py", 15, "DBC502"), ("app/views.py", 26, "DBC501")]


UP_THE_CHAIN = '''
from sqlalchemy import select

from app.models import Note


def notes_after(session, note_id):
    return session.scalars(select(Note).where(Note.id > note_id)).all()


def note_of(session, note_id):
    return session.scalars(select(Note).where(Note.id == note_id)).first()


def load(session, note_id):
    return note_of(session, note_id)


def mine(session, note_id, user):
    note = session.scalars(select(Note).where(Note.id == note_id, Note.user_id == user.id)).one()
    return load(session, note.id)


def anyones(session, note_id):
    return load(session, note_id)
'''


def test_a_call_is_judged_by_the_callers_above_it(tmp_path: Path) -> None:
    """``load(id)`` calls the helper with its own parameter: the call is scoped when every
    caller of ``load`` hands it a held row's id, and otherwise the helper is reported
    once - not at every call up the chain - naming the helper."""
    views = UP_THE_CHAIN
    write_project(tmp_path, {"pyproject.toml": "[tool.dbcheck]\n", "app/__init__.py": "", "app/models.py": MODELS,
                             "app/views.py": views})
    findings = _tenancy_and_noqa(tmp_path)
    assert [(path, line, code) for path, line, code, _ in findings] == [
        ("app/views.py", 8, "DBC501"), ("app/views.py", 12, "DBC501")]
    # the helper's finding says where the unscoped ids come from, however far up
    assert "in note_of() (called unscoped from anyones())" in findings[1][3]
    # without the caller that hands any id on, the call in load() is scoped from above
    (tmp_path / "app/views.py").write_text(textwrap.dedent(views.split("\n\ndef anyones")[0]) + "\n",
                                           encoding="utf-8")
    found = [(path, line, code) for path, line, code, _ in _tenancy_and_noqa(tmp_path)]
    assert found == [("app/views.py", 8, "DBC501")]
