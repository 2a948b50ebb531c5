"""``dbcheck fix --migration DIR``: the revision for the added indexes, run by real
Alembic against SQLite (upgrade, downgrade, upgrade)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MODELS = '''from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    project: Mapped[Project] = relationship()
'''

ENV = '''from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

INITIAL = '''"""initial"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(80)))
    op.create_table("tasks", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE")))


def downgrade():
    op.drop_table("tasks")
    op.drop_table("projects")
'''


def _run(command, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _alembic(cwd, *args):
    proc = _run([sys.executable, "-m", "alembic", "-c", "alembic.ini", *args], cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute("PRAGMA index_list('tasks')")}


def test_fix_writes_a_revision_alembic_can_run_both_ways(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbcheck]\nexclude = ["migrations/"]\nglobal-tables = ["projects", "tasks"]\n')
    (tmp_path / "models.py").write_text(MODELS)
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV)
    (versions / "0001_initial.py").write_text(INITIAL)
    db = tmp_path / "app.db"
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = migrations\nsqlalchemy.url = sqlite:///{db}\n")
    _alembic(tmp_path, "upgrade", "head")
    assert "ix_tasks_project_id" not in _indexes(db)

    fixed = _run([sys.executable, "-m", "dbcheck", "fix", "--migration", "migrations/versions", ".", "--no-cache"], tmp_path)
    assert "Traceback" not in fixed.stderr, fixed.stderr
    assert "index=True" in (tmp_path / "models.py").read_text()
    written = sorted(p for p in versions.glob("*_dbcheck_add_fk_indexes.py"))
    assert len(written) == 1, fixed.stderr
    text = written[0].read_text()
    assert 'down_revision = \'0001\'' in text and "postgresql_concurrently=True" in text
    assert "autocommit_block" in text

    _alembic(tmp_path, "upgrade", "head")
    assert "ix_tasks_project_id" in _indexes(db)
    _alembic(tmp_path, "downgrade", "-1")
    assert "ix_tasks_project_id" not in _indexes(db)
    _alembic(tmp_path, "upgrade", "head")
    assert "ix_tasks_project_id" in _indexes(db)

    again = _run([sys.executable, "-m", "dbcheck", "fix", "--migration", "migrations/versions", ".", "--no-cache"], tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(list(versions.glob("*_dbcheck_add_fk_indexes.py"))) == 1
