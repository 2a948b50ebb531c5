"""The pre-commit hook, run by the real pre-commit (``try-repo`` on this clone): a
staged bad model is refused with the finding printed, and the fixed one passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent

BAD = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user: Mapped[User] = relationship()
'''


def _pre_commit() -> list[str]:
    found = shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "pre_commit"]


def _git(*args: str, cwd: Path, env: dict) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_hook_refuses_a_bad_model_and_passes_once_fixed(tmp_path):
    work = tmp_path / "app"
    work.mkdir()
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    env.pop("PYTHONPATH", None)
    _git("init", "-q", cwd=work, env=env)
    (work / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (work / "models.py").write_text(BAD.lstrip())
    _git("add", ".", cwd=work, env=env)

    command = _pre_commit() + ["try-repo", str(REPO), "dbcheck", "--verbose"]
    refused = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "models.py:17:5: DBC302" in output, output

    (work / "models.py").write_text(BAD.lstrip().replace('ForeignKey("users.id")',
                                                          'ForeignKey("users.id", ondelete="CASCADE")'))
    _git("add", ".", cwd=work, env=env)
    passed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "DBC" not in passed.stdout.replace("dbcheck", "")
