"""Which file an import reaches when several files claim one module name: folders
without ``__init__.py`` (``api/models.py`` beside ``api/controllers/console/models.py``)
are common in real applications, and an unresolved import hides every query on the
models it names."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_dbcheck, write_project

NOTE_MODEL = '''
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship()
'''

VIEW = '''
from sqlalchemy import select

from models import Note


def every_note(session):
    return session.scalars(select(Note)).all()
'''

OTHER_MODELS = '''
from pydantic import BaseModel


class Page(BaseModel):
    size: int
'''




def _findings(root: Path) -> tuple[list[tuple[str, str]], str]:
    result = run_dbcheck([".", "--no-cache", "--format", "json", "--select", "DBC501"], cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(f["path"], f["code"]) for f in json.loads(result.stdout)], result.stderr


def test_the_file_nearest_the_import_root_takes_the_name(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": NOTE_MODEL, "views.py": VIEW,
                      "controllers/console/models.py": OTHER_MODELS})
    findings, stderr = _findings(tmp_path)
    assert findings == [("views.py", "DBC501")]
    assert "not followed" not in stderr


def test_equally_near_files_are_named_in_a_notice_never_silently(tmp_path: Path) -> None:
    write_project(tmp_path, {"api/models.py": NOTE_MODEL, "api/views.py": VIEW,
                      "worker/models.py": OTHER_MODELS})
    findings, stderr = _findings(tmp_path)
    assert findings == []  # which ``models`` is meant cannot be told
    assert stderr.count("imports of 'models' are not followed: 2 files could be it") == 1
    assert "api/models.py" in stderr and "worker/models.py" in stderr


def test_a_package_beats_the_script_of_its_name_beside_it(tmp_path: Path) -> None:
    # calibre-web's layout: cps.py (the launcher) beside cps/__init__.py; Python's
    # finder takes the package, so ``from cps.models import Note`` is cps/models.py
    view = VIEW.replace("from models import Note", "from cps.models import Note")
    write_project(tmp_path, {"cps.py": "from cps.views import every_note\n", "cps/__init__.py": "",
                             "cps/models.py": NOTE_MODEL, "cps/views.py": view})
    findings, stderr = _findings(tmp_path)
    assert findings == [("cps/views.py", "DBC501")]
    assert "not followed" not in stderr


def test_a_submodule_claimed_once_is_followed_without_a_notice(tmp_path: Path) -> None:
    # quivr's layout: two folders without __init__.py each hold a controller/ package;
    # ``controller`` is ambiguous but ``controller.misc_routes`` names one file
    write_project(tmp_path, {"api/models.py": NOTE_MODEL,
                             "api/misc/controller/__init__.py": "from .misc_routes import every_note\n",
                             "api/misc/controller/misc_routes.py": VIEW,
                             "api/other/controller/__init__.py": "from .other_routes import Page\n",
                             "api/other/controller/other_routes.py": OTHER_MODELS})
    findings, stderr = _findings(tmp_path)
    assert findings == [("api/misc/controller/misc_routes.py", "DBC501")]
    assert "not followed" not in stderr


def test_imports_through_a_namespace_package_resolve_from_wherever_dbcheck_runs(tmp_path: Path) -> None:
    # keep's layout: keep/ has no __init__.py, its code imports ``keep.api.models.x``;
    # `cd keep && dbcheck .` used to see those imports from the folder it ran in,
    # resolve none of them and report nothing
    view = VIEW.replace("from models import Note", "from app.db.models import Note")
    write_project(tmp_path, {"app/db/models.py": NOTE_MODEL, "app/api/__init__.py": "",
                             "app/api/views.py": view})
    from_root, _ = _findings(tmp_path)
    from_inside, _ = _findings(tmp_path / "app")
    assert from_root == [("app/api/views.py", "DBC501")]
    assert from_inside == [("api/views.py", "DBC501")]


def test_a_class_re_exported_under_its_own_module_name_is_the_class(tmp_path: Path) -> None:
    # cognee's layout: models/Dataset.py defines Dataset, models/__init__.py does
    # ``from .Dataset import Dataset``; ``from app.models import Dataset`` is the class,
    # not the submodule (83 of cognee's findings were hidden by reading it as the module)
    view = VIEW.replace("from models import Note", "from app.models import Note")
    write_project(tmp_path, {"app/__init__.py": "", "app/models/__init__.py": "from .Note import Note\n",
                             "app/models/Note.py": NOTE_MODEL, "app/views.py": view})
    (tmp_path / "app/scoped.py").write_text(
        "from sqlalchemy import select\nfrom app.models import Note\n\n\n"
        "def my_notes(session, user_id):\n"
        "    return session.scalars(select(Note).where(Note.user_id == user_id)).all()\n", encoding="utf-8")
    findings, _ = _findings(tmp_path)
    # its columns too: ``Note.user_id`` scopes the second view
    assert findings == [("app/views.py", "DBC501")]


def test_a_dotted_tail_shared_by_two_files_reaches_the_one_nearest_the_root(tmp_path: Path) -> None:
    # old Faraday: the checkout root is a package (an __init__.py), server/models.py holds
    # the models, and persistence/server/models.py a client of the same tail; run from
    # the root, ``from server.models import Note`` is server/models.py
    view = VIEW.replace("from models import Note", "from server.models import Note")
    write_project(tmp_path, {"__init__.py": "", "server/__init__.py": "", "server/models.py": NOTE_MODEL,
                             "server/api/__init__.py": "", "server/api/views.py": view,
                             "persistence/__init__.py": "", "persistence/server/__init__.py": "",
                             "persistence/server/models.py": "import os\n"})
    findings, _stderr = _findings(tmp_path)
    assert findings == [("server/api/views.py", "DBC501")]
