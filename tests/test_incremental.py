"""Incremental query analysis: after an edit, modules whose own content, whose callees'
content and whose project interface did not change are replayed from the previous
run's logs. Every edit below must give exactly the findings of a run with no cache -
including edits whose effect shows up in *other* files (a helper's body, positions
moving in a helper's module, a new column, a file removed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbcheck.cache import Cache
from dbcheck.config import load_config
from dbcheck.facts.model import is_alembic_revision
from dbcheck.engine import analyze

pytestmark = pytest.mark.slow

from tests.helpers import copy_fixture

REPO = Path(__file__).resolve().parent.parent


def _check(root: Path, cache: Cache | None):
    config = load_config(start=root)
    result = analyze([Path(".")], config, cache=cache, jobs=1)
    assert not result.errors
    return sorted(result.findings), result.analysis


@pytest.fixture()
def project(tmp_path, monkeypatch):
    root = copy_fixture("saas", tmp_path)
    monkeypatch.chdir(root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def _incremental_equals_full(root: Path, cache: Cache):
    incremental, analysis = _check(root, cache)
    full, _ = _check(root, None)
    assert incremental == full
    # no analysis when the last findings were reused outright (only inert files changed)
    return incremental, analysis.queries(load_config(start=root)) if analysis is not None else None


def test_edits_anywhere_give_the_findings_of_a_full_run(project, tmp_path):
    cache = Cache(tmp_path / "cache")
    before, _ = _check(project, cache)

    # A helper's body loses its tenant filter: the findings appear at its callers, in
    # files that did not change.
    _edit(project / "app/repositories/tasks.py",
          "self.model.updated_at < cutoff, self.model.user_id == self.user.id",
          "self.model.updated_at < cutoff")
    after_helper, queries = _incremental_equals_full(project, cache)
    assert after_helper != before
    assert "app/api/settings.py" in queries.replayed and "app/repositories/tasks.py" not in queries.replayed

    # Lines move in a module of helpers that are scoped by what their callers pass: the
    # callers' logs name the helpers' queries by position, so they are analysed again.
    _edit(project / "app/repositories/optional_actor.py", '"""', '\n\n"""')
    after_shift, _ = _incremental_equals_full(project, cache)
    assert after_shift != after_helper

    # A new column on a model: the project interface changed, everything is analysed again.
    _edit(project / "app/models/task.py",
          "    reporter_id: Mapped[int]",
          "    secret_token: Mapped[str] = mapped_column()\n    reporter_id: Mapped[int]")
    _incremental_equals_full(project, cache)

    # A comment in a view module, then the module removed.
    _edit(project / "app/api/tasks.py", "from __future__ import annotations", "from __future__ import annotations  # edited")
    _incremental_equals_full(project, cache)
    (project / "app/admin/support.py").unlink()
    _incremental_equals_full(project, cache)


def test_an_edit_in_a_leaf_module_replays_every_other_module(project, tmp_path):
    cache = Cache(tmp_path / "cache")
    _check(project, cache)
    _edit(project / "app/jobs/nightly.py", "\n", "\n# touched\n")
    _findings, analysis = _check(project, cache)
    queries = analysis.queries(load_config(start=project))
    # every module with functions but the edited one is replayed (revisions are never analysed)
    with_bodies = {m.path for m in analysis.modules.values() if m.bodies and not is_alembic_revision(m)}
    assert set(queries.replayed) == with_bodies - {"app/jobs/nightly.py"}


def test_a_broken_log_is_analysed_again(project, tmp_path):
    cache = Cache(tmp_path / "cache")
    first, _ = _check(project, cache)
    for entry in (tmp_path / "cache" / "queries").iterdir():
        entry.write_bytes(entry.read_bytes()[:-40])
    _edit(project / "app/jobs/nightly.py", "\n", "\n# touched\n")
    again, analysis = _check(project, cache)
    assert again == _check(project, None)[0] != first
    assert analysis.queries(load_config(start=project)).replayed == []


MODELS = '''from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
'''

HELPERS = '''from sqlalchemy import select

from app.models import Note


def read(session, note_id, actor=None):
    stmt = select(Note).where(Note.id == note_id)
    if actor is not None:
        stmt = stmt.where(Note.user_id == actor.id)
    return session.scalars(stmt).first()
'''

VIEWS = '''from app.helpers import read


def mine(session, user):
    return read(session, 1, actor=user)


def anyones(session):
    return read(session, 1)
'''


def test_moving_a_helper_reanalyses_its_callers_in_other_files(tmp_path, monkeypatch):
    root = _small_project(tmp_path)
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    first, _ = _check(root, cache)
    # the helper is scoped by what its callers pass: reported at the call that omits it
    assert [(f.path, f.line, f.code) for f in first if f.code.startswith("DBC5")] == [("app/views.py", 9, "DBC501")]

    (root / "app" / "helpers.py").write_text("# moved down\n\n\n" + HELPERS)
    moved, index = _incremental_equals_full(root, cache)
    # the same finding, naming the helper where it now is
    assert [f.message for f in moved] == [f.message.replace("helpers.py:7", "helpers.py:10") for f in first]
    assert "helpers.py:10" in moved[1].message
    # views.py did not change, but it is analysed again: its log named the helper's
    # query by a position that moved
    assert index.replayed == []


FILTERS = '''from app.models import Note


def owned_by(user):
    return Note.user_id == user.id
'''

LISTING = '''from sqlalchemy import select

from app.filters import owned_by
from app.models import Note


def my_notes(session, user):
    return session.scalars(select(Note).where(owned_by(user))).all()
'''


def test_editing_a_condition_helper_reanalyses_the_queries_it_filters(tmp_path, monkeypatch):
    # my_notes() is scoped by the condition owned_by() returns, read from its body in
    # another file (no summary of it is made): a helper that stops naming the owner
    # must bring the finding back
    root = _small_project(tmp_path)
    (root / "app" / "filters.py").write_text(FILTERS)
    (root / "app" / "listing.py").write_text(LISTING)
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    first, _ = _check(root, cache)
    assert not [f for f in first if f.path == "app/listing.py"]
    _edit(root / "app" / "filters.py", "Note.user_id == user.id", "Note.id > 0")
    edited, _ = _incremental_equals_full(root, cache)
    assert [(f.path, f.code) for f in edited if f.path == "app/listing.py"] == [("app/listing.py", "DBC501")]


def _small_project(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbcheck]\nextend-select = ["DBC900"]\n')
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "helpers.py").write_text(HELPERS)
    (root / "app" / "views.py").write_text(VIEWS)
    (root / "app" / "text.py").write_text('def shout(words):\n    return words.upper()\n')
    return root


def test_editing_code_that_cannot_matter_reuses_the_last_findings(tmp_path, monkeypatch):
    root = _small_project(tmp_path)
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    config = load_config(start=root)
    first = analyze([Path(".")], config, cache=cache, jobs=1)
    text = root / "app" / "text.py"

    # a new function in a module with no database code: the last run's findings, no index built
    text.write_text(text.read_text() + "\n\ndef whisper(words):\n    return words.lower()\n")
    again = analyze([Path(".")], config, cache=cache, jobs=1)
    assert again.index is None and sorted(again.findings) == sorted(first.findings)
    assert sorted(again.findings) == _check(root, None)[0]

    # ... but not once it uses a name the project defines (it would be read then) ...
    text.write_text(text.read_text() + "\n\ndef reread(note_id):\n    return read(None, note_id)\n")
    third = analyze([Path(".")], config, cache=cache, jobs=1)
    assert third.index is not None and sorted(third.findings) == _check(root, None)[0]

    # ... nor when its # noqa comments change (DBC900 reports the unused one)
    text.write_text("def shout(words):  # noqa: DBC501\n    return words.upper()\n")
    analyze([Path(".")], config, cache=cache, jobs=1)
    text.write_text("def shout(words):  # noqa: DBC501\n    return words.upper()  # noqa: DBC502\n")
    fourth = analyze([Path(".")], config, cache=cache, jobs=1)
    assert fourth.index is not None
    assert sorted(fourth.findings) == _check(root, None)[0]
    assert [(f.path, f.line) for f in fourth.findings if f.code == "DBC900"] == [("app/text.py", 1), ("app/text.py", 2)]


def test_a_hash_written_in_a_file_that_cannot_matter_still_counts(tmp_path, monkeypatch):
    """A service module with no database code that hashes a password before handing it
    on: skimmed, not parsed, yet its write silences DBC202 - and editing it away (an
    inert edit, the last run's findings otherwise reused) brings the finding back."""
    root = _small_project(tmp_path)
    models = root / "app" / "models.py"
    models.write_text(MODELS + "    password: Mapped[str]\n")
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    config = load_config(start=root)
    text = root / "app" / "text.py"
    text.write_text("def prepare(form, hasher):\n    form.password = hasher.hash_password(form.password)\n")
    first = analyze([Path(".")], config, cache=cache, jobs=1)
    assert [f for f in first.findings if f.code == "DBC202"] == []
    assert sorted(first.findings) == _check(root, None)[0]

    text.write_text("def prepare(form, hasher):\n    return form\n")
    again = analyze([Path(".")], config, cache=cache, jobs=1)
    assert [(f.path, f.code) for f in again.findings if f.code == "DBC202"] == [("app/models.py", "DBC202")]
    assert sorted(again.findings) == _check(root, None)[0]


# Cases a second reader found (each failed before the fix): summaries computed under
# another module's call chain, ops inside shared summaries, and table contents read
# through a class.

TASK_MODELS = MODELS.replace("Note", "Task").replace('"notes"', '"tasks"')

DEPTH_HELPERS = "from sqlalchemy import select\n\nfrom app.models import Task\n\n\n" + "".join(
    f"def f{i}():\n    return f{i + 1}()\n\n\n" for i in range(1, 6)) + \
    "def f6():\n    return g()\n\n\ndef g():\n    return select(Task)\n"

CASES = {
    "recursion": ({
        "app/helpers.py": "from sqlalchemy import select\n\nfrom app.models import Task\n\n\n"
                          "def h1():\n    if pick():\n        return h2()\n    return select(Task)\n\n\n"
                          "def h2():\n    return h1()\n",
        "app/a.py": "from app.helpers import h1\n\n\ndef view_a(session):\n    return session.scalars(h1()).all()\n",
        "app/b.py": "from app.helpers import h2\n\n\ndef view_b(session):\n    return session.scalars(h2()).all()\n",
    }, ("app/b.py", "all()\n", "all()\n# edited\n")),
    "depth": ({
        "app/helpers.py": DEPTH_HELPERS,
        "app/a.py": "from app.helpers import f1\n\n\ndef view_a(session):\n    return session.scalars(f1()).all()\n",
        "app/b.py": "from app.helpers import f6\n\n\ndef view_b(session):\n    return session.scalars(f6()).all()\n",
    }, ("app/b.py", "all()\n", "all()\n# edited\n")),
    "called inside a summary": ({
        "app/repos.py": "from flask import abort\n\nfrom app.models import Task\n\n\n"
                        "class BaseRepo:\n    def __init__(self, session):\n        self.session = session\n\n"
                        "    def fetch(self, id, uid):\n        obj = self.load_one(id)\n"
                        "        if obj.user_id != uid:\n            abort(403)\n        return obj\n\n\n"
                        "class TaskRepo(BaseRepo):\n    def load_one(self, id):\n"
                        "        return self.session.get(Task, id)\n",
        "app/a.py": "from app.repos import TaskRepo\n\n\ndef view_a(session, uid):\n"
                    "    return TaskRepo(session).fetch(1, uid)\n",
        "app/b.py": "from app.repos import TaskRepo\n\n\ndef view_b(session, uid):\n"
                    "    return TaskRepo(session).fetch(2, uid)\n",
    }, ("app/a.py", "return TaskRepo(session).fetch(1, uid)", "return None")),
    "a classmethod's body": ({
        "app/models.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
                         "class User(db.Model):\n    __tablename__ = \"users\"\n    id = db.Column(db.Integer, primary_key=True)\n\n\n"
                         "class Report(db.Model):\n    __tablename__ = \"reports\"\n    id = db.Column(db.Integer, primary_key=True)\n"
                         "    user_id = db.Column(db.Integer, db.ForeignKey(\"users.id\", ondelete=\"CASCADE\"), nullable=False, index=True)\n"
                         "    owner = db.relationship(User)\n\n"
                         "    @classmethod\n    def of(cls, user):\n        return cls.query.filter(cls.owner == user)\n",
        "app/views.py": "from app.models import Report\n\n\ndef mine(user):\n    return [r.id for r in Report.of(user)]\n",
    }, ("app/models.py", "cls.query.filter(cls.owner == user)", "cls.query.filter(cls.id > 0)")),
    # the check in another file is what makes the caller's look-up scoped: editing the
    # check (its name and signature unchanged) must re-analyse the caller
    "an owner check's body": ({
        "app/checks.py": "from flask_login import current_user\n\n\n"
                         "def check_edit_permissions(task):\n"
                         "    if task.user_id != int(current_user.id):\n        return False\n    return True\n",
        "app/views.py": "from flask import abort\nfrom sqlalchemy import select\n\n"
                        "from app.checks import check_edit_permissions\nfrom app.models import Task\n\n\n"
                        "def rename(session, task_id, name):\n"
                        "    task = session.scalars(select(Task).where(Task.id == task_id)).first()\n"
                        "    if not check_edit_permissions(task):\n        abort(403)\n    task.title = name\n",
    }, ("app/checks.py", "if task.user_id != int(current_user.id):", "if task.id is None:")),
    "a mixin's column": ({
        "app/mixins.py": "from sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n\n"
                         "class OwnedMixin:\n    owner: Mapped[int] = mapped_column(\"user_id\", "
                         "ForeignKey(\"users.id\", ondelete=\"CASCADE\"), index=True)\n",
        "app/models.py": TASK_MODELS.replace("class Task(Base):", "class Task(OwnedMixin, Base):").replace(
            "    user_id: Mapped[int] = mapped_column(ForeignKey(\"users.id\", ondelete=\"CASCADE\"), index=True)\n", "")
            .replace("from sqlalchemy import ForeignKey\n", "from app.mixins import OwnedMixin\n"),
        "app/views.py": "from sqlalchemy import select\n\nfrom app.models import Task\n\n\n"
                        "def mine(session, uid):\n    return session.scalars(select(Task).where(Task.owner == uid)).all()\n",
    }, ("app/mixins.py", 'mapped_column("user_id", ',  # the attribute now maps another column
        'mapped_column("creator_id", ForeignKey("users.id", ondelete="CASCADE"), index=True)\n'
        '    user_id: Mapped[int] = mapped_column(')),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_edit_elsewhere_gives_the_findings_of_a_full_run(case, tmp_path, monkeypatch):
    files, (edited, old, new) = CASES[case]
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(TASK_MODELS)
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    before, _ = _check(root, cache)
    _edit(root / edited, old, new)
    _incremental_equals_full(root, cache)


def test_an_init_file_added_renames_the_modules_beside_it(tmp_path, monkeypatch):
    root = tmp_path / "p"
    (root / "web").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.dbcheck]\n")
    # two files that are both module "models" until web/ becomes a package
    (root / "models.py").write_text(TASK_MODELS.replace("    user_id: Mapped[int]", "    owner_ref: Mapped[int]"))
    (root / "web" / "models.py").write_text(TASK_MODELS)
    (root / "web" / "views.py").write_text(
        "from sqlalchemy import select\n\nfrom .models import Task\n\n\n"
        "def everyone(session):\n    return session.scalars(select(Task)).all()\n")
    monkeypatch.chdir(root)
    cache = Cache(tmp_path / "cache")
    before, _ = _check(root, cache)
    assert not [f for f in before if f.code == "DBC501"]  # .models is the top-level models.py
    (root / "web" / "__init__.py").write_text("")
    after, _ = _incremental_equals_full(root, cache)
    assert [(f.path, f.code) for f in after if f.code == "DBC501"] == [("web/views.py", "DBC501")]


SAAS_FILES = sorted(p.relative_to(REPO / "fixtures" / "saas").as_posix()
                    for p in (REPO / "fixtures" / "saas" / "app").rglob("*.py"))


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_edits_give_the_findings_of_a_full_run(tmp_path_factory, data):
    """Edits drawn at random - a line dropped, duplicated, a filter's tenant column
    renamed, lines inserted above - on a cached copy of the saas fixture, several in a
    row: each incremental run equals a run without the cache."""
    root = tmp_path_factory.mktemp("saas")
    shutil.rmtree(root)
    shutil.copytree(REPO / "fixtures" / "saas", root, ignore=shutil.ignore_patterns(".dbcheck_cache"))
    cache = Cache(tmp_path_factory.mktemp("cache"))
    old = os.getcwd()
    os.chdir(root)
    try:
        _check(root, cache)
        for _ in range(data.draw(st.integers(1, 3))):
            path = root / data.draw(st.sampled_from(SAAS_FILES))
            lines = path.read_text().splitlines(keepends=True) or ["\n"]
            at = data.draw(st.integers(0, len(lines) - 1))
            edit = data.draw(st.sampled_from(["drop", "dup", "unscope", "shift"]))
            if edit == "drop":
                del lines[at]
            elif edit == "dup" and lines[at].strip() and not lines[at].rstrip().endswith(":"):
                lines.insert(at, lines[at])
            elif edit == "unscope":
                lines = [line.replace("user_id ==", "id ==", 1) if i >= at else line for i, line in enumerate(lines)]
            else:
                lines.insert(0, "\n\n")
            path.write_text("".join(lines))
            _incremental_equals_full(root, cache)
    finally:
        os.chdir(old)
