"""With several tenant columns configured, a finding tells the user to filter by the
column the table has (JupyterHub's share codes carry only ``owner_id``), not by the
first one configured."""

from __future__ import annotations

import textwrap

from dbcheck.config import load_config
from dbcheck.engine import analyze

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, Unicode
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)


class ShareCode(Base):
    __tablename__ = "share_codes"
    id = Column(Integer, primary_key=True)
    owner = Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    prefix = Column(Unicode(16), index=True)


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
'''

VIEWS = '''
from models import Note, ShareCode


def codes_with_prefix(db, prefix):
    return db.query(ShareCode).filter_by(prefix=prefix).all()


def drop_code(db, code_id):
    db.query(ShareCode).filter_by(id=code_id).delete()


def peek(db, code_id):
    return db.get(ShareCode, code_id)


def all_notes(db):
    return db.query(Note).all()
'''


def test_messages_name_the_tenant_column_the_table_has(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.dbcheck]\ntenant-column = ["user_id", "owner_id"]\n')
    (tmp_path / "models.py").write_text(textwrap.dedent(MODELS))
    (tmp_path / "views.py").write_text(textwrap.dedent(VIEWS))
    monkeypatch.chdir(tmp_path)
    result = analyze([tmp_path], load_config(start=tmp_path))
    messages = {(f.code, f.line): f.message for f in result.findings if f.path == "views.py"}
    assert set(messages) == {("DBC501", 6), ("DBC503", 10), ("DBC502", 14), ("DBC501", 18)}
    # the attribute the model maps owner_id to, in the code the user is told to write
    assert "not filtered by ShareCode.owner: add .where(ShareCode.owner == <current owner>)" in messages["DBC501", 6]
    assert "not filtered by ShareCode.owner:" in messages["DBC503", 10]
    assert "row.owner != <current owner>" in messages["DBC502", 14].replace("sharecode.", "row.")
    assert "not filtered by Note.user_id:" in messages["DBC501", 18]
