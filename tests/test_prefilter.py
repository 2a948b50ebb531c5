"""Phase 1's prefilter (``dbcheck.facts.collect``): files that cannot matter are only
syntax-checked, and must never hide a finding. A file is read when it mentions a
database library or a query, when it uses a name a read file defines (second pass), or
when it star-imports (its re-exports show no identifier)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dbcheck.config import load_config
from dbcheck.engine import analyze

FLASK_MODELS = '''
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)


class Task(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    owner = db.relationship(User)
'''


def _run(tmp_path: Path, files: dict[str, str]):
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
    result = analyze([tmp_path], load_config(start=tmp_path))
    assert not result.errors
    return result


def test_a_module_that_only_uses_project_names_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(tmp_path, {
        "models.py": FLASK_MODELS,
        # no database word at all: read because it uses Task and db, which models.py defines
        "views.py": '''
            from models import Task, db


            def show(task_id):
                return db.get_or_404(Task, task_id)
        ''',
        "strings.py": '''
            def shout(text):
                return text.upper()
        ''',
    })
    assert [(f.path, f.line, f.code) for f in result.findings] == [("views.py", 5, "DBC502")]
    modules = {m.path: m for m in result.index.modules.values()}
    assert not modules["views.py"].skimmed
    assert modules["strings.py"].skimmed  # never parsed: nothing makes it relevant


def test_a_star_reexport_in_a_package_init_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(tmp_path, {
        "app/__init__.py": "",
        "app/models/__init__.py": "from .tasks import *\n",
        "app/models/tasks.py": FLASK_MODELS,
        "app/repo.py": '''
            from sqlalchemy import select
            from app.models import Task


            def search(session, title):
                return session.scalars(select(Task).where(Task.id > 0)).all()
        ''',
    })
    assert [(f.path, f.line, f.code) for f in result.findings] == [("app/repo.py", 6, "DBC501")]
