"""A run focused on some files (what the daemon computes for the file flake8 asks about)
must report, in those files, exactly what the whole run reports there: the rules skip
the tables and queries that cannot be reported in them, nothing else.

The oracle is the whole run itself, over every fixture project, the fuzz models and
every rule's examples, focused on each file in turn."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from dbcheck.config import load_config
from dbcheck.engine import analyse_project, findings_of, project_files
from dbcheck.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent


def _projects() -> list:
    params = [pytest.param(REPO / "fixtures" / name, id=name)
              for name in sorted(p.name for p in (REPO / "fixtures").iterdir() if p.is_dir())]
    params.append(pytest.param(REPO / "tests" / "fuzz_models", id="fuzz_models"))
    return params


def _assert_focus_agrees(root: Path) -> int:
    config = load_config(start=root)
    found = project_files([Path(".")], config)
    analysis = analyse_project(found, config, jobs=1)
    everything, errors = findings_of(analysis, config)
    assert not errors
    paths = sorted({m.path for m in analysis.modules.values()})
    assert paths
    for path in paths:
        # as the daemon runs it: no query analysis done yet, so a file that records
        # no query skips it (records_queries)
        analysis._queries.clear()
        focused, errors = findings_of(analysis, config, frozenset({path}))
        assert not errors
        assert sorted(focused) == sorted(f for f in everything if f.path == path), path
    # two files at once, as well: the first and the last
    pair = frozenset({paths[0], paths[-1]})
    focused, _errors = findings_of(analysis, config, pair)
    assert sorted(focused) == sorted(f for f in everything if f.path in pair)
    return len(everything)


@pytest.mark.parametrize("source", _projects())
def test_a_focused_run_reports_what_the_whole_run_reports_in_that_file(source, tmp_path, monkeypatch):
    root = tmp_path / source.name
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(".dbcheck_cache", "__pycache__"))
    if not (root / "pyproject.toml").exists():
        (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    monkeypatch.chdir(root)
    assert _assert_focus_agrees(root) > 0  # the comparison is about real findings


def test_focus_agrees_on_every_rule_example(tmp_path, monkeypatch):
    compared = 0
    for rule in ALL_RULES:
        for number, example in enumerate(rule.valid + rule.invalid):
            if not isinstance(example, dict):
                example = {"example.py": example}
            root = tmp_path / f"{rule.code}-{number}"
            for name, text in example.items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(textwrap.dedent(text).lstrip("\n"))
            if not (root / "pyproject.toml").exists():
                (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
            monkeypatch.chdir(root)
            _assert_focus_agrees(root)
            compared += 1
    assert compared > 100


def test_a_mixin_column_is_reported_in_the_mixins_file_when_that_file_is_the_focus(tmp_path, monkeypatch):
    """The table lives in one file, the unencrypted column in another: focused on the
    mixin's file, the table is still read - with every table sharing that column."""
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "mixins.py").write_text(
        "from sqlalchemy import String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n\n"
        "class ApiKeyMixin:\n"
        "    api_key: Mapped[str] = mapped_column(String(64))\n"
    )
    (tmp_path / "models.py").write_text(
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "from mixins import ApiKeyMixin\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n"
        "class Service(ApiKeyMixin, Base):\n"
        "    __tablename__ = 'services'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)\n\n"
        "class Hook(ApiKeyMixin, Base):\n"
        "    __tablename__ = 'hooks'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    user_id: Mapped[int] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), index=True)\n"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(start=tmp_path)
    analysis = analyse_project(project_files([Path(".")], config), config, jobs=1)
    focused, _errors = findings_of(analysis, config, frozenset({"mixins.py"}))
    secrets = [f for f in focused if f.code == "DBC201"]
    assert [(f.path, f.line) for f in secrets] == [("mixins.py", 5)]
    assert "also on" in secrets[0].message  # both tables, though neither is declared there


def test_dbc504_reads_the_handlers_only_when_a_reported_function_writes_a_reference(tmp_path, monkeypatch):
    """An edit of a model file (the language server's common case) must not read every
    handler of the project for DBC504; a service module that writes the foreign key under
    the attribute's own name (not the column's) still gets its finding when focused."""
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "models.py").write_text(textwrap.dedent('''
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Document(Base):
            __tablename__ = "documents"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

        class Link(Base):
            __tablename__ = "links"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
            doc: Mapped[int] = mapped_column("document_id", ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    ''').lstrip())
    (tmp_path / "services.py").write_text(textwrap.dedent('''
        from models import Link

        def create_link(session, data, user):
            session.add(Link(user_id=user.id, doc=data.document_id))
    ''').lstrip())
    (tmp_path / "routes.py").write_text(textwrap.dedent('''
        from fastapi import APIRouter
        from pydantic import BaseModel
        from models import User
        from services import create_link

        router = APIRouter()

        class LinkIn(BaseModel):
            document_id: int

        @router.post("/links")
        def link(body: LinkIn, session, user: User):
            create_link(session, body, user)
    ''').lstrip())
    monkeypatch.chdir(tmp_path)
    config = load_config(start=tmp_path)
    analysis = analyse_project(project_files([Path(".")], config), config, jobs=1)
    everything, _errors = findings_of(analysis, config)
    assert [(f.path, f.line) for f in everything if f.code == "DBC504"] == [("services.py", 4)]
    focused, _errors = findings_of(analysis, config, frozenset({"services.py"}))
    assert [(f.path, f.line) for f in focused if f.code == "DBC504"] == [("services.py", 4)]

    from dbcheck.rules.request_input import RequestInputs

    def unread(*_args, **_kwargs):
        raise AssertionError("the project's handlers were read for a file that writes no reference")

    monkeypatch.setattr(RequestInputs, "build", classmethod(unread))
    focused, errors = findings_of(analysis, config, frozenset({"models.py"}))
    assert not errors


@pytest.mark.parametrize("source", _projects())
def test_declared_in_agrees_with_paths(source, monkeypatch):
    """``TableModel.declared_in`` (what a focused run asks of every table) is ``paths()``
    without the set: for every table and every file of the project."""
    monkeypatch.chdir(source)
    config = load_config(start=source)
    analysis = analyse_project(project_files([Path(".")], config), config, jobs=1)
    files = sorted({m.path for m in analysis.modules.values()})
    asked = 0
    for table in analysis.index.tables:
        for path in files:
            assert table.declared_in(frozenset({path})) == (path in table.paths()), (table.name, path)
            asked += table.declared_in(frozenset({path}))
    assert asked > 0
