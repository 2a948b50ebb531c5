"""A project that installs a session-wide tenant filter (a ``do_orm_execute`` listener
adding ``WHERE tenant_id = <current>`` to every ORM read) has its reads scoped by it:
DBC501/DBC502 go quiet on tables with that column, said once on stderr, while bulk
writes the listener leaves alone are still reported."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from dbcheck.facts.listeners import session_filters
from tests.helpers import run_dbcheck, write_project

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenant"
    id = Column(Integer, primary_key=True)


class Flow(Base):
    __tablename__ = "flows"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String)
'''

VIEWS = '''
from sqlalchemy import delete, select

from app.models import Flow


def list_flows(session):
    return session.scalars(select(Flow)).all()


def get_flow(session, flow_id):
    return session.get(Flow, flow_id)


def delete_flows(session, name):
    session.execute(delete(Flow).where(Flow.name == name))
'''

READS_ONLY = '''
from sqlalchemy import event
from sqlalchemy.orm import Session


def _on_execute(state):
    if not state.is_select:
        return
    for table in state.statement.get_final_froms():
        state.statement = state.statement.where(table.c.tenant_id == current_tenant())


event.listen(Session, "do_orm_execute", _on_execute)
'''

EVERY_STATEMENT = '''
from sqlalchemy import event
from sqlalchemy.orm import Session, with_loader_criteria

from app.models import Base


@event.listens_for(Session, "do_orm_execute")
def _scope(state):
    state.statement = state.statement.options(
        with_loader_criteria(Base, lambda cls: cls.tenant_id == current_tenant(), include_aliases=True))
'''

UNRELATED = '''
from sqlalchemy import event
from sqlalchemy.orm import Session


@event.listens_for(Session, "do_orm_execute")
def _log(state):
    if state.is_select:
        log.debug("select %s", state.statement)
'''


def _run(root: Path, listener: str) -> tuple[list[tuple[str, int, str]], str]:
    write_project(root, {"pyproject.toml": '[tool.dbcheck]\ntenant-column = "tenant_id"\ntenant-table = "tenant"\n'
                                           'select = ["DBC5"]\n',
                         "app/__init__.py": "", "app/models.py": MODELS, "app/views.py": VIEWS,
                         "app/tenancy.py": listener})
    result = run_dbcheck([".", "--no-cache", "--format", "json"], cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)], result.stderr


def test_a_listener_filtering_reads_scopes_reads_but_not_bulk_writes(tmp_path: Path) -> None:
    findings, stderr = _run(tmp_path, READS_ONLY)
    assert findings == [("app/views.py", 16, "DBC503")]
    assert "app/tenancy.py:6: a do_orm_execute listener filters reads by tenant_id" in stderr


def test_a_listener_filtering_every_statement_scopes_writes_too(tmp_path: Path) -> None:
    findings, stderr = _run(tmp_path, EVERY_STATEMENT)
    assert findings == []
    assert "filters reads and writes by tenant_id" in stderr


def test_a_listener_that_never_names_the_tenant_column_changes_nothing(tmp_path: Path) -> None:
    findings, stderr = _run(tmp_path, UNRELATED)
    assert findings == [("app/views.py", 8, "DBC501"), ("app/views.py", 12, "DBC502"),
                        ("app/views.py", 16, "DBC503")]
    assert "do_orm_execute" not in stderr


def test_listener_forms_are_read_without_running_anything() -> None:
    assert session_filters("x = 1\n") == []
    assert session_filters("def f(:\n  'do_orm_execute'") == []  # unparsable: nothing, no error
    [(line, names, reads_only)] = session_filters(textwrap.dedent(READS_ONLY))
    assert (line, reads_only) == (6, True) and "tenant_id" in names
    [(line, names, reads_only)] = session_filters(textwrap.dedent(EVERY_STATEMENT))
    assert (line, reads_only) == (9, False) and "tenant_id" in names
