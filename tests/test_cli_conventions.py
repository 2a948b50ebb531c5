"""The command line as a new user meets it: never silent (paths named explicitly are
checked, unknown codes and flags without effect are refused, ignored files stay out),
real subcommands, and ruff's conventions (summary, statistics, exit-zero, quiet,
settings, stdin, output formats). Run in-process: each case is one call of ``main``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dbcheck.cli import HELP_WIDTH, check_parser, main
from tests.helpers import write_project

REPO = Path(__file__).resolve().parent.parent

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
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
        user: Mapped[User] = relationship()


    def every_task(session):
        return session.scalars(select(Task)).all()
'''
# DBC303 (no index on tasks.user_id: a safe fix) and DBC501 (every_task)
EXPECTED = {("models.py", "DBC303"), ("models.py", "DBC501")}


def dbcheck(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-cache", *args] if args and args[0] not in ("check", "fix", "schema", "rules", "rule")
                else list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path, {"pyproject.toml": "[tool.dbcheck]\n", "models.py": MODELS})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def found(out: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in re.finditer(r"^(\S+?):\d+:\d+: (DBC\d+)", out, re.MULTILINE)}


# ---------------------------------------------------------------------- never silent

def test_a_folder_the_config_excludes_is_checked_when_named(tmp_path, monkeypatch, capsys):
    write_project(tmp_path, {"pyproject.toml": '[tool.dbcheck]\nexclude = ["examples/"]\n',
                             "examples/shop/models.py": MODELS})
    monkeypatch.chdir(tmp_path)
    code, out, _ = dbcheck(capsys, ".")
    assert (code, out) == (0, "")
    code, out, _ = dbcheck(capsys, "examples")
    assert code == 1 and found(out) == {("examples/shop/models.py", c) for _, c in EXPECTED}
    # from inside the excluded folder, '.' is named too
    monkeypatch.chdir(tmp_path / "examples")
    code, out, _ = dbcheck(capsys, ".")
    assert code == 1 and found(out) == {("shop/models.py", c) for _, c in EXPECTED}


def test_force_exclude_leaves_them_out_and_says_so(tmp_path, monkeypatch, capsys):
    write_project(tmp_path, {"pyproject.toml": '[tool.dbcheck]\nexclude = ["examples/"]\n',
                             "examples/models.py": MODELS})
    monkeypatch.chdir(tmp_path)
    code, out, err = dbcheck(capsys, "--force-exclude", "examples/models.py")
    assert (code, out) == (0, "")
    assert "no Python file was checked" in err and "excluded by 'exclude'" in err
    (tmp_path / "pyproject.toml").write_text('[tool.dbcheck]\nexclude = ["examples/"]\nforce-exclude = true\n')
    code, out, err = dbcheck(capsys, "examples/models.py")
    assert (code, out) == (0, "") and "excluded by 'exclude'" in err


def test_a_folder_without_python_files_says_so(project, capsys):
    (project / "docs").mkdir()
    code, out, err = dbcheck(capsys, "docs")
    assert (code, out) == (0, "") and "no Python file was checked (docs:" in err


@pytest.mark.parametrize("flag, value, message", [
    ("--select", "FOO", "'FOO' is not a dbcheck code"),
    ("--select", "E501", "'E501' is not a dbcheck code"),
    ("--select", "DBC999", "'DBC999' matches no rule"),
    ("--extend-select", "DBC901", "'DBC901' matches no rule (did you mean DBC900?)"),
    ("--ignore", "DBC7", "'DBC7' matches no rule"),
    ("--select", "dbc501", "is not a code prefix"),
])
def test_unknown_codes_are_refused(project, capsys, flag, value, message):
    code, out, err = dbcheck(capsys, flag, value, ".")
    assert code == 2 and out == "" and message in err


def test_known_prefixes_are_accepted(project, capsys):
    assert dbcheck(capsys, "--select", "DBC", ".")[0] == 1
    assert dbcheck(capsys, "--select", "DBC50", ".")[0] == 1
    code, out, _ = dbcheck(capsys, "--select", "DBC3", "--ignore", "DBC30", ".")
    assert (code, out) == (0, "")


def test_unknown_codes_in_the_config_name_the_file_and_key(project, capsys):
    (project / "pyproject.toml").write_text('[tool.dbcheck]\nignore = ["DBC599"]\n')
    code, _, err = dbcheck(capsys, ".")
    assert code == 2 and "pyproject.toml: tool.dbcheck.ignore: 'DBC599' matches no rule" in err
    (project / "pyproject.toml").write_text('[tool.dbcheck]\nper-file-ignores = { "tests/**" = ["W503"] }\n')
    code, _, err = dbcheck(capsys, ".")
    assert code == 2 and "tool.dbcheck.per-file-ignores.'tests/**': 'W503' is not a dbcheck code" in err
    # a --select on the command line replaces the config's select, so its typo does not matter
    (project / "pyproject.toml").write_text('[tool.dbcheck]\nselect = ["DBC99"]\n')
    assert dbcheck(capsys, ".")[0] == 2
    assert dbcheck(capsys, "--select", "DBC5", ".")[0] == 1


@pytest.mark.parametrize("args, message", [
    (["--migration", "migrations"], "--migration writes the revision for the indexes --fix adds"),
    (["--unsafe-fixes"], "--unsafe-fixes chooses which fixes --fix or --diff apply"),
    (["--fix", "--write-baseline", "b.json"], "cannot be combined with --fix"),
    (["--statistics", "--output-format", "json"], "--statistics prints its own table"),
    (["-"], "say which file it is with --stdin-filename"),
    (["--jobs", "0"], "--jobs: expected a number"),
])
def test_flags_without_effect_are_refused(project, capsys, args, message):
    code, out, err = dbcheck(capsys, *args)
    assert code == 2 and out == "" and message in err
    assert (project / "models.py").read_text().count("index=True") == 0


def test_gitignored_files_are_left_out(project, capsys):
    (project / "generated").mkdir()
    (project / "generated" / "queries.py").write_text(
        "from sqlalchemy import select\nfrom models import Task\n\n\ndef tasks(session):\n"
        "    return session.scalars(select(Task)).all()\n")
    (project / ".gitignore").write_text("generated/\n")
    code, out, _ = dbcheck(capsys, ".")
    assert code == 1 and found(out) == EXPECTED
    code, out, _ = dbcheck(capsys, "--no-respect-gitignore", ".")
    assert found(out) == EXPECTED | {("generated/queries.py", "DBC501")}
    (project / "pyproject.toml").write_text("[tool.dbcheck]\nrespect-gitignore = false\n")
    assert found(dbcheck(capsys, ".")[1]) == EXPECTED | {("generated/queries.py", "DBC501")}
    (project / "pyproject.toml").write_text("[tool.dbcheck]\n")
    # named on the command line: checked
    assert found(dbcheck(capsys, "generated/queries.py")[1]) == {("generated/queries.py", "DBC501")}


# ---------------------------------------------------------------------- subcommands

def test_help_lists_every_command(project, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for command in ("check", "fix", "rules", "rule", "schema", "clean", "daemon"):
        assert re.search(rf"^  {command}\s", out, re.MULTILINE), command


def test_a_folder_named_like_a_command(project, capsys):
    (project / "schema").mkdir()
    (project / "schema" / "models.py").write_text((project / "models.py").read_text())
    (project / "models.py").unlink()
    code, out, err = dbcheck(capsys, "schema")
    assert code == 0 and "'schema' runs the command" in err and "dbcheck check schema" in err
    assert "tasks" in out  # the schema it printed
    code, out, _ = dbcheck(capsys, "check", "--no-cache", "schema")
    assert code == 1 and found(out) == {("schema/models.py", c) for _, c in EXPECTED}


def test_fix_is_a_command(project, capsys):
    code, out, err = dbcheck(capsys, "fix", "--no-cache", "--show-fixes", ".")
    assert "index=True" in (project / "models.py").read_text()
    assert "Fixed 1 finding(s):" in err and "1 \u00d7 DBC303 (fk-without-index)" in err
    assert code == 1 and found(out) == {("models.py", "DBC501")}


def test_readme_command_line_section_is_the_help(project, capsys):
    """The README shows `dbcheck --help` as it prints (at its fixed width)."""
    if sys.version_info >= (3, 13):
        pytest.skip("argparse 3.13+ shows an option's metavar once for all its names; the README shows 3.11's")
    help_text = check_parser().format_help()
    assert max(map(len, help_text.splitlines())) <= HELP_WIDTH
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- help: .*?-->\n```\n(.*?)```\n<!-- /help -->", readme, re.DOTALL)
    assert match, "README: the command line section's markers are missing"
    assert match.group(1) == help_text


# ---------------------------------------------------------------------- output conventions

def test_summary_line_on_stderr(project, capsys):
    code, out, err = dbcheck(capsys, ".")
    assert code == 1 and len(out.splitlines()) == 2
    assert "Found 2 findings (1 fixable with --fix)." in err
    code, out, err = dbcheck(capsys, "--quiet", ".")
    assert code == 1 and len(out.splitlines()) == 2 and err == ""
    code, out, err = dbcheck(capsys, "--output-format", "json", ".")
    assert len(json.loads(out)) == 2 and "Found" not in err


def test_all_checks_passed(project, capsys):
    code, out, err = dbcheck(capsys, "--select", "DBC2", ".")
    assert (code, out) == (0, "") and "All checks passed!" in err


def test_exit_zero(project, capsys):
    code, out, _ = dbcheck(capsys, "--exit-zero", ".")
    assert code == 0 and found(out) == EXPECTED


def test_statistics(project, capsys):
    code, out, _ = dbcheck(capsys, "--statistics", ".")
    assert code == 1
    rows = [line.split() for line in out.splitlines()]
    assert rows == [["1", "DBC303", "[*]", "fk-without-index"], ["1", "DBC501", "[", "]", "unscoped-query"]]


def test_show_fixes_without_fix_lists_the_fixable(project, capsys):
    code, out, err = dbcheck(capsys, "--show-fixes", ".")
    assert code == 1 and "1 finding(s) fixable with --fix:" in err and "DBC303" in err
    assert "index=True" not in (project / "models.py").read_text()


def test_concise_and_full_formats(project, capsys):
    code, out, _ = dbcheck(capsys, "--output-format", "concise", ".")
    lines = out.splitlines()
    assert any(re.match(r"models\.py:\d+:\d+: DBC303 \[\*\] Task\.user_id is a foreign key without an index$", line)
               for line in lines), lines
    assert all("noqa" not in line for line in lines)
    code, out, _ = dbcheck(capsys, "--output-format", "full", ".")
    assert "help: add index=True" in out
    assert "user_id: Mapped[int] = mapped_column(ForeignKey(\"users.id\", ondelete=\"CASCADE\"))" in out
    assert re.search(r"^\s*\|?\s*\^", out, re.MULTILINE)  # the caret under the column


def test_output_format_from_the_config(project, capsys):
    (project / "pyproject.toml").write_text('[tool.dbcheck]\noutput-format = "concise"\n')
    out = dbcheck(capsys, ".")[1]
    assert "[*]" in out
    (project / "pyproject.toml").write_text('[tool.dbcheck]\noutput-format = "xml"\n')
    code, _, err = dbcheck(capsys, ".")
    assert code == 2 and "output-format: expected one of" in err


def test_colour_only_when_asked(project, capsys, monkeypatch):
    assert "\x1b[" not in dbcheck(capsys, "--output-format", "concise", ".")[1]
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in dbcheck(capsys, "--output-format", "concise", ".")[1]
    assert "\x1b[" not in dbcheck(capsys, "--output-format", "json", ".")[1]


def test_stdin_filename_checks_the_unsaved_text(project, capsys, monkeypatch):
    import io

    text = (project / "models.py").read_text()
    text = text.replace('ondelete="CASCADE")', 'ondelete="CASCADE"), index=True')
    text = text.replace("def every_task(session):", "def every_task(session, user_id):")
    text = text.replace("select(Task)", "select(Task).where(Task.user_id == user_id)")

    class Stdin:
        buffer = io.BytesIO(text.encode())

    monkeypatch.setattr(sys, "stdin", Stdin)
    code, out, err = dbcheck(capsys, "--stdin-filename", "models.py")
    assert (code, out) == (0, ""), err
    assert "where" not in (project / "models.py").read_text()
    Stdin.buffer = io.BytesIO(text.replace(".where(Task.user_id == user_id)", "").encode())
    code, out, _ = dbcheck(capsys, "--stdin-filename", "models.py")
    # user_id is now taken and never read: DBC506 beside DBC501
    assert code == 1 and found(out) == {("models.py", "DBC501"), ("models.py", "DBC506")}


def test_sarif_uris_map_from_any_working_directory(project, capsys, monkeypatch):
    (project / "app").mkdir()
    (project / "models.py").rename(project / "app" / "models.py")
    monkeypatch.chdir(project / "app")
    log = json.loads(dbcheck(capsys, "--output-format", "sarif", ".")[1])
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"app/models.py"}


def test_show_settings(tmp_path, monkeypatch, capsys):
    write_project(tmp_path, {"pyproject.toml": '[tool.dbcheck]\ntenant-column = "org_id"\n', "models.py": "x = 1\n"})
    monkeypatch.chdir(tmp_path)
    code, out, _ = dbcheck(capsys, "--show-settings", ".")
    settings = {key.strip(): json.loads(value) for key, value in (line.split(" = ", 1) for line in out.splitlines())}
    assert code == 0
    assert settings["tenant-column"] == ["org_id"]
    assert settings["config-file"] == str(tmp_path / "pyproject.toml")
    assert settings["tenant-table"] == "users" and settings["tenant-table-inferred"] is None


# ---------------------------------------------------------------------- flake8

@pytest.mark.slow
def test_flake8_selects_dbc_and_e999_together(project):
    """flake8 runs no plugin on a file that does not parse: under `--select DBC` such a
    file passes in silence. The README says to select E999 beside DBC."""
    (project / "broken.py").write_text("def f(:\n")
    flake8 = [sys.executable, "-m", "flake8", "--no-show-source"]
    alone = subprocess.run([*flake8, "--select", "DBC", "broken.py"], cwd=project, capture_output=True, text=True)
    assert (alone.returncode, alone.stdout) == (0, "")
    both = subprocess.run([*flake8, "--select", "DBC,E999", "broken.py", "models.py"], cwd=project,
                          capture_output=True, text=True, env={**os.environ, "DBCHECK_NO_DAEMON": "1"})
    assert both.returncode == 1
    assert re.search(r"^broken\.py:1:\d+: E999 SyntaxError", both.stdout, re.MULTILINE), both.stdout
    assert re.search(r"^models\.py:\d+:\d+: DBC501 ", both.stdout, re.MULTILINE), both.stdout
