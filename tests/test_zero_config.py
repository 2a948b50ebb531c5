"""With no configuration, the tenant table is what the models say it is: SQLModel and
Flask-SQLAlchemy name ``class User`` 's table ``user``, and the first run on such a
project must not report every table as unscoped and every ``user_id`` key as pointing at
the wrong table. The configuration's own ``tenant-table`` is never second-guessed; the
CLI, the daemon and the flake8 plugin answer the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbcheck.config import Config, load_config
from dbcheck.engine import analyse_project, build_project, effective_config, findings_of, project_files, \
    resolved_settings
from dbcheck.findings import Finding
from dbcheck.schema.infer import infer_tenant_table
from tests.helpers import REPO, run_dbcheck
from tests.helpers import write_project as _write_project

# A SQLModel project as its tutorial writes one (fixtures/sqlmodel_app, without its
# configuration: there `tenant-table = "user"` says what is inferred here).
SQLMODEL_MODELS = '''
import uuid

from sqlmodel import Field, Relationship, SQLModel


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=255)

    tasks: list["Task"] = Relationship(back_populates="user", cascade_delete=True)


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=255)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE", index=True)

    user: User = Relationship(back_populates="tasks")
'''
SQLMODEL_ROUTES = '''
import uuid

from sqlmodel import Session, select

from app.models import Task


def every_task(session: Session) -> list[Task]:
    return list(session.exec(select(Task)).all())


def my_tasks(session: Session, user_id: uuid.UUID) -> list[Task]:
    return list(session.exec(select(Task).where(Task.user_id == user_id)).all())
'''

# Flask-SQLAlchemy, as fixtures/flask_app (whose configuration names its tenant table).
FLASK_MODELS = '''
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True, nullable=False)
    tasks = db.relationship("Task", back_populates="user", cascade="all, delete-orphan")


class Task(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(255), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    user = db.relationship("User", back_populates="tasks")
'''
FLASK_VIEWS = '''
from app.models import Task


def every_task():
    return Task.query.all()


def my_tasks(user_id):
    return Task.query.filter_by(user_id=user_id).all()
'''

PROJECTS = {
    "sqlmodel": {"app/__init__.py": "", "app/models.py": SQLMODEL_MODELS, "app/routes.py": SQLMODEL_ROUTES},
    "flask": {"app/__init__.py": "", "app/models.py": FLASK_MODELS, "app/views.py": FLASK_VIEWS},
}
QUERIES = {"sqlmodel": "app/routes.py", "flask": "app/views.py"}


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return _write_project(root, files)


def _findings(root: Path, *args: str) -> list[dict]:
    result = run_dbcheck([".", "--no-cache", "--format", "json", *args], cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _wrong_tenant_table(findings: list[dict]) -> list[dict]:
    return [f for f in findings if (f["code"] == "DBC101" and "(table 'user')" in f["message"])
            or (f["code"] == "DBC103" and "points at 'user'" in f["message"])]


def _unscoped_task_reads(findings: list[dict], path: str) -> list[int]:
    return sorted(f["line"] for f in findings if f["code"] == "DBC501" and f["path"] == path)


def _line_of(root: Path, path: str, text: str) -> int:
    return next(n for n, line in enumerate((root / path).read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("style", sorted(PROJECTS))
@pytest.mark.parametrize("marker", [".git", "pyproject.toml"])
def test_the_first_run_without_configuration_takes_the_user_table_as_the_tenants(style, marker, tmp_path):
    files = dict(PROJECTS[style])
    if marker == "pyproject.toml":
        files["pyproject.toml"] = '[project]\nname = "app"\nversion = "1"\n'  # no [tool.dbcheck]
    root = write_project(tmp_path / style, files)
    if marker == "pyproject.toml":
        (root / ".git").rmdir()
    assert load_config(start=root).source is None
    findings = _findings(root)
    assert _wrong_tenant_table(findings) == [], findings
    # Task is owned (its user_id points at the tenant table): the unscoped read is reported,
    # the scoped one is not
    query = QUERIES[style]
    assert _unscoped_task_reads(findings, query) == [_line_of(root, query, "every_task") + 1], findings


@pytest.mark.parametrize("style", sorted(PROJECTS))
def test_without_the_inference_those_findings_are_what_the_first_run_reported(style, tmp_path):
    # the configuration naming the old default: the very findings the inference removes
    root = write_project(tmp_path / style, dict(PROJECTS[style], **{
        "pyproject.toml": '[tool.dbcheck]\ntenant-table = "users"\n'}))
    assert _wrong_tenant_table(_findings(root))


def test_a_configured_tenant_table_is_never_overridden(tmp_path):
    root = write_project(tmp_path / "p", dict(PROJECTS["sqlmodel"], **{
        "pyproject.toml": '[tool.dbcheck]\ntenant-table = "accounts"\n'}))
    config = load_config(start=root)
    assert config.tenant_table_set
    index = build_project([root], config)[0]
    assert infer_tenant_table(index, config) is None
    assert effective_config(index, config).tenant_table == "accounts"
    findings = _findings(root)
    assert any(f["code"] == "DBC103" and "points at 'user', not the tenant table 'accounts'" in f["message"]
               for f in findings), findings


def test_the_settings_show_what_was_inferred_and_why(tmp_path, monkeypatch):
    root = write_project(tmp_path / "p", PROJECTS["sqlmodel"])
    monkeypatch.chdir(root)
    config = load_config(start=root)
    settings = resolved_settings([Path(".")], config)
    assert settings["tenant-table"] == "user"
    assert settings["tenant-table-inferred"] == "the one foreign key of user_id points at it"
    assert settings["config-file"] is None and settings["root"] == str(root)
    assert settings["tenant-column"] == ["user_id"] and settings["select"] == ["DBC"]
    # every setting of the configuration file, under its own name
    from dbcheck.config import KNOWN_KEYS

    assert set(KNOWN_KEYS) <= set(settings)
    configured = write_project(tmp_path / "q", dict(PROJECTS["sqlmodel"], **{
        "pyproject.toml": '[tool.dbcheck]\ntenant-table = "user"\n'}))
    monkeypatch.chdir(configured)
    settings = resolved_settings([Path(".")], load_config(start=configured))
    assert settings["tenant-table"] == "user" and settings["tenant-table-inferred"] is None
    assert settings["config-file"] == str(configured / "pyproject.toml")


# ------------------------------------------------------------------ the inference itself

def _index(root: Path, files: dict[str, str], config: Config | None = None):
    write_project(root, files)
    config = config or load_config(start=root)
    return build_project([root], config)[0], config


DECLARATIVE = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass

{tables}
'''


def _table(cls: str, name: str, *keys: str) -> str:
    lines = [f"class {cls}(Base):", f'    __tablename__ = "{name}"',
             "    id: Mapped[int] = mapped_column(primary_key=True)"]
    for column, target in (k.split("->") for k in keys):
        lines.append(f'    {column}: Mapped[int] = mapped_column(ForeignKey("{target}.id"), index=True)')
    return "\n".join(lines) + "\n\n"


def test_the_foreign_keys_of_the_tenant_column_elect_the_table_by_majority(tmp_path):
    tables = _table("Account", "accounts") + _table("Member", "members") + "".join(
        _table(f"T{i}", f"t{i}", "user_id->accounts") for i in range(3)) + _table("Odd", "odd", "user_id->members")
    index, config = _index(tmp_path, {"models.py": DECLARATIVE.format(tables=tables)})
    assert infer_tenant_table(index, config) == ("accounts", "3 of 4 foreign keys of user_id point at it")
    # other columns' keys do not vote
    assert effective_config(index, config).tenant_table == "accounts"


def test_keys_pointing_at_users_keep_users_though_a_user_class_exists(tmp_path):
    tables = (_table("Member", "users") + _table("User", "user") + _table("Task", "tasks", "user_id->users")
              + _table("Note", "notes", "user_id->users"))
    index, config = _index(tmp_path, {"models.py": DECLARATIVE.format(tables=tables)})
    assert infer_tenant_table(index, config) == ("users", "2 of 2 foreign keys of user_id point at it")
    assert effective_config(index, config) == config


def test_a_split_vote_and_no_user_class_keep_the_default(tmp_path):
    tables = (_table("Account", "accounts") + _table("Member", "members") + _table("A", "a", "user_id->accounts")
              + _table("B", "b", "user_id->members"))
    index, config = _index(tmp_path, {"models.py": DECLARATIVE.format(tables=tables)})
    assert infer_tenant_table(index, config) is None
    assert effective_config(index, config).tenant_table == "users"


def test_keys_to_a_table_the_project_does_not_declare_elect_nothing(tmp_path):
    tables = _table("Task", "tasks", "user_id->accounts") + _table("Note", "notes", "user_id->accounts")
    index, config = _index(tmp_path, {"models.py": DECLARATIVE.format(tables=tables)})
    assert infer_tenant_table(index, config) is None


def test_a_split_vote_falls_back_to_the_user_class(tmp_path):
    tables = (_table("User", "person") + _table("Member", "members") + _table("A", "a", "user_id->person")
              + _table("B", "b", "user_id->members"))
    index, config = _index(tmp_path, {"models.py": DECLARATIVE.format(tables=tables)})
    assert infer_tenant_table(index, config) == ("person", "the table of the mapped class User")


def test_without_keys_the_user_class_names_the_table_unless_users_exists(tmp_path):
    index, config = _index(tmp_path / "a", {"models.py": DECLARATIVE.format(tables=_table("User", "user"))})
    assert infer_tenant_table(index, config) == ("user", "the table of the mapped class User")
    index, config = _index(tmp_path / "b", {"models.py": DECLARATIVE.format(
        tables=_table("User", "user") + _table("Member", "users"))})
    assert infer_tenant_table(index, config) is None
    index, config = _index(tmp_path / "c", {"models.py": DECLARATIVE.format(tables=_table("Member", "member"))})
    assert infer_tenant_table(index, config) is None


def test_a_configured_tenant_column_votes_with_its_own_keys(tmp_path):
    tables = (_table("Organization", "organization") + _table("User", "user", "org_id->organization")
              + _table("Ticket", "ticket", "org_id->organization", "user_id->user"))
    files = {"models.py": DECLARATIVE.format(tables=tables),
             "pyproject.toml": '[tool.dbcheck]\ntenant-column = "org_id"\n'}
    index, config = _index(tmp_path, files)
    assert infer_tenant_table(index, config) == ("organization", "2 of 2 foreign keys of org_id point at it")


# ------------------------------------------------------------------ every way of running

def test_the_query_logs_of_other_settings_are_not_replayed(tmp_path, monkeypatch):
    """The query analysis's memo is kept per configuration; the tenant table it reads may
    be the models' answer, which an edit elsewhere changes: a log made under another
    tenant table is analysed again, not replayed."""
    import dataclasses

    from dbcheck.incremental.queries import analyze_queries

    class Memo:
        loaded: dict = {}

        def load(self) -> dict:
            return self.loaded

        def save(self, entries: dict) -> None:
            self.loaded = entries

    root = write_project(tmp_path / "p", PROJECTS["sqlmodel"])
    monkeypatch.chdir(root)
    config = load_config(start=root)
    analysis = analyse_project(project_files([Path(".")], config), config, jobs=1)
    memo = Memo()
    user = effective_config(analysis.index, config)
    assert analyze_queries(analysis.index, user, memo).replayed == []
    assert analyze_queries(analysis.index, user, memo).replayed  # the same settings: replayed
    other = dataclasses.replace(user, tenant_table="accounts")
    assert analyze_queries(analysis.index, other, memo).replayed == []


FLIP_MODELS = DECLARATIVE.format(
    tables=_table("Person", "user") + _table("Account", "accounts") + _table("Task", "tasks", "user_id->user"))
FLIP_VIEWS = """
from sqlalchemy import select

