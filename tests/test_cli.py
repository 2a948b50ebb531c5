"""The command line: formats, exit codes, subcommands, and bad input that must get a
clear message, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_dbcheck

REPO = Path(__file__).resolve().parent.parent
MODEL = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase): pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
'''


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_dbcheck(list(args), cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    (tmp_path / "models.py").write_text(MODEL.lstrip())
    return tmp_path


def assert_clean_error(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.strip()


def test_text_output_and_exit_code(project):
    proc = run(".", cwd=project)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert "models.py:10:5: DBC302 Task.user_id is a foreign key to 'users.id' without ondelete=" in proc.stdout
    assert lines == sorted(lines, key=lambda l: (l.split(":")[0], int(l.split(":")[1]), int(l.split(":")[2]), l.split()[1]))


def test_json_output(project):
    proc = run(".", "--format", "json", cwd=project)
    data = json.loads(proc.stdout)
    assert {(d["path"], d["line"], d["column"], d["code"]) for d in data} == {
        ("models.py", 10, 5, "DBC301"), ("models.py", 10, 5, "DBC302"), ("models.py", 10, 5, "DBC303")}
    assert all(set(d) >= {"path", "line", "column", "code", "message"} for d in data)


def test_select_ignore_and_noqa(project):
    assert {l.split()[1] for l in run(".", "--select", "DBC303", cwd=project).stdout.splitlines()} == {"DBC303"}
    assert "DBC302" not in run(".", "--ignore", "DBC302", cwd=project).stdout
    source = (project / "models.py").read_text().replace('ForeignKey("users.id"))', 'ForeignKey("users.id"))  # noqa: DBC302')
    (project / "models.py").write_text(source)
    out = run(".", cwd=project).stdout
    assert "DBC302" not in out and "DBC303" in out
    (project / "models.py").write_text(source.replace("# noqa: DBC302", "# noqa"))
    assert run(".", cwd=project).returncode == 0


def test_clean_project_exits_zero(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    proc = run(".", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""


def test_rules_and_rule(tmp_path):
    proc = run("rules", cwd=tmp_path)
    assert proc.returncode == 0 and "DBC303  fk-without-index" in proc.stdout
    doc = run("rule", "dbc303", cwd=tmp_path)
    assert doc.returncode == 0 and "## Why is this bad?" in doc.stdout and "## Fix safety" in doc.stdout
    assert_clean_error(run("rule", "DBC999", cwd=tmp_path))


def test_readme_rule_table_is_generated_from_the_rules(tmp_path):
    table = run("rules", "--format", "markdown", cwd=tmp_path).stdout
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- rules-table")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- /rules-table -->")
    assert readme[start:end] == table


def test_schema_formats(project):
    data = json.loads(run("schema", ".", "--format", "json", cwd=project).stdout)
    tasks = next(t for t in data["tables"] if t["name"] == "tasks")
    assert [c["name"] for c in tasks["columns"]] == ["id", "user_id"]
    assert tasks["columns"][1]["foreign_keys"] == [{"target": "users.id", "ondelete": None}]
    mermaid = run("schema", ".", "--format", "mermaid", cwd=project).stdout
    assert mermaid.startswith("erDiagram\n")
    assert 'users ||--o{ tasks : "user_id"' in mermaid
    text = run("schema", ".", cwd=project).stdout
    assert "Task tasks" in text and "user_id: Integer NOT NULL FK users.id" in text


# ---- bad input: a clear message, exit 2 or a DBC001, never a traceback

def test_missing_path(project):
    proc = run("does/not/exist.py", cwd=project)
    assert_clean_error(proc)
    assert "does/not/exist.py: no such file or directory" in proc.stderr


def test_unknown_format(project):
    proc = run(".", "--format", "xml", cwd=project)
    assert_clean_error(proc)
    assert "invalid choice: 'xml'" in proc.stderr


def test_invalid_config(project):
    (project / "pyproject.toml").write_text("[tool.dbcheck]\ntenant-colum = 'user_id'\n")
    proc = run(".", cwd=project)
    assert_clean_error(proc)
    assert "pyproject.toml" in proc.stderr and "tenant-colum" in proc.stderr and "tenant-column" in proc.stderr


def test_wrong_type_in_config(project):
    (project / "pyproject.toml").write_text("[tool.dbcheck]\nglobal-tables = 3\n")
    proc = run(".", cwd=project)
    assert_clean_error(proc)
    assert "global-tables" in proc.stderr


def test_binary_file_named_py(project):
    (project / "blob.py").write_bytes(b"\x00\x01\x02\xff\xfe binary")
    proc = run(".", cwd=project)
    assert "Traceback" not in proc.stderr
    assert "blob.py:1:1: DBC001" in proc.stdout


def test_latin1_file_with_cookie(project):
    source = "# -*- coding: latin-1 -*-\n" + MODEL.replace("class Base", "# caf\xe9\nclass Base")
    (project / "models.py").write_bytes(source.encode("latin-1"))
    proc = run(".", "--select", "DBC001,DBC302", cwd=project)
    assert "DBC001" not in proc.stdout
    assert "DBC302" in proc.stdout


def test_deeply_nested_file(project):
    (project / "deep.py").write_text("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n")
    proc = run(".", cwd=project)
    assert "Traceback" not in proc.stderr
    assert "deep.py:1:" in proc.stdout and "DBC001" in proc.stdout
    (project / "deep.py").write_text("".join(" " * i + "if x:\n" for i in range(300)) + " " * 300 + "pass\n")
    proc = run(".", cwd=project)
    assert "Traceback" not in proc.stderr and "DBC001" in proc.stdout


def test_empty_file(project):
    (project / "empty.py").write_text("")
    proc = run("empty.py", cwd=project)
    assert proc.returncode == 0 and proc.stdout == "" and "Traceback" not in proc.stderr


def test_folder_without_python_files(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    proc = run("docs", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


def test_symlink_loop(project):
    (project / "pkg").mkdir()
    os.symlink(project, project / "pkg" / "loop")
    proc = run(".", cwd=project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_newer_python_syntax_is_not_a_parse_error(project):
    (project / "generic.py").write_text(
        "type UserId = int\n"
        "class Repo[T]:\n    def get(self, x: T) -> T:\n        return x\n"
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n")
    proc = run(".", "--select", "DBC001", cwd=project)
    assert proc.returncode == 0, proc.stdout


def test_a_config_kept_outside_the_project(tmp_path):
    shared = tmp_path / "lint" / "dbcheck.toml"
    shared.parent.mkdir()
    shared.write_text('ignore = ["DBC301"]\nexclude = ["legacy/"]\nper-file-ignores = { "models.py" = ["DBC303"] }\n')
    project = tmp_path / "service"
    (project / "legacy").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'service'\n")
    (project / "models.py").write_text(MODEL.lstrip())
    (project / "legacy" / "old.py").write_text(MODEL.lstrip().replace("Task", "OldTask").replace('"tasks"', '"old"'))
    proc = run(".", "--config", str(shared), cwd=project)
    # the patterns are the project's, the cache is the project's
    assert proc.stdout.splitlines() == [
        "models.py:10:5: DBC302 Task.user_id is a foreign key to 'users.id' without ondelete=: state what "
        "deleting the referenced row does, e.g. ondelete=\"CASCADE\" or \"SET NULL\""], proc.stdout
    assert (project / ".dbcheck_cache").is_dir() and not (shared.parent / ".dbcheck_cache").exists()
