"""The flake8 plugin's daemon (``dbcheck.daemon``): its answers after any sequence of
edits are the findings of a fresh analysis with no cache; it never outlives its use; a
missing, stale or foreign daemon only makes the plugin analyse on its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dbcheck import daemon
from dbcheck.config import load_config
from dbcheck.cache import Cache
from dbcheck.engine import cached_findings, project_files, project_findings

pytestmark = pytest.mark.slow

from tests.helpers import copy_fixture

REPO = Path(__file__).resolve().parent.parent
POSIX = pytest.mark.skipif(os.name != "posix", reason="the daemon needs Unix sockets")

NEW_COLUMN = "    api_token: Mapped[str] = mapped_column(String(64))\n"
UNSCOPED = (
    "\n\ndef every_invoice(session):\n"
    "    return session.scalars(select(Invoice)).all()\n"
)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    root = copy_fixture("saas", tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setenv("DBCHECK_CACHE_DIR", str(tmp_path / "cache"))
    # sockets in a folder of the test's own
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return root


def _truth(root: Path) -> list[tuple]:
    """Every finding of a fresh analysis (no cache, no daemon), as the daemon sends them."""
    config = load_config(start=root)
    findings, _notices, errors, _index = project_findings(project_files([Path(".")], config), config, None, jobs=1)
    assert not errors
    return sorted((f.path, f.line, f.column, f.code, f.message) for f in findings)


def _model_file(root: Path) -> Path:
    return next(p for p in sorted(root.rglob("*.py")) if "class Invoice(" in p.read_text())


def _query_file(root: Path) -> Path:
    return next(p for p in sorted(root.rglob("*.py")) if "select(" in p.read_text() and "import" in p.read_text()
                and "class Invoice(" not in p.read_text())


def _add_column(model: Path) -> None:
    text = model.read_text()
    at = text.index("class Invoice(")
    body = text.index("\n", text.index("__tablename__", at)) + 1
    model.write_text(text[:body] + NEW_COLUMN + text[body:])


def test_answers_after_a_sequence_of_edits_are_a_fresh_analysis(project):
    config = load_config(start=project)
    server = daemon.ProjectServer(config)
    server.prepare()
    model, queries = _model_file(project), _query_file(project)
    query_text = queries.read_text()
    if "from sqlalchemy import" not in query_text:
        query_text = "from sqlalchemy import select\n" + query_text
    if "Invoice" not in query_text.split("def ")[0]:
        module = ".".join(model.relative_to(project).with_suffix("").parts)
        query_text = f"from {module} import Invoice\n" + query_text

    edits = [
        ("nothing", lambda: None),
        ("a column added to a model", lambda: _add_column(model)),
        ("an unscoped query added", lambda: queries.write_text(query_text + UNSCOPED)),
        ("a new file", lambda: (project / "late.py").write_text(
            f"from {'.'.join(model.relative_to(project).with_suffix('').parts)} import Invoice\n"
            "from sqlalchemy import select\n\n\ndef late(session):\n    return session.execute(select(Invoice))\n")),
        ("that file removed", lambda: (project / "late.py").unlink()),
        ("the query removed again", lambda: queries.write_text(query_text)),
    ]
    analysed = 0
    for label, edit in edits:
        edit()
        truth = _truth(project)
        first = str(model.relative_to(project))
        before = server._analysis
        answer = server.answer(first, None)
        assert "error" not in answer and not answer["complete"], label
        assert sorted(tuple(row) for row in answer["findings"]) == [f for f in truth if f[0] == first], label
        # a state the cache had (the removal brings back the one before the file was
        # added) is answered from it; the others are analysed
        analysed += server._analysis is not before
        if label == "a column added to a model":
            # in the quiet moment after an answer, the whole project's findings go to
            # the cache: the CLI's next run (its own Cache object) reads them
            server.complete()
            server.flush()
            cached = cached_findings(project_files([Path(".")], config, None, Cache.for_project(project)), config,
                                     Cache.for_project(project))
            assert cached is not None and sorted((f.path, f.line, f.column, f.code, f.message)
                                                 for f in cached[0]) == truth
        # flake8 going through many files asks for the whole project's findings
        second = str(queries.relative_to(project))
        answer = server.answer(second, None, everything=True)
        assert answer["complete"], label
        assert sorted(tuple(row) for row in answer["findings"]) == truth, label
        server.flush()
    assert analysed >= 4


def test_an_unsaved_buffer_is_answered_for_as_if_it_were_saved(project):
    config = load_config(start=project)
    server = daemon.ProjectServer(config)
    server.prepare()
    model = _model_file(project)
    shown = str(model.relative_to(project))
    original = model.read_text()
    _add_column(model)
    edited = model.read_text()
    truth = [f for f in _truth(project) if f[0] == shown]
    model.write_text(original)
    answer = server.answer(shown, edited)
    assert sorted(tuple(r) for r in answer["findings"]) == truth
    assert any("api_token" in f[4] for f in truth)  # the buffer's column was seen
    # the file on disk is unchanged: asking without the buffer gives the saved state
    answer = server.answer(shown, None)
    assert not any("api_token" in r[4] for r in answer["findings"])


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _daemon_env(project: Path, tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DBCHECK_NO_DAEMON", "CI", "XDG_RUNTIME_DIR")}
    env.update({"PYTHONPATH": str(REPO), "DBCHECK_CACHE_DIR": str(tmp_path / "cache"), "TMPDIR": str(tmp_path),
                "DBCHECK_DAEMON_IDLE": "120", **extra})
    return env


def _start_daemon(project: Path, env: dict) -> subprocess.Popen:
    """A daemon for the project, as the plugin starts one (``daemon.spawn``), in the test's
    reach: the test waits for it and stops it."""
    return subprocess.Popen(_DAEMON + [str(project)], cwd=project, env=env)


_DAEMON = [sys.executable, "-m", "dbcheck.daemon"]


def _flake8(root: Path, env: dict, *paths: str) -> set:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "DBC", "--format",
                           "%(path)s\t%(row)d\t%(code)s", *paths],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    return {(os.path.normpath(path), row, code) for path, row, code in rows}


def _cli(root: Path, env: dict, path: str) -> set:
    proc = subprocess.run([sys.executable, "-m", "dbcheck", path, "--format", "json", "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    # flake8 shows its own E999 where dbcheck reports DBC001 (it runs no plugin there)
    return {(os.path.normpath(f["path"]), str(f["line"]), f["code"]) for f in json.loads(proc.stdout)
            if f["code"] != "DBC001"}


@POSIX
def test_flake8_starts_a_daemon_that_answers_the_next_edit(project, tmp_path, monkeypatch):
    env = _daemon_env(project, tmp_path)
    model = _model_file(project)
    shown = str(model.relative_to(project))
    config = load_config(start=project)
    path = daemon.socket_path(config, str(project))
    assert path is not None and path.startswith(str(tmp_path))
    try:
        assert _flake8(project, env, shown) == _cli(project, env, shown)
        assert _wait_for(lambda: os.path.exists(path)), "no daemon was started"
        _add_column(model)
        expected = _cli(project, env, shown)
        assert any(code == "DBC201" for _p, _l, code in expected)  # the new column is a plaintext token
        # the test process asks it directly too: proof that it, not flake8's process, answered
        answer = daemon.ask(config, shown, None)
        assert answer is not None
        # this file's findings, or every file's once the daemon has completed the run
        assert {(f.path, str(f.line), f.code) for f in answer.findings if f.path == shown} == expected
        assert _flake8(project, env, shown) == expected
        # a second project file: the answer is the whole project's
        other = str(_query_file(project).relative_to(project))
        assert _flake8(project, env, other) == _cli(project, env, other)
        # flake8 on every file, two workers, each asking the daemon
        _add_column(model)  # a state the daemon has not analysed yet
        assert _flake8(project, env, "-j", "2", ".") == _cli(project, env, ".")
    finally:
        stopped = daemon.stop(config)
    assert stopped
    assert _wait_for(lambda: not os.path.exists(path), 10)
    assert daemon.ask(config, shown, None) is None


@POSIX
def test_the_daemon_exits_when_idle_and_survives_a_bad_request(project, tmp_path):
    env = _daemon_env(project, tmp_path, DBCHECK_DAEMON_IDLE="3")
    config = load_config(start=project)
    path = daemon.socket_path(config, str(project))
    proc = _start_daemon(project, env)
    try:
        assert _wait_for(lambda: os.path.exists(path))
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        client.sendall(b"{not json")
        client.shutdown(socket.SHUT_WR)
        reply = json.loads(client.recv(1 << 16))
        client.close()
        assert "error" in reply
        assert daemon.ask(config, str(_model_file(project).relative_to(project)), None) is not None
        assert proc.wait(timeout=30) == 0  # three seconds without a request
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not os.path.exists(path)


@POSIX
def test_a_second_daemon_for_the_same_project_steps_aside(project, tmp_path):
    env = _daemon_env(project, tmp_path, DBCHECK_DAEMON_IDLE="20")
    config = load_config(start=project)
    path = daemon.socket_path(config, str(project))
    first = _start_daemon(project, env)
    try:
        assert _wait_for(lambda: os.path.exists(path))
        second = subprocess.run(_DAEMON + [str(project)], cwd=project, env=env, timeout=60)
        assert second.returncode == 0
        assert first.poll() is None
        assert daemon.ask(config, "models.py", None) is not None
    finally:
        daemon.stop(config)
        first.wait(timeout=30)


@POSIX
def test_a_stale_socket_makes_the_plugin_analyse_on_its_own(project, tmp_path):
    config = load_config(start=project)
    path = daemon.socket_path(config, str(project))
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # a socket file with no daemon behind it (one that was killed)
    dead.close()
    env = _daemon_env(project, tmp_path, CI="1")  # CI: and no daemon is started
    shown = str(_model_file(project).relative_to(project))
    started = time.monotonic()
    assert daemon.ask(config, shown, None) is None
    assert time.monotonic() - started < 5
    assert _flake8(project, env, shown) == _cli(project, env, shown)


@POSIX
def test_sockets_only_live_in_a_folder_no_one_else_may_enter(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.dbcheck]\n")
    config = load_config(start=tmp_path)
    folder = tmp_path / f"dbcheck-{os.getuid()}"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    assert daemon.socket_path(config, str(tmp_path)) is None
    os.chmod(folder, 0o700)
    assert daemon.socket_path(config, str(tmp_path)).startswith(str(folder))


def test_no_daemon_is_used_or_started_when_switched_off(monkeypatch):
    monkeypatch.setenv("DBCHECK_NO_DAEMON", "1")
    assert not daemon.enabled() and not daemon.may_spawn()
    monkeypatch.delenv("DBCHECK_NO_DAEMON")
    monkeypatch.setenv("CI", "true")
    assert not daemon.may_spawn()  # a one-shot run asks one that exists, starts none
    monkeypatch.delenv("CI")
    monkeypatch.setenv("DBCHECK_NO_CACHE", "1")
    assert not daemon.enabled()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_the_watcher_tells_python_files_from_the_rest(tmp_path):
    watcher = daemon.FolderWatcher.start([str(tmp_path)])
    assert watcher is not None
    try:
        (tmp_path / "notes.txt").write_text("x")
        time.sleep(0.05)
        assert not watcher.changed()
        (tmp_path / "models.py").write_text("x = 1\n")
        time.sleep(0.05)
        assert watcher.changed()
        assert not watcher.changed()  # every event was read
        (tmp_path / "models.py").unlink()
        time.sleep(0.05)
        assert watcher.changed()
    finally:
        os.close(watcher.fd)


@POSIX
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_a_watching_daemon_exits_when_the_configuration_changes(project, tmp_path):
    """Clients then name another socket; this one would only re-analyse for no one."""
    env = _daemon_env(project, tmp_path, DBCHECK_DAEMON_IDLE="120")
    config = load_config(start=project)
    path = daemon.socket_path(config, str(project))
    proc = _start_daemon(project, env)
    try:
        assert _wait_for(lambda: daemon.ask(config, "models.py", None) is not None)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("[tool.dbcheck]", '[tool.dbcheck]\nignore = ["DBC302"]'))
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not os.path.exists(path)