from app.models import Person, Task


def my_tasks(session, uid):
    return session.scalars(select(Task).join(Person, Task.user_id == Person.id).where(Person.id == uid)).all()
"""
# two more keys to accounts: the majority, so the tenant table, moves there
FLIP_EXTRA = ("from sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n"
              "from app.models import Base\n\n\n") + _table(
    "Wallet", "wallets", "user_id->accounts") + _table("Card", "cards", "user_id->accounts")


def test_an_edit_that_moves_the_inferred_table_is_seen_through_the_cache(tmp_path, monkeypatch):
    """views.py does not change, but whether its join to the user table scopes its query
    does: the cached results and the query logs of the run before must not answer."""
    from dbcheck.cache import Cache
    from dbcheck.engine import analyze

    root = write_project(tmp_path / "p", {"app/__init__.py": "", "app/models.py": FLIP_MODELS,
                                          "app/views.py": FLIP_VIEWS})
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")

    def run(cached: bool) -> list[tuple[str, int, str]]:
        result = analyze([Path(".")], load_config(start=root), cache=cache if cached else None, jobs=1)
        assert not result.errors
        return sorted((f.path, f.line, f.code) for f in result.findings if f.code.startswith("DBC5"))

    assert run(True) == run(False) == []  # joined to the tenant's row: scoped
    (root / "app" / "extra.py").write_text(FLIP_EXTRA)
    line = _line_of(root, "app/views.py", "return")
    assert run(True) == run(False) == [("app/views.py", line, "DBC501")]  # 'user' is not the tenant's now
    (root / "app" / "extra.py").unlink()
    assert run(True) == run(False) == []


@pytest.mark.parametrize("style", sorted(PROJECTS))
def test_the_daemon_answers_as_the_cli(style, tmp_path, monkeypatch):
    from dbcheck import daemon

    root = write_project(tmp_path / style, PROJECTS[style])
    monkeypatch.chdir(root)
    monkeypatch.setenv("DBCHECK_CACHE_DIR", str(tmp_path / "cache"))
    config = load_config(start=root)
    server = daemon.ProjectServer(config)
    server.prepare()
    query = QUERIES[style]
    answer = server.answer(query, None)
    cli = _findings(root)
    assert sorted(tuple(r) for r in answer["findings"]) == sorted(
        (f["path"], f["line"], f["column"], f["code"], f["message"]) for f in cli if f["path"] == query)
    assert _unscoped_task_reads(cli, query)
    everything = server.answer(query, None, everything=True)
    assert not _wrong_tenant_table([{"code": r[3], "message": r[4]} for r in everything["findings"]])
    # and the engine's own whole-project run, as the CLI's
    analysis = analyse_project(project_files([Path(".")], config), config, jobs=1)
    assert sorted(findings_of(analysis, config)[0]) == sorted(Finding(*r) for r in everything["findings"])


def _flake8(root: Path, env: dict) -> set[tuple]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "DBC", "--format",
                           "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s", "."],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    out = set()
    for line in proc.stdout.splitlines():
        path, row, col, code, text = line.split("\t")
        out.add((os.path.normpath(path), int(row), int(col), code, text))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("style", sorted(PROJECTS))
def test_flake8_agrees_with_the_cli(style, tmp_path):
    root = write_project(tmp_path / style, PROJECTS[style])
    env = dict(os.environ, PYTHONPATH=str(REPO), DBCHECK_CACHE_DIR=str(tmp_path / "cache"))
    cli = {(os.path.normpath(f["path"]), f["line"], f["column"], f["code"], f["message"])
           for f in _findings(root) if f["code"] != "DBC001"}
    flake8 = _flake8(root, env)
    assert flake8 == cli
    query = os.path.normpath(QUERIES[style])
    assert any(code == "DBC501" and path == query for path, _r, _c, code, _t in flake8)
    assert not any((code == "DBC101" and "(table 'user')" in text) or (code == "DBC103" and "points at 'user'" in text)
                   for _p, _r, _c, code, text in flake8)
