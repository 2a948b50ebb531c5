"""Every snippet of the README's "flake8, editors, pre-commit and CI" section, run as
written on a small project: the flake8 configuration, the pre-commit configuration
(pointed at this repository at HEAD instead of the published one) and the GitHub
Actions steps (their `pip install` served by a wheel built from this checkout, as a
local index would). The two commands at the top of the README are what `.ci/run` runs
and what tests/test_fixtures.py checks on fixtures/saas."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import write_project
from tests.test_packaging import _checkout_files

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
MODELS = '''
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)


    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
        user: Mapped[User] = relationship()


    def every_task(session):
        return session.scalars(select(Task)).all()
'''


def _blocks(language: str, containing: str) -> list[str]:
    found = [m.group(1) for m in re.finditer(rf"```{language}\n(.*?)```", README, re.DOTALL)]
    return [b for b in found if containing in b]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", PRE_COMMIT_HOME=str(tmp / "pre-commit-home"),
               DBCHECK_NO_DAEMON="1")
    env.pop("CI", None)
    return env


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    root = write_project(tmp_path / "app", {"pyproject.toml": "[tool.dbcheck]\n", "models.py": MODELS})
    shutil.rmtree(root / ".git")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_flake8_configuration_snippet(app):
    (snippet,) = _blocks("ini", "[flake8]")
    (app / ".flake8").write_text(snippet)
    proc = subprocess.run([sys.executable, "-m", "flake8", "models.py"], cwd=app, capture_output=True, text=True,
                          env=_env(app.parent))
    assert proc.returncode == 1, proc
    assert re.search(r"^models\.py:\d+:\d+: DBC501 ", proc.stdout, re.MULTILINE), proc.stdout


def test_pre_commit_snippet(app):
    (snippet,) = _blocks("yaml", "id: dbcheck")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    config = re.sub(r"(?m)^(\s*- repo: ).*$", lambda m: m.group(1) + str(REPO), snippet)
    config = re.sub(r"(?m)^(\s*rev: ).*$", lambda m: m.group(1) + head.strip(), config)
    assert str(REPO) in config and head.strip() in config
    (app / ".pre-commit-config.yaml").write_text(config)
    env = _env(app.parent)
    subprocess.run(["git", "add", "."], cwd=app, check=True, env=env)
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or "pre-commit"
    proc = subprocess.run([pre_commit, "run", "--all-files"], cwd=app, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"models\.py:\d+:\d+: DBC501 ", proc.stdout), proc.stdout


def test_github_actions_steps(app, tmp_path):
    """The `run:` steps in order, in a fresh virtualenv whose `pip install` finds the
    distribution in a folder holding the wheel built from this checkout."""
    (snippet,) = _blocks("yaml", "upload-sarif")
    steps = [m.group(1).split("  #")[0].strip() for m in re.finditer(r"(?m)^- run: (.*)$", snippet)]
    assert steps and steps[0].startswith("pip install ")
    src = tmp_path / "src"
    for name in _checkout_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels), str(src)],
                   check=True, capture_output=True)
    env_dir = tmp_path / "runner"
    venv.create(env_dir, with_pip=True)
    env = _env(tmp_path)
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_FIND_LINKS"] = str(wheels)  # the local index; dependencies come from PyPI as on a runner
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    outputs = []
    for step in steps:
        proc = subprocess.run(["bash", "-e", "-c", step], cwd=app, capture_output=True, text=True, env=env,
                              timeout=600)
        outputs.append(proc)
        assert proc.returncode in (0, 1), (step, proc.stdout, proc.stderr)
    annotations = outputs[1].stdout
    assert re.search(r"^::error file=models\.py,line=\d+,col=\d+,title=DBC501::", annotations, re.MULTILINE), annotations
    log = json.loads((app / "dbcheck.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DBC501"]
